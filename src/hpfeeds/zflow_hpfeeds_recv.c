/*  =========================================================================
    zflow_hpfeeds_recv - the hpfeeds client's receive codec (see
    zflow_hpfeeds_recv.h): runs of publish frames to the reader's batches
    and the XPUB output

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_recv.h"
#include "zflow_key.h"

//  Room past the largest frame in the input buffer: the connection asks
//  the kernel for up to this many bytes per read (zflow_hpfeeds_conn.c).
#define S_READ_CHUNK (256 * 1024)

static int s_on_output_note (zloop_t *loop, zsock_t *reader, void *arg);

zflow_hpfeeds_recv_t *zflow__hpfeeds_recv_new (const zflow_hpfeeds_config_t *config, zloop_t *loop,
                                               zflow_actor_counters_t *counters, const char *output,
                                               const char *batch, zflow_hpfeeds_handoff_t *handoff)
{
    zflow_hpfeeds_recv_t *self = (zflow_hpfeeds_recv_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    self->counters = counters;
    self->loop = loop;
    self->handoff = handoff;
    self->unread_limit = 2 * (size_t) config->output_hwm;
    self->lossless = config->lossless;
    snprintf (self->source_name, sizeof (self->source_name), "hpfeeds://%.200s:%d", config->host,
              config->port);
    zflow__hpfeeds_buf_init (&self->in, ZFLOW_HPFEEDS_MAX_FRAME + S_READ_CHUNK);
    self->meta = zflow_meta_new ();
    self->output = zsock_new (ZMQ_XPUB);
    if (!self->meta || !self->output)
        goto failed;
    int nodrop = 1;
    zsock_set_sndhwm (self->output, config->output_hwm);
    zmq_setsockopt (zsock_resolve (self->output), ZMQ_XPUB_NODROP, &nodrop, sizeof (nodrop));
    if (zsock_bind (self->output, "%s", output))
        goto failed;
    if (batch) {
        self->batch = zsock_new (ZMQ_PUSH);
        //  handoff->unread bounds the messages; a batch holds at least one
        if (!self->batch || (zsock_set_sndhwm (self->batch, config->output_hwm), 0) ||
            zsock_bind (self->batch, "%s", batch))
            goto failed;
    }
    zloop_reader (loop, self->output, s_on_output_note, self);
    return self;
failed:
    zflow__hpfeeds_recv_destroy (&self);
    return NULL;
}

void zflow__hpfeeds_recv_destroy (zflow_hpfeeds_recv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hpfeeds_recv_t *self = *self_p;
    if (self->output)
        zloop_reader_end (self->loop, self->output);
    zsock_destroy (&self->output);
    zsock_destroy (&self->batch);
    zflow_meta_destroy (&self->meta);
    zflow__hpfeeds_buf_free (&self->in);
    free (self);
    *self_p = NULL;
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
static int s_deliver (zflow_hpfeeds_recv_t *self, const zflow_hpfeeds_frame_t *frame)
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

//  True while someone subscribes to the output (XPUB): reads the pending
//  (un)subscriptions first. Nobody listening: envelopes are not built.
static bool s_output_listened (zflow_hpfeeds_recv_t *self)
{
    void *sock = zsock_resolve (self->output);
    uint8_t note[1 + 8 + ZFLOW_HPFEEDS_MAX_STR];
    int size;
    while ((size = zmq_recv (sock, note, sizeof (note), ZMQ_DONTWAIT)) > 0)
        self->output_topics += note[0] == 1 ? 1 : note[0] == 0 ? -1 : 0;
    return self->output_topics > 0;
}

//  Reader of the XPUB output: subscriptions come and go.
static int s_on_output_note (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    (void) reader;
    s_output_listened ((zflow_hpfeeds_recv_t *) arg);
    return 0;
}

//  Finds the run of publish frames with valid channels at the head of the
//  input (at most S_BATCH_MSGS frames, the unread bound or S_BATCH_BYTES,
//  at least one). A
//  frame with the ident and channel of the one before it is checked by
//  its header and one compare (zflow__hpfeeds_same_publish), any other
//  is parsed in full and its channel checked.
static void s_scan_run (zflow_hpfeeds_recv_t *self)
{
    const uint8_t *head = zflow__hpfeeds_buf_head (&self->in);
    size_t size = zflow__hpfeeds_buf_size (&self->in), prefix_size = 0, overhead = 0;
    const uint8_t *prefix = NULL;
    zflow_hpfeeds_frame_t frame;
    //  a batch never holds more than the unread bound by itself
    size_t most =
        self->unread_limit && self->unread_limit < S_BATCH_MSGS ? self->unread_limit : S_BATCH_MSGS;
    while (self->run_frames < most) {
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

//  A failed hand-off: lossless returns -1 (the run stays, the caller
//  stops reading), lossy counts count drops and returns 0.
static int s_output_full (zflow_hpfeeds_recv_t *self, size_t count)
{
    if (self->lossless)
        return -1;
    self->inproc_drops += count;
    self->counters->drops += count;
    return 0;
}

//  Sends the run to the reader as one batch: in a block of the pool when
//  it fits one (the usual case), else copied by libzmq.
static int s_send_batch (zflow_hpfeeds_recv_t *self, const uint8_t *head, size_t size)
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
//  as envelopes, then consumes it. Returns 0, or -1 when an output is full
//  (lossless).
static int s_deliver_run (zflow_hpfeeds_recv_t *self)
{
    const uint8_t *head = zflow__hpfeeds_buf_head (&self->in);
    if (self->batch && !self->run_batched) {
        //  counted first: the reader may take the batch before send returns
        atomic_size_t *unread = &self->handoff->unread;
        size_t before = atomic_fetch_add (unread, self->run_frames);
        if ((before && before + self->run_frames > self->unread_limit) ||
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
    zflow_actor_counters_t *counters = self->counters;
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

zflow_hpfeeds_recv_result_t zflow__hpfeeds_recv_next (zflow_hpfeeds_recv_t *self, bool publishes,
                                                      zflow_hpfeeds_frame_t *frame, char *text,
                                                      size_t textlen)
{
    for (;;) {
        if (publishes && self->run_bytes == 0)
            s_scan_run (self);
        if (self->run_bytes) {
            if (s_deliver_run (self))
                return ZFLOW_HPFEEDS_RECV_FULL;
            continue;
        }
        int rc = zflow__hpfeeds_parse (zflow__hpfeeds_buf_head (&self->in),
                                       zflow__hpfeeds_buf_size (&self->in), frame, text, textlen);
        if (rc == 0)
            return ZFLOW_HPFEEDS_RECV_MORE;
        if (rc < 0)
            return ZFLOW_HPFEEDS_RECV_BAD;
        if (frame->op != ZFLOW_HPFEEDS_OP_PUBLISH || !publishes)
            return ZFLOW_HPFEEDS_RECV_FRAME;
        self->inproc_drops++; //  its channel is not a valid key component
        self->received++;
        self->counters->msgs_in++;
        self->counters->bytes_in += frame->data_size;
        zflow__hpfeeds_buf_consume (&self->in, frame->size);
    }
}

void zflow__hpfeeds_recv_consume (zflow_hpfeeds_recv_t *self, size_t size)
{
    zflow__hpfeeds_buf_consume (&self->in, size);
}

void zflow__hpfeeds_recv_reset (zflow_hpfeeds_recv_t *self)
{
    self->in.head = self->in.tail = 0;
    //  a run paused half-way was received (the reader has it)
    if (self->run_batched || self->run_pub_offset)
        self->received += self->run_frames;
    self->run_bytes = self->run_frames = self->run_data = self->run_pub_offset = 0;
    self->run_batched = false;
}
