/*  Tests for zflow_stream: creation, endpoints, read/write, errors, close. */
#include "zflow_testing.h"
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

static void test_bad_creation (void)
{
    int err = 0;
    CHECK (zflow_stream_new (99, NULL, NULL, &err) == NULL);
    CHECK_RC (err, ZFLOW_ESOCKTYPE);
    CHECK (zflow_stream_new (-1, NULL, NULL, &err) == NULL && err == ZFLOW_ESOCKTYPE);
    CHECK (zflow_stream_new (ZMQ_PULL, "nonsense://x", NULL, &err) == NULL);
    CHECK_RC (err, ZFLOW_EENDPOINT);
    CHECK (zflow_stream_new (ZMQ_PULL, NULL, "tcp://no-port", &err) == NULL);
    CHECK_RC (err, ZFLOW_EENDPOINT);
    //  the second bind fails: nothing is left open, the first port is free again
    zflow_stream_t *s = zflow_stream_new (ZMQ_PULL, "inproc://twice,inproc://twice", NULL, &err);
    CHECK (s == NULL && err == ZFLOW_EENDPOINT);
    s = zflow_stream_new (ZMQ_PULL, "inproc://twice", NULL, &err);
    CHECK (s && err == 0);
    CHECK_RC (zflow_stream_bind (s, NULL), ZFLOW_EINVAL);
    CHECK_RC (zflow_stream_connect (s, ""), ZFLOW_EINVAL);
    CHECK_RC (zflow_stream_set_read_limits (s, 10, 20), ZFLOW_EWATERMARK);
    CHECK_RC (zflow_stream_set_read_limits (s, 0, 0), ZFLOW_EWATERMARK);
    CHECK_RC (zflow_stream_set_write_limits (s, 5, 6), ZFLOW_EWATERMARK);
    CHECK_RC (zflow_stream_set_read_limits_msgs (s, 1, 2), ZFLOW_EWATERMARK);
    CHECK_RC (zflow_stream_set_read_limits_msgs (s, 0, 0), 0);
    CHECK_RC (zflow_stream_set_read_limits (s, 100, 0), 0); //  low = high / 4
    zflow_msg_t *empty = zflow_msg_new ();
    CHECK_RC (zflow_stream_write (s, empty), ZFLOW_EINVAL);
    CHECK_RC (zflow_stream_write (s, NULL), ZFLOW_EINVAL);
    CHECK_RC (zflow_stream_read (s, NULL, 0), ZFLOW_EINVAL);
    zflow_msg_destroy (&empty);
    zflow_stream_destroy (&s);
    CHECK (s == NULL);
    zflow_stream_destroy (&s);
    zsock_t *nothing = NULL;
    CHECK (zflow_stream_new_sock (&nothing) == NULL);
    CHECK (zflow_stream_new_sock (NULL) == NULL);
    //  NULL-safe: destroy, detach and close do nothing, attach refuses
    zflow_stream_destroy (NULL);
    zflow_stream_detach (NULL);
    zflow_stream_close (NULL);
    zloop_t *loop = zloop_new ();
    CHECK_RC (zflow_stream_attach (NULL, loop, NULL, NULL, NULL), ZFLOW_EINVAL);
    zloop_destroy (&loop);
}

static void test_endpoints (void)
{
    int err;
    zflow_stream_t *server =
        zflow_stream_new (ZMQ_ROUTER, "tcp://127.0.0.1:*, inproc://ep-test", NULL, &err);
    CHECK (server);
    CHECK (zflow_stream_type (server) == ZMQ_ROUTER);
    CHECK (zsock_type (zflow_stream_sock (server)) == ZMQ_ROUTER);
    zlistx_t *bound = zflow_stream_bindings (server);
    CHECK (zlistx_size (bound) == 2);
    const char *tcp = (const char *) zlistx_first (bound);
    //  the real port, not the "*" we asked for
    CHECK (strncmp (tcp, "tcp://127.0.0.1:", 16) == 0 && !strchr (tcp, '*'));
    CHECK (atoi (tcp + 16) > 0);
    CHECK (streq ((const char *) zlistx_next (bound), "inproc://ep-test"));
    zflow_stream_t *client = zflow_stream_new (ZMQ_DEALER, NULL, tcp, &err);
    CHECK (client);
    CHECK (zlistx_size (zflow_stream_connections (client)) == 1);
    CHECK (streq ((const char *) zlistx_first (zflow_stream_connections (client)), tcp));
    CHECK (zlistx_size (zflow_stream_bindings (client)) == 0);

    //  the aiozmq example: dealer asks, router echoes, ten times
    zflow_msg_t *msg = zflow_msg_new ();
    for (int i = 0; i < 10; i++) {
        zflow_msg_reset (msg);
        zflow_msg_addstr (msg, "data");
        zflow_msg_addstr (msg, "ask");
        char number[8];
        snprintf (number, sizeof (number), "%d", i);
        zflow_msg_addstr (msg, number);
        CHECK_RC (zflow_stream_write (client, msg), 0);
        CHECK (zflow_msg_size (msg) == 0);
        CHECK_RC (zflow_stream_read (server, msg, 5000), 0);
        CHECK (zflow_msg_size (msg) == 4); //  routing id + 3 parts
        CHECK (zflow_msg_streq (msg, 3, number));
        CHECK_RC (zflow_stream_write (server, msg), 0);
        CHECK_RC (zflow_stream_read (client, msg, 5000), 0);
        CHECK (zflow_msg_size (msg) == 3 && zflow_msg_streq (msg, 0, "data"));
        CHECK (zflow_msg_streq (msg, 2, number));
    }
    CHECK (zflow_stream_msgs_written (client) == 10 && zflow_stream_msgs_read (client) == 10);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&client);
    zflow_stream_destroy (&server);
}

static void test_timeouts (void)
{
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, "inproc://timeouts", NULL, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK_RC (zflow_stream_read (pull, msg, 0), ZFLOW_EAGAIN);
    int64_t start = zclock_mono ();
    CHECK_RC (zflow_stream_read (pull, msg, 100), ZFLOW_ETIMEDOUT);
    int64_t waited = zclock_mono () - start;
    CHECK (waited >= 90 && waited < 3000);
    //  a message makes the same blocking read return at once
    zflow_stream_t *push = zflow_stream_new (ZMQ_PUSH, NULL, "inproc://timeouts", NULL);
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addstr (zmsg, "hello");
    CHECK_RC (zflow_stream_write_zmsg (push, &zmsg), 0);
    CHECK (zmsg == NULL);
    int err;
    zmsg = zflow_stream_read_zmsg (pull, -1, &err);
    CHECK (zmsg && err == 0);
    char *text = zmsg_popstr (zmsg);
    CHECK (streq (text, "hello"));
    zstr_free (&text);
    zmsg_destroy (&zmsg);
    CHECK (zflow_stream_read_zmsg (pull, 0, &err) == NULL && err == ZFLOW_EAGAIN);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&push);
    zflow_stream_destroy (&pull);
}

//  Sends parts (a NULL-terminated list of strings) as one message.
static void s_send_parts (zflow_stream_t *stream, zflow_msg_t *msg, const char *first, ...)
{
    va_list args;
    va_start (args, first);
    for (const char *part = first; part; part = va_arg (args, const char *))
        zflow_msg_addstr (msg, part);
    va_end (args);
    CHECK_RC (zflow_stream_write (stream, msg), 0);
    CHECK (zflow_msg_size (msg) == 0);
}

//  The hot paths of read (a single part to reuse, the timeout already set)
//  and write (a single part, nothing queued) hand over to the general ones
//  for multipart messages, another timeout and a timeout that expires.
static void test_hot_paths (void)
{
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, "inproc://hot", NULL, NULL);
    zflow_stream_t *push = zflow_stream_new (ZMQ_PUSH, NULL, "inproc://hot", NULL);
    zflow_msg_t *out = zflow_msg_new (), *in = zflow_msg_new ();
    s_send_parts (push, out, "a", NULL);
    s_send_parts (push, out, "k", "m", "payload", NULL);
    s_send_parts (push, out, "b", NULL);
    s_send_parts (push, out, "c", NULL);
    s_send_parts (push, out, "x", "y", NULL);
    CHECK_RC (zflow_stream_read (pull, in, -1), 0); //  general: sets the timeout
    CHECK (zflow_msg_size (in) == 1 && zflow_msg_streq (in, 0, "a"));
    CHECK_RC (zflow_stream_read (pull, in, -1), 0); //  hot, then the rest of the parts
    CHECK (zflow_msg_size (in) == 3 && zflow_msg_streq (in, 0, "k") &&
           zflow_msg_streq (in, 1, "m") && zflow_msg_streq (in, 2, "payload"));
    CHECK_RC (zflow_stream_read (pull, in, -1), 0); //  general: three parts to reuse
    CHECK (zflow_msg_size (in) == 1 && zflow_msg_streq (in, 0, "b"));
    CHECK_RC (zflow_stream_read (pull, in, -1), 0); //  hot
    CHECK (zflow_msg_size (in) == 1 && zflow_msg_streq (in, 0, "c"));
    CHECK_RC (zflow_stream_read (pull, in, 50), 0); //  another timeout: general
    CHECK (zflow_msg_size (in) == 2 && zflow_msg_streq (in, 0, "x") &&
           zflow_msg_streq (in, 1, "y"));
    CHECK_RC (zflow_stream_read (pull, in, 50), ZFLOW_ETIMEDOUT);
    CHECK (zflow_msg_size (in) == 0);
    s_send_parts (push, out, "d", NULL);
    CHECK_RC (zflow_stream_read (pull, in, 50), 0);
    CHECK (zflow_msg_size (in) == 1 && zflow_msg_streq (in, 0, "d"));
    CHECK_RC (zflow_stream_read (pull, in, 50), ZFLOW_ETIMEDOUT); //  hot, expired
    CHECK (zflow_msg_size (in) == 0);
    CHECK_RC (zflow_stream_read (pull, in, 0), ZFLOW_EAGAIN);
    CHECK (zflow_stream_msgs_written (push) == 6 && zflow_stream_msgs_read (pull) == 6);
    CHECK (zflow_stream_dropped (push) == 0);
    //  no message: refused before any path
    CHECK_RC (zflow_stream_write (push, NULL), ZFLOW_EINVAL);
    CHECK_RC (zflow_stream_read (pull, NULL, -1), ZFLOW_EINVAL);
    zflow_msg_destroy (&out);
    zflow_msg_destroy (&in);
    zflow_stream_destroy (&push);
    zflow_stream_destroy (&pull);
}

static void test_close (void)
{
    zsock_t *sock = zsock_new_pull ("inproc://close-test");
    zflow_stream_t *pull = zflow_stream_new_sock (&sock);
    CHECK (pull && sock == NULL);
    zflow_stream_t *push = zflow_stream_new (ZMQ_PUSH, NULL, "inproc://close-test", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK (!zflow_stream_at_closing (pull));
    zflow_stream_close (pull);
    zflow_stream_close (pull); //  idempotent
    CHECK (zflow_stream_sock (pull) == NULL);
    CHECK (zflow_stream_at_closing (pull));
    CHECK_RC (zflow_stream_read (pull, msg, 100), ZFLOW_ECLOSED);
    CHECK_RC (zflow_stream_read (pull, msg, -1), ZFLOW_ECLOSED);
    zflow_msg_addstr (msg, "late");
    CHECK_RC (zflow_stream_write (pull, msg), ZFLOW_ECLOSED);
    CHECK (zflow_msg_size (msg) == 0);
    CHECK_RC (zflow_stream_drain (pull, 0), 0);
    CHECK_RC (zflow_stream_bind (pull, "inproc://x"), ZFLOW_ECLOSED);
    zflow_stream_event_t event;
    CHECK_RC (zflow_stream_read_event (pull, &event, 0), ZFLOW_ECLOSED);
    CHECK_RC (zflow_stream_enable_monitor (pull, 0, 0), ZFLOW_ECLOSED);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&push);
    zflow_stream_destroy (&pull);
}

//  A REQ socket may not send twice in a row: libzmq says EFSM, which the
//  stream keeps and returns to the next call.
static void test_exception (void)
{
    zflow_stream_t *rep = zflow_stream_new (ZMQ_REP, "inproc://fsm", NULL, NULL);
    zflow_stream_t *req = zflow_stream_new (ZMQ_REQ, NULL, "inproc://fsm", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_msg_addstr (msg, "one");
    CHECK_RC (zflow_stream_write (req, msg), 0);
    CHECK_RC (zflow_stream_exception (req), 0);
    zflow_msg_addstr (msg, "two");
    CHECK_RC (zflow_stream_write (req, msg), ZFLOW_ETRANSPORT);
    CHECK_RC (zflow_stream_exception (req), ZFLOW_ETRANSPORT);
    CHECK (zflow_stream_errno (req) == EFSM);
    CHECK (zflow_stream_dropped (req) == 1);
    CHECK_RC (zflow_stream_read (req, msg, 0), ZFLOW_ETRANSPORT);
    zflow_msg_addstr (msg, "three");
    CHECK_RC (zflow_stream_write (req, msg), ZFLOW_ETRANSPORT);
    CHECK (zflow_msg_size (msg) == 0);
    CHECK (zflow_stream_dropped (req) == 2); //  refused on a failed stream: counted
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&req);
    zflow_stream_destroy (&rep);
}

//  Blocks in read until the context is shut down underneath.
static void *s_blocked_reader (void *arg)
{
    zflow_stream_t *pull = (zflow_stream_t *) arg;
    zflow_msg_t *msg = zflow_msg_new ();
    intptr_t rc = zflow_stream_read (pull, msg, -1);
    zflow_msg_destroy (&msg);
    return (void *) rc;
}

//  The context goes away under a blocked reader (libzmq's ETERM): read
//  returns the closed error, the stream is closed, nothing crashes. This
//  ends czmq's context, so it runs last.
static void test_closed_underneath (void)
{
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, "inproc://underneath", NULL, NULL);
    pthread_t thread;
    CHECK (pthread_create (&thread, NULL, s_blocked_reader, pull) == 0);
    zclock_sleep (100);
    zmq_ctx_shutdown (zsys_init ());
    void *rc;
    pthread_join (thread, &rc);
    CHECK_RC ((int) (intptr_t) rc, ZFLOW_ECLOSED);
    CHECK (zflow_stream_sock (pull) == NULL);
    CHECK (zflow_stream_at_closing (pull));
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK_RC (zflow_stream_read (pull, msg, 0), ZFLOW_ECLOSED);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&pull);
}

int main (void)
{
    printf ("test_stream\n");
    RUN (test_bad_creation);
    RUN (test_endpoints);
    RUN (test_timeouts);
    RUN (test_hot_paths);
    RUN (test_close);
    RUN (test_exception);
    RUN (test_closed_underneath);
    return 0;
}
