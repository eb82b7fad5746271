/*  =========================================================================
    zflow_hpfeeds_client - the hpfeeds client actor (internal; the public
    wrapper is zflow_hpfeeds.c)

    Commands on the pipe (each answered with one "i" status):
        SUBSCRIBE channel, UNSUBSCRIBE channel, STATUS (answers connected),
        PUBLISH FROM socktype endpoint subscribe channel
    Data: publishes arrive in the hand-off buffer (see below), large ones
    on the PULL socket at args->input, each one frame holding a complete
    hpfeeds publish frame the wrapper encoded;
    received messages leave as envelopes on the XPUB socket at args->output
    (only while someone subscribes there) and, for the wrapper's reader, as
    batches on the PUSH socket at args->batch: one frame holding up to
    S_BATCH_MSGS whole publish frames with valid channels, byte for byte as
    the broker sent them (the wrapper unpacks them into envelopes); events
    leave on the PUSH socket connected to args->events (bound by the
    wrapper) as two frames [type (decimal), text].

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_CLIENT_H_INCLUDED
#define ZFLOW_HPFEEDS_CLIENT_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_hpfeeds.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_pool.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_hpfeeds_tls.h"
#include "zflow_meta.h"
#include "zflow_stream.h"
#include <pthread.h>
#include <stdatomic.h>

//  High watermark of each end of the publish pipe (messages: rings and
//  publishes of S_PUB_BATCH bytes or more).
#define S_INPUT_HWM 1000

//  What the wrapper hands the actor (read before the actor signals ready).
typedef struct {
    zflow_hpfeeds_config_t config; //  checked settings (strings owned by the wrapper)
    const char *input;             //  endpoint of the publish PULL socket
    const char *output;            //  endpoint of the output PUB socket
    const char *events;            //  endpoint of the event PUSH socket
    const char *batch;             //  endpoint of the reader's batch PUSH socket, or NULL
    struct _zflow_hpfeeds_handoff_t *handoff; //  the publish hand-off (owned by the wrapper)
} zflow_hpfeeds_args_t;

//  Publish frames smaller than this go through the hand-off buffer.
#define S_PUB_BATCH (64 * 1024)

//  Direct writes: longest wait for the hand-off buffer to fill before the
//  actor takes it (only while the publisher keeps it busy: see below).
#define S_PUB_LINGER_MS 1

//  The publish hand-off: the wrapper encodes publish frames into data and
//  rings the actor (an empty frame on the publish PULL socket) when data
//  stops being empty; on the ring the actor swaps data for its own empty
//  buffer, so one hand-off carries every frame published since. Frames of
//  S_PUB_BATCH or more travel alone on the PULL socket, sent only while
//  data is empty and no ring is on its way, so the order is kept. At most
//  one ring is on its way (rung), but for the urgent one below.
//
//  Direct writes: while the connection is plain TCP, ready, and the
//  actor has nothing of its own to send (outbox and control frames
//  empty), the actor sets direct_fd and the publisher writes a full data
//  buffer to the socket itself (non-blocking, under the lock), which keeps
//  the actor's thread out of the data path. While the publisher is that
//  busy (it wrote a buffer itself between the actor's last two takes) the
//  actor answers a ring by waiting up to S_PUB_LINGER_MS for the buffer to
//  fill, then takes what is left; a slower publisher is answered at once,
//  so only a stream of more than S_PUB_BATCH bytes per S_PUB_LINGER_MS
//  waits, and then only its tail. A write the
//  socket does not finish turns direct_fd off: the rest stays in data
//  (head_sent bytes of its first frame are already on the wire) and an
//  urgent ring makes the actor take it at once into its outbox, which
//  keeps writing on POLLOUT. Before the actor writes or queues anything
//  itself it turns direct_fd off and takes data (zflow__hpfeeds_client_
//  direct_off), so the bytes on the wire stay whole frames in order.
typedef struct _zflow_hpfeeds_handoff_t {
    pthread_mutex_t lock;       //  guards the fields below but unread and pool
    pthread_cond_t taken;       //  signalled when the actor takes data (if waiting)
    uint8_t *data;              //  whole publish frames (S_PUB_BATCH bytes of room)
    size_t size;                //  bytes in data
    size_t count;               //  frames in data
    bool rung;                  //  a ring is on its way to the actor
    bool waiting;               //  the publisher waits on taken
    int direct_fd;              //  the socket the publisher may write to, or -1
    size_t head_sent;           //  bytes of data's first frame already written (direct)
    uint64_t direct_frames;     //  frames written whole by the publisher, not yet
                                //  counted by the actor (published and sent)
    uint64_t direct_writes;     //  direct writes made (the actor sees a busy publisher)
    uint64_t direct_stalls;     //  direct writes the socket did not take whole
    size_t large_pending;       //  frames sent alone on the PULL socket, not taken yet
                                //  (no direct write may pass them)
    atomic_size_t unread;       //  messages batched to the reader, not read yet (at most
                                //  2 * output_hwm, as a PUB and a SUB of output_hwm each)
    zflow_hpfeeds_pool_t *pool; //  blocks for the reader's batches (owned by the wrapper)
} zflow_hpfeeds_handoff_t;

//  The reader's hand-off: one ZeroMQ frame holds up to this many whole
//  hpfeeds publish frames (or bytes, past one frame) exactly as received;
//  the messages not yet read are counted (handoff->unread) and bounded.
#define S_BATCH_MSGS 256
#define S_BATCH_BYTES (64 * 1024)

//  Free batch blocks each client keeps (S_BATCH_BYTES each).
#define S_BATCH_POOL 16

//  The actor function (zactor_fn).
void zflow__hpfeeds_client_actor (zsock_t *pipe, void *args);

//  The actor's state, shared by zflow_hpfeeds_client.c (connection, TCP,
//  TLS, received frames) and zflow_hpfeeds_outbox.c (outbox, inputs,
//  commands, STATS).
//  Connection states.
typedef enum { S_IDLE, S_CONNECTING, S_HANDSHAKE, S_WAIT_INFO, S_READY } state_t;

typedef struct _client_t client_t;

//  A stream whose messages are published into a channel.
typedef struct {
    client_t *client;                        //  the client
    zflow_stream_t *stream;                  //  the stream (owned)
    char channel[ZFLOW_HPFEEDS_MAX_STR + 1]; //  target channel
    zflow_msg_t *msg;                        //  reusable message
} source_t;

struct _client_t {
    zflow_actor_t *base;              //  actor base
    zloop_t *loop;                    //  its loop
    zflow_hpfeeds_config_t cfg;       //  settings (strings owned below)
    char *host, *ident, *secret;      //  copies of the strings
    char source_name[300];            //  meta "src"
    state_t state;                    //  connection state
    int fd;                           //  TCP socket, or -1
    zflow_hpfeeds_tls_t *tls;         //  TLS context and session, or NULL (plain TCP)
    zflow_hpfeeds_buf_t *tls_retry;   //  TLS: buffer of a write to retry unchanged, or NULL
    short events;                     //  poll events registered on fd
    zflow_hpfeeds_buf_t in;           //  bytes read, not yet handled
    zflow_hpfeeds_buf_t ctl;          //  auth / subscribe frames to send
    zflow_hpfeeds_buf_t out;          //  the outbox: publish frames to send
    size_t frame_left;                //  unsent bytes of the outbox head frame (0: at start)
    zlistx_t *channels;               //  subscribed channel names (owned strings)
    zhash_t *refused_pub;             //  channels the broker refused us to publish to (set)
    zsock_t *input;                   //  PULL: rings and large publishes from the wrapper
    zflow_hpfeeds_handoff_t *handoff; //  the publish hand-off (owned by the wrapper)
    uint8_t *spare;                   //  the hand-off buffer the actor holds (owned)
    zsock_t *output;                  //  XPUB: received envelopes
    int output_topics;                //  topics subscribed on output (0: nobody listens)
    zsock_t *batch;                   //  PUSH: batches for the wrapper's reader, or NULL
    size_t run_bytes;                 //  publish frames at the head of in, being delivered
    size_t run_frames;                //  how many frames those are
    size_t run_data;                  //  their payload bytes
    size_t run_pub_offset;            //  bytes of the run already sent on output
    bool run_batched;                 //  the run went to the batch socket
    zsock_t *events_sock;             //  PUSH: events
    bool input_paused;                //  BLOCK: outbox full, input reader ended
    bool tcp_paused;                  //  lossless: output full, TCP reads stopped
    bool resuming;                    //  retrying after a pause (not a new pause)
    int pause_timer;                  //  retry timer while paused, or -1
    int timer_id;                     //  reconnect timer, or -1
    int backoff_ms;                   //  next reconnect delay before jitter
    bool refused;                     //  the broker sent an error on this connection
    bool settling;                    //  auth sent, publishes held for auth_wait_ms
    bool draining;                    //  the broker shuts down: finish the frame, then stop
    bool shut;                        //  draining: our sending side is closed (SHUT_WR)
    int drain_timer;                  //  draining: gives up on a broker that never closes, or -1
    int settle_timer;                 //  its timer, or -1
    int linger_timer;                 //  direct writes: takes the hand-off after a ring, or -1
    uint64_t direct_writes_seen;      //  handoff->direct_writes at the last take
    bool pub_busy;                    //  the publisher wrote directly since the take before
    int64_t connected_at;             //  when publishes began to flow (ms)
    char broker_name[ZFLOW_HPFEEDS_MAX_STR + 1]; //  name from the info frame
    zflow_meta_t *meta;                          //  meta of the last ident seen
    char meta_ident[ZFLOW_HPFEEDS_MAX_STR + 1];  //  that ident
    uint8_t meta_wire[ZFLOW_META_MAX_WIRE];      //  its encoding
    int meta_size;                               //  bytes in meta_wire (<= 0: none)
    zlistx_t *sources;                           //  source_t * (owned)
    uint64_t connects;                           //  connections that reached the established state
    uint64_t disconnects;                        //  established connections lost
    uint64_t published;                          //  publishes put in the outbox
    uint64_t sent;                               //  publish frames fully written to TCP
    uint64_t received;                           //  publish frames received
    uint64_t outbox_drops;                       //  publishes dropped by the outbox policy
    uint64_t inflight_lost;                      //  frames cut in the middle by a lost connection
    uint64_t inproc_drops;                       //  received messages the output could not take
    uint64_t tcp_pauses;                         //  times TCP reading paused (lossless)
    uint64_t broker_errors;                      //  error frames from the broker
    uint64_t broker_shutdowns;                   //  graceful broker shutdowns (drains) seen
    uint64_t protocol_errors;                    //  malformed or unexpected frames from the broker
    uint64_t events_dropped;                     //  events the user did not read in time
    uint64_t refused_drops;                      //  publishes to a refused channel, dropped
};

//  Bytes asked of the kernel per read.
#define S_READ_CHUNK (256 * 1024)

//  Sends an event (type, printf-style text) to the wrapper; counted in
//  events_dropped when the wrapper does not read them (zflow_hpfeeds_client.c).
void zflow__hpfeeds_client_event (client_t *self, int type, const char *format, ...);

//  Registers the TCP socket's poller for events (0: none).
void zflow__hpfeeds_client_poll (client_t *self, short events);

//  Closes the connection, says why in an event, plans the next attempt.
void zflow__hpfeeds_client_disconnect (client_t *self, const char *reason);

//  Handles the broker's info frame: auth, then every subscription.
void zflow__hpfeeds_client_on_info (client_t *self, const zflow_hpfeeds_frame_t *frame);

//  Reads what the socket or TLS session has and handles the frames:
//  publishes go to the reader's batches and the XPUB output, error and
//  info frames to their handlers (zflow_hpfeeds_client_recv.c).
void zflow__hpfeeds_client_read (client_t *self);

//  Reader of the XPUB output: subscriptions come and go
//  (zflow_hpfeeds_client_recv.c).
int zflow__hpfeeds_client_on_output_note (zloop_t *loop, zsock_t *reader, void *arg);

//  Writes what is pending if connected and adjusts the poll events; then
//  resumes inputs paused by BLOCK (zflow_hpfeeds_client.c).
void zflow__hpfeeds_client_flush (client_t *self);

//  Forgets channel for publishing: drops its frames from the outbox and
//  every later publish to it, counted in refused_drops
//  (zflow_hpfeeds_outbox.c).
void zflow__hpfeeds_client_refuse_pub (client_t *self, const char *channel);

//  Reader of the publish PULL socket (zflow_hpfeeds_outbox.c).
int zflow__hpfeeds_client_on_input (zloop_t *loop, zsock_t *reader, void *arg);

//  Turns direct writes off and takes what the publisher left in the
//  hand-off (a frame cut by a direct write first), before the actor
//  writes or queues anything itself (zflow_hpfeeds_outbox.c).
void zflow__hpfeeds_client_direct_off (client_t *self);

//  Turns direct writes on when the actor has nothing to send on a ready
//  plain TCP connection (zflow_hpfeeds_outbox.c).
void zflow__hpfeeds_client_direct_on (client_t *self);

//  Resumes the inputs BLOCK paused once the outbox has room.
void zflow__hpfeeds_client_pump (client_t *self);

//  Destroys a publish_from source.
void zflow__hpfeeds_client_source_destroy (source_t **source_p);

//  The actor's command and STATS handlers.
int zflow__hpfeeds_client_command (zflow_actor_t *base, const char *command, zmsg_t *request,
                                   void *arg);
void zflow__hpfeeds_client_stats (zflow_actor_t *base, zmsg_t *reply, void *arg);

#endif
