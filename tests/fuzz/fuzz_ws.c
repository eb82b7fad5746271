/*  =========================================================================
    fuzz_ws - fuzz target for the WebSocket handshake and frame parsing

    The first byte picks the path: 0 the handshake response checker, 1 the
    frame receive path (wslay + our checks), 2 the frame path with
    permessage-deflate on, 3 a handshake response followed by frames (as
    they arrive on the socket), 4 URL parsing. Built with libFuzzer under
    clang (ZFLOW_WS_FUZZ=ON), and replayed over the committed corpus by
    replay_ws.c in every build.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_client.h"
#include "zflow_ws_proto.h"
#include <czmq.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  The key the handshake responses in the corpus were computed for.
#define S_KEY "dGhlIHNhbXBsZSBub25jZQ=="

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static zloop_t *loop = NULL;
    if (!loop) {
        zsys_init ();
        zsys_set_logstream (NULL);
        loop = zloop_new ();
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 5;
    data++;
    size--;
    zflow_ws_accept_t accept;
    char err[256];
    if (mode == 0 || mode == 3) {
        int rc = zflow__ws_response ((const char *) data, size, S_KEY, "chat", true, &accept, err,
                                     sizeof (err));
        if (mode == 3 && rc == 0)
            zflow__ws_conn_feed (loop, data + accept.header_size, size - accept.header_size,
                                 accept.deflate, 65536);
    } else if (mode == 1 || mode == 2)
        zflow__ws_conn_feed (loop, data, size, mode == 2, 65536);
    else {
        char *url = (char *) malloc (size + 1);
        if (!url)
            return 0;
        memcpy (url, data, size);
        url[size] = 0;
        zflow_ws_url_t parsed;
        zflow__ws_url_parse (url, &parsed);
        free (url);
    }
    return 0;
}
