/*  =========================================================================
    test_redis_server - a real redis-server for the Redis tests
    =========================================================================
*/
#include "test_redis_server.h"
#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

//  A free port below the system's ephemeral range (32768 and up on Linux):
//  a server killed and restarted on its port must find it free, and a
//  client reconnecting meanwhile from an ephemeral port could otherwise
//  take it (a TCP self-connect to 127.0.0.1:port from port itself).
static int s_free_port (void)
{
    for (int attempt = 0; attempt < 1000; attempt++) {
        int port = 20000 + (int) (random () % 12000);
        int fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in address = {0};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        address.sin_port = htons ((uint16_t) port);
        int rc = bind (fd, (struct sockaddr *) &address, sizeof (address));
        close (fd);
        if (rc == 0)
            return port;
    }
    fprintf (stderr, "no free port for redis-server\n");
    exit (1);
}

//  The servers running now, killed at exit (a failed CHECK exits at once).
static pid_t s_running[16];

static void s_kill_running (void)
{
    for (size_t index = 0; index < 16; index++)
        if (s_running[index] > 0)
            kill (s_running[index], SIGKILL);
}

void test_redis_server_start (test_redis_server_t *server, const char *password)
{
    static bool registered = false;
    if (!registered)
        atexit (s_kill_running);
    registered = true;
    if (access (ZFLOW_REDIS_SERVER, X_OK)) {
        fprintf (stderr,
                 "redis-server not found at %s: install Debian's redis-server package "
                 "(scripts/install-deps.sh)\n",
                 ZFLOW_REDIS_SERVER);
        exit (1);
    }
    if (!server->port) {
        srandom ((unsigned) (getpid () ^ zclock_usecs ()));
        server->port = s_free_port ();
    }
    if (password)
        snprintf (server->password, sizeof (server->password), "%s", password);
    char port[16];
    snprintf (port, sizeof (port), "%d", server->port);
    pid_t pid = fork ();
    if (pid == 0) {
        const char *argv[24] = {
            ZFLOW_REDIS_SERVER, "--port", port,         "--bind",  "127.0.0.1",   "--save", "",
            "--appendonly",     "no",     "--loglevel", "warning", "--daemonize", "no"};
        int argc = 13;
        if (*server->password) {
            argv[argc++] = "--requirepass";
            argv[argc++] = server->password;
        }
        char extra[256];
        snprintf (extra, sizeof (extra), "%s", server->extra);
        for (char *save = NULL, *word = strtok_r (extra, " ", &save); word && argc < 22;
             word = strtok_r (NULL, " ", &save))
            argv[argc++] = word;
        argv[argc] = NULL;
        //  its start-up banner and warnings would bury the test's output
        if (!freopen ("/dev/null", "w", stdout) || !freopen ("/dev/null", "w", stderr))
            _exit (126);
        execv (ZFLOW_REDIS_SERVER, (char **) argv);
        _exit (127);
    }
    server->pid = pid;
    for (size_t index = 0; index < 16; index++)
        if (s_running[index] <= 0) {
            s_running[index] = pid;
            break;
        }
    for (int attempt = 0; attempt < 500; attempt++) {
        struct timeval timeout = {1, 0};
        redisContext *c = redisConnectWithTimeout ("127.0.0.1", server->port, timeout);
        //  any answer to PING (PONG, or NOAUTH) means it serves clients
        redisReply *reply = c && !c->err ? (redisReply *) redisCommand (c, "PING") : NULL;
        if (reply) {
            freeReplyObject (reply);
            redisFree (c);
            return;
        }
        if (c)
            redisFree (c);
        zclock_sleep (10);
    }
    fprintf (stderr, "redis-server on port %d did not start\n", server->port);
    exit (1);
}

void test_redis_server_kill (test_redis_server_t *server)
{
    if (server->pid > 0) {
        kill (server->pid, SIGKILL);
        waitpid (server->pid, NULL, 0);
        for (size_t index = 0; index < 16; index++)
            if (s_running[index] == server->pid)
                s_running[index] = 0;
    }
    server->pid = 0;
}

redisContext *test_redis_server_connect (test_redis_server_t *server)
{
    redisContext *c = redisConnect ("127.0.0.1", server->port);
    if (!c || c->err) {
        fprintf (stderr, "cannot connect to redis-server on %d\n", server->port);
        exit (1);
    }
    if (*server->password) {
        redisReply *reply = (redisReply *) redisCommand (c, "AUTH %s", server->password);
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
            fprintf (stderr, "AUTH failed\n");
            exit (1);
        }
        freeReplyObject (reply);
    }
    return c;
}

long long test_redis_server_int (redisContext *c, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    redisReply *reply = (redisReply *) redisvCommand (c, format, args);
    va_end (args);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        fprintf (stderr, "command '%s' failed: %s\n", format, reply ? reply->str : c->errstr);
        exit (1);
    }
    long long value = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    freeReplyObject (reply);
    return value;
}
