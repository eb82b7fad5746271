/*  =========================================================================
    zflow_hpfeeds_proto - the hpfeeds wire protocol codec (internal)

    The facts (opcodes, limits, str8 strings, SHA-1 over nonce + secret)
    follow the reference implementation, hpfeeds/protocol.py. Unlike it, a
    length below the 5-byte header is refused (the reference would loop).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_proto.h"
#include "zflow_error.h"
#include "zflow_openssl.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

size_t zflow__hpfeeds_max_frame (uint8_t op)
{
    switch (op) {
    case ZFLOW_HPFEEDS_OP_ERROR:
    case ZFLOW_HPFEEDS_OP_PUBLISH:
        return ZFLOW_HPFEEDS_MAX_FRAME;
    case ZFLOW_HPFEEDS_OP_INFO:
    case ZFLOW_HPFEEDS_OP_AUTH:
        return ZFLOW_HPFEEDS_MAX_INFO;
    case ZFLOW_HPFEEDS_OP_SUBSCRIBE:
    case ZFLOW_HPFEEDS_OP_UNSUBSCRIBE:
        return ZFLOW_HPFEEDS_MAXBUF; //  the reference's default limit
    default:
        return 0;
    }
}

static int s_fail (int code, char *errbuf, size_t errlen, const char *format, unsigned a,
                   unsigned b)
{
    if (errbuf && errlen)
        snprintf (errbuf, errlen, format, a, b);
    return code;
}

//  Takes one str8 from [*cursor, end): returns 0 or -1 if it does not fit.
static int s_str8 (const uint8_t **cursor, const uint8_t *end, const uint8_t **str, size_t *size)
{
    if (*cursor >= end)
        return -1;
    size_t length = **cursor;
    if ((size_t) (end - *cursor - 1) < length)
        return -1;
    *str = *cursor + 1;
    *size = length;
    *cursor += 1 + length;
    return 0;
}

//  Splits the body of a complete frame into its fields.
static int s_parse_body (const uint8_t *body, const uint8_t *end, zflow_hpfeeds_frame_t *frame,
                         char *errbuf, size_t errlen)
{
    const uint8_t *cursor = body;
    if (frame->op == ZFLOW_HPFEEDS_OP_ERROR) {
        frame->data = body;
        frame->data_size = (size_t) (end - body);
        return 1;
    }
    if (s_str8 (&cursor, end, &frame->name, &frame->name_size))
        return s_fail (ZFLOW_EPROTO, errbuf, errlen,
                       "malformed frame: opcode %u string runs past the %u-byte frame", frame->op,
                       frame->size);
    if (frame->op == ZFLOW_HPFEEDS_OP_PUBLISH &&
        s_str8 (&cursor, end, &frame->channel, &frame->channel_size))
        return s_fail (ZFLOW_EPROTO, errbuf, errlen,
                       "malformed frame: opcode %u channel runs past the %u-byte frame", frame->op,
                       frame->size);
    if (frame->op == ZFLOW_HPFEEDS_OP_SUBSCRIBE || frame->op == ZFLOW_HPFEEDS_OP_UNSUBSCRIBE) {
        frame->channel = cursor;
        frame->channel_size = (size_t) (end - cursor);
        if (frame->channel_size > ZFLOW_HPFEEDS_MAX_STR)
            return s_fail (ZFLOW_EPROTO, errbuf, errlen,
                           "malformed frame: opcode %u channel of %u bytes (limit 255)", frame->op,
                           (unsigned) frame->channel_size);
        return 1;
    }
    frame->data = cursor;
    frame->data_size = (size_t) (end - cursor);
    return 1;
}

int zflow__hpfeeds_parse (const uint8_t *buf, size_t size, zflow_hpfeeds_frame_t *frame,
                          char *errbuf, size_t errlen)
{
    if (size < ZFLOW_HPFEEDS_HEADER)
        return 0;
    uint32_t total = (uint32_t) zflow__hpfeeds_frame_size (buf);
    uint8_t op = buf[4];
    size_t limit = zflow__hpfeeds_max_frame (op);
    if (limit == 0)
        return s_fail (ZFLOW_EPROTO, errbuf, errlen, "Unknown opcode: %u (length %u)", op, total);
    if (total < ZFLOW_HPFEEDS_HEADER)
        return s_fail (ZFLOW_EPROTO, errbuf, errlen,
                       "malformed frame: opcode %u with length %u below the 5-byte header", op,
                       total);
    if (total > limit)
        return s_fail (ZFLOW_ETOOBIG, errbuf, errlen, "Message too big: length %u over limit %u",
                       total, (unsigned) limit);
    if (size < total)
        return 0;
    memset (frame, 0, sizeof (*frame));
    frame->op = op;
    frame->size = total;
    return s_parse_body (buf + ZFLOW_HPFEEDS_HEADER, buf + total, frame, errbuf, errlen);
}

static uint8_t *s_put_header (uint8_t *dst, size_t total, uint8_t op)
{
    dst[0] = (uint8_t) (total >> 24);
    dst[1] = (uint8_t) (total >> 16);
    dst[2] = (uint8_t) (total >> 8);
    dst[3] = (uint8_t) total;
    dst[4] = op;
    return dst + ZFLOW_HPFEEDS_HEADER;
}

static uint8_t *s_put_str8 (uint8_t *dst, const void *str, size_t size)
{
    *dst++ = (uint8_t) size;
    if (size)
        memcpy (dst, str, size);
    return dst + size;
}

int zflow__hpfeeds_encode_info (uint8_t *dst, const char *name, const uint8_t *nonce,
                                size_t nonce_size)
{
    size_t name_size = strlen (name);
    size_t total = ZFLOW_HPFEEDS_HEADER + 1 + name_size + nonce_size;
    if (name_size > ZFLOW_HPFEEDS_MAX_STR || total > ZFLOW_HPFEEDS_MAX_INFO)
        return ZFLOW_ETOOBIG;
    if (dst) {
        dst = s_put_str8 (s_put_header (dst, total, ZFLOW_HPFEEDS_OP_INFO), name, name_size);
        memcpy (dst, nonce, nonce_size);
    }
    return (int) total;
}

int zflow__hpfeeds_encode_auth (uint8_t *dst, const char *ident, const uint8_t *hash)
{
    size_t ident_size = strlen (ident);
    size_t total = ZFLOW_HPFEEDS_HEADER + 1 + ident_size + ZFLOW_HPFEEDS_HASH;
    if (ident_size > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_ETOOBIG;
    if (dst) {
        dst = s_put_str8 (s_put_header (dst, total, ZFLOW_HPFEEDS_OP_AUTH), ident, ident_size);
        memcpy (dst, hash, ZFLOW_HPFEEDS_HASH);
    }
    return (int) total;
}

int zflow__hpfeeds_encode_error (uint8_t *dst, const char *text, size_t text_size)
{
    size_t total = ZFLOW_HPFEEDS_HEADER + text_size;
    if (text_size > ZFLOW_HPFEEDS_MAXBUF)
        return ZFLOW_ETOOBIG;
    if (dst) {
        dst = s_put_header (dst, total, ZFLOW_HPFEEDS_OP_ERROR);
        if (text_size)
            memcpy (dst, text, text_size);
    }
    return (int) total;
}

int zflow__hpfeeds_encode_sub (uint8_t *dst, uint8_t op, const char *ident, const void *channel,
                               size_t channel_size)
{
    size_t ident_size = strlen (ident);
    size_t total = ZFLOW_HPFEEDS_HEADER + 1 + ident_size + channel_size;
    if (ident_size > ZFLOW_HPFEEDS_MAX_STR || channel_size > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_ETOOBIG;
    if (op != ZFLOW_HPFEEDS_OP_SUBSCRIBE && op != ZFLOW_HPFEEDS_OP_UNSUBSCRIBE)
        return ZFLOW_EINVAL;
    if (dst) {
        dst = s_put_str8 (s_put_header (dst, total, op), ident, ident_size);
        if (channel_size)
            memcpy (dst, channel, channel_size);
    }
    return (int) total;
}

long zflow__hpfeeds_encode_publish (uint8_t *dst, const void *ident, size_t ident_size,
                                    const void *channel, size_t channel_size, const void *payload,
                                    size_t payload_size)
{
    long total = zflow__hpfeeds_publish_size (ident_size, channel_size, payload_size);
    if (total > 0 && dst) {
        dst = s_put_header (dst, (size_t) total, ZFLOW_HPFEEDS_OP_PUBLISH);
        dst = s_put_str8 (s_put_str8 (dst, ident, ident_size), channel, channel_size);
        if (payload_size)
            memcpy (dst, payload, payload_size);
    }
    return total;
}

int zflow__hpfeeds_hash (const uint8_t *nonce, size_t nonce_size, const char *secret, uint8_t *hash)
{
    zflow__openssl_init ();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    if (!ctx)
        return ZFLOW_ENOMEM;
    unsigned int size = 0;
    int ok = EVP_DigestInit_ex (ctx, EVP_sha1 (), NULL) &&
             EVP_DigestUpdate (ctx, nonce, nonce_size) &&
             EVP_DigestUpdate (ctx, secret, strlen (secret)) &&
             EVP_DigestFinal_ex (ctx, hash, &size) && size == ZFLOW_HPFEEDS_HASH;
    EVP_MD_CTX_free (ctx);
    return ok ? 0 : ZFLOW_EIO;
}
