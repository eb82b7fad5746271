/*  Tests for zflow_actor: ready/failed start, STATS, VERBOSE, commands, $TERM. */
#include "zflow_testing.h"
#include <string.h>

typedef struct {
    bool bad_config; //  make the actor refuse to start
    int echoes;      //  ECHO commands seen (actor thread only)
} config_t;

static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    config_t *config = (config_t *) arg;
    if (streq (command, "ECHO")) {
        config->echoes++;
        char *text = zmsg_popstr (request);
        zstr_send (zflow_actor_pipe (base), text ? text : "(none)");
        zstr_free (&text);
        zflow_actor_counters (base)->msgs_in++;
        zflow_actor_counters (base)->bytes_in += 4;
        return 0;
    }
    if (streq (command, "SLEEP")) {
        zclock_sleep (300);
        return 0;
    }
    if (streq (command, "BUMP")) {
        zflow_actor_counters (base)->msgs_in++;
        return 0;
    }
    if (streq (command, "VERBOSE?")) {
        zstr_send (zflow_actor_pipe (base), zflow_actor_verbose (base) ? "yes" : "no");
        return 0;
    }
    return streq (command, "QUIT") ? -1 : 0;
}

static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    zflow_actor_stats_add (reply, "echoes", (uint64_t) ((config_t *) arg)->echoes);
}

static void s_test_actor (zsock_t *pipe, void *args)
{
    config_t *config = (config_t *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, "test");
    CHECK (base);
    CHECK (streq (zflow_actor_name (base), "test"));
    CHECK (zflow_actor_loop (base) != NULL);
    if (config->bad_config) {
        zflow_actor_ready (base, -1);
        zflow_actor_destroy (&base);
        return;
    }
    zflow_actor_set_command_handler (base, s_on_command, config);
    zflow_actor_set_stats_handler (base, s_on_stats, config);
    zflow_actor_ready (base, 0);
    zflow_actor_run (base);
    zflow_actor_destroy (&base);
}

static void test_bad_config (void)
{
    config_t config = {true, 0};
    CHECK (zflow_actor_start (s_test_actor, &config) == NULL);
}

static void test_commands (void)
{
    config_t config = {false, 0};
    zactor_t *actor = zflow_actor_start (s_test_actor, &config);
    CHECK (actor);
    zstr_sendx (actor, "ECHO", "hello", NULL);
    char *reply = zstr_recv (actor);
    CHECK (reply && streq (reply, "hello"));
    zstr_free (&reply);
    zstr_send (actor, "VERBOSE?");
    reply = zstr_recv (actor);
    CHECK (streq (reply, "no"));
    zstr_free (&reply);
    zstr_send (actor, "VERBOSE");
    zstr_send (actor, "VERBOSE?");
    reply = zstr_recv (actor);
    CHECK (streq (reply, "yes"));
    zstr_free (&reply);
    zstr_send (actor, "NO-SUCH-COMMAND"); //  ignored, actor keeps serving
    zhash_t *stats = zflow_actor_stats (actor, 2000);
    CHECK (stats);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == 1);
    CHECK (zflow_actor_stats_get (stats, "bytes_in") == 4);
    CHECK (zflow_actor_stats_get (stats, "echoes") == 1);
    CHECK (zhash_lookup (stats, "drops") && zflow_actor_stats_get (stats, "drops") == 0);
    CHECK (zhash_lookup (stats, "queue_depth"));
    CHECK (zflow_actor_stats_get (stats, "absent") == 0);
    zhash_destroy (&stats);
    CHECK (zflow_actor_stats_get (NULL, "msgs_in") == 0);
    zactor_destroy (&actor);
    CHECK (actor == NULL);
}

//  A handler that returns -1 ends the actor; STATS then times out cleanly.
static void test_handler_quits (void)
{
    config_t config = {false, 0};
    zactor_t *actor = zflow_actor_start (s_test_actor, &config);
    zstr_send (actor, "QUIT");
    zclock_sleep (50);
    CHECK (zflow_actor_stats (actor, 200) == NULL);
    zactor_destroy (&actor);
}

//  A STATS call that timed out leaves its reply behind; the next call must
//  skip it and return its own, fresh one.
static void test_late_reply (void)
{
    config_t config = {false, 0};
    zactor_t *actor = zflow_actor_start (s_test_actor, &config);
    zstr_send (actor, "SLEEP");
    CHECK (zflow_actor_stats (actor, 100) == NULL); //  busy: times out
    zstr_send (actor, "BUMP");
    zhash_t *stats = zflow_actor_stats (actor, 3000);
    CHECK (stats);
    //  the late reply said 0; the answer to this call comes after BUMP
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == 1);
    CHECK (zhash_lookup (stats, "tag") == NULL);
    zhash_destroy (&stats);
    zactor_destroy (&actor);
}

//  Turning tracing off again, and NULL actors.
static void test_set_verbose (void)
{
    config_t config = {false, 0};
    zactor_t *actor = zflow_actor_start (s_test_actor, &config);
    zflow_actor_set_verbose (actor, true);
    zstr_send (actor, "VERBOSE?");
    char *reply = zstr_recv (actor);
    CHECK (streq (reply, "yes"));
    zstr_free (&reply);
    zflow_actor_set_verbose (actor, false);
    zstr_send (actor, "VERBOSE?");
    reply = zstr_recv (actor);
    CHECK (streq (reply, "no"));
    zstr_free (&reply);
    zactor_destroy (&actor);
    zflow_actor_set_verbose (NULL, true);
    CHECK (zflow_actor_stats (NULL, 100) == NULL);
    zflow_actor_destroy (NULL);
    zflow_actor_t *none = NULL;
    zflow_actor_destroy (&none);
}

//  The base (and its loop) destroyed before the streams attached to the
//  loop: the streams must let go of the loop, not touch it when they are
//  detached and destroyed later (a use-after-free ASan would see), and keep
//  working in blocking mode. One stream has a reader, the other a POLLOUT
//  poller (messages its socket refused wait in its write buffer).
static void test_destroy_order (void)
{
    zsock_t *pipe = zsock_new_pair ("@inproc://order-pipe");
    CHECK (pipe);
    zflow_actor_t *base = zflow_actor_new (pipe, "order");
    CHECK (base);
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, "inproc://order", NULL, NULL);
    zflow_stream_t *push = zflow_stream_new (ZMQ_PUSH, NULL, NULL, NULL);
    CHECK (pull && push);
    zsock_set_sndhwm (zflow_stream_sock (push), 1);
    CHECK_RC (zflow_stream_connect (push, "inproc://nobody-binds-this"), 0);
    CHECK_RC (zflow_stream_attach (pull, zflow_actor_loop (base), NULL, NULL, NULL), 0);
    CHECK_RC (zflow_stream_attach (push, zflow_actor_loop (base), NULL, NULL, NULL), 0);
    zflow_msg_t *msg = zflow_msg_new ();
    for (int i = 0; i < 5; i++) {
        zflow_msg_addstr (msg, "queued");
        CHECK (zflow_stream_write (push, msg) >= 0);
    }
    CHECK (zflow_stream_write_pending (push) > 0);
    zflow_actor_destroy (&base);
    CHECK (base == NULL);
    zflow_actor_destroy (&base);
    //  detached: a new loop takes them (an attached stream would refuse)
    zloop_t *loop = zloop_new ();
    CHECK_RC (zflow_stream_attach (pull, loop, NULL, NULL, NULL), 0);
    zflow_stream_detach (pull);
    zloop_destroy (&loop);
    //  still a working stream in blocking mode
    zflow_stream_t *sender = zflow_stream_new (ZMQ_PUSH, NULL, "inproc://order", NULL);
    zflow_msg_addstr (msg, "after");
    CHECK_RC (zflow_stream_write (sender, msg), 0);
    CHECK_RC (zflow_stream_read (pull, msg, 2000), 0);
    CHECK (zflow_msg_streq (msg, 0, "after"));
    zflow_stream_detach (push);
    zflow_stream_destroy (&push);
    zflow_stream_destroy (&pull);
    zflow_stream_destroy (&sender);
    zflow_msg_destroy (&msg);
    zsock_destroy (&pipe);
}

int main (void)
{
    printf ("test_actor\n");
    RUN (test_bad_config);
    RUN (test_commands);
    RUN (test_handler_quits);
    RUN (test_late_reply);
    RUN (test_set_verbose);
    RUN (test_destroy_order);
    return 0;
}
