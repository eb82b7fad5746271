/*  A second process subscribes and publishes over tcp:// and ipc://, with
    and without CURVE (the helper program hub_peer, fork + exec). */
#include "hub/hub_testutil.h"
#include "zflow_hub_internal.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *s_peer; //  path of hub_peer

static pid_t s_spawn (const char *mode, const char *endpoint, const char *key, const char *count,
                      const char *const *curve)
{
    pid_t pid = fork ();
    CHECK (pid >= 0);
    if (pid == 0) {
        if (curve)
            execl (s_peer, s_peer, mode, endpoint, key, count, curve[0], curve[1], curve[2],
                   (char *) NULL);
        else
            execl (s_peer, s_peer, mode, endpoint, key, count, (char *) NULL);
        _exit (127);
    }
    return pid;
}

//  Waits for the child to exit; returns its exit status (or -1, killed).
static int s_reap (pid_t pid, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    int status = 0;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (zclock_mono () > deadline) {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            return -1;
        }
        zclock_sleep (5);
    }
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  Polls until the hub counts `want` subscriptions to pattern.
static bool s_wait_count (zflow_hub_t *hub, const char *pattern_text, size_t want, int timeout_ms)
{
    zflow_key_t *pattern = K (pattern_text);
    int64_t deadline = zclock_mono () + timeout_ms;
    bool ok = false;
    while (!(ok = zflow_hub_subscription_count (hub, pattern) == want) && zclock_mono () < deadline)
        zclock_sleep (5);
    zflow_key_destroy (&pattern);
    return ok;
}

//  A peer process subscribes on sub_endpoint; we publish; it checks.
static void s_remote_subscriber (zflow_hub_t *hub, const char *sub_endpoint,
                                 const char *const *curve)
{
    pid_t pid = s_spawn ("sub", sub_endpoint, "remote/*", "500", curve);
    CHECK (s_wait_count (hub, "remote/*", 1, 10000));
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    for (int i = 0; i < 500; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        CHECK (pub_text (pub, "other/n", "not for the peer") >= 0);
        CHECK (pub_text (pub, i % 2 ? "remote/a" : "remote/b/c", text) >= 0);
    }
    CHECK (zflow_hub_publisher_flush (pub, 5000) == 0);
    CHECK (s_reap (pid, 15000) == 0);
    //  the peer is gone: the hub saw its subscription go
    CHECK (s_wait_count (hub, "remote/*", 0, 5000));
    zflow_hub_publisher_destroy (&pub);
}

//  A peer process publishes on pub_endpoint; a local subscriber checks.
static void s_remote_publisher (zflow_hub_t *hub, const char *pub_endpoint,
                                const char *const *curve)
{
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new (hub, "local", NULL);
    zflow_key_t *pattern = K ("from/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    pid_t pid = s_spawn ("pub", pub_endpoint, "from/peer", "500", curve);
    for (int i = 0; i < 500; i++) {
        char *text = NULL;
        char *key = consume_text (sub, 10000, &text);
        CHECK (key && streq (key, "from/peer") && atoi (text) == i);
        free (key);
        free (text);
    }
    CHECK (s_reap (pid, 15000) == 0);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
}

static void test_tcp (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "tcp"}, NULL);
    CHECK (zflow_hub_bind (hub, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*") == 0);
    CHECK (strncmp (zflow_hub_bound_pub (hub), "tcp://127.0.0.1:", 16) == 0);
    CHECK (!streq (zflow_hub_bound_pub (hub), "tcp://127.0.0.1:*"));
    CHECK (zflow_hub_bind (hub, "nonsense://x", NULL) == ZFLOW_EENDPOINT);
    s_remote_subscriber (hub, zflow_hub_bound_sub (hub), NULL);
    s_remote_publisher (hub, zflow_hub_bound_pub (hub), NULL);
    zflow_hub_destroy (&hub);
}

static void test_ipc (void)
{
    char sub_ep[128], pub_ep[128];
    snprintf (sub_ep, sizeof (sub_ep), "ipc:///tmp/zflow-test-hub-%d.sub", (int) getpid ());
    snprintf (pub_ep, sizeof (pub_ep), "ipc:///tmp/zflow-test-hub-%d.pub", (int) getpid ());
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "ipc"}, NULL);
    CHECK (zflow_hub_bind (hub, pub_ep, sub_ep) == 0);
    s_remote_subscriber (hub, sub_ep, NULL);
    s_remote_publisher (hub, pub_ep, NULL);
    zflow_hub_destroy (&hub);
    unlink (sub_ep + 6);
    unlink (pub_ep + 6);
}

static void test_curve (void)
{
    zcert_t *server = zcert_new ();
    zcert_t *client = zcert_new ();
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "curve"}, NULL);
    zflow_hub_curve_t curve = {server, NULL, NULL};
    CHECK (zflow_hub_set_curve (hub, &curve) == 0);
    CHECK (zflow_hub_bind (hub, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*") == 0);
    const char *good[] = {zcert_public_txt (server), zcert_public_txt (client),
                          zcert_secret_txt (client)};
    s_remote_subscriber (hub, zflow_hub_bound_sub (hub), good);
    s_remote_publisher (hub, zflow_hub_bound_pub (hub), good);
    //  a peer that has the wrong server key never gets in
    zcert_t *other = zcert_new ();
    const char *bad[] = {zcert_public_txt (other), zcert_public_txt (client),
                         zcert_secret_txt (client)};
    pid_t pid = s_spawn ("sub", zflow_hub_bound_sub (hub), "remote/*", "1", bad);
    CHECK (!s_wait_count (hub, "remote/*", 1, 1000));
    kill (pid, SIGKILL);
    s_reap (pid, 5000);
    //  and a plain (no CURVE) peer neither
    pid = s_spawn ("sub", zflow_hub_bound_sub (hub), "remote/*", "1", NULL);
    CHECK (!s_wait_count (hub, "remote/*", 1, 1000));
    kill (pid, SIGKILL);
    s_reap (pid, 5000);
    zflow_hub_destroy (&hub);
    zcert_destroy (&other);
    zcert_destroy (&server);
    zcert_destroy (&client);
}

//  CURVE with an allow directory: only clients whose public certificate is
//  there get in, even with the right server key.
static void test_curve_allow_dir (void)
{
    char dir[64];
    snprintf (dir, sizeof (dir), "/tmp/zflow-test-hub-certs-%d", (int) getpid ());
    CHECK (zsys_dir_create ("%s", dir) == 0);
    zcert_t *server = zcert_new ();
    zcert_t *allowed = zcert_new ();
    zcert_t *stranger = zcert_new ();
    char path[128];
    snprintf (path, sizeof (path), "%s/allowed.cert", dir);
    CHECK (zcert_save_public (allowed, path) == 0);
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "curvedir"}, NULL);
    zflow_hub_curve_t curve = {server, NULL, dir};
    CHECK (zflow_hub_set_curve (hub, &curve) == 0);
    CHECK (zflow_hub_bind (hub, NULL, "tcp://127.0.0.1:*") == 0);
    const char *good[] = {zcert_public_txt (server), zcert_public_txt (allowed),
                          zcert_secret_txt (allowed)};
    s_remote_subscriber (hub, zflow_hub_bound_sub (hub), good);
    const char *bad[] = {zcert_public_txt (server), zcert_public_txt (stranger),
                         zcert_secret_txt (stranger)};
    pid_t pid = s_spawn ("sub", zflow_hub_bound_sub (hub), "remote/*", "1", bad);
    CHECK (!s_wait_count (hub, "remote/*", 1, 1000));
    kill (pid, SIGKILL);
    s_reap (pid, 5000);
    zflow_hub_destroy (&hub);
    zsys_file_delete (path);
    zsys_dir_delete ("%s", dir);
    zcert_destroy (&server);
    zcert_destroy (&allowed);
    zcert_destroy (&stranger);
}

//  The hub goes away and comes back on the same port: the remote subscriber
//  reconnects, the new hub says hello, and the subscriber announces its
//  patterns again, so counts and delivery are right on the new hub.
static void test_reconnect (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "again"}, NULL);
    CHECK (zflow_hub_bind (hub, NULL, "tcp://127.0.0.1:*") == 0);
    char *endpoint = strdup (zflow_hub_bound_sub (hub));
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new_remote (endpoint, "r", NULL, NULL);
    zflow_key_t *pattern = K ("re/*");
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    CHECK (zflow_hub_subscriber_subscribe (sub, pattern) == 0);
    CHECK (s_wait_count (hub, "re/*", 2, 5000));
    zflow_hub_destroy (&hub);
    hub = zflow_hub_new (&(zflow_hub_config_t){.name = "again"}, NULL);
    int rc = -1;
    for (int tries = 0; tries < 100 && rc != 0; tries++) {
        rc = zflow_hub_bind (hub, NULL, endpoint);
        if (rc)
            zclock_sleep (20); //  the old listener closes asynchronously
    }
    CHECK (rc == 0);
    CHECK (s_wait_count (hub, "re/*", 2, 5000));
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new (hub, NULL, NULL);
    CHECK (pub_text (pub, "re/x", "after reconnect") == 0);
    char *text = NULL;
    char *key = consume_text (sub, 5000, &text);
    CHECK (key && streq (key, "re/x") && streq (text, "after reconnect"));
    free (key);
    free (text);
    zflow_hub_publisher_destroy (&pub);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    CHECK (s_wait_count (hub, "re/*", 0, 5000));
    zflow_hub_destroy (&hub);
    free (endpoint);
}

//  Sends one raw upstream message (a (un)subscription or an announcement)
//  from a plain XSUB, as a hostile peer would.
static void s_raw_upstream (zsock_t *xsub, const void *data, size_t size)
{
    CHECK (zmq_send (zsock_resolve (xsub), data, size, 0) == (int) size);
}

//  Peers that lie: a huge subscription count, announcements for a
//  subscriber the hub never saw, a presence unsubscribe for someone else.
//  The hub keeps serving, counts them as malformed, and the real
//  subscriber keeps its subscription.
static void test_hostile_peers (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "hostile"}, NULL);
    CHECK (zflow_hub_bind (hub, NULL, "tcp://127.0.0.1:*") == 0);
    const char *endpoint = zflow_hub_bound_sub (hub);
    zflow_hub_subscriber_t *victim =
        zflow_hub_subscriber_new_remote (endpoint, "victim", NULL, NULL);
    zflow_key_t *pattern = zflow_key_parse ("a/b", NULL);
    CHECK (zflow_hub_subscriber_subscribe (victim, pattern) == 0);
    CHECK (s_wait_count (hub, "a/b", 1, 5000));

    zsock_t *liar = zsock_new (ZMQ_XSUB);
    CHECK (zsock_connect (liar, "%s", endpoint) == 0);
    zclock_sleep (200);
    const char huge[] = "Avictim\0a\0"
                        "18446744073709551615";
    s_raw_upstream (liar, huge, sizeof (huge) - 1);
    const char stranger_a[] = "Astranger\0a\0"
                              "1";
    s_raw_upstream (liar, stranger_a, sizeof (stranger_a) - 1);
    const char stranger_f[] = "Fstranger\0"
                              "7";
    s_raw_upstream (liar, stranger_f, sizeof (stranger_f) - 1);
    //  the victim's presence topic, subscribed and unsubscribed by the liar
    char topic[64] = {0, ZFLOW_HUB_PRESENCE_REMOTE};
    size_t size = 2 + strlen ("victim");
    memcpy (topic + 2, "victim", strlen ("victim"));
    char message[66];
    message[0] = 1;
    memcpy (message + 1, topic, size);
    s_raw_upstream (liar, message, size + 1);
    zclock_sleep (100);
    message[0] = 0;
    s_raw_upstream (liar, message, size + 1);
    zclock_sleep (300);

    int64_t start = zclock_mono ();
    zhash_t *stats = zflow_hub_stats (hub, 2000);
    CHECK (stats); //  still serving, at once
    CHECK (zclock_mono () - start < 1000);
    CHECK (zflow_actor_stats_get (stats, "malformed") >= 3);
    CHECK (zflow_actor_stats_get (stats, "peers") == 1); //  no stranger was created
    zhash_destroy (&stats);
    CHECK (zflow_hub_subscription_count (hub, pattern) == 1);
    zsock_destroy (&liar);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&victim);
    zflow_hub_destroy (&hub);
}

int main (int argc, char *argv[])
{
    CHECK (argc == 2);
    s_peer = argv[1];
    test_tcp ();
    test_ipc ();
    test_curve ();
    test_curve_allow_dir ();
    test_reconnect ();
    test_hostile_peers ();
    printf ("test_hub_remote: OK\n");
    return 0;
}
