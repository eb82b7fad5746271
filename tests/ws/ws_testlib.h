/*  =========================================================================
    ws_testlib - helpers for the WebSocket tests: start and stop servers

    Test-only, header-only. Servers are child processes that print their
    port on the first line of stdout.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef WS_TESTLIB_H_INCLUDED
#define WS_TESTLIB_H_INCLUDED

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef WS_TEST_DIR
#error "WS_TEST_DIR must name the tests/ws folder"
#endif

//  A running server.
typedef struct {
    pid_t pid; //  child process, 0 when none
    int port;  //  port it listens on
} ws_server_t;

static int s_checks_failed = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
            s_checks_failed++;                                                                     \
        }                                                                                          \
    } while (0)

//  Starts argv (NULL-terminated) and reads the port it prints. Returns 0 or -1.
static inline int ws_server_start (ws_server_t *server, char *const argv[])
{
    int fds[2];
    if (pipe (fds))
        return -1;
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2 (fds[1], 1);
        close (fds[0]);
        close (fds[1]);
        execv (argv[0], argv);
        _exit (127);
    }
    close (fds[1]);
    char line[32] = {0};
    size_t got = 0;
    while (got < sizeof (line) - 1) {
        ssize_t n = read (fds[0], line + got, 1);
        if (n <= 0 || line[got] == '\n')
            break;
        got++;
    }
    close (fds[0]);
    server->pid = pid;
    server->port = atoi (line);
    if (server->port <= 0) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        server->pid = 0;
        return -1;
    }
    return 0;
}

//  Starts tests/ws/server.py with up to four extra arguments (NULL ends).
static inline int ws_python_start (ws_server_t *server, const char *a1, const char *a2,
                                   const char *a3, const char *a4)
{
    char *argv[8] = {"/usr/bin/python3", WS_TEST_DIR "/server.py"};
    const char *extra[4] = {a1, a2, a3, a4};
    for (int i = 0, n = 2; i < 4 && extra[i]; i++)
        argv[n++] = (char *) extra[i];
    return ws_server_start (server, argv);
}

//  Kills the server (SIGKILL: no close frames) and reaps it.
static inline void ws_server_kill (ws_server_t *server)
{
    if (server->pid > 0) {
        kill (server->pid, SIGKILL);
        waitpid (server->pid, NULL, 0);
    }
    server->pid = 0;
}

//  Writes a URL for the server and path into buf.
static inline const char *ws_url (char *buf, size_t size, const char *scheme, int port,
                                  const char *path)
{
    snprintf (buf, size, "%s://127.0.0.1:%d%s", scheme, port, path);
    return buf;
}

//  Makes a self-signed certificate dir/<name>.pem and key dir/<name>-key.pem
//  for the subjectAltName san ("IP:127.0.0.1,DNS:localhost"). Returns 0 or
//  -1 (openssl CLI missing or failed).
static inline int ws_make_cert (const char *dir, const char *name, const char *san)
{
    char cmd[1024];
    snprintf (cmd, sizeof (cmd),
              "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=zflow-test "
              "-addext subjectAltName=%s -keyout %s/%s-key.pem -out %s/%s.pem >/dev/null 2>&1",
              san, dir, name, dir, name);
    return system (cmd) == 0 ? 0 : -1;
}

#endif
