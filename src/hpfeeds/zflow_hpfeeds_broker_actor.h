/*  =========================================================================
    zflow_hpfeeds_broker_actor - the hpfeeds broker actor function
    (internal; zflow_hpfeeds_broker_api.c wraps it)

    args is a zflow_hpfeeds_broker_config_t with checked settings (name
    not NULL), read before the actor is ready. Commands on the pipe, each
    answered on the pipe:
        ADD USER ident secret npub pubchan... subchan...   -> "i" status
        LOAD JSON path, LOAD ZPL path                    -> "is" count or error, text
        BIND host port                                   -> "i" port or error
        DRAIN timeout_ms                                 -> "i" frames lost, when done

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_BROKER_ACTOR_H_INCLUDED
#define ZFLOW_HPFEEDS_BROKER_ACTOR_H_INCLUDED

#include <czmq.h>

//  The actor function (zactor_fn).
void zflow__hpfeeds_broker_actor (zsock_t *pipe, void *args);

#endif
