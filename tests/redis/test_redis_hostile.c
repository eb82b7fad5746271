/*  =========================================================================
    test_redis_hostile - the Redis adapter against a real redis-server that
    says no or goes away: a wrong or missing password (refused, Redis's
    words, `zflow pub` / `zflow sub` exit 1), the server killed mid-stream
    (reconnects counted, every message delivered or counted as lost, the
    delivered ones durable), an oversize payload (dropped and counted with
    a reason), input that is no envelope
    =========================================================================
*/
#include "test_redis_server.h"
#include "zflow_redis_sink.h"
#include "zflow_redis_source.h"
#include "zflow_testing.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

//  Returns counter name of a sink's STATS once it is at least value (or
//  after timeout_ms); reason (may be NULL) gets the reason text.
static uint64_t s_wait_sink (zflow_redis_sink_t *sink, const char *name, uint64_t value,
                             int timeout_ms, char *reason, size_t size)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        zhash_t *stats = zflow_redis_sink_stats (sink, 2000);
        uint64_t seen = zflow_actor_stats_get (stats, name);
        const char *text = stats ? (const char *) zhash_lookup (stats, "reason") : NULL;
        if (reason)
            snprintf (reason, size, "%s", text ? text : "");
        zhash_destroy (&stats);
        if (seen >= value || zclock_mono () > deadline)
            return seen;
        zclock_sleep (10);
    }
}

static uint64_t s_sink_stat (zflow_redis_sink_t *sink, const char *name)
{
    return s_wait_sink (sink, name, 0, 0, NULL, 0);
}

static void s_push (zsock_t *push, const char *payload, size_t size)
{
    zflow_key_t *key = zflow_key_parse ("k", NULL);
    zflow_msg_t *msg = zflow_msg_new ();
    CHECK_RC (zflow_envelope_encode_key (msg, key, NULL, payload, size), 0);
    zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
    CHECK (zmsg_send (&zmsg, push) == 0);
    zflow_msg_destroy (&msg);
    zflow_key_destroy (&key);
}

//  Runs the zflow command line (a shell line after the binary, stdin
//  from /dev/null unless the line pipes), its stderr into out. Returns its
//  exit code.
static int s_cli (const char *args, char *out, size_t size)
{
    char command[1024];
    snprintf (command, sizeof (command), "%s %s 2>&1 >/dev/null", ZFLOW_CLI, args);
    FILE *pipe = popen (command, "r");
    CHECK (pipe);
    size_t used = fread (out, 1, size - 1, pipe);
    out[used] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  A wrong password and no password: refused with Redis's words, no
//  command sent; the command line exits 1 saying them.
static void test_wrong_password (void)
{
    test_redis_server_t server = {0};
    test_redis_server_start (&server, "right-secret");
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = server.port;
    config.password = "wrong-secret";
    config.input = "@inproc://test-redis-wrongpass";
    config.backoff_max_ms = 200;
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    CHECK (sink);
    char reason[300];
    CHECK (s_wait_sink (sink, "refused", 1, 5000, reason, sizeof (reason)) >= 1);
    CHECK (strstr (reason, "AUTH") && strstr (reason, "WRONGPASS"));
    CHECK (s_sink_stat (sink, "connected") == 0);
    //  it tries again (the password may be fixed on the server), refused again
    CHECK (s_wait_sink (sink, "refused", 2, 5000, NULL, 0) >= 2);
    zflow_redis_sink_destroy (&sink);
    //  no password at all: NOAUTH (a new input: an inproc name is released
    //  asynchronously after its socket closed)
    config.password = NULL;
    config.input = "@inproc://test-redis-nopass";
    sink = zflow_redis_sink_new (&config, NULL);
    CHECK (sink);
    CHECK (s_wait_sink (sink, "refused", 1, 5000, reason, sizeof (reason)) >= 1);
    CHECK (strstr (reason, "NOAUTH"));
    zflow_redis_sink_destroy (&sink);
    //  a source too
    config.password = "wrong-secret";
    config.channels = "c";
    zflow_redis_source_t *source = zflow_redis_source_new (&config, NULL);
    CHECK (source);
    int64_t deadline = zclock_mono () + 5000;
    uint64_t refused = 0;
    while (!refused && zclock_mono () < deadline) {
        zhash_t *stats = zflow_redis_source_stats (source, 2000);
        refused = zflow_actor_stats_get (stats, "refused");
        zhash_destroy (&stats);
        zclock_sleep (10);
    }
    CHECK (refused >= 1);
    zflow_redis_source_destroy (&source);
    //  the command line: exit 1 with Redis's words
    char args[300], out[4096];
    snprintf (args, sizeof (args),
              "sub redis://:wrong-secret@127.0.0.1:%d --channel c --timeout 5000", server.port);
    CHECK (s_cli (args, out, sizeof (out)) == 1);
    CHECK (strstr (out, "WRONGPASS"));
    snprintf (args, sizeof (args),
              "pub redis://:wrong-secret@127.0.0.1:%d --channel c --timeout 5000 < /dev/null",
              server.port);
    CHECK (s_cli (args, out, sizeof (out)) == 1);
    CHECK (strstr (out, "WRONGPASS"));
    //  the right one works, db from the URL path
    snprintf (args, sizeof (args),
              "pub redis://:right-secret@127.0.0.1:%d/3 --mode stream --stream s < /dev/null",
              server.port);
    CHECK (s_cli (args, out, sizeof (out)) == 0);
    //  a bad URL: usage error, said
    CHECK (s_cli ("sub redis://127.0.0.1:1/x --channel c", out, sizeof (out)) == 2);
    CHECK (strstr (out, "/DB is not a number"));
    CHECK (s_cli ("sub rediss://127.0.0.1:1 --channel c", out, sizeof (out)) != 0);
    test_redis_server_kill (&server);
}

//  redis-server killed mid-stream and restarted (appendfsync always: what
//  it acknowledged survives): the sink reconnects (counted). With resend
//  (the default) what was in flight goes again: every message delivered,
//  the stream holds each at least once. Without, every message is
//  delivered or counted as lost, and the stream holds at least the
//  delivered ones and at most delivered + lost.
static void s_server_killed (bool resend)
{
    char dir[] = "/tmp/test_redis_aof_XXXXXX";
    CHECK (mkdtemp (dir));
    test_redis_server_t server = {0};
    snprintf (server.extra, sizeof (server.extra), "--appendonly yes --appendfsync always --dir %s",
              dir);
    test_redis_server_start (&server, NULL);
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = server.port;
    config.mode = ZFLOW_REDIS_STREAM;
    config.stream = "survivor";
    config.inflight = 64;
    config.backoff_max_ms = 200;
    config.resend = resend;
    config.input = resend ? "@inproc://test-redis-killed" : "@inproc://test-redis-killed-2";
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    CHECK (sink);
    CHECK (s_wait_sink (sink, "connected", 1, 5000, NULL, 0) == 1);
    zsock_t *push =
        zsock_new_push (resend ? ">inproc://test-redis-killed" : ">inproc://test-redis-killed-2");
    const int n = 3000;
    for (int index = 0; index < n; index++) {
        char text[32];
        snprintf (text, sizeof (text), "v%d", index);
        s_push (push, text, strlen (text));
        if (index == n / 2) {
            test_redis_server_kill (&server);
            zclock_sleep (300);
            test_redis_server_start (&server, NULL); //  same port, same directory
        }
        if (index % 100 == 0)
            zclock_sleep (5);
    }
    int64_t deadline = zclock_mono () + 20000;
    uint64_t done = 0;
    while (done < (uint64_t) n && zclock_mono () < deadline) {
        done = s_sink_stat (sink, "delivered") + s_sink_stat (sink, "drops");
        zclock_sleep (20);
    }
    zhash_t *stats = zflow_redis_sink_stats (sink, 2000);
    uint64_t delivered = zflow_actor_stats_get (stats, "delivered");
    uint64_t lost = zflow_actor_stats_get (stats, "lost");
    uint64_t drops = zflow_actor_stats_get (stats, "drops");
    uint64_t resent = zflow_actor_stats_get (stats, "resent");
    printf (" (resend %s: delivered %" PRIu64 ", lost %" PRIu64 ", resent %" PRIu64
            ", reconnects %" PRIu64 ")",
            resend ? "on" : "off", delivered, lost, resent,
            zflow_actor_stats_get (stats, "reconnects"));
    CHECK (delivered + drops == (uint64_t) n);
    CHECK (drops == lost); //  nothing else dropped
    CHECK (resend ? lost == 0 && resent >= 1 : resent == 0);
    CHECK (zflow_actor_stats_get (stats, "reconnects") >= 1);
    CHECK (zflow_actor_stats_get (stats, "connects") >= 2);
    CHECK (zflow_actor_stats_get (stats, "msgs_in") == (uint64_t) n);
    zhash_destroy (&stats);
    redisContext *c = test_redis_server_connect (&server);
    long long length = test_redis_server_int (c, "XLEN survivor");
    CHECK ((uint64_t) length >= delivered && (uint64_t) length <= delivered + lost + resent);
    if (resend) {
        //  every value is there, at least once
        redisReply *reply = (redisReply *) redisCommand (c, "XRANGE survivor - +");
        CHECK (reply && reply->type == REDIS_REPLY_ARRAY);
        bool *seen = (bool *) calloc ((size_t) n, sizeof (bool));
        int distinct = 0;
        for (size_t index = 0; index < reply->elements; index++) {
            redisReply *fields = reply->element[index]->element[1];
            int value = atoi (fields->element[1]->str + 1);
            if (value >= 0 && value < n && !seen[value]) {
                seen[value] = true;
                distinct++;
            }
        }
        CHECK (distinct == n);
        free (seen);
        freeReplyObject (reply);
    }
    redisFree (c);
    zsock_destroy (&push);
    zflow_redis_sink_destroy (&sink);
    test_redis_server_kill (&server);
    char command[300];
    snprintf (command, sizeof (command), "rm -rf %s", dir);
    CHECK (system (command) == 0);
}

static void test_server_killed (void)
{
    s_server_killed (true);
}

static void test_server_killed_no_resend (void)
{
    s_server_killed (false);
}

//  The pub/sub source resubscribes after the server came back.
static void test_source_resubscribes (void)
{
    test_redis_server_t server = {0};
    test_redis_server_start (&server, NULL);
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = server.port;
    config.patterns = "p.*";
    config.backoff_max_ms = 200;
    zflow_redis_source_t *source = zflow_redis_source_new (&config, NULL);
    zsock_t *sub = zsock_new_sub (zflow_redis_source_endpoint (source), "");
    zsock_set_rcvtimeo (sub, 200);
    for (int round = 0; round < 2; round++) {
        redisContext *c = test_redis_server_connect (&server);
        int64_t deadline = zclock_mono () + 10000;
        zmsg_t *msg = NULL;
        while (!msg && zclock_mono () < deadline) {
            test_redis_server_int (c, "PUBLISH p.x %s", "again");
            msg = zmsg_recv (sub);
        }
        CHECK (msg);
        zmsg_destroy (&msg);
        redisFree (c);
        if (round == 0) {
            test_redis_server_kill (&server);
            test_redis_server_start (&server, NULL);
        }
    }
    zhash_t *stats = zflow_redis_source_stats (source, 2000);
    CHECK (zflow_actor_stats_get (stats, "reconnects") >= 1);
    CHECK (zflow_actor_stats_get (stats, "connected") == 1);
    zhash_destroy (&stats);
    zsock_destroy (&sub);
    zflow_redis_source_destroy (&source);
    test_redis_server_kill (&server);
}

//  A payload over the server's proto-max-bulk-len (read at connect) and
//  input that is no envelope: dropped, counted, said; the rest goes.
static void test_oversize_and_garbage (void)
{
    test_redis_server_t server = {0};
    snprintf (server.extra, sizeof (server.extra), "--proto-max-bulk-len 1mb");
    test_redis_server_start (&server, NULL);
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = server.port;
    config.channels = "big";
    config.input = "@inproc://test-redis-oversize";
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    CHECK (s_wait_sink (sink, "connected", 1, 5000, NULL, 0) == 1);
    CHECK (s_sink_stat (sink, "max_payload") == 1024 * 1024);
    zsock_t *push = zsock_new_push (">inproc://test-redis-oversize");
    size_t size = 2 * 1024 * 1024;
    char *big = (char *) malloc (size);
    memset (big, 'x', size);
    s_push (push, big, size);
    zstr_send (push, "not an envelope");
    s_push (push, "small", 5);
    char reason[300];
    CHECK (s_wait_sink (sink, "delivered", 1, 5000, reason, sizeof (reason)) == 1);
    CHECK (s_sink_stat (sink, "oversize") == 1);
    CHECK (s_sink_stat (sink, "malformed") == 1);
    CHECK (s_sink_stat (sink, "drops") == 2);
    CHECK (s_sink_stat (sink, "reconnects") == 0); //  the server never saw it
    zflow_redis_sink_destroy (&sink);
    //  the configured limit, below the server's (a new input: an inproc
    //  PUSH does not follow its peer to a new bind)
    zsock_destroy (&push);
    config.max_payload = 4;
    config.input = "@inproc://test-redis-oversize-2";
    sink = zflow_redis_sink_new (&config, NULL);
    push = zsock_new_push (">inproc://test-redis-oversize-2");
    CHECK (s_wait_sink (sink, "connected", 1, 5000, NULL, 0) == 1);
    s_push (push, "small", 5);
    CHECK (s_wait_sink (sink, "oversize", 1, 5000, reason, sizeof (reason)) == 1);
    CHECK (strstr (reason, "over the limit of 4 bytes"));
    zflow_redis_sink_destroy (&sink);
    free (big);
    zsock_destroy (&push);
    test_redis_server_kill (&server);
}

//  No server at all: not connected, the reason says so; destroy is quick.
static void test_no_server (void)
{
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = 1; //  nobody listens there
    config.channels = "c";
    config.input = "@inproc://test-redis-noserver";
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    CHECK (sink);
    char reason[300];
    s_wait_sink (sink, "connected", 1, 500, reason, sizeof (reason));
    CHECK (strstr (reason, "cannot connect to 127.0.0.1:1"));
    CHECK (s_sink_stat (sink, "connected") == 0);
    zflow_redis_sink_destroy (&sink);
}

//  A server that takes the connection and never answers: the connect
//  timeout gives up on it, says so, and tries again.
static void test_silent_server (void)
{
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {0};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (bind (listener, (struct sockaddr *) &address, sizeof (address)) == 0);
    CHECK (listen (listener, 16) == 0); //  the kernel completes the handshakes
    socklen_t length = sizeof (address);
    getsockname (listener, (struct sockaddr *) &address, &length);
    zflow_redis_config_t config;
    zflow_redis_config_init (&config);
    config.port = ntohs (address.sin_port);
    config.channels = "c";
    config.connect_timeout_ms = 200;
    config.backoff_max_ms = 100;
    config.input = "@inproc://test-redis-silent";
    zflow_redis_sink_t *sink = zflow_redis_sink_new (&config, NULL);
    char reason[300] = "";
    int64_t deadline = zclock_mono () + 5000;
    while (!strstr (reason, "connect timeout") && zclock_mono () < deadline)
        s_wait_sink (sink, "connected", 1, 50, reason, sizeof (reason));
    CHECK (strstr (reason, "no ready connection within the connect timeout"));
    CHECK (s_sink_stat (sink, "connects") == 0);
    //  and it tried again: at least two connections waited in the backlog
    int accepted = 0;
    fcntl (listener, F_SETFL, O_NONBLOCK);
    deadline = zclock_mono () + 5000;
    while (accepted < 2 && zclock_mono () < deadline) {
        int fd = accept (listener, NULL, NULL);
        if (fd >= 0) {
            accepted++;
            close (fd);
        } else
            zclock_sleep (20);
    }
    CHECK (accepted >= 2);
    zflow_redis_sink_destroy (&sink);
    close (listener);
}

int main (void)
{
    zsys_init ();
    printf ("test_redis_hostile:\n");
    RUN (test_wrong_password);
    RUN (test_server_killed);
    RUN (test_server_killed_no_resend);
    RUN (test_source_resubscribes);
    RUN (test_oversize_and_garbage);
    RUN (test_no_server);
    RUN (test_silent_server);
    return 0;
}
