/*  =========================================================================
    zflow_key - hierarchical keys: tuples of byte strings

    A key keeps its components NUL-terminated in one buffer, plus its wire
    form (0x1F-joined) and text form ('/'-joined), both made once.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_key.h"
#include "zflow_error.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct _zflow_key_t {
    size_t count;                     //  number of components
    char *parts[ZFLOW_KEY_MAX_PARTS]; //  components, pointing into store
    char *store;                      //  components, each NUL-terminated
    char *wire;                       //  wire form, 0x1F-joined (NUL-terminated)
    size_t wire_size;                 //  its length
    char *text;                       //  text form, '/'-joined
};

//  Checks one component: not NULL, no separator or NUL, not too long.
static int s_check_part (const char *data, size_t size)
{
    if (!data)
        return ZFLOW_EINVAL;
    if (size > ZFLOW_KEY_MAX_PART)
        return ZFLOW_ETOOBIG;
    if (memchr (data, ZFLOW_KEY_SEP, size) || memchr (data, 0, size))
        return ZFLOW_EINVAL;
    return 0;
}

//  Builds a key from n (pointer, size) components, all checked first.
static zflow_key_t *s_build (const char **data, const size_t *sizes, size_t n, int *err_p)
{
    int err = n == 0 ? ZFLOW_EINVAL : n > ZFLOW_KEY_MAX_PARTS ? ZFLOW_ETOOBIG : 0;
    size_t total = 0;
    for (size_t i = 0; i < n && !err; i++) {
        err = s_check_part (data[i], sizes[i]);
        total += sizes[i] + 1;
    }
    zflow_key_t *self = err ? NULL : (zflow_key_t *) calloc (1, sizeof (zflow_key_t));
    if (self) {
        self->store = (char *) malloc (total);
        self->wire = (char *) malloc (total);
        self->text = (char *) malloc (total);
        if (!self->store || !self->wire || !self->text)
            zflow_key_destroy (&self);
    }
    if (!self) {
        if (err_p)
            *err_p = err ? err : ZFLOW_ENOMEM;
        return NULL;
    }
    char *at = self->store;
    for (size_t i = 0; i < n; i++) {
        memcpy (at, data[i], sizes[i]);
        at[sizes[i]] = 0;
        self->parts[i] = at;
        memcpy (self->wire + (at - self->store), data[i], sizes[i]);
        memcpy (self->text + (at - self->store), data[i], sizes[i]);
        self->wire[at - self->store + sizes[i]] = i + 1 < n ? ZFLOW_KEY_SEP : 0;
        self->text[at - self->store + sizes[i]] = i + 1 < n ? '/' : 0;
        at += sizes[i] + 1;
    }
    self->count = n;
    self->wire_size = total - 1;
    if (err_p)
        *err_p = 0;
    return self;
}

zflow_key_t *zflow_key_new_array (const char **parts, size_t n, int *err_p)
{
    if (n > ZFLOW_KEY_MAX_PARTS || (n && !parts)) {
        if (err_p)
            *err_p = n > ZFLOW_KEY_MAX_PARTS ? ZFLOW_ETOOBIG : ZFLOW_EINVAL;
        return NULL;
    }
    size_t sizes[ZFLOW_KEY_MAX_PARTS];
    for (size_t i = 0; i < n; i++)
        sizes[i] = parts[i] ? strlen (parts[i]) : 0;
    return s_build (parts, sizes, n, err_p);
}

zflow_key_t *zflow_key_new (const char *first, ...)
{
    const char *parts[ZFLOW_KEY_MAX_PARTS + 1];
    size_t n = 0;
    va_list args;
    va_start (args, first);
    for (const char *part = first; part; part = va_arg (args, const char *)) {
        if (n == ZFLOW_KEY_MAX_PARTS + 1)
            break;
        parts[n++] = part;
    }
    va_end (args);
    return zflow_key_new_array (parts, n, NULL);
}

//  Splits data at sep into components and builds the key.
static zflow_key_t *s_split (const char *data, size_t size, char sep, int *err_p)
{
    const char *parts[ZFLOW_KEY_MAX_PARTS];
    size_t sizes[ZFLOW_KEY_MAX_PARTS];
    size_t n = 0;
    const char *start = data;
    const char *end = data + size;
    if (!data || size == 0) {
        if (err_p)
            *err_p = ZFLOW_EINVAL;
        return NULL;
    }
    while (true) {
        const char *at = (const char *) memchr (start, sep, end - start);
        if (n == ZFLOW_KEY_MAX_PARTS) {
            if (err_p)
                *err_p = ZFLOW_ETOOBIG;
            return NULL;
        }
        parts[n] = start;
        sizes[n++] = (at ? at : end) - start;
        if (!at)
            break;
        start = at + 1;
    }
    return s_build (parts, sizes, n, err_p);
}

zflow_key_t *zflow_key_decode (const void *data, size_t size, int *err_p)
{
    return s_split ((const char *) data, size, ZFLOW_KEY_SEP, err_p);
}

zflow_key_t *zflow_key_parse (const char *text, int *err_p)
{
    return s_split (text, text ? strlen (text) : 0, '/', err_p);
}

void zflow_key_destroy (zflow_key_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_key_t *self = *self_p;
    free (self->store);
    free (self->wire);
    free (self->text);
    free (self);
    *self_p = NULL;
}

zflow_key_t *zflow_key_dup (const zflow_key_t *self)
{
    return zflow_key_new_array ((const char **) self->parts, self->count, NULL);
}

zflow_key_t *zflow_key_join (const zflow_key_t *prefix, const zflow_key_t *self, int *err_p)
{
    if (prefix->count + self->count > ZFLOW_KEY_MAX_PARTS) {
        if (err_p)
            *err_p = ZFLOW_ETOOBIG;
        return NULL;
    }
    const char *parts[ZFLOW_KEY_MAX_PARTS];
    memcpy (parts, prefix->parts, prefix->count * sizeof (char *));
    memcpy (parts + prefix->count, self->parts, self->count * sizeof (char *));
    return zflow_key_new_array (parts, prefix->count + self->count, err_p);
}

size_t zflow_key_size (const zflow_key_t *self)
{
    return self->count;
}

const char *zflow_key_at (const zflow_key_t *self, size_t index)
{
    return index < self->count ? self->parts[index] : NULL;
}

const void *zflow_key_wire (const zflow_key_t *self, size_t *size_p)
{
    if (size_p)
        *size_p = self->wire_size;
    return self->wire;
}

const char *zflow_key_text (const zflow_key_t *self)
{
    return self->text;
}

bool zflow_key_eq (const zflow_key_t *a, const zflow_key_t *b)
{
    return a->wire_size == b->wire_size && memcmp (a->wire, b->wire, a->wire_size) == 0;
}
