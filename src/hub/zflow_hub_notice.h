/*  =========================================================================
    zflow_hub_notice - the hub's codec: subscriber notices as msgpack

    Internal (not installed). The hub publishes, for each subscription added
    or removed, under ("Hub", "addedSubscriber", <pattern...>) or ("Hub",
    "removedSubscriber", <pattern...>), one envelope whose payload is the
    msgpack map

        { "key": [ <pattern components as str> ... ],
          "currentSubscriberCount": <uint> }

    This file and src/zflow_meta.c are the only ones that include msgpack.h.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_NOTICE_H_INCLUDED
#define ZFLOW_HUB_NOTICE_H_INCLUDED

#include "zflow_msg.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Resets msg and fills it with the notice envelope for a pattern (wire form,
//  size bytes) whose subscription count is now count. Returns 0, or
//  ZFLOW_ETOOBIG (the notice key would have more than ZFLOW_KEY_MAX_PARTS + 2
//  components), ZFLOW_EPROTO (bad wire form) or ZFLOW_ENOMEM.
int zflow__hub_notice_encode (zflow_msg_t *msg, bool added, const void *wire, size_t size,
                              uint64_t count);

#endif
