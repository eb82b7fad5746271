/*  =========================================================================
    zflow_hpfeeds_client - the hpfeeds client actor (internal; the public
    wrapper is zflow_hpfeeds.c)

    The actor owns three parts and joins them on its loop:
        the connection    zflow_hpfeeds_conn.c    TCP, TLS, auth, reconnect,
                                                  writes
        the receive codec zflow_hpfeeds_recv.c    received frames to the
                                                  reader and the output
        the outbox        zflow_hpfeeds_outbox.c  publish frames to send
    and keeps the commands, STATS, events and the publish_from streams.

    Commands on the pipe (each answered with one "i" status):
        SUBSCRIBE channel, UNSUBSCRIBE channel, STATUS (answers connected),
        PUBLISH FROM socktype endpoint subscribe channel
    Data: publishes arrive in the hand-off buffer (zflow_hpfeeds_handoff.h),
    large ones on the PULL socket at args->input, each one frame holding a
    complete hpfeeds publish frame the wrapper encoded; received messages
    leave as envelopes on the XPUB socket at args->output (only while
    someone subscribes there) and, for the wrapper's reader, as batches on
    the PUSH socket at args->batch: one frame holding up to S_BATCH_MSGS
    whole publish frames with valid channels, byte for byte as the broker
    sent them (the wrapper unpacks them into envelopes); events leave on
    the PUSH socket connected to args->events (bound by the wrapper) as two
    frames [type (decimal), text].

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_CLIENT_H_INCLUDED
#define ZFLOW_HPFEEDS_CLIENT_H_INCLUDED

#include "zflow_hpfeeds.h"
#include "zflow_hpfeeds_handoff.h"
#include <czmq.h>

//  What the wrapper hands the actor (read before the actor signals ready).
typedef struct {
    zflow_hpfeeds_config_t config;    //  checked settings (strings owned by the wrapper)
    const char *input;                //  endpoint of the publish PULL socket
    const char *output;               //  endpoint of the output PUB socket
    const char *events;               //  endpoint of the event PUSH socket
    const char *batch;                //  endpoint of the reader's batch PUSH socket, or NULL
    zflow_hpfeeds_handoff_t *handoff; //  the publish hand-off (owned by the wrapper)
} zflow_hpfeeds_args_t;

//  The actor function (zactor_fn); args is a zflow_hpfeeds_args_t.
void zflow__hpfeeds_client_actor (zsock_t *pipe, void *args);

#endif
