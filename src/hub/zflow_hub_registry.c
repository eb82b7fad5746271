/*  =========================================================================
    zflow_hub_registry - the hubs of the process by name, and their
    reference counts

    The pipeline's hub stages find a hub by name (zflow__hub_lookup).
    Publishers and subscribers of a local hub hold a reference on it, so
    the struct outlives zflow_hub_destroy until the last of them is gone;
    the counts share the registry's lock so that a lookup and the last
    unref cannot race.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_hub_internal.h"
#include "zflow_hub_private.h"
#include <inttypes.h>
#include <unistd.h>

//  The hubs of the process by name, for zflow__hub_lookup, and the
//  reference counts of all hubs.
static pthread_mutex_t s_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static zhashx_t *s_registry; //  name -> zflow_hub_t (not owned)
static uint64_t s_anonymous; //  hubs named "hub-<n>-<pid>" so far

//  Adds self to the registry under its name. Returns 0 or ZFLOW_EENDPOINT
//  (the name is taken) / ZFLOW_ENOMEM.
int zflow__hub_register (zflow_hub_t *self)
{
    pthread_mutex_lock (&s_registry_lock);
    if (!s_registry)
        s_registry = zhashx_new ();
    int rc = !s_registry                                    ? ZFLOW_ENOMEM
             : zhashx_insert (s_registry, self->name, self) ? ZFLOW_EENDPOINT
                                                            : 0;
    pthread_mutex_unlock (&s_registry_lock);
    return rc;
}

void zflow__hub_unregister (zflow_hub_t *self)
{
    pthread_mutex_lock (&s_registry_lock);
    if (s_registry && zhashx_lookup (s_registry, self->name) == self)
        zhashx_delete (s_registry, self->name);
    if (s_registry && zhashx_size (s_registry) == 0)
        zhashx_destroy (&s_registry); //  nothing left behind at exit
    pthread_mutex_unlock (&s_registry_lock);
}

//  Makes up a name no other hub of this process has had.
char *zflow__hub_anonymous_name (void)
{
    pthread_mutex_lock (&s_registry_lock);
    uint64_t n = ++s_anonymous;
    pthread_mutex_unlock (&s_registry_lock);
    return zsys_sprintf ("hub-%" PRIu64 "-%d", n, (int) getpid ());
}

void zflow__hub_ref (zflow_hub_t *self)
{
    pthread_mutex_lock (&s_registry_lock);
    self->refs++;
    pthread_mutex_unlock (&s_registry_lock);
}

void zflow__hub_unref (zflow_hub_t **self_p)
{
    zflow_hub_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    *self_p = NULL;
    pthread_mutex_lock (&s_registry_lock);
    bool last = --self->refs == 0;
    pthread_mutex_unlock (&s_registry_lock);
    if (last) {
        pthread_mutex_destroy (&self->lock);
        pthread_cond_destroy (&self->fenced);
        free (self);
    }
}

zflow_hub_t *zflow__hub_lookup (const char *name)
{
    pthread_mutex_lock (&s_registry_lock);
    zflow_hub_t *hub = s_registry && name ? (zflow_hub_t *) zhashx_lookup (s_registry, name) : NULL;
    if (hub)
        hub->refs++;
    pthread_mutex_unlock (&s_registry_lock);
    return hub;
}
