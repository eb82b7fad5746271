/*  =========================================================================
    test_redis - the Redis source and sink against a real redis-server:
    pub/sub channels and patterns, PUBLISH, XADD with MAXLEN, XREADGROUP
    with acks, resuming after a restart (also of a kill -9'd `zflow sub`)
    =========================================================================
*/
#include "test_redis_server.h"
#include "zflow_redis_sink.h"
#include "zflow_redis_source.h"
#include "zflow_testing.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static test_redis_server_t s_server;

//  Waits up to timeout_ms for counter name of a source (or sink) to reach
//  at least value; returns the last value seen.
static uint64_t s_wait_source (zflow_redis_source_t *source, const char *name, uint64_t value,
                               int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    uint64_t seen = 0;
    while (true) {
        zhash_t *stats = zflow_redis_source_stats (source, 2000);
        seen = zflow_actor_stats_get (stats, name);
        zhash_destroy (&stats);
        if (seen >= value || zclock_mono () > deadline)
            return seen;
        zclock_sleep (10);
    }
}

static uint64_t s_wait_sink (zflow_redis_sink_t *sink, const char *name, uint64_t value,
                             int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    uint64_t seen = 0;
    while (true) {
        zhash_t *stats = zflow_redis_sink_stats (sink, 2000);
        seen = zflow_actor_stats_get (stats, name);
        zhash_destroy (&stats);
        if (seen >= value || zclock_mono () > deadline)
            return seen;
        zclock_sleep (10);
    }
}

static void s_config (zflow_redis_config_t *config)
{
    zflow_redis_config_init (config);
    config->port = s_server.port;
}

//  Sends an envelope with key text and payload on a PUSH.
static void s_push (zsock_t *push, const char *key_text, const char *payload, size_t size)
{
    zflow_key_t *key = zflow_key_parse (key_text, NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK_RC (zflow_envelope_encode_key (msg, key, NULL, payload, size), 0);
    zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
    CHECK (zmsg_send (&zmsg, push) == 0);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
}

//  Receives one envelope on sub (up to 5 s) into msg.
static void s_recv (zsock_t *sub, zflow_msg_t *msg, zflow_meta_t *meta)
{
    zsock_set_rcvtimeo (sub, 5000);
    zmsg_t *zmsg = zmsg_recv (sub);
    CHECK (zmsg);
    CHECK_RC (zflow_msg_from_zmsg (msg, &zmsg), 0);
    CHECK_RC (zflow_envelope_decode (msg, meta), 0);
}

//  True when msg's key, in text form, is text.
static bool s_key_is (const zflow_msg_t *msg, const char *text)
{
    size_t size = 0;
    const void *wire = zflow_envelope_key (msg, &size);
    zflow_key_t *key = zflow_key_decode (wire, size, NULL);
    bool same = key && streq (zflow_key_text (key), text);
    zflow_key_destroy (&key);
    return same;
}

static void test_config_errors (void)
{
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    CHECK (config.port == 6379 && streq (config.host, "127.0.0.1"));
    CHECK (config.inflight == ZFLOW_REDIS_INFLIGHT && streq (config.separator, ":"));
    int err = 0;
    CHECK (zflow_redis_source_new (NULL, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);
    CHECK (zflow_redis_sink_new (NULL, &err) == NULL);
    CHECK_RC (err, ZFLOW_EINVAL);
    //  a pubsub source with nothing to subscribe, a stream source with no stream
    CHECK (zflow_redis_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.mode = ZFLOW_REDIS_STREAM;
    CHECK (zflow_redis_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    //  a channel with a space, a port out of range, a bad mode
    config.mode = ZFLOW_REDIS_PUBSUB;
    config.channels = "a b";
    CHECK (zflow_redis_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.channels = "a";
    config.port = 70000;
    CHECK (zflow_redis_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.port = 6379;
    config.mode = (zflow_redis_mode_t) 7;
    CHECK (zflow_redis_source_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    //  a sink without input, with inflight 0, with an input that cannot bind
    zflow_redis_config_init (&config);
    CHECK (zflow_redis_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.input = "inproc://test-redis-config";
    config.inflight = 0;
    CHECK (zflow_redis_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_ECONFIG);
    config.inflight = 10;
    config.input = "tcp://256.0.0.1:1";
    CHECK (zflow_redis_sink_new (&config, &err) == NULL);
    CHECK_RC (err, ZFLOW_EENDPOINT);
    //  NULL-safe accessors and destroy
    zflow_redis_source_t *none = NULL;
    zflow_redis_source_destroy (&none);
    zflow_redis_source_destroy (NULL);
    zflow_redis_sink_destroy (NULL);
    CHECK (zflow_redis_source_stats (NULL, 10) == NULL &&
           zflow_redis_sink_stats (NULL, 10) == NULL);
    CHECK (zflow_redis_source_endpoint (NULL) == NULL && zflow_redis_sink_endpoint (NULL) == NULL);
    CHECK (zflow_redis_source_actor (NULL) == NULL && zflow_redis_sink_actor (NULL) == NULL);
    CHECK_RC (zflow_redis_source_start (NULL), ZFLOW_EINVAL);
    zflow_redis_source_set_verbose (NULL, true);
    zflow_redis_sink_set_verbose (NULL, true);
}

//  SUBSCRIBE and PSUBSCRIBE: keys from channel names, meta with them.
static void test_pubsub_source (void)
{
    zflow_redis_config_t config;
    s_config (&config);
    config.channels = "news:eu,plain";
    config.patterns = "sensor.*";
    config.separator = ":";
    config.name = "rsrc";
    int err = 0;
    zflow_redis_source_t *source = zflow_redis_source_new (&config, &err);
    CHECK (source);
    CHECK (zflow_redis_source_actor (source));
    zsock_t *sub = zsock_new_sub (zflow_redis_source_endpoint (source), "");
    CHECK (sub);
    CHECK (s_wait_source (source, "connected", 1, 5000) == 1);
    redisContext *c = test_redis_server_connect (&s_server);
    //  the subscriptions are confirmed before the server counts them
    int64_t deadline = zclock_mono () + 5000;
    while (test_redis_server_int (c, "PUBLISH news:eu %s", "hello") < 1 &&
           zclock_mono () < deadline)
        zclock_sleep (10);
    test_redis_server_int (c, "PUBLISH sensor.t1 %b", "\x00\x01", (size_t) 2);
    test_redis_server_int (c, "PUBLISH plain %s", "p");
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    s_recv (sub, msg, meta);
    size_t size;
    CHECK (s_key_is (msg, "redis/news/eu"));
    CHECK (streq (zflow_meta_get (meta, "channel"), "news:eu"));
    CHECK (streq (zflow_meta_source (meta), "rsrc"));
    const char *payload = (const char *) zflow_envelope_payload (msg, &size);
    CHECK (size == 5 && memcmp (payload, "hello", 5) == 0);
    //  the pattern match: binary payload intact, pattern in meta
    s_recv (sub, msg, meta);
    CHECK (s_key_is (msg, "redis/sensor.t1"));
    CHECK (streq (zflow_meta_get (meta, "pattern"), "sensor.*"));
    payload = (const char *) zflow_envelope_payload (msg, &size);
    CHECK (size == 2 && payload[0] == 0 && payload[1] == 1);
    s_recv (sub, msg, meta);
    CHECK (s_key_is (msg, "redis/plain"));
    zhash_t *stats = zflow_redis_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "messages") == 3);
    CHECK (zflow_actor_stats_get (stats, "msgs_out") == 3);
    CHECK (zflow_actor_stats_get (stats, "connects") == 1);
    CHECK (zflow_actor_stats_get (stats, "reconnects") == 0);
    zhash_destroy (&stats);
    zflow_redis_source_set_verbose (source, false);
    zflow_msg_destroy (&msg);
    zflow_meta_destroy (&meta);
    redisFree (c);
    zsock_destroy (&sub);
    zflow_redis_source_destroy (&source);
    CHECK (source == NULL);
}

//  PUBLISH sink -> pubsub source: channel from the key, pipelined.
static void test_publish_sink (void)
{
    zflow_redis_config_t config;
    s_config (&config);
    config.channels = "out:a";
    zflow_redis_source_t *source = zflow_redis_source_new (&config, NULL);
    CHECK (source);
    zsock_t *sub = zsock_new_sub (zflow_redis_source_endpoint (source), "");
    CHECK (s_wait_source (source, "connected", 1, 5000) == 1);
    zclock_sleep (100); //  SUBSCRIBE confirmed
    s_config (&config);
    config.input = "@inproc://test-redis-publish";
    config.inflight = 16;
    int err = 0;
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, &err);
    CHECK (sink);
    CHECK (streq (zflow_redis_sink_endpoint (sink), "inproc://test-redis-publish"));
    CHECK (zflow_redis_sink_actor (sink));
    CHECK (s_wait_sink (sink, "connected", 1, 5000) == 1);
    zsock_t *push = zsock_new_push (">inproc://test-redis-publish");
    const int n = 500;
    for (int index = 0; index < n; index++) {
        char text[32];
        snprintf (text, sizeof (text), "m%d", index);
        s_push (push, "out/a", text, strlen (text));
    }
    CHECK (s_wait_sink (sink, "delivered", n, 10000) == (uint64_t) n);
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < n; index++) {
        s_recv (sub, msg, NULL);
        size_t size;
        const char *payload = (const char *) zflow_envelope_payload (msg, &size);
        char text[32];
        snprintf (text, sizeof (text), "m%d", index);
        CHECK (size == strlen (text) && memcmp (payload, text, size) == 0); //  in order
    }
    zhash_t *stats = zflow_redis_sink_stats (sink, 2000);
    CHECK (zflow_actor_stats_get (stats, "inflight") == 0);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == (uint64_t) n);
    CHECK (zflow_actor_stats_get (stats, "bytes_out") > 0);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    CHECK (zflow_actor_stats_get (stats, "unheard") == 0); //  our source heard them all
    zhash_destroy (&stats);
    //  a channel nobody listens to: delivered, and unheard
    s_push (push, "nobody/here", "x", 1);
    CHECK (s_wait_sink (sink, "unheard", 1, 5000) == 1);
    zflow_msg_destroy (&msg);
    zsock_destroy (&push);
    zsock_destroy (&sub);
    zflow_redis_sink_destroy (&sink);
    zflow_redis_source_destroy (&source);
}

//  XADD with MAXLEN ~: trimmed, every command accepted.
static void test_xadd_maxlen (void)
{
    zflow_redis_config_t config;
    s_config (&config);
    config.mode = ZFLOW_REDIS_STREAM;
    config.stream = "trimmed";
    config.maxlen = 100;
    config.field = "data";
    config.input = "@inproc://test-redis-xadd";
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    CHECK (sink);
    zsock_t *push = zsock_new_push (">inproc://test-redis-xadd");
    for (int index = 0; index < 1000; index++)
        s_push (push, "any/key", "x", 1);
    CHECK (s_wait_sink (sink, "delivered", 1000, 10000) == 1000);
    redisContext *c = test_redis_server_connect (&s_server);
    long long length = test_redis_server_int (c, "XLEN trimmed");
    CHECK (length >= 100 && length < 1000);
    redisReply *reply = (redisReply *) redisCommand (c, "XRANGE trimmed - + COUNT 1");
    CHECK (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1);
    redisReply *fields = reply->element[0]->element[1];
    CHECK (fields->elements == 2 && streq (fields->element[0]->str, "data"));
    freeReplyObject (reply);
    redisFree (c);
    zsock_destroy (&push);
    zflow_redis_sink_destroy (&sink);
}

//  Reads n envelopes of a stream source's output; returns how many came
//  within 5 s each; checks they are "e<first>".."e<first+n-1>" in order.
static int s_read_entries (zsock_t *sub, int first, int n)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    for (int index = 0; index < n; index++) {
        s_recv (sub, msg, meta);
        size_t size;
        const char *payload = (const char *) zflow_envelope_payload (msg, &size);
        char text[32];
        snprintf (text, sizeof (text), "e%d", first + index);
        CHECK (size == strlen (text) && memcmp (payload, text, size) == 0);
        CHECK (zflow_meta_get (meta, "id") && streq (zflow_meta_get (meta, "stream"), "jobs"));
    }
    zflow_msg_destroy (&msg);
    zflow_meta_destroy (&meta);
    return n;
}

static zflow_redis_source_t *s_stream_source (int ack_ms, zsock_t **sub_p)
{
    zflow_redis_config_t config;
    s_config (&config);
    config.mode = ZFLOW_REDIS_STREAM;
    config.stream = "jobs";
    config.start_id = "0";
    config.count = 7;
    config.block_ms = 100;
    config.ack_ms = ack_ms;
    config.manual_start = true;
    zflow_redis_source_t *source = zflow_redis_source_new (&config, NULL);
    CHECK (source);
    *sub_p = zsock_new_sub (zflow_redis_source_endpoint (source), "");
    zclock_sleep (50);
    CHECK_RC (zflow_redis_source_start (source), 0);
    CHECK_RC (zflow_redis_source_start (source), 0); //  a second call does nothing
    return source;
}

//  XREADGROUP: acked entries are not read again; unacknowledged ones
//  (pending) are, first, by the next source with the same consumer.
static void test_stream_resume (void)
{
    redisContext *c = test_redis_server_connect (&s_server);
    for (int index = 0; index < 50; index++)
        test_redis_server_int (c, "XADD jobs * payload e%d", index);
    zsock_t *sub;
    zflow_redis_source_t *source = s_stream_source (10, &sub);
    CHECK (s_read_entries (sub, 0, 50) == 50);
    CHECK (s_wait_source (source, "acked", 50, 5000) == 50);
    zsock_destroy (&sub);
    zflow_redis_source_destroy (&source);
    CHECK (test_redis_server_int (c, "XADD jobs * other x") == -1); //  a malformed entry
    for (int index = 50; index < 80; index++)
        test_redis_server_int (c, "XADD jobs * payload e%d", index);
    //  a source that never acknowledges (ack_ms far away): all stay
    //  pending, the malformed entry too
    source = s_stream_source (60000, &sub);
    CHECK (s_read_entries (sub, 50, 30) == 30);
    zhash_t *stats = zflow_redis_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "malformed") == 1);
    //  (pending_read may be above 0 here: the first source's last blocked
    //  XREADGROUP can still take the first new entries before Redis sees
    //  that connection closed; they are pending then, and read again here)
    CHECK (zflow_actor_stats_get (stats, "pending_read") <= 31);
    zhash_destroy (&stats);
    zsock_destroy (&sub);
    zflow_redis_source_destroy (&source);
    redisReply *reply = (redisReply *) redisCommand (c, "XPENDING jobs zflow");
    CHECK (reply && reply->type == REDIS_REPLY_ARRAY && reply->element[0]->integer == 31);
    freeReplyObject (reply);
    //  the next one reads the 31 pending ones first, then acks them
    source = s_stream_source (10, &sub);
    CHECK (s_read_entries (sub, 50, 30) == 30);
    CHECK (s_wait_source (source, "acked", 31, 5000) == 31);
    stats = zflow_redis_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "pending_read") == 31);
    zhash_destroy (&stats);
    reply = (redisReply *) redisCommand (c, "XPENDING jobs zflow");
    CHECK (reply && reply->type == REDIS_REPLY_ARRAY && reply->element[0]->integer == 0);
    freeReplyObject (reply);
    zsock_destroy (&sub);
    zflow_redis_source_destroy (&source);
    redisFree (c);
}

//  A pipeline bridging a pub/sub channel into a stream through the two
//  stage functions; their bad settings are ZFLOW_EINVAL, said.
static void test_pipeline_bridge (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (NULL, NULL);
    zflow_redis_config_t config;
    s_config (&config);
    CHECK_RC (zflow_pipeline_source_redis (p, "in", NULL), ZFLOW_EINVAL);
    zflow_pipeline_destroy (&p);
    p = zflow_pipeline_new (NULL, NULL); //  a pipeline keeps its first error
    CHECK_RC (zflow_pipeline_source_redis (p, "in", &config), ZFLOW_EINVAL); //  no channel
    CHECK (strstr (zflow_pipeline_error_text (p), "needs a channel or a pattern"));
    zflow_pipeline_destroy (&p);
    p = zflow_pipeline_new (NULL, NULL);
    config.mode = ZFLOW_REDIS_STREAM;
    CHECK_RC (zflow_pipeline_source_redis (p, "in", &config), ZFLOW_EINVAL); //  no stream
    zflow_pipeline_destroy (&p);
    p = zflow_pipeline_new (NULL, NULL);
    config.port = 0;
    CHECK_RC (zflow_pipeline_sink_redis (p, "out", &config), ZFLOW_EINVAL);
    CHECK (strstr (zflow_pipeline_error_text (p), "port must be 1-65535"));
    zflow_pipeline_destroy (&p);

    p = zflow_pipeline_new (NULL, NULL);
    s_config (&config);
    config.channels = "bridge:in";
    CHECK_RC (zflow_pipeline_source_redis (p, "in", &config), 0);
    s_config (&config);
    config.mode = ZFLOW_REDIS_STREAM;
    config.stream = "bridged";
    CHECK_RC (zflow_pipeline_sink_redis (p, "out", &config), 0);
    CHECK_RC (zflow_pipeline_start (p), 0);
    //  the source connected and subscribed once the pipeline runs
    redisContext *c = test_redis_server_connect (&s_server);
    int64_t deadline = zclock_mono () + 5000;
    while (test_redis_server_int (c, "PUBLISH bridge:in %s", "first") < 1 &&
           zclock_mono () < deadline)
        zclock_sleep (10);
    for (int index = 0; index < 99; index++)
        test_redis_server_int (c, "PUBLISH bridge:in m%d", index);
    deadline = zclock_mono () + 5000;
    while (test_redis_server_int (c, "XLEN bridged") < 100 && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK (test_redis_server_int (c, "XLEN bridged") == 100);
    zhash_t *stats = zflow_pipeline_stage_stats (p, 1, 2000);
    CHECK (zflow_actor_stats_get (stats, "redis.delivered") == 100);
    CHECK (zflow_actor_stats_get (stats, "redis.connected") == 1);
    zhash_destroy (&stats);
    stats = zflow_pipeline_stage_stats (p, 0, 2000);
    CHECK (zflow_actor_stats_get (stats, "redis.messages") == 100);
    zhash_destroy (&stats);
    CHECK_RC (zflow_pipeline_stop (p, 5000), 0);
    zflow_pipeline_destroy (&p);
    redisFree (c);
}

//  Starts `zflow sub` reading stream "killed" into file; returns its pid.
static pid_t s_spawn_sub (const char *file)
{
    char url[64];
    snprintf (url, sizeof (url), "redis://127.0.0.1:%d", s_server.port);
    pid_t pid = fork ();
    if (pid == 0) {
        FILE *out = freopen (file, "a", stdout);
        (void) out;
        execl (ZFLOW_CLI, ZFLOW_CLI, "sub", url, "--mode", "stream", "--stream", "killed",
               "--start_id", "0", "--block_ms", "100", "-q", (char *) NULL);
        _exit (127);
    }
    return pid;
}

//  Counts the distinct "k<N>" lines of file into seen; returns them.
static int s_seen (const char *file, bool *seen, int n)
{
    FILE *in = fopen (file, "r");
    int distinct = 0;
    char line[64];
    while (in && fgets (line, sizeof (line), in)) {
        int index;
        if (sscanf (line, "\"k%d\"", &index) == 1 && index >= 0 && index < n && !seen[index]) {
            seen[index] = true;
            distinct++;
        }
    }
    if (in)
        fclose (in);
    return distinct;
}

//  kill -9 `zflow sub` mid-stream, start it again: every entry is seen.
static void test_cli_kill_resume (void)
{
    char file[] = "/tmp/test_redis_kill_XXXXXX";
    int fd = mkstemp (file);
    CHECK (fd >= 0);
    close (fd);
    redisContext *c = test_redis_server_connect (&s_server);
    const int n = 2000;
    pid_t pid = s_spawn_sub (file);
    zclock_sleep (300);
    for (int index = 0; index < n; index++) {
        test_redis_server_int (c, "XADD killed * payload k%d", index);
        if (index == n / 2) {
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
        }
        if (index % 100 == 0)
            zclock_sleep (20);
    }
    bool *seen = (bool *) calloc ((size_t) n, sizeof (bool));
    int before = s_seen (file, seen, n);
    CHECK (before > 0 && before < n);
    pid = s_spawn_sub (file);
    int64_t deadline = zclock_mono () + 20000;
    int distinct = 0;
    while (zclock_mono () < deadline) {
        memset (seen, 0, (size_t) n * sizeof (bool));
        if ((distinct = s_seen (file, seen, n)) == n)
            break;
        zclock_sleep (100);
    }
    kill (pid, SIGTERM);
    waitpid (pid, NULL, 0);
    printf (" (%d seen before the kill, %d after the restart)", before, distinct);
    CHECK (distinct == n);
    free (seen);
    redisFree (c);
    unlink (file);
}

int main (void)
{
    zsys_init ();
    test_redis_server_start (&s_server, NULL);
    printf ("test_redis (redis-server on port %d):\n", s_server.port);
    RUN (test_config_errors);
    RUN (test_pubsub_source);
    RUN (test_publish_sink);
    RUN (test_xadd_maxlen);
    RUN (test_stream_resume);
    RUN (test_pipeline_bridge);
    RUN (test_cli_kill_resume);
    test_redis_server_kill (&s_server);
    return 0;
}
