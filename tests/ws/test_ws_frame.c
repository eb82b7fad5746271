/*  =========================================================================
    test_ws_frame - the message layer over wslay's frame layer, no socket

    Server frames are built here and fed to zflow_ws_frame through its read
    function in pieces of 1, 3, 7, 4096 bytes and all at once, so frame
    headers, mask keys and payloads arrive split at every place (wslay's
    partial reads, our frame bookkeeping). Checks the events (messages
    joined across fragments with control frames between them and code
    points split between fragments, pongs, the close) and the frames
    written back (masked pong with the ping's payload, the close code
    echoed), the errors (1002, 1007 fail-fast, 1009) and the send side.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_ws_frame.h"
#include "zflow_ws_proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_checks_failed = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);              \
            s_checks_failed++;                                                                     \
        }                                                                                          \
    } while (0)

//  Input for the read function: bytes handed out at most piece at a time.
typedef struct {
    uint8_t *data; //  all the server's bytes (owned)
    size_t size;   //  how many
    size_t pos;    //  bytes handed out so far
    size_t piece;  //  largest piece per read
} s_input_t;

static size_t s_read (void *arg, uint8_t *buf, size_t size)
{
    s_input_t *input = (s_input_t *) arg;
    size_t n = input->size - input->pos;
    n = n > input->piece ? input->piece : n;
    n = n > size ? size : n;
    memcpy (buf, input->data + input->pos, n);
    input->pos += n;
    return n;
}

//  Appends an unmasked server frame to input.
static void s_frame (s_input_t *input, int opcode, bool fin, int rsv, const void *payload,
                     size_t size)
{
    uint8_t *grown = (uint8_t *) realloc (input->data, input->size + size + 10);
    if (!grown)
        abort ();
    input->data = grown;
    uint8_t *p = grown + input->size;
    *p++ = (uint8_t) ((fin ? 0x80 : 0) | (rsv << 4) | opcode);
    if (size < 126)
        *p++ = (uint8_t) size;
    else if (size < 65536) {
        *p++ = 126;
        *p++ = (uint8_t) (size >> 8);
        *p++ = (uint8_t) size;
    } else {
        *p++ = 127;
        for (int i = 7; i >= 0; i--)
            *p++ = (uint8_t) ((uint64_t) size >> (8 * i));
    }
    if (size)
        memcpy (p, payload, size);
    input->size = (size_t) (p - grown) + size;
}

//  Parses the next frame we wrote from out[*pos..size): checks the mask
//  bit, unmasks into payload (at least 125 bytes). Returns the opcode or
//  -1, with the payload size in *psize.
static int s_written (const uint8_t *out, size_t size, size_t *pos, uint8_t *payload, size_t *psize)
{
    if (*pos + 6 > size)
        return -1;
    const uint8_t *p = out + *pos;
    size_t len = p[1] & 0x7F;
    if (!(p[1] & 0x80) || len > 125 || *pos + 6 + len > size)
        return -1; //  only short masked frames expected here
    for (size_t i = 0; i < len; i++)
        payload[i] = p[6 + i] ^ p[2 + i % 4];
    *psize = len;
    *pos += 6 + len;
    return p[0] & 0x0F;
}

//  The big binary message of the stream: 70,000 bytes in three fragments.
#define S_BIG 70000

//  Builds the stream of good frames every piece size must handle.
static void s_good_stream (s_input_t *input, uint8_t *big)
{
    for (size_t i = 0; i < S_BIG; i++)
        big[i] = (uint8_t) (i * 7);
    s_frame (input, 1, true, 0, "hello", 5);
    //  "café €!" with a ping between the halves of é and a pong inside €.
    s_frame (input, 1, false, 0, "caf\xc3", 4);
    s_frame (input, 9, true, 0, "hi", 2);
    s_frame (input, 0, false, 0, "\xa9 \xe2\x82", 4);
    s_frame (input, 10, true, 0, "po", 2);
    s_frame (input, 0, true, 0, "\xac!", 2);
    s_frame (input, 2, false, 0, big, 1000);
    s_frame (input, 0, false, 0, big + 1000, 0);
    s_frame (input, 0, true, 0, big + 1000, S_BIG - 1000);
    s_frame (input, 1, true, 0, "", 0);
    s_frame (input, 8, true, 0,
             "\x03\xe8"
             "bye",
             5);
    s_frame (input, 1, true, 0, "after close", 11); //  never read
}

//  Runs the good stream in pieces of piece bytes.
static void s_run_good (size_t piece)
{
    static uint8_t big[S_BIG];
    s_input_t input = {NULL, 0, 0, piece};
    s_good_stream (&input, big);
    zflow_ws_frame_t *frame = zflow__ws_frame_new (s_read, &input, 1 << 20, false);
    CHECK (frame);
    const char *texts[] = {"hello", "caf\xc3\xa9 \xe2\x82\xac!"};
    int messages = 0, pongs = 0, closes = 0, agains = 0;
    while (closes == 0 && agains < 1000000) {
        zflow_ws_frame_event_t event;
        zflow_ws_frame_kind_t kind = zflow__ws_frame_next (frame, &event);
        if (kind == ZFLOW_WS_FRAME_AGAIN) {
            agains++;
            continue;
        }
        if (kind == ZFLOW_WS_FRAME_MESSAGE) {
            if (messages < 2)
                CHECK (!event.binary && event.size == strlen (texts[messages]) &&
                       memcmp (event.data, texts[messages], event.size) == 0);
            else if (messages == 2)
                CHECK (event.binary && event.size == S_BIG && memcmp (event.data, big, S_BIG) == 0);
            else
                CHECK (!event.binary && event.size == 0);
            messages++;
        } else if (kind == ZFLOW_WS_FRAME_PONG) {
            CHECK (event.size == 2 && memcmp (event.data, "po", 2) == 0);
            pongs++;
        } else if (kind == ZFLOW_WS_FRAME_CLOSE) {
            CHECK (event.code == 1000 && event.size == 3 && memcmp (event.data, "bye", 3) == 0);
            closes++;
        } else
            CHECK (!"unexpected error event");
    }
    CHECK (messages == 4 && pongs == 1 && closes == 1);
    CHECK (!zflow__ws_frame_reading (frame));
    CHECK (zflow__ws_frame_next (frame, &(zflow_ws_frame_event_t){0}) == ZFLOW_WS_FRAME_AGAIN);
    CHECK (zflow__ws_frame_code_received (frame) == 1000);
    CHECK (zflow__ws_frame_code_sent (frame) == 1000);
    //  Written back: the pong, then the close echoed; nothing more is sent.
    size_t size, pos = 0, psize = 0;
    const uint8_t *out = zflow__ws_frame_out (frame, &size);
    uint8_t payload[125];
    CHECK (out && s_written (out, size, &pos, payload, &psize) == 10 && psize == 2 &&
           memcmp (payload, "hi", 2) == 0);
    CHECK (out && s_written (out, size, &pos, payload, &psize) == 8 && psize == 2 &&
           payload[0] == 0x03 && payload[1] == 0xe8 && pos == size);
    CHECK (zflow__ws_frame_send (frame, false, false, "x", 1) == ZFLOW_ECLOSED);
    printf ("pieces of %zu bytes: %d messages, %d pong, close 1000 echoed\n", piece, messages,
            pongs);
    zflow__ws_frame_destroy (&frame);
    CHECK (frame == NULL);
    free (input.data);
}

//  Feeds one broken stream; the first non-message event must be an error
//  with code, before any message when messages is 0.
static void s_expect_error (const char *name, s_input_t *input, size_t max, bool deflate, int code,
                            int error)
{
    zflow_ws_frame_t *frame = zflow__ws_frame_new (s_read, input, max, deflate);
    zflow_ws_frame_event_t event;
    zflow_ws_frame_kind_t kind;
    int messages = 0;
    while ((kind = zflow__ws_frame_next (frame, &event)) == ZFLOW_WS_FRAME_MESSAGE)
        messages++;
    bool ok = kind == ZFLOW_WS_FRAME_ERROR && event.code == code && event.error == error &&
              messages == 0 && !zflow__ws_frame_reading (frame) &&
              zflow__ws_frame_next (frame, &event) == ZFLOW_WS_FRAME_AGAIN;
    printf ("%-12s %s (%s)\n", name, ok ? "refused" : "WRONG",
            kind == ZFLOW_WS_FRAME_ERROR ? event.text : "-");
    CHECK (ok);
    //  Our close frame can still be queued, with the code.
    CHECK (zflow__ws_frame_close (frame, code, NULL, 0) == 0);
    CHECK (zflow__ws_frame_code_sent (frame) == code);
    zflow__ws_frame_destroy (&frame);
    free (input->data);
    memset (input, 0, sizeof (*input));
    input->piece = 3;
}

static void s_run_errors (void)
{
    s_input_t input = {NULL, 0, 0, 3};
    //  Invalid UTF-8 in a first fragment: refused before the message ends.
    s_frame (&input, 1, false, 0, "ok \xff", 4);
    s_expect_error ("fail-fast", &input, 1000, false, 1007, ZFLOW_EPROTO);
    //  A split code point that is invalid once joined (E2 82 28).
    s_frame (&input, 1, false, 0, "ok \xe2\x82", 5);
    s_frame (&input, 0, true, 0, "\x28", 1);
    s_expect_error ("split-bad", &input, 1000, false, 1007, ZFLOW_EPROTO);
    //  An unfinished code point that nothing can finish (above U+10FFFF,
    //  a surrogate, an overlong, a bad lead): refused without the rest
    //  (Autobahn 6.4.2 and 6.4.4); a good unfinished one waits for it.
    const char *dead[] = {"ok \xf4\x90",     "ok \xed\xa0", "ok \xe0\x80",
                          "ok \xf0\x80\x80", "ok \xf5",     "ok \xc1"};
    for (size_t i = 0; i < sizeof (dead) / sizeof (dead[0]); i++) {
        s_frame (&input, 1, false, 0, dead[i], strlen (dead[i]));
        s_expect_error ("dead-prefix", &input, 1000, false, 1007, ZFLOW_EPROTO);
    }
    CHECK (zflow__ws_utf8_whole ((const uint8_t *) "ok \xf4\x8f\xbf", 6) == 3);
    CHECK (zflow__ws_utf8_whole ((const uint8_t *) "ok \xf4\x90\x80", 6) == 6);
    CHECK (zflow__ws_utf8_whole ((const uint8_t *) "ok \xed\x9f", 5) == 3);
    CHECK (zflow__ws_utf8_whole ((const uint8_t *) "ok \xc3\xa9", 5) == 5);
    //  Too big: three fragments of 400 against a limit of 1000.
    char chunk[400];
    memset (chunk, 'a', sizeof (chunk));
    s_frame (&input, 1, false, 0, chunk, 400);
    s_frame (&input, 0, false, 0, chunk, 400);
    s_frame (&input, 0, true, 0, chunk, 400);
    s_expect_error ("too-big", &input, 1000, false, 1009, ZFLOW_ETOOBIG);
    s_frame (&input, 1, true, 2, "rsv2", 4);
    s_expect_error ("rsv2", &input, 1000, true, 1002, ZFLOW_EPROTO);
    s_frame (&input, 1, true, 4, "rsv1", 4);
    s_expect_error ("rsv1", &input, 1000, false, 1002, ZFLOW_EPROTO);
    s_frame (&input, 2, false, 4, "a", 1);
    s_frame (&input, 0, true, 4, "b", 1);
    s_expect_error ("rsv1-cont", &input, 1000, true, 1002, ZFLOW_EPROTO);
    s_frame (&input, 0, true, 0, "orphan", 6);
    s_expect_error ("orphan", &input, 1000, false, 1002, ZFLOW_EPROTO);
    s_frame (&input, 1, false, 0, "a", 1);
    s_frame (&input, 2, true, 0, "b", 1);
    s_expect_error ("interrupted", &input, 1000, false, 1002, ZFLOW_EPROTO);
    s_frame (&input, 9, false, 0, "p", 1);
    s_expect_error ("frag-ping", &input, 1000, false, 1002, ZFLOW_EPROTO);
    s_frame (&input, 8, true, 0, "\x03\xe7", 2); //  999
    s_expect_error ("close-999", &input, 1000, false, 1002, ZFLOW_EPROTO);
    s_frame (&input, 8, true, 0, "\x03", 1);
    s_expect_error ("close-1byte", &input, 1000, false, 1002, ZFLOW_EPROTO);
    s_frame (&input, 8, true, 0, "\x03\xe8\xff", 3);
    s_expect_error ("close-reason", &input, 1000, false, 1007, ZFLOW_EPROTO);
    s_frame (&input, 7, true, 0, "x", 1);
    s_expect_error ("opcode-7", &input, 1000, false, 1002, ZFLOW_EPROTO);
    //  A masked server frame (mask bit and a zero key).
    const uint8_t masked[] = {0x81, 0x81, 0, 0, 0, 0, 'm'};
    input.data = (uint8_t *) malloc (sizeof (masked));
    memcpy (input.data, masked, sizeof (masked));
    input.size = sizeof (masked);
    s_expect_error ("masked", &input, 1000, false, 1002, ZFLOW_EPROTO);
}

//  The send side: masked frames with the right header, ping limits.
static void s_run_send (void)
{
    s_input_t input = {NULL, 0, 0, 1};
    zflow_ws_frame_t *frame = zflow__ws_frame_new (s_read, &input, 1000, true);
    CHECK (zflow__ws_frame_send (frame, false, false, "abc", 3) == 0);
    CHECK (zflow__ws_frame_send (frame, true, true, "\x01", 1) == 0);
    CHECK (zflow__ws_frame_ping (frame, "p", 1) == 0);
    char big[126] = {0};
    CHECK (zflow__ws_frame_ping (frame, big, sizeof (big)) == ZFLOW_ETOOBIG);
    size_t size, pos = 0, psize = 0;
    const uint8_t *out = zflow__ws_frame_out (frame, &size);
    uint8_t payload[125];
    CHECK (out && out[0] == 0x81 && s_written (out, size, &pos, payload, &psize) == 1 &&
           psize == 3 && memcmp (payload, "abc", 3) == 0);
    CHECK (out && out[pos] == 0xC2 && s_written (out, size, &pos, payload, &psize) == 2 &&
           psize == 1 && payload[0] == 1);
    CHECK (out && s_written (out, size, &pos, payload, &psize) == 9 && pos == size);
    //  Written in two goes; the rest stays queued.
    zflow__ws_frame_out_done (frame, 5);
    CHECK (zflow__ws_frame_out (frame, &psize) == out + 5 && psize == size - 5);
    zflow__ws_frame_out_done (frame, size - 5);
    CHECK (zflow__ws_frame_out (frame, &psize) == NULL && psize == 0);
    //  A reason of more than 123 bytes is cut; one close only.
    char reason[200];
    memset (reason, 'r', sizeof (reason));
    CHECK (zflow__ws_frame_close (frame, 4000, reason, sizeof (reason)) == 0);
    CHECK (zflow__ws_frame_close (frame, 1000, NULL, 0) == 0);
    out = zflow__ws_frame_out (frame, &size);
    CHECK (out && out[0] == 0x88 && (out[1] & 0x7F) == 125 && size == 6 + 125);
    CHECK (zflow__ws_frame_code_sent (frame) == 4000);
    CHECK (zflow__ws_frame_send (frame, false, false, "x", 1) == ZFLOW_ECLOSED);
    zflow__ws_frame_destroy (&frame);
    zflow__ws_frame_destroy (&frame); //  idempotent
}

//  A ping flood while nothing is written: the first 16 pings get a pong
//  each in out, the newest ping's payload waits for the next one, the rest
//  are coalesced.
static void s_run_ping_flood (void)
{
    s_input_t input = {NULL, 0, 0, 1 << 20};
    char payload[16];
    for (int i = 0; i < 1000; i++) {
        snprintf (payload, sizeof (payload), "p%d", i);
        s_frame (&input, 9, true, 0, payload, strlen (payload));
    }
    s_frame (&input, 2, true, 0, "after", 5);
    zflow_ws_frame_t *frame = zflow__ws_frame_new (s_read, &input, 1000, false);
    zflow_ws_frame_event_t event;
    CHECK (zflow__ws_frame_next (frame, &event) == ZFLOW_WS_FRAME_MESSAGE && event.size == 5);
    size_t size, pos = 0, psize = 0;
    uint8_t got[125];
    const uint8_t *out = zflow__ws_frame_out (frame, &size);
    for (int i = 0; i < 16; i++) {
        char want[8];
        snprintf (want, sizeof (want), "p%d", i);
        CHECK (out && s_written (out, size, &pos, got, &psize) == 10 && psize == strlen (want) &&
               memcmp (got, want, psize) == 0);
    }
    CHECK (pos == size);
    CHECK (zflow__ws_frame_pongs_coalesced (frame) == 1000 - 16 - 1);
    //  Half of the first pong written: the waiting one must wait still.
    zflow__ws_frame_out_done (frame, 3);
    CHECK (zflow__ws_frame_out (frame, &psize) == out + 3 && psize == size - 3);
    //  Once they are written the waiting one goes out, with the newest payload.
    zflow__ws_frame_out_done (frame, size - 3);
    out = zflow__ws_frame_out (frame, &size);
    pos = 0;
    CHECK (out && s_written (out, size, &pos, got, &psize) == 10 && psize == 4 &&
           memcmp (got, "p999", 4) == 0 && pos == size);
    zflow__ws_frame_out_done (frame, size);
    CHECK (zflow__ws_frame_out (frame, &size) == NULL);
    //  A pong waiting when we close goes before the close, none after.
    free (input.data);
    input = (s_input_t){NULL, 0, 0, 1 << 20};
    s_frame (&input, 9, true, 0, "a", 1);
    s_frame (&input, 9, true, 0, "b", 1);
    CHECK (zflow__ws_frame_next (frame, &event) == ZFLOW_WS_FRAME_AGAIN);
    CHECK (zflow__ws_frame_close (frame, 1000, NULL, 0) == 0);
    out = zflow__ws_frame_out (frame, &size);
    pos = 0;
    CHECK (out && s_written (out, size, &pos, got, &psize) == 10 && got[0] == 'a');
    CHECK (out && s_written (out, size, &pos, got, &psize) == 10 && got[0] == 'b');
    CHECK (out && s_written (out, size, &pos, got, &psize) == 8 && pos == size);
    zflow__ws_frame_out_done (frame, size);
    CHECK (zflow__ws_frame_out (frame, &size) == NULL);
    free (input.data);
    zflow__ws_frame_destroy (&frame);
}

int main (void)
{
    const size_t pieces[] = {1, 3, 7, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof (pieces) / sizeof (pieces[0]); i++)
        s_run_good (pieces[i]);
    s_run_errors ();
    s_run_send ();
    s_run_ping_flood ();
    printf ("%s: %d failed checks\n", s_checks_failed ? "FAIL" : "OK", s_checks_failed);
    return s_checks_failed ? 1 : 0;
}
