/*  =========================================================================
    zflow_hpfeeds_proto - the hpfeeds wire protocol: one codec for the
    client and the broker (internal)

    Every frame is

        uint32 total length, big-endian, including this 5-byte header
        uint8  opcode
        body   (total - 5 bytes)

    opcode  name         body
    0       error        error text (rest of the body)
    1       info         str8 broker name, nonce (rest; 4 bytes from brokers)
    2       auth         str8 ident, SHA-1 (nonce + secret) (rest, 20 bytes)
    3       publish      str8 ident, str8 channel, payload (rest)
    4       subscribe    str8 ident, channel (rest)
    5       unsubscribe  str8 ident, channel (rest)

    str8 is a 1-byte length followed by that many bytes. The limits are the
    reference broker's: error and publish frames up to 5 + 1 MiB, info and
    auth up to 5 + 256 + 20, subscribe and unsubscribe up to 1 MiB. They are
    checked from the 5-byte header alone, before any of the body is read.
    Strings over 255 bytes are refused (never truncated).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_PROTO_H_INCLUDED
#define ZFLOW_HPFEEDS_PROTO_H_INCLUDED

#include "zflow_error.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ZFLOW_HPFEEDS_OP_ERROR 0
#define ZFLOW_HPFEEDS_OP_INFO 1
#define ZFLOW_HPFEEDS_OP_AUTH 2
#define ZFLOW_HPFEEDS_OP_PUBLISH 3
#define ZFLOW_HPFEEDS_OP_SUBSCRIBE 4
#define ZFLOW_HPFEEDS_OP_UNSUBSCRIBE 5

#define ZFLOW_HPFEEDS_HEADER 5                             //  length + opcode
#define ZFLOW_HPFEEDS_MAXBUF (1024 * 1024)                 //  largest body
#define ZFLOW_HPFEEDS_MAX_STR 255                          //  longest str8
#define ZFLOW_HPFEEDS_HASH 20                              //  SHA-1 digest
#define ZFLOW_HPFEEDS_NONCE 4                              //  nonce in info
#define ZFLOW_HPFEEDS_MAX_INFO (5 + 256 + 20)              //  info / auth limit
#define ZFLOW_HPFEEDS_MAX_FRAME (5 + ZFLOW_HPFEEDS_MAXBUF) //  any frame

//  Returns the total size of the frame starting at data (its 4-byte
//  big-endian length, header included); data must hold at least 4 bytes.
static inline size_t zflow__hpfeeds_frame_size (const uint8_t *data)
{
    return ((size_t) data[0] << 24) | ((size_t) data[1] << 16) | ((size_t) data[2] << 8) | data[3];
}

//  Bytes of a publish frame between its header and its payload: the
//  ident's and the channel's length-prefixed strings.
#define ZFLOW_HPFEEDS_MAX_PREFIX (2 + 2 * ZFLOW_HPFEEDS_MAX_STR)

//  The fast path for a run of publish frames that share one ident and
//  channel: prefix holds the prefix_size bytes that follow the header of a
//  publish frame parsed in full before (zflow__hpfeeds_parse), its ident
//  and channel strings. Returns the size of the complete publish frame at
//  buf when it carries the same two strings, else 0 (incomplete, another
//  opcode or prefix, or malformed): the caller then parses it in full.
//  Because both strings are length-prefixed, equal bytes mean equal
//  strings, and the frame's length covers them.
static inline size_t zflow__hpfeeds_same_publish (const uint8_t *buf, size_t size,
                                                  const uint8_t *prefix, size_t prefix_size)
{
    if (size < ZFLOW_HPFEEDS_HEADER + prefix_size || buf[4] != ZFLOW_HPFEEDS_OP_PUBLISH)
        return 0;
    size_t total = zflow__hpfeeds_frame_size (buf);
    if (total > size || total > ZFLOW_HPFEEDS_MAX_FRAME ||
        total < ZFLOW_HPFEEDS_HEADER + prefix_size ||
        memcmp (buf + ZFLOW_HPFEEDS_HEADER, prefix, prefix_size))
        return 0;
    return total;
}

//  The text of the error frame with which a draining zflow broker tells
//  its clients to send their last whole frame and close their sending side
//  (zflow_hpfeeds_broker_drain). Other clients see an ordinary error.
#define ZFLOW_HPFEEDS_SHUTDOWN_TEXT "Broker shutting down"

//  One decoded frame. Pointers point into the parsed buffer (nothing is
//  copied) and stay valid as long as those bytes do.
typedef struct {
    uint8_t op;             //  opcode
    uint32_t size;          //  total frame size, header included
    const uint8_t *name;    //  info: broker name; auth, publish, (un)subscribe: ident
    size_t name_size;       //  bytes in name
    const uint8_t *channel; //  publish, (un)subscribe: the channel (else NULL)
    size_t channel_size;    //  bytes in channel
    const uint8_t *data;    //  error: text; info: nonce; auth: hash; publish: payload
    size_t data_size;       //  bytes in data
} zflow_hpfeeds_frame_t;

//  Returns the largest total frame size the protocol allows for opcode op,
//  or 0 for an unknown opcode.
size_t zflow__hpfeeds_max_frame (uint8_t op);

//  Parses the frame at the start of buf[0..size). Returns 1 and fills
//  *frame (frame->size bytes are used), 0 when more bytes are needed
//  (nothing filled), or a negative zflow code: ZFLOW_EPROTO (unknown opcode,
//  length below 5, a str8 longer than the body, a subscribe channel over
//  255 bytes) or ZFLOW_ETOOBIG (length over the opcode's limit). Errors are
//  found from the header alone where possible. On error, if errbuf is not
//  NULL, a text for people (as the reference would send in an error frame)
//  is written there (errlen bytes, NUL-terminated). Never reads past size.
int zflow__hpfeeds_parse (const uint8_t *buf, size_t size, zflow_hpfeeds_frame_t *frame,
                          char *errbuf, size_t errlen);

//  Encoders. Each returns the frame size; when dst is NULL it only computes
//  it. dst must have room for that many bytes. Returns ZFLOW_ETOOBIG when a
//  string is over 255 bytes or the frame would be over its limit.
int zflow__hpfeeds_encode_info (uint8_t *dst, const char *name, const uint8_t *nonce,
                                size_t nonce_size);
int zflow__hpfeeds_encode_auth (uint8_t *dst, const char *ident, const uint8_t *hash);
int zflow__hpfeeds_encode_error (uint8_t *dst, const char *text, size_t text_size);
int zflow__hpfeeds_encode_sub (uint8_t *dst, uint8_t op, const char *ident, const void *channel,
                               size_t channel_size);
//  The size of a publish frame with these string and payload sizes, or
//  ZFLOW_ETOOBIG when a string is over 255 bytes or the frame over its
//  limit. Inline: the publish path sizes every frame before it encodes it.
static inline long zflow__hpfeeds_publish_size (size_t ident_size, size_t channel_size,
                                                size_t payload_size)
{
    if (ident_size > ZFLOW_HPFEEDS_MAX_STR || channel_size > ZFLOW_HPFEEDS_MAX_STR ||
        payload_size > ZFLOW_HPFEEDS_MAXBUF)
        return ZFLOW_ETOOBIG;
    size_t total = ZFLOW_HPFEEDS_HEADER + 2 + ident_size + channel_size + payload_size;
    return total > ZFLOW_HPFEEDS_MAX_FRAME ? ZFLOW_ETOOBIG : (long) total;
}

//  Returns long (the frame may be over INT_MAX only in theory; it is
//  limited to ZFLOW_HPFEEDS_MAX_FRAME).
long zflow__hpfeeds_encode_publish (uint8_t *dst, const void *ident, size_t ident_size,
                                    const void *channel, size_t channel_size, const void *payload,
                                    size_t payload_size);

//  Computes the auth hash SHA-1 (nonce + secret) into hash (20 bytes).
//  Returns 0, or ZFLOW_ENOMEM / ZFLOW_EIO when libcrypto fails.
int zflow__hpfeeds_hash (const uint8_t *nonce, size_t nonce_size, const char *secret,
                         uint8_t *hash);

#endif
