/*  Tests for zflow_meta and zflow_envelope: round trips and bad input. */
#include "zflow_testing.h"
#include <string.h>

static void test_meta_fields (void)
{
    zflow_meta_t *meta = zflow_meta_new ();
    CHECK (meta);
    CHECK (zflow_meta_source (meta) == NULL && zflow_meta_seq (meta) == 0);
    CHECK_RC (zflow_meta_set_source (meta, "hpfeeds"), 0);
    zflow_meta_set_seq (meta, 42);
    zflow_meta_set_timestamp (meta, 1700000000123456LL);
    CHECK_RC (zflow_meta_set_content_type (meta, "application/json"), 0);
    CHECK_RC (zflow_meta_set (meta, "ident", "sensor-1"), 0);
    CHECK_RC (zflow_meta_set (meta, "ident", "sensor-2"), 0); //  replaces
    CHECK (zflow_meta_extra_count (meta) == 1);
    CHECK_RC (zflow_meta_set (meta, "src", "x"), ZFLOW_EINVAL); //  reserved
    CHECK_RC (zflow_meta_set (meta, "", "x"), ZFLOW_EINVAL);
    CHECK_RC (zflow_meta_set (meta, NULL, "x"), ZFLOW_EINVAL);
    CHECK_RC (zflow_meta_set (meta, "n", NULL), ZFLOW_EINVAL);
    char big[ZFLOW_META_MAX_TEXT + 2];
    memset (big, 'b', sizeof (big) - 1);
    big[sizeof (big) - 1] = 0;
    CHECK_RC (zflow_meta_set_source (meta, big), ZFLOW_ETOOBIG);
    CHECK_RC (zflow_meta_set (meta, "big", big), ZFLOW_ETOOBIG);
    CHECK (streq (zflow_meta_source (meta), "hpfeeds")); //  unchanged by the refusal
    for (int i = 1; i < ZFLOW_META_MAX_EXTRA; i++) {
        char name[8];
        snprintf (name, sizeof (name), "x%d", i);
        CHECK_RC (zflow_meta_set (meta, name, "v"), 0);
    }
    CHECK_RC (zflow_meta_set (meta, "one-too-many", "v"), ZFLOW_EFULL);

    char wire[ZFLOW_META_MAX_WIRE];
    int size = zflow_meta_encode (meta, wire, sizeof (wire));
    CHECK (size > 0);
    char small[10];
    CHECK_RC (zflow_meta_encode (meta, small, sizeof (small)), ZFLOW_ETOOBIG);
    zflow_meta_t *back = zflow_meta_new ();
    CHECK_RC (zflow_meta_decode (back, wire, (size_t) size), 0);
    CHECK (streq (zflow_meta_source (back), "hpfeeds"));
    CHECK (zflow_meta_seq (back) == 42);
    CHECK (zflow_meta_timestamp (back) == 1700000000123456LL);
    CHECK (streq (zflow_meta_content_type (back), "application/json"));
    CHECK (streq (zflow_meta_get (back, "ident"), "sensor-2"));
    CHECK (zflow_meta_extra_count (back) == ZFLOW_META_MAX_EXTRA);
    CHECK (streq (zflow_meta_extra_name (back, 1), "x1"));
    CHECK (streq (zflow_meta_extra_value (back, 1), "v"));
    CHECK (zflow_meta_extra_name (back, ZFLOW_META_MAX_EXTRA) == NULL);
    CHECK (zflow_meta_get (back, "absent") == NULL);
    zflow_meta_stamp (back);
    CHECK (zflow_meta_timestamp (back) > 1700000000000000LL);
    zflow_meta_reset (back);
    CHECK (zflow_meta_source (back) == NULL && zflow_meta_extra_count (back) == 0);
    zflow_meta_destroy (&back);
    zflow_meta_destroy (&meta);
    CHECK (meta == NULL);
}

//  Each of these is not a valid meta; decode must say EPROTO and not crash.
static void test_meta_malformed (void)
{
    static const struct {
        const char *what;
        const char *data;
        size_t size;
    } cases[] = {
        {"empty", "", 0},
        {"not msgpack (truncated str)",
         "\xa5"
         "ab",
         3},
        {"an array, not a map", "\x91\x01", 2},
        {"map without v", "\x81\xa3seq\x01", 6},
        {"unknown version", "\x81\xa1v\x02", 4},
        {"v as a string",
         "\x81\xa1v\xa1"
         "1",
         5},
        {"seq negative", "\x82\xa1v\x01\xa3seq\xff", 9},
        {"src as an int", "\x82\xa1v\x01\xa3src\x05", 9},
        {"extra as an int", "\x82\xa1v\x01\xa1x\x05", 7},
        {"key not a string", "\x82\xa1v\x01\x05\x05", 6},
        {"trailing bytes", "\x81\xa1v\x01\x00", 5},
        {"NUL inside text", "\x82\xa1v\x01\xa3src\xa2\x61\x00", 11},
        {"truncated map", "\x83\xa1v\x01", 4},
    };
    zflow_meta_t *meta = zflow_meta_new ();
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        int rc = zflow_meta_decode (meta, cases[i].data, cases[i].size);
        if (rc != ZFLOW_EPROTO) {
            fprintf (stderr, "case '%s': %d (%s)\n", cases[i].what, rc, zflow_error_text (rc));
            CHECK (false);
        }
        CHECK (zflow_meta_source (meta) == NULL);
    }
    //  the smallest valid meta
    CHECK_RC (zflow_meta_decode (meta, "\x81\xa1v\x01", 4), 0);
    char huge[ZFLOW_META_MAX_WIRE + 1] = {0};
    CHECK_RC (zflow_meta_decode (meta, huge, sizeof (huge)), ZFLOW_ETOOBIG);
    zflow_meta_destroy (&meta);
}

static void test_envelope (void)
{
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_key_t *key = zflow_key_new ("ws", "binance", NULL);
    zflow_meta_set_source (meta, "ws");
    zflow_meta_set_seq (meta, 7);
    CHECK_RC (zflow_envelope_encode_key (msg, key, meta, "{\"e\":1}", 7), 0);
    CHECK (zflow_msg_size (msg) == 3);
    size_t size;
    const void *wire = zflow_envelope_key (msg, &size);
    size_t key_size;
    const void *expected = zflow_key_wire (key, &key_size);
    CHECK (size == key_size && memcmp (wire, expected, size) == 0);
    const char *payload = (const char *) zflow_envelope_payload (msg, &size);
    CHECK (size == 7 && memcmp (payload, "{\"e\":1}", 7) == 0);

    zflow_meta_t *back = zflow_meta_new ();
    CHECK_RC (zflow_envelope_decode (msg, back), 0);
    CHECK (streq (zflow_meta_source (back), "ws") && zflow_meta_seq (back) == 7);
    CHECK_RC (zflow_envelope_decode (msg, NULL), 0);

    //  wrap keeps a multipart payload as it is, behind key and meta
    zflow_msg_reset (msg);
    zflow_msg_addstr (msg, "p1");
    zflow_msg_addstr (msg, "p2");
    CHECK_RC (zflow_envelope_wrap (msg, "k", 1, NULL), 0);
    CHECK (zflow_msg_size (msg) == 4);
    CHECK (zflow_msg_streq (msg, 0, "k") && zflow_msg_streq (msg, 3, "p2"));
    CHECK_RC (zflow_envelope_decode (msg, back), 0);
    CHECK (zflow_meta_source (back) == NULL);
    zflow_msg_reset (msg);
    CHECK_RC (zflow_envelope_wrap (msg, "k", 1, meta), 0);
    CHECK (zflow_msg_size (msg) == 3 && zflow_msg_part_size (msg, 2) == 0);

    //  bad input
    CHECK_RC (zflow_envelope_encode (msg, NULL, 0, meta, "x", 1), ZFLOW_EINVAL);
    CHECK_RC (zflow_envelope_encode (msg, "k", 1, meta, NULL, 1), ZFLOW_EINVAL);
    CHECK_RC (zflow_envelope_encode_key (msg, NULL, meta, "x", 1), ZFLOW_EINVAL);
    zflow_msg_reset (msg);
    zflow_msg_addstr (msg, "k");
    zflow_msg_addstr (msg, "not msgpack meta");
    CHECK_RC (zflow_envelope_decode (msg, back), ZFLOW_EPROTO); //  two frames
    zflow_msg_addstr (msg, "payload");
    CHECK_RC (zflow_envelope_decode (msg, back), ZFLOW_EPROTO); //  bad meta
    zflow_msg_reset (msg);
    zflow_msg_add (msg, "", 0);
    zflow_msg_add (msg, "\x81\xa1v\x01", 4);
    zflow_msg_add (msg, "", 0);
    CHECK_RC (zflow_envelope_decode (msg, back), ZFLOW_EPROTO); //  empty key
    //  keys past the limits are not keys: too many components, one too long
    char long_part[ZFLOW_KEY_MAX_PART + 2];
    memset (long_part, 'k', sizeof (long_part));
    zflow_msg_reset (msg);
    zflow_msg_add (msg, long_part, ZFLOW_KEY_MAX_PART + 1);
    zflow_msg_add (msg, "\x81\xa1v\x01", 4);
    zflow_msg_add (msg, "", 0);
    CHECK_RC (zflow_envelope_decode (msg, back), ZFLOW_EPROTO);
    char many[2 * ZFLOW_KEY_MAX_PARTS + 1];
    for (int i = 0; i < 2 * ZFLOW_KEY_MAX_PARTS + 1; i++)
        many[i] = i % 2 ? ZFLOW_KEY_SEP : 'p'; //  33 components
    zflow_msg_reset (msg);
    zflow_msg_add (msg, many, sizeof (many));
    zflow_msg_add (msg, "\x81\xa1v\x01", 4);
    zflow_msg_add (msg, "", 0);
    CHECK_RC (zflow_envelope_decode (msg, back), ZFLOW_EPROTO);
    zflow_msg_reset (msg);
    zflow_msg_add (msg, many, sizeof (many) - 2); //  32 components: a key
    zflow_msg_add (msg, "\x81\xa1v\x01", 4);
    zflow_msg_add (msg, "", 0);
    CHECK_RC (zflow_envelope_decode (msg, back), 0);
    CHECK (zflow_envelope_payload (msg, &size) != NULL && size == 0);
    zflow_key_destroy (&key);
    zflow_meta_destroy (&back);
    zflow_meta_destroy (&meta);
    zflow_msg_destroy (&msg);
}

int main (void)
{
    printf ("test_envelope\n");
    RUN (test_meta_fields);
    RUN (test_meta_malformed);
    RUN (test_envelope);
    return 0;
}
