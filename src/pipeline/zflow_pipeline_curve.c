/*  =========================================================================
    zflow_pipeline_curve - CURVE security on the ZeroMQ endpoints of stages

    A stage that binds is the CURVE server: it loads its certificate (a czmq
    zcert file pair, "name" public and "name_secret" secret) and sets
    curve_server. A stage that connects loads its own certificate and the
    server's public key, from a zcert file or as 40 characters of Z85.
    Without a ZAP handler libzmq accepts any client key; a client that does
    not know the server's public key (or speaks no CURVE) is refused.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  Loads a certificate, logging which file failed.
static zcert_t *s_load (const char *stage, const char *path)
{
    zcert_t *cert = zcert_load (path);
    if (!cert)
        zsys_error ("%s: cannot load CURVE certificate '%s'", stage, path);
    return cert;
}

//  Returns the server key as Z85 text (a copy the caller frees), or NULL.
static char *s_server_key (const char *stage, const char *key)
{
    if (strlen (key) == 40 && !zsys_file_exists (key))
        return strdup (key);
    zcert_t *cert = s_load (stage, key);
    char *text = cert ? strdup (zcert_public_txt (cert)) : NULL;
    zcert_destroy (&cert);
    return text;
}

int zflow__stage_curve (const zflow__stage_t *stage, zsock_t *sock, bool is_server)
{
    if (is_server && stage->server_cert) {
        zcert_t *cert = s_load (stage->name, stage->server_cert);
        if (!cert)
            return ZFLOW_ECONFIG;
        zcert_apply (cert, sock);
        zsock_set_curve_server (sock, 1);
        zcert_destroy (&cert);
        return 0;
    }
    if (!is_server && stage->server_key) {
        zcert_t *cert =
            stage->client_cert ? s_load (stage->name, stage->client_cert) : zcert_new ();
        char *server_key = s_server_key (stage->name, stage->server_key);
        int rc = ZFLOW_ECONFIG;
        if (cert && server_key) {
            zcert_apply (cert, sock);
            zsock_set_curve_serverkey (sock, server_key);
            rc = 0;
        }
        zcert_destroy (&cert);
        free (server_key);
        return rc;
    }
    return 0;
}
