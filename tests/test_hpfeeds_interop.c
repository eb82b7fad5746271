/*  =========================================================================
    test_hpfeeds_interop - zflow against an independent implementation of
    hpfeeds (tests/hpfeeds/peer.py, Python standard library only): the
    Python client against the zflow broker, and zflow clients against the
    Python broker, so that both sides are not wrong together.

        test_hpfeeds_interop <python3> <peer.py>

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x)                                                                    \
    do {                                                                            \
        if (!(x)) {                                                                 \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #x); \
            abort ();                                                               \
        }                                                                           \
    } while (0)

static char *
s_wait_event (zflow_hpfeeds_t *client, int type)
{
    int64_t deadline = zclock_mono () + 5000;
    while (zclock_mono () < deadline) {
        int got = 0;
        char *text = zflow_hpfeeds_event (client, &got, (int) (deadline - zclock_mono ()));
        if (text && got == type)
            return text;
        zstr_free (&text);
    }
    return NULL;
}

//  The Python client against the zflow broker.
static void
test_python_client (const char *python, const char *peer)
{
    zflow_hpfeeds_broker_t *broker = zflow_hpfeeds_broker_new ("zflow");
    const char *chans[] = {"chan1", "chan2", NULL};
    CHECK (zflow_hpfeeds_broker_add_user (broker, "alice", "sa", chans, chans) == 0);
    CHECK (zflow_hpfeeds_broker_add_user (broker, "bob", "sb", NULL, chans) == 0);
    int port = zflow_hpfeeds_broker_bind (broker, "127.0.0.1", 0);
    CHECK (port > 0);
    char command[1024];
    snprintf (command, sizeof (command), "'%s' '%s' client %d", python, peer, port);
    int status = system (command);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    zflow_hpfeeds_broker_destroy (&broker);
}

//  zflow clients against the Python broker.
static void
test_python_broker (const char *python, const char *peer)
{
    char dir[] = "/tmp/zflow_hpf_interop_XXXXXX";
    CHECK (mkdtemp (dir));
    char port_file[256], command[1024];
    snprintf (port_file, sizeof (port_file), "%s/port", dir);
    snprintf (command, sizeof (command), "'%s' '%s' broker '%s'", python, peer, port_file);
    FILE *broker = popen (command, "w");     //  it runs until we close its stdin
    CHECK (broker);
    int port = 0;
    for (int tries = 0; tries < 200 && port == 0; tries++) {
        FILE *file = fopen (port_file, "r");
        if (file) {
            CHECK (fscanf (file, "%d", &port) == 1);
            fclose (file);
        }
        else
            zclock_sleep (25);
    }
    CHECK (port > 0);
    zflow_hpfeeds_t *bob = zflow_hpfeeds_new ("127.0.0.1", port, "bob", "sb");
    zflow_hpfeeds_t *alice = zflow_hpfeeds_new ("127.0.0.1", port, "alice", "sa");
    CHECK (bob && alice);
    CHECK (zflow_hpfeeds_subscribe (bob, "chan1") == 0);
    char *text = s_wait_event (bob, ZFLOW_HPFEEDS_EVENT_CONNECTED);
    CHECK (text && strstr (text, "pybroker"));
    zstr_free (&text);
    text = s_wait_event (alice, ZFLOW_HPFEEDS_EVENT_CONNECTED);
    CHECK (text);
    zstr_free (&text);
    zclock_sleep (200);
    uint8_t payload[1200];
    for (int index = 0; index < 1000; index++) {
        for (size_t byte = 0; byte < sizeof (payload); byte++)
            payload[byte] = (uint8_t) (byte * 7 + (size_t) index);
        CHECK (zflow_hpfeeds_publish (alice, "chan1", payload, (size_t) index + 1) == 0);
    }
    zflow_msg_t *msg = zflow_msg_new ();
    for (int index = 0; index < 1000; index++) {
        CHECK (zflow_hpfeeds_read (bob, msg, 5000) == 0);
        char channel[256], ident[256];
        const void *data;
        size_t size;
        CHECK (zflow_hpfeeds_unpack (msg, channel, ident, &data, &size) == 0);
        CHECK (streq (channel, "chan1") && streq (ident, "alice"));
        CHECK (size == (size_t) index + 1);
        for (size_t byte = 0; byte < size; byte++)
            CHECK (((const uint8_t *) data)[byte] == (uint8_t) (byte * 7 + (size_t) index));
    }
    //  the Python broker's refusals reach zflow as events
    zflow_hpfeeds_t *eve = zflow_hpfeeds_new ("127.0.0.1", port, "bob", "wrong");
    text = s_wait_event (eve, ZFLOW_HPFEEDS_EVENT_ERROR);
    CHECK (text && streq (text, "Authentication failed for bob"));
    zstr_free (&text);
    CHECK (zflow_hpfeeds_subscribe (bob, "secret") == 0);
    text = s_wait_event (bob, ZFLOW_HPFEEDS_EVENT_ERROR);
    CHECK (text && streq (text, "Authkey not allowed to sub here. ident=bob, chan=secret"));
    zstr_free (&text);
    printf ("zflow clients against peer.py broker: 1000 messages, refusals seen\n");
    zflow_msg_destroy (&msg);
    zflow_hpfeeds_destroy (&eve);
    zflow_hpfeeds_destroy (&alice);
    zflow_hpfeeds_destroy (&bob);
    pclose (broker);
    unlink (port_file);
    rmdir (dir);
}

int
main (int argc, char *argv[])
{
    if (argc < 3) {
        fprintf (stderr, "usage: test_hpfeeds_interop <python3> <peer.py>\n");
        return 2;
    }
    test_python_client (argv[1], argv[2]);
    test_python_broker (argv[1], argv[2]);
    printf ("test_hpfeeds_interop: OK\n");
    return 0;
}
