/*  =========================================================================
    zflow_hub_trie - the hub's pattern index: a trie over key components

    Children of a node live in a small chained hash table keyed by the
    component bytes (FNV-1a), so a lookup is one hash of the component and
    a short chain walk whatever the number of siblings.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hub_trie.h"
#include "zflow_error.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  A growable array of item pointers.
typedef struct {
    void **items;    //  the items
    size_t count;    //  items in use
    size_t capacity; //  items allocated
} s_items_t;

typedef struct _s_node_t s_node_t;
struct _s_node_t {
    char *name;         //  this node's component (NULL for the root and "*")
    size_t name_len;    //  its length
    uint32_t hash;      //  its FNV-1a hash
    s_node_t *next;     //  next sibling in the parent's hash chain
    s_node_t **buckets; //  exact children, chained hash table (NULL if none yet)
    size_t nbuckets;    //  buckets allocated (power of two)
    size_t nchildren;   //  exact children stored
    s_node_t *star;     //  the "*" child, or NULL
    s_items_t exact;    //  items whose pattern ends here
    s_items_t rest;     //  items whose pattern ends with a trailing "*" here
};

struct _zflow_trie_t {
    s_node_t root; //  the root (matches the empty prefix)
    size_t items;  //  items stored
    size_t nodes;  //  nodes allocated, root excluded
};

//  One key split into components, with their hashes.
typedef struct {
    const char *part[ZFLOW_TRIE_MAX_PARTS]; //  component starts
    size_t len[ZFLOW_TRIE_MAX_PARTS];       //  component lengths
    uint32_t hash[ZFLOW_TRIE_MAX_PARTS];    //  component hashes
    size_t count;                           //  components
} s_split_t;

static uint32_t s_hash (const char *data, size_t size)
{
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ (unsigned char) data[i]) * 16777619u;
    return hash;
}

static int s_items_add (s_items_t *self, void *item)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 2;
        void **items = (void **) realloc (self->items, capacity * sizeof (void *));
        if (!items)
            return ZFLOW_ENOMEM;
        self->items = items;
        self->capacity = capacity;
    }
    self->items[self->count++] = item;
    return 0;
}

static int s_items_remove (s_items_t *self, void *item)
{
    for (size_t i = 0; i < self->count; i++)
        if (self->items[i] == item) {
            memmove (self->items + i, self->items + i + 1, (self->count - i - 1) * sizeof (void *));
            if (--self->count == 0) {
                free (self->items);
                self->items = NULL;
                self->capacity = 0;
            }
            return 0;
        }
    return ZFLOW_ENOTFOUND;
}

static s_node_t *s_child (s_node_t *self, const char *name, size_t len, uint32_t hash)
{
    if (!self->buckets)
        return NULL;
    s_node_t *child = self->buckets[hash & (self->nbuckets - 1)];
    while (child &&
           (child->hash != hash || child->name_len != len || memcmp (child->name, name, len) != 0))
        child = child->next;
    return child;
}

//  Doubles the bucket array (or makes the first one) and rehashes.
static int s_grow (s_node_t *self)
{
    size_t nbuckets = self->nbuckets ? self->nbuckets * 2 : 4;
    s_node_t **buckets = (s_node_t **) calloc (nbuckets, sizeof (s_node_t *));
    if (!buckets)
        return ZFLOW_ENOMEM;
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_node_t *child = self->buckets[i];
        while (child) {
            s_node_t *next = child->next;
            child->next = buckets[child->hash & (nbuckets - 1)];
            buckets[child->hash & (nbuckets - 1)] = child;
            child = next;
        }
    }
    free (self->buckets);
    self->buckets = buckets;
    self->nbuckets = nbuckets;
    return 0;
}

static s_node_t *s_add_child (zflow_trie_t *trie, s_node_t *self, const char *name, size_t len)
{
    uint32_t hash = s_hash (name, len);
    s_node_t *child = s_child (self, name, len, hash);
    if (child)
        return child;
    if (self->nchildren >= self->nbuckets && s_grow (self))
        return NULL;
    child = (s_node_t *) calloc (1, sizeof (s_node_t));
    if (child)
        child->name = (char *) malloc (len + 1);
    if (!child || !child->name) {
        free (child);
        return NULL;
    }
    memcpy (child->name, name, len);
    child->name[len] = 0;
    child->name_len = len;
    child->hash = hash;
    child->next = self->buckets[hash & (self->nbuckets - 1)];
    self->buckets[hash & (self->nbuckets - 1)] = child;
    self->nchildren++;
    trie->nodes++;
    return child;
}

static void s_node_free (s_node_t *self)
{
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_node_t *child = self->buckets[i];
        while (child) {
            s_node_t *next = child->next;
            s_node_free (child);
            free (child);
            child = next;
        }
    }
    if (self->star) {
        s_node_free (self->star);
        free (self->star);
    }
    free (self->buckets);
    free (self->exact.items);
    free (self->rest.items);
    free (self->name);
}

static bool s_node_empty (const s_node_t *self)
{
    return self->nchildren == 0 && !self->star && self->exact.count == 0 && self->rest.count == 0;
}

//  Unlinks child from parent (it must be there) and frees it.
static void s_unlink (zflow_trie_t *trie, s_node_t *parent, s_node_t *child)
{
    if (parent->star == child)
        parent->star = NULL;
    else {
        s_node_t **link = &parent->buckets[child->hash & (parent->nbuckets - 1)];
        while (*link != child)
            link = &(*link)->next;
        *link = child->next;
        parent->nchildren--;
    }
    s_node_free (child);
    free (child);
    trie->nodes--;
}

zflow_trie_t *zflow__trie_new (void)
{
    return (zflow_trie_t *) calloc (1, sizeof (zflow_trie_t));
}

void zflow__trie_destroy (zflow_trie_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_node_free (&(*self_p)->root);
    free (*self_p);
    *self_p = NULL;
}

static bool s_is_star (const char *part)
{
    return part[0] == '*' && part[1] == 0;
}

//  Splits the wire form; false if it has too many components.
static bool s_split (const void *wire, size_t size, s_split_t *split)
{
    const char *at = (const char *) wire;
    const char *end = at + size;
    split->count = 0;
    while (true) {
        if (split->count == ZFLOW_TRIE_MAX_PARTS)
            return false;
        const char *sep = (const char *) memchr (at, ZFLOW_KEY_SEP, end - at);
        size_t len = sep ? (size_t) (sep - at) : (size_t) (end - at);
        split->part[split->count] = at;
        split->len[split->count] = len;
        split->hash[split->count] = s_hash (at, len);
        split->count++;
        if (!sep)
            return true;
        at = sep + 1;
    }
}

static bool s_split_star (const s_split_t *split, size_t index)
{
    return split->len[index] == 1 && split->part[index][0] == '*';
}

int zflow__trie_insert_wire (zflow_trie_t *self, const void *wire, size_t size, void *item)
{
    s_split_t split;
    if (!self || !wire || !s_split (wire, size, &split) || split.count > ZFLOW_KEY_MAX_PARTS)
        return ZFLOW_EINVAL;
    size_t n = split.count;
    bool trailing = s_split_star (&split, n - 1);
    s_node_t *node = &self->root;
    for (size_t i = 0; i < (trailing ? n - 1 : n); i++) {
        if (s_split_star (&split, i)) {
            if (!node->star) {
                node->star = (s_node_t *) calloc (1, sizeof (s_node_t));
                if (!node->star)
                    return ZFLOW_ENOMEM;
                self->nodes++;
            }
            node = node->star;
        } else
            node = s_add_child (self, node, split.part[i], split.len[i]);
        if (!node)
            return ZFLOW_ENOMEM;
    }
    //  a trailing "*" puts the item in node->rest
    int rc = s_items_add (trailing ? &node->rest : &node->exact, item);
    if (rc == 0)
        self->items++;
    return rc;
}

int zflow__trie_insert (zflow_trie_t *self, const zflow_key_t *pattern, void *item)
{
    if (!pattern)
        return ZFLOW_EINVAL;
    size_t size;
    const void *wire = zflow_key_wire (pattern, &size);
    return zflow__trie_insert_wire (self, wire, size, item);
}

int zflow__trie_remove_wire (zflow_trie_t *self, const void *wire, size_t size, void *item)
{
    s_split_t split;
    if (!self || !wire || !s_split (wire, size, &split) || split.count > ZFLOW_KEY_MAX_PARTS)
        return ZFLOW_ENOTFOUND;
    size_t n = split.count;
    bool trailing = s_split_star (&split, n - 1);
    s_node_t *path[ZFLOW_KEY_MAX_PARTS + 1];
    size_t depth = 0;
    path[depth] = &self->root;
    for (size_t i = 0; i < (trailing ? n - 1 : n); i++) {
        s_node_t *node = path[depth];
        s_node_t *next = s_split_star (&split, i)
                             ? node->star
                             : s_child (node, split.part[i], split.len[i], split.hash[i]);
        if (!next)
            return ZFLOW_ENOTFOUND;
        path[++depth] = next;
    }
    if (s_items_remove (trailing ? &path[depth]->rest : &path[depth]->exact, item))
        return ZFLOW_ENOTFOUND;
    self->items--;
    //  free the nodes this removal left empty, deepest first
    while (depth > 0 && s_node_empty (path[depth])) {
        s_unlink (self, path[depth - 1], path[depth]);
        depth--;
    }
    return 0;
}

int zflow__trie_remove (zflow_trie_t *self, const zflow_key_t *pattern, void *item)
{
    if (!pattern)
        return ZFLOW_EINVAL;
    size_t size;
    const void *wire = zflow_key_wire (pattern, &size);
    return zflow__trie_remove_wire (self, wire, size, item);
}

typedef struct {
    const s_split_t *split; //  the key
    zflow_trie_fn *fn;      //  the caller's function (NULL: stop at the first)
    void *arg;              //  its argument
    size_t matched;         //  items passed to fn
    bool stopped;           //  fn asked to stop
} s_match_t;

static void s_visit (s_match_t *m, const s_items_t *items)
{
    for (size_t i = 0; i < items->count && !m->stopped; i++) {
        m->matched++;
        if (!m->fn || !m->fn (items->items[i], m->arg))
            m->stopped = true;
    }
}

static void s_match (s_match_t *m, s_node_t *node, size_t index)
{
    const s_split_t *split = m->split;
    if (index == split->count) {
        s_visit (m, &node->exact);
        return;
    }
    s_visit (m, &node->rest); //  one or more components remain
    s_node_t *child = s_child (node, split->part[index], split->len[index], split->hash[index]);
    if (child && !m->stopped)
        s_match (m, child, index + 1);
    if (node->star && !m->stopped)
        s_match (m, node->star, index + 1);
}

size_t zflow__trie_match (zflow_trie_t *self, const void *wire, size_t size, zflow_trie_fn *fn,
                          void *arg)
{
    s_split_t split;
    if (!self || !wire || !s_split (wire, size, &split))
        return 0;
    s_match_t m = {&split, fn, arg, 0, false};
    s_match (&m, &self->root, 0);
    return m.matched;
}

bool zflow__trie_any (zflow_trie_t *self, const void *wire, size_t size)
{
    return zflow__trie_match (self, wire, size, NULL, NULL) > 0;
}

size_t zflow__trie_items (zflow_trie_t *self)
{
    return self->items;
}

size_t zflow__trie_nodes (zflow_trie_t *self)
{
    return self->nodes;
}

bool zflow__pattern_has_wildcard (const zflow_key_t *pattern)
{
    for (size_t i = 0; i < zflow_key_size (pattern); i++)
        if (s_is_star (zflow_key_at (pattern, i)))
            return true;
    return false;
}

int zflow__pattern_prefix_wire (const void *wire, size_t size, char *buffer, size_t capacity)
{
    //  the components before the first "*", each with its separator
    const char *at = (const char *) wire;
    const char *end = at + size;
    size_t len = 0;
    while (at < end) {
        const char *sep = (const char *) memchr (at, ZFLOW_KEY_SEP, end - at);
        size_t part = sep ? (size_t) (sep - at) : (size_t) (end - at);
        if (part == 1 && at[0] == '*')
            break;
        len += part + (sep ? 1 : 0);
        if (!sep)
            break;
        at = sep + 1;
    }
    if (len > capacity)
        return ZFLOW_ETOOBIG;
    memcpy (buffer, wire, len);
    return (int) len;
}

int zflow__pattern_prefix (const zflow_key_t *pattern, char *buffer, size_t capacity)
{
    size_t size;
    const void *wire = zflow_key_wire (pattern, &size);
    return zflow__pattern_prefix_wire (wire, size, buffer, capacity);
}
