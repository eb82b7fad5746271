/*  =========================================================================
    zflow_key - hierarchical keys: tuples of byte strings

    A key is a tuple of components, ("hpfeeds", "dionaea.capture"). On the
    wire (frame 1 of every zflow envelope) the components are joined with the
    ASCII unit separator 0x1F, so ZeroMQ's prefix subscription on
    "hpfeeds\x1f" selects exactly the keys whose first component is
    "hpfeeds". A component may hold any bytes except 0x1F and NUL; at most
    ZFLOW_KEY_MAX_PARTS components of at most ZFLOW_KEY_MAX_PART bytes each,
    and no empty key. Text form for people and config files: components
    joined with '/' ("hpfeeds/dionaea.capture"), used only for printing and
    parsing; the wire form is the separator form.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_KEY_H_INCLUDED
#define ZFLOW_KEY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_key_t zflow_key_t;

#define ZFLOW_KEY_SEP '\x1f'
#define ZFLOW_KEY_MAX_PARTS 32
#define ZFLOW_KEY_MAX_PART 255

//  Creates a key from NULL-terminated varargs of C strings:
//  zflow_key_new ("a", "b", NULL). Returns NULL if a component is invalid
//  (contains 0x1F, is longer than ZFLOW_KEY_MAX_PART), there are none, or too
//  many. The caller owns the key (zflow_key_destroy).
zflow_key_t *zflow_key_new (const char *first, ...);

//  Creates a key from an array of n C strings. Returns NULL with *err_p set
//  (ZFLOW_EINVAL: empty key, a separator in a component or NULL component;
//  ZFLOW_ETOOBIG: too many or too long components) if err_p is not NULL.
zflow_key_t *zflow_key_new_array (const char **parts, size_t n, int *err_p);

//  Parses the wire form (components joined with 0x1F). Returns the key, or
//  NULL with *err_p set as for zflow_key_new_array.
zflow_key_t *zflow_key_decode (const void *data, size_t size, int *err_p);

//  Parses the text form "a/b/c". Returns the key, or NULL with *err_p set.
zflow_key_t *zflow_key_parse (const char *text, int *err_p);

//  Destroys the key and sets *self_p to NULL. Idempotent and NULL-safe
//  (self_p NULL or *self_p NULL do nothing).
void zflow_key_destroy (zflow_key_t **self_p);

//  Returns a new key that is a copy of self, or NULL (ENOMEM).
zflow_key_t *zflow_key_dup (const zflow_key_t *self);

//  Returns a new key: prefix followed by self, or NULL with *err_p set
//  (ZFLOW_ETOOBIG when the result has too many components).
zflow_key_t *zflow_key_join (const zflow_key_t *prefix, const zflow_key_t *self, int *err_p);

//  Returns the number of components.
size_t zflow_key_size (const zflow_key_t *self);

//  Returns component index as a NUL-terminated string owned by the key, or
//  NULL if there is no such component.
const char *zflow_key_at (const zflow_key_t *self, size_t index);

//  Returns the wire form (owned by the key, valid while it lives) and its
//  size in *size_p.
const void *zflow_key_wire (const zflow_key_t *self, size_t *size_p);

//  Returns the text form "a/b/c" (owned by the key).
const char *zflow_key_text (const zflow_key_t *self);

//  True if both keys have the same components.
bool zflow_key_eq (const zflow_key_t *a, const zflow_key_t *b);

#ifdef __cplusplus
}
#endif

#endif
