/*  =========================================================================
    zflow_hub_internal - what the hub shares with its publishers and
    subscribers (internal, not installed)

    How a zflow subscriber tells the hub about its patterns. Its socket is
    an XSUB, which sends (un)subscriptions upstream and may send other
    messages upstream too; the hub's XPUB (ZMQ_XPUB_VERBOSER) hands the hub
    both, in order:

        "\x01" "\0p" <uid>                presence: subscribed once at start
                                           ("\0r" for a remote subscriber)
        "\x01" <literal prefix>             what ZeroMQ filters on
        "A" <uid> "\0" <pattern wire> "\0" <n>
                                           the subscriber now has n (absolute,
                                           so repeating it is harmless)
                                           subscriptions to the pattern
        "F" <uid> "\0" <seq>                a fence: the hub records seq, and a
                                           local subscriber waits for it

    When the subscriber's socket closes (or its peer is lost) libzmq
    unsubscribes its topics, presence included, and the hub drops all its
    patterns. When a remote presence topic arrives (connect or reconnect)
    the hub publishes a "hello" envelope under that topic (of the zflow
    subscribers only this one matches it; a plain SUB subscribed to
    everything sees it, with a key that does not decode) and the subscriber
    announces all its patterns again. inproc does not reconnect: local
    subscribers need no hello. Nothing
    but the presence and the literal prefixes is stored in libzmq's tries.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_INTERNAL_H_INCLUDED
#define ZFLOW_HUB_INTERNAL_H_INCLUDED

#include "zflow_hub.h"
#include <stdint.h>

#define ZFLOW_HUB_PRESENCE 'p'
#define ZFLOW_HUB_PRESENCE_REMOTE 'r'
//  Longest subscriber uid.
#define ZFLOW_HUB_MAX_UID 64

//  Waits until the hub has seen fence seq (or a later one) from the
//  subscriber uid. Returns 0, ZFLOW_ETIMEDOUT or ZFLOW_ECLOSED (the hub
//  was destroyed).
int zflow__hub_wait_fence (zflow_hub_t *self, const char *uid, uint64_t seq, int timeout_ms);

//  Publishers and subscribers of a local hub hold a reference on it, so
//  that the struct (its lock and its closed flag) outlives the hub's
//  destroy until they are gone. zflow__hub_unref sets *self_p to NULL.
void zflow__hub_ref (zflow_hub_t *self);
void zflow__hub_unref (zflow_hub_t **self_p);

//  Returns the hub of this process called name with a reference taken
//  (zflow__hub_unref it), or NULL when there is none.
zflow_hub_t *zflow__hub_lookup (const char *name);

#endif
