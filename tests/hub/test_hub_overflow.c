/*  Tests of the subscriber queue's overflow policies: drop newest, drop
    oldest (counted), and block (lossless, with a slow consumer, publishers
    held back and memory bounded). */
#include "hub/hub_testutil.h"
#include <pthread.h>

#define LIMIT 10
#define BURST 1000

//  Publishes BURST numbered messages to a subscriber that does not consume,
//  waits until it has read them all, then returns what the queue holds.
static int s_burst (zflow_hub_overflow_t policy, int *got, uint64_t *drops)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "overflow"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "slow", NULL);
    CHECK (zflow_hub_subscriber_set_queue (sub, LIMIT, policy) == 0);
    zflow_key_t *pattern = K ("burst/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    for (int i = 0; i < BURST; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        CHECK (pub_text (pub, "burst/n", text) >= 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 5000) == 0);
    CHECK (wait_sub_stat (sub, "msgs_in", BURST, 5000) == BURST);
    zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
    *drops = zflow_actor_stats_get (stats, "drops");
    uint64_t newest = zflow_actor_stats_get (stats, "dropped_newest");
    uint64_t oldest = zflow_actor_stats_get (stats, "dropped_oldest");
    CHECK (zflow_actor_stats_get (stats, "max_queue_depth") <= LIMIT);
    CHECK (policy == ZFLOW_HUB_DROP_NEWEST ? oldest == 0 && newest == *drops
                                           : newest == 0 && oldest == *drops);
    zhash_destroy (&stats);
    int n = 0;
    char *text = NULL;
    char *key;
    while ((key = consume_text (sub, 100, &text))) {
        got[n++] = atoi (text);
        free (key);
        free (text);
        CHECK (n <= LIMIT + 3);
    }
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
    return n;
}

static void test_drop_newest (void)
{
    int got[LIMIT + 3];
    uint64_t drops = 0;
    int n = s_burst (ZFLOW_HUB_DROP_NEWEST, got, &drops);
    //  what was kept is the first messages, in order; the rest counted
    CHECK (n >= LIMIT && (uint64_t) n + drops == BURST);
    for (int i = 0; i < n; i++)
        CHECK (got[i] == i);
}

static void test_drop_oldest (void)
{
    int got[LIMIT + 3];
    uint64_t drops = 0;
    int n = s_burst (ZFLOW_HUB_DROP_OLDEST, got, &drops);
    //  what was kept ends with the newest messages, in order
    CHECK (n >= LIMIT && (uint64_t) n + drops == BURST);
    for (int i = 1; i < n; i++)
        CHECK (got[i] > got[i - 1]);
    for (int i = 0; i < LIMIT; i++)
        CHECK (got[n - 1 - i] == BURST - 1 - i);
}

#define LOSSLESS 20000
#define PAYLOAD 200

typedef struct {
    zflow_hub_subscriber_t *sub; //  the slow subscriber
    int received;                //  messages consumed
    bool in_order;               //  all in publish order
} s_consumer_t;

static void *s_slow_consumer (void *arg)
{
    s_consumer_t *self = (s_consumer_t *) arg;
    zflow_msg_t *env = zflow_msg_new ();
    self->in_order = true;
    while (self->received < LOSSLESS && zflow_hub_subscriber_consume (self->sub, env, 5000) == 0) {
        int seq;
        memcpy (&seq, zflow_envelope_payload (env, NULL), sizeof (seq));
        if (seq != self->received)
            self->in_order = false;
        self->received++;
        if (self->received % 100 == 0)
            zclock_sleep (1); //  slow: about 100 messages per millisecond
    }
    zflow_msg_destroy (&env);
    return NULL;
}

static void test_block (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "lossless"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "slow", NULL);
    CHECK (zflow_hub_subscriber_set_queue (sub, LIMIT, ZFLOW_HUB_BLOCK) == 0);
    zflow_key_t *pattern = K ("lossless/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    s_consumer_t consumer = {sub, 0, false};
    pthread_t thread;
    pthread_create (&thread, NULL, s_slow_consumer, &consumer);
    zflow_key_t *key = K ("data");
    zflow_key_t *prefix_key = K ("lossless/data");
    (void) key;
    char payload[PAYLOAD] = {0};
    int drains = 0;
    size_t max_pending = 0;
    zflow_stream_t *stream = zflow_hub_publisher_stream (pub);
    for (int i = 0; i < LOSSLESS; i++) {
        memcpy (payload, &i, sizeof (i));
        int rc = zflow_hub_publisher_publish (pub, prefix_key, payload, sizeof (payload));
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        size_t pending = zflow_stream_write_pending_bytes (stream);
        if (pending > max_pending)
            max_pending = pending;
        if (rc == ZFLOW_DRAIN) {
            drains++;
            CHECK (zflow_hub_publisher_drain (pub, 10000) == 0);
        }
    }
    CHECK (zflow_hub_publisher_flush (pub, 10000) == 0);
    pthread_join (thread, NULL);
    CHECK (consumer.received == LOSSLESS && consumer.in_order);
    //  the publisher was held back, and its buffer stayed near its watermark
    CHECK (drains > 0);
    CHECK (max_pending <= ZFLOW_STREAM_DEFAULT_HIGH + PAYLOAD + 64);
    zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    CHECK (zflow_actor_stats_get (stats, "max_queue_depth") <= LIMIT);
    CHECK (zflow_actor_stats_get (stats, "blocked") > 0);
    CHECK (zflow_actor_stats_get (stats, "delivered_queue") == LOSSLESS);
    zhash_destroy (&stats);
    stats = zflow_hub_stats (hub, 1000);
    CHECK (zflow_actor_stats_get (stats, "paused") > 0);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0);
    zhash_destroy (&stats);
    printf ("lossless: %d messages, publisher drained %d times, max buffered %zu bytes\n", LOSSLESS,
            drains, max_pending);
    zflow_key_destroy (&key);
    zflow_key_destroy (&prefix_key);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  An actor listener whose user actor never reads: under a drop policy the
//  subscriber drops (and counts) instead of holding the hub back, and keeps
//  serving its queue.
static void test_actor_listener_drops (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "actordrop"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "stuck", NULL);
    CHECK (zflow_hub_subscriber_set_queue (sub, LIMIT, ZFLOW_HUB_DROP_NEWEST) == 0);
    zflow_key_t *pattern = K ("stuck/*");
    CHECK (zflow_hub_subscriber_add_actor_listener (sub, pattern, "inproc://nobody-reads-here") >
           0);
    char payload[PAYLOAD] = {0};
    for (int i = 0; i < LOSSLESS; i++) {
        int rc = zflow_hub_publisher_publish (pub, pattern, payload, sizeof (payload));
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        if (rc == ZFLOW_DRAIN)
            CHECK (zflow_hub_publisher_drain (pub, 10000) == 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 10000) == 0);
    CHECK (wait_sub_stat (sub, "msgs_in", LOSSLESS, 10000) == LOSSLESS);
    zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
    uint64_t delivered = zflow_actor_stats_get (stats, "delivered_actor");
    uint64_t drops = zflow_actor_stats_get (stats, "dropped_newest");
    CHECK (drops > 0 && delivered + drops == LOSSLESS);
    CHECK (zflow_actor_stats_get (stats, "blocked") == 0);
    zhash_destroy (&stats);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  A user actor that starts reading its stream only after "GO", then
//  answers "COUNT" with how many messages came and whether in order.
static void s_late_reader (zsock_t *pipe, void *args)
{
    zflow_stream_t *in = zflow_stream_new (ZMQ_PULL, (const char *) args, NULL, NULL);
    zsock_signal (pipe, 0);
    char *command = zstr_recv (pipe); //  "GO"
    zstr_free (&command);
    zflow_msg_t *env = zflow_msg_new ();
    int count = 0;
    bool in_order = true;
    zpoller_t *poller = zpoller_new (pipe, zflow_stream_sock (in), NULL);
    while (!zsys_interrupted) {
        if (zflow_stream_read (in, env, 0) == 0) {
            int seq;
            memcpy (&seq, zflow_envelope_payload (env, NULL), sizeof (seq));
            in_order = in_order && seq == count++;
            continue;
        }
        if (zpoller_wait (poller, -1) != pipe)
            continue;
        command = zstr_recv (pipe);
        bool term = !command || streq (command, "$TERM");
        if (command && streq (command, "COUNT"))
            zsock_send (pipe, "ii", count, in_order ? 1 : 0);
        zstr_free (&command);
        if (term)
            break;
    }
    zpoller_destroy (&poller);
    zflow_msg_destroy (&env);
    zflow_stream_destroy (&in);
}

//  An actor listener under BLOCK: while its user actor does not read, the
//  publisher is pushed back; once it reads, everything arrives in order.
static void test_actor_listener_block (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "actorblock"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "blocking", NULL);
    zactor_t *user = zactor_new (s_late_reader, "inproc://test-hub-late-reader");
    zflow_key_t *pattern = K ("late/*");
    CHECK (zflow_hub_subscriber_add_actor_listener (sub, pattern, "inproc://test-hub-late-reader") >
           0);
    char payload[PAYLOAD] = {0};
    int sent = 0;
    bool held_back = false;
    for (; sent < LOSSLESS && !held_back; sent++) {
        memcpy (payload, &sent, sizeof (sent));
        int rc = zflow_hub_publisher_publish (pub, pattern, payload, sizeof (payload));
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        if (rc == ZFLOW_DRAIN)
            held_back = zflow_hub_publisher_drain (pub, 200) == ZFLOW_ETIMEDOUT;
    }
    CHECK (held_back); //  nobody reads: the publisher cannot get rid of its messages
    zstr_send (user, "GO");
    CHECK (zflow_hub_publisher_drain (pub, 10000) == 0);
    for (; sent < LOSSLESS; sent++) {
        memcpy (payload, &sent, sizeof (sent));
        if (zflow_hub_publisher_publish (pub, pattern, payload, sizeof (payload)) == ZFLOW_DRAIN)
            CHECK (zflow_hub_publisher_drain (pub, 10000) == 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 10000) == 0);
    int count = 0, in_order = 0;
    for (int tries = 0; tries < 500 && count < LOSSLESS; tries++) {
        zstr_send (user, "COUNT");
        zsock_recv (user, "ii", &count, &in_order);
        if (count < LOSSLESS)
            zclock_sleep (10);
    }
    CHECK (count == LOSSLESS && in_order);
    zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
    CHECK (zflow_actor_stats_get (stats, "drops") == 0 &&
           zflow_actor_stats_get (stats, "blocked") > 0);
    zhash_destroy (&stats);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zactor_destroy (&user);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

static void s_nothing (const zflow_msg_t *envelope, void *arg)
{
    (void) envelope;
    (void) arg;
}

//  A lossless notice watcher that does not consume while 40,000
//  subscriptions come: the hub keeps serving subscriptions, its notice
//  backlog stays bounded and the rest are dropped and counted.
static void test_notice_backlog (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "backlog"}, NULL);
    zflow_hub_subscriber_t *watch = zflow_hub_subscriber_new (hub, "watch", NULL);
    CHECK (zflow_hub_subscriber_set_queue (watch, 1, ZFLOW_HUB_BLOCK) == 0);
    zflow_key_t *notices = K ("Hub/addedSubscriber/*");
    CHECK (zflow_hub_subscriber_subscribe (watch, notices) == 0);
    zflow_hub_subscriber_t *busy = zflow_hub_subscriber_new (hub, "busy", NULL);
    zflow_hub_subscriber_set_sync (busy, false);
    enum { N = 40000 };
    for (int i = 0; i < N; i++) {
        char part[16];
        snprintf (part, sizeof (part), "k%d", i);
        zflow_key_t *pattern = zflow_key_new ("many", part, NULL);
        CHECK (zflow_hub_subscriber_add_sync_listener (busy, pattern, s_nothing, NULL) > 0);
        zflow_key_destroy (&pattern);
    }
    CHECK (zflow_hub_subscriber_sync (busy, 20000) == 0); //  the hub saw them all
    zflow_key_t *last = K ("many/k39999");
    CHECK (zflow_hub_subscription_count (hub, last) == 1);
    zhash_t *stats = zflow_hub_stats (hub, 1000);
    uint64_t sent = zflow_actor_stats_get (stats, "notices");
    uint64_t dropped = zflow_actor_stats_get (stats, "notices_dropped");
    CHECK (dropped > 0 && sent + dropped >= N);
    //  bounded: a notice here is at least 60 bytes, the backlog 1 MiB
    CHECK (zflow_actor_stats_get (stats, "queue_depth") <= 1024 * 1024 / 60 + 1);
    zhash_destroy (&stats);
    char *key = consume_text (watch, 2000, NULL); //  the watcher still gets notices
    CHECK (key && strncmp (key, "Hub/addedSubscriber/", 20) == 0);
    free (key);
    zflow_key_destroy (&last);
    zflow_key_destroy (&notices);
    zflow_hub_subscriber_destroy (&busy);
    zflow_hub_subscriber_destroy (&watch);
    zflow_hub_destroy (&hub);
}

int main (void)
{
    test_notice_backlog ();
    test_actor_listener_block ();
    test_actor_listener_drops ();
    test_drop_newest ();
    test_drop_oldest ();
    test_block ();
    printf ("test_hub_overflow: OK\n");
    return 0;
}
