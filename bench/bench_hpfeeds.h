/*  =========================================================================
    bench_hpfeeds - the set-up the hpfeeds benchmarks share: an embedded
    broker on 127.0.0.1 with a publishing and a subscribing client

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef BENCH_HPFEEDS_H_INCLUDED
#define BENCH_HPFEEDS_H_INCLUDED

#include "zflow.h"

typedef struct {
    zflow_hpfeeds_broker_t *broker; //  the embedded broker
    zflow_hpfeeds_t *pub;           //  ident "pub", may publish to the channel
    zflow_hpfeeds_t *sub;           //  ident "sub", subscribed to the channel
} bench_hpfeeds_t;

//  Starts the broker and both clients on channel and waits until both are
//  connected (and 100 ms more: the subscription is not acknowledged).
//  lossless: the broker stalls the publisher for a slow subscriber and the
//  publisher blocks, instead of dropping. Returns 0, or -1 (nothing left
//  running).
static inline int bench_hpfeeds_start (bench_hpfeeds_t *self, const char *channel, bool lossless)
{
    zflow_hpfeeds_broker_config_t broker_config;
    zflow_hpfeeds_broker_config_init (&broker_config);
    broker_config.name = "bench";
    if (lossless)
        broker_config.slow_policy = ZFLOW_HPFEEDS_SLOW_BLOCK;
    self->broker = zflow_hpfeeds_broker_new (&broker_config, NULL);
    const char *chans[] = {channel, NULL};
    zflow_hpfeeds_broker_add_user (self->broker, "pub", "s", chans, NULL);
    zflow_hpfeeds_broker_add_user (self->broker, "sub", "s", NULL, chans);
    int port = zflow_hpfeeds_broker_bind (self->broker, "127.0.0.1", 0);
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.secret = "s";
    config.ident = "sub";
    self->sub = zflow_hpfeeds_new (&config, NULL);
    config.ident = "pub";
    if (lossless)
        config.outbox_policy = ZFLOW_HPFEEDS_BLOCK;
    self->pub = zflow_hpfeeds_new (&config, NULL);
    int64_t deadline = zclock_mono () + 5000;
    if (port > 0 && self->pub && self->sub && zflow_hpfeeds_subscribe (self->sub, channel) == 0)
        while (zclock_mono () < deadline &&
               !(zflow_hpfeeds_connected (self->sub) && zflow_hpfeeds_connected (self->pub)))
            zclock_sleep (10);
    if (!self->pub || !self->sub || !zflow_hpfeeds_connected (self->sub) ||
        !zflow_hpfeeds_connected (self->pub)) {
        zflow_hpfeeds_destroy (&self->pub);
        zflow_hpfeeds_destroy (&self->sub);
        zflow_hpfeeds_broker_destroy (&self->broker);
        return -1;
    }
    zclock_sleep (100);
    return 0;
}

//  Stops both clients and the broker.
static inline void bench_hpfeeds_stop (bench_hpfeeds_t *self)
{
    zflow_hpfeeds_destroy (&self->pub);
    zflow_hpfeeds_destroy (&self->sub);
    zflow_hpfeeds_broker_destroy (&self->broker);
}

#endif
