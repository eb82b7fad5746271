/*  =========================================================================
    fuzz_hpfeeds_parse - libFuzzer target for the hpfeeds codec

    Feeds the input to the parser in pieces (as a socket would), checks
    every decoded frame stays inside the input and re-encodes publish and
    subscribe frames to compare them byte for byte with the input. The
    fast path for runs (zflow__hpfeeds_same_publish, with the strings of
    the last publish parsed) must agree with the full parse wherever it
    accepts a frame.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_proto.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void s_check (const uint8_t *buf, const zflow_hpfeeds_frame_t *frame)
{
    const uint8_t *end = buf + frame->size;
    if (frame->name && (frame->name < buf || frame->name + frame->name_size > end))
        abort ();
    if (frame->channel && (frame->channel < buf || frame->channel + frame->channel_size > end))
        abort ();
    if (frame->data && (frame->data < buf || frame->data + frame->data_size > end))
        abort ();
    if (frame->size > zflow__hpfeeds_max_frame (frame->op))
        abort ();
    if (frame->op == ZFLOW_HPFEEDS_OP_PUBLISH) {
        uint8_t *copy = (uint8_t *) malloc (frame->size);
        long total =
            zflow__hpfeeds_encode_publish (copy, frame->name, frame->name_size, frame->channel,
                                           frame->channel_size, frame->data, frame->data_size);
        if (total != (long) frame->size || memcmp (copy, buf, frame->size))
            abort ();
        free (copy);
    }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  The first byte picks the piece size, the rest is the byte stream.
    if (size == 0)
        return 0;
    size_t step = (size_t) data[0] + 1;
    data++;
    size--;
    size_t offset = 0, fed = 0;
    zflow_hpfeeds_frame_t frame;
    char errbuf[256];
    uint8_t prefix[ZFLOW_HPFEEDS_MAX_PREFIX];
    size_t prefix_size = 0;
    while (offset < size) {
        fed = fed + step > size ? size : fed + step;
        int rc;
        for (;;) {
            size_t same = prefix_size ? zflow__hpfeeds_same_publish (data + offset, fed - offset,
                                                                     prefix, prefix_size)
                                      : 0;
            rc =
                zflow__hpfeeds_parse (data + offset, fed - offset, &frame, errbuf, sizeof (errbuf));
            if (same && (rc != 1 || frame.size != same || frame.op != ZFLOW_HPFEEDS_OP_PUBLISH ||
                         (size_t) (frame.data - data - offset) != 5 + prefix_size))
                abort (); //  the fast path took a frame the full parse does not
            if (rc != 1)
                break;
            s_check (data + offset, &frame);
            if (frame.op == ZFLOW_HPFEEDS_OP_PUBLISH) {
                prefix_size = (size_t) (frame.data - data - offset) - 5;
                memcpy (prefix, data + offset + 5, prefix_size);
            }
            offset += frame.size;
        }
        if (rc < 0) {
            if (strlen (errbuf) == 0)
                abort (); //  every error explains itself
            return 0;
        }
        if (fed == size)
            break;
    }
    return 0;
}
