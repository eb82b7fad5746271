/*  =========================================================================
    zflow_hub_attach - the caller's side of zflow_hub_attach / _detach

    The SUB socket is made, subscribed and connected here, in the caller's
    thread, and handed to the hub's actor only once the subscription is on
    its way: waiting for a handshake must not stop the hub forwarding. A
    socket may change threads when the hand-over is a full memory barrier,
    which the actor pipe is. What arrives before the hand-over waits in the
    socket's queue.

    Why a settle time (see zflow_hub.h): libzmq's zmq_send looks at a
    socket's pending commands (a new inproc pipe, a pipe with a new
    subscription) only when it has not done so for max_command_delay CPU
    ticks (3,000,000: one to three milliseconds on current x86), so a
    publisher that sent a moment before the connect may send once more
    without seeing it. ZFLOW_HUB_ATTACH_SETTLE is well past that window.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_hub.h"
#include "zflow_hub_internal.h"
#include <inttypes.h>

//  Monitor events that end the wait for a handshake.
#define S_HANDSHAKE_EVENTS                                                                         \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                        \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

//  ZMTP heartbeats on the attachment, in milliseconds (as the hub's own
//  external endpoints): a publisher that stops answering is reconnected.
#define S_HEARTBEAT_IVL 1000
#define S_HEARTBEAT_TIMEOUT 10000

//  Reads monitor events until a handshake succeeded (0), failed
//  (ZFLOW_ETRANSPORT; libzmq retries, the caller decides) or the deadline
//  passed (ZFLOW_ETIMEDOUT).
static int s_wait_handshake (zsock_t *monitor, int64_t deadline)
{
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            return ZFLOW_ETIMEDOUT;
        zmq_pollitem_t item = {zsock_resolve (monitor), 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, (long) left);
        if (rc < 0 && zmq_errno () != EINTR)
            return ZFLOW_ECLOSED;
        if (rc <= 0)
            continue;
        zframe_t *event = zframe_recv (monitor);
        zframe_t *address = zsock_rcvmore (monitor) ? zframe_recv (monitor) : NULL;
        uint16_t id = 0;
        if (event && zframe_size (event) >= 2)
            memcpy (&id, zframe_data (event), 2);
        zframe_destroy (&event);
        zframe_destroy (&address);
        if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            return 0;
        //  a failed handshake is retried by libzmq: keep waiting for a good one
    }
}

//  Makes the SUB socket, connects it and waits until the subscription is
//  with the publisher (see zflow_hub.h). Returns the socket, or NULL with
//  *err_p set.
static zsock_t *s_connect (const char *endpoint, int timeout_ms, int *err_p)
{
    bool inproc = strncmp (endpoint, "inproc://", 9) == 0;
    zsock_t *sock = zsock_new (ZMQ_SUB);
    if (!sock) {
        *err_p = ZFLOW_ENOMEM;
        return NULL;
    }
    zsock_set_subscribe (sock, "");
    zsock_set_linger (sock, 0); //  a detached publisher owes us nothing
    if (!inproc) {
        //  as on the hub's own external endpoints: no peer sets its size
        zsock_set_maxmsgsize (sock, ZFLOW_HUB_MAX_MESSAGE);
        zsock_set_heartbeat_ivl (sock, S_HEARTBEAT_IVL);
        zsock_set_heartbeat_timeout (sock, S_HEARTBEAT_TIMEOUT);
    }
    //  a stopped monitor frees its endpoint only later: never reuse a name
    static uint64_t monitors;
    char monitor_ep[64];
    snprintf (monitor_ep, sizeof (monitor_ep), "inproc://zflow.hub.attach.%" PRIu64,
              __atomic_add_fetch (&monitors, 1, __ATOMIC_RELAXED));
    zsock_t *monitor = NULL;
    if (!inproc && zmq_socket_monitor (zsock_resolve (sock), monitor_ep, S_HANDSHAKE_EVENTS) == 0)
        monitor = zsock_new_pair (monitor_ep);
    int err = !inproc && !monitor ? ZFLOW_ENOMEM : 0;
    int64_t started = zclock_mono ();
    int64_t settle = ZFLOW_HUB_ATTACH_SETTLE;
    if (!err && zsock_connect (sock, "%s", endpoint) != 0)
        err = ZFLOW_EENDPOINT;
    if (!err && monitor) {
        err = s_wait_handshake (monitor, started + (timeout_ms > 0 ? timeout_ms : 0));
        //  the subscription goes out right after the handshake and needs
        //  about half of it to arrive: twice its duration is ample
        int64_t handshake = zclock_mono () - started;
        if (2 * handshake > settle)
            settle = 2 * handshake;
    }
    if (monitor) {
        zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
        zsock_destroy (&monitor);
    }
    if (err) {
        zsock_destroy (&sock);
        *err_p = err;
        return NULL;
    }
    zclock_sleep ((int) settle);
    return sock;
}

int zflow_hub_attach (zflow_hub_t *self, const char *endpoint, int timeout_ms)
{
    if (!self || !endpoint || !*endpoint)
        return ZFLOW_EINVAL;
    int rc = 0;
    zsock_t *sock = s_connect (endpoint, timeout_ms, &rc);
    if (!sock)
        return rc;
    zactor_t *actor = zflow_hub_actor (self);
    //  once sent, the socket is the actor's, also when it refuses it
    if (zsock_send (actor, "ssp", "ATTACH", endpoint, sock) != 0) {
        zsock_destroy (&sock);
        return ZFLOW_ECLOSED;
    }
    rc = ZFLOW_ECLOSED;
    zsock_recv (actor, "i", &rc);
    return rc;
}

int zflow_hub_detach (zflow_hub_t *self, const char *endpoint)
{
    if (!self || !endpoint || !*endpoint)
        return ZFLOW_EINVAL;
    zactor_t *actor = zflow_hub_actor (self);
    int rc = ZFLOW_ECLOSED;
    if (zsock_send (actor, "ss", "DETACH", endpoint) == 0)
        zsock_recv (actor, "i", &rc);
    return rc;
}
