/*  =========================================================================
    test_ws_scan - the filter fast path agrees with jansson

    The feed matches filters on a scan of the text (zflow_ws_scan.c) when
    nothing else needs a jansson value. Whenever the scan claims a message,
    jansson must parse it, agree that it is an object or not, and give the
    same answer for every filter the scan decides. Checked on hand-picked
    edge cases and on many random mutations of them.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"

static int s_failures = 0;
static size_t s_claimed = 0; //  messages the scan decided
static size_t s_decided = 0; //  filter answers the scan gave

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            s_failures++;                                                                          \
            fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf (stderr, __VA_ARGS__);                                                         \
            fprintf (stderr, "\n");                                                                \
        }                                                                                          \
    } while (0)

static const char *s_filters[] = {
    "[{\"k\":1}]",
    "[{\"k\":1,\"s\":\"BTC\"}, {\"e\":\"trade\"}]",
    "[{\"s\":\"BTC\"}]",
    "[{\"e\":\"listenKeyExpired\"}]",
    "[{\"ok\":true}, {\"ok\":false}, {\"n\":null}]",
    "[{\"p\":1.5}]",
    "[{\"k\":-0}]",
    "[{\"a\":[1,2]}]",
    "[{\"o\":{\"x\":1}}]",
    "[{\"k\":\"1\"}]",
    "[{\"\":1}]",
    "[{\"e\":\"a\\\"b\"}]",
    "[{\"k\":12345678901234}]",
};

static const char *s_messages[] = {
    "{\"k\":1,\"seq\":7,\"pad\":\"xxxx\"}",
    " { \"k\" : 1 , \"s\" : \"BTC\" } ",
    "{\"e\":\"trade\",\"s\":\"BTC\",\"p\":\"1.5\",\"k\":2}",
    "{\"e\":\"listenKeyExpired\",\"E\":1700000000000}",
    "{\"ok\":true,\"n\":null,\"d\":[1,{\"x\":[true,false,null]},\"s\"]}",
    "{\"p\":1.5,\"q\":-0.25,\"k\":-0}",
    "{\"a\":[1,2],\"o\":{\"x\":1},\"k\":\"1\"}",
    "{\"k\":1,\"k\":2}",
    "{\"k\":2,\"k\":1}",
    "{\"e\":\"a\\\"b\",\"s\":\"tab\\tnew\\nline\"}",
    "{\"e\":\"\\u0041\",\"k\":1}",
    "{\"\":1}",
    "{\"k\":12345678901234,\"big\":123456789012345678901234567890}",
    "{\"x\":1e5,\"k\":1}",
    "{\"caf\xc3\xa9\":\"\xe2\x82\xac\",\"k\":1}",
    "[{\"k\":1}]",
    "\"k\"",
    "42",
    "true",
    "null",
    "{}",
    "[]",
    "{\"k\":01}",
    "{\"k\":1,}",
    "{\"k\" 1}",
    "{\"k\":1} x",
    "{\"k\":tru}",
    "{\"k\":\"unterminated}",
    "{'k':1}",
    "",
    "   ",
    "{\"k\":1.}",
    "{\"k\":-}",
    "{\"k\":[1,2,]}",
};

//  One message against every filter.
static void s_check (const uint8_t *data, size_t size, bool binary, json_t **filters,
                     size_t nfilters)
{
    //  Text messages reach the feed only as valid UTF-8 (the client checks).
    if (!binary && !zflow__ws_utf8_valid (data, size))
        return;
    zflow_ws_scan_t scan;
    if (zflow__ws_scan (data, size, binary, &scan) != 0)
        return; //  unsure: the feed asks jansson, nothing to compare
    s_claimed++;
    json_error_t error;
    json_t *parsed = json_loadb ((const char *) data, size, JSON_DECODE_ANY, &error);
    CHECK (parsed, "scan claimed '%.*s' but jansson says: %s", (int) size, data, error.text);
    if (!parsed)
        return;
    CHECK (scan.object == json_is_object (parsed), "object-ness of '%.*s'", (int) size, data);
    for (size_t i = 0; i < nfilters; i++) {
        zflow_ws_cfilter_t *cfilter = zflow__ws_cfilter_new (filters[i]);
        int fast = zflow__ws_cfilter_match (cfilter, &scan);
        zflow__ws_cfilter_destroy (&cfilter);
        if (fast < 0)
            continue;
        s_decided++;
        bool slow = zflow__ws_filter_match (filters[i], parsed);
        CHECK ((fast == 1) == slow, "filter %s on '%.*s': scan %d, jansson %d", s_filters[i],
               (int) size, data, fast, slow);
    }
    json_decref (parsed);
}

//  A random change: a byte replaced, removed, duplicated, or a piece
//  inserted from a small alphabet of JSON tokens.
static size_t s_mutate (const char *in, uint8_t *out, size_t cap, unsigned *seed)
{
    static const char *pieces[] = {"\"",   "\\",    ",",        ":",    "{",       "}",   "[",
                                   "]",    " ",     "1",        "-",    ".",       "e",   "true",
                                   "null", "\"k\"", "\xc3\xa9", "\x01", "\\u0000", "\xff"};
    size_t size = strlen (in);
    if (size + 8 > cap)
        return 0;
    memcpy (out, in, size);
    int changes = 1 + rand_r (seed) % 3;
    for (int c = 0; c < changes; c++) {
        size_t at = size ? (size_t) rand_r (seed) % (size + 1) : 0;
        int what = rand_r (seed) % 4;
        if (what == 0 && at < size)
            out[at] = (uint8_t) (rand_r (seed) % 128);
        else if (what == 1 && at < size) {
            memmove (out + at, out + at + 1, size - at - 1);
            size--;
        } else {
            const char *piece = pieces[rand_r (seed) % (sizeof (pieces) / sizeof (pieces[0]))];
            size_t len = strlen (piece);
            if (size + len > cap)
                break;
            memmove (out + at + len, out + at, size - at);
            memcpy (out + at, piece, len);
            size += len;
        }
    }
    return size;
}

int main (void)
{
    size_t nfilters = sizeof (s_filters) / sizeof (s_filters[0]);
    json_t *filters[sizeof (s_filters) / sizeof (s_filters[0])];
    for (size_t i = 0; i < nfilters; i++) {
        filters[i] = zflow__ws_filter_parse (s_filters[i]);
        CHECK (filters[i], "filter %s parses", s_filters[i]);
    }
    size_t nmessages = sizeof (s_messages) / sizeof (s_messages[0]);
    for (size_t i = 0; i < nmessages; i++)
        for (int binary = 0; binary < 2; binary++)
            s_check ((const uint8_t *) s_messages[i], strlen (s_messages[i]), binary, filters,
                     nfilters);

    //  The common messages take the fast path and are decided there.
    zflow_ws_scan_t scan;
    const char *plain = "{\"k\":3,\"seq\":12,\"pad\":\"xxxxxxxx\"}";
    CHECK (zflow__ws_scan ((const uint8_t *) plain, strlen (plain), false, &scan) == 0,
           "a plain message is scanned");
    CHECK (scan.object && scan.count == 3, "three fields");
    zflow_ws_cfilter_t *ones = zflow__ws_cfilter_new (filters[0]);
    CHECK (zflow__ws_cfilter_match (ones, &scan) == 0, "k is 3, not 1");
    json_t *three = zflow__ws_filter_parse ("{\"k\":3}");
    zflow_ws_cfilter_t *threes = zflow__ws_cfilter_new (three);
    CHECK (zflow__ws_cfilter_match (threes, &scan) == 1, "k is 3");
    CHECK (zflow__ws_cfilter_match (NULL, &scan) == 1, "no filter matches");
    zflow__ws_cfilter_destroy (&threes);
    json_decref (three);
    //  Duplicates: the last one counts, as in jansson.
    const char *dup = "{\"k\":1,\"k\":2}";
    CHECK (zflow__ws_scan ((const uint8_t *) dup, strlen (dup), false, &scan) == 0 &&
               zflow__ws_cfilter_match (ones, &scan) == 0,
           "last duplicate wins");
    zflow__ws_cfilter_destroy (&ones);
    //  Things left to jansson.
    const char *unsure[] = {"{\"e\":\"\\u0041\"}", "{\"x\":1e5}",
                            "{\"k\":01}",          "{\"k\":1,}",
                            "{\"k\\n\":1}",        "{\"big\":12345678901234567890}"};
    for (size_t i = 0; i < sizeof (unsure) / sizeof (unsure[0]); i++)
        CHECK (zflow__ws_scan ((const uint8_t *) unsure[i], strlen (unsure[i]), false, &scan) != 0,
               "'%s' is left to jansson", unsure[i]);
    const char *accented = "{\"k\":\"\xc3\xa9\"}";
    CHECK (zflow__ws_scan ((const uint8_t *) accented, strlen (accented), false, &scan) == 0,
           "UTF-8 in a text message is scanned");
    CHECK (zflow__ws_scan ((const uint8_t *) accented, strlen (accented), true, &scan) != 0,
           "bytes above 0x7F in a binary message are left to jansson");

    //  Random mutations of every message.
    unsigned seed = 12345;
    uint8_t buffer[512];
    for (int round = 0; round < 100000; round++) {
        const char *base = s_messages[(size_t) rand_r (&seed) % nmessages];
        size_t size = s_mutate (base, buffer, sizeof (buffer), &seed);
        s_check (buffer, size, round % 2, filters, nfilters);
    }
    CHECK (s_claimed > 5000, "the scan decided many messages (%zu)", s_claimed);
    CHECK (s_decided > 50000, "and many filter answers (%zu)", s_decided);
    for (size_t i = 0; i < nfilters; i++)
        json_decref (filters[i]);
    printf ("test_ws_scan: %zu messages claimed, %zu filter answers compared, %d failures\n",
            s_claimed, s_decided, s_failures);
    return s_failures ? 1 : 0;
}
