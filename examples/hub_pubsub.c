/*  =========================================================================
    hub_pubsub - the aiopubsub README example, in C with zflow's hub

    A hub, a publisher with prefix ("a"), a subscriber on ("a","b","*"):
    publishing ("b","c") delivers ("a","b","c") to the subscriber's queue
    and to a sync listener that prints it. A second subscriber watches the
    hub's addedSubscriber / removedSubscriber notices.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>

//  Prints "<key> <payload>" for an envelope.
static void print_message (const zflow_msg_t *envelope, void *arg)
{
    size_t key_size, size;
    const void *wire = zflow_envelope_key (envelope, &key_size);
    const char *payload = (const char *) zflow_envelope_payload (envelope, &size);
    zflow_key_t *key = zflow_key_decode (wire, key_size, NULL);
    printf ("%s%s %.*s\n", (const char *) arg, key ? zflow_key_text (key) : "?", (int) size,
            payload);
    zflow_key_destroy (&key);
}

//  Prints one hub notice from the watcher's queue.
static void print_notice (zflow_hub_subscriber_t *watcher)
{
    zflow_msg_t *envelope = zflow_msg_new ();
    while (zflow_hub_subscriber_consume (watcher, envelope, 100) == 0) {
        size_t key_size, size;
        const void *wire = zflow_envelope_key (envelope, &key_size);
        const void *payload = zflow_envelope_payload (envelope, &size);
        zflow_key_t *key = zflow_key_decode (wire, key_size, NULL);
        zflow_key_t *pattern = NULL;
        uint64_t count = 0;
        if (key && zflow_hub_notice_decode (payload, size, &pattern, &count) == 0)
            printf ("notice %s: {\"key\": %s, \"currentSubscriberCount\": %" PRIu64 "}\n",
                    zflow_key_at (key, 1), zflow_key_text (pattern), count);
        zflow_key_destroy (&pattern);
        zflow_key_destroy (&key);
    }
    zflow_msg_destroy (&envelope);
}

int main (void)
{
    int err = 0;
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "example"}, &err);
    if (!hub) {
        fprintf (stderr, "hub: %s\n", zflow_error_text (err));
        return 1;
    }
    zflow_hub_subscriber_t *watcher = zflow_hub_subscriber_new (hub, "watcher", NULL);
    zflow_key_t *added = zflow_key_new ("Hub", "addedSubscriber", "a", "*", NULL);
    zflow_key_t *removed = zflow_key_new ("Hub", "removedSubscriber", "a", "*", NULL);
    zflow_hub_subscriber_subscribe (watcher, added);
    zflow_hub_subscriber_subscribe (watcher, removed);

    zflow_key_t *prefix = zflow_key_new ("a", NULL);
    zflow_hub_publisher_t *publisher = zflow_hub_publisher_new (hub, prefix, NULL);
    zflow_hub_subscriber_t *subscriber = zflow_hub_subscriber_new (hub, "subscriber_id", NULL);

    zflow_key_t *sub_key = zflow_key_new ("a", "b", "*", NULL);
    zflow_hub_subscriber_subscribe (subscriber, sub_key);
    int listener =
        zflow_hub_subscriber_add_sync_listener (subscriber, sub_key, print_message, "listener: ");
    print_notice (watcher);

    zflow_key_t *pub_key = zflow_key_new ("b", "c", NULL);
    printf ("has_subscribers (a/b/c): %d\n",
            zflow_hub_publisher_has_subscribers (publisher, pub_key));
    zflow_hub_publisher_publish (publisher, pub_key, "Hello subscriber", 16);
    zflow_hub_publisher_flush (publisher, 1000);

    zflow_msg_t *envelope = zflow_msg_new ();
    if (zflow_hub_subscriber_consume (subscriber, envelope, 1000) == 0)
        print_message (envelope, "consume: ");
    zflow_msg_destroy (&envelope);

    printf ("removed %d listener(s) (id %d)\n",
            zflow_hub_subscriber_remove_all_listeners (subscriber), listener);
    zflow_hub_subscriber_unsubscribe (subscriber, sub_key);
    print_notice (watcher);

    zflow_key_destroy (&pub_key);
    zflow_key_destroy (&sub_key);
    zflow_key_destroy (&prefix);
    zflow_key_destroy (&added);
    zflow_key_destroy (&removed);
    zflow_hub_subscriber_destroy (&subscriber);
    zflow_hub_publisher_destroy (&publisher);
    zflow_hub_subscriber_destroy (&watcher);
    zflow_hub_destroy (&hub);
    return 0;
}
