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

    Each stream (zflow_ws_stream_t) has its own bounded queue and policy:
    ZFLOW_WS_DROP (drop and count when full; the others never notice) or
    ZFLOW_WS_BACKPRESSURE (never drop: reading from the WebSocket pauses
    until the stream has room, which delays every stream of the feed).

    Every envelope's meta says how the message came: its content type
    (application/json when it parsed as JSON, else text/plain or
    application/octet-stream) and the extra field "opcode"
    (ZFLOW_WS_META_OPCODE): "text" or "binary", the WebSocket frame type,
    which the content type alone cannot tell for JSON.
    zflow_ws_stream_binary gives the same for the message last read.

    Every connection that ends is a close event: its close code and reason
    go to the close hook (zflow_ws_config_on_close) and are kept for
    zflow_ws_last_close; the feed then reconnects.

        zflow_ws_config_t *config = zflow_ws_config_new ("wss://example.org/feed");
        zflow_ws_config_set_name (config, "ex");
        zflow_ws_config_on_connect_send (config, "{\"op\":\"subscribe\"}");
        zflow_ws_t *feed = zflow_ws_new (config, NULL);
        zflow_ws_config_destroy (&config);          //  the feed has its own copy
        zflow_ws_stream_t *trades = zflow_ws_stream_filter (feed, "[{\"e\":\"trade\"}]", 1000,
                                                            ZFLOW_WS_DROP, NULL);
        zflow_msg_t *msg = zflow_msg_new ();
        while (zflow_ws_stream_read (trades, msg, -1) == 0)
            ... frame 3 of msg is the message ...
        zflow_ws_stream_destroy (&trades);
        zflow_ws_destroy (&feed);

    A zflow_ws_t is not thread-safe: call its methods from one thread at a
    time. Each stream may be read (and destroyed) from its own thread.
    Streams made after the feed connected see messages from then on;
    configure without autostart and call zflow_ws_start once the streams
    exist to see every message. Feed and streams may be destroyed in any
    order (see zflow_ws_destroy and zflow_ws_stream_destroy).

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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_ws_t zflow_ws_t;
typedef struct _zflow_ws_config_t zflow_ws_config_t;
typedef struct _zflow_ws_out_t zflow_ws_out_t;
typedef struct _zflow_ws_stream_t zflow_ws_stream_t;

//  The meta extra field that holds a message's WebSocket opcode: "text" or
//  "binary".
#define ZFLOW_WS_META_OPCODE "opcode"

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

//  An on-connect hook: runs in the actor thread after every successful
//  handshake, before queued messages are sent; send login / subscribe
//  messages with zflow_ws_out_send. Returns 0, or non-zero to fail this
//  connection (it is then closed and retried with backoff).
typedef int (zflow_ws_connect_fn) (zflow_ws_out_t *out, void *arg);

//  A close hook: runs in the actor thread once for every connection that
//  ends (a failed attempt included), before the reconnect is scheduled.
//  code: the close code the server sent (1005 when its close frame had
//  none), the code we sent when we failed the connection (1002, 1007,
//  1009, ...), or 1006 when there was no close frame at all; reason: its
//  text (never NULL; borrowed for the call); error: 0 when the close
//  handshake completed, else a negative zflow_error_t saying what failed.
typedef void (zflow_ws_close_fn) (int code, const char *reason, int error, void *arg);

//  A message hook: runs in the actor thread for every data message, in
//  the order they come, as soon as the message is whole and before the
//  next frame is read; then the message goes on to handlers and streams.
//  data (size bytes) is borrowed for the call; binary: it came in a binary
//  frame, else a text one (checked UTF-8). out (borrowed for the call)
//  answers on the same connection with zflow_ws_out_send: such a reply is
//  queued before anything the peer sent later is read, so it goes out
//  even when the next frame fails the connection (an echo peer). Returns
//  0, or non-zero to report a failure (counted in handler_errors).
typedef int (zflow_ws_message_fn) (zflow_ws_out_t *out, const void *data, size_t size, bool binary,
                                   void *arg);

//  Sends a message on the connection that is being set up (inside an
//  on-connect hook) or that delivered the message (inside a message hook);
//  out is borrowed for the hook's duration. Returns 0,
//  ZFLOW_EINVAL (NULL out, NULL data with a size), ZFLOW_EPROTO (text not
//  UTF-8) or ZFLOW_ECLOSED.
int zflow_ws_out_send (zflow_ws_out_t *out, const void *data, size_t size, bool binary);

//  ---------------------------------------------------------------------
//  Configuration (build it, then give it to zflow_ws_new, which copies it)

//  Creates a configuration for url (ws:// or wss://) with every default
//  (feed name "ws"). Returns it (the caller owns it and destroys it with
//  zflow_ws_config_destroy, also after zflow_ws_new), or NULL when url is
//  NULL or not a WebSocket URL, or out of memory.
zflow_ws_config_t *zflow_ws_config_new (const char *url);

//  Destroys the configuration; sets *self_p to NULL. NULL-safe and
//  idempotent. Feeds made from it keep their own copies.
void zflow_ws_config_destroy (zflow_ws_config_t **self_p);

//  Every setter changes self (the caller's) and returns 0, or ZFLOW_EINVAL
//  for a NULL self or a bad value (NULL, CR/LF in a header, a filter that
//  is not a JSON list of objects, ...), or ZFLOW_ENOMEM. Strings are
//  copied; callback arguments (arg) stay the caller's and must outlive
//  every feed made from the configuration.

//  The feed name (default "ws"): the key of its envelopes is ("ws", name)
//  and its default PUB endpoint "inproc://zflow-ws-<name>". A key
//  component: not empty, no 0x1F, at most 255 bytes.
int zflow_ws_config_set_name (zflow_ws_config_t *self, const char *name);

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
//  Parse mode (ZFLOW_WS_PARSE_JSON or _RAW). A parser and handlers of your
//  own, which see jansson values, are in zflow_ws_json.h.
int zflow_ws_config_set_parse (zflow_ws_config_t *self, int mode);
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
//  A hook run after every connect (fn NULL: none).
int zflow_ws_config_on_connect (zflow_ws_config_t *self, zflow_ws_connect_fn *fn, void *arg);
//  A hook run for every close event (fn NULL: none); see zflow_ws_close_fn.
int zflow_ws_config_on_close (zflow_ws_config_t *self, zflow_ws_close_fn *fn, void *arg);
//  A hook run for every message, which may answer it at once (fn NULL:
//  none); see zflow_ws_message_fn.
int zflow_ws_config_on_message (zflow_ws_config_t *self, zflow_ws_message_fn *fn, void *arg);
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

//  Starts a feed actor with a copy of config (the caller keeps config and
//  may destroy or reuse it at once). It starts connecting at once unless
//  autostart is off. Returns the feed (the caller owns it:
//  zflow_ws_destroy), or NULL with *err_p (err_p may be NULL) set to
//  ZFLOW_EINVAL (config NULL), ZFLOW_EENDPOINT (PUB endpoint in use) or
//  ZFLOW_ENOMEM.
zflow_ws_t *zflow_ws_new (const zflow_ws_config_t *config, int *err_p);

//  Exits (if not done: zflow_ws_exit), stops the actor and frees the feed;
//  sets *self_p to NULL. NULL-safe and idempotent. Streams still alive are
//  the caller's: each hands out what it already received, then returns
//  ZFLOW_ECLOSED (a reader blocked in zflow_ws_stream_read is woken), and
//  is freed by zflow_ws_stream_destroy as usual.
void zflow_ws_destroy (zflow_ws_t **self_p);

//  The PUB endpoint where every message is published (owned by the feed),
//  or NULL for a NULL self.
const char *zflow_ws_endpoint (zflow_ws_t *self);

//  The feed's actor (borrowed; NULL for a NULL self): for zloop or raw
//  commands. Prefer zflow_ws_stats and zflow_ws_set_verbose.
zactor_t *zflow_ws_actor (zflow_ws_t *self);

//  Asks the actor for its counters: the standard ones of zflow_actor_stats
//  and published, parse_errors, decode_errors, handler_errors, connects,
//  reconnects, attempts, rotations, app_pongs, app_pings, send_dropped,
//  stream_drops, pauses, closes. Waits up to timeout_ms. Returns a new
//  zhash of name -> decimal text (the caller destroys it: zhash_destroy;
//  read it with zflow_actor_stats_get), or NULL on timeout or NULL self.
zhash_t *zflow_ws_stats (zflow_ws_t *self, int timeout_ms);

//  Logs (zsys_debug) connections, rotations and reconnect delays when
//  verbose, or not. NULL self: nothing.
void zflow_ws_set_verbose (zflow_ws_t *self, bool verbose);

//  The close event of the last connection that ended: copies its reason
//  into reason (reason_size bytes, truncated, always terminated; reason
//  may be NULL when reason_size is 0). Returns its close code (see
//  zflow_ws_close_fn), 0 when no connection has ended yet (reason ""),
//  or ZFLOW_EINVAL (NULL self, or NULL reason with a size).
int zflow_ws_last_close (zflow_ws_t *self, char *reason, size_t reason_size);

//  True while a connection is open (handshake done, not closing); false
//  for a NULL self.
bool zflow_ws_present (zflow_ws_t *self);

//  Waits up to timeout_ms (-1: forever) for a connection. Returns 0,
//  ZFLOW_ETIMEDOUT, ZFLOW_ECLOSED (after exit) or ZFLOW_EINVAL (NULL).
int zflow_ws_wait_connected (zflow_ws_t *self, int timeout_ms);

//  Number of connections opened so far (0 for a NULL self).
uint64_t zflow_ws_connects (zflow_ws_t *self);

//  Sends a copy of data (size bytes, the caller's; text must be UTF-8).
//  Queued while reconnecting or rate-limited, up to the send queue size.
//  Returns 0, ZFLOW_EFULL (queue full), ZFLOW_EINVAL (NULL self, NULL
//  data with a size), ZFLOW_EPROTO (text not UTF-8), ZFLOW_ENOMEM or
//  ZFLOW_ECLOSED.
int zflow_ws_send (zflow_ws_t *self, const void *data, size_t size, bool binary);

//  Starts connecting (for a feed configured without autostart; a no-op
//  otherwise). Streams exist before the first message can arrive.
//  Returns 0, ZFLOW_EINVAL (NULL) or ZFLOW_ECLOSED.
int zflow_ws_start (zflow_ws_t *self);

//  Policy reconnect now: opens a new connection, then closes the old one.
//  Returns 0, ZFLOW_EINVAL (NULL) or ZFLOW_ECLOSED.
int zflow_ws_reconnect (zflow_ws_t *self);

//  ---------------------------------------------------------------------
//  Streams

//  Creates a stream of the feed's messages matching filter_json (NULL or
//  "" for all; copied) with a queue of queue messages (0: 1000) and a
//  policy (ZFLOW_WS_DROP or ZFLOW_WS_BACKPRESSURE). Each message read with
//  zflow_ws_stream_read is a zflow envelope: key ("ws", name), meta,
//  payload. Once its reader uses zflow_ws_stream_read, the messages of one
//  socket read travel as one batch (see zflow_ws_config_set_batch) and the
//  queue counts messages sent and not yet read (a BACKPRESSURE stream may
//  get one batch more); before, it counts envelopes in the pipe. Returns
//  the stream (the caller owns it: zflow_ws_stream_destroy; it does not
//  keep feed), or NULL with *err_p (may be NULL) set to ZFLOW_EINVAL
//  (NULL feed, bad filter or policy), ZFLOW_ECLOSED (the feed exited),
//  ZFLOW_EENDPOINT or ZFLOW_ENOMEM.
zflow_ws_stream_t *zflow_ws_stream_filter (zflow_ws_t *feed, const char *filter_json, size_t queue,
                                           int policy, int *err_p);

//  Destroys the stream: the feed stops sending to it (at its next socket
//  read) and what was queued for it is dropped. Sets *self_p to NULL.
//  NULL-safe and idempotent; safe before or after the feed's destroy.
void zflow_ws_stream_destroy (zflow_ws_stream_t **self_p);

//  Reads one message into msg (the caller's; reset first), waiting up to
//  timeout_ms (0: no wait, -1: forever): hands out the messages of a batch
//  one envelope at a time, then reads the next batch. Returns 0,
//  ZFLOW_EAGAIN (timeout 0, nothing there), ZFLOW_ETIMEDOUT, ZFLOW_ECLOSED once the feed
//  exited or was destroyed and every message before the end was read (a
//  reader waiting at that moment is woken; every later call returns it
//  too), ZFLOW_EINVAL (NULL self or msg), ZFLOW_EPROTO (a malformed batch,
//  dropped), ZFLOW_ENOMEM (that message is lost) or the other errors of
//  zflow_stream_read. The first call makes the stream a batch stream (see
//  zflow_ws_config_set_batch).
int zflow_ws_stream_read (zflow_ws_stream_t *self, zflow_msg_t *msg, int timeout_ms);

//  True when the message last read with zflow_ws_stream_read came in a
//  binary frame (the meta's "opcode" field says the same); false after a
//  text one, before any, or for a NULL self.
bool zflow_ws_stream_binary (zflow_ws_stream_t *self);

//  Messages dropped for this stream because its queue was full (still
//  counted after the feed is gone; 0 for a NULL self).
uint64_t zflow_ws_stream_drops (zflow_ws_stream_t *self);

//  The underlying zflow_stream_t (borrowed: owned by self, valid until
//  zflow_ws_stream_destroy; NULL for a NULL self), to poll its socket or
//  attach it to a zloop (zflow_stream_attach) and call
//  zflow_ws_stream_read when it is readable. Reading it directly with
//  zflow_stream_read gets plain envelopes only while zflow_ws_stream_read
//  was never called, and sees the end as a one-frame "$ZFLOW_WS_END".
zflow_stream_t *zflow_ws_stream_stream (zflow_ws_stream_t *self);

//  ---------------------------------------------------------------------
//  Ending

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
//  Returns 0, or ZFLOW_ECLOSED if already done or self is NULL.
int zflow_ws_exit (zflow_ws_t *self);

#ifdef __cplusplus
}
#endif

#endif
