/*  Small helpers shared by the hub tests. */
#ifndef HUB_TESTUTIL_H_INCLUDED
#define HUB_TESTUTIL_H_INCLUDED

#include "zflow.h"
#include <stdio.h>
#include <stdlib.h>

#include "../zflow_testing.h"

//  A key from its text form; fails the test if invalid.
static inline zflow_key_t *K (const char *text)
{
    zflow_key_t *key = zflow_key_parse (text, NULL);
    CHECK (key);
    return key;
}

//  Publishes text under key (text form); returns the publish result.
static inline int pub_text (zflow_hub_publisher_t *pub, const char *key_text, const char *text)
{
    zflow_key_t *key = K (key_text);
    int rc = zflow_hub_publisher_publish (pub, key, text, strlen (text));
    zflow_key_destroy (&key);
    return rc;
}

//  True if the envelope's key (text form) is key_text and its payload text.
static inline bool env_is (const zflow_msg_t *env, const char *key_text, const char *text)
{
    size_t size;
    const void *wire = zflow_envelope_key (env, &size);
    zflow_key_t *key = wire ? zflow_key_decode (wire, size, NULL) : NULL;
    bool same = key && streq (zflow_key_text (key), key_text);
    zflow_key_destroy (&key);
    const void *payload = zflow_envelope_payload (env, &size);
    return same && payload && size == strlen (text) && memcmp (payload, text, size) == 0;
}

//  Consumes one envelope (timeout ms) and returns its key text (caller frees)
//  and payload text in *text_p (caller frees), or NULL on timeout.
static inline char *consume_text (zflow_hub_subscriber_t *sub, int timeout, char **text_p)
{
    zflow_msg_t *env = zflow_msg_new ();
    char *key_text = NULL;
    if (zflow_hub_subscriber_consume (sub, env, timeout) == 0) {
        size_t size;
        const void *wire = zflow_envelope_key (env, &size);
        zflow_key_t *key = zflow_key_decode (wire, size, NULL);
        CHECK (key);
        key_text = strdup (zflow_key_text (key));
        zflow_key_destroy (&key);
        if (text_p)
            *text_p = zflow_msg_strdup (env, ZFLOW_ENVELOPE_PAYLOAD);
    }
    zflow_msg_destroy (&env);
    return key_text;
}

//  Polls a stats counter of a subscriber until it reaches at least value.
static inline uint64_t wait_sub_stat (zflow_hub_subscriber_t *sub, const char *name, uint64_t value,
                                      int timeout)
{
    int64_t deadline = zclock_mono () + timeout;
    uint64_t now = 0;
    while (true) {
        zhash_t *stats = zflow_hub_subscriber_stats (sub, 1000);
        now = zflow_actor_stats_get (stats, name);
        zhash_destroy (&stats);
        if (now >= value || zclock_mono () > deadline)
            return now;
        zclock_sleep (2);
    }
}

#endif
