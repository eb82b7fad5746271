/*  =========================================================================
    zflow_hpfeeds_client - the hpfeeds client actor (internal; the public
    wrapper is zflow_hpfeeds.c)

    Commands on the pipe (each answered with one "i" status):
        SUBSCRIBE channel, UNSUBSCRIBE channel, STATUS (answers connected),
        PUBLISH FROM socktype endpoint subscribe channel
    Data: publishes arrive on the PULL socket at args->input, each one
    frame holding a complete hpfeeds publish frame the wrapper encoded; received messages leave on the PUB socket at
    args->output; events leave on the PUSH socket connected to args->events
    (bound by the wrapper) as two
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

//  What the wrapper hands the actor (read before the actor signals ready).
typedef struct {
    zflow_hpfeeds_config_t config;  //  checked settings (strings owned by the wrapper)
    const char *input;              //  endpoint of the publish PULL socket
    const char *output;             //  endpoint of the output PUB socket
    const char *events;             //  endpoint of the event PUSH socket
} zflow_hpfeeds_args_t;

//  The actor function (zactor_fn).
void zflow__hpfeeds_client_actor (zsock_t *pipe, void *args);

#endif
