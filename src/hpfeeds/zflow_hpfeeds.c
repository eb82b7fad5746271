/*  =========================================================================
    zflow_hpfeeds - an hpfeeds client adapter: the public wrapper over the
    client actor (zflow_hpfeeds_client.c)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds.h"
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_client.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_meta.h"
#include "zflow_msg_internal.h"
#include "zflow_stream.h"
#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct _zflow_hpfeeds_t {
    zactor_t *actor;                  //  the client actor
    zsock_t *push;                    //  rings and large publishes to the actor (PUSH)
    zflow_hpfeeds_handoff_t *handoff; //  the publish hand-off buffer (shared with the actor)
    zsock_t *events;                  //  events from the actor (PULL)
    zsock_t *reader;                  //  PULL of the actor's batches, or NULL (reader = false)
    zmq_msg_t batch;                  //  the batch being handed out (whole publish frames)
    const uint8_t *batch_data;        //  its bytes (NULL: none)
    size_t batch_size;                //  its size
    size_t batch_offset;              //  bytes of it already handed out
    size_t batch_taken;               //  frames handed out, not yet taken off handoff->unread
    zflow_msg_t *env_msg;             //  the message the last envelope was built in (or NULL)
    zmq_msg_t *env_parts;             //  its parts array then
    const void *env_meta;             //  meta_data its meta part shared
    uint8_t *env_key;                 //  its key part's data
    size_t env_key_size;              //  its key part's size
    bool env_key_inline;              //  that data lives inside the part (small part)
    uint8_t *env_payload;             //  its payload part's data
    size_t env_payload_size;          //  its payload part's size
    bool env_payload_inline;          //  that data lives inside the part (small part)
    uint8_t env_bytes[3 * sizeof (zmq_msg_t)]; //  its three parts' bytes as the last read left
                                               //  them: compared, never used as messages
    size_t env_checked; //  how many are compared (the payload part's if small)
    int reader_timeout; //  receive timeout set on reader
    zflow_meta_t *meta; //  meta of the last ident read
    char meta_ident[ZFLOW_HPFEEDS_MAX_STR + 1]; //  that ident
    size_t meta_ident_size;                     //  its length
    zmq_msg_t meta_msg;    //  its encoding (shared by the envelopes, refcounted)
    bool meta_valid;       //  meta_msg holds the encoding of meta_ident
    const void *meta_data; //  zmq_msg_data (&meta_msg) while valid
    char source_name[300]; //  meta "src" (as the actor's)
    char *ident;           //  our ident (the wrapper encodes publish frames)
    size_t ident_size;     //  its length
    char input[64];        //  endpoint of the actor's PULL
    char output[64];       //  endpoint of the actor's XPUB
    char events_ep[64];    //  endpoint of the actor's event PUSH
    char batch_ep[64];     //  endpoint of the actor's batch PUSH
    int timeout_ms;        //  publish timeout
};

static atomic_uint s_instances;

void zflow_hpfeeds_config_init (zflow_hpfeeds_config_t *config)
{
    memset (config, 0, sizeof (*config));
    config->host = "127.0.0.1";
    config->backoff_min_ms = 100;
    config->backoff_max_ms = 5000;
    config->refused_backoff_ms = 5000;
    config->auth_wait_ms = 50;
    config->outbox_bytes = 4 * 1024 * 1024;
    config->outbox_policy = ZFLOW_HPFEEDS_DROP_OLDEST;
    config->publish_timeout_ms = -1;
    config->lossless = true;
    config->output_hwm = 10000;
    config->reader = true;
    config->tls_verify = true;
}

//  Creates the publish hand-off; returns 0 or -1.
static int s_handoff_new (zflow_hpfeeds_handoff_t **handoff_p)
{
    zflow_hpfeeds_handoff_t *handoff = (zflow_hpfeeds_handoff_t *) zmalloc (sizeof (*handoff));
    if (!handoff)
        return -1;
    *handoff_p = handoff;
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_mutex_init (&handoff->lock, NULL);
    pthread_cond_init (&handoff->taken, &attr);
    pthread_condattr_destroy (&attr);
    handoff->data = (uint8_t *) malloc (S_PUB_BATCH);
    handoff->direct_fd = -1;
    handoff->pool = zflow__hpfeeds_pool_new (S_BATCH_BYTES, S_BATCH_POOL);
    return handoff->data && handoff->pool ? 0 : -1;
}

static void s_handoff_destroy (zflow_hpfeeds_handoff_t **handoff_p)
{
    zflow_hpfeeds_handoff_t *handoff = *handoff_p;
    if (!handoff)
        return;
    pthread_mutex_destroy (&handoff->lock);
    pthread_cond_destroy (&handoff->taken);
    free (handoff->data);
    zflow__hpfeeds_pool_destroy (&handoff->pool); //  lives on while batches are out
    free (handoff);
    *handoff_p = NULL;
}

static int s_check (const zflow_hpfeeds_config_t *c)
{
    if (!c || !c->host || !*c->host || !c->ident || !*c->ident || !c->secret)
        return ZFLOW_EINVAL;
    if (strlen (c->ident) > ZFLOW_HPFEEDS_MAX_STR || strlen (c->host) > 255)
        return ZFLOW_EINVAL;
    if (c->port <= 0 || c->port > 65535 || c->backoff_min_ms <= 0 ||
        c->backoff_max_ms < c->backoff_min_ms || c->refused_backoff_ms < 0 || c->auth_wait_ms < 0 ||
        c->output_hwm <= 0)
        return ZFLOW_EINVAL;
    if (c->outbox_bytes < ZFLOW_HPFEEDS_MAX_FRAME + ZFLOW_HPFEEDS_MAX_FRAME / 10)
        return ZFLOW_EINVAL;
    if (c->outbox_policy != ZFLOW_HPFEEDS_DROP_OLDEST && c->outbox_policy != ZFLOW_HPFEEDS_BLOCK)
        return ZFLOW_EINVAL;
    return 0;
}

static zflow_hpfeeds_t *s_fail (zflow_hpfeeds_t **self_p, int code, int *err_p)
{
    if (err_p)
        *err_p = code;
    zflow_hpfeeds_destroy (self_p);
    return NULL;
}

zflow_hpfeeds_t *zflow_hpfeeds_new (const zflow_hpfeeds_config_t *config, int *err_p)
{
    int rc = s_check (config);
    if (rc)
        return s_fail (NULL, rc, err_p);
    zflow_hpfeeds_t *self = (zflow_hpfeeds_t *) zmalloc (sizeof (*self));
    if (!self)
        return s_fail (NULL, ZFLOW_ENOMEM, err_p);
    zmq_msg_init (&self->batch);
    zmq_msg_init (&self->meta_msg);
    self->ident = strdup (config->ident);
    self->ident_size = self->ident ? strlen (self->ident) : 0;
    if (!self->ident)
        return s_fail (&self, ZFLOW_ENOMEM, err_p);
    unsigned id = atomic_fetch_add (&s_instances, 1);
    snprintf (self->input, sizeof (self->input), "inproc://zflow-hpfeeds-%d-%u-in", getpid (), id);
    snprintf (self->output, sizeof (self->output), "inproc://zflow-hpfeeds-%d-%u", getpid (), id);
    snprintf (self->events_ep, sizeof (self->events_ep), "inproc://zflow-hpfeeds-%d-%u-events",
              getpid (), id);
    self->timeout_ms =
        config->outbox_policy == ZFLOW_HPFEEDS_BLOCK ? config->publish_timeout_ms : -1;
    if (s_handoff_new (&self->handoff))
        return s_fail (&self, ZFLOW_ENOMEM, err_p);
    //  Our ends exist before the actor starts, so no early event or
    //  message is lost (inproc allows connect before bind).
    self->push = zsock_new (ZMQ_PUSH);
    self->events = zsock_new (ZMQ_PULL);
    if (!self->push || !self->events || zsock_bind (self->events, "%s", self->events_ep) ||
        zsock_connect (self->push, "%s", self->input))
        return s_fail (&self, ZFLOW_ENOMEM, err_p);
    zsock_set_sndhwm (self->push, S_INPUT_HWM);
    zsock_set_sndtimeo (self->push, self->timeout_ms);
    if (config->reader) {
        //  The actor hands the reader batches of received frames; at most
        //  2 * output_hwm messages wait (handoff->unread).
        snprintf (self->batch_ep, sizeof (self->batch_ep), "inproc://zflow-hpfeeds-%d-%u-batch",
                  getpid (), id);
        snprintf (self->source_name, sizeof (self->source_name), "hpfeeds://%.200s:%d",
                  config->host, config->port);
        self->reader = zsock_new (ZMQ_PULL);
        self->meta = zflow_meta_new ();
        if (!self->reader || !self->meta)
            return s_fail (&self, ZFLOW_ENOMEM, err_p);
        zsock_set_rcvhwm (self->reader, config->output_hwm);
        self->reader_timeout = -1;
        if (zsock_connect (self->reader, "%s", self->batch_ep))
            return s_fail (&self, ZFLOW_ENOMEM, err_p);
    }
    zflow_hpfeeds_args_t args = {*config,
                                 self->input,
                                 self->output,
                                 self->events_ep,
                                 self->reader ? self->batch_ep : NULL,
                                 self->handoff};
    self->actor = zflow_actor_start (zflow__hpfeeds_client_actor, &args);
    if (!self->actor)
        return s_fail (&self, config->tls ? ZFLOW_ECONFIG : ZFLOW_ENOMEM, err_p);
    return self;
}

void zflow_hpfeeds_destroy (zflow_hpfeeds_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hpfeeds_t *self = *self_p;
    zsock_destroy (&self->reader);
    zmq_msg_close (&self->batch);
    zmq_msg_close (&self->meta_msg);
    zflow_meta_destroy (&self->meta);
    zsock_destroy (&self->push);
    zsock_destroy (&self->events);
    zactor_destroy (&self->actor);
    s_handoff_destroy (&self->handoff);
    free (self->ident);
    free (self);
    *self_p = NULL;
}

//  With the hand-off locked: waits until it has room for need more bytes
//  (S_PUB_BATCH: until it is empty), up to the publish timeout. Returns 0
//  or ZFLOW_ETIMEDOUT.
static int s_wait_room (zflow_hpfeeds_t *self, size_t need)
{
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    if (handoff->size + need <= S_PUB_BATCH)
        return 0; //  the common case: no clock read
    struct timespec deadline;
    if (self->timeout_ms >= 0) {
        clock_gettime (CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += self->timeout_ms / 1000;
        deadline.tv_nsec += (long) (self->timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    while (handoff->size + need > S_PUB_BATCH && rc == 0) {
        handoff->waiting = true;
        rc = self->timeout_ms < 0
                 ? pthread_cond_wait (&handoff->taken, &handoff->lock)
                 : pthread_cond_timedwait (&handoff->taken, &handoff->lock, &deadline);
    }
    handoff->waiting = false;
    return handoff->size + need > S_PUB_BATCH ? ZFLOW_ETIMEDOUT : 0;
}

//  Sends one ZeroMQ frame (a ring when size is 0) to the actor.
static int s_send (zflow_hpfeeds_t *self, zmq_msg_t *frame)
{
    if (zmq_msg_send (frame, zsock_resolve (self->push), 0) < 0) {
        int error = zmq_errno ();
        zmq_msg_close (frame);
        return error == EAGAIN ? ZFLOW_ETIMEDOUT : ZFLOW_ECLOSED;
    }
    return 0;
}

//  With the hand-off locked and direct writes on: writes the full buffer
//  to the socket (see zflow_hpfeeds_handoff.h). Returns true when the
//  socket did not take it all: direct writes are then off, the rest stays
//  (head_sent bytes of its first frame written), and the actor must be
//  rung at once to take it.
static bool s_direct_write (zflow_hpfeeds_handoff_t *handoff)
{
    size_t written = 0;
    handoff->direct_writes++;
    while (written < handoff->size) {
        ssize_t rc = send (handoff->direct_fd, handoff->data + written, handoff->size - written,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (rc > 0)
            written += (size_t) rc;
        else if (rc < 0 && errno == EINTR)
            continue;
        else
            break; //  full, or broken: the actor sees which on its own poll
    }
    //  whole frames written are done; a cut one stays, with what was sent
    size_t done = 0, frames = 0;
    while (done < handoff->size &&
           written - done >= zflow__hpfeeds_frame_size (handoff->data + done)) {
        done += zflow__hpfeeds_frame_size (handoff->data + done);
        frames++;
    }
    handoff->direct_frames += frames;
    handoff->count -= frames;
    handoff->size -= done;
    if (handoff->size == 0)
        return false;
    memmove (handoff->data, handoff->data + done, handoff->size);
    handoff->head_sent = written - done;
    handoff->direct_stalls++;
    handoff->direct_fd = -1;
    return true;
}

//  A large frame travels alone once the hand-off is empty (order kept);
//  no direct write may pass it before the actor has taken it.
static int s_publish_large (zflow_hpfeeds_t *self, const char *channel, size_t channel_size,
                            const void *payload, size_t size, size_t total)
{
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    zmq_msg_t frame;
    if (zmq_msg_init_size (&frame, total))
        return ZFLOW_ENOMEM;
    zflow__hpfeeds_encode_publish ((uint8_t *) zmq_msg_data (&frame), self->ident, self->ident_size,
                                   channel, channel_size, payload, size);
    pthread_mutex_lock (&handoff->lock);
    int rc = s_wait_room (self, S_PUB_BATCH);
    if (rc == 0) {
        handoff->direct_fd = -1;
        handoff->large_pending++;
    }
    pthread_mutex_unlock (&handoff->lock);
    if (rc) {
        zmq_msg_close (&frame);
        return rc;
    }
    if ((rc = s_send (self, &frame))) { //  s_send closed the frame
        pthread_mutex_lock (&handoff->lock);
        handoff->large_pending--;
        pthread_mutex_unlock (&handoff->lock);
    }
    return rc;
}

//  Rings the actor. Returns 0 or s_send's error.
static int s_ring (zflow_hpfeeds_t *self)
{
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    return s_send (self, &frame);
}

int zflow_hpfeeds_publish (zflow_hpfeeds_t *self, const char *channel, const void *payload,
                           size_t size)
{
    if (!self || !channel || (!payload && size))
        return ZFLOW_EINVAL;
    //  The hpfeeds frame is encoded here, in the caller's thread, into the
    //  hand-off buffer the actor takes whole (see zflow_hpfeeds_handoff.h).
    size_t channel_size = strlen (channel), ident_size = self->ident_size;
    long total = zflow__hpfeeds_publish_size (ident_size, channel_size, size);
    if (total < 0)
        return ZFLOW_ETOOBIG;
    if ((size_t) total >= S_PUB_BATCH)
        return s_publish_large (self, channel, channel_size, payload, size, (size_t) total);
    zflow_hpfeeds_handoff_t *handoff = self->handoff;
    pthread_mutex_lock (&handoff->lock);
    if (handoff->size + (size_t) total > S_PUB_BATCH && handoff->direct_fd >= 0 &&
        s_direct_write (handoff)) {
        //  the socket is full: the actor takes over (an urgent ring; one
        //  that cannot be sent leaves it to the ring already on its way)
        pthread_mutex_unlock (&handoff->lock);
        s_ring (self);
        pthread_mutex_lock (&handoff->lock);
    }
    int rc = handoff->size + (size_t) total <= S_PUB_BATCH ? 0 : s_wait_room (self, (size_t) total);
    if (rc) {
        pthread_mutex_unlock (&handoff->lock);
        return rc;
    }
    zflow__hpfeeds_encode_publish (handoff->data + handoff->size, self->ident, ident_size, channel,
                                   channel_size, payload, size);
    handoff->size += (size_t) total;
    handoff->count++;
    bool ring = !handoff->rung;
    handoff->rung = true;
    pthread_mutex_unlock (&handoff->lock);
    if (!ring)
        return 0;
    //  The actor takes nothing before the ring, so a ring that cannot be
    //  sent takes this frame back (it is the only one: the buffer was
    //  empty when no ring was on its way).
    if ((rc = s_ring (self))) {
        pthread_mutex_lock (&handoff->lock);
        handoff->size -= (size_t) total;
        handoff->count--;
        handoff->rung = false;
        pthread_mutex_unlock (&handoff->lock);
    }
    return rc;
}

static int s_command (zflow_hpfeeds_t *self, const char *command, const char *channel)
{
    if (!self || !channel || !*channel)
        return ZFLOW_EINVAL;
    if (strlen (channel) > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_ETOOBIG;
    int rc = ZFLOW_ECLOSED;
    if (zsock_send (self->actor, "ss", command, channel) || zsock_recv (self->actor, "i", &rc))
        return ZFLOW_ECLOSED;
    return rc;
}

int zflow_hpfeeds_subscribe (zflow_hpfeeds_t *self, const char *channel)
{
    return s_command (self, "SUBSCRIBE", channel);
}

int zflow_hpfeeds_unsubscribe (zflow_hpfeeds_t *self, const char *channel)
{
    return s_command (self, "UNSUBSCRIBE", channel);
}

//  memcmp (a, b, size) == 0 for the short strings of hpfeeds (idents are
//  a few bytes), without a call per message.
static inline bool s_same (const uint8_t *a, const uint8_t *b, size_t size)
{
    for (; size >= 8; a += 8, b += 8, size -= 8) {
        uint64_t x, y;
        memcpy (&x, a, 8);
        memcpy (&y, b, 8);
        if (x != y)
            return false;
    }
    for (; size; size--)
        if (*a++ != *b++)
            return false;
    return true;
}

//  Encodes the meta part for the frame's ident (the meta is encoded once
//  per ident and shared by the envelopes, refcounted). Returns 0 or
//  ZFLOW_ENOMEM. Out of line: s_meta_current calls it for a new ident only.
__attribute__ ((noinline)) static int s_meta_update (zflow_hpfeeds_t *self,
                                                     const zflow_hpfeeds_frame_t *frame)
{
    uint8_t wire[ZFLOW_META_MAX_WIRE];
    memcpy (self->meta_ident, frame->name, frame->name_size);
    self->meta_ident[frame->name_size] = 0;
    self->meta_ident_size = frame->name_size;
    zflow_meta_reset (self->meta);
    zflow_meta_set_source (self->meta, self->source_name);
    zflow_meta_set (self->meta, "ident", self->meta_ident);
    int size = zflow_meta_encode (self->meta, wire, sizeof (wire));
    zmq_msg_close (&self->meta_msg);
    self->meta_valid = size > 0 && zmq_msg_init_size (&self->meta_msg, (size_t) size) == 0;
    if (!self->meta_valid) {
        zmq_msg_init (&self->meta_msg);
        return ZFLOW_ENOMEM;
    }
    memcpy (zmq_msg_data (&self->meta_msg), wire, (size_t) size);
    self->meta_data = zmq_msg_data (&self->meta_msg);
    return 0;
}

//  Makes the meta part's encoding current for the frame's ident. Returns 0
//  or ZFLOW_ENOMEM.
static inline int s_meta_current (zflow_hpfeeds_t *self, const zflow_hpfeeds_frame_t *frame)
{
    if (self->meta_valid && self->meta_ident_size == frame->name_size &&
        s_same ((const uint8_t *) self->meta_ident, frame->name, frame->name_size))
        return 0;
    return s_meta_update (self, frame);
}

//  True when data lies inside part itself: libzmq keeps small parts (up
//  to 33 bytes on 64-bit) in the zmq_msg_t, with no buffer of their own.
static bool s_inline (const zmq_msg_t *part, const void *data)
{
    uintptr_t at = (uintptr_t) data, start = (uintptr_t) part;
    return at >= start && at < start + sizeof (zmq_msg_t);
}

//  True when part's buffer is data, of size bytes, and nobody shares it
//  (zmq_msg_copy), so it may be overwritten.
static bool s_own_buffer (zmq_msg_t *part, const void *data, size_t size)
{
    return zmq_msg_data (part) == data && zmq_msg_size (part) == size &&
           !zmq_msg_get (part, ZMQ_SHARED);
}

//  Remembers the envelope just built or refilled in msg.
static void s_envelope_keep (zflow_hpfeeds_t *self, zflow_msg_t *msg)
{
    self->env_msg = msg;
    self->env_parts = msg->parts;
    self->env_meta = self->meta_data;
    self->env_checked = (self->env_payload_inline ? 3 : 2) * sizeof (zmq_msg_t);
    memcpy (self->env_bytes, msg->parts, self->env_checked);
}

//  Refills the envelope the last read built in msg, in place, when the
//  reader hands the same message back: no part is freed or allocated
//  when the key and payload sizes repeat, which is the common case of a
//  read loop. Returns true if done.
//  The parts are checked by their bytes first: any close, move, receive
//  or zmq_msg_copy (which marks its source shared) changes them, so equal
//  bytes mean a small part still holds our data inside it and the meta
//  part still shares meta_msg (alive: we hold it). A part with a buffer
//  of its own is asked besides: closed and made again, it could get a
//  buffer at the same address.
static bool s_envelope_again (zflow_hpfeeds_t *self, const zflow_hpfeeds_frame_t *frame,
                              zflow_msg_t *msg)
{
    if (msg != self->env_msg || msg->count != 3 || msg->parts != self->env_parts ||
        self->env_meta != self->meta_data || self->env_key_size != 8 + frame->channel_size ||
        memcmp (msg->parts, self->env_bytes, self->env_checked))
        return false;
    if (!self->env_key_inline && !s_own_buffer (&msg->parts[0], self->env_key, self->env_key_size))
        return false;
    zmq_msg_t *part = &msg->parts[2];
    if (self->env_payload_size != frame->data_size ||
        !(self->env_payload_inline ||
          s_own_buffer (part, self->env_payload, self->env_payload_size))) {
        //  another size, or a buffer no longer ours alone (copied or
        //  replaced): a new payload part in place of the old
        zmq_msg_close (part);
        if (zmq_msg_init_size (part, frame->data_size)) {
            zmq_msg_init (part);
            return false;
        }
        self->env_payload = (uint8_t *) zmq_msg_data (part);
        self->env_payload_size = frame->data_size;
        self->env_payload_inline = s_inline (part, self->env_payload);
    }
    memcpy (self->env_key + 8, frame->channel, frame->channel_size);
    if (frame->data_size)
        memcpy (self->env_payload, frame->data, frame->data_size);
    s_envelope_keep (self, msg);
    return true;
}

//  Builds the envelope of a publish frame in msg: key ("hpfeeds", channel),
//  the meta of its ident, the payload.
static int s_envelope (zflow_hpfeeds_t *self, const zflow_hpfeeds_frame_t *frame, zflow_msg_t *msg)
{
    if (s_meta_current (self, frame))
        return ZFLOW_ENOMEM;
    if (s_envelope_again (self, frame, msg))
        return 0;
    zflow_msg_reset (msg);
    self->env_msg = NULL;
    zmq_msg_t meta;
    zmq_msg_init (&meta);
    zmq_msg_copy (&meta, &self->meta_msg);
    uint8_t *key = (uint8_t *) zflow_msg_add_empty (msg, 8 + frame->channel_size);
    int rc = key ? zflow_msg_add_zmq (msg, &meta) : ZFLOW_ENOMEM;
    zmq_msg_close (&meta);
    if (rc || zflow_msg_add (msg, frame->data, frame->data_size)) {
        zflow_msg_reset (msg);
        return ZFLOW_ENOMEM;
    }
    memcpy (key, "hpfeeds\x1f", 8);
    memcpy (key + 8, frame->channel, frame->channel_size);
    self->env_key = key;
    self->env_key_size = 8 + frame->channel_size;
    self->env_key_inline = s_inline (&msg->parts[0], key);
    self->env_payload = (uint8_t *) zmq_msg_data (&msg->parts[2]);
    self->env_payload_size = frame->data_size;
    self->env_payload_inline = s_inline (&msg->parts[2], self->env_payload);
    s_envelope_keep (self, msg);
    return 0;
}

//  Splits a publish frame of a batch: the actor checked it already
//  (zflow__hpfeeds_parse), so only its bounds are checked again here.
//  Returns 0, or -1 when it does not fit in size bytes.
static int s_decode (const uint8_t *data, size_t size, zflow_hpfeeds_frame_t *frame)
{
    if (size < 7)
        return -1;
    size_t total = zflow__hpfeeds_frame_size (data);
    size_t name_size = data[5];
    if (total > size || total < 7 + name_size || total < 7 + name_size + data[6 + name_size])
        return -1;
    frame->op = data[4];
    frame->size = (uint32_t) total;
    frame->name = data + 6;
    frame->name_size = name_size;
    frame->channel_size = data[6 + name_size];
    frame->channel = data + 7 + name_size;
    frame->data = frame->channel + frame->channel_size;
    frame->data_size = total - 7 - name_size - frame->channel_size;
    return 0;
}

//  Takes the next frame of the current batch, or waits for the next batch
//  (the actor sends whole publish frames with valid channels only).
static int s_next_frame (zflow_hpfeeds_t *self, zflow_hpfeeds_frame_t *frame, int timeout_ms)
{
    if (!self->reader)
        return ZFLOW_ENOTSUP;
    for (;;) {
        if (self->batch_offset < self->batch_size) {
            const uint8_t *data = self->batch_data + self->batch_offset;
            if (s_decode (data, self->batch_size - self->batch_offset, frame)) {
                self->batch_offset = self->batch_size; //  cannot happen
                continue;
            }
            self->batch_offset += frame->size;
            self->batch_taken++;
            return 0;
        }
        //  one atomic per batch, not per message: unread stays a bound
        if (self->batch_taken) {
            atomic_fetch_sub (&self->handoff->unread, self->batch_taken);
            self->batch_taken = 0;
        }
        if (timeout_ms != self->reader_timeout) {
            zsock_set_rcvtimeo (self->reader, timeout_ms);
            self->reader_timeout = timeout_ms;
        }
        self->batch_offset = self->batch_size = 0;
        if (zmq_msg_recv (&self->batch, zsock_resolve (self->reader), 0) >= 0) {
            self->batch_data = (const uint8_t *) zmq_msg_data (&self->batch);
            self->batch_size = zmq_msg_size (&self->batch);
            continue;
        }
        int error = zmq_errno ();
        zmq_msg_close (&self->batch);
        zmq_msg_init (&self->batch);
        if (error == EINTR)
            continue;
        if (error == EAGAIN)
            return timeout_ms == 0 ? ZFLOW_EAGAIN : ZFLOW_ETIMEDOUT;
        return ZFLOW_ECLOSED;
    }
}

int zflow_hpfeeds_read (zflow_hpfeeds_t *self, zflow_msg_t *msg, int timeout_ms)
{
    if (!self || !msg)
        return ZFLOW_EINVAL;
    zflow_hpfeeds_frame_t frame;
    int rc = s_next_frame (self, &frame, timeout_ms);
    return rc ? rc : s_envelope (self, &frame, msg);
}

int zflow_hpfeeds_recv (zflow_hpfeeds_t *self, zflow_hpfeeds_message_t *message, int timeout_ms)
{
    if (!self || !message)
        return ZFLOW_EINVAL;
    zflow_hpfeeds_frame_t frame;
    int rc = s_next_frame (self, &frame, timeout_ms);
    if (rc == 0) {
        message->channel = (const char *) frame.channel;
        message->channel_size = frame.channel_size;
        message->ident = (const char *) frame.name;
        message->ident_size = frame.name_size;
        message->payload = frame.data;
        message->size = frame.data_size;
    }
    return rc;
}

int zflow_hpfeeds_unpack (const zflow_msg_t *msg, char *channel, char *ident,
                          const void **payload_p, size_t *size_p)
{
    size_t key_size = 0;
    const char *key = msg ? (const char *) zflow_envelope_key (msg, &key_size) : NULL;
    if (!key || key_size < 9 || key_size > 8 + ZFLOW_HPFEEDS_MAX_STR ||
        memcmp (key, "hpfeeds\x1f", 8) || zflow_msg_size (msg) < 3)
        return ZFLOW_EPROTO;
    if (ident) {
        zflow_meta_t *meta = zflow_meta_new ();
        int rc =
            meta ? zflow_meta_decode (meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1))
                 : ZFLOW_ENOMEM;
        const char *value = rc == 0 ? zflow_meta_get (meta, "ident") : NULL;
        snprintf (ident, ZFLOW_HPFEEDS_MAX_STR + 1, "%s", value ? value : "");
        zflow_meta_destroy (&meta);
        if (!value)
            return ZFLOW_EPROTO;
    }
    if (channel) {
        memcpy (channel, key + 8, key_size - 8);
        channel[key_size - 8] = 0;
    }
    if (payload_p)
        *payload_p = zflow_envelope_payload (msg, size_p);
    return 0;
}

const char *zflow_hpfeeds_endpoint (zflow_hpfeeds_t *self)
{
    return self ? self->output : NULL;
}

char *zflow_hpfeeds_event (zflow_hpfeeds_t *self, int *type_p, int timeout_ms)
{
    if (!self)
        return NULL;
    zsock_set_rcvtimeo (self->events, timeout_ms);
    char *type = NULL, *text = NULL;
    if (zsock_recv (self->events, "ss", &type, &text)) {
        zstr_free (&type);
        return NULL;
    }
    if (type_p)
        *type_p = type ? atoi (type) : 0;
    zstr_free (&type);
    return text;
}

int zflow_hpfeeds_publish_from (zflow_hpfeeds_t *self, int socktype, const char *endpoint,
                                const char *subscribe, const char *channel)
{
    if (!self || !endpoint || !channel || !*channel)
        return ZFLOW_EINVAL;
    if (strlen (channel) > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_ETOOBIG;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "PUBLISH FROM");
    zmsg_addstrf (request, "%d", socktype);
    zmsg_addstr (request, endpoint);
    zmsg_addstr (request, subscribe ? subscribe : "");
    zmsg_addstr (request, channel);
    int rc = ZFLOW_ECLOSED;
    if (zmsg_send (&request, self->actor) || zsock_recv (self->actor, "i", &rc))
        return ZFLOW_ECLOSED;
    return rc;
}

bool zflow_hpfeeds_connected (zflow_hpfeeds_t *self)
{
    int connected = 0;
    if (!self || zstr_send (self->actor, "STATUS") || zsock_recv (self->actor, "i", &connected))
        return false;
    return connected != 0;
}

zhash_t *zflow_hpfeeds_stats (zflow_hpfeeds_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_hpfeeds_set_verbose (zflow_hpfeeds_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}

zactor_t *zflow_hpfeeds_actor (zflow_hpfeeds_t *self)
{
    return self ? self->actor : NULL;
}
