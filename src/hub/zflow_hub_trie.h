/*  =========================================================================
    zflow_hub_trie - the hub's pattern index: a trie over key components

    Internal (not installed). Patterns are zflow keys whose components may
    be "*": a "*" in the middle matches exactly one component, a trailing
    "*" matches one or more remaining components. Each node holds a map of
    exact children, one "*" child, the items whose pattern ends at the node
    and the items whose pattern ends with a trailing "*" at the node.

    Matching a key of k components visits at most the nodes on the paths
    that the key can take (exact child and "*" child at each level), so its
    cost depends on the key and on the shape of the patterns, never on how
    many patterns are stored.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_TRIE_H_INCLUDED
#define ZFLOW_HUB_TRIE_H_INCLUDED

#include "zflow_key.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct _zflow_trie_t zflow_trie_t;

//  Most components of a key the trie will match (longer keys match nothing):
//  a little more than ZFLOW_KEY_MAX_PARTS so that hub notice keys
//  ("Hub", "addedSubscriber", <pattern...>) can be matched too.
#define ZFLOW_TRIE_MAX_PARTS (ZFLOW_KEY_MAX_PARTS + 2)

//  Called for each item that matches; returns true to go on, false to stop.
typedef bool (zflow_trie_fn) (void *item, void *arg);

//  Creates an empty trie. Returns NULL when out of memory. The caller owns
//  it (zflow__trie_destroy). Items stay owned by the caller.
zflow_trie_t *zflow__trie_new (void);

//  Destroys the trie (not the items) and sets *self_p to NULL. Idempotent.
void zflow__trie_destroy (zflow_trie_t **self_p);

//  Adds item under pattern (the same item may be added under several
//  patterns, or twice under one). Returns 0, or ZFLOW_EINVAL (NULL
//  argument) or ZFLOW_ENOMEM.
int zflow__trie_insert (zflow_trie_t *self, const zflow_key_t *pattern, void *item);

//  Removes one occurrence of item under pattern and frees nodes left
//  empty. Returns 0, or ZFLOW_ENOTFOUND.
int zflow__trie_remove (zflow_trie_t *self, const zflow_key_t *pattern, void *item);

//  As insert and remove, with the pattern in wire form (so that callers
//  need not keep a zflow_key_t per pattern). The wire form must be a valid
//  key (checked by the caller); insert returns ZFLOW_EINVAL for one with
//  too many components.
int zflow__trie_insert_wire (zflow_trie_t *self, const void *wire, size_t size, void *item);
int zflow__trie_remove_wire (zflow_trie_t *self, const void *wire, size_t size, void *item);

//  Calls fn for every item whose pattern matches the key in wire form
//  (components joined by 0x1F), in no set order, until fn returns false.
//  Returns the number of items passed to fn (0 if the key has more than
//  ZFLOW_TRIE_MAX_PARTS components).
size_t zflow__trie_match (zflow_trie_t *self, const void *wire, size_t size, zflow_trie_fn *fn,
                          void *arg);

//  True if at least one pattern matches the key in wire form.
bool zflow__trie_any (zflow_trie_t *self, const void *wire, size_t size);

//  Returns the number of items stored / the number of nodes (for tests).
size_t zflow__trie_items (zflow_trie_t *self);
size_t zflow__trie_nodes (zflow_trie_t *self);

//  True if the pattern has a "*" component.
bool zflow__pattern_has_wildcard (const zflow_key_t *pattern);

//  Writes into buffer (capacity bytes) the longest literal prefix of the
//  pattern's wire form that every matching key starts with: the components
//  before the first "*", each followed by the separator, or the whole wire
//  form when there is no "*". Returns its length, or ZFLOW_ETOOBIG.
int zflow__pattern_prefix (const zflow_key_t *pattern, char *buffer, size_t capacity);

//  As zflow__pattern_prefix, from the pattern's wire form.
int zflow__pattern_prefix_wire (const void *wire, size_t size, char *buffer, size_t capacity);

#endif
