/*  =========================================================================
    zflow - a ZeroMQ-native stream framework: the umbrella header

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

//  Pipelines, and the adapters that add their stages
#include "zflow_adapter.h"
#include "zflow_pipeline.h"

#endif
