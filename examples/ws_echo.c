/*  =========================================================================
    ws_echo - an Autobahn|Testsuite echo client built on zflow_ws.h alone

        ws_echo BASE_URL [AGENT] [--no-deflate] [--case N]

    BASE_URL      where `wstest -m fuzzingserver` listens, e.g. ws://127.0.0.1:9001
    AGENT         the agent name in the reports (default "zflow")
    --no-deflate  do not offer permessage-deflate
    --case N      run case N only (default: every case)

    It asks the server for the number of cases (/getCaseCount), then for
    each case opens /runCase?case=N&agent=AGENT and sends every message
    back as it came (text as text, binary as binary, in order) until the
    server ends the connection, and finally asks the server to write its
    reports (/updateReports). Each connection is one zflow_ws_t feed that
    never reconnects: a message hook (zflow_ws_config_on_message) echoes
    each message from the feed's thread, and the close hook says when the
    case is over. tests/ws/test_autobahn.py runs it (docs/ws.md).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdatomic.h>

//  What one connection's hooks share with the main thread.
typedef struct {
    bool echo;         //  send every message back, else keep the first
    char *first;       //  the first message (text), when not echoing
    atomic_int closes; //  connections ended so far
} s_state_t;

//  The message hook runs in the feed's thread as each message completes,
//  before the next frame is read: the echo is queued in order, and before
//  a protocol error later in the same read fails the connection.
static int s_on_message (zflow_ws_out_t *out, const void *data, size_t size, bool binary, void *arg)
{
    s_state_t *state = (s_state_t *) arg;
    if (state->echo)
        return zflow_ws_out_send (out, data, size, binary);
    if (!state->first)
        state->first = strndup ((const char *) data, size);
    return 0;
}

static void s_on_close (int code, const char *reason, int error, void *arg)
{
    (void) code;
    (void) reason;
    (void) error;
    atomic_fetch_add (&((s_state_t *) arg)->closes, 1);
}

//  The message of the longest case is 16 MiB; leave room above it.
#define S_MAX_MESSAGE (64u * 1024 * 1024)

//  Opens url and echoes what arrives when echo is true, else keeps the
//  first message in *first (the caller frees it), until the server ends
//  the connection. Returns 0, or a negative zflow_error_t.
static int s_run (const char *url, bool deflate, bool echo, char **first)
{
    zflow_ws_config_t *config = zflow_ws_config_new (url);
    if (!config)
        return ZFLOW_EINVAL;
    s_state_t state = {.echo = echo, .first = NULL};
    atomic_init (&state.closes, 0);
    zflow_ws_config_set_deflate (config, deflate);
    zflow_ws_config_set_parse (config, ZFLOW_WS_PARSE_RAW);
    zflow_ws_config_set_max_message (config, S_MAX_MESSAGE);
    //  One connection per case: the first retry would come after ten
    //  minutes, long after the close hook said the case is over.
    zflow_ws_config_set_backoff (config, 600000, 600000);
    zflow_ws_config_on_message (config, s_on_message, &state);
    zflow_ws_config_on_close (config, s_on_close, &state);
    int rc;
    zflow_ws_t *feed = zflow_ws_new (config, &rc);
    zflow_ws_config_destroy (&config);
    if (!feed)
        return rc;
    while (atomic_load (&state.closes) == 0)
        zclock_sleep (1);
    zflow_ws_destroy (&feed); //  no hook runs after this
    if (first)
        *first = state.first;
    else
        free (state.first);
    return 0;
}

int main (int argc, char *argv[])
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf (stderr, "usage: ws_echo BASE_URL [AGENT] [--no-deflate] [--case N]\n");
        return 2;
    }
    zsys_init ();
    const char *base = argv[1], *agent = "zflow";
    bool deflate = true;
    long only = 0;
    for (int i = 2; i < argc; i++) {
        if (streq (argv[i], "--no-deflate"))
            deflate = false;
        else if (streq (argv[i], "--case") && i + 1 < argc)
            only = strtol (argv[++i], NULL, 10);
        else if (argv[i][0] != '-')
            agent = argv[i];
        else {
            fprintf (stderr, "ws_echo: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    char url[1024];
    char *count_text = NULL;
    snprintf (url, sizeof (url), "%s/getCaseCount", base);
    int rc = s_run (url, deflate, false, &count_text);
    long count = count_text ? strtol (count_text, NULL, 10) : 0;
    free (count_text);
    if (rc != 0 || count <= 0) {
        fprintf (stderr, "ws_echo: no case count from %s (%s)\n", url, zflow_error_text (rc));
        return 1;
    }
    for (long i = only ? only : 1; i <= (only ? only : count); i++) {
        snprintf (url, sizeof (url), "%s/runCase?case=%ld&agent=%s", base, i, agent);
        rc = s_run (url, deflate, true, NULL);
        if (rc != 0)
            fprintf (stderr, "ws_echo: case %ld: %s\n", i, zflow_error_text (rc));
    }
    snprintf (url, sizeof (url), "%s/updateReports?agent=%s", base, agent);
    rc = s_run (url, deflate, true, NULL);
    printf ("ws_echo: %ld cases run\n", only ? 1 : count);
    return rc == 0 ? 0 : 1;
}
