/*  =========================================================================
    zflow_hub_internal - what the hub shares with its publishers and
    subscribers (internal, not installed)

    A local subscriber's subscription travels SUB -> XPUB -> hub actor; to
    know when the hub has seen it, the subscriber sends a "fence" (a
    subscription the hub records per subscriber id) and waits for it here.

    ZeroMQ-side topics a zflow subscriber sends besides its literal
    prefixes (they start with NUL, which no key frame holds, so they never
    match a message):

        "\0P" <pattern wire> "\0" <uid>      one per subscription (tag)
        "\0F" <uid> "\0" <seq>               a fence

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_INTERNAL_H_INCLUDED
#define ZFLOW_HUB_INTERNAL_H_INCLUDED

#include <stdint.h>
#include "zflow_hub.h"

#define ZFLOW_HUB_TAG 'P'
#define ZFLOW_HUB_FENCE 'F'

//  Waits until the hub has seen fence seq (or a later one) from the
//  subscriber uid. Returns 0 or ZFLOW_ETIMEDOUT.
int zflow__hub_wait_fence (zflow_hub_t *self, const char *uid, uint64_t seq, int timeout_ms);

#endif
