/*  =========================================================================
    test_centrifugo_fake - starts and drives tests/fake/centrifugo_fake.py

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef TEST_CENTRIFUGO_FAKE_H_INCLUDED
#define TEST_CENTRIFUGO_FAKE_H_INCLUDED

#include <jansson.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;     //  the fake's process
    int port;      //  the port it listens on (127.0.0.1)
    char base[64]; //  "http://127.0.0.1:<port>"
    char api[80];  //  "<base>/api"
} test_fake_t;

//  Starts the fake with api key (NULL for none). Returns 0 or -1.
int test_fake_start (test_fake_t *fake, const char *key);

//  Stops the fake (SIGTERM, then waits).
void test_fake_stop (test_fake_t *fake);

//  POSTs a JSON control command. Returns 0 or -1.
int test_fake_control (test_fake_t *fake, const char *json);

//  Returns the fake's state (GET /_control; the caller owns it), or NULL.
json_t *test_fake_state (test_fake_t *fake);

//  Returns a TCP port on 127.0.0.1 that is bound but not listening, so a
//  connection to it is refused; *fd_p holds it (close it when done).
int test_refused_port (int *fd_p);

//  Makes a self-signed certificate and key in dir (openssl CLI). Returns 0.
int test_make_cert (const char *dir);

//  Starts the fake serving HTTPS with dir/cert.pem and dir/key.pem.
int test_fake_start_tls (test_fake_t *fake, const char *key, const char *dir);

#endif
