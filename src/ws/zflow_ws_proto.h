/*  =========================================================================
    zflow_ws_proto - pure WebSocket protocol helpers (internal)

    URL parsing, the opening handshake (request building and response
    checking, RFC 6455 section 4), UTF-8 validation, permessage-deflate
    (RFC 7692) and gzip/deflate payload decoding. No sockets here: every
    function works on buffers, so the fuzz target can drive them directly.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_PROTO_H_INCLUDED
#define ZFLOW_WS_PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

//  A parsed ws:// or wss:// URL.
typedef struct {
    bool tls;          //  wss://
    char host[256];    //  host name or address (brackets removed for IPv6)
    char port[8];      //  port as text ("80", "443" by default)
    char path[2048];   //  path and query, "/" when absent
    bool default_port; //  true when the URL gave no port
} zflow_ws_url_t;

//  Parses url into *out. Returns 0, or ZFLOW_EINVAL (not ws:// or wss://,
//  empty host, bad port) or ZFLOW_ETOOBIG (a part too long).
int zflow__ws_url_parse (const char *url, zflow_ws_url_t *out);

//  What the server accepted in its handshake response.
typedef struct {
    bool deflate;               //  permessage-deflate negotiated
    bool server_no_takeover;    //  server_no_context_takeover
    bool client_no_takeover;    //  client_no_context_takeover
    int server_max_window_bits; //  8..15 (15 when not given)
    int client_max_window_bits; //  8..15 (15 when not given)
    char protocol[128];         //  the chosen subprotocol, "" if none
    size_t header_size;         //  bytes of the response (through CRLFCRLF)
} zflow_ws_accept_t;

//  Fills key_b64 (at least 25 bytes) with a new random Sec-WebSocket-Key.
//  Returns 0, or ZFLOW_EIO when getrandom fails.
int zflow__ws_make_key (char *key_b64);

//  Builds the opening handshake request into a new string the caller frees.
//  headers: extra "Name: value" lines joined by "\r\n" (may be NULL);
//  protocols: comma-separated subprotocols (may be NULL); deflate: offer
//  permessage-deflate. Returns NULL when out of memory.
char *zflow__ws_request (const zflow_ws_url_t *url, const char *key_b64, const char *headers,
                         const char *protocols, bool deflate);

//  Checks the response in buf[0..size). Returns 0 with *out filled,
//  ZFLOW_EAGAIN when the header is not complete yet, or ZFLOW_EREFUSED
//  (not 101, redirects included) / ZFLOW_EPROTO (bad upgrade, accept key,
//  extension or subprotocol) / ZFLOW_ETOOBIG, with a reason in err.
int zflow__ws_response (const char *buf, size_t size, const char *key_b64, const char *protocols,
                        bool deflate_offered, zflow_ws_accept_t *out, char *err, size_t err_size);

//  True when data[0..size) is valid UTF-8 (no overlongs, no surrogates,
//  nothing above U+10FFFF).
bool zflow__ws_utf8_valid (const uint8_t *data, size_t size);

//  The length of data[0..size) without a multi-byte sequence that its last
//  bytes begin but do not finish (the rest may come in the next fragment).
//  Invalid bytes are left in: zflow__ws_utf8_valid refuses them, and so is
//  an unfinished sequence that no continuation can make valid (F4 90, ED
//  A0, E0 80, a lead F5..FF, C0 or C1), so a reader fails fast.
size_t zflow__ws_utf8_whole (const uint8_t *data, size_t size);

//  A growable byte buffer for inflated output.
typedef struct {
    uint8_t *data; //  heap buffer (owned)
    size_t size;   //  bytes used
    size_t cap;    //  bytes allocated
} zflow_ws_buf_t;

void zflow__ws_buf_free (zflow_ws_buf_t *buf);

//  Inflates data into out (reset first), refusing to grow beyond limit
//  bytes. raw_tail: append the 00 00 ff ff tail of RFC 7692 first. Returns
//  0, ZFLOW_ETOOBIG (over limit), ZFLOW_EPROTO (corrupt) or ZFLOW_ENOMEM.
int zflow__ws_inflate (z_stream *zs, const uint8_t *data, size_t size, bool raw_tail, size_t limit,
                       zflow_ws_buf_t *out);

//  Deflates data for permessage-deflate into out (reset first), removing
//  the final 00 00 ff ff. Returns 0 or ZFLOW_ENOMEM / ZFLOW_EPROTO.
int zflow__ws_deflate (z_stream *zs, const uint8_t *data, size_t size, zflow_ws_buf_t *out);

#endif
