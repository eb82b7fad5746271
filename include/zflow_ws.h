/*  =========================================================================
    zflow_ws - a WebSocket feed: one connection, many filtered streams

    An actor keeps one WebSocket connection (ws:// or wss://) open and
    reconnects it: after any close or error (a clean 1000/1001 included)
    with exponential backoff and jitter, and on policy (a timer, or a
    message matching a filter) by opening the new connection before
    dropping the old one so no message is lost in the swap.

    Each incoming message is decoded (optional gzip/deflate of binary
    payloads), parsed once (JSON by default, raw bytes, or your parser),
    given to your handlers, published once on an inproc PUB socket as a
    zflow envelope with key ("ws", <name>), and copied to every stream
    whose filter matches it. A filter is a JSON list of objects; a message
    matches when all key/value pairs of any one object equal the message's
    top-level fields; no filter passes every message.

    The messages of one socket read reach each stream read with
    zflow_ws_stream_read as one batch (one ZeroMQ message), which it hands
    out one envelope at a time: the hand-over between threads is paid per
    batch, not per message.

    Each stream is a zflow_stream_t with its own bounded queue and policy:
    ZFLOW_WS_DROP (drop and count when full; the others never notice) or
    ZFLOW_WS_BACKPRESSURE (never drop: reading from the WebSocket pauses
    until the stream has room, which delays every stream of the feed).

        zflow_ws_config_t *config = zflow_ws_config_new ("wss://example.org/feed");
        zflow_ws_config_on_connect_send (config, "{\"op\":\"subscribe\"}");
        zflow_ws_t *feed = zflow_ws_new ("ex", &config, NULL);
        zflow_stream_t *trades = zflow_ws_stream_filter (feed, "[{\"e\":\"trade\"}]", 1000,
                                                         ZFLOW_WS_DROP, NULL);
        zflow_msg_t *msg = zflow_msg_new ();
        while (zflow_ws_stream_read (trades, msg, -1) == 0)
            ... frame 3 of msg is the message ...
        zflow_ws_stream_close (feed, &trades);
        zflow_ws_destroy (&feed);

    A zflow_ws_t is not thread-safe: call its methods from one thread at a
    time. Each stream is a zflow_stream_t and may be read from its own
    thread. Streams made after the feed connected see messages from then
    on; configure without autostart and call zflow_ws_start once the
    streams exist to see every message.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_H_INCLUDED
#define ZFLOW_WS_H_INCLUDED

#include "zflow_msg.h"
#include "zflow_stream.h"
#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_ws_t zflow_ws_t;
typedef struct _zflow_ws_config_t zflow_ws_config_t;
typedef struct _zflow_ws_out_t zflow_ws_out_t;

//  Stream policies when a stream's queue is full.
#define ZFLOW_WS_DROP 0         //  drop the message for this stream and count it
#define ZFLOW_WS_BACKPRESSURE 1 //  pause reading the WebSocket until there is room

//  Parse modes.
#define ZFLOW_WS_PARSE_JSON 0 //  jansson; a message that is not JSON is counted, still published
#define ZFLOW_WS_PARSE_RAW 1  //  no parsing: only unfiltered streams get messages

//  Decoding of binary payloads before parsing.
#define ZFLOW_WS_DECODE_NONE 0    //  as received
#define ZFLOW_WS_DECODE_GZIP 1    //  gzip or zlib (detected by header)
#define ZFLOW_WS_DECODE_DEFLATE 2 //  raw deflate (RFC 1951)

//  A parser: returns a new JSON value for data (the actor takes the
//  reference), or NULL when the message cannot be parsed (counted as a
//  parse error; the message is then published as received). The value is
//  what filters and handlers see, and what is published (as compact JSON):
//  a parser of your own can transform messages. The built-in JSON parse
//  only checks and reads: it publishes the message's bytes as received.
//  Runs in the actor thread.
typedef json_t *(zflow_ws_parse_fn) (const void *data, size_t size, bool binary, void *arg);

//  A handler: runs in the actor thread for every message (parsed is NULL
//  when there is no parsed value; do not keep it). Returns 0, or non-zero
//  to report a failure: it is counted (handler_errors in STATS) and logged.
typedef int (zflow_ws_handler_fn) (const void *data, size_t size, bool binary, const json_t *parsed,
                                   void *arg);

//  An on-connect hook: runs in the actor thread after every successful
//  handshake, before queued messages are sent; send login / subscribe
//  messages with zflow_ws_out_send. Returns 0, or non-zero to fail this
//  connection (it is then closed and retried with backoff).
typedef int (zflow_ws_connect_fn) (zflow_ws_out_t *out, void *arg);

//  Sends a message on the connection that is being set up (only inside an
//  on-connect hook). Returns 0, ZFLOW_EPROTO (text not UTF-8) or
//  ZFLOW_ECLOSED.
int zflow_ws_out_send (zflow_ws_out_t *out, const void *data, size_t size, bool binary);

//  ---------------------------------------------------------------------
//  Configuration (build it, then hand it to zflow_ws_new)

//  Creates a configuration for url (ws:// or wss://). Returns NULL when the
//  URL is not a WebSocket URL or out of memory. The caller owns it until
//  zflow_ws_new takes it; zflow_ws_config_destroy otherwise.
zflow_ws_config_t *zflow_ws_config_new (const char *url);

//  Destroys the configuration; sets *self_p to NULL. Idempotent.
void zflow_ws_config_destroy (zflow_ws_config_t **self_p);

//  Every setter returns 0, or ZFLOW_EINVAL for a bad value (NULL, CR/LF in
//  a header, a filter that is not a JSON list of objects, ...), or
//  ZFLOW_ENOMEM. Strings are copied.

//  Adds a request header to the opening handshake.
int zflow_ws_config_set_header (zflow_ws_config_t *self, const char *name, const char *value);
//  Offers subprotocols (comma-separated).
int zflow_ws_config_set_protocols (zflow_ws_config_t *self, const char *protocols);
//  Offers permessage-deflate (default on).
int zflow_ws_config_set_deflate (zflow_ws_config_t *self, bool offer);
//  wss: verify the certificate and host name (default on) and trust the
//  CAs in ca_file (may be NULL: the system store only).
int zflow_ws_config_set_tls (zflow_ws_config_t *self, bool verify, const char *ca_file);
//  Largest message accepted, after decompression (default 16 MiB; larger
//  closes the connection with 1009, then it is reconnected).
int zflow_ws_config_set_max_message (zflow_ws_config_t *self, size_t size);
//  Connect + handshake timeout and close wait (default 5000 ms).
int zflow_ws_config_set_timeout (zflow_ws_config_t *self, int timeout_ms);
//  Parse mode (ZFLOW_WS_PARSE_JSON or _RAW), or a parser of your own.
int zflow_ws_config_set_parse (zflow_ws_config_t *self, int mode);
int zflow_ws_config_set_parser (zflow_ws_config_t *self, zflow_ws_parse_fn *fn, void *arg);
//  Adds a handler (up to 8).
int zflow_ws_config_add_handler (zflow_ws_config_t *self, zflow_ws_handler_fn *fn, void *arg);
//  Decoding of binary payloads (ZFLOW_WS_DECODE_*).
int zflow_ws_config_set_decode (zflow_ws_config_t *self, int mode);
//  Reconnect backoff: first delay and cap in ms (defaults 100, 30000); each
//  failed attempt doubles the delay, and the wait is a random point
//  between half of it and all of it.
int zflow_ws_config_set_backoff (zflow_ws_config_t *self, int initial_ms, int max_ms);
//  At most one connection attempt per interval_ms (default 0: no limit).
int zflow_ws_config_set_connect_rate (zflow_ws_config_t *self, int interval_ms);
//  Policy reconnect every interval_ms (0: never) and/or when a message
//  matches filter_json (NULL: never). The new connection opens first.
int zflow_ws_config_set_rotate (zflow_ws_config_t *self, int64_t interval_ms,
                                const char *filter_json);
//  A message sent after every connect (repeat for several).
int zflow_ws_config_on_connect_send (zflow_ws_config_t *self, const char *text);
//  A hook run after every connect.
int zflow_ws_config_on_connect (zflow_ws_config_t *self, zflow_ws_connect_fn *fn, void *arg);
//  WebSocket ping frames every interval_ms; no pong for two intervals
//  fails the connection (0: off, the default).
int zflow_ws_config_set_ping (zflow_ws_config_t *self, int interval_ms);
//  Application-level ping: sends ping_text every interval_ms ("%T" in it
//  becomes the time in ms); messages matching pong are swallowed and
//  counted. pong is a JSON filter when it starts with '[' or '{' (an
//  object means a one-object list), else an exact text.
int zflow_ws_config_set_app_ping (zflow_ws_config_t *self, int interval_ms, const char *ping_text,
                                  const char *pong);
//  Answers the server's application pings: a text message equal to ping
//  is answered with the text pong, and a JSON object whose only field is
//  ping ({"ping":1700000000}) with {"<pong>":<same value>}. Answered pings
//  are swallowed and counted (app_pings). NULL ping turns it off.
int zflow_ws_config_set_app_ping_reply (zflow_ws_config_t *self, const char *ping,
                                        const char *pong);
//  Outgoing messages queued while disconnected or rate-limited (default
//  1000); beyond that zflow_ws_send fails with ZFLOW_EFULL.
int zflow_ws_config_set_send_queue (zflow_ws_config_t *self, size_t messages);
//  Outgoing rate limit in messages per second (0: none, the default).
int zflow_ws_config_set_send_rate (zflow_ws_config_t *self, double per_second);
//  Connect as soon as the feed starts (true, the default), or only on
//  zflow_ws_start, so streams made in between see every message.
int zflow_ws_config_set_autostart (zflow_ws_config_t *self, bool autostart);
//  The PUB endpoint (default "inproc://zflow-ws-<name>").
int zflow_ws_config_set_endpoint (zflow_ws_config_t *self, const char *endpoint);
//  Most messages a stream receives as one batch (default 256, at most
//  65536): the messages of one socket read cross to the reader's thread as
//  one ZeroMQ message, which zflow_ws_stream_read hands out one envelope at
//  a time. A stream gets batches once its reader has called
//  zflow_ws_stream_read (call it once with timeout 0 before starting the
//  feed to have them from the first message); a reader that only uses
//  zflow_stream_read gets one envelope per message, as before. 1 turns
//  batches off. The PUB socket always carries one envelope per message.
int zflow_ws_config_set_batch (zflow_ws_config_t *self, size_t messages);

//  ---------------------------------------------------------------------
//  The feed

//  Starts the feed actor named name (a key component: no 0x1F, at most
//  255 bytes), taking the configuration (*config_p is set to NULL, also on
//  failure). It starts connecting at once. Returns the feed (the caller
//  owns it: zflow_ws_destroy), or NULL with *err_p set to ZFLOW_EINVAL,
//  ZFLOW_EENDPOINT (PUB endpoint in use) or ZFLOW_ENOMEM.
zflow_ws_t *zflow_ws_new (const char *name, zflow_ws_config_t **config_p, int *err_p);

//  Exits (if not done), stops the actor and frees everything; sets *self_p
//  to NULL. Streams still open are closed on the actor's side: destroy
//  your zflow_stream_t objects yourself (zflow_ws_stream_close before this
//  call, or zflow_ws_stream_close (NULL, &stream) or zflow_stream_destroy
//  after). Their readers may go on reading what was sent until
//  ZFLOW_ECLOSED. Idempotent.
void zflow_ws_destroy (zflow_ws_t **self_p);

//  The PUB endpoint (owned by the feed).
const char *zflow_ws_endpoint (zflow_ws_t *self);

//  The actor, for zflow_actor_stats (counters: published, parse_errors,
//  decode_errors, handler_errors, connects, reconnects, attempts,
//  rotations, app_pongs, app_pings, send_dropped, stream_drops, pauses).
zactor_t *zflow_ws_actor (zflow_ws_t *self);

//  True while a connection is open (handshake done, not closing).
bool zflow_ws_present (zflow_ws_t *self);

//  Waits up to timeout_ms (-1: forever) for a connection. Returns 0,
//  ZFLOW_ETIMEDOUT or ZFLOW_ECLOSED (after exit).
int zflow_ws_wait_connected (zflow_ws_t *self, int timeout_ms);

//  Number of connections opened so far.
uint64_t zflow_ws_connects (zflow_ws_t *self);

//  Sends a message (text must be UTF-8). Queued while reconnecting or
//  rate-limited, up to the send queue size. Returns 0, ZFLOW_EFULL (queue
//  full), ZFLOW_EINVAL, ZFLOW_EPROTO (text not UTF-8) or ZFLOW_ECLOSED.
int zflow_ws_send (zflow_ws_t *self, const void *data, size_t size, bool binary);

//  Starts connecting (for a feed configured without autostart; a no-op
//  otherwise). Streams exist before the first message can arrive.
//  Returns 0 or ZFLOW_ECLOSED.
int zflow_ws_start (zflow_ws_t *self);

//  Policy reconnect now: opens a new connection, then closes the old one.
//  Returns 0 or ZFLOW_ECLOSED.
int zflow_ws_reconnect (zflow_ws_t *self);

//  Creates a stream of the messages matching filter_json (NULL or "" for
//  all) with a queue of queue messages (0: 1000) and a policy
//  (ZFLOW_WS_DROP or ZFLOW_WS_BACKPRESSURE). Each message read with
//  zflow_ws_stream_read is a zflow envelope: key ("ws", name), meta,
//  payload. Once its reader uses zflow_ws_stream_read, the messages of one
//  socket read travel as one batch (see zflow_ws_config_set_batch) and the
//  queue counts messages sent and not yet read with zflow_ws_stream_read (a
//  BACKPRESSURE stream may get one batch more); before, it counts
//  envelopes in the pipe. Returns the stream (the caller owns it:
//  zflow_ws_stream_close), or NULL with *err_p set to ZFLOW_EINVAL (bad
//  filter or policy), ZFLOW_ECLOSED or ZFLOW_ENOMEM.
zflow_stream_t *zflow_ws_stream_filter (zflow_ws_t *self, const char *filter_json, size_t queue,
                                        int policy, int *err_p);

//  Reads one message from a feed stream, like zflow_stream_read: hands
//  out the messages of a batch one envelope at a time, then reads the next
//  batch (waiting up to timeout_ms). Returns 0, ZFLOW_ECLOSED once the feed
//  has exited and every message before the end was read (a reader waiting
//  at that moment is woken), the errors of zflow_stream_read, ZFLOW_EPROTO
//  (a malformed batch, dropped) or ZFLOW_ENOMEM (that message is lost).
//  The first call makes the stream a batch stream (see
//  zflow_ws_config_set_batch). Readers that only use zflow_stream_read get
//  plain envelopes and see the end as a one-frame message "$ZFLOW_WS_END".
int zflow_ws_stream_read (zflow_stream_t *stream, zflow_msg_t *msg, int timeout_ms);

//  Messages dropped for this stream because its queue was full.
uint64_t zflow_ws_stream_drops (zflow_ws_t *self, zflow_stream_t *stream);

//  Closes a stream on both sides and destroys it; sets *stream_p to NULL.
//  self may be NULL for a stream whose feed was destroyed.
void zflow_ws_stream_close (zflow_ws_t *self, zflow_stream_t **stream_p);

//  Waits until every message given to zflow_ws_send so far has been
//  written to the connection's socket: the feed's send queue and the
//  connection's output are both empty (a message waiting for a connection
//  or for the outgoing rate limit keeps it waiting). Checks every 2 ms.
//  timeout_ms -1 waits without limit. Returns 0, ZFLOW_ETIMEDOUT,
//  ZFLOW_ECLOSED (the feed exited or is closed) or ZFLOW_EINVAL (NULL).
//  Call it before zflow_ws_exit to lose nothing: exit drops (and counts in
//  send_dropped) what is still queued.
int zflow_ws_flush (zflow_ws_t *self, int timeout_ms);

//  Closes the connection with 1000 (waiting for the close handshake, at
//  most the timeout), stops reconnecting, and wakes every stream reader
//  with ZFLOW_ECLOSED. Sends fail with ZFLOW_ECLOSED afterwards.
//  Returns 0, or ZFLOW_ECLOSED if already done.
int zflow_ws_exit (zflow_ws_t *self);

#ifdef __cplusplus
}
#endif

#endif
