/*  =========================================================================
    zflow_hub_actor - the hub's actor: forwards envelopes, counts
    subscriptions, publishes notices, reads attached endpoints

    The actor forwards every envelope from its XSUB socket to its XPUB
    socket through zflow streams: when the XPUB side cannot take more (a
    lossless subscriber is full; XPUB runs with ZMQ_XPUB_NODROP) the write
    buffer passes its high watermark, the hub stops reading its XSUB side,
    and publishers see backpressure (ZFLOW_DRAIN) in turn. Attached
    endpoints (zflow_hub_attach.c makes their SUB sockets) are read the
    same way and held back the same way.

    The XPUB side runs with ZMQ_XPUB_VERBOSER so the hub sees every
    subscribe and unsubscribe, also those libzmq makes for a subscriber
    that goes away. zflow subscribers announce their patterns upstream (see
    zflow_hub_internal.h); from that the hub keeps a count per pattern, a
    trie of the patterns for has_subscribers, and publishes its notices.

    The caller's side of the hub is zflow_hub.c; the caller's side of
    attach and detach is zflow_hub_attach.c.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hub_guard.h"
#include "zflow_hub_internal.h"
#include "zflow_hub_notice.h"
#include "zflow_hub_private.h"
#include "zflow_hub_trie.h"
#include "zflow_stream.h"

//  ZMTP heartbeats on the hub's external endpoints, in milliseconds.
#define S_HEARTBEAT_IVL 1000
#define S_HEARTBEAT_TIMEOUT 10000

//  Most bytes waiting on the XPUB side before notices are dropped.
#define S_NOTICE_BACKLOG (1024 * 1024)
//  Limits on what peers may claim, so that no message from the network can
//  make the hub loop or grow without bound: subscribers it tracks, patterns
//  per subscriber, and subscriptions to one pattern by one subscriber (a
//  remote connection's new patterns also count against its
//  max_peer_subscriptions: zflow_hub_guard.h).
#define S_MAX_PEERS 100000
#define S_MAX_PATTERNS_PER_PEER 1000000
#define S_MAX_SAME_PATTERN 10000
//  Messages a tcp:// or ipc:// connection may have waiting for the hub to
//  read on the XPUB side. libzmq adds each subscription to its trie as it
//  takes it from that pipe, and keeps taking while the connection's I/O
//  thread refills it: with the default (1000) a flood got ~70,000
//  subscriptions into the trie before the hub saw the 10,000th and dropped
//  the peer; with 10 the overshoot is a few. Only control messages come
//  this way (subscriptions, announcements, fences).
#define S_REMOTE_RCVHWM 10

//  One endpoint the hub forwards from (zflow_hub_attach).
typedef struct {
    char *endpoint;         //  as the caller gave it
    zflow_stream_t *stream; //  SUB socket connected there
} s_attachment_t;

//  The actor's state.
typedef struct {
    zflow_hub_t *hub;         //  shared with the caller (not owned)
    zflow_actor_t *base;      //  actor base: loop, pipe, counters
    zflow_stream_t *in;       //  XSUB side, publishers connect here
    zflow_stream_t *out;      //  XPUB side, subscribers connect here
    zflow_msg_t *msg;         //  message being forwarded, reused
    zflow_msg_t *notice;      //  notice being built, reused
    zflow_msg_t *control;     //  (un)subscription being read, reused
    bool paused;              //  input held back until out drains
    int64_t paused_since;     //  when it began (zclock_mono)
    zflow_hub_guard_t *guard; //  limits on remote subscribers
    uint64_t notices;         //  notices published
    uint64_t notices_skipped; //  notices not published (key too long)
    uint64_t notices_dropped; //  notices dropped: output too far behind
    uint64_t malformed;       //  messages or topics refused
    uint64_t pauses;          //  times publishers were held back
    uint64_t prefixes;        //  plain prefix (un)subscriptions seen
    uint64_t hellos;          //  subscribers asked to announce their subscriptions
    zlistx_t *attached;       //  s_attachment_t, endpoints forwarded from
    uint64_t attached_in;     //  envelopes forwarded from attachments
    uint64_t attached_bad;    //  messages from attachments that were no envelopes
} s_hub_t;

static void s_count_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static zflow_hub_peer_t *s_peer_new (void)
{
    zflow_hub_peer_t *self = (zflow_hub_peer_t *) zmalloc (sizeof (zflow_hub_peer_t));
    self->patterns = zhashx_new ();
    zhashx_set_destructor (self->patterns, s_count_destroy);
    return self;
}

//  Writes msg to the XPUB side; holds publishers back above its watermark.
static void s_send_out (s_hub_t *self, zflow_msg_t *msg)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    counters->bytes_out += zflow_msg_content_size (msg);
    int rc = zflow_stream_write (self->out, msg);
    if (rc < 0)
        zsys_warning ("hub %s: XPUB write failed: %s", self->hub->name, zflow_error_text (rc));
    else
        counters->msgs_out++;
    if (rc == ZFLOW_DRAIN && !self->paused) {
        self->paused = true;
        self->paused_since = zclock_mono ();
        self->pauses++;
    }
    counters->queue_depth = zflow_stream_write_pending (self->out);
}

//  Forwards what one input has, until it is empty or out is full.
static void s_pump_one (s_hub_t *self, zflow_stream_t *input, bool attached)
{
    zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
    while (!self->paused) {
        int rc = zflow_stream_read (input, self->msg, 0);
        if (rc)
            break;
        counters->msgs_in++;
        counters->bytes_in += zflow_msg_content_size (self->msg);
        if (zflow_envelope_decode (self->msg, NULL)) {
            if (attached)
                self->attached_bad++;
            else
                self->malformed++;
            counters->drops++;
            zflow_msg_reset (self->msg);
            continue;
        }
        if (attached)
            self->attached_in++;
        s_send_out (self, self->msg);
    }
}

//  Forwards what the XSUB side and the attachments have, until all are
//  empty or out is full (then on_drained comes back here).
static void s_pump (s_hub_t *self)
{
    bool was_paused = self->paused;
    s_pump_one (self, self->in, false);
    for (s_attachment_t *a = (s_attachment_t *) zlistx_first (self->attached); a;
         a = (s_attachment_t *) zlistx_next (self->attached))
        s_pump_one (self, a->stream, true);
    if (zflow_actor_verbose (self->base) && self->paused && !was_paused)
        zsys_debug ("hub %s: output full, holding publishers back", self->hub->name);
}

static void s_on_input (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_pump ((s_hub_t *) arg);
}

static void s_on_drained (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_hub_t *self = (s_hub_t *) arg;
    self->paused = false;
    s_pump (self);
}

static void s_notice (s_hub_t *self, bool added, const char *wire, uint64_t count)
{
    //  subscriptions keep coming while a lossless subscriber holds the hub
    //  back: past this backlog their notices are dropped (and counted)
    if (zflow_stream_write_pending_bytes (self->out) > S_NOTICE_BACKLOG) {
        self->notices_dropped++;
        zflow_actor_counters (self->base)->drops++;
        return;
    }
    int rc = zflow__hub_notice_encode (self->notice, added, wire, strlen (wire), count);
    if (rc) {
        self->notices_skipped++;
        return;
    }
    self->notices++;
    s_send_out (self, self->notice);
}

//  Moves the count of pattern wire by one (up or down) and publishes the
//  notice. Call with the lock held; the notice is sent after unlocking by
//  the caller through *count_p. Returns 0, or ZFLOW_EPROTO (bad pattern).
static int s_step (zflow_hub_t *hub, const char *wire, bool up, uint64_t *count_p)
{
    zflow_hub_pattern_t *pattern = (zflow_hub_pattern_t *) zhashx_lookup (hub->patterns, wire);
    if (up && !pattern) {
        zflow_key_t *key = zflow_key_decode (wire, strlen (wire), NULL); //  validates
        pattern = key ? (zflow_hub_pattern_t *) zmalloc (sizeof (zflow_hub_pattern_t)) : NULL;
        zflow_key_destroy (&key);
        if (!pattern || zflow__trie_insert_wire (hub->trie, wire, strlen (wire), pattern)) {
            free (pattern);
            return ZFLOW_EPROTO;
        }
        zhashx_insert (hub->patterns, wire, pattern);
    }
    if (!pattern)
        return ZFLOW_EPROTO;
    *count_p = up ? ++pattern->count : --pattern->count;
    if (*count_p == 0) {
        zflow__trie_remove_wire (hub->trie, wire, strlen (wire), pattern);
        zhashx_delete (hub->patterns, wire);
    }
    return 0;
}

//  Sets the subscriptions of peer to pattern wire to n, one notice per step.
//  origin (a zmq_msg_t *, or NULL) is the announcement: a new pattern counts
//  against the limits of the connection it came from.
static void s_set_count (s_hub_t *self, zflow_hub_peer_t *peer, const char *wire, uint64_t n,
                         void *origin)
{
    zflow_hub_t *hub = self->hub;
    uint64_t *have = (uint64_t *) zhashx_lookup (peer->patterns, wire);
    uint64_t now = have ? *have : 0;
    if (n > S_MAX_SAME_PATTERN ||
        (!have && n && zhashx_size (peer->patterns) >= S_MAX_PATTERNS_PER_PEER)) {
        self->malformed++; //  more than any real subscriber holds
        return;
    }
    if (origin && (!have != !n) &&
        !zflow__hub_guard_account (self->guard, origin, n ? 1 : -1, strlen (wire)))
        return; //  its connection went past a limit: dropped
    while (now != n) {
        bool up = n > now;
        uint64_t count = 0;
        pthread_mutex_lock (&hub->lock);
        int rc = s_step (hub, wire, up, &count);
        pthread_mutex_unlock (&hub->lock);
        if (rc) {
            self->malformed++;
            return;
        }
        now = up ? now + 1 : now - 1;
        s_notice (self, up, wire, count);
    }
    if (n && !have) {
        have = (uint64_t *) zmalloc (sizeof (uint64_t));
        zhashx_insert (peer->patterns, wire, have);
    }
    if (n)
        *have = n;
    else if (have)
        zhashx_delete (peer->patterns, wire);
}

static zflow_hub_peer_t *s_peer (s_hub_t *self, const char *uid)
{
    zflow_hub_peer_t *peer = (zflow_hub_peer_t *) zhashx_lookup (self->hub->peers, uid);
    if (!peer && zhashx_size (self->hub->peers) < S_MAX_PEERS) {
        peer = s_peer_new ();
        pthread_mutex_lock (&self->hub->lock);
        zhashx_insert (self->hub->peers, uid, peer);
        pthread_mutex_unlock (&self->hub->lock);
    }
    return peer;
}

//  A subscriber's presence topic came (it connected; a remote one may have
//  reconnected: ask it to announce its subscriptions) or went (it is gone:
//  so are they).
static void s_on_presence (s_hub_t *self, bool subscribe, const char *topic, size_t size)
{
    char uid[ZFLOW_HUB_MAX_UID + 1];
    if (size - 2 > ZFLOW_HUB_MAX_UID) {
        self->malformed++;
        return;
    }
    memcpy (uid, topic + 2, size - 2);
    uid[size - 2] = 0;
    if (subscribe) {
        zflow_hub_peer_t *peer = s_peer (self, uid);
        if (!peer) {
            self->malformed++;
            return;
        }
        peer->presence++;
        if (topic[1] == ZFLOW_HUB_PRESENCE_REMOTE) {
            zflow_msg_t *hello = self->notice;
            zflow_msg_reset (hello);
            zflow_msg_add (hello, topic, size);
            zflow_msg_add (hello, "\x81\xa1v\x01", 4); //  {"v": 1}
            zflow_msg_add (hello, "hello", 5);
            self->hellos++;
            s_send_out (self, hello);
        }
        return;
    }
    zflow_hub_peer_t *peer = (zflow_hub_peer_t *) zhashx_lookup (self->hub->peers, uid);
    //  gone only when every subscription of its presence topic went: an
    //  unsubscribe that someone else sent for it does not remove it
    if (!peer || (peer->presence && --peer->presence > 0))
        return;
    zlistx_t *wires = zhashx_keys (peer->patterns);
    for (const char *wire = (const char *) zlistx_first (wires); wire;
         wire = (const char *) zlistx_next (wires))
        s_set_count (self, peer, wire, 0, NULL);
    zlistx_destroy (&wires);
    pthread_mutex_lock (&self->hub->lock);
    zhashx_delete (self->hub->peers, uid);
    pthread_mutex_unlock (&self->hub->lock);
}

//  True when text is a plain decimal number of at most 19 digits.
static bool s_whole (const char *text)
{
    size_t digits = strspn (text, "0123456789");
    return digits > 0 && digits <= 19 && text[digits] == 0;
}

//  "A" uid "\0" pattern wire "\0" n: the subscriber has n subscriptions to
//  the pattern now. "F" uid "\0" seq: a fence.
static void s_on_announce (s_hub_t *self, const char *data, size_t size, void *origin)
{
    char text[ZFLOW_KEY_MAX_PARTS * (ZFLOW_KEY_MAX_PART + 1) + ZFLOW_HUB_MAX_UID + 64];
    if (size < 2 || size >= sizeof (text) || memchr (data, 0, size) == NULL) {
        self->malformed++;
        return;
    }
    memcpy (text, data, size);
    text[size] = 0;
    const char *uid = text + 1;
    const char *wire = uid + strlen (uid) + 1;
    const char *last = wire < text + size ? wire + strlen (wire) + 1 : NULL;
    //  announcements count only from subscribers whose presence the hub has
    //  seen: no message creates a peer, so none can grow the table
    zflow_hub_peer_t *peer = (zflow_hub_peer_t *) zhashx_lookup (self->hub->peers, uid);
    if (!peer)
        self->malformed++;
    else if (text[0] == 'F' && wire < text + size) {
        pthread_mutex_lock (&self->hub->lock);
        uint64_t seq = strtoull (wire, NULL, 10);
        if (seq > peer->fence)
            peer->fence = seq;
        pthread_cond_broadcast (&self->hub->fenced);
        pthread_mutex_unlock (&self->hub->lock);
    } else if (text[0] == 'A' && last && last < text + size && *wire && s_whole (last))
        s_set_count (self, peer, wire, strtoull (last, NULL, 10), origin);
    else
        self->malformed++;
}

//  One message from the XPUB side (origin, a zmq_msg_t *): an
//  (un)subscription, or an announcement a zflow subscriber sent upstream.
//  What a remote connection sends counts against its limits first.
static void s_on_upstream (s_hub_t *self, const char *data, size_t size, void *origin)
{
    bool subscription = size >= 1 && (data[0] == 0 || data[0] == 1);
    int delta = !subscription ? 0 : data[0] == 1 ? 1 : -1;
    if (!zflow__hub_guard_account (self->guard, origin, delta, subscription ? size - 1 : 0))
        return;
    if (subscription) {
        if (size >= 3 && data[1] == 0 &&
            (data[2] == ZFLOW_HUB_PRESENCE || data[2] == ZFLOW_HUB_PRESENCE_REMOTE))
            s_on_presence (self, data[0] == 1, data + 1, size - 1);
        else
            self->prefixes++; //  a literal prefix: ZeroMQ does the filtering
    } else
        s_on_announce (self, data, size, origin);
}

static void s_on_output (zflow_stream_t *stream, void *arg)
{
    s_hub_t *self = (s_hub_t *) arg;
    zflow_msg_t *msg = self->control;
    while (zflow_stream_read (stream, msg, 0) == 0) {
        if (zflow_msg_size (msg) == 1)
            s_on_upstream (self, (const char *) zflow_msg_data (msg, 0),
                           zflow_msg_part_size (msg, 0), zflow_msg_zmq (msg, 0));
        else
            self->malformed++;
    }
    zflow_msg_reset (msg);
}

static void s_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_hub_t *self = (s_hub_t *) arg;
    zflow_hub_t *hub = self->hub;
    pthread_mutex_lock (&hub->lock);
    uint64_t patterns = zhashx_size (hub->patterns);
    uint64_t peers = zhashx_size (hub->peers);
    uint64_t subscriptions = 0;
    for (zflow_hub_pattern_t *p = (zflow_hub_pattern_t *) zhashx_first (hub->patterns); p;
         p = (zflow_hub_pattern_t *) zhashx_next (hub->patterns))
        subscriptions += p->count;
    pthread_mutex_unlock (&hub->lock);
    zflow_actor_stats_add (reply, "patterns", patterns);
    zflow_actor_stats_add (reply, "subscriptions", subscriptions);
    zflow_actor_stats_add (reply, "notices", self->notices);
    zflow_actor_stats_add (reply, "notices_skipped", self->notices_skipped);
    zflow_actor_stats_add (reply, "notices_dropped", self->notices_dropped);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "paused", self->pauses);
    zflow_actor_stats_add (reply, "prefix_subscriptions", self->prefixes);
    zflow_actor_stats_add (reply, "peers", peers);
    zflow_actor_stats_add (reply, "hellos", self->hellos);
    zflow_actor_stats_add (reply, "attached", zlistx_size (self->attached));
    zflow_actor_stats_add (reply, "attached_in", self->attached_in);
    zflow_actor_stats_add (reply, "attached_malformed", self->attached_bad);
    zflow__hub_guard_stats (self->guard, reply);
}

//  The guard's periodic check (zflow_hub_guard.h).
static int s_on_check (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    s_hub_t *self = (s_hub_t *) arg;
    zflow__hub_guard_check (self->guard, self->paused ? self->paused_since : 0);
    return 0;
}

//  Binds stream to endpoint (if not empty); *real_p gets the real endpoint.
static int s_bind_one (s_hub_t *self, zflow_stream_t *stream, const char *endpoint, char **real_p)
{
    *real_p = NULL;
    if (!endpoint || !*endpoint)
        return 0;
    //  peers on the network may not make the hub take any size of message
    //  (inproc messages are not decoded, so this bounds only tcp/ipc peers;
    //  libzmq takes the options a bind has when it binds). A peer announcing
    //  more is disconnected at the frame header: each connection holds at
    //  most max_message of a partial frame.
    zsock_t *sock = zflow_stream_sock (stream);
    zsock_set_maxmsgsize (sock, (int) self->hub->max_message);
    if (stream == self->out)
        zsock_set_rcvhwm (sock, S_REMOTE_RCVHWM);
    if (zflow_stream_bind (stream, endpoint))
        return ZFLOW_EENDPOINT;
    *real_p = strdup ((const char *) zlistx_last (zflow_stream_bindings (stream)));
    return 0;
}

static s_attachment_t *s_attachment_find (s_hub_t *self, const char *endpoint)
{
    for (s_attachment_t *a = (s_attachment_t *) zlistx_first (self->attached); a;
         a = (s_attachment_t *) zlistx_next (self->attached))
        if (streq (a->endpoint, endpoint))
            return a;
    return NULL;
}

static void s_attachment_destroy (s_attachment_t **self_p)
{
    s_attachment_t *self = *self_p;
    if (self) {
        zflow_stream_destroy (&self->stream);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

//  ATTACH endpoint, socket (connected by the caller, now ours: destroyed
//  here when refused) or DETACH endpoint. Returns 0 or a zflow code.
static int s_on_attach (s_hub_t *self, bool attach, zmsg_t *request)
{
    char *endpoint = zmsg_popstr (request);
    zframe_t *frame = attach ? zmsg_pop (request) : NULL;
    zsock_t *sock =
        frame && zframe_size (frame) == sizeof (void *) ? *(zsock_t **) zframe_data (frame) : NULL;
    zframe_destroy (&frame);
    s_attachment_t *found = endpoint ? s_attachment_find (self, endpoint) : NULL;
    int rc = !endpoint || (attach && (!sock || found)) ? ZFLOW_EINVAL
             : !attach && !found                       ? ZFLOW_ENOTFOUND
                                                       : 0;
    if (rc == 0 && !attach) {
        zlistx_delete (self->attached, zlistx_find (self->attached, found));
        s_attachment_destroy (&found);
    } else if (rc == 0) {
        s_attachment_t *a = (s_attachment_t *) zmalloc (sizeof (s_attachment_t));
        a->endpoint = strdup (endpoint);
        a->stream = zflow_stream_new_sock (&sock);
        if (!a->stream || !a->endpoint ||
            zflow_stream_attach (a->stream, zflow_actor_loop (self->base), s_on_input, NULL,
                                 self) ||
            !zlistx_add_end (self->attached, a)) {
            s_attachment_destroy (&a);
            rc = ZFLOW_ENOMEM;
        }
    }
    zsock_destroy (&sock); //  NULL once a stream took it
    if (zflow_actor_verbose (self->base))
        zsys_debug ("hub %s: %s %s: %s", self->hub->name, attach ? "attach" : "detach",
                    endpoint ? endpoint : "?", rc ? zflow_error_text (rc) : "ok");
    zstr_free (&endpoint);
    return rc;
}

//  BIND pub sub -> rc, real pub, real sub. CURVE cert -> rc.
//  ATTACH endpoint socket / DETACH endpoint -> rc.
static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    s_hub_t *self = (s_hub_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    if (streq (command, "BIND")) {
        char *pub = zmsg_popstr (request);
        char *sub = zmsg_popstr (request);
        char *real_pub = NULL, *real_sub = NULL;
        int rc = s_bind_one (self, self->in, pub, &real_pub);
        if (rc == 0)
            rc = s_bind_one (self, self->out, sub, &real_sub);
        if (rc && real_pub)
            zsock_unbind (zflow_stream_sock (self->in), "%s", real_pub);
        zsock_send (pipe, "iss", rc, real_pub ? real_pub : "", real_sub ? real_sub : "");
        zstr_free (&pub);
        zstr_free (&sub);
        zstr_free (&real_pub);
        zstr_free (&real_sub);
    } else if (streq (command, "CURVE")) {
        zframe_t *frame = zmsg_pop (request);
        zcert_t *cert = frame && zframe_size (frame) == sizeof (void *)
                            ? *(zcert_t **) zframe_data (frame)
                            : NULL;
        zframe_destroy (&frame);
        zsock_t *socks[] = {zflow_stream_sock (self->in), zflow_stream_sock (self->out)};
        for (int i = 0; cert && i < 2; i++) {
            zcert_apply (cert, socks[i]);
            zsock_set_curve_server (socks[i], 1);
        }
        zsock_send (pipe, "i", cert ? 0 : ZFLOW_EINVAL);
    } else if (streq (command, "ATTACH") || streq (command, "DETACH"))
        zsock_send (pipe, "i", s_on_attach (self, command[0] == 'A', request));
    else
        zsys_warning ("hub %s: unknown command '%s'", self->hub->name, command);
    return 0;
}

static zflow_stream_t *s_stream (int type, const char *endpoint)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    //  on tcp:// and ipc://, a peer that stops answering pings is dropped
    //  (its subscriptions go with it) instead of holding a lossless hub back
    zsock_set_heartbeat_ivl (sock, S_HEARTBEAT_IVL);
    zsock_set_heartbeat_timeout (sock, S_HEARTBEAT_TIMEOUT);
    if (type == ZMQ_XPUB) {
        int on = 1;
        zmq_setsockopt (zsock_resolve (sock), ZMQ_XPUB_VERBOSER, &on, sizeof (on));
        zmq_setsockopt (zsock_resolve (sock), ZMQ_XPUB_NODROP, &on, sizeof (on));
        //  (un)subscriptions arrive as messages that libzmq drops at a full
        //  pipe: take them all (the subscriber side sets no limit either)
        zsock_set_rcvhwm (sock, 0);
    }
    if (zsock_bind (sock, "%s", endpoint) != 0) {
        zsock_destroy (&sock);
        return NULL;
    }
    zflow_stream_t *stream = zflow_stream_new_sock (&sock);
    zsock_destroy (&sock);
    return stream;
}

static int s_hub_setup (s_hub_t *self)
{
    zloop_t *loop = zflow_actor_loop (self->base);
    self->msg = zflow_msg_new ();
    self->notice = zflow_msg_new ();
    self->control = zflow_msg_new ();
    self->attached = zlistx_new ();
    self->in = s_stream (ZMQ_XSUB, self->hub->pub_endpoint);
    self->out = s_stream (ZMQ_XPUB, self->hub->sub_endpoint);
    self->guard = zflow__hub_guard_new (self->hub->max_peer_subs, self->hub->max_sub_bytes,
                                        self->hub->stall_limit_ms);
    if (!self->msg || !self->notice || !self->control || !self->attached || !self->in ||
        !self->out || !self->guard)
        return -1;
    //  XSUB: take everything; the XPUB side filters per subscriber
    zflow_msg_t *all = zflow_msg_new ();
    zflow_msg_add (all, "\x01", 1);
    int rc = zflow_stream_write (self->in, all);
    zflow_msg_destroy (&all);
    if (rc < 0)
        return -1;
    zflow_stream_attach (self->in, loop, s_on_input, NULL, self);
    zflow_stream_attach (self->out, loop, s_on_output, s_on_drained, self);
    if (zloop_timer (loop, (size_t) zflow__hub_guard_interval (self->guard), 0, s_on_check, self) <
        0)
        return -1;
    zflow_actor_set_command_handler (self->base, s_on_command, self);
    zflow_actor_set_stats_handler (self->base, s_stats, self);
    return 0;
}

void zflow__hub_actor (zsock_t *pipe, void *args)
{
    s_hub_t self = {0};
    self.hub = (zflow_hub_t *) args;
    self.base = zflow_actor_new (pipe, self.hub->name);
    if (!self.base || s_hub_setup (&self)) {
        if (self.base)
            zflow_actor_ready (self.base, -1);
        else
            zsock_signal (pipe, 0), zsock_signal (pipe, 1);
    } else {
        zflow_actor_ready (self.base, 0);
        zflow_actor_run (self.base);
    }
    //  unbind now: a closing socket frees its endpoints only later, and the
    //  name must be free for a new hub once zflow_hub_destroy returns
    if (self.in)
        zsock_unbind (zflow_stream_sock (self.in), "%s", self.hub->pub_endpoint);
    if (self.out)
        zsock_unbind (zflow_stream_sock (self.out), "%s", self.hub->sub_endpoint);
    for (s_attachment_t *a = self.attached ? (s_attachment_t *) zlistx_first (self.attached) : NULL;
         a; a = (s_attachment_t *) zlistx_next (self.attached))
        s_attachment_destroy (&a);
    zlistx_destroy (&self.attached);
    zflow_stream_destroy (&self.in);
    zflow_stream_destroy (&self.out);
    zflow_msg_destroy (&self.msg);
    zflow_msg_destroy (&self.notice);
    zflow_msg_destroy (&self.control);
    zflow__hub_guard_destroy (&self.guard);
    zflow_actor_destroy (&self.base);
}
