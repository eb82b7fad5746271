/*  =========================================================================
    test_centrifugo_source_fake - drives tests/fake/centrifugo_ws_fake.py and
    collects what a Centrifugo source publishes, for its test

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef TEST_CENTRIFUGO_SOURCE_FAKE_H_INCLUDED
#define TEST_CENTRIFUGO_SOURCE_FAKE_H_INCLUDED

#include "zflow_testing.h"
#include <jansson.h>
#include <sys/types.h>

#define SECRET "zflow-test-secret"

typedef struct {
    pid_t pid;         //  the fake's process
    FILE *in;          //  its stdin (control commands)
    FILE *out;         //  its stdout (answers)
    int port;          //  its port on 127.0.0.1
    char url[128];     //  ws://127.0.0.1:<port>/connection/websocket
    char token[512];   //  a token it accepts
    char expired[512]; //  an expired token it signed
} fake_t;

typedef struct {
    zsock_t *sub;   //  SUB on the source's endpoint, all keys
    json_t *pubs;   //  channel -> [ {"offset","data","epoch","src"} ]
    json_t *events; //  [ event objects ]
    int bad;        //  envelopes that did not decode
} collect_t;

//  Sends a control command and checks it succeeded.
#define FAKE_OK(fake, ...)                                                                         \
    do {                                                                                           \
        json_t *answer_ = fake_ctl (fake, __VA_ARGS__);                                            \
        CHECK (json_is_true (json_object_get (answer_, "ok")));                                    \
        json_decref (answer_);                                                                     \
    } while (0)

//  Pumps until cond holds or ms pass; evaluates to cond.
#define WAIT_UNTIL(c, cond, ms)                                                                    \
    ({                                                                                             \
        int64_t wait_end_ = zclock_mono () + (ms);                                                 \
        while (!(cond) && zclock_mono () < wait_end_)                                              \
            collect_pump ((c), 20);                                                                \
        (cond);                                                                                    \
    })

//  Starts the fake with extra arguments (NULL-terminated; port 0: any);
//  fills fake with its port, URL and tokens. Fails the test on error.
void fake_start (fake_t *fake, int port, const char *extra[]);

//  Sends a control command; returns the fake's answer (caller owns it).
json_t *fake_ctl (fake_t *fake, const char *format, ...);

//  Returns one of the fake's counters.
json_int_t fake_stat (fake_t *fake, const char *name);

//  Stops the fake: SIGKILL (a crash) or a clean quit.
void fake_stop (fake_t *fake, bool kill_it);

//  Connects a collector to the source's PUB (before the source starts).
void collect_init (collect_t *c, zflow_centrifugo_source_t *source);

//  Frees the collector.
void collect_destroy (collect_t *c);

//  Reads what arrives for up to ms milliseconds.
void collect_pump (collect_t *c, int ms);

//  Publications collected for channel.
size_t pubs_of (collect_t *c, const char *channel);

//  Events of type (and, if name is not NULL, with field name == value).
size_t events_of (collect_t *c, const char *type, const char *name, json_int_t value);

//  One of the source's STATS counters.
uint64_t stat_of (zflow_centrifugo_source_t *source, const char *name);

//  Checks that channel got exactly the publications first..last in order,
//  each with data {"n": offset - 1 + base_n}.
void check_sequence (collect_t *c, const char *channel, json_int_t first, json_int_t last,
                     json_int_t base_n);

//  A source on the fake, manual start, backoff 50..400 ms, 3 refusals.
zflow_centrifugo_source_t *source_new (fake_t *fake, const char *token, const char *channels,
                                       const char *name);

#endif
