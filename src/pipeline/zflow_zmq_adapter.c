/*  =========================================================================
    zflow_zmq_adapter - ZeroMQ endpoints: pull, sub (sources), push, pub
    (sinks)

    Four descriptors sharing one option table and one constructor: the
    socket type is the adapter. `zflow pub tcp://...` finds push (the first
    sink serving tcp), `zflow sub tcp://...` finds sub; --type picks
    another one.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter_list.h"
#include <string.h>
#include <strings.h>

//  The configuration of every ZeroMQ endpoint type.
typedef struct {
    const char *bind;        //  endpoints to bind
    const char *connect;     //  endpoints to connect
    const char *server_cert; //  CURVE: zcert file when binding
    const char *client_cert; //  CURVE: zcert file when connecting
    const char *server_key;  //  CURVE: server public key (zcert file or Z85)
    const char *subscribe;   //  sub: key prefixes
} s_endpoint_t;

#define S_BIND                                                                                     \
    {                                                                                              \
        "bind", ZFLOW_ADAPTER_STRING, false, NULL, NULL,                                           \
            "endpoints to bind, comma-separated (tcp://127.0.0.1:*, ipc://...)",                   \
            offsetof (s_endpoint_t, bind), 0                                                       \
    }
#define S_CURVE                                                                                    \
    {"server_cert",                                                                                \
     ZFLOW_ADAPTER_STRING,                                                                         \
     false,                                                                                        \
     NULL,                                                                                         \
     NULL,                                                                                         \
     "CURVE server: czmq zcert file (with its _secret file), binding side",                        \
     offsetof (s_endpoint_t, server_cert),                                                         \
     0},                                                                                           \
        {"client_cert",                                                                            \
         ZFLOW_ADAPTER_STRING,                                                                     \
         false,                                                                                    \
         NULL,                                                                                     \
         NULL,                                                                                     \
         "CURVE client: zcert file, connecting side (default: a new key)",                         \
         offsetof (s_endpoint_t, client_cert),                                                     \
         0},                                                                                       \
    {                                                                                              \
        "server_key", ZFLOW_ADAPTER_STRING, false, NULL, NULL,                                     \
            "CURVE client: server public key, zcert file or 40-char Z85",                          \
            offsetof (s_endpoint_t, server_key), 0                                                 \
    }

static const zflow_adapter_option_t s_endpoint_options[] = {
    S_BIND,
    {"connect", ZFLOW_ADAPTER_STRING, false, NULL, NULL, "endpoints to connect, comma-separated",
     offsetof (s_endpoint_t, connect), 0},
    S_CURVE,
    {NULL}};

//  sub: the same and the key prefixes it subscribes to.
static const zflow_adapter_option_t s_sub_options[] = {
    S_BIND,
    {"connect", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "endpoints to connect, comma-separated (e.g. a hub's bound sub endpoint)",
     offsetof (s_endpoint_t, connect), 0},
    {"subscribe", ZFLOW_ADAPTER_STRING, false, NULL, NULL,
     "key prefixes a/b, comma-separated (default: everything)", offsetof (s_endpoint_t, subscribe),
     0},
    S_CURVE,
    {NULL}};

//  Checks a tcp:// endpoint to connect to (others pass): libzmq takes
//  port 99999 and then connects nowhere, silently, for ever. In the
//  "tcp://SOURCE;HOST:PORT" form only HOST:PORT is checked. Returns 0 or
//  -1 with err set.
static int s_check_connect (const char *endpoint, char *err, size_t errsize)
{
    if (strlen (endpoint) > ZFLOW_ADAPTER_URL_MAX) {
        snprintf (err, errsize, "'%.100s...': longer than %d bytes (%zu)", endpoint,
                  ZFLOW_ADAPTER_URL_MAX, strlen (endpoint));
        return -1;
    }
    if (strncasecmp (endpoint, "tcp://", 6))
        return 0;
    const char *semicolon = strrchr (endpoint, ';');
    char url[ZFLOW_ADAPTER_URL_MAX + 8];
    snprintf (url, sizeof (url), "tcp://%s", semicolon ? semicolon + 1 : endpoint + 6);
    zflow_adapter_url_t parsed;
    if (zflow_adapter_url_parse (url, &parsed, err, errsize))
        return -1;
    const char *missing = parsed.userinfo ? "no USER@ in a ZeroMQ endpoint"
                          : !parsed.port  ? "no :PORT"
                          : *parsed.path  ? "no /PATH in a ZeroMQ endpoint"
                                          : NULL;
    if (missing) {
        snprintf (err, errsize, "'%.100s%s' is not tcp://HOST:PORT (%s)", endpoint,
                  strlen (endpoint) > 100 ? "..." : "", missing);
        return -1;
    }
    return 0;
}

//  A URL is the endpoint to connect (--bind ENDPOINT binds instead).
static int s_from_url (const char *url, int role, zconfig_t *section, char *err, size_t errsize)
{
    (void) role;
    if (s_check_connect (url, err, errsize))
        return -1;
    zconfig_put (section, "connect", url);
    return 0;
}

//  Checks every endpoint of the connect list. Returns 0 or -1 (err set).
static int s_check_connects (const char *list, char *err, size_t errsize)
{
    char *copy = strdup (list ? list : ""), *save = NULL;
    int rc = 0;
    for (char *ep = strtok_r (copy, ", ", &save); ep && rc == 0; ep = strtok_r (NULL, ", ", &save))
        rc = s_check_connect (ep, err, errsize);
    free (copy);
    return rc;
}

//  Checks the CURVE files before anything starts. Returns 0 or -1.
static int s_check_curve (const s_endpoint_t *config, char *err, size_t errsize)
{
    if ((config->server_cert && !config->bind) || (config->server_key && !config->connect)) {
        snprintf (err, errsize, "'server_cert' goes with 'bind', 'server_key' with 'connect'");
        return -1;
    }
    //  a missing key file is a configuration error, found before anything starts
    const char *files[] = {
        config->server_cert, config->client_cert,
        config->server_key && strlen (config->server_key) != 40 ? config->server_key : NULL};
    const char *names[] = {"server_cert", "client_cert", "server_key"};
    for (int i = 0; i < 3; i++) {
        char secret[1024];
        snprintf (secret, sizeof (secret), "%s_secret", files[i] ? files[i] : "");
        if (files[i] && (!zsys_file_exists (files[i]) || (i < 2 && !zsys_file_exists (secret)))) {
            snprintf (err, errsize, "'%s': no such zcert file '%s'%s", names[i], files[i],
                      i < 2 ? " (with its _secret file)" : "");
            return -1;
        }
    }
    return 0;
}

static int s_add (zflow_pipeline_t *pipeline, const char *name, const char *type, bool source,
                  const s_endpoint_t *config, char *err, size_t errsize)
{
    if (!config->bind == !config->connect) {
        snprintf (err, errsize, "needs exactly one of 'bind' or 'connect'");
        return -1;
    }
    if (s_check_curve (config, err, errsize) || s_check_connects (config->connect, err, errsize))
        return -1;
    zflow_pipeline_set_curve (pipeline, config->server_cert, config->client_cert,
                              config->server_key);
    int rc = source ? zflow_pipeline_source (pipeline, name, type, config->bind, config->connect)
                    : zflow_pipeline_sink (pipeline, name, type, config->bind, config->connect);
    zflow_pipeline_set_curve (pipeline, NULL, NULL, NULL);
    if (rc == 0 && config->subscribe)
        rc = zflow_pipeline_subscribe (pipeline, config->subscribe);
    if (rc)
        snprintf (err, errsize, "%s", zflow_pipeline_error_text (pipeline));
    return rc;
}

#define S_ADD(fname, type, source)                                                                 \
    static int fname (zflow_pipeline_t *pipeline, const char *name, const void *config, char *err, \
                      size_t errsize)                                                              \
    {                                                                                              \
        return s_add (pipeline, name, type, source, (const s_endpoint_t *) config, err, errsize);  \
    }
S_ADD (s_add_pull, "pull", true)
S_ADD (s_add_sub, "sub", true)
S_ADD (s_add_push, "push", false)
S_ADD (s_add_pub, "pub", false)

#define S_SCHEMES "tcp|ipc|inproc|pgm|epgm|vmci"

const zflow_adapter_t zflow__adapter_pull = {
    .name = "pull",
    .summary = "reads a ZeroMQ PULL socket (envelopes pass, other messages are wrapped)",
    .url_form = "tcp://HOST:PORT (zflow sub --type pull)",
    .config_size = sizeof (s_endpoint_t),
    .options = s_endpoint_options,
    .from_url = s_from_url,
    .source = s_add_pull};

const zflow_adapter_t zflow__adapter_sub = {
    .name = "sub",
    .schemes = S_SCHEMES,
    .summary = "reads a ZeroMQ SUB socket (a PUB, a hub), by key prefix",
    .url_form = "tcp://HOST:PORT, ipc://PATH, ...",
    .config_size = sizeof (s_endpoint_t),
    .options = s_sub_options,
    .from_url = s_from_url,
    .source = s_add_sub};

const zflow_adapter_t zflow__adapter_push = {.name = "push",
                                             .schemes = S_SCHEMES,
                                             .summary = "writes envelopes to a ZeroMQ PUSH socket",
                                             .url_form = "tcp://HOST:PORT, ipc://PATH, ...",
                                             .config_size = sizeof (s_endpoint_t),
                                             .options = s_endpoint_options,
                                             .from_url = s_from_url,
                                             .sink = s_add_push};

const zflow_adapter_t zflow__adapter_pub = {.name = "pub",
                                            .summary = "writes envelopes to a ZeroMQ PUB socket",
                                            .url_form = "tcp://HOST:PORT (zflow pub --type pub)",
                                            .config_size = sizeof (s_endpoint_t),
                                            .options = s_endpoint_options,
                                            .from_url = s_from_url,
                                            .sink = s_add_pub};
