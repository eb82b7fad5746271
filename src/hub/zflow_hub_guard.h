/*  =========================================================================
    zflow_hub_guard - the hub's limits on its remote subscribers (internal,
    not installed)

    libzmq shows an XPUB socket's peers neither one by one nor their
    connections, and has no way to drop one. Every message a tcp:// or
    ipc:// peer sends carries the file descriptor of its connection
    (ZMQ_SRCFD), so the guard keeps, per connection the hub heard from:
    the subscriptions it holds (each costs memory in libzmq's trie, ~50
    bytes per byte of topic), and for tcp how many bytes it has taken
    (TCP_INFO). It drops a connection by shutting its socket down (libzmq
    then closes it and unsubscribes all it held) when:

    - it holds more than max_peer_subscriptions subscriptions, or all
      remote connections together hold more than max_bytes of topics (then
      the connection holding the most goes);
    - the hub has been holding its publishers back for stall_limit_ms (a
      lossless subscriber is full) and a tcp connection with data waiting
      has taken no byte for as long: whatever it sends (pings,
      subscriptions) it is not reading.

    A socket is told from a later one on the same descriptor by its inode.
    Stall detection needs TCP_INFO (Linux); ipc:// peers are only counted
    (a Unix socket tells no bytes taken).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_GUARD_H_INCLUDED
#define ZFLOW_HUB_GUARD_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _zflow_hub_guard_t zflow_hub_guard_t;

//  Creates a guard with these limits (stall_limit_ms <= 0: never drop a
//  stalled subscriber). Returns NULL when out of memory. The caller owns it.
zflow_hub_guard_t *zflow__hub_guard_new (size_t max_peer_subscriptions, size_t max_bytes,
                                         int stall_limit_ms);

//  Destroys the guard (the connections stay as they are). NULL-safe.
void zflow__hub_guard_destroy (zflow_hub_guard_t **self_p);

//  How often zflow__hub_guard_check wants to run, in milliseconds.
int zflow__hub_guard_interval (zflow_hub_guard_t *self);

//  Accounts one message the XPUB side received (zmq_msg, a zmq_msg_t *,
//  borrowed): delta +1 for a subscription of size bytes, -1 for an
//  unsubscription, 0 for anything else. Returns false when the message
//  must be ignored: it comes from a connection the guard dropped, or this
//  one took it past a limit (and it was dropped now). A message from no
//  connection (inproc) is always true.
bool zflow__hub_guard_account (zflow_hub_guard_t *self, void *zmq_msg, int delta, size_t size);

//  The periodic check: forgets closed connections and, when paused_since
//  (zclock_mono when the hub began holding publishers back, 0 when it is
//  not) is stall_limit_ms ago or more, drops each tcp connection that has
//  data waiting and has taken nothing for that long.
void zflow__hub_guard_check (zflow_hub_guard_t *self, int64_t paused_since);

//  Adds the guard's counters to a STATS reply: stalled_disconnects,
//  subscription_disconnects, remote_connections, remote_subscriptions,
//  remote_subscription_bytes, refused_messages.
void zflow__hub_guard_stats (zflow_hub_guard_t *self, zmsg_t *reply);

#endif
