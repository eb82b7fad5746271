/*  Tests of the hub's pattern trie, pattern prefixes and notice codec. */
#include "zflow.h"
#include "zflow_hub_notice.h"
#include "zflow_hub_trie.h"
#include <assert.h>
#include <stdio.h>

#include "zflow_testing.h"

static bool s_count (void *item, void *arg)
{
    (void) item;
    (*(int *) arg)++;
    return true;
}

//  Number of items matching the key given in text form.
static int s_matches (zflow_trie_t *trie, const char *text)
{
    zflow_key_t *key = zflow_key_parse (text, NULL);
    CHECK (key);
    size_t size;
    const void *wire = zflow_key_wire (key, &size);
    int count = 0;
    size_t n = zflow__trie_match (trie, wire, size, s_count, &count);
    CHECK ((int) n == count);
    CHECK (zflow__trie_any (trie, wire, size) == (count > 0));
    zflow_key_destroy (&key);
    return count;
}

//  A trie holding only pattern, checked against key.
static bool s_one (const char *pattern_text, const char *key_text)
{
    zflow_trie_t *trie = zflow__trie_new ();
    zflow_key_t *pattern = zflow_key_parse (pattern_text, NULL);
    CHECK (pattern);
    int item;
    CHECK (zflow__trie_insert (trie, pattern, &item) == 0);
    bool hit = s_matches (trie, key_text) == 1;
    CHECK (zflow__trie_remove (trie, pattern, &item) == 0);
    CHECK (zflow__trie_nodes (trie) == 0 && zflow__trie_items (trie) == 0);
    zflow_key_destroy (&pattern);
    zflow__trie_destroy (&trie);
    return hit;
}

static void test_rules (void)
{
    //  trailing "*": one or more remaining components
    CHECK (s_one ("a/*", "a/b"));
    CHECK (s_one ("a/*", "a/b/c"));
    CHECK (!s_one ("a/*", "a"));
    CHECK (!s_one ("a/*", "b/c"));
    CHECK (s_one ("*", "a"));
    CHECK (s_one ("*", "a/b/c"));
    CHECK (s_one ("a/*/*", "a/b/c/d"));
    CHECK (!s_one ("a/*/*", "a/b"));
    //  "*" in the middle: exactly one component
    CHECK (s_one ("a/*/c", "a/b/c"));
    CHECK (!s_one ("a/*/c", "a/c"));
    CHECK (!s_one ("a/*/c", "a/b/x/c"));
    CHECK (!s_one ("a/*/c", "a/b/c/d"));
    CHECK (s_one ("*/b", "x/b"));
    CHECK (!s_one ("*/b", "x/b/c"));
    CHECK (!s_one ("*/b", "b"));
    //  exact patterns: whole components only
    CHECK (s_one ("a/b", "a/b"));
    CHECK (!s_one ("a/b", "a/bc"));
    CHECK (!s_one ("a/b", "a/b/c"));
    CHECK (!s_one ("a/b", "a"));
    CHECK (!s_one ("a/b", "ab"));
    //  empty components are components
    CHECK (s_one ("a/*/c", "a//c"));
    CHECK (s_one ("a//c", "a//c"));
    CHECK (!s_one ("a//c", "a/c"));
    //  a published "*" is a literal component: only wildcards match it
    CHECK (s_one ("a/*", "a/*"));
    CHECK (!s_one ("a/b", "a/*"));
}

static void test_items (void)
{
    zflow_trie_t *trie = zflow__trie_new ();
    zflow_key_t *ab = zflow_key_new ("a", "b", NULL);
    zflow_key_t *astar = zflow_key_new ("a", "*", NULL);
    zflow_key_t *starb = zflow_key_new ("*", "b", NULL);
    int x, y;
    CHECK (zflow__trie_insert (trie, ab, &x) == 0);
    CHECK (zflow__trie_insert (trie, ab, &x) == 0); //  twice: two items
    CHECK (zflow__trie_insert (trie, astar, &y) == 0);
    CHECK (zflow__trie_insert (trie, starb, &y) == 0);
    CHECK (s_matches (trie, "a/b") == 4);
    CHECK (s_matches (trie, "a/c") == 1);
    CHECK (s_matches (trie, "c/b") == 1);
    CHECK (s_matches (trie, "c/c") == 0);
    CHECK (zflow__trie_remove (trie, ab, &y) == ZFLOW_ENOTFOUND);
    CHECK (zflow__trie_remove (trie, astar, &x) == ZFLOW_ENOTFOUND);
    zflow_key_t *never = zflow_key_new ("q", "r", "*", NULL);
    CHECK (zflow__trie_remove (trie, never, &x) == ZFLOW_ENOTFOUND);
    CHECK (zflow__trie_remove (trie, ab, &x) == 0);
    CHECK (s_matches (trie, "a/b") == 3);
    CHECK (zflow__trie_remove (trie, ab, &x) == 0);
    CHECK (zflow__trie_remove (trie, astar, &y) == 0);
    CHECK (zflow__trie_remove (trie, starb, &y) == 0);
    CHECK (zflow__trie_items (trie) == 0 && zflow__trie_nodes (trie) == 0);
    //  a key longer than the trie matches at all is simply not matched
    char wire[200];
    memset (wire, ZFLOW_KEY_SEP, sizeof (wire));
    CHECK (zflow__trie_insert (trie, astar, &x) == 0);
    CHECK (zflow__trie_match (trie, wire, sizeof (wire), s_count, &x) == 0);
    zflow_key_destroy (&ab);
    zflow_key_destroy (&astar);
    zflow_key_destroy (&starb);
    zflow_key_destroy (&never);
    zflow__trie_destroy (&trie);
}

//  100,000 patterns: each key still finds exactly its own, and removing all
//  of them frees every node.
static void test_many (void)
{
    zflow_trie_t *trie = zflow__trie_new ();
    enum { N = 100000 };
    zflow_key_t **keys = (zflow_key_t **) calloc (N, sizeof (zflow_key_t *));
    for (int i = 0; i < N; i++) {
        char part[32];
        snprintf (part, sizeof (part), "k%d", i);
        keys[i] =
            i % 2 ? zflow_key_new ("bench", part, NULL) : zflow_key_new ("w", part, "*", NULL);
        CHECK (zflow__trie_insert (trie, keys[i], keys[i]) == 0);
    }
    CHECK (zflow__trie_items (trie) == N);
    CHECK (s_matches (trie, "bench/k777") == 1);
    CHECK (s_matches (trie, "w/k778/x/y") == 1);
    CHECK (s_matches (trie, "w/k777/x") == 0);
    CHECK (s_matches (trie, "bench/k100000") == 0);
    for (int i = 0; i < N; i++) {
        CHECK (zflow__trie_remove (trie, keys[i], keys[i]) == 0);
        zflow_key_destroy (&keys[i]);
    }
    CHECK (zflow__trie_nodes (trie) == 0);
    free (keys);
    zflow__trie_destroy (&trie);
}

static void test_prefix (void)
{
    char buffer[64];
    struct {
        const char *pattern;
        const char *prefix;
    } cases[] = {{"a/b/*", "a\x1f"
                           "b\x1f"},
                 {"a/b", "a\x1f"
                         "b"},
                 {"*/b", ""},
                 {"a/*/c", "a\x1f"},
                 {"*", ""},
                 {"a", "a"}};
    for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
        zflow_key_t *pattern = zflow_key_parse (cases[i].pattern, NULL);
        int size = zflow__pattern_prefix (pattern, buffer, sizeof (buffer));
        CHECK (size == (int) strlen (cases[i].prefix));
        CHECK (memcmp (buffer, cases[i].prefix, (size_t) size) == 0);
        CHECK (zflow__pattern_has_wildcard (pattern) == (strchr (cases[i].pattern, '*') != NULL));
        zflow_key_destroy (&pattern);
    }
}

static void test_notice (void)
{
    zflow_msg_t *msg = zflow_msg_new ();
    const char wire[] = "key\x1f"
                        "of\x1f"
                        "added\x1f"
                        "*";
    CHECK (zflow__hub_notice_encode (msg, true, wire, strlen (wire), 2) == 0);
    CHECK (zflow_envelope_decode (msg, NULL) == 0);
    size_t size;
    const char *key = (const char *) zflow_envelope_key (msg, &size);
    const char expect[] = "Hub\x1f"
                          "addedSubscriber\x1f"
                          "key\x1f"
                          "of\x1f"
                          "added\x1f"
                          "*";
    CHECK (size == strlen (expect) && memcmp (key, expect, size) == 0);
    const void *payload = zflow_envelope_payload (msg, &size);
    zflow_key_t *pattern = NULL;
    uint64_t count = 0;
    CHECK (zflow_hub_notice_decode (payload, size, &pattern, &count) == 0);
    CHECK (count == 2);
    CHECK (streq (zflow_key_text (pattern), "key/of/added/*"));
    zflow_key_destroy (&pattern);
    CHECK (zflow__hub_notice_encode (msg, false, "x", 1, 0) == 0);
    key = (const char *) zflow_envelope_key (msg, &size);
    CHECK (size == 23 && memcmp (key, "Hub\x1fremovedSubscriber\x1fx", 23) == 0);
    //  not a notice: clear errors
    CHECK (zflow_hub_notice_decode ("\x93\x01\x02\x03", 4, &pattern, &count) == ZFLOW_EPROTO);
    CHECK (zflow_hub_notice_decode ("\xc1", 1, &pattern, &count) == ZFLOW_EPROTO);
    CHECK (zflow_hub_notice_decode ("\x81\xa3key\x90", 6, &pattern, &count) == ZFLOW_EPROTO);
    CHECK (pattern == NULL);
    CHECK (zflow_hub_notice_decode (NULL, 0, &pattern, &count) == ZFLOW_EINVAL);
    zflow_msg_destroy (&msg);
}

int main (void)
{
    test_rules ();
    test_items ();
    test_many ();
    test_prefix ();
    test_notice ();
    printf ("test_hub_trie: OK\n");
    return 0;
}
