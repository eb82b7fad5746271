/*  =========================================================================
    zflow_ws_json - WebSocket feed hooks that see jansson values

    A parser of your own and message handlers get each message as a
    jansson json_t. This header includes <jansson.h>, so a program that
    includes it needs jansson's include path and library; zflow.h does not
    include it. With CMake: find_package (zflow COMPONENTS json) and link
    zflow::json; with pkg-config add jansson:
        cc app.c $(pkg-config --cflags --libs libzflow jansson)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_WS_JSON_H_INCLUDED
#define ZFLOW_WS_JSON_H_INCLUDED

#include "zflow_ws.h"
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A parser: returns a new JSON value for data (the actor takes the
//  reference), or NULL when the message cannot be parsed (counted as a
//  parse error; the message is then published as received). The value is
//  what filters and handlers see, and what is published (as compact JSON):
//  a parser of your own can transform messages. The built-in JSON parse
//  only checks and reads: it publishes the message's bytes as received.
//  Runs in the actor thread.
typedef json_t *(zflow_ws_json_parse_fn) (const void *data, size_t size, bool binary, void *arg);

//  A handler: runs in the actor thread for every message (parsed is NULL
//  when there is no parsed value; do not keep it). Returns 0, or non-zero
//  to report a failure: it is counted (handler_errors in STATS) and logged.
typedef int (zflow_ws_json_handler_fn) (const void *data, size_t size, bool binary,
                                        const json_t *parsed, void *arg);

//  Sets a parser of your own in place of the parse mode. arg is borrowed:
//  it must outlive every feed made from this config. Returns 0, or
//  ZFLOW_EINVAL for a NULL config or fn.
int zflow_ws_json_set_parser (zflow_ws_config_t *self, zflow_ws_json_parse_fn *fn, void *arg);

//  Adds a handler, run for every message in order of adding (up to 8).
//  arg is borrowed: it must outlive every feed made from this config.
//  Returns 0, or ZFLOW_EINVAL for a NULL config or fn, or a 9th handler.
int zflow_ws_json_add_handler (zflow_ws_config_t *self, zflow_ws_json_handler_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
