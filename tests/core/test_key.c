/*  Tests for zflow_key: construction, limits, wire and text forms. */
#include "zflow_testing.h"
#include <string.h>

static void test_build (void)
{
    zflow_key_t *key = zflow_key_new ("hpfeeds", "dionaea.capture", NULL);
    CHECK (key);
    CHECK (zflow_key_size (key) == 2);
    CHECK (streq (zflow_key_at (key, 0), "hpfeeds"));
    CHECK (streq (zflow_key_at (key, 1), "dionaea.capture"));
    CHECK (zflow_key_at (key, 2) == NULL);
    size_t size;
    const char *wire = (const char *) zflow_key_wire (key, &size);
    CHECK (size == strlen ("hpfeeds") + 1 + strlen ("dionaea.capture"));
    CHECK (memcmp (wire,
                   "hpfeeds\x1f"
                   "dionaea.capture",
                   size) == 0);
    CHECK (streq (zflow_key_text (key), "hpfeeds/dionaea.capture"));

    int err = 0;
    zflow_key_t *back = zflow_key_decode (wire, size, &err);
    CHECK (back && err == 0 && zflow_key_eq (key, back));
    zflow_key_t *parsed = zflow_key_parse ("hpfeeds/dionaea.capture", &err);
    CHECK (parsed && zflow_key_eq (key, parsed));
    zflow_key_t *copy = zflow_key_dup (key);
    CHECK (copy && zflow_key_eq (copy, key));

    zflow_key_t *prefix = zflow_key_new ("a", NULL);
    zflow_key_t *joined = zflow_key_join (prefix, key, &err);
    CHECK (joined && zflow_key_size (joined) == 3);
    CHECK (streq (zflow_key_text (joined), "a/hpfeeds/dionaea.capture"));
    CHECK (!zflow_key_eq (joined, key));
    //  one component that is a prefix of another is a different key
    zflow_key_t *ab = zflow_key_new ("ab", NULL);
    CHECK (!zflow_key_eq (prefix, ab));
    zflow_key_destroy (&ab);
    zflow_key_destroy (&prefix);
    zflow_key_destroy (&joined);
    zflow_key_destroy (&copy);
    zflow_key_destroy (&parsed);
    zflow_key_destroy (&back);
    zflow_key_destroy (&key);
    CHECK (key == NULL);
    zflow_key_destroy (&key);
}

static void test_bad_input (void)
{
    int err = 0;
    CHECK (zflow_key_new (NULL) == NULL);
    CHECK (zflow_key_new_array (NULL, 0, &err) == NULL && err == ZFLOW_EINVAL);
    const char *with_sep[] = {"a", "b\x1f"
                                   "c"};
    CHECK (zflow_key_new_array (with_sep, 2, &err) == NULL && err == ZFLOW_EINVAL);
    const char *with_null[] = {"a", NULL};
    CHECK (zflow_key_new_array (with_null, 2, &err) == NULL && err == ZFLOW_EINVAL);
    char long_part[ZFLOW_KEY_MAX_PART + 2];
    memset (long_part, 'x', sizeof (long_part) - 1);
    long_part[sizeof (long_part) - 1] = 0;
    const char *too_long[] = {long_part};
    CHECK (zflow_key_new_array (too_long, 1, &err) == NULL && err == ZFLOW_ETOOBIG);
    long_part[ZFLOW_KEY_MAX_PART] = 0; //  exactly at the limit is fine
    zflow_key_t *ok = zflow_key_new_array (too_long, 1, &err);
    CHECK (ok && err == 0);
    zflow_key_destroy (&ok);
    const char *many[ZFLOW_KEY_MAX_PARTS + 1];
    for (int i = 0; i <= ZFLOW_KEY_MAX_PARTS; i++)
        many[i] = "p";
    CHECK (zflow_key_new_array (many, ZFLOW_KEY_MAX_PARTS + 1, &err) == NULL &&
           err == ZFLOW_ETOOBIG);
    ok = zflow_key_new_array (many, ZFLOW_KEY_MAX_PARTS, &err);
    CHECK (ok);
    zflow_key_t *joined = zflow_key_join (ok, ok, &err);
    CHECK (joined == NULL && err == ZFLOW_ETOOBIG);
    zflow_key_destroy (&ok);
    CHECK (zflow_key_decode ("", 0, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_key_decode ("a\0b", 3, &err) == NULL && err == ZFLOW_EINVAL);
    CHECK (zflow_key_parse (NULL, &err) == NULL && err == ZFLOW_EINVAL);
    //  empty components are allowed (an empty channel name is still a name)
    zflow_key_t *empty_part = zflow_key_parse ("a//b", &err);
    CHECK (empty_part && zflow_key_size (empty_part) == 3);
    CHECK (streq (zflow_key_at (empty_part, 1), ""));
    zflow_key_destroy (&empty_part);
}

int main (void)
{
    printf ("test_key\n");
    RUN (test_build);
    RUN (test_bad_input);
    return 0;
}
