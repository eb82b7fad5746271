/*  =========================================================================
    test_cli_poll - zflow run's counters cache while a stage is slow

    A pipeline in -> slow -> out whose map stage blocks in its callback
    until the test opens a gate (the stage then cannot answer STATS). The
    poller keeps the other stages' counters fresh, the slow stage turns
    stale, and /health and /metrics answer at once (sooner than one STATS
    timeout) with 503 "stale" naming the stage; once the gate opens the
    stage answers again and /health is back to 200 "ok".

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int s_failures;

static void s_check (bool ok, const char *what)
{
    printf ("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok)
        s_failures++;
}

//  The map callback: waits for a message on the gate (at most 20 s).
static int s_slow (zflow_msg_t *msg, void *arg)
{
    (void) msg;
    zsock_t *gate = zsock_new_pull (">inproc://test-cli-poll-gate");
    zsock_set_rcvtimeo (gate, 20000);
    char *word = zstr_recv (gate);
    zstr_free (&word);
    zsock_destroy (&gate);
    (void) arg;
    return 0;
}

//  One HTTP GET on 127.0.0.1:port, from a thread of its own (the responder
//  runs in the test's zloop): sends "<ms> <response>" back on the pipe.
static void s_client (zsock_t *pipe, void *arg)
{
    int port = *(int *) arg;
    zsock_signal (pipe, 0);
    char *path;
    while ((path = zstr_recv (pipe)) && !streq (path, "$TERM")) {
        int64_t start = zclock_mono ();
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
        inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
        struct timeval timeout = {10, 0};
        setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout));
        char response[4096] = "";
        size_t size = 0;
        if (connect (fd, (struct sockaddr *) &address, sizeof (address)) == 0) {
            char *request = zsys_sprintf ("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
            ssize_t sent = write (fd, request, strlen (request));
            (void) sent;
            zstr_free (&request);
            ssize_t n;
            while (size < sizeof (response) - 1 &&
                   (n = read (fd, response + size, sizeof (response) - 1 - size)) > 0)
                size += (size_t) n;
        }
        close (fd);
        zstr_sendf (pipe, "%" PRId64 " %s", zclock_mono () - start, response);
        zstr_free (&path);
    }
    zstr_free (&path);
}

//  The test's zloop ends when the client's answer arrives.
static int s_on_answer (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    *(char **) arg = zstr_recv (reader);
    return -1;
}

//  GETs path while loop serves the responder. Returns "<ms> <response>"
//  (the caller frees it).
static char *s_get (zloop_t *loop, zactor_t *client, const char *path)
{
    char *answer = NULL;
    zloop_reader (loop, zactor_sock (client), s_on_answer, &answer);
    zstr_send (client, path);
    zloop_start (loop);
    zloop_reader_end (loop, zactor_sock (client));
    return answer;
}

//  Waits up to 10 s until stage index is stale (or fresh, when !stale).
static bool s_wait_stale (zflow_cli_poll_t *poll, size_t index, bool stale)
{
    for (int64_t deadline = zclock_mono () + 10000; zclock_mono () < deadline;) {
        int64_t age;
        zhash_t *stats = zflow_cli_poll_get (poll, index, &age);
        zhash_destroy (&stats);
        if (zflow_cli_poll_stale (poll, age) == stale)
            return true;
        zclock_sleep (20);
    }
    return false;
}

int main (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "poll"}, NULL);
    zflow_pipeline_source (p, "in", "pull", "inproc://test-cli-poll-in", NULL);
    zflow_pipeline_map (p, "slow", s_slow, NULL, NULL);
    zflow_pipeline_sink_file (p, "out", "/dev/null");
    //  on its own thread: chained, the slow map would hold up the source's
    //  STATS too (the actor answers between messages)
    zflow_pipeline_stage_own_thread (p, "slow", true);
    s_check (zflow_pipeline_start (p) == 0, "pipeline started");
    zsock_t *gate = zsock_new_push ("@inproc://test-cli-poll-gate");
    zflow_cli_poll_t *poll = zflow_cli_poll_new (p, NULL, 50, 1500);
    zflow_cli_metrics_t *http = zflow_cli_metrics_new ("127.0.0.1:0");
    zloop_t *loop = zloop_new ();
    zflow_cli_metrics_serve (http, loop, poll);
    int port = atoi (strrchr (zflow_cli_metrics_address (http), ':') + 1);
    zactor_t *client = zactor_new (s_client, &port);

    s_check (s_wait_stale (poll, 1, false), "every stage answers at first");
    char *answer = s_get (loop, client, "/health");
    s_check (answer && strstr (answer, " 200 OK") && strstr (answer, "\r\n\r\nok\n"),
             "/health: 200 ok");
    zstr_free (&answer);

    //  one message: the map stage blocks in its callback
    zsock_t *in = zsock_new_push (">inproc://test-cli-poll-in");
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_envelope_encode (msg, "k", 1, NULL, "{}", 2);
    zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
    zmsg_send (&zmsg, in);
    s_check (s_wait_stale (poll, 1, true), "the blocked stage turns stale");
    uint64_t rounds = zflow_cli_poll_rounds (poll);
    answer = s_get (loop, client, "/health");
    //  a loop asking the stage itself would wait one STATS timeout (1 s)
    s_check (answer && atoi (answer) < 1000, "/health answers without waiting for the stage");
    s_check (answer && strstr (answer, " 503 ") && strstr (answer, "\r\n\r\nstale\n"),
             "/health: 503 stale");
    s_check (answer && strstr (answer, "\nslow map ") && strstr (answer, " stale\n"),
             "and names the slow stage");
    s_check (answer && strstr (answer, "\nin source ") && !strstr (answer, "\nin source -1"),
             "the other stages still have counters");
    zstr_free (&answer);
    answer = s_get (loop, client, "/metrics");
    s_check (answer && atoi (answer) < 1000 &&
                 strstr (answer, "zflow_stats_age_seconds{stage=\"slow\""),
             "/metrics answers at once, with the age of the slow stage's counters");
    zstr_free (&answer);
    char *text = zflow_cli_stats_text (poll);
    s_check (text && strstr (text, "slow map stats_age_ms "), "zflow stats text has the age");
    zstr_free (&text);
    int64_t age;
    zhash_t *stats = zflow_cli_poll_get (poll, 0, &age);
    s_check (stats && !zflow_cli_poll_stale (poll, age), "the source's counters stay fresh");
    for (int64_t deadline = zclock_mono () + 5000;
         zflow_cli_poll_rounds (poll) <= rounds && zclock_mono () < deadline;)
        zclock_sleep (20);
    s_check (zflow_cli_poll_rounds (poll) > rounds, "the poller goes on past the slow stage");
    zhash_destroy (&stats);

    //  open the gate: the stage answers again
    zstr_send (gate, "go");
    s_check (s_wait_stale (poll, 1, false), "the stage answers again once unblocked");
    answer = s_get (loop, client, "/health");
    s_check (answer && strstr (answer, " 200 OK"), "/health: 200 again");
    zstr_free (&answer);

    zactor_destroy (&client);
    zflow_cli_poll_destroy (&poll);
    zflow_pipeline_stop (p, 2000);
    zflow_pipeline_destroy (&p);
    zflow_cli_metrics_destroy (&http);
    zflow_cli_metrics_destroy (&http); //  idempotent
    zloop_destroy (&loop);
    zsock_destroy (&in);
    zsock_destroy (&gate);
    zflow_msg_destroy (&msg);
    printf ("failures: %d\n", s_failures);
    return s_failures ? 1 : 0;
}
