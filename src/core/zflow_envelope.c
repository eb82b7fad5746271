/*  =========================================================================
    zflow_envelope - key, msgpack meta, payload: the zflow bus format

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_msg_internal.h"
#include <string.h>

//  Encodes meta (or the bare version map) into a stack buffer and appends it.
static int s_add_meta (zflow_msg_t *msg, const zflow_meta_t *meta)
{
    //  {"v": 1}: the meta of an envelope that carries nothing else
    static const unsigned char bare[] = {0x81, 0xa1, 'v', 0x01};
    if (!meta)
        return zflow_msg_add (msg, bare, sizeof (bare));
    char buffer[ZFLOW_META_MAX_WIRE];
    int size = zflow_meta_encode (meta, buffer, sizeof (buffer));
    if (size < 0)
        return size;
    return zflow_msg_add (msg, buffer, (size_t) size);
}

int zflow_envelope_encode (zflow_msg_t *msg, const void *key_wire, size_t key_size,
                           const zflow_meta_t *meta, const void *payload, size_t size)
{
    if (!msg || !key_wire || key_size == 0 || (size && !payload))
        return ZFLOW_EINVAL;
    zflow_msg_reset (msg);
    int rc = zflow_msg_add (msg, key_wire, key_size);
    if (rc == 0)
        rc = s_add_meta (msg, meta);
    if (rc == 0)
        rc = zflow_msg_add (msg, payload, size);
    if (rc)
        zflow_msg_reset (msg);
    return rc;
}

int zflow_envelope_encode_key (zflow_msg_t *msg, const zflow_key_t *key, const zflow_meta_t *meta,
                               const void *payload, size_t size)
{
    if (!key)
        return ZFLOW_EINVAL;
    size_t key_size;
    const void *wire = zflow_key_wire (key, &key_size);
    return zflow_envelope_encode (msg, wire, key_size, meta, payload, size);
}

int zflow_envelope_wrap (zflow_msg_t *msg, const void *key_wire, size_t key_size,
                         const zflow_meta_t *meta)
{
    if (!msg || !key_wire || key_size == 0)
        return ZFLOW_EINVAL;
    //  build key + meta in a scratch message, then move the payload behind
    zflow_msg_t *head = zflow_msg_new ();
    if (!head)
        return ZFLOW_ENOMEM;
    int rc = zflow_msg_add (head, key_wire, key_size);
    if (rc == 0)
        rc = s_add_meta (head, meta);
    if (rc == 0 && msg->count == 0)
        rc = zflow_msg_add (msg, "", 0);
    for (size_t i = 0; rc == 0 && i < msg->count; i++)
        rc = zflow_msg_add_zmq (head, &msg->parts[i]);
    if (rc == 0)
        rc = zflow_msg_move (msg, head);
    zflow_msg_destroy (&head);
    return rc;
}

//  True when data is a key's wire form: no NUL, at most ZFLOW_KEY_MAX_PARTS
//  components of at most ZFLOW_KEY_MAX_PART bytes. One pass, no allocation.
static bool s_key_valid (const char *data, size_t size)
{
    size_t parts = 1, length = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == 0)
            return false;
        if (data[i] == ZFLOW_KEY_SEP) {
            parts++;
            length = 0;
        } else if (++length > ZFLOW_KEY_MAX_PART)
            return false;
    }
    return parts <= ZFLOW_KEY_MAX_PARTS;
}

int zflow_envelope_decode (const zflow_msg_t *msg, zflow_meta_t *meta)
{
    if (!msg || msg->count < 3 || zflow_msg_part_size (msg, 0) == 0)
        return ZFLOW_EPROTO;
    if (!s_key_valid ((const char *) zflow_msg_data (msg, 0), zflow_msg_part_size (msg, 0)))
        return ZFLOW_EPROTO;
    if (!meta)
        return 0;
    return zflow_meta_decode (meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1));
}

const void *zflow_envelope_key (const zflow_msg_t *msg, size_t *size_p)
{
    if (size_p)
        *size_p = zflow_msg_part_size (msg, 0);
    return zflow_msg_data (msg, 0);
}

const void *zflow_envelope_payload (const zflow_msg_t *msg, size_t *size_p)
{
    if (size_p)
        *size_p = zflow_msg_part_size (msg, ZFLOW_ENVELOPE_PAYLOAD);
    return zflow_msg_data (msg, ZFLOW_ENVELOPE_PAYLOAD);
}
