/*  =========================================================================
    test_centrifugo_source_fake - the fake server's driver and the collector
    (see the header)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "test_centrifugo_source_fake.h"
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  ---------------------------------------------------------------------
//  The fake server: a child process driven over its stdin / stdout

//  Starts the fake with extra arguments (NULL-terminated; port 0: any).
void fake_start (fake_t *fake, int port, const char *extra[])
{
    int to_child[2], from_child[2];
    CHECK (pipe (to_child) == 0 && pipe (from_child) == 0);
    char port_text[16];
    snprintf (port_text, sizeof (port_text), "%d", port);
    const char *argv[16] = {
        ZFLOW_CENTSRC_PYTHON3, ZFLOW_CENTRIFUGO_WS_FAKE, "--secret", SECRET, "--port", port_text};
    int argc = 6;
    for (int i = 0; extra && extra[i] && argc < 15; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    fake->pid = fork ();
    CHECK (fake->pid >= 0);
    if (fake->pid == 0) {
        dup2 (to_child[0], 0);
        dup2 (from_child[1], 1);
        //  The fake's own messages go to a file when asked (debugging).
        const char *log = getenv ("CENTSRC_FAKE_LOG");
        FILE *file = log ? fopen (log, "a") : NULL;
        if (file)
            dup2 (fileno (file), 2);
        close (to_child[1]);
        close (from_child[0]);
        execv (argv[0], (char **) argv);
        _exit (127);
    }
    close (to_child[0]);
    close (from_child[1]);
    fake->in = fdopen (to_child[1], "w");
    fake->out = fdopen (from_child[0], "r");
    char line[2048];
    CHECK (fake->in && fake->out && fgets (line, sizeof (line), fake->out));
    CHECK (sscanf (line, "PORT %d TOKEN %511s EXPIRED %511s", &fake->port, fake->token,
                   fake->expired) == 3);
    bool tls = false;
    for (int i = 0; extra && extra[i]; i++)
        tls = tls || streq (extra[i], "--tls");
    snprintf (fake->url, sizeof (fake->url), "%s://127.0.0.1:%d/connection/websocket",
              tls ? "wss" : "ws", fake->port);
}

//  Sends a control command; returns the fake's answer (caller owns it).
json_t *fake_ctl (fake_t *fake, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vfprintf (fake->in, format, args);
    va_end (args);
    fputc ('\n', fake->in);
    fflush (fake->in);
    char line[65536];
    CHECK (fgets (line, sizeof (line), fake->out));
    json_t *answer = json_loads (line, 0, NULL);
    CHECK (answer);
    return answer;
}

json_int_t fake_stat (fake_t *fake, const char *name)
{
    json_t *stats = fake_ctl (fake, "{\"op\":\"stats\"}");
    json_int_t value = json_integer_value (json_object_get (stats, name));
    json_decref (stats);
    return value;
}

//  Stops the fake: SIGKILL (a crash) or a clean quit.
void fake_stop (fake_t *fake, bool kill_it)
{
    if (kill_it)
        kill (fake->pid, SIGKILL);
    else {
        fputs ("{\"op\":\"quit\"}\n", fake->in);
        fflush (fake->in);
        char line[256];
        if (!fgets (line, sizeof (line), fake->out))
            line[0] = 0;
    }
    fclose (fake->in);
    fclose (fake->out);
    int status;
    waitpid (fake->pid, &status, 0);
}

//  ---------------------------------------------------------------------
//  What the source publishes, collected from its PUB

void collect_init (collect_t *c, zflow_centrifugo_source_t *source)
{
    c->sub = zsock_new (ZMQ_SUB);
    CHECK (c->sub);
    zsock_set_subscribe (c->sub, "");
    //  Subscribed before connecting: on inproc nothing published later is missed.
    CHECK (zsock_connect (c->sub, "%s", zflow_centrifugo_source_endpoint (source)) == 0);
    c->pubs = json_object ();
    c->events = json_array ();
    c->bad = 0;
}

void collect_destroy (collect_t *c)
{
    zsock_destroy (&c->sub);
    json_decref (c->pubs);
    json_decref (c->events);
}

//  Files one envelope.
static void collect_one (collect_t *c, zflow_msg_t *msg, zflow_meta_t *meta)
{
    size_t key_size, size;
    const char *key = (const char *) zflow_envelope_key (msg, &key_size);
    const char *payload = (const char *) zflow_envelope_payload (msg, &size);
    int err;
    zflow_key_t *k =
        zflow_envelope_decode (msg, meta) == 0 ? zflow_key_decode (key, key_size, &err) : NULL;
    json_t *data = payload ? json_loadb (payload, size, JSON_DECODE_ANY, NULL) : NULL;
    if (!k || zflow_key_size (k) != 2 || !data) {
        c->bad++;
        json_decref (data);
        zflow_key_destroy (&k);
        return;
    }
    if (streq (zflow_key_at (k, 0), "centrifugo.event")) {
        CHECK (streq (zflow_key_at (k, 1), json_string_value (json_object_get (data, "type"))));
        json_array_append_new (c->events, data);
    } else {
        CHECK (streq (zflow_key_at (k, 0), "centrifugo"));
        CHECK (streq (zflow_meta_content_type (meta), "application/json"));
        json_t *list = json_object_get (c->pubs, zflow_key_at (k, 1));
        if (!list) {
            list = json_array ();
            json_object_set_new (c->pubs, zflow_key_at (k, 1), list);
        }
        const char *epoch = zflow_meta_get (meta, "epoch");
        json_array_append_new (list,
                               json_pack ("{s:I,s:o,s:s,s:s}", "offset",
                                          (json_int_t) zflow_meta_seq (meta), "data", data, "epoch",
                                          epoch ? epoch : "", "src", zflow_meta_source (meta)));
    }
    zflow_key_destroy (&k);
}

//  Reads what arrives for up to ms milliseconds.
void collect_pump (collect_t *c, int ms)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zpoller_t *poller = zpoller_new (c->sub, NULL);
    int64_t end = zclock_mono () + ms;
    while (zclock_mono () < end) {
        if (!zpoller_wait (poller, (int) (end - zclock_mono ())))
            continue;
        zmsg_t *zmsg = zmsg_recv (c->sub);
        CHECK (zmsg && zflow_msg_from_zmsg (msg, &zmsg) == 0);
        collect_one (c, msg, meta);
        //  Drain what is already there without waiting.
        while (zsock_events (c->sub) & ZMQ_POLLIN) {
            zmsg = zmsg_recv (c->sub);
            CHECK (zmsg && zflow_msg_from_zmsg (msg, &zmsg) == 0);
            collect_one (c, msg, meta);
        }
        break;
    }
    zpoller_destroy (&poller);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
}

size_t pubs_of (collect_t *c, const char *channel)
{
    return json_array_size (json_object_get (c->pubs, channel));
}

//  Events of type (and, if not NULL, with field name equal to value).
size_t events_of (collect_t *c, const char *type, const char *name, json_int_t value)
{
    size_t count = 0, index;
    json_t *event;
    json_array_foreach (
        c->events, index,
        event) if (streq (json_string_value (json_object_get (event, "type")), type) &&
                   (!name || json_integer_value (json_object_get (event, name)) == value)) count++;
    return count;
}

uint64_t stat_of (zflow_centrifugo_source_t *source, const char *name)
{
    zhash_t *stats = zflow_centrifugo_source_stats (source, 2000);
    CHECK (stats);
    uint64_t value = zflow_actor_stats_get (stats, name);
    zhash_destroy (&stats);
    return value;
}

//  Checks that channel got exactly the publications first..last in order,
//  each with data {"n": offset - 1 + base_n}.
void check_sequence (collect_t *c, const char *channel, json_int_t first, json_int_t last,
                     json_int_t base_n)
{
    json_t *list = json_object_get (c->pubs, channel);
    if (json_array_size (list) != (size_t) (last - first + 1))
        fprintf (stderr, "%s: %zu publications, expected %d\n", channel, json_array_size (list),
                 (int) (last - first + 1));
    CHECK (json_array_size (list) == (size_t) (last - first + 1));
    for (json_int_t i = first; i <= last; i++) {
        json_t *pub = json_array_get (list, (size_t) (i - first));
        CHECK (json_integer_value (json_object_get (pub, "offset")) == i);
        json_t *n = json_object_get (json_object_get (pub, "data"), "n");
        CHECK (json_integer_value (n) == i - 1 + base_n);
    }
}

zflow_centrifugo_source_t *source_new (fake_t *fake, const char *token, const char *channels,
                                       const char *name)
{
    zflow_centrifugo_source_config_t config = {0};
    config.url = fake->url;
    config.token = token;
    config.channels = channels;
    config.name = name;
    config.manual_start = true;
    config.backoff_min_ms = 50;
    config.backoff_max_ms = 400;
    config.max_failures = 3;
    int err = -1;
    zflow_centrifugo_source_t *source = zflow_centrifugo_source_new (&config, &err);
    CHECK_RC (err, 0);
    CHECK (source);
    return source;
}
