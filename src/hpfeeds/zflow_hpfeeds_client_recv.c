/*  =========================================================================
    zflow_hpfeeds_client_recv - the hpfeeds client actor's receive side

    Reads the TCP socket (or TLS session) and handles what the broker
    sends: runs of publish frames go whole to the wrapper's reader (one
    batch) and, while someone subscribes there, as envelopes to the XPUB
    output; when either is full in lossless mode TCP reading pauses and a
    1 ms timer retries. Error frames become events; the shutdown notice of
    a draining zflow broker starts the drain (zflow_hpfeeds_broker_drain).
    The connection's lifecycle is in zflow_hpfeeds_client.c.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_client.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_hpfeeds_tls.h"
#include "zflow_key.h"
#include <errno.h>

#define S_DRAIN_WAIT_MS 3000 //  longest wait for a draining broker to close

//  A broker that said it drains but did not close: give up on it.
static int s_on_drain_wait (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    client_t *self = (client_t *) arg;
    self->drain_timer = -1;
    if (self->draining)
        zflow__hpfeeds_client_disconnect (self, "the broker said it shuts down but did not close");
    return 0;
}

//  An error frame: tell the user; a refused subscription is forgotten.
static void s_on_error (client_t *self, const zflow_hpfeeds_frame_t *frame)
{
    char text[1024];
    snprintf (text, sizeof (text), "%.*s", (int) frame->data_size, (const char *) frame->data);
    if (streq (text, ZFLOW_HPFEEDS_SHUTDOWN_TEXT) && self->state == S_READY && !self->tls) {
        //  A draining zflow broker: finish the frame on the wire, close our
        //  sending side, read what we are owed until it closes; the rest of
        //  the outbox waits for the next connection, so nothing is lost.
        if (self->draining)
            return;                              //  said again: nothing new
        zflow__hpfeeds_client_direct_off (self); //  our writes only, from here
        self->draining = true;
        self->broker_shutdowns++;
        self->drain_timer = zloop_timer (self->loop, S_DRAIN_WAIT_MS, 1, s_on_drain_wait, self);
        zflow__hpfeeds_client_event (self, ZFLOW_HPFEEDS_EVENT_SHUTDOWN, "%s", text);
        zflow__hpfeeds_client_flush (self);
        return;
    }
    self->broker_errors++;
    self->refused = true;
    zflow__hpfeeds_client_event (self, ZFLOW_HPFEEDS_EVENT_ERROR, "%s", text);
    const char *chan = strstr (text, ", chan=");
    if (strncmp (text, "Authkey not allowed to sub here", 31) == 0 && chan) {
        for (char *channel = (char *) zlistx_first (self->channels); channel;
             channel = (char *) zlistx_next (self->channels))
            if (streq (channel, chan + 7)) {
                zlistx_delete (self->channels, zlistx_cursor (self->channels));
                break;
            }
    }
    //  A refused publish closes the connection and everything after it on
    //  the wire is lost: stop sending to that channel at all.
    if (strncmp (text, "Authkey not allowed to pub here", 31) == 0 && chan)
        zflow__hpfeeds_client_refuse_pub (self, chan + 7);
}

//  True when channel can be a key component (not empty, no 0x1F, no NUL).
static bool s_valid_channel (const zflow_hpfeeds_frame_t *frame)
{
    return frame->channel_size > 0 &&
           !memchr (frame->channel, ZFLOW_KEY_SEP, frame->channel_size) &&
           !memchr (frame->channel, 0, frame->channel_size);
}

//  Sends one received publish (with a valid channel) on the output as an
//  envelope. Returns 0, or -1 when the output is full (ZMQ EAGAIN).
static int s_deliver (client_t *self, const zflow_hpfeeds_frame_t *frame)
{
    uint8_t key[8 + ZFLOW_HPFEEDS_MAX_STR];
    memcpy (key, "hpfeeds\x1f", 8);
    memcpy (key + 8, frame->channel, frame->channel_size);
    if (self->meta_size <= 0 || strlen (self->meta_ident) != frame->name_size ||
        memcmp (self->meta_ident, frame->name, frame->name_size)) {
        memcpy (self->meta_ident, frame->name, frame->name_size);
        self->meta_ident[frame->name_size] = 0;
        zflow_meta_reset (self->meta);
        zflow_meta_set_source (self->meta, self->source_name);
        zflow_meta_set (self->meta, "ident", self->meta_ident);
        self->meta_size = zflow_meta_encode (self->meta, self->meta_wire, sizeof (self->meta_wire));
    }
    void *sock = zsock_resolve (self->output);
    if (zmq_send (sock, key, 8 + frame->channel_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    zmq_send (sock, self->meta_wire, (size_t) self->meta_size, ZMQ_SNDMORE);
    zmq_send (sock, frame->data, frame->data_size, 0);
    return 0;
}

static int s_on_output_retry (zloop_t *loop, int timer_id, void *arg);

//  Stops reading TCP until the output socket can take more. A PUB socket
//  always reports POLLOUT, so the retry is a short timer, not a poller.
static void s_pause_tcp (client_t *self)
{
    if (!self->resuming)
        self->tcp_pauses++;
    self->tcp_paused = true;
    zflow__hpfeeds_client_poll (self, (short) (self->events & ~ZMQ_POLLIN));
    if (self->pause_timer < 0)
        self->pause_timer = zloop_timer (self->loop, 1, 1, s_on_output_retry, self);
}

//  True while someone subscribes to the output (XPUB): reads the pending
//  (un)subscriptions first. Nobody listening: envelopes are not built.
static bool s_output_listened (client_t *self)
{
    void *sock = zsock_resolve (self->output);
    uint8_t note[1 + 8 + ZFLOW_HPFEEDS_MAX_STR];
    int size;
    while ((size = zmq_recv (sock, note, sizeof (note), ZMQ_DONTWAIT)) > 0)
        self->output_topics += note[0] == 1 ? 1 : note[0] == 0 ? -1 : 0;
    return self->output_topics > 0;
}

int zflow__hpfeeds_client_on_output_note (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    (void) reader;
    s_output_listened ((client_t *) arg);
    return 0;
}

//  Finds the run of publish frames with valid channels at the head of the
//  input (at most S_BATCH_MSGS frames or S_BATCH_BYTES, at least one). A
//  frame with the ident and channel of the one before it is checked by
//  its header and one compare (zflow__hpfeeds_same_publish), any other
//  is parsed in full and its channel checked.
static void s_scan_run (client_t *self)
{
    const uint8_t *head = zflow__hpfeeds_buf_head (&self->in);
    size_t size = zflow__hpfeeds_buf_size (&self->in), prefix_size = 0, overhead = 0;
    const uint8_t *prefix = NULL;
    zflow_hpfeeds_frame_t frame;
    while (self->run_frames < S_BATCH_MSGS) {
        const uint8_t *at = head + self->run_bytes;
        size_t left = size - self->run_bytes;
        size_t total = prefix ? zflow__hpfeeds_same_publish (at, left, prefix, prefix_size) : 0;
        if (total == 0) {
            if (zflow__hpfeeds_parse (at, left, &frame, NULL, 0) != 1 ||
                frame.op != ZFLOW_HPFEEDS_OP_PUBLISH || !s_valid_channel (&frame))
                break;
            total = frame.size;
            prefix = at + ZFLOW_HPFEEDS_HEADER;
            prefix_size = (size_t) (frame.data - prefix);
            overhead = ZFLOW_HPFEEDS_HEADER + prefix_size;
        }
        if (self->run_frames > 0 && self->run_bytes + total > S_BATCH_BYTES)
            break;
        self->run_bytes += total;
        self->run_frames++;
        self->run_data += total - overhead;
    }
}

//  A failed hand-off: lossless pauses TCP reads (returns -1, the run
//  stays), lossy counts count drops (returns 0).
static int s_output_full (client_t *self, size_t count)
{
    if (self->cfg.lossless) {
        s_pause_tcp (self);
        return -1;
    }
    self->inproc_drops += count;
    zflow_actor_counters (self->base)->drops += count;
    return 0;
}

//  Sends the run to the reader as one batch: in a block of the pool when
//  it fits one (the usual case), else copied by libzmq.
static int s_send_batch (client_t *self, const uint8_t *head, size_t size)
{
    void *sock = zsock_resolve (self->batch);
    zmq_msg_t batch;
    if (zflow__hpfeeds_pool_msg (self->handoff->pool, &batch, head, size))
        return zmq_send (sock, head, size, ZMQ_DONTWAIT);
    int rc = zmq_msg_send (&batch, sock, ZMQ_DONTWAIT);
    if (rc < 0)
        zmq_msg_close (&batch);
    return rc;
}

//  Hands the run to the reader as one batch and to the output subscribers
//  as envelopes, then consumes it. Returns 0, or -1 when paused.
static int s_deliver_run (client_t *self)
{
    const uint8_t *head = zflow__hpfeeds_buf_head (&self->in);
    if (self->batch && !self->run_batched) {
        //  counted first: the reader may take the batch before send returns
        atomic_size_t *unread = &self->handoff->unread;
        size_t before = atomic_fetch_add (unread, self->run_frames);
        if ((before && before + self->run_frames > 2 * (size_t) self->cfg.output_hwm) ||
            s_send_batch (self, head, self->run_bytes) < 0) {
            atomic_fetch_sub (unread, self->run_frames);
            if (s_output_full (self, self->run_frames))
                return -1;
        }
        self->run_batched = true;
    }
    if (s_output_listened (self))
        while (self->run_pub_offset < self->run_bytes) {
            zflow_hpfeeds_frame_t frame;
            zflow__hpfeeds_parse (head + self->run_pub_offset,
                                  self->run_bytes - self->run_pub_offset, &frame, NULL, 0);
            if (s_deliver (self, &frame) && s_output_full (self, 1))
                return -1;
            self->run_pub_offset += frame.size;
        }
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    counters->msgs_in += self->run_frames;
    counters->bytes_in += self->run_data;
    counters->msgs_out += self->run_frames;
    counters->bytes_out += self->run_data;
    self->received += self->run_frames;
    zflow__hpfeeds_buf_consume (&self->in, self->run_bytes);
    self->run_bytes = self->run_frames = self->run_data = self->run_pub_offset = 0;
    self->run_batched = false;
    return 0;
}

//  Handles the frames in the input buffer: runs of publish frames go out
//  together, any other frame one by one.
static void s_parse (client_t *self)
{
    zflow_hpfeeds_frame_t frame;
    char text[512];
    while (self->fd >= 0 && !self->tcp_paused) {
        if (self->state == S_READY && self->run_bytes == 0)
            s_scan_run (self);
        if (self->run_bytes) {
            if (s_deliver_run (self))
                break;
            continue;
        }
        int rc =
            zflow__hpfeeds_parse (zflow__hpfeeds_buf_head (&self->in),
                                  zflow__hpfeeds_buf_size (&self->in), &frame, text, sizeof (text));
        if (rc == 0)
            break;
        if (rc < 0) {
            self->protocol_errors++;
            zflow__hpfeeds_client_event (self, ZFLOW_HPFEEDS_EVENT_PROTOCOL, "from the broker: %s",
                                         text);
            zflow__hpfeeds_client_disconnect (self, text);
            return;
        }
        if (frame.op == ZFLOW_HPFEEDS_OP_PUBLISH && self->state == S_READY) {
            self->inproc_drops++; //  its channel is not a valid key component
            self->received++;
            zflow_actor_counters (self->base)->msgs_in++;
            zflow_actor_counters (self->base)->bytes_in += frame.data_size;
        } else if (frame.op == ZFLOW_HPFEEDS_OP_ERROR)
            s_on_error (self, &frame);
        else if (frame.op == ZFLOW_HPFEEDS_OP_INFO && self->state == S_WAIT_INFO)
            zflow__hpfeeds_client_on_info (self, &frame);
        else
            self->protocol_errors++; //  frames a broker does not send: skipped
        zflow__hpfeeds_buf_consume (&self->in, frame.size);
    }
}

static int s_on_output_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    client_t *self = (client_t *) arg;
    self->pause_timer = -1;
    if (!self->tcp_paused)
        return 0;
    self->tcp_paused = false;
    self->resuming = true;
    s_parse (self);
    self->resuming = false;
    if (self->fd >= 0 && !self->tcp_paused) {
        zflow__hpfeeds_client_poll (self, (short) (self->events | ZMQ_POLLIN));
        if (self->tls && zflow__hpfeeds_tls_pending (self->tls))
            zflow__hpfeeds_client_read (self);
    }
    return 0;
}

//  Reads what the socket (or the TLS session) has, then handles it.
void zflow__hpfeeds_client_read (client_t *self)
{
    ssize_t rc;
    do {
        if (self->tls) {
            uint8_t *dst = zflow__hpfeeds_buf_reserve (&self->in, 16384);
            rc = dst ? zflow__hpfeeds_tls_read (self->tls, dst, 16384) : -1;
            if (rc > 0)
                zflow__hpfeeds_buf_commit (&self->in, (size_t) rc);
            else if (!dst)
                errno = EAGAIN; //  full: parse first (a frame is never larger)
        } else
            rc = zflow__hpfeeds_buf_read_fd (&self->in, self->fd, S_READ_CHUNK);
    } while (rc > 0 && self->tls && zflow__hpfeeds_tls_pending (self->tls));
    if (rc == 0)
        zflow__hpfeeds_client_disconnect (self, self->draining
                                                    ? "the broker shut down (drained)"
                                                    : "the broker closed the connection");
    else if (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        char reason[128];
        snprintf (reason, sizeof (reason), "read: %s", strerror (errno));
        zflow__hpfeeds_client_disconnect (self, reason);
    } else
        s_parse (self);
    //  TLS may hold decrypted bytes that poll does not announce
    if (self->fd >= 0 && self->tls && !self->tcp_paused && zflow__hpfeeds_tls_pending (self->tls))
        zflow__hpfeeds_client_read (self);
}
