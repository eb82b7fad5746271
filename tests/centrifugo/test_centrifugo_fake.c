/*  =========================================================================
    test_centrifugo_fake - starts and drives tests/fake/centrifugo_fake.py

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "test_centrifugo_fake.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int s_start (test_fake_t *fake, const char *key, const char *tls_dir)
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
        const char *argv[8] = {"python3", ZFLOW_CENTRIFUGO_FAKE};
        int argc = 2;
        if (key) {
            argv[argc++] = "--key";
            argv[argc++] = key;
        }
        if (tls_dir) {
            argv[argc++] = "--tls";
            argv[argc++] = tls_dir;
        }
        execv (ZFLOW_PYTHON3, (char **) argv);
        _exit (127);
    }
    close (fds[1]);
    FILE *out = fdopen (fds[0], "r");
    char line[128] = "";
    int port = 0;
    if (!out || !fgets (line, sizeof (line), out) || sscanf (line, "PORT %d", &port) != 1) {
        kill (pid, SIGKILL);
        waitpid (pid, NULL, 0);
        if (out)
            fclose (out);
        return -1;
    }
    fclose (out);
    fake->pid = pid;
    fake->port = port;
    snprintf (fake->base, sizeof (fake->base), "http://127.0.0.1:%d", port);
    snprintf (fake->api, sizeof (fake->api), "%s/api", fake->base);
    return 0;
}

int test_fake_start (test_fake_t *fake, const char *key)
{
    return s_start (fake, key, NULL);
}

int test_fake_start_tls (test_fake_t *fake, const char *key, const char *dir)
{
    if (s_start (fake, key, dir))
        return -1;
    snprintf (fake->base, sizeof (fake->base), "https://127.0.0.1:%d", fake->port);
    snprintf (fake->api, sizeof (fake->api), "%s/api", fake->base);
    return 0;
}

int test_make_cert (const char *dir)
{
    char command[1024];
    snprintf (command, sizeof (command),
              "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
              "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
              dir, dir);
    return system (command) == 0 ? 0 : -1;
}

void test_fake_stop (test_fake_t *fake)
{
    if (fake->pid > 0) {
        kill (fake->pid, SIGTERM);
        waitpid (fake->pid, NULL, 0);
        fake->pid = 0;
    }
}

static size_t s_collect (char *data, size_t size, size_t nmemb, void *arg)
{
    FILE *stream = (FILE *) arg;
    return fwrite (data, size, nmemb, stream);
}

//  One plain request to the fake's control path; body NULL means GET.
static char *s_request (test_fake_t *fake, const char *body)
{
    char url[128];
    snprintf (url, sizeof (url), "%s/_control", fake->base);
    char *answer = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&answer, &size);
    CURL *curl = curl_easy_init ();
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, stream);
    if (body)
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform (curl);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup (curl);
    fclose (stream);
    if (rc != CURLE_OK || status != 200) {
        free (answer);
        return NULL;
    }
    return answer;
}

int test_fake_control (test_fake_t *fake, const char *json)
{
    char *answer = s_request (fake, json);
    free (answer);
    return answer ? 0 : -1;
}

json_t *test_fake_state (test_fake_t *fake)
{
    char *answer = s_request (fake, NULL);
    json_t *state = answer ? json_loads (answer, 0, NULL) : NULL;
    free (answer);
    return state;
}

int test_refused_port (int *fd_p)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof (addr);
    if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof (addr)) ||
        getsockname (fd, (struct sockaddr *) &addr, &len)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    *fd_p = fd; //  bound, never listening: connecting to it is refused
    return ntohs (addr.sin_port);
}
