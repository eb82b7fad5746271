/*  =========================================================================
    zflow_envelope - the one message format on every zflow inproc bus

        frame 1      the key, wire form of zflow_key (components joined by
                     0x1F), so ZeroMQ prefix subscription works on it
        frame 2      the metadata, one msgpack map (zflow_meta)
        frame 3..n   the payload, untouched (at least one frame, may be empty)

    These functions build and check envelopes in a zflow_msg_t; they never
    copy the payload when wrapping an existing message.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_ENVELOPE_H_INCLUDED
#define ZFLOW_ENVELOPE_H_INCLUDED

#include "zflow_key.h"
#include "zflow_meta.h"
#include "zflow_msg.h"
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Index of the first payload frame.
#define ZFLOW_ENVELOPE_PAYLOAD 2

//  Resets msg and fills it with an envelope: the key in wire form
//  (key_wire, key_size bytes), meta (NULL for an empty meta with only the
//  version) and one payload frame copied from payload[0..size). Returns 0,
//  ZFLOW_EINVAL (NULL msg or empty key), ZFLOW_ETOOBIG (meta too large) or
//  ZFLOW_ENOMEM.
int zflow_envelope_encode (zflow_msg_t *msg, const void *key_wire, size_t key_size,
                           const zflow_meta_t *meta, const void *payload, size_t size);

//  As zflow_envelope_encode, with a zflow_key_t.
int zflow_envelope_encode_key (zflow_msg_t *msg, const zflow_key_t *key, const zflow_meta_t *meta,
                               const void *payload, size_t size);

//  Turns msg, whose parts are the payload, into an envelope by putting the
//  key and meta in front (the payload frames are not copied). An empty msg
//  gets one empty payload frame. Returns as zflow_envelope_encode.
int zflow_envelope_wrap (zflow_msg_t *msg, const void *key_wire, size_t key_size,
                         const zflow_meta_t *meta);

//  Checks that msg is an envelope and decodes its meta into meta (may be
//  NULL to check only the shape). Returns 0, or ZFLOW_EPROTO (fewer than 3
//  frames, an empty or invalid key frame, malformed or unknown meta) or
//  ZFLOW_ETOOBIG. Nothing in msg is changed.
int zflow_envelope_decode (const zflow_msg_t *msg, zflow_meta_t *meta);

//  Returns the key frame of an envelope and its size in *size_p (NULL if
//  msg has no frames). Owned by msg.
const void *zflow_envelope_key (const zflow_msg_t *msg, size_t *size_p);

//  Returns the first payload frame of an envelope and its size in *size_p
//  (NULL if msg has fewer than 3 frames). Owned by msg.
const void *zflow_envelope_payload (const zflow_msg_t *msg, size_t *size_p);

#ifdef __cplusplus
}
#endif

#endif
