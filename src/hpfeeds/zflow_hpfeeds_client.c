/*  =========================================================================
    zflow_hpfeeds_client - the hpfeeds client actor: joins the connection,
    the receive codec and the outbox on one loop; commands, STATS, events
    and the publish_from streams

    One zloop holds: the pipe, the outbox's publish PULL socket, the
    codec's XPUB output (subscriptions come and go), the connection's
    poller on its socket (POLLIN, plus POLLOUT while bytes wait) and its
    timers, a 1 ms retry timer while reading is paused, and the streams of
    publish_from.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_client.h"
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_conn.h"
#include "zflow_hpfeeds_outbox.h"
#include "zflow_hpfeeds_recv.h"
#include "zflow_stream.h"

typedef struct _client_t client_t;

//  A stream whose messages are published into a channel.
typedef struct {
    client_t *client;                        //  the client
    zflow_stream_t *stream;                  //  the stream (owned)
    char channel[ZFLOW_HPFEEDS_MAX_STR + 1]; //  target channel
    zflow_msg_t *msg;                        //  reusable message
} source_t;

struct _client_t {
    zflow_actor_t *base;            //  actor base (pipe, loop, counters)
    zloop_t *loop;                  //  its loop
    zflow_hpfeeds_conn_t *conn;     //  the connection (owned)
    zflow_hpfeeds_recv_t *recv;     //  the receive codec (owned)
    zflow_hpfeeds_outbox_t *outbox; //  the outbox (owned)
    zsock_t *events_sock;           //  PUSH: events
    zlistx_t *sources;              //  source_t * (owned)
    bool resuming;                  //  retrying after a pause (not a new pause)
    int pause_timer;                //  retry timer while reading is paused, or -1
    uint64_t tcp_pauses;            //  times reading paused (lossless, output full)
    uint64_t broker_errors;         //  error frames from the broker
    uint64_t protocol_errors;       //  malformed or unexpected frames from the broker
    uint64_t events_dropped;        //  events the user did not read in time
};

static void s_read (client_t *self);

//  Sends an event to the wrapper; counted in events_dropped when the
//  wrapper does not read them.
static void s_event (void *arg, int type, const char *text)
{
    client_t *self = (client_t *) arg;
    if (zflow_actor_verbose (self->base))
        zsys_debug ("hpfeeds client %s: event %d: %s", self->conn->ident, type, text);
    void *sock = zsock_resolve (self->events_sock);
    char number[8];
    snprintf (number, sizeof (number), "%d", type);
    if (zmq_send (sock, number, strlen (number), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        self->events_dropped++;
    else
        zmq_send (sock, text, strlen (text), 0);
}

static void s_on_source (zflow_stream_t *stream, void *arg);

//  After the outbox drained: resume what BLOCK paused.
static void s_pump (client_t *self)
{
    if (zflow__hpfeeds_outbox_blocked (self->outbox))
        return;
    zflow__hpfeeds_outbox_resume (self->outbox);
    for (source_t *source = (source_t *) zlistx_first (self->sources); source;
         source = (source_t *) zlistx_next (self->sources))
        if (zflow_stream_read_pending (source->stream) &&
            !zflow__hpfeeds_outbox_blocked (self->outbox))
            s_on_source (source->stream, source);
}

//  Writes what is pending if connected; direct writes go on once nothing
//  is left; then resumes the inputs BLOCK paused.
static void s_flush (client_t *self)
{
    int rc = zflow__hpfeeds_conn_flush (self->conn, self->outbox);
    if (rc < 0)
        return; //  the connection broke (and was closed)
    if (rc == 0)
        zflow__hpfeeds_outbox_direct_on (self->outbox, zflow__hpfeeds_conn_direct_fd (self->conn));
    s_pump (self);
}

static void s_on_flush (void *arg)
{
    s_flush ((client_t *) arg);
}

static int s_on_retry (zloop_t *loop, int timer_id, void *arg);

//  Stops reading until the outputs can take more. A PUB socket always
//  reports POLLOUT, so the retry is a short timer, not a poller.
static void s_pause_reads (client_t *self)
{
    if (!self->resuming)
        self->tcp_pauses++;
    zflow__hpfeeds_conn_pause_reads (self->conn, true);
    if (self->pause_timer < 0)
        self->pause_timer = zloop_timer (self->loop, 1, 1, s_on_retry, self);
}

//  An error frame: the shutdown notice of a draining zflow broker starts
//  the drain; any other is a refusal, told to the user.
static void s_on_error (client_t *self, const zflow_hpfeeds_frame_t *frame)
{
    zflow_hpfeeds_conn_t *conn = self->conn;
    char text[1024];
    snprintf (text, sizeof (text), "%.*s", (int) frame->data_size, (const char *) frame->data);
    if (streq (text, ZFLOW_HPFEEDS_SHUTDOWN_TEXT) && conn->state == ZFLOW_HPFEEDS_CONN_READY &&
        !conn->tls) {
        //  Finish the frame on the wire, close our sending side, read what
        //  we are owed until it closes; the rest of the outbox waits for
        //  the next connection, so nothing is lost.
        if (conn->draining)
            return;                                      //  said again: nothing new
        zflow__hpfeeds_outbox_direct_off (self->outbox); //  our writes only, from here
        zflow__hpfeeds_conn_drain (conn, text);
        s_flush (self);
        return;
    }
    self->broker_errors++;
    s_event (self, ZFLOW_HPFEEDS_EVENT_ERROR, text);
    zflow__hpfeeds_conn_refused (conn, text);
    //  A refused publish closes the connection and everything after it on
    //  the wire is lost: stop sending to that channel at all.
    const char *chan = strstr (text, ", chan=");
    if (strncmp (text, "Authkey not allowed to pub here", 31) == 0 && chan)
        zflow__hpfeeds_outbox_refuse (self->outbox, chan + 7);
}

//  Handles what the codec has: runs of publishes go out in the codec,
//  other frames come back here. Returns 0, or -1 when reading paused.
static int s_parse (client_t *self)
{
    zflow_hpfeeds_conn_t *conn = self->conn;
    zflow_hpfeeds_frame_t frame;
    char text[512];
    while (conn->fd >= 0) {
        zflow_hpfeeds_recv_result_t rc = zflow__hpfeeds_recv_next (
            self->recv, conn->state == ZFLOW_HPFEEDS_CONN_READY, &frame, text, sizeof (text));
        if (rc == ZFLOW_HPFEEDS_RECV_MORE)
            break;
        if (rc == ZFLOW_HPFEEDS_RECV_FULL) {
            s_pause_reads (self);
            return -1;
        }
        if (rc == ZFLOW_HPFEEDS_RECV_BAD) {
            char event[600];
            snprintf (event, sizeof (event), "from the broker: %s", text);
            self->protocol_errors++;
            s_event (self, ZFLOW_HPFEEDS_EVENT_PROTOCOL, event);
            zflow__hpfeeds_conn_disconnect (conn, text);
            break;
        }
        if (frame.op == ZFLOW_HPFEEDS_OP_ERROR)
            s_on_error (self, &frame);
        else if (frame.op == ZFLOW_HPFEEDS_OP_INFO && conn->state == ZFLOW_HPFEEDS_CONN_WAIT_INFO) {
            zflow__hpfeeds_conn_on_info (conn, &frame);
            s_flush (self);
        } else
            self->protocol_errors++; //  frames a broker does not send: skipped
        zflow__hpfeeds_recv_consume (self->recv, frame.size);
    }
    return 0;
}

static int s_on_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    client_t *self = (client_t *) arg;
    self->pause_timer = -1;
    if (!self->conn->reads_paused)
        return 0;
    self->resuming = true;
    int rc = s_parse (self);
    self->resuming = false;
    if (self->conn->fd >= 0 && rc == 0) {
        zflow__hpfeeds_conn_pause_reads (self->conn, false);
        if (zflow__hpfeeds_conn_more (self->conn))
            s_read (self);
    }
    return 0;
}

//  Reads what the connection has, then handles it.
static void s_read (client_t *self)
{
    if (zflow__hpfeeds_conn_read (self->conn, zflow__hpfeeds_recv_buf (self->recv)) >= 0)
        s_parse (self);
    //  TLS may hold decrypted bytes that poll does not announce
    if (zflow__hpfeeds_conn_more (self->conn))
        s_read (self);
}

static void s_on_io (void *arg, short revents)
{
    client_t *self = (client_t *) arg;
    zflow_hpfeeds_conn_t *conn = self->conn;
    if ((revents & ZMQ_POLLOUT) && conn->state == ZFLOW_HPFEEDS_CONN_READY)
        s_flush (self);
    if (conn->fd >= 0 && (revents & (ZMQ_POLLIN | ZMQ_POLLERR)) && !conn->reads_paused)
        s_read (self);
}

//  The connection closes: what the publisher left joins the outbox (a
//  frame cut on the wire is lost), what was read is forgotten.
static void s_on_down (void *arg)
{
    client_t *self = (client_t *) arg;
    zflow__hpfeeds_outbox_disconnected (self->outbox);
    zflow__hpfeeds_recv_reset (self->recv);
    if (self->pause_timer >= 0) {
        zloop_timer_end (self->loop, self->pause_timer);
        self->pause_timer = -1;
    }
}

static void s_on_source (zflow_stream_t *stream, void *arg)
{
    source_t *source = (source_t *) arg;
    client_t *self = source->client;
    zflow__hpfeeds_outbox_direct_off (self->outbox);
    while (!zflow__hpfeeds_outbox_blocked (self->outbox) &&
           zflow_stream_read (stream, source->msg, 0) == 0) {
        size_t parts = zflow_msg_size (source->msg), index = parts - 1;
        if (parts > ZFLOW_ENVELOPE_PAYLOAD && zflow_envelope_decode (source->msg, NULL) == 0)
            index = ZFLOW_ENVELOPE_PAYLOAD;
        zflow_actor_counters (self->base)->msgs_in++;
        zflow__hpfeeds_outbox_enqueue (self->outbox, source->channel, strlen (source->channel),
                                       zflow_msg_data (source->msg, index),
                                       zflow_msg_part_size (source->msg, index));
    }
    if (self->conn->state == ZFLOW_HPFEEDS_CONN_READY)
        s_flush (self);
}

static void s_source_destroy (source_t **source_p)
{
    zflow_stream_destroy (&(*source_p)->stream);
    zflow_msg_destroy (&(*source_p)->msg);
    free (*source_p);
    *source_p = NULL;
}

static int s_cmd_publish_from (client_t *self, zmsg_t *request)
{
    char *type = zmsg_popstr (request), *endpoint = zmsg_popstr (request);
    char *subscribe = zmsg_popstr (request), *channel = zmsg_popstr (request);
    int rc = ZFLOW_EINVAL, socktype = type ? atoi (type) : -1;
    if (endpoint && channel && *channel && strlen (channel) <= ZFLOW_HPFEEDS_MAX_STR &&
        (socktype == ZMQ_PULL || socktype == ZMQ_SUB)) {
        source_t *source = (source_t *) zmalloc (sizeof (source_t));
        source->client = self;
        source->msg = zflow_msg_new ();
        strcpy (source->channel, channel);
        source->stream = zflow_stream_new (socktype, NULL, endpoint, &rc);
        if (source->stream && socktype == ZMQ_SUB)
            zsock_set_subscribe (zflow_stream_sock (source->stream), subscribe ? subscribe : "");
        if (source->stream)
            rc = zflow_stream_attach (source->stream, self->loop, s_on_source, NULL, source);
        if (rc == 0)
            zlistx_add_end (self->sources, source);
        else
            s_source_destroy (&source);
    }
    zstr_free (&type);
    zstr_free (&endpoint);
    zstr_free (&subscribe);
    zstr_free (&channel);
    return rc;
}

static int s_cmd_subscribe (client_t *self, bool subscribe, const char *channel)
{
    int rc = zflow__hpfeeds_conn_subscribe (self->conn, channel, subscribe);
    if (rc == 0 && self->conn->state == ZFLOW_HPFEEDS_CONN_READY) {
        //  a control frame is queued: the actor writes from here
        zflow__hpfeeds_outbox_direct_off (self->outbox);
        s_flush (self);
    }
    return rc;
}

static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    client_t *self = (client_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    if (streq (command, "SUBSCRIBE") || streq (command, "UNSUBSCRIBE")) {
        char *channel = zmsg_popstr (request);
        zsock_send (pipe, "i", s_cmd_subscribe (self, streq (command, "SUBSCRIBE"), channel));
        zstr_free (&channel);
    } else if (streq (command, "PUBLISH FROM"))
        zsock_send (pipe, "i", s_cmd_publish_from (self, request));
    else if (streq (command, "STATUS"))
        zsock_send (pipe, "i", zflow__hpfeeds_conn_connected (self->conn) ? 1 : 0);
    else
        zsys_warning ("hpfeeds client: unknown command '%s'", command);
    return 0;
}

static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    client_t *self = (client_t *) arg;
    zflow_hpfeeds_outbox_t *outbox = self->outbox;
    zflow_hpfeeds_conn_t *conn = self->conn;
    uint64_t direct_writes, direct_stalls;
    zflow__hpfeeds_outbox_count_direct (outbox, &direct_writes, &direct_stalls);
    zflow_actor_counters (base)->queue_depth = zflow__hpfeeds_outbox_size (outbox);
    zflow_actor_stats_add (reply, "connected", zflow__hpfeeds_conn_connected (conn));
    zflow_actor_stats_add (reply, "connects", conn->connects);
    zflow_actor_stats_add (reply, "disconnects", conn->disconnects);
    zflow_actor_stats_add (reply, "published", outbox->published);
    zflow_actor_stats_add (reply, "sent", outbox->sent);
    zflow_actor_stats_add (reply, "direct_writes", direct_writes);
    zflow_actor_stats_add (reply, "direct_stalls", direct_stalls);
    zflow_actor_stats_add (reply, "received", self->recv->received);
    zflow_actor_stats_add (reply, "outbox_pending", zflow__hpfeeds_outbox_size (outbox));
    zflow_actor_stats_add (reply, "outbox_drops", outbox->drops);
    zflow_actor_stats_add (reply, "inflight_lost", outbox->inflight_lost);
    zflow_actor_stats_add (reply, "inproc_drops", self->recv->inproc_drops);
    zflow_actor_stats_add (reply, "tcp_pauses", self->tcp_pauses);
    zflow_actor_stats_add (reply, "broker_errors", self->broker_errors);
    zflow_actor_stats_add (reply, "broker_shutdowns", conn->broker_shutdowns);
    zflow_actor_stats_add (reply, "protocol_errors", self->protocol_errors);
    zflow_actor_stats_add (reply, "events_dropped", self->events_dropped);
    zflow_actor_stats_add (reply, "refused_drops", outbox->refused_drops);
}

//  Sets up the parts and sockets; returns 0 or -1.
static int s_client_init (client_t *self, zsock_t *pipe, const zflow_hpfeeds_args_t *args)
{
    self->pause_timer = -1;
    self->base = zflow_actor_new (pipe, "hpfeeds client");
    if (!self->base)
        return -1;
    self->loop = zflow_actor_loop (self->base);
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    const zflow_hpfeeds_conn_handler_t handler = {s_on_io, s_on_flush, s_on_down, s_event};
    self->conn = zflow__hpfeeds_conn_new (&args->config, self->loop, &handler, self);
    self->recv = zflow__hpfeeds_recv_new (&args->config, self->loop, counters, args->output,
                                          args->batch, args->handoff);
    self->outbox = zflow__hpfeeds_outbox_new (&args->config, self->loop, counters, args->input,
                                              args->handoff, s_on_flush, self);
    self->sources = zlistx_new ();
    self->events_sock = zsock_new (ZMQ_PUSH);
    if (!self->conn || !self->recv || !self->outbox || !self->sources || !self->events_sock)
        return -1;
    zsock_set_sndhwm (self->events_sock, 1000);
    if (zsock_connect (self->events_sock, "%s", args->events))
        return -1;
    zflow_actor_set_command_handler (self->base, s_on_command, self);
    zflow_actor_set_stats_handler (self->base, s_on_stats, self);
    return 0;
}

void zflow__hpfeeds_client_actor (zsock_t *pipe, void *args)
{
    client_t self_struct, *self = &self_struct;
    memset (self, 0, sizeof (*self));
    if (s_client_init (self, pipe, (const zflow_hpfeeds_args_t *) args) == 0) {
        zflow_actor_ready (self->base, 0);
        zflow__hpfeeds_conn_start (self->conn);
        zflow_actor_run (self->base);
    } else if (self->base)
        zflow_actor_ready (self->base, -1);
    else {
        zsock_signal (pipe, 0); //  as zflow_actor_ready (pipe, -1) would
        zsock_signal (pipe, 1);
    }
    source_t *source;
    while (self->sources && (source = (source_t *) zlistx_detach (self->sources, NULL)))
        s_source_destroy (&source);
    zlistx_destroy (&self->sources);
    zflow__hpfeeds_outbox_destroy (&self->outbox);
    zflow__hpfeeds_recv_destroy (&self->recv);
    zflow__hpfeeds_conn_destroy (&self->conn);
    zsock_destroy (&self->events_sock);
    zflow_actor_destroy (&self->base);
}
