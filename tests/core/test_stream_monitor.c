/*  Tests for zflow_stream_read_event: monitor events, backlog, close. */
#include "zflow_testing.h"
#include <string.h>

//  Reads events until one of type arrives (or the wait runs out).
static bool s_wait_for (zflow_stream_t *stream, int type, zflow_stream_event_t *event)
{
    int64_t deadline = zclock_mono () + 5000;
    while (zclock_mono () < deadline)
        if (zflow_stream_read_event (stream, event, 500) == 0 && event->type == type)
            return true;
    return false;
}

static void test_events (void)
{
    zflow_stream_t *server = zflow_stream_new (ZMQ_ROUTER, "tcp://127.0.0.1:*", NULL, NULL);
    zflow_stream_event_t event;
    CHECK_RC (zflow_stream_read_event (server, &event, 0), ZFLOW_EINVAL); //  not enabled
    CHECK_RC (zflow_stream_read_event (server, NULL, 0), ZFLOW_EINVAL);
    CHECK_RC (zflow_stream_enable_monitor (server, 0, 0), 0);
    CHECK_RC (zflow_stream_enable_monitor (server, 0, 0), 0); //  idempotent
    CHECK_RC (zflow_stream_read_event (server, &event, 0), ZFLOW_EAGAIN);
    CHECK_RC (zflow_stream_read_event (server, &event, 50), ZFLOW_ETIMEDOUT);

    const char *endpoint = (const char *) zlistx_first (zflow_stream_bindings (server));
    zflow_stream_t *client = zflow_stream_new (ZMQ_DEALER, NULL, NULL, NULL);
    CHECK_RC (zflow_stream_enable_monitor (client, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED, 0),
              0);
    CHECK_RC (zflow_stream_connect (client, endpoint), 0);
    CHECK (s_wait_for (server, ZMQ_EVENT_ACCEPTED, &event));
    CHECK (streq (event.endpoint, endpoint));
    CHECK (streq (zflow_stream_event_name (event.type), "accepted"));
    CHECK (s_wait_for (client, ZMQ_EVENT_CONNECTED, &event));
    CHECK (streq (event.endpoint, endpoint));
    //  the client asked only for connected/disconnected: nothing else comes
    CHECK_RC (zflow_stream_read_event (client, &event, 100), ZFLOW_ETIMEDOUT);

    //  the peer goes away: the server sees it disconnect
    zflow_stream_destroy (&client);
    CHECK (s_wait_for (server, ZMQ_EVENT_DISCONNECTED, &event));
    CHECK (
        streq (zflow_stream_event_name (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH), "handshake_failed_auth"));
    CHECK (streq (zflow_stream_event_name (0), "unknown"));
    zflow_stream_destroy (&server);
}

//  Ten peers connect to a stream whose backlog holds three events: the
//  oldest are discarded and counted, and the newest remain.
static void test_backlog (void)
{
    zflow_stream_t *server = zflow_stream_new (ZMQ_ROUTER, "tcp://127.0.0.1:*", NULL, NULL);
    CHECK_RC (zflow_stream_enable_monitor (server, ZMQ_EVENT_ACCEPTED, 3), 0);
    const char *endpoint = (const char *) zlistx_first (zflow_stream_bindings (server));
    zflow_stream_t *clients[10];
    zflow_stream_event_t event;
    //  each client sees its own connection first; then give the server's
    //  accepts a moment to be reported
    for (int i = 0; i < 10; i++) {
        clients[i] = zflow_stream_new (ZMQ_DEALER, NULL, NULL, NULL);
        CHECK_RC (zflow_stream_enable_monitor (clients[i], ZMQ_EVENT_CONNECTED, 0), 0);
        CHECK_RC (zflow_stream_connect (clients[i], endpoint), 0);
    }
    for (int i = 0; i < 10; i++)
        CHECK (s_wait_for (clients[i], ZMQ_EVENT_CONNECTED, &event));
    zclock_sleep (300);
    int read = 0;
    while (zflow_stream_read_event (server, &event, 0) == 0) {
        CHECK (event.type == ZMQ_EVENT_ACCEPTED);
        read++;
    }
    CHECK (read == 3);
    CHECK (zflow_stream_events_discarded (server) == 7);
    for (int i = 0; i < 10; i++)
        zflow_stream_destroy (&clients[i]);
    zflow_stream_destroy (&server);
}

//  After close, the events already in the backlog can still be read, then
//  read_event says closed.
static void test_close (void)
{
    zflow_stream_t *server = zflow_stream_new (ZMQ_ROUTER, "tcp://127.0.0.1:*", NULL, NULL);
    CHECK_RC (zflow_stream_enable_monitor (server, ZMQ_EVENT_ACCEPTED, 0), 0);
    const char *endpoint = (const char *) zlistx_first (zflow_stream_bindings (server));
    zflow_stream_t *client = zflow_stream_new (ZMQ_DEALER, NULL, endpoint, NULL);
    zclock_sleep (200);
    zflow_stream_close (server);
    zflow_stream_event_t event;
    CHECK_RC (zflow_stream_read_event (server, &event, 1000), 0);
    CHECK (event.type == ZMQ_EVENT_ACCEPTED);
    CHECK_RC (zflow_stream_read_event (server, &event, 1000), ZFLOW_ECLOSED);
    CHECK_RC (zflow_stream_read_event (server, &event, -1), ZFLOW_ECLOSED);
    zflow_stream_destroy (&client);
    zflow_stream_destroy (&server);
}

int main (void)
{
    printf ("test_stream_monitor\n");
    RUN (test_events);
    RUN (test_backlog);
    RUN (test_close);
    return 0;
}
