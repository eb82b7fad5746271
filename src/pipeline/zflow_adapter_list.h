/*  =========================================================================
    zflow_adapter_list - the built-in adapters, one line each

    Internal. A new adapter is one folder with its descriptor file
    (src/<module>/zflow_<module>_adapter.c defining zflow__adapter_<name>)
    and one line here. The order is the order of `zflow help`: sources,
    stages, sinks, then the adapters that are both.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_ADAPTER_LIST_H_INCLUDED
#define ZFLOW_ADAPTER_LIST_H_INCLUDED

#include "zflow_adapter.h"

#define ZFLOW__ADAPTERS(X)                                                                         \
    X (pull)       /* src/pipeline/zflow_zmq_adapter.c */                                          \
    X (sub)        /* src/pipeline/zflow_zmq_adapter.c */                                          \
    X (synthetic)  /* src/pipeline/zflow_synthetic_adapter.c */                                    \
    X (merge)      /* src/pipeline/zflow_stage_adapter.c  */                                       \
    X (filter)     /* src/pipeline/zflow_stage_adapter.c  */                                       \
    X (nonempty)   /* src/pipeline/zflow_stage_adapter.c  */                                       \
    X (rekey)      /* src/pipeline/zflow_stage_adapter.c  */                                       \
    X (encode)     /* src/pipeline/zflow_stage_adapter.c  */                                       \
    X (push)       /* src/pipeline/zflow_zmq_adapter.c */                                          \
    X (pub)        /* src/pipeline/zflow_zmq_adapter.c */                                          \
    X (file)       /* src/pipeline/zflow_file_adapter.c */                                         \
    X (hub)        /* src/hub/zflow_hub_adapter.c */                                               \
    X (hpfeeds)    /* src/hpfeeds/zflow_hpfeeds_adapter.c */                                       \
    X (ws)         /* src/ws/zflow_ws_adapter.c */                                                 \
    X (centrifugo) /* src/centrifugo/zflow_centrifugo_adapter.c */                                 \
    X (redis)      /* src/redis/zflow_redis_adapter.c */                                           \
    X (mqtt)       /* src/mqtt/zflow_mqtt_adapter.c */

#define ZFLOW__ADAPTER_DECLARE(name) extern const zflow_adapter_t zflow__adapter_##name;
ZFLOW__ADAPTERS (ZFLOW__ADAPTER_DECLARE)
#undef ZFLOW__ADAPTER_DECLARE

#endif
