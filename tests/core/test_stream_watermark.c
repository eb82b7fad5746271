/*  Tests for the stream's watermarks: writes queue and never drop, drain
    waits for the low watermark, and an attached reader that falls behind
    stops taking messages (bounded buffer) and loses nothing. */
#include "zflow_testing.h"
#include <string.h>

#define WRITE_COUNT 50
#define SLOW_COUNT 3000
#define SLOW_SIZE 256

//  Reads count messages of a 4-byte sequence number and checks their order.
static void s_ordered_reader (zsock_t *pipe, void *args)
{
    const char *endpoint = (const char *) args;
    zflow_stream_t *pull = zflow_stream_new (ZMQ_PULL, NULL, endpoint, NULL);
    zsock_signal (pipe, 0);
    zflow_msg_t *msg = zflow_msg_new ();
    int expected = 0;
    while (expected < WRITE_COUNT && zflow_stream_read (pull, msg, 5000) == 0) {
        int seq;
        memcpy (&seq, zflow_msg_data (msg, 0), sizeof (int));
        if (seq != expected)
            break;
        expected++;
    }
    zstr_sendf (pipe, "%d", expected);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&pull);
    zsock_wait (pipe);
}

static void test_write_watermark (void)
{
    zsock_t *sock = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (sock, 5);
    CHECK (zsock_bind (sock, "inproc://wm-write") == 0);
    zflow_stream_t *push = zflow_stream_new_sock (&sock);
    CHECK_RC (zflow_stream_set_write_limits (push, 1000, 250), 0);
    zflow_msg_t *msg = zflow_msg_new ();
    int drains = 0;
    //  no peer yet: libzmq refuses every message, the stream keeps them all
    for (int i = 0; i < WRITE_COUNT; i++) {
        memcpy (zflow_msg_add_empty (msg, 100), &i, sizeof (int));
        int rc = zflow_stream_write (push, msg);
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        //  above 1000 bytes queued, and only then, the caller is told to drain
        CHECK ((rc == ZFLOW_DRAIN) == (zflow_stream_write_pending_bytes (push) > 1000));
        drains += rc == ZFLOW_DRAIN;
    }
    CHECK (drains == WRITE_COUNT - 10);
    CHECK (zflow_stream_write_pending (push) == WRITE_COUNT);
    CHECK (zflow_stream_dropped (push) == 0);
    CHECK_RC (zflow_stream_drain (push, 0), ZFLOW_ETIMEDOUT);
    CHECK_RC (zflow_stream_drain (push, 50), ZFLOW_ETIMEDOUT);

    zactor_t *reader = zactor_new (s_ordered_reader, "inproc://wm-write");
    CHECK_RC (zflow_stream_drain (push, 5000), 0);
    CHECK (zflow_stream_write_pending_bytes (push) <= 250);
    CHECK_RC (zflow_stream_flush (push, 5000), 0);
    CHECK (zflow_stream_write_pending (push) == 0);
    char *received = zstr_recv (reader);
    CHECK (received && atoi (received) == WRITE_COUNT);
    zstr_free (&received);
    zsock_signal (reader, 0);
    zactor_destroy (&reader);
    CHECK (zflow_stream_write_pending (push) == 0);
    CHECK (zflow_stream_msgs_written (push) == WRITE_COUNT);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&push);
}

//  Writes SLOW_COUNT numbered messages as fast as the reader lets it.
static void s_fast_writer (zsock_t *pipe, void *args)
{
    zsock_t *sock = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (sock, 10);
    zsock_connect (sock, "%s", (const char *) args);
    zflow_stream_t *push = zflow_stream_new_sock (&sock);
    zsock_signal (pipe, 0);
    zflow_msg_t *msg = zflow_msg_new ();
    int drains = 0;
    for (int i = 0; i < SLOW_COUNT; i++) {
        memcpy (zflow_msg_add_empty (msg, SLOW_SIZE), &i, sizeof (int));
        if (zflow_stream_write (push, msg) == ZFLOW_DRAIN) {
            drains++;
            zflow_stream_drain (push, -1);
        }
    }
    zflow_stream_flush (push, -1);
    zstr_sendf (pipe, "%d %d", drains, (int) zflow_stream_dropped (push));
    zflow_msg_destroy (&msg);
    zsock_wait (pipe);
    zflow_stream_destroy (&push);
}

typedef struct {
    zflow_stream_t *pull; //  the attached stream
    zflow_msg_t *msg;     //  reused for reads
    int received;         //  messages read, in order
    bool out_of_order;    //  a sequence number was wrong
    size_t max_bytes;     //  most bytes ever seen in the read buffer
    size_t max_msgs;      //  most messages ever seen in the read buffer
    int readable_calls;   //  on_readable calls
} slow_t;

static void s_note_pending (slow_t *slow)
{
    size_t bytes = zflow_stream_read_pending_bytes (slow->pull);
    size_t msgs = zflow_stream_read_pending (slow->pull);
    if (bytes > slow->max_bytes)
        slow->max_bytes = bytes;
    if (msgs > slow->max_msgs)
        slow->max_msgs = msgs;
}

//  The slow consumer's on_readable reads nothing: it leaves the messages to
//  push back, as a stage whose output is congested would.
static void s_on_readable (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    slow_t *slow = (slow_t *) arg;
    slow->readable_calls++;
    s_note_pending (slow);
}

//  Every millisecond the consumer manages four messages.
static int s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    slow_t *slow = (slow_t *) arg;
    s_note_pending (slow);
    for (int i = 0; i < 4; i++) {
        if (zflow_stream_read (slow->pull, slow->msg, 0) != 0)
            break;
        int seq;
        memcpy (&seq, zflow_msg_data (slow->msg, 0), sizeof (int));
        if (seq != slow->received)
            slow->out_of_order = true;
        slow->received++;
    }
    return slow->received == SLOW_COUNT || slow->out_of_order ? -1 : 0;
}

static void s_slow_reader_run (size_t high_bytes, size_t high_msgs)
{
    //  a socket made outside the stream: the stream does not know its
    //  bindings, so each run takes its own endpoint
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://wm-slow-%zu-%zu", high_bytes, high_msgs);
    zsock_t *sock = zsock_new (ZMQ_PULL);
    zsock_set_rcvhwm (sock, 10);
    CHECK (zsock_bind (sock, "%s", endpoint) == 0);
    slow_t slow = {zflow_stream_new_sock (&sock), zflow_msg_new (), 0, false, 0, 0, 0};
    CHECK_RC (zflow_stream_set_read_limits (slow.pull, high_bytes, 0), 0);
    if (high_msgs)
        CHECK_RC (zflow_stream_set_read_limits_msgs (slow.pull, high_msgs, high_msgs / 4), 0);
    zloop_t *loop = zloop_new ();
    CHECK_RC (zflow_stream_attach (slow.pull, loop, s_on_readable, NULL, &slow), 0);
    CHECK_RC (zflow_stream_attach (slow.pull, loop, s_on_readable, NULL, &slow), ZFLOW_EINVAL);
    zloop_timer (loop, 1, 0, s_on_tick, &slow);
    zactor_t *writer = zactor_new (s_fast_writer, endpoint);
    zloop_start (loop);

    char *report = zstr_recv (writer);
    int drains = 0, dropped = -1;
    CHECK (report && sscanf (report, "%d %d", &drains, &dropped) == 2);
    zstr_free (&report);
    zsock_signal (writer, 0);
    zactor_destroy (&writer);
    CHECK (!slow.out_of_order);
    CHECK (slow.received == SLOW_COUNT); //  nothing lost
    CHECK (dropped == 0);
    CHECK (drains > 0); //  the writer was pushed back
    CHECK (zflow_stream_pauses (slow.pull) > 0);
    CHECK (slow.readable_calls > 0);
    //  bounded: the fill stops at the high watermark, so the buffer never
    //  holds more than high plus the one message that crossed it
    CHECK (slow.max_bytes < high_bytes + SLOW_SIZE);
    if (high_msgs)
        CHECK (slow.max_msgs <= high_msgs);
    printf (" [max buffered %zu bytes, %zu msgs; %d writer drains]", slow.max_bytes, slow.max_msgs,
            drains);
    zflow_stream_detach (slow.pull);
    zloop_destroy (&loop);
    zflow_msg_destroy (&slow.msg);
    zflow_stream_destroy (&slow.pull);
}

static void test_slow_reader_bytes (void)
{
    s_slow_reader_run (4096, 0);
}

static void test_slow_reader_msgs (void)
{
    s_slow_reader_run (1 << 20, 8);
}

int main (void)
{
    printf ("test_stream_watermark\n");
    RUN (test_write_watermark);
    RUN (test_slow_reader_bytes);
    RUN (test_slow_reader_msgs);
    return 0;
}
