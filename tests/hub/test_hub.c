/*  Tests of the hub in one process: wildcards through the hub, prefixes,
    queue ordering, listeners, notices, has_subscribers and bad input. */
#include "hub/hub_testutil.h"
#include <pthread.h>
#include <string.h>

//  The seed's example: prefix ("a"), subscription ("a","b","*").
static void test_seed_example (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "seed"}, NULL);
    CHECK (hub);
    zflow_key_t *prefix = K ("a");
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, prefix, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "subscriber_id", NULL);
    CHECK (pub && sub);
    zflow_key_t *pattern = K ("a/b/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    CHECK (pub_text (pub, "b/c", "Hello subscriber") == 0);
    zflow_msg_t *env = zflow_msg_new ();
    CHECK (zflow_hub_subscriber_consume (sub, env, 2000) == 0);
    CHECK (env_is (env, "a/b/c", "Hello subscriber"));
    CHECK (zflow_hub_subscriber_consume (sub, env, 0) == ZFLOW_EAGAIN);
    CHECK (zflow_hub_subscriber_consume (sub, env, 20) == ZFLOW_ETIMEDOUT);
    CHECK (zflow_hub_subscriber_remove_all_listeners (sub) == 0);
    zflow_msg_destroy (&env);
    zflow_key_destroy (&pattern);
    zflow_key_destroy (&prefix);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  Every rule through the hub: one subscriber per pattern, a fixed set of
//  keys published, and exactly the expected ones arrive at each.
static void test_wildcards (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "wild"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    const char *keys[] = {"a", "a/b", "a/b/c", "a/x/c", "a/bc", "b/c", "x/b", "a/b/c/d", "a//c"};
    const size_t nkeys = sizeof (keys) / sizeof (keys[0]);
    struct {
        const char *pattern;
        const char *expect; //  the keys that must arrive, in publish order
    } cases[] = {
        {"a/*", "a/b a/b/c a/x/c a/bc a/b/c/d a//c"},
        {"a/*/c", "a/b/c a/x/c a//c"},
        {"a/b", "a/b"},
        {"*", "a a/b a/b/c a/x/c a/bc b/c x/b a/b/c/d a//c"},
        {"*/b", "a/b x/b"},
        {"*/*/c", "a/b/c a/x/c a//c"},
        {"a/b/*", "a/b/c a/b/c/d"},
        {"a", "a"},
        {"z/*", ""},
    };
    const size_t ncases = sizeof (cases) / sizeof (cases[0]);
    zflow_hub_subscriber_t *subs[16];
    for (size_t i = 0; i < ncases; i++) {
        subs[i] = zflow_hub_subscriber_new (hub, cases[i].pattern, NULL);
        zflow_key_t *pattern = K (cases[i].pattern);
        CHECK (zflow_hub_subscriber_subscribe (subs[i], pattern) == 0);
        zflow_key_destroy (&pattern);
    }
    for (size_t k = 0; k < nkeys; k++)
        CHECK (pub_text (pub, keys[k], keys[k]) == 0);
    CHECK (pub_text (pub, "end", "end") == 0);
    for (size_t i = 0; i < ncases; i++) {
        char got[512] = "";
        char *text = NULL;
        char *key;
        //  "end" matches only "*"; read until quiet for the others
        while ((key = consume_text (subs[i], 300, &text))) {
            if (strncmp (key, "Hub/", 4) == 0) { //  "*" sees the hub's notices too
                free (key);
                free (text);
                continue;
            }
            CHECK (streq (key, text));
            if (!streq (key, "end"))
                snprintf (got + strlen (got), sizeof (got) - strlen (got), "%s%s", *got ? " " : "",
                          key);
            bool end = streq (key, "end");
            free (key);
            free (text);
            if (end)
                break;
        }
        if (!streq (got, cases[i].expect)) {
            fprintf (stderr, "pattern %s: got '%s', want '%s'\n", cases[i].pattern, got,
                     cases[i].expect);
            CHECK (false);
        }
        zflow_hub_subscriber_destroy (&subs[i]);
    }
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  Several patterns feed one ordered queue; a message matching two of them
//  is queued once; unsubscribing one stops its keys only.
static void test_queue_order (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "order"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "q", NULL);
    zflow_key_t *p1 = K ("one/*");
    zflow_key_t *p2 = K ("*/two");
    CHECK (zflow_hub_subscriber_subscribe (sub, p1) == 0);
    CHECK (zflow_hub_subscriber_subscribe (sub, p2) == 0);
    const char *keys[] = {"one/x", "y/two", "one/two"};
    for (int i = 0; i < 300; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        CHECK (pub_text (pub, keys[i % 3], text) >= 0);
    }
    for (int i = 0; i < 300; i++) {
        char *text = NULL;
        char *key = consume_text (sub, 2000, &text);
        CHECK (key && text);
        CHECK (atoi (text) == i);
        CHECK (streq (key, keys[i % 3]));
        free (key);
        free (text);
    }
    CHECK (consume_text (sub, 50, NULL) == NULL); //  "one/two" came once, not twice
    CHECK (zflow_hub_subscriber_unsubscribe (sub, p1) == 0);
    CHECK (zflow_hub_subscriber_unsubscribe (sub, p1) == ZFLOW_ENOTFOUND);
    CHECK (pub_text (pub, "one/x", "gone") == 0);
    CHECK (pub_text (pub, "one/two", "kept") == 0);
    char *text = NULL;
    char *key = consume_text (sub, 2000, &text);
    CHECK (key && streq (key, "one/two") && streq (text, "kept"));
    free (key);
    free (text);
    CHECK (consume_text (sub, 50, NULL) == NULL);
    zflow_key_destroy (&p1);
    zflow_key_destroy (&p2);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

typedef struct {
    int count;        //  calls
    int last;         //  last sequence number seen
    bool in_order;    //  every call had a higher number than the last
    pthread_t thread; //  thread of the last call
} s_seen_t;

static void s_listener (const zflow_msg_t *env, void *arg)
{
    s_seen_t *seen = (s_seen_t *) arg;
    char *text = zflow_msg_strdup (env, ZFLOW_ENVELOPE_PAYLOAD);
    int seq = atoi (text);
    free (text);
    if (seq <= seen->last)
        seen->in_order = false;
    seen->last = seq;
    seen->count++;
    seen->thread = pthread_self ();
}

//  Sync listeners run in the subscriber's thread, in publish order; removed
//  listeners are not called again.
static void test_sync_listeners (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "sync"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "l", NULL);
    s_seen_t a = {0, -1, true, 0}, b = {0, -1, true, 0};
    zflow_key_t *pa = K ("s/*");
    zflow_key_t *pb = K ("s/*/even");
    int ida = zflow_hub_subscriber_add_sync_listener (sub, pa, s_listener, &a);
    int idb = zflow_hub_subscriber_add_sync_listener (sub, pb, s_listener, &b);
    CHECK (ida > 0 && idb > 0 && ida != idb);
    for (int i = 0; i < 1000; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        CHECK (pub_text (pub, i % 2 ? "s/n/odd" : "s/n/even", text) >= 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 2000) == 0);
    CHECK (wait_sub_stat (sub, "delivered_sync", 1500, 5000) == 1500);
    CHECK (a.count == 1000 && a.in_order && a.last == 999);
    CHECK (b.count == 500 && b.in_order && b.last == 998); //  the even ones, in order
    CHECK (!pthread_equal (a.thread, pthread_self ()));
    CHECK (zflow_hub_subscriber_remove_listener (sub, ida) == 0);
    CHECK (zflow_hub_subscriber_remove_listener (sub, ida) == ZFLOW_ENOTFOUND);
    CHECK (zflow_hub_subscriber_remove_listener (sub, 4242) == ZFLOW_ENOTFOUND);
    CHECK (pub_text (pub, "s/n/even", "1000") == 0);
    CHECK (wait_sub_stat (sub, "delivered_sync", 1501, 5000) == 1501);
    CHECK (a.count == 1000 && b.count == 501);
    CHECK (zflow_hub_subscriber_remove_all_listeners (sub) == 1);
    CHECK (pub_text (pub, "s/n/even", "1001") == 0);
    zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
    CHECK (zflow_actor_stats_get (stats, "subscriptions") == 0);
    zhash_destroy (&stats);
    zclock_sleep (50);
    CHECK (b.count == 501);
    zflow_key_destroy (&pa);
    zflow_key_destroy (&pb);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  A user actor reading an actor listener's messages from its own stream.
static void s_user_actor (zsock_t *pipe, void *args)
{
    const char *endpoint = (const char *) args;
    zflow_stream_t *in = zflow_stream_new (ZMQ_PULL, endpoint, NULL, NULL);
    zsock_signal (pipe, 0);
    zflow_msg_t *env = zflow_msg_new ();
    int count = 0, last = -1;
    bool in_order = true;
    zpoller_t *poller = zpoller_new (pipe, zflow_stream_sock (in), NULL);
    while (true) {
        if (zflow_stream_read (in, env, 0) == 0) {
            char *text = zflow_msg_strdup (env, ZFLOW_ENVELOPE_PAYLOAD);
            int seq = atoi (text);
            free (text);
            in_order = in_order && seq == last + 1;
            last = seq;
            count++;
            continue;
        }
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            if (command && streq (command, "COUNT"))
                zsock_send (pipe, "ii", count, in_order ? 1 : 0);
            zstr_free (&command);
            if (term)
                break;
        } else if (!which)
            break;
    }
    zpoller_destroy (&poller);
    zflow_msg_destroy (&env);
    zflow_stream_destroy (&in);
}

static void test_actor_listener (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "actors"}, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "a", NULL);
    zactor_t *user = zactor_new (s_user_actor, "inproc://test-hub-user-actor");
    zflow_key_t *pattern = K ("feed/*");
    int id = zflow_hub_subscriber_add_actor_listener (sub, pattern, "inproc://test-hub-user-actor");
    CHECK (id > 0);
    CHECK (zflow_hub_subscriber_add_actor_listener (sub, pattern, "nonsense://") ==
           ZFLOW_EENDPOINT);
    for (int i = 0; i < 2000; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        CHECK (pub_text (pub, i % 2 ? "feed/a" : "feed/b/c", text) >= 0);
        CHECK (pub_text (pub, "other/a", "x") >= 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 2000) == 0);
    if (wait_sub_stat (sub, "delivered_actor", 2000, 5000) != 2000) {
        zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
        for (char *v = (char *) zhash_first (stats); v; v = (char *) zhash_next (stats))
            fprintf (stderr, "sub %s=%s\n", zhash_cursor (stats), v);
        zhash_destroy (&stats);
        stats = zflow_hub_stats (hub, 1000);
        for (char *v = (char *) zhash_first (stats); v; v = (char *) zhash_next (stats))
            fprintf (stderr, "hub %s=%s\n", zhash_cursor (stats), v);
        zhash_destroy (&stats);
        CHECK (false);
    }
    int count = 0, in_order = 0;
    for (int tries = 0; tries < 200 && count < 2000; tries++) {
        zstr_send (user, "COUNT");
        zsock_recv (user, "ii", &count, &in_order);
        if (count < 2000)
            zclock_sleep (10);
    }
    CHECK (count == 2000 && in_order);
    CHECK (zflow_hub_subscriber_remove_listener (sub, id) == 0);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zactor_destroy (&user);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  Reads notices until one for pattern_text arrives; returns its count and
//  whether it was an addedSubscriber notice in *added_p.
static int s_next_notice (zflow_hub_subscriber_t *watch, const char *pattern_text, bool *added_p)
{
    zflow_msg_t *env = zflow_msg_new ();
    int count = -1;
    while (count < 0 && zflow_hub_subscriber_consume (watch, env, 2000) == 0) {
        size_t size;
        const void *wire = zflow_envelope_key (env, &size);
        zflow_key_t *key = zflow_key_decode (wire, size, NULL);
        CHECK (key && zflow_key_size (key) >= 3 && streq (zflow_key_at (key, 0), "Hub"));
        const void *payload = zflow_envelope_payload (env, &size);
        zflow_key_t *pattern = NULL;
        uint64_t n = 0;
        CHECK (zflow_hub_notice_decode (payload, size, &pattern, &n) == 0);
        //  the notice key ends with the pattern
        zflow_key_t *tail = zflow_key_new_array (
            (const char *[]){zflow_key_at (key, 2), zflow_key_at (key, 3), zflow_key_at (key, 4)},
            zflow_key_size (key) - 2 > 3 ? 3 : zflow_key_size (key) - 2, NULL);
        CHECK (tail && zflow_key_eq (tail, pattern));
        if (streq (zflow_key_text (pattern), pattern_text)) {
            count = (int) n;
            *added_p = streq (zflow_key_at (key, 1), "addedSubscriber");
        }
        zflow_key_destroy (&tail);
        zflow_key_destroy (&pattern);
        zflow_key_destroy (&key);
    }
    zflow_msg_destroy (&env);
    return count;
}

static void test_notices (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "notices"}, NULL);
    zflow_hub_subscriber_t *watch = zflow_hub_subscriber_new (hub, "watch", NULL);
    zflow_key_t *added = K ("Hub/addedSubscriber/*");
    zflow_key_t *removed = K ("Hub/removedSubscriber/*");
    CHECK (zflow_hub_subscriber_subscribe (watch, added) == 0);
    CHECK (zflow_hub_subscriber_subscribe (watch, removed) == 0);
    zflow_hub_subscriber_t *s1 = zflow_hub_subscriber_new (hub, "s1", NULL);
    zflow_hub_subscriber_t *s2 = zflow_hub_subscriber_new (hub, "s2", NULL);
    zflow_key_t *pattern = K ("x/*/y");
    bool was_added = false;
    CHECK (zflow_hub_subscriber_subscribe (s1, pattern) == 0);
    CHECK (s_next_notice (watch, "x/*/y", &was_added) == 1 && was_added);
    CHECK (zflow_hub_subscriber_subscribe (s2, pattern) == 0);
    CHECK (s_next_notice (watch, "x/*/y", &was_added) == 2 && was_added);
    zflow_key_t *listen = K ("x/*/y");
    int id = zflow_hub_subscriber_add_sync_listener (s2, listen, s_listener, &(s_seen_t){0});
    CHECK (s_next_notice (watch, "x/*/y", &was_added) == 3 && was_added);
    CHECK (zflow_hub_subscription_count (hub, pattern) == 3);
    CHECK (zflow_hub_subscriber_remove_listener (s2, id) == 0);
    CHECK (s_next_notice (watch, "x/*/y", &was_added) == 2 && !was_added);
    CHECK (zflow_hub_subscriber_unsubscribe (s1, pattern) == 0);
    CHECK (s_next_notice (watch, "x/*/y", &was_added) == 1 && !was_added);
    //  a subscriber that goes away takes its subscriptions with it
    zflow_hub_subscriber_destroy (&s2);
    CHECK (s_next_notice (watch, "x/*/y", &was_added) == 0 && !was_added);
    CHECK (zflow_hub_subscription_count (hub, pattern) == 0);
    zhash_t *stats = zflow_hub_stats (hub, 1000);
    CHECK (zflow_actor_stats_get (stats, "notices") >= 6);
    CHECK (zflow_actor_stats_get (stats, "patterns") == 2); //  watch's own two
    CHECK (zflow_actor_stats_get (stats, "peers") == 2);    //  watch and s1 (s2 is gone)
    zhash_destroy (&stats);
    zflow_key_destroy (&listen);
    zflow_key_destroy (&pattern);
    zflow_key_destroy (&added);
    zflow_key_destroy (&removed);
    zflow_hub_subscriber_destroy (&s1);
    zflow_hub_subscriber_destroy (&watch);
    zflow_hub_destroy (&hub);
}

static void test_has_subscribers (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "has"}, NULL);
    zflow_key_t *prefix = K ("a");
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, prefix, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "s", NULL);
    zflow_key_t *abc = K ("a/b/c"), *ab = K ("a/b"), *bc = K ("b/c"), *b = K ("b");
    zflow_key_t *pattern = K ("a/*/c");
    CHECK (!zflow_hub_has_subscribers (hub, abc));
    CHECK (zflow_hub_publisher_has_subscribers (pub, bc) == 0);
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    CHECK (zflow_hub_has_subscribers (hub, abc));
    CHECK (!zflow_hub_has_subscribers (hub, ab));
    CHECK (zflow_hub_publisher_has_subscribers (pub, bc) == 1);
    CHECK (zflow_hub_publisher_has_subscribers (pub, b) == 0);
    CHECK (zflow_hub_publisher_has_subscribers (pub, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_hub_subscriber_unsubscribe (sub, pattern) == 0);
    CHECK (!zflow_hub_has_subscribers (hub, abc));
    CHECK (zflow_hub_publisher_has_subscribers (pub, bc) == 0);
    zflow_key_destroy (&abc);
    zflow_key_destroy (&ab);
    zflow_key_destroy (&bc);
    zflow_key_destroy (&b);
    zflow_key_destroy (&pattern);
    zflow_key_destroy (&prefix);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  Hub names and keys: empty, too many components, too long, separator, NUL.
static void test_bad_keys (void)
{
    int err = 0;
    CHECK (zflow_hub_new (&(zflow_hub_config_t){.name = "a/b"}, &err) == NULL &&
           err == ZFLOW_EINVAL);
    CHECK (zflow_hub_new (&(zflow_hub_config_t){.name = ""}, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_hub_new (&(zflow_hub_config_t){.name = "no spaces"}, &err) == NULL &&
           err == ZFLOW_EINVAL);
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "bad"}, &err);
    CHECK (hub && err == 0);
    CHECK (zflow_hub_new (&(zflow_hub_config_t){.name = "bad"}, &err) == NULL &&
           err == ZFLOW_EENDPOINT);
    zflow_hub_destroy (&hub);
    const char *parts[ZFLOW_KEY_MAX_PARTS + 1];
    for (int i = 0; i <= ZFLOW_KEY_MAX_PARTS; i++)
        parts[i] = "p";
    CHECK (zflow_key_new_array (parts, 0, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_key_new_array (parts, ZFLOW_KEY_MAX_PARTS + 1, &err) == NULL &&
           err == ZFLOW_ETOOBIG);
    char long_part[ZFLOW_KEY_MAX_PART + 2];
    memset (long_part, 'x', sizeof (long_part) - 1);
    long_part[sizeof (long_part) - 1] = 0;
    const char *too_long[] = {"a", long_part};
    CHECK (zflow_key_new_array (too_long, 2, &err) == NULL && err == ZFLOW_ETOOBIG);
    const char *with_sep[] = {"a", "b\x1f"
                                   "c"};
    CHECK (zflow_key_new_array (with_sep, 2, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_key_decode ("a\0b", 3, &err) == NULL && err == ZFLOW_EINVAL);
}

//  Publisher and subscriber calls with bad arguments: clear codes.
static void test_bad_calls (void)
{
    int err = 0;
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "badcalls"}, NULL);
    const char *parts[ZFLOW_KEY_MAX_PARTS];
    for (int i = 0; i < ZFLOW_KEY_MAX_PARTS; i++)
        parts[i] = "p";
    zflow_key_t *prefix = zflow_key_new_array (parts, ZFLOW_KEY_MAX_PARTS - 1, NULL);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, prefix, NULL);
    CHECK (pub);
    zflow_key_t *two = K ("x/y"), *one = K ("x");
    CHECK (zflow_hub_publisher_publish (pub, two, "z", 1) == ZFLOW_ETOOBIG);
    CHECK (zflow_hub_publisher_has_subscribers (pub, two) == ZFLOW_ETOOBIG);
    CHECK (zflow_hub_publisher_publish (pub, NULL, "z", 1) == ZFLOW_EINVAL);
    CHECK (zflow_hub_publisher_new (NULL, NULL, &err) == NULL && err == ZFLOW_EINVAL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "bad", NULL);
    CHECK (zflow_hub_subscriber_new (hub, "", &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_hub_subscriber_subscribe (sub, NULL) == ZFLOW_EINVAL);
    CHECK (zflow_hub_subscriber_unsubscribe (sub, two) == ZFLOW_ENOTFOUND);
    CHECK (zflow_hub_subscriber_remove_listener (sub, 0) == ZFLOW_EINVAL);
    CHECK (zflow_hub_subscriber_remove_listener (sub, 7) == ZFLOW_ENOTFOUND);
    CHECK (zflow_hub_subscriber_set_queue (sub, 0, ZFLOW_HUB_BLOCK) == ZFLOW_EINVAL);
    CHECK (zflow_hub_subscriber_set_queue (sub, 10, (zflow_hub_overflow_t) 9) == ZFLOW_EINVAL);
    CHECK (zflow_hub_subscriber_add_sync_listener (sub, two, NULL, NULL) == ZFLOW_EINVAL);
    //  the actor-class accessors, and their NULL cases
    CHECK (zflow_hub_subscriber_actor (sub) != NULL);
    CHECK (zflow_hub_subscriber_endpoint (sub) &&
           strncmp (zflow_hub_subscriber_endpoint (sub), "inproc://", 9) == 0);
    zflow_hub_subscriber_set_verbose (sub, true);
    zflow_hub_subscriber_set_verbose (sub, false);
    zhash_t *stats = zflow_hub_subscriber_stats (sub, 2000);
    CHECK (stats && zhash_lookup (stats, "msgs_in"));
    zhash_destroy (&stats);
    CHECK (zflow_hub_subscriber_actor (NULL) == NULL);
    CHECK (zflow_hub_subscriber_endpoint (NULL) == NULL);
    zflow_hub_subscriber_set_verbose (NULL, true);
    //  and after all that, the hub serves: the 32-component key arrives
    zflow_key_t *deep = K ("p/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, deep) == 0);
    //  published after the subscription (one that came before could still be
    //  on its way through the hub and arrive, which is no error)
    CHECK (zflow_hub_publisher_publish (pub, one, "z", 1) == 0); //  exactly 32: fine
    CHECK (pub_text (pub, "x", "deep") == 0);
    const char *expected[] = {"z", "deep"};
    for (int i = 0; i < 2; i++) {
        char *text = NULL;
        char *key = consume_text (sub, 2000, &text);
        CHECK (key &&
               streq (key, "p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/p/x"));
        CHECK (text && streq (text, expected[i]));
        free (key);
        free (text);
    }
    zflow_key_destroy (&deep);
    zflow_key_destroy (&two);
    zflow_key_destroy (&one);
    zflow_key_destroy (&prefix);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  Frames that are not envelopes, straight into the hub's XSUB side: counted
//  as malformed and dropped; the hub goes on serving.
static void test_bad_frames (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "badframes"}, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "s", NULL);
    zflow_key_t *raw_key = K ("raw");
    zflow_key_t *after = K ("after/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, raw_key) == 0);
    CHECK (zflow_hub_subscriber_subscribe (sub, after) == 0);
    zsock_t *raw = zsock_new (ZMQ_XPUB);
    CHECK (zsock_connect (raw, "%s", zflow_hub_pub_endpoint (hub)) == 0);
    zframe_t *hello = zframe_recv (raw); //  the hub's subscription
    CHECK (hello && zframe_size (hello) == 1);
    zframe_destroy (&hello);
    zstr_send (raw, "single frame");
    zstr_sendx (raw, "", "\x81\xa1v\x01", "empty key", NULL);
    zsock_send (raw, "bss", "a\0b", (size_t) 3, "\x81\xa1v\x01", "NUL in key");
    zstr_sendx (raw, "raw", "\x81\xa1v\x01", "fine", NULL);
    char *text = NULL;
    char *key = consume_text (sub, 2000, &text);
    CHECK (key && streq (key, "raw") && streq (text, "fine"));
    free (key);
    free (text);
    zhash_t *stats = zflow_hub_stats (hub, 1000);
    CHECK (zflow_actor_stats_get (stats, "malformed") == 3);
    zhash_destroy (&stats);
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    CHECK (pub_text (pub, "after/all", "still") == 0);
    key = consume_text (sub, 2000, &text);
    CHECK (key && streq (key, "after/all") && streq (text, "still"));
    free (key);
    free (text);
    zsock_destroy (&raw);
    zflow_key_destroy (&raw_key);
    zflow_key_destroy (&after);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_publisher_destroy (&pub);
    zflow_hub_destroy (&hub);
}

//  Two hubs in one process do not see each other's traffic.
static void test_two_hubs (void)
{
    zflow_hub_t *h1 = zflow_hub_new (&(zflow_hub_config_t){.name = "h1"}, NULL);
    zflow_hub_t *h2 = zflow_hub_new (&(zflow_hub_config_t){.name = "h2"}, NULL);
    CHECK (h1 && h2);
    CHECK (!streq (zflow_hub_pub_endpoint (h1), zflow_hub_pub_endpoint (h2)));
    zflow_hub_subscriber_t *s1 = zflow_hub_subscriber_new (h1, "s1", NULL);
    zflow_hub_subscriber_t *s2 = zflow_hub_subscriber_new (h2, "s2", NULL);
    zflow_key_t *pattern = K ("k/*");
    CHECK (zflow_hub_subscriber_subscribe (s1, pattern) == 0);
    CHECK (zflow_hub_subscriber_subscribe (s2, pattern) == 0);
    zflow_hub_publisher_t *p1 = zflow_hub_publisher_new (h1, NULL, NULL);
    CHECK (pub_text (p1, "k/1", "for h1") == 0);
    char *text = NULL;
    char *key = consume_text (s1, 2000, &text);
    CHECK (key && streq (text, "for h1"));
    free (key);
    free (text);
    CHECK (consume_text (s2, 100, NULL) == NULL);
    zflow_key_destroy (&pattern);
    zflow_hub_publisher_destroy (&p1);
    zflow_hub_subscriber_destroy (&s1);
    zflow_hub_subscriber_destroy (&s2);
    zflow_hub_destroy (&h1);
    zflow_hub_destroy (&h2);
    //  the name is free again at once
    h1 = zflow_hub_new (&(zflow_hub_config_t){.name = "h1"}, NULL);
    CHECK (h1);
    zflow_hub_destroy (&h1);
}

typedef struct {
    zflow_hub_t *hub; //  the hub
    const char *key;  //  key to publish under
    int count;        //  messages to publish
} s_producer_t;

static void *s_producer (void *arg)
{
    s_producer_t *self = (s_producer_t *) arg;
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (self->hub, NULL, NULL);
    CHECK (pub);
    for (int i = 0; i < self->count; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        int rc = pub_text (pub, self->key, text);
        CHECK (rc == 0 || rc == ZFLOW_DRAIN);
        if (rc == ZFLOW_DRAIN)
            CHECK (zflow_hub_publisher_drain (pub, 10000) == 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 10000) == 0);
    zflow_hub_publisher_destroy (&pub);
    return NULL;
}

//  Three publishers in three threads: the queue gets everything, each
//  publisher's messages in the order it published them.
static void test_concurrent_publishers (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "threads"}, NULL);
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "all", NULL);
    CHECK (zflow_hub_subscriber_set_queue (sub, 100, ZFLOW_HUB_BLOCK) == 0);
    zflow_key_t *pattern = K ("t/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    enum { N = 5000 };
    s_producer_t producers[3] = {{hub, "t/0", N}, {hub, "t/1", N}, {hub, "t/2/x", N}};
    pthread_t threads[3];
    for (int i = 0; i < 3; i++)
        pthread_create (&threads[i], NULL, s_producer, &producers[i]);
    int next[3] = {0, 0, 0};
    for (int n = 0; n < 3 * N; n++) {
        char *text = NULL;
        char *key = consume_text (sub, 5000, &text);
        CHECK (key && text);
        int which = key[2] - '0';
        CHECK (which >= 0 && which < 3 && atoi (text) == next[which]);
        next[which]++;
        free (key);
        free (text);
    }
    for (int i = 0; i < 3; i++)
        pthread_join (threads[i], NULL);
    CHECK (next[0] == N && next[1] == N && next[2] == N);
    CHECK (consume_text (sub, 50, NULL) == NULL);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    zflow_hub_destroy (&hub);
}

//  zflow_hub_subscriber_sync with no time limit waits for the hub, and
//  returns success, every time.
static void test_sync_forever (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "syncforever"}, NULL);
    for (int i = 0; i < 20; i++) {
        zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "s", NULL);
        zflow_hub_subscriber_set_sync (sub, false);
        zflow_key_t *key = K ("a/b");
        CHECK (zflow_hub_subscriber_subscribe (sub, key) == 0);
        CHECK (zflow_hub_subscriber_sync (sub, -1) == 0);
        //  at least this one (the last round's may still be on its way out)
        CHECK (zflow_hub_subscription_count (hub, key) >= 1);
        zflow_key_destroy (&key);
        zflow_hub_subscriber_destroy (&sub);
    }
    zflow_hub_destroy (&hub);
}

int main (void)
{
    test_seed_example ();
    test_wildcards ();
    test_queue_order ();
    test_sync_listeners ();
    test_actor_listener ();
    test_notices ();
    test_has_subscribers ();
    test_bad_keys ();
    test_bad_calls ();
    test_bad_frames ();
    test_two_hubs ();
    test_concurrent_publishers ();
    test_sync_forever ();
    printf ("test_hub: OK\n");
    return 0;
}
