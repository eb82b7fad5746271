/*  =========================================================================
    zflow_hub_notice - the hub's codec: subscriber notices as msgpack

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hub_notice.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hub.h"
#include "zflow_hub_trie.h"
#include <msgpack.h>
#include <string.h>

//  Splits the wire form into components; returns their count or -1.
static int s_split (const char *wire, size_t size, const char **parts, size_t *lens, size_t max)
{
    size_t count = 0;
    const char *end = wire + size;
    while (count < max) {
        const char *sep = (const char *) memchr (wire, ZFLOW_KEY_SEP, end - wire);
        parts[count] = wire;
        lens[count] = sep ? (size_t) (sep - wire) : (size_t) (end - wire);
        count++;
        if (!sep)
            return (int) count;
        wire = sep + 1;
    }
    return -1;
}

int zflow__hub_notice_encode (zflow_msg_t *msg, bool added, const void *wire, size_t size,
                              uint64_t count)
{
    const char *parts[ZFLOW_KEY_MAX_PARTS];
    size_t lens[ZFLOW_KEY_MAX_PARTS];
    int n = s_split ((const char *) wire, size, parts, lens, ZFLOW_KEY_MAX_PARTS);
    if (n < 0)
        return ZFLOW_ETOOBIG;
    const char *head = added ? "Hub\x1f"
                               "addedSubscriber\x1f"
                             : "Hub\x1f"
                               "removedSubscriber\x1f";
    size_t head_size = strlen (head);
    char key[ZFLOW_KEY_MAX_PARTS * (ZFLOW_KEY_MAX_PART + 1) + 32];
    if (head_size + size > sizeof (key))
        return ZFLOW_ETOOBIG;
    memcpy (key, head, head_size);
    memcpy (key + head_size, wire, size);

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str (&pk, 3);
    msgpack_pack_str_body (&pk, "key", 3);
    msgpack_pack_array (&pk, (size_t) n);
    for (int i = 0; i < n; i++) {
        msgpack_pack_str (&pk, lens[i]);
        msgpack_pack_str_body (&pk, parts[i], lens[i]);
    }
    msgpack_pack_str (&pk, 22);
    msgpack_pack_str_body (&pk, "currentSubscriberCount", 22);
    msgpack_pack_uint64 (&pk, count);
    int rc = buffer.data ? zflow_envelope_encode (msg, key, head_size + size, NULL, buffer.data,
                                                  buffer.size)
                         : ZFLOW_ENOMEM;
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

//  Decodes one str object into a key component list.
static int s_decode_key (const msgpack_object *array, zflow_key_t **key_p)
{
    if (array->type != MSGPACK_OBJECT_ARRAY || array->via.array.size == 0)
        return ZFLOW_EPROTO;
    if (array->via.array.size > ZFLOW_KEY_MAX_PARTS)
        return ZFLOW_ETOOBIG;
    const char *parts[ZFLOW_KEY_MAX_PARTS];
    char store[ZFLOW_KEY_MAX_PARTS][ZFLOW_KEY_MAX_PART + 1];
    for (uint32_t i = 0; i < array->via.array.size; i++) {
        const msgpack_object *part = &array->via.array.ptr[i];
        if (part->type != MSGPACK_OBJECT_STR)
            return ZFLOW_EPROTO;
        if (part->via.str.size > ZFLOW_KEY_MAX_PART)
            return ZFLOW_ETOOBIG;
        memcpy (store[i], part->via.str.ptr, part->via.str.size);
        store[i][part->via.str.size] = 0;
        if (strlen (store[i]) != part->via.str.size)
            return ZFLOW_EPROTO; //  a NUL inside
        parts[i] = store[i];
    }
    int err = 0;
    *key_p = zflow_key_new_array (parts, array->via.array.size, &err);
    return *key_p ? 0 : err;
}

static int s_decode_map (const msgpack_object *root, zflow_key_t **key_p, uint64_t *count_p)
{
    if (root->type != MSGPACK_OBJECT_MAP)
        return ZFLOW_EPROTO;
    bool have_count = false;
    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *name = &root->via.map.ptr[i].key;
        const msgpack_object *value = &root->via.map.ptr[i].val;
        if (name->type != MSGPACK_OBJECT_STR)
            return ZFLOW_EPROTO;
        if (name->via.str.size == 3 && memcmp (name->via.str.ptr, "key", 3) == 0 && !*key_p) {
            int rc = s_decode_key (value, key_p);
            if (rc)
                return rc;
        } else if (name->via.str.size == 22 &&
                   memcmp (name->via.str.ptr, "currentSubscriberCount", 22) == 0) {
            if (value->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return ZFLOW_EPROTO;
            *count_p = value->via.u64;
            have_count = true;
        }
    }
    return *key_p && have_count ? 0 : ZFLOW_EPROTO;
}

int zflow_hub_notice_decode (const void *data, size_t size, zflow_key_t **key_p, uint64_t *count_p)
{
    if (!data || !key_p || !count_p)
        return ZFLOW_EINVAL;
    *key_p = NULL;
    msgpack_zone zone;
    if (!msgpack_zone_init (&zone, 1024))
        return ZFLOW_ENOMEM;
    msgpack_object root;
    size_t offset = 0;
    msgpack_unpack_return ret = msgpack_unpack ((const char *) data, size, &offset, &zone, &root);
    int rc = ret == MSGPACK_UNPACK_SUCCESS && offset == size ? s_decode_map (&root, key_p, count_p)
                                                             : ZFLOW_EPROTO;
    if (rc)
        zflow_key_destroy (key_p);
    msgpack_zone_destroy (&zone);
    return rc;
}
