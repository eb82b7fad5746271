/*  =========================================================================
    zflow_ws_frame - RFC 6455 messages over wslay's frame layer (internal)

    wslay_frame_recv and wslay_frame_send parse and build frame headers and
    (un)mask payloads. This class does the rest of what a client endpoint
    owes RFC 6455 on an open connection: it joins fragments into messages
    (with control frames between them), answers pings with pongs, runs its
    half of the close handshake (codes checked, reply echoed), refuses
    masked server frames, reserved bits (RSV1 only with permessage-deflate,
    only on the first frame of a data message), unknown opcodes, orphan or
    interrupted fragments, enforces the maximum message size (close 1009)
    and checks the UTF-8 of text messages that are not compressed (close
    1007; fragments are checked as they arrive, a code point split between
    two fragments included). We do this ourselves instead of using wslay's
    event layer because that layer checks UTF-8 a byte at a time through a
    state machine and cannot be told not to: 800 instructions for each
    64-byte message, most of the client's cost.

    It owns no socket: input comes from a read function, output frames are
    masked into a buffer the caller writes out (zflow__ws_frame_out). The
    caller inflates compressed messages and checks their UTF-8.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_FRAME_H_INCLUDED
#define ZFLOW_WS_FRAME_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _zflow_ws_frame_t zflow_ws_frame_t;

//  Reads up to size bytes of the connection into buf. Returns how many (0
//  when none can be read now, for whatever reason: the caller's transport
//  remembers whether that was EOF or an error).
typedef size_t (zflow_ws_frame_read_fn) (void *arg, uint8_t *buf, size_t size);

//  What zflow__ws_frame_next found.
typedef enum {
    ZFLOW_WS_FRAME_AGAIN,   //  nothing more to read now (or reading is over)
    ZFLOW_WS_FRAME_MESSAGE, //  a whole data message
    ZFLOW_WS_FRAME_PONG,    //  a pong frame
    ZFLOW_WS_FRAME_CLOSE,   //  the peer's (valid) close frame; reading is over
    ZFLOW_WS_FRAME_ERROR    //  the peer broke the protocol; reading is over
} zflow_ws_frame_kind_t;

//  The details of an event.
typedef struct {
    bool binary;         //  MESSAGE: binary, else text
    bool compressed;     //  MESSAGE: RSV1 set (permessage-deflate), not checked for UTF-8
    const uint8_t *data; //  MESSAGE: payload; CLOSE: reason (valid until the next call)
    size_t size;         //  its size in bytes
    int code;            //  CLOSE: code received (1005: none); ERROR: close code to send
    int error;           //  ERROR: zflow code (ZFLOW_EPROTO, ZFLOW_ETOOBIG, ZFLOW_ENOMEM)
    const char *text;    //  ERROR: why, for people (static)
} zflow_ws_frame_event_t;

//  Creates the message layer of an open client connection: read supplies
//  its bytes (arg is passed back); max_message bounds a data message as
//  received (before inflating); deflate: permessage-deflate was
//  negotiated, so RSV1 is allowed. Returns NULL when out of memory. The
//  caller owns it: zflow__ws_frame_destroy.
zflow_ws_frame_t *zflow__ws_frame_new (zflow_ws_frame_read_fn *read, void *arg, size_t max_message,
                                       bool deflate);

//  Frees self and sets *self_p to NULL; NULL is fine.
void zflow__ws_frame_destroy (zflow_ws_frame_t **self_p);

//  Reads and handles frames until one gives an event for the caller (a
//  ping is answered, not reported: each ping gets its pong while fewer
//  than 16 pongs are still unwritten; beyond that later pings share one
//  pong with the most recent payload, RFC 6455 5.5.3). Returns the
//  event's kind and fills *event. After CLOSE or ERROR it returns AGAIN
//  for ever.
zflow_ws_frame_kind_t zflow__ws_frame_next (zflow_ws_frame_t *self, zflow_ws_frame_event_t *event);

//  Queues one masked data message (binary or text; compressed sets RSV1,
//  the caller deflated it) as a single frame. Returns 0, ZFLOW_ECLOSED
//  (our close frame was queued already), ZFLOW_ENOMEM or ZFLOW_EIO (no
//  random mask).
int zflow__ws_frame_send (zflow_ws_frame_t *self, bool binary, bool compressed, const void *data,
                          size_t size);

//  Queues a ping with up to 125 bytes. Returns as zflow__ws_frame_send,
//  or ZFLOW_ETOOBIG.
int zflow__ws_frame_ping (zflow_ws_frame_t *self, const void *data, size_t size);

//  Queues our close frame with code (0: no code) and reason (up to 123
//  bytes, truncated), once; later calls do nothing. Returns 0,
//  ZFLOW_ENOMEM or ZFLOW_EIO; *after* it, no data is sent any more.
int zflow__ws_frame_close (zflow_ws_frame_t *self, int code, const void *reason, size_t size);

//  Ends reading: zflow__ws_frame_next returns AGAIN from now on.
void zflow__ws_frame_stop_reading (zflow_ws_frame_t *self);

//  The bytes waiting to be written (*size of them), or NULL when none.
const uint8_t *zflow__ws_frame_out (zflow_ws_frame_t *self, size_t *size);

//  Marks size bytes of zflow__ws_frame_out's as written.
void zflow__ws_frame_out_done (zflow_ws_frame_t *self, size_t size);

//  True while reading goes on (no close received, no error, not stopped).
bool zflow__ws_frame_reading (zflow_ws_frame_t *self);

//  The close code we sent (1005 for a close without a code), or 0 if no
//  close frame was queued.
int zflow__ws_frame_code_sent (zflow_ws_frame_t *self);

//  The close code received (1005 for none), or 0 if no close arrived.
int zflow__ws_frame_code_received (zflow_ws_frame_t *self);

//  Pings left unanswered because a more recent one came while our pong
//  was not written yet (a peer that floods pings and does not read).
uint64_t zflow__ws_frame_pongs_coalesced (zflow_ws_frame_t *self);

#endif
