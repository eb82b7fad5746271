/*  =========================================================================
    test_redis_server - a real redis-server for the Redis tests, started on
    a free loopback port and killed at the end

    The tests fail (never skip) when redis-server is missing: Debian's
    redis-server package (scripts/install-deps.sh).
    =========================================================================
*/
#ifndef TEST_REDIS_SERVER_H_INCLUDED
#define TEST_REDIS_SERVER_H_INCLUDED

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;         //  the server process, or 0
    int port;          //  its port
    char password[64]; //  requirepass, or ""
    char extra[256];   //  more arguments ("--proto-max-bulk-len 1mb"), or ""
} test_redis_server_t;

//  Starts redis-server (no persistence) on a free port (server->port 0)
//  or on server->port, with requirepass when password is not NULL, and
//  waits until it answers PING. Exits the test on failure.
void test_redis_server_start (test_redis_server_t *server, const char *password);

//  Kills it (SIGKILL: no goodbye to its clients) and reaps it.
void test_redis_server_kill (test_redis_server_t *server);

//  A blocking hiredis connection to it, authenticated; the caller frees it
//  with redisFree. Exits the test on failure.
redisContext *test_redis_server_connect (test_redis_server_t *server);

//  Runs a command (printf-style, hiredis's format) and returns its integer
//  reply (or -1 for another type). Exits on error.
long long test_redis_server_int (redisContext *c, const char *format, ...);

#endif
