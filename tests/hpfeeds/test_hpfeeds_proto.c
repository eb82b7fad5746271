/*  =========================================================================
    test_hpfeeds_proto - the hpfeeds codec, the byte buffer and the user
    table, with hostile input

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include "zflow_hpfeeds_auth.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_proto.h"
#include <stdio.h>
#include <string.h>

//  Checks that stay in release builds (assert is compiled out by NDEBUG).
#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #x);                 \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

static void s_header (uint8_t *dst, uint32_t total, uint8_t op)
{
    dst[0] = (uint8_t) (total >> 24);
    dst[1] = (uint8_t) (total >> 16);
    dst[2] = (uint8_t) (total >> 8);
    dst[3] = (uint8_t) total;
    dst[4] = op;
}

//  Known bytes, written by hand from the protocol text.
static void test_encode_known (void)
{
    uint8_t buf[128];
    long size = zflow__hpfeeds_encode_publish (buf, "id", 2, "ch", 2, "xyz", 3);
    //  5 + 1 + 2 + 1 + 2 + 3 = 14
    const uint8_t expect[] = {0, 0, 0, 14, 3, 2, 'i', 'd', 2, 'c', 'h', 'x', 'y', 'z'};
    CHECK (size == 14 && memcmp (buf, expect, 14) == 0);
    int sub = zflow__hpfeeds_encode_sub (buf, ZFLOW_HPFEEDS_OP_SUBSCRIBE, "id", "ch", 2);
    const uint8_t expect_sub[] = {0, 0, 0, 10, 4, 2, 'i', 'd', 'c', 'h'};
    CHECK (sub == 10 && memcmp (buf, expect_sub, 10) == 0);
    int info = zflow__hpfeeds_encode_info (buf, "b", (const uint8_t *) "\x01\x02\x03\x04", 4);
    const uint8_t expect_info[] = {0, 0, 0, 11, 1, 1, 'b', 1, 2, 3, 4};
    CHECK (info == 11 && memcmp (buf, expect_info, 11) == 0);
    //  SHA-1 ("\x01\x02\x03\x04" "secret"), computed with openssl dgst
    uint8_t hash[20];
    CHECK (zflow__hpfeeds_hash ((const uint8_t *) "\x01\x02\x03\x04", 4, "secret", hash) == 0);
    int auth = zflow__hpfeeds_encode_auth (buf, "id", hash);
    CHECK (auth == 5 + 1 + 2 + 20);
    CHECK (buf[4] == ZFLOW_HPFEEDS_OP_AUTH && memcmp (buf + 8, hash, 20) == 0);
    int err = zflow__hpfeeds_encode_error (buf, "nope", 4);
    CHECK (err == 9 && buf[4] == 0 && memcmp (buf + 5, "nope", 4) == 0);
}

static void test_hash_vector (const char *hex_expect)
{
    uint8_t hash[20];
    char hex[41];
    CHECK (zflow__hpfeeds_hash ((const uint8_t *) "\x01\x02\x03\x04", 4, "secret", hash) == 0);
    for (int index = 0; index < 20; index++)
        snprintf (hex + 2 * index, 3, "%02x", hash[index]);
    CHECK (streq (hex, hex_expect));
}

static void test_strings_too_long (void)
{
    char big[300];
    memset (big, 'a', sizeof (big) - 1);
    big[299] = 0;
    CHECK (zflow__hpfeeds_encode_publish (NULL, big, 256, "c", 1, "", 0) == ZFLOW_ETOOBIG);
    CHECK (zflow__hpfeeds_encode_publish (NULL, "i", 1, big, 256, "", 0) == ZFLOW_ETOOBIG);
    CHECK (zflow__hpfeeds_encode_publish (NULL, "i", 1, big, 255, "", 0) == 5 + 2 + 1 + 255);
    CHECK (zflow__hpfeeds_encode_sub (NULL, 4, big, "c", 1) == ZFLOW_ETOOBIG);
    CHECK (zflow__hpfeeds_encode_sub (NULL, 4, "i", big, 256) == ZFLOW_ETOOBIG);
    CHECK (zflow__hpfeeds_encode_auth (NULL, big, (const uint8_t *) big) == ZFLOW_ETOOBIG);
    CHECK (zflow__hpfeeds_encode_info (NULL, big, (const uint8_t *) "1234", 4) == ZFLOW_ETOOBIG);
    //  a payload that would make the frame pass 5 + 1 MiB
    CHECK (zflow__hpfeeds_encode_publish (NULL, "i", 1, "c", 1, "", ZFLOW_HPFEEDS_MAXBUF - 3) ==
           ZFLOW_ETOOBIG);
    CHECK (zflow__hpfeeds_encode_publish (NULL, "i", 1, "c", 1, "", ZFLOW_HPFEEDS_MAXBUF - 4) ==
           ZFLOW_HPFEEDS_MAX_FRAME);
    CHECK (zflow__hpfeeds_encode_publish (NULL, "i", 1, "c", 1, "", ZFLOW_HPFEEDS_MAXBUF - 5) ==
           ZFLOW_HPFEEDS_MAX_FRAME - 1);
}

//  Every frame, fed one byte at a time, is found only when complete.
static void test_partial (void)
{
    uint8_t buf[256];
    long size = zflow__hpfeeds_encode_publish (buf, "ident", 5, "chan", 4, "payload", 7);
    zflow_hpfeeds_frame_t frame;
    for (long have = 0; have < size; have++)
        CHECK (zflow__hpfeeds_parse (buf, (size_t) have, &frame, NULL, 0) == 0);
    CHECK (zflow__hpfeeds_parse (buf, (size_t) size, &frame, NULL, 0) == 1);
    CHECK (frame.op == 3 && frame.size == size);
    CHECK (frame.name_size == 5 && memcmp (frame.name, "ident", 5) == 0);
    CHECK (frame.channel_size == 4 && memcmp (frame.channel, "chan", 4) == 0);
    CHECK (frame.data_size == 7 && memcmp (frame.data, "payload", 7) == 0);
    //  two frames back to back, then a partial third
    long second = zflow__hpfeeds_encode_sub (buf + size, 5, "ident", "c2", 2);
    memcpy (buf + size + second, buf, 3);
    size_t total = (size_t) (size + second + 3), offset = 0;
    int frames = 0;
    while (zflow__hpfeeds_parse (buf + offset, total - offset, &frame, NULL, 0) == 1) {
        offset += frame.size;
        frames++;
    }
    CHECK (frames == 2 && offset == (size_t) (size + second));
    CHECK (frame.op == 5 && frame.channel_size == 2 && memcmp (frame.channel, "c2", 2) == 0);
}

//  Limits and malformed frames are refused from the header alone.
static void test_hostile (void)
{
    uint8_t buf[600] = {0};
    zflow_hpfeeds_frame_t frame;
    char err[256];
    s_header (buf, 5 + 1024 * 1024 + 1, 3);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_ETOOBIG);
    CHECK (strstr (err, "too big"));
    s_header (buf, 5 + 1024 * 1024, 3);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == 0); //  allowed, waits
    s_header (buf, 5 + 1024 * 1024, 0);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == 0);
    s_header (buf, 5 + 1024 * 1024 + 1, 0);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_ETOOBIG);
    s_header (buf, 5 + 256 + 20 + 1, 1);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_ETOOBIG);
    s_header (buf, 5 + 256 + 20 + 1, 2);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_ETOOBIG);
    s_header (buf, 5 + 256 + 20, 2);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == 0);
    s_header (buf, 0xFFFFFFFFu, 3);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_ETOOBIG);
    s_header (buf, 4, 3);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    s_header (buf, 0, 0);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    s_header (buf, 10, 6);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    CHECK (strstr (err, "Unknown opcode: 6"));
    s_header (buf, 10, 255);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    //  a str8 longer than the body
    s_header (buf, 8, 3);
    buf[5] = 200;
    CHECK (zflow__hpfeeds_parse (buf, 8, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    //  publish with the ident but the channel string missing / too long
    s_header (buf, 7, 3);
    buf[5] = 1;
    buf[6] = 'a';
    CHECK (zflow__hpfeeds_parse (buf, 7, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    s_header (buf, 9, 3);
    buf[7] = 5;
    CHECK (zflow__hpfeeds_parse (buf, 9, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    //  empty bodies
    s_header (buf, 5, 3);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    s_header (buf, 5, 0);
    CHECK (zflow__hpfeeds_parse (buf, 5, &frame, err, sizeof (err)) == 1);
    CHECK (frame.op == 0 && frame.data_size == 0);
    //  subscribe channel over 255 bytes
    s_header (buf, 5 + 2 + 256, 4);
    buf[5] = 1;
    buf[6] = 'a';
    memset (buf + 7, 'c', 256);
    CHECK (zflow__hpfeeds_parse (buf, 5 + 2 + 256, &frame, err, sizeof (err)) == ZFLOW_EPROTO);
    //  a zero-length channel and payload are fine
    s_header (buf, 8, 3);
    buf[5] = 1;
    buf[6] = 'a';
    buf[7] = 0;
    CHECK (zflow__hpfeeds_parse (buf, 8, &frame, err, sizeof (err)) == 1);
    CHECK (frame.channel_size == 0 && frame.data_size == 0);
}

//  Random bytes never crash the parser or escape the buffer.
static void test_random (void)
{
    uint8_t buf[512];
    zflow_hpfeeds_frame_t frame;
    srand (7);
    for (int round = 0; round < 200000; round++) {
        size_t size = (size_t) (rand () % (int) sizeof (buf));
        for (size_t index = 0; index < size; index++)
            buf[index] = (uint8_t) rand ();
        if (size > 4 && round % 2) {
            s_header (buf, (uint32_t) (rand () % 300), (uint8_t) (rand () % 7));
        }
        int rc = zflow__hpfeeds_parse (buf, size, &frame, NULL, 0);
        if (rc == 1) {
            CHECK (frame.size <= size);
            CHECK (!frame.data || frame.data + frame.data_size <= buf + frame.size);
            CHECK (!frame.channel || frame.channel + frame.channel_size <= buf + frame.size);
            CHECK (!frame.name || frame.name + frame.name_size <= buf + frame.size);
        } else
            CHECK (rc == 0 || rc == ZFLOW_EPROTO || rc == ZFLOW_ETOOBIG);
    }
}

static void test_buf (void)
{
    zflow_hpfeeds_buf_t buf;
    zflow__hpfeeds_buf_init (&buf, 10000);
    uint8_t chunk[3000];
    memset (chunk, 'x', sizeof (chunk));
    CHECK (zflow__hpfeeds_buf_append (&buf, chunk, 3000) == 0);
    CHECK (zflow__hpfeeds_buf_append (&buf, chunk, 3000) == 0);
    CHECK (zflow__hpfeeds_buf_append (&buf, chunk, 3000) == 0);
    CHECK (zflow__hpfeeds_buf_append (&buf, chunk, 3000) == -1); //  over the limit
    CHECK (zflow__hpfeeds_buf_size (&buf) == 9000);
    zflow__hpfeeds_buf_consume (&buf, 8000);
    CHECK (zflow__hpfeeds_buf_append (&buf, chunk, 3000) == 0);
    CHECK (zflow__hpfeeds_buf_size (&buf) == 4000);
    CHECK (buf.capacity <= 10000);
    zflow__hpfeeds_buf_free (&buf);
}

static void test_auth (void)
{
    char dir[] = "/tmp/zflow_hpf_XXXXXX";
    CHECK (mkdtemp (dir));
    char path[256], err[512];
    snprintf (path, sizeof (path), "%s/users.json", dir);
    FILE *file = fopen (path, "w");
    fputs ("{\"bob\": {\"owner\": \"bob\", \"secret\": \"s\", \"pubchans\": [\"a\", \"b\"],"
           " \"subchans\": [\"b\"]}, \"eve\": {\"owner\": \"x\", \"secret\": \"t\","
           " \"pubchans\": [], \"subchans\": []}}",
           file);
    fclose (file);
    zflow_hpfeeds_auth_t *auth = zflow__hpfeeds_auth_new ();
    CHECK (zflow__hpfeeds_auth_load_json (auth, path, err, sizeof (err)) == 2);
    zflow_hpfeeds_user_t *bob = zflow__hpfeeds_auth_lookup (auth, "bob");
    CHECK (bob && streq (bob->secret, "s") && zhash_lookup (bob->pub, "a") &&
           !zhash_lookup (bob->sub, "a") && zhash_lookup (bob->sub, "b"));
    //  broken JSON and a wrong shape are refused with a text, nothing changes
    file = fopen (path, "w");
    fputs ("{\"carol\": {\"owner\": \"c\", \"secret\": \"s\", \"pubchans\": \"a\", "
           "\"subchans\": []}}",
           file);
    fclose (file);
    CHECK (zflow__hpfeeds_auth_load_json (auth, path, err, sizeof (err)) == ZFLOW_ECONFIG);
    CHECK (strstr (err, "carol") && !zflow__hpfeeds_auth_lookup (auth, "carol"));
    file = fopen (path, "w");
    fputs ("{\"dave\": {", file);
    fclose (file);
    CHECK (zflow__hpfeeds_auth_load_json (auth, path, err, sizeof (err)) == ZFLOW_ECONFIG);
    CHECK (strlen (err) > 0);
    //  ZPL
    snprintf (path, sizeof (path), "%s/users.zpl", dir);
    file = fopen (path, "w");
    fputs ("user\n    ident = \"zed\"\n    secret = \"z\"\n    pubchan = \"p1\"\n"
           "    pubchan = \"p2\"\n    subchan = \"s1\"\n",
           file);
    fclose (file);
    CHECK (zflow__hpfeeds_auth_load_zpl (auth, path, err, sizeof (err)) == 1);
    zflow_hpfeeds_user_t *zed = zflow__hpfeeds_auth_lookup (auth, "zed");
    CHECK (zed && zhash_lookup (zed->pub, "p1") && zhash_lookup (zed->pub, "p2") &&
           zhash_lookup (zed->sub, "s1") && zhash_size (zed->pub) == 2);
    file = fopen (path, "w");
    fputs ("user\n    secret = \"z\"\n", file);
    fclose (file);
    CHECK (zflow__hpfeeds_auth_load_zpl (auth, path, err, sizeof (err)) == ZFLOW_ECONFIG);
    CHECK (zflow__hpfeeds_auth_size (auth) == 3);
    zflow__hpfeeds_auth_destroy (&auth);
    snprintf (path, sizeof (path), "rm -rf %s", dir);
    CHECK (system (path) == 0);
}

int main (void)
{
    test_encode_known ();
    //  echo -n $'\x01\x02\x03\x04secret' | openssl dgst -sha1
    test_hash_vector ("bf13c597ffb288ba1d013c277c6a229a8e976b5a");
    test_strings_too_long ();
    test_partial ();
    test_hostile ();
    test_random ();
    test_buf ();
    test_auth ();
    printf ("test_hpfeeds_proto: OK\n");
    return 0;
}
