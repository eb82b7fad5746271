/*  =========================================================================
    real_hpfeeds_api - zflow's hpfeeds client (the C API, zflow_hpfeeds.h)
    against the reference broker (PyPI hpfeeds 3.1.0)

    Run by test_real_hpfeeds_api.py with the port of the broker it started
    and the users of tests/real/hpfeeds_peers.py:
      - binary payloads of 0 B, 1 B, 64 KiB and the largest one the 1 MiB
        frame limit allows, from "writer" to "reader" on channel "bin",
        byte for byte, with the publisher's ident; one byte more is
        ZFLOW_ETOOBIG at zflow_hpfeeds_publish;
      - a wrong secret: an ERROR event with the broker's words
        ("Authentication failed for writer"), never connected;
      - a publish to a channel outside the ident's pubchans: an ERROR event
        with the broker's words ("not allowed to pub"), nothing delivered;
        a subscribe outside its subchans: "not allowed to sub";
      - the broker restarted mid-stream: the program prints RESTART and
        goes on publishing and reading while the script restarts the
        broker on the same port (then it says so on the program's stdin);
        both clients reconnect, the subscriber subscribes again, and what
        is published after the restart arrives, in order.
    Prints one ok/FAIL line per check; exits 1 if any failed.

        real_hpfeeds_api PORT

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>
#include <string.h>

//  The frame limit: a publish body (ident and channel each with a length
//  byte, then the payload) is at most 1 MiB.
#define S_MAXBUF (1024 * 1024)

static int s_failures = 0;

static void s_check (bool cond, const char *what)
{
    printf ("%s%s\n", cond ? "ok   " : "FAIL ", what);
    fflush (stdout);
    s_failures += cond ? 0 : 1;
}

static zflow_hpfeeds_t *s_client (int port, const char *ident, const char *secret)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = ident;
    config.secret = secret;
    config.backoff_max_ms = 500;
    config.refused_backoff_ms = 500;
    int rc = 0;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new (&config, &rc);
    if (!client)
        printf ("FAIL zflow_hpfeeds_new: %s\n", zflow_error_text (rc));
    return client;
}

//  Waits for an event of type whose text holds words (NULL: any). Returns
//  true when one came within ms.
static bool s_event (zflow_hpfeeds_t *client, int type, const char *words, int ms)
{
    int64_t end = zclock_mono () + ms;
    while (zclock_mono () < end) {
        int got = 0;
        char *text = zflow_hpfeeds_event (client, &got, (int) (end - zclock_mono ()) + 1);
        if (!text)
            break;
        printf ("     event %d %s\n", got, text);
        bool match = got == type && (!words || strstr (text, words));
        zstr_free (&text);
        if (match)
            return true;
    }
    return false;
}

static bool s_connected (zflow_hpfeeds_t *client, int ms)
{
    int64_t end = zclock_mono () + ms;
    while (!zflow_hpfeeds_connected (client) && zclock_mono () < end)
        zclock_sleep (20);
    return zflow_hpfeeds_connected (client);
}

//  hpfeeds acknowledges no subscribe: publishes probes on channel until the
//  subscriber gets one (then drains what else came). Returns true when the
//  subscription works within ms.
static bool s_synced (zflow_hpfeeds_t *pub, zflow_hpfeeds_t *sub, const char *channel, int ms)
{
    int64_t end = zclock_mono () + ms;
    bool seen = false;
    while (!seen && zclock_mono () < end) {
        zflow_hpfeeds_publish (pub, channel, "probe", 5);
        zflow_hpfeeds_message_t m;
        while (zflow_hpfeeds_recv (sub, &m, 100) == 0)
            seen = seen || (m.size == 5 && memcmp (m.payload, "probe", 5) == 0);
    }
    zflow_hpfeeds_message_t m;
    while (zflow_hpfeeds_recv (sub, &m, 200) == 0)
        ;
    return seen;
}

static void s_payloads (zflow_hpfeeds_t *pub, zflow_hpfeeds_t *sub)
{
    size_t limit = S_MAXBUF - 2 - strlen ("writer") - strlen ("bin");
    size_t sizes[] = {0, 1, 64 * 1024, limit};
    uint8_t *data = (uint8_t *) malloc (limit + 1);
    for (size_t i = 0; i <= limit; i++)
        data[i] = (uint8_t) ((i * 7 + i / 251) & 0xFF); //  every byte value, no period of 256
    for (size_t n = 0; n < 4; n++) {
        data[0] = (uint8_t) n; //  tells the four apart
        char what[160];
        snprintf (what, sizeof (what), "publish %zu bytes on bin: 0", sizes[n]);
        s_check (zflow_hpfeeds_publish (pub, "bin", data, sizes[n]) == 0, what);
    }
    for (size_t n = 0; n < 4; n++) {
        zflow_hpfeeds_message_t m;
        int rc = zflow_hpfeeds_recv (sub, &m, 10000);
        data[0] = (uint8_t) n;
        bool same = rc == 0 && m.size == sizes[n] &&
                    (m.size == 0 || memcmp (m.payload, data, m.size) == 0) && m.channel_size == 3 &&
                    memcmp (m.channel, "bin", 3) == 0 && m.ident_size == 6 &&
                    memcmp (m.ident, "writer", 6) == 0;
        char what[160];
        snprintf (what, sizeof (what),
                  "received %zu bytes byte for byte, channel bin, ident writer (rc %d, size %zu)",
                  sizes[n], rc, rc == 0 ? m.size : 0);
        s_check (same, what);
    }
    s_check (zflow_hpfeeds_publish (pub, "bin", data, limit + 1) == ZFLOW_ETOOBIG,
             "one byte past the frame limit: ZFLOW_ETOOBIG");
    zflow_hpfeeds_message_t m;
    s_check (zflow_hpfeeds_recv (sub, &m, 500) == ZFLOW_ETIMEDOUT, "and nothing more arrives");
    free (data);
}

static void s_refusals (int port, zflow_hpfeeds_t *sub)
{
    zflow_hpfeeds_t *wrong = s_client (port, "writer", "wrong-secret");
    s_check (s_event (wrong, ZFLOW_HPFEEDS_EVENT_ERROR, "Authentication failed for writer", 5000),
             "a wrong secret: an ERROR event with the broker's words");
    s_check (!zflow_hpfeeds_connected (wrong), "and the client is not connected");
    zhash_t *stats = zflow_hpfeeds_stats (wrong, 2000);
    s_check (zflow_actor_stats_get (stats, "broker_errors") >= 1, "counted in broker_errors");
    zhash_destroy (&stats);
    zflow_hpfeeds_destroy (&wrong);

    //  "reader" may subscribe to data and bin but publish to neither.
    zflow_hpfeeds_t *reader = s_client (port, "reader", "r-secret");
    s_check (s_connected (reader, 5000), "reader connects");
    s_check (zflow_hpfeeds_publish (reader, "data", "{\"not\":\"allowed\"}", 17) == 0,
             "a publish outside the pubchans is queued (hpfeeds answers later)");
    s_check (s_event (reader, ZFLOW_HPFEEDS_EVENT_ERROR, "not allowed to pub", 5000),
             "the broker's refusal comes as an ERROR event with its words");
    zflow_hpfeeds_destroy (&reader);
    zflow_hpfeeds_message_t m;
    s_check (zflow_hpfeeds_recv (sub, &m, 500) == ZFLOW_ETIMEDOUT,
             "and nothing refused was delivered");

    //  "writer" may not subscribe.
    zflow_hpfeeds_t *writer = s_client (port, "writer", "w-secret");
    zflow_hpfeeds_subscribe (writer, "data");
    s_check (s_event (writer, ZFLOW_HPFEEDS_EVENT_ERROR, "not allowed to sub", 5000),
             "a subscribe outside the subchans: an ERROR event with the broker's words");
    zflow_hpfeeds_destroy (&writer);
}

static void s_restart (zflow_hpfeeds_t *pub, zflow_hpfeeds_t *sub)
{
    //  Events so far are not this part's.
    char *text;
    while ((text = zflow_hpfeeds_event (sub, NULL, 0)))
        zstr_free (&text);
    printf ("RESTART\n");
    fflush (stdout);
    //  Mid-stream: publish and read on while the broker goes and comes
    //  back (what is written to the dying connection may be lost: hpfeeds
    //  acknowledges nothing).
    bool gone = false;
    int during = 0;
    int64_t end = zclock_mono () + 15000;
    while (zclock_mono () < end && !(gone && zflow_hpfeeds_connected (sub))) {
        char text[32];
        int size = snprintf (text, sizeof (text), "during %d", during++);
        zflow_hpfeeds_publish (pub, "bin", text, (size_t) size);
        zflow_hpfeeds_message_t m;
        while (zflow_hpfeeds_recv (sub, &m, 5) == 0)
            ;
        int type = 0;
        char *event = zflow_hpfeeds_event (sub, &type, 0);
        if (event)
            printf ("     event %d %s\n", type, event);
        gone = gone || type == ZFLOW_HPFEEDS_EVENT_DISCONNECTED;
        zstr_free (&event);
    }
    char line[64];
    if (!fgets (line, sizeof (line), stdin)) {
        s_check (false, "the script restarted the broker");
        return;
    }
    char what[120];
    snprintf (what, sizeof (what),
              "restart while publishing (%d publishes): the subscriber saw the connection go",
              during);
    s_check (gone, what);
    s_check (s_connected (sub, 10000) && s_connected (pub, 10000),
             "restart: both clients reconnected");
    s_check (s_synced (pub, sub, "bin", 15000), "restart: the subscriber subscribed again");
    for (int n = 0; n < 100; n++) {
        char text[32];
        int size = snprintf (text, sizeof (text), "after %d", n);
        zflow_hpfeeds_publish (pub, "bin", text, (size_t) size);
    }
    int in_order = 0;
    zflow_hpfeeds_message_t m;
    while (in_order < 100 && zflow_hpfeeds_recv (sub, &m, 5000) == 0) {
        char want[32];
        int size = snprintf (want, sizeof (want), "after %d", in_order);
        if (m.size == (size_t) size && memcmp (m.payload, want, m.size) == 0)
            in_order++;
        else
            break;
    }
    snprintf (what, sizeof (what),
              "restart: the 100 messages published after it arrive, in order (%d)", in_order);
    s_check (in_order == 100, what);
}

int main (int argc, char *argv[])
{
    if (argc != 2) {
        fprintf (stderr, "usage: real_hpfeeds_api PORT\n");
        return 2;
    }
    int port = atoi (argv[1]);
    zflow_hpfeeds_t *sub = s_client (port, "reader", "r-secret");
    zflow_hpfeeds_t *pub = s_client (port, "writer", "w-secret");
    if (!sub || !pub)
        return 1;
    s_check (zflow_hpfeeds_subscribe (sub, "bin") == 0, "reader subscribes to bin");
    s_check (s_connected (sub, 5000) && s_connected (pub, 5000), "both clients connect");
    s_check (s_synced (pub, sub, "bin", 10000), "the subscription works (probe)");
    s_payloads (pub, sub);
    s_refusals (port, sub);
    s_restart (pub, sub);
    zflow_hpfeeds_destroy (&pub);
    zflow_hpfeeds_destroy (&sub);
    printf ("failures: %d\n", s_failures);
    return s_failures ? 1 : 0;
}
