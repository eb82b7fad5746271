/*  =========================================================================
    stream_pipeline - three actors joined by zflow streams

        source  --PUSH/PULL-->  filter  --PUSH/PULL-->  main thread (sink)

    The source actor publishes honeypot-style JSON events as zflow envelopes;
    the filter actor keeps those with a non-empty "hashes" list, attached to
    its loop with backpressure: when its output stream says ZFLOW_DRAIN it
    stops reading its input (which then fills and pushes back on the source)
    until the output has drained. The sink prints the first few messages and
    a throughput line.

    Usage: stream_pipeline [COUNT]     (default 200000 events)
    =========================================================================
*/
#include "zflow.h"
#include <string.h>
#include <sys/time.h>

#define SOURCE_ENDPOINT "inproc://example-source"
#define FILTER_ENDPOINT "inproc://example-filter"

//  ---------------------------------------------------------------------
//  The source: COUNT events, every third without hashes, then "END".

static void s_source (zsock_t *pipe, void *args)
{
    int count = *(int *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, "source");
    zflow_stream_t *out = zflow_stream_new (ZMQ_PUSH, NULL, SOURCE_ENDPOINT, NULL);
    zflow_actor_ready (base, out ? 0 : -1);
    if (!out) {
        zflow_actor_destroy (&base);
        return;
    }
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_key_t *key = zflow_key_new ("honeypot", "events", NULL);
    zflow_meta_set_source (meta, "source");
    zflow_meta_set_content_type (meta, "application/json");
    char json[256];
    for (int i = 0; i < count; i++) {
        int size = snprintf (json, sizeof (json),
                             "{\"id\":%d,\"src_ip\":\"192.0.2.%d\",\"dport\":445,"
                             "\"hashes\":[%s]}",
                             i, i % 250, i % 3 ? "\"9e107d9d372bb6826bd81d3542a419d6\"" : "");
        zflow_meta_set_seq (meta, (uint64_t) i + 1);
        zflow_meta_stamp (meta);
        zflow_envelope_encode_key (msg, key, meta, json, (size_t) size);
        if (zflow_stream_write (out, msg) == ZFLOW_DRAIN)
            zflow_stream_drain (out, -1); //  the filter pushes back
        zflow_actor_counters (base)->msgs_out++;
    }
    zflow_msg_addstr (msg, "END");
    zflow_stream_write (out, msg);
    zflow_stream_flush (out, -1);
    zflow_actor_run (base); //  wait for $TERM
    zflow_key_destroy (&key);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zflow_stream_destroy (&out);
    zflow_actor_destroy (&base);
}

//  ---------------------------------------------------------------------
//  The filter: an attached input, an output with backpressure.

typedef struct {
    zflow_actor_t *base; //  actor base (loop, counters)
    zflow_stream_t *in;  //  PULL from the source
    zflow_stream_t *out; //  PUSH to the sink
    zflow_msg_t *msg;    //  reused for every message
    bool congested;      //  out said ZFLOW_DRAIN: stop reading in
} filter_t;

//  Moves messages from in to out until in is empty or out is congested.
static void s_filter_pump (filter_t *self)
{
    while (!self->congested && zflow_stream_read (self->in, self->msg, 0) == 0) {
        zflow_actor_counters_t *counters = zflow_actor_counters (self->base);
        counters->msgs_in++;
        size_t size;
        const char *payload = (const char *) zflow_envelope_payload (self->msg, &size);
        //  keep the END marker and events whose hashes list is not empty
        bool keep = zflow_msg_size (self->msg) == 1 ||
                    (payload && !memmem (payload, size, "\"hashes\":[]", 11));
        if (!keep) {
            counters->drops++;
            continue;
        }
        counters->msgs_out++;
        if (zflow_stream_write (self->out, self->msg) == ZFLOW_DRAIN)
            self->congested = true;
    }
}

static void s_filter_on_readable (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_filter_pump ((filter_t *) arg);
}

static void s_filter_on_drained (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    filter_t *self = (filter_t *) arg;
    self->congested = false;
    s_filter_pump (self); //  what waited in the input buffer goes on
}

static void s_filter (zsock_t *pipe, void *args)
{
    (void) args;
    filter_t self = {zflow_actor_new (pipe, "filter"), NULL, NULL, zflow_msg_new (), false};
    self.in = zflow_stream_new (ZMQ_PULL, SOURCE_ENDPOINT, NULL, NULL);
    self.out = zflow_stream_new (ZMQ_PUSH, NULL, FILTER_ENDPOINT, NULL);
    bool ok = self.in && self.out;
    zflow_actor_ready (self.base, ok ? 0 : -1);
    if (ok) {
        zflow_stream_attach (self.in, zflow_actor_loop (self.base), s_filter_on_readable, NULL,
                             &self);
        zflow_stream_attach (self.out, zflow_actor_loop (self.base), NULL, s_filter_on_drained,
                             &self);
        zflow_actor_run (self.base);
    }
    zflow_stream_destroy (&self.in);
    zflow_stream_destroy (&self.out);
    zflow_msg_destroy (&self.msg);
    zflow_actor_destroy (&self.base);
}

//  ---------------------------------------------------------------------
//  The sink, in the main thread.

//  Wall-clock microseconds, the clock of zflow_meta_stamp.
static int64_t s_wall_usecs (void)
{
    struct timeval now;
    gettimeofday (&now, NULL);
    return (int64_t) now.tv_sec * 1000000 + now.tv_usec;
}

int main (int argc, char *argv[])
{
    int count = argc > 1 ? atoi (argv[1]) : 200000;
    if (count < 1) {
        fprintf (stderr, "usage: stream_pipeline [COUNT]  (COUNT >= 1)\n");
        return 2;
    }
    zflow_stream_t *in = zflow_stream_new (ZMQ_PULL, FILTER_ENDPOINT, NULL, NULL);
    zactor_t *filter = zflow_actor_start (s_filter, NULL);
    zactor_t *source = zflow_actor_start (s_source, &count);
    if (!in || !filter || !source) {
        fprintf (stderr, "stream_pipeline: could not start the actors\n");
        return 1;
    }
    fprintf (stderr,
             "stream_pipeline: source -> filter (keeps events with hashes) -> sink, "
             "%d events\n",
             count);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    int64_t start = zclock_usecs (), latency_sum = 0;
    int received = 0;
    while (zflow_stream_read (in, msg, 5000) == 0 && zflow_msg_size (msg) > 1) {
        if (zflow_envelope_decode (msg, meta) != 0)
            continue;
        received++;
        latency_sum += s_wall_usecs () - zflow_meta_timestamp (meta);
        if (received <= 5) {
            size_t size;
            const char *payload = (const char *) zflow_envelope_payload (msg, &size);
            printf ("seq=%" PRIu64 " key=%s payload=%.*s\n", zflow_meta_seq (meta),
                    "honeypot/events", (int) size, payload);
        }
    }
    double seconds = (zclock_usecs () - start) / 1e6;
    zhash_t *stats = zflow_actor_stats (filter, 1000);
    printf ("throughput: %d events in, %d kept, %.3f s, %.0f msgs/s through the pipeline, "
            "mean latency %.1f us; filter dropped %" PRIu64 " (no hashes)\n",
            count, received, seconds, count / seconds,
            received ? (double) latency_sum / received : 0.0,
            zflow_actor_stats_get (stats, "drops"));
    zhash_destroy (&stats);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
    zactor_destroy (&source);
    zactor_destroy (&filter);
    zflow_stream_destroy (&in);
    return received == count - (count + 2) / 3 ? 0 : 1;
}
