/*  =========================================================================
    zflow_hub_auth - the zauth actor that the CURVE hubs of a process share

    ZeroMQ's ZAP handler is per context, so there is one zauth for all the
    hubs of the process: the first hub with CURVE starts it, the last one
    destroyed stops it, and its allow directory is the same for all.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_hub_private.h"

//  ZeroMQ's ZAP handler is per context: the hubs of a process share one zauth.
static pthread_mutex_t s_auth_lock = PTHREAD_MUTEX_INITIALIZER;
static zactor_t *s_auth;      //  the shared zauth actor
static size_t s_auth_refs;    //  hubs using it
static char s_auth_dir[1024]; //  its CURVE allow directory ("" = any)

void zflow__hub_auth_release (void)
{
    pthread_mutex_lock (&s_auth_lock);
    if (s_auth_refs && --s_auth_refs == 0)
        zactor_destroy (&s_auth);
    pthread_mutex_unlock (&s_auth_lock);
}

int zflow__hub_auth_acquire (const char *allow_dir)
{
    const char *dir = allow_dir ? allow_dir : "";
    int rc = 0;
    pthread_mutex_lock (&s_auth_lock);
    if (s_auth_refs && strcmp (s_auth_dir, dir) != 0)
        rc = ZFLOW_ECONFIG; //  zauth's CURVE policy is process-wide
    else if (!s_auth) {
        s_auth = zactor_new (zauth, NULL);
        if (s_auth && strlen (dir) < sizeof (s_auth_dir)) {
            zstr_sendx (s_auth, "CURVE", *dir ? dir : CURVE_ALLOW_ANY, NULL);
            zsock_wait (s_auth);
            snprintf (s_auth_dir, sizeof (s_auth_dir), "%s", dir);
        } else {
            zactor_destroy (&s_auth);
            rc = ZFLOW_ECONFIG;
        }
    }
    if (rc == 0)
        s_auth_refs++;
    pthread_mutex_unlock (&s_auth_lock);
    return rc;
}
