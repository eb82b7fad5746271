/*  =========================================================================
    zflow_hub_subscriber_internal - between the subscriber object and its
    actor (internal, not installed)

    Commands on the actor pipe (pictures as zsock_send):
        "SUB"    b wire, i kind, i id, p fn, p arg, s endpoint
                 -> "i" rc only for kind S_ACTOR
        "UNSUB"  b wire, i kind, i id          -> "i" rc
        "REMOVE_LISTENERS"                     -> "i" count removed
        "FENCE"  s seq, i reply                -> "i" 0 when reply != 0
        "QUEUE"  i limit, i policy

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_SUBSCRIBER_INTERNAL_H_INCLUDED
#define ZFLOW_HUB_SUBSCRIBER_INTERNAL_H_INCLUDED

#include "zflow_hub.h"
#include "zflow_hub_subscriber.h"

//  Kinds of subscription.
#define S_QUEUE 0 //  the subscriber's queue
#define S_SYNC 1  //  a sync listener
#define S_ACTOR 2 //  an actor listener

//  What the subscriber object gives its actor at start (read before ready).
typedef struct {
    const char *endpoint;           //  the hub's XPUB endpoint
    const char *queue_endpoint;     //  inproc endpoint for the queue PAIR
    const char *uid;                //  unique id, for presence, announcements, fences
    const char *id;                 //  the user's id, for logs
    const zflow_hub_curve_t *curve; //  CURVE client settings, or NULL
    bool remote;                    //  made with zflow_hub_subscriber_new_remote
} zflow_hub_sub_args_t;

void zflow__hub_subscriber_actor (zsock_t *pipe, void *args);

#endif
