/*  =========================================================================
    zflow_msg - a reusable multipart message of zmq_msg_t parts

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_msg_internal.h"
#include <stdlib.h>
#include <string.h>

zflow_msg_t *zflow_msg_new (void)
{
    zflow_msg_t *self = (zflow_msg_t *) calloc (1, sizeof (zflow_msg_t));
    if (self) {
        self->parts = self->inline_parts;
        self->capacity = ZFLOW_MSG_INLINE_PARTS;
    }
    return self;
}

void zflow_msg_destroy (zflow_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_msg_t *self = *self_p;
    zflow_msg_reset (self);
    if (self->parts != self->inline_parts)
        free (self->parts);
    free (self);
    *self_p = NULL;
}

void zflow_msg_reset (zflow_msg_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        zmq_msg_close (&self->parts[i]);
    self->count = 0;
}

size_t zflow_msg_size (const zflow_msg_t *self)
{
    return self->count;
}

size_t zflow_msg_content_size (const zflow_msg_t *self)
{
    size_t total = 0;
    for (size_t i = 0; i < self->count; i++)
        total += zmq_msg_size ((zmq_msg_t *) &self->parts[i]);
    return total;
}

//  Grows the parts array so that capacity is at least wanted. The first
//  few parts live inside the object, so ordinary messages never allocate.
int zflow__msg_reserve (zflow_msg_t *self, size_t wanted)
{
    if (wanted <= self->capacity)
        return 0;
    size_t capacity = self->capacity;
    while (capacity < wanted)
        capacity *= 2;
    zmq_msg_t *parts = (zmq_msg_t *) malloc (capacity * sizeof (zmq_msg_t));
    if (!parts)
        return ZFLOW_ENOMEM;
    //  zmq_msg_t may be moved bytewise only through zmq_msg_move
    for (size_t i = 0; i < self->count; i++) {
        zmq_msg_init (&parts[i]);
        zmq_msg_move (&parts[i], &self->parts[i]);
        zmq_msg_close (&self->parts[i]);
    }
    if (self->parts != self->inline_parts)
        free (self->parts);
    self->parts = parts;
    self->capacity = capacity;
    return 0;
}

zmq_msg_t *zflow__msg_append (zflow_msg_t *self)
{
    if (zflow__msg_reserve (self, self->count + 1))
        return NULL;
    return &self->parts[self->count++];
}

void *zflow_msg_add_empty (zflow_msg_t *self, size_t size)
{
    //  the common case, a part that fits, without a call to grow
    zmq_msg_t *part =
        self->count < self->capacity ? &self->parts[self->count++] : zflow__msg_append (self);
    if (!part)
        return NULL;
    if (zmq_msg_init_size (part, size)) {
        self->count--;
        return NULL;
    }
    return zmq_msg_data (part);
}

int zflow_msg_add (zflow_msg_t *self, const void *data, size_t size)
{
    void *target = zflow_msg_add_empty (self, size);
    if (!target)
        return ZFLOW_ENOMEM;
    if (size)
        memcpy (target, data, size);
    return 0;
}

int zflow_msg_addstr (zflow_msg_t *self, const char *string)
{
    if (!string)
        return ZFLOW_EINVAL;
    return zflow_msg_add (self, string, strlen (string));
}

int zflow_msg_add_zmq (zflow_msg_t *self, void *zmq_msg)
{
    zmq_msg_t *part = zflow__msg_append (self);
    if (!part)
        return ZFLOW_ENOMEM;
    zmq_msg_init (part);
    zmq_msg_move (part, (zmq_msg_t *) zmq_msg);
    return 0;
}

const void *zflow_msg_data (const zflow_msg_t *self, size_t index)
{
    if (index >= self->count)
        return NULL;
    return zmq_msg_data ((zmq_msg_t *) &self->parts[index]);
}

size_t zflow_msg_part_size (const zflow_msg_t *self, size_t index)
{
    if (index >= self->count)
        return 0;
    return zmq_msg_size ((zmq_msg_t *) &self->parts[index]);
}

char *zflow_msg_strdup (const zflow_msg_t *self, size_t index)
{
    if (index >= self->count)
        return NULL;
    size_t size = zflow_msg_part_size (self, index);
    char *string = (char *) malloc (size + 1);
    if (string) {
        memcpy (string, zflow_msg_data (self, index), size);
        string[size] = 0;
    }
    return string;
}

bool zflow_msg_streq (const zflow_msg_t *self, size_t index, const char *string)
{
    if (index >= self->count || !string)
        return false;
    size_t size = strlen (string);
    return zflow_msg_part_size (self, index) == size &&
           memcmp (zflow_msg_data (self, index), string, size) == 0;
}

void *zflow_msg_zmq (zflow_msg_t *self, size_t index)
{
    return index < self->count ? &self->parts[index] : NULL;
}

zmsg_t *zflow_msg_to_zmsg (zflow_msg_t *self)
{
    zmsg_t *zmsg = zmsg_new ();
    if (!zmsg)
        return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (zmsg_addmem (zmsg, zflow_msg_data (self, i), zflow_msg_part_size (self, i))) {
            zmsg_destroy (&zmsg);
            return NULL;
        }
    zflow_msg_reset (self);
    return zmsg;
}

int zflow_msg_from_zmsg (zflow_msg_t *self, zmsg_t **zmsg_p)
{
    zflow_msg_reset (self);
    if (!zmsg_p || !*zmsg_p)
        return ZFLOW_EINVAL;
    int rc = 0;
    zframe_t *frame = zmsg_first (*zmsg_p);
    while (frame && rc == 0) {
        rc = zflow_msg_add (self, zframe_data (frame), zframe_size (frame));
        frame = zmsg_next (*zmsg_p);
    }
    if (rc)
        zflow_msg_reset (self);
    zmsg_destroy (zmsg_p);
    return rc;
}

int zflow_msg_move (zflow_msg_t *dest, zflow_msg_t *src)
{
    zflow_msg_reset (dest);
    //  room for every part first, so that nothing is half moved
    if (zflow__msg_reserve (dest, src->count))
        return ZFLOW_ENOMEM;
    for (size_t i = 0; i < src->count; i++) {
        zmq_msg_t *part = zflow__msg_append (dest);
        zmq_msg_init (part);
        zmq_msg_move (part, &src->parts[i]);
    }
    zflow_msg_reset (src);
    return 0;
}

int zflow_msg_copy (zflow_msg_t *dest, const zflow_msg_t *src)
{
    zflow_msg_reset (dest);
    for (size_t i = 0; i < src->count; i++) {
        zmq_msg_t *part = zflow__msg_append (dest);
        if (!part) {
            zflow_msg_reset (dest);
            return ZFLOW_ENOMEM;
        }
        zmq_msg_init (part);
        //  zmq_msg_copy shares the buffer (reference counted), no byte copy
        zmq_msg_copy (part, (zmq_msg_t *) &src->parts[i]);
    }
    return 0;
}
