/*  =========================================================================
    zflow_msg - a reusable multipart message, the unit that streams move

    A zflow_msg_t holds zero or more parts (ZeroMQ frames). It is made to be
    reused: read into the same object again and again and no memory is
    allocated per message, which is how a zflow stream keeps pace with raw
    libzmq. Sending a message moves its parts out (zero-copy) and leaves it
    empty.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_MSG_H_INCLUDED
#define ZFLOW_MSG_H_INCLUDED

#include <czmq.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_msg_t zflow_msg_t;

//  Creates an empty message. Returns NULL only when out of memory. The caller
//  owns the message and destroys it with zflow_msg_destroy().
zflow_msg_t *zflow_msg_new (void);

//  Destroys the message and all its parts, and sets *self_p to NULL.
//  Idempotent and NULL-safe (self_p NULL or *self_p NULL do nothing).
void zflow_msg_destroy (zflow_msg_t **self_p);

//  Removes every part (the message keeps its capacity for reuse).
void zflow_msg_reset (zflow_msg_t *self);

//  Returns the number of parts.
size_t zflow_msg_size (const zflow_msg_t *self);

//  Returns the total payload bytes over all parts.
size_t zflow_msg_content_size (const zflow_msg_t *self);

//  Appends a part holding a copy of data[0..size). Returns 0, or ZFLOW_ENOMEM.
int zflow_msg_add (zflow_msg_t *self, const void *data, size_t size);

//  Appends a part holding a copy of the NUL-terminated string (without the NUL).
//  Returns 0, or ZFLOW_ENOMEM, or ZFLOW_EINVAL if string is NULL.
int zflow_msg_addstr (zflow_msg_t *self, const char *string);

//  Appends an uninitialised part of size bytes and returns a pointer to its
//  data for the caller to fill (valid until the message is changed), or NULL
//  when out of memory.
void *zflow_msg_add_empty (zflow_msg_t *self, size_t size);

//  Appends a part that takes over the contents of a zmq_msg_t (zero-copy);
//  zmsg is left empty but must still be closed by the caller.
//  Returns 0, or ZFLOW_ENOMEM.
int zflow_msg_add_zmq (zflow_msg_t *self, void *zmq_msg);

//  Returns the data of part index (0-based), or NULL if there is no such part.
//  The pointer belongs to the message and stays valid until it is changed.
const void *zflow_msg_data (const zflow_msg_t *self, size_t index);

//  Returns the size of part index, or 0 if there is no such part.
size_t zflow_msg_part_size (const zflow_msg_t *self, size_t index);

//  Returns a freshly allocated NUL-terminated copy of part index, or NULL if
//  there is no such part. The caller frees it with free() (or zstr_free).
char *zflow_msg_strdup (const zflow_msg_t *self, size_t index);

//  Returns true if part index equals the NUL-terminated string.
bool zflow_msg_streq (const zflow_msg_t *self, size_t index, const char *string);

//  Returns the underlying zmq_msg_t of part index (for zero-copy work with
//  libzmq), or NULL. It stays owned by the message.
void *zflow_msg_zmq (zflow_msg_t *self, size_t index);

//  Moves every part of self into a new czmq zmsg_t (copying the bytes) and
//  leaves self empty. Returns the zmsg (the caller owns it), or NULL on
//  ENOMEM.
zmsg_t *zflow_msg_to_zmsg (zflow_msg_t *self);

//  Replaces the contents of self with the frames of *zmsg_p, destroys the
//  zmsg and sets *zmsg_p to NULL. Returns 0, ZFLOW_EINVAL (zmsg_p or
//  *zmsg_p NULL; self is then empty) or ZFLOW_ENOMEM (self is then empty
//  and *zmsg_p destroyed all the same).
int zflow_msg_from_zmsg (zflow_msg_t *self, zmsg_t **zmsg_p);

//  Moves all parts of src to dest (dest is reset first); src is left empty.
//  Returns 0, or ZFLOW_ENOMEM: then dest is empty and src unchanged.
int zflow_msg_move (zflow_msg_t *dest, zflow_msg_t *src);

//  Makes dest a copy of src (dest is reset first). Returns 0, or ZFLOW_ENOMEM.
int zflow_msg_copy (zflow_msg_t *dest, const zflow_msg_t *src);

#ifdef __cplusplus
}
#endif

#endif
