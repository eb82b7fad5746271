/*  hub_peer - a second process for the hub tests: a remote subscriber or a
    remote publisher on a hub's ipc:// or tcp:// endpoint.

        hub_peer sub <endpoint> <pattern> <count> [<server public> <public> <secret>]
            subscribes, consumes count messages whose payload is their
            sequence number 0..count-1, and exits 0 when all came in order
            (1: bad arguments or setup, 2: timeout, 3: out of order)
        hub_peer pub <endpoint> <key> <count> [<server public> <public> <secret>]
            publishes count messages with payloads 0..count-1, drains, exits 0

    CURVE keys are Z85 text. */
#include "zflow.h"
#include <stdio.h>

static int s_sub (const char *endpoint, const char *pattern_text, int count,
                  zflow_hub_curve_t *curve)
{
    int err = 0;
    zflow_hub_subscriber_t *sub = zflow_hub_subscriber_new_remote (endpoint, "peer", curve, &err);
    zflow_key_t *pattern = zflow_key_parse (pattern_text, NULL);
    if (!sub || !pattern || zflow_hub_subscriber_subscribe (sub, pattern) != 0) {
        fprintf (stderr, "hub_peer: cannot subscribe: %s\n", zflow_error_text (err));
        return 1;
    }
    zflow_msg_t *env = zflow_msg_new ();
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        if (zflow_hub_subscriber_consume (sub, env, 10000) != 0)
            rc = 2;
        else {
            char *text = zflow_msg_strdup (env, ZFLOW_ENVELOPE_PAYLOAD);
            if (!text || atoi (text) != i)
                rc = 3;
            free (text);
        }
    }
    printf ("hub_peer: sub %s\n", rc == 0 ? "ok" : rc == 2 ? "timeout" : "out of order");
    zflow_msg_destroy (&env);
    zflow_key_destroy (&pattern);
    zflow_hub_subscriber_destroy (&sub);
    return rc;
}

static int s_pub (const char *endpoint, const char *key_text, int count, zflow_hub_curve_t *curve)
{
    int err = 0;
    zflow_hub_publisher_t *pub = zflow_hub_publisher_new_remote (endpoint, NULL, curve, 5000, &err);
    zflow_key_t *key = zflow_key_parse (key_text, NULL);
    if (!pub || !key) {
        fprintf (stderr, "hub_peer: cannot publish: %s\n", zflow_error_text (err));
        return 1;
    }
    for (int i = 0; i < count; i++) {
        char text[16];
        snprintf (text, sizeof (text), "%d", i);
        if (zflow_hub_publisher_publish (pub, key, text, strlen (text)) == ZFLOW_DRAIN)
            zflow_hub_publisher_drain (pub, 10000);
    }
    int rc = zflow_hub_publisher_flush (pub, 10000) == 0 ? 0 : 2;
    zflow_key_destroy (&key);
    zflow_hub_publisher_destroy (&pub); //  lingers until sent
    return rc;
}

int main (int argc, char *argv[])
{
    if (argc != 5 && argc != 8) {
        fprintf (stderr,
                 "usage: hub_peer sub|pub <endpoint> <key> <count> [server public secret]\n");
        return 1;
    }
    zflow_hub_curve_t curve = {NULL, NULL, NULL};
    if (argc == 8) {
        curve.server_public = argv[5];
        byte public_key[32], secret_key[32];
        if (strlen (argv[6]) != 40 || strlen (argv[7]) != 40 ||
            !zmq_z85_decode (public_key, argv[6]) || !zmq_z85_decode (secret_key, argv[7]))
            return 1;
        curve.cert = zcert_new_from (public_key, secret_key);
        if (!curve.cert)
            return 1;
    }
    int count = atoi (argv[4]);
    int rc = streq (argv[1], "sub")   ? s_sub (argv[2], argv[3], count, argc == 8 ? &curve : NULL)
             : streq (argv[1], "pub") ? s_pub (argv[2], argv[3], count, argc == 8 ? &curve : NULL)
                                      : 1;
    zcert_destroy (&curve.cert);
    return rc;
}
