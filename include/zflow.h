/*  =========================================================================
    zflow - a ZeroMQ-native stream framework: the umbrella header

    Conventions (docs/conventions.md). Each class has its own header,
    zflow_<class>.h, and every public name starts with zflow_<class>_. A
    class with settings is created by zflow_X_new (&config, &err): it copies
    the config (initialise it with zflow_X_config_init; NULL = defaults) and
    on failure returns NULL with err set to a negative zflow_error_t
    (zflow_error_text describes it). Actor classes offer zflow_X_stats
    (self, timeout_ms), zflow_X_set_verbose (self, bool), zflow_X_endpoint
    and zflow_X_actor. zflow_X_destroy (&p) is idempotent, NULL-safe and
    sets p to NULL, and related objects may be destroyed in any order.
    Arguments are borrowed unless passed as T **, which the callee takes
    over; a const char * result belongs to the object, a char * or zhash_t *
    result to the caller. Each function's comment says the same in detail.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_H_INCLUDED
#define ZFLOW_H_INCLUDED

#define ZFLOW_VERSION_MAJOR 0
#define ZFLOW_VERSION_MINOR 1
#define ZFLOW_VERSION_PATCH 0

#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_key.h"
#include "zflow_meta.h"
#include "zflow_msg.h"
#include "zflow_stream.h"
#include <czmq.h>

//  The hub
#include "zflow_hub.h"
#include "zflow_hub_publisher.h"
#include "zflow_hub_subscriber.h"

//  hpfeeds adapter and broker
#include "zflow_hpfeeds.h"
#include "zflow_hpfeeds_broker.h"

//  WebSocket feeds
#include "zflow_ws.h"

//  Centrifugo
#include "zflow_centrifugo.h"
#include "zflow_centrifugo_sink.h"
#include "zflow_centrifugo_source.h"
#include "zflow_mqtt.h"
#include "zflow_redis.h"
#include "zflow_redis_sink.h"
#include "zflow_redis_source.h"

//  Pipelines, and the adapters that add their stages
#include "zflow_adapter.h"
#include "zflow_pipeline.h"

#endif
