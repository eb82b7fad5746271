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

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #x);                 \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

static char *s_wait_event (zflow_hpfeeds_t *client, int type)
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
static void test_python_client (const char *python, const char *peer)
{
    zflow_hpfeeds_broker_t *broker =
        zflow_hpfeeds_broker_new (&(zflow_hpfeeds_broker_config_t){.name = "zflow"}, NULL);
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

//  Starts peer.py as a broker (TLS when tls_dir is set); returns its port.
static FILE *s_python_broker (const char *python, const char *peer, const char *dir,
                              const char *tls_dir, int *port_p)
{
    char port_file[256], command[1024];
    snprintf (port_file, sizeof (port_file), "%s/port", dir);
    unlink (port_file);
    if (tls_dir)
        snprintf (command, sizeof (command), "'%s' '%s' broker '%s' '%s/cert.pem' '%s/key.pem'",
                  python, peer, port_file, tls_dir, tls_dir);
    else
        snprintf (command, sizeof (command), "'%s' '%s' broker '%s'", python, peer, port_file);
    FILE *broker = popen (command, "w"); //  it runs until we close its stdin
    CHECK (broker);
    int port = 0;
    for (int tries = 0; tries < 200 && port == 0; tries++) {
        FILE *file = fopen (port_file, "r");
        if (file) {
            CHECK (fscanf (file, "%d", &port) == 1);
            fclose (file);
        } else
            zclock_sleep (25);
    }
    CHECK (port > 0);
    unlink (port_file);
    *port_p = port;
    return broker;
}

//  A client with the defaults, on 127.0.0.1:port.
static zflow_hpfeeds_t *s_client (int port, const char *ident, const char *secret)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = ident;
    config.secret = secret;
    return zflow_hpfeeds_new (&config, NULL);
}

//  zflow clients against the Python broker.
static void test_python_broker (const char *python, const char *peer)
{
    char dir[] = "/tmp/zflow_hpf_interop_XXXXXX";
    CHECK (mkdtemp (dir));
    int port;
    FILE *broker = s_python_broker (python, peer, dir, NULL, &port);
    zflow_hpfeeds_t *bob = s_client (port, "bob", "sb");
    zflow_hpfeeds_t *alice = s_client (port, "alice", "sa");
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
    zflow_hpfeeds_t *eve = s_client (port, "bob", "wrong");
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
    rmdir (dir);
}

static zflow_hpfeeds_t *s_tls_client (int port, const char *ca_file, bool verify)
{
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = "alice";
    config.secret = "sa";
    config.tls = true;
    config.tls_ca_file = ca_file;
    config.tls_verify = verify;
    config.refused_backoff_ms = 300;
    config.outbox_policy = ZFLOW_HPFEEDS_BLOCK; //  22 MB go out faster than TLS takes them
    int rc = 0;
    zflow_hpfeeds_t *client = zflow_hpfeeds_new (&config, &rc);
    CHECK (client && rc == 0);
    return client;
}

//  TLS: against the Python broker with a self-signed certificate.
static void test_tls (const char *python, const char *peer)
{
    char dir[] = "/tmp/zflow_hpf_tls_XXXXXX";
    CHECK (mkdtemp (dir));
    char command[1024], ca_file[300];
    snprintf (command, sizeof (command),
              "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=localhost "
              "-addext subjectAltName=IP:127.0.0.1,DNS:localhost > /dev/null 2>&1",
              dir, dir);
    if (system (command) != 0) {
        printf ("TLS: skipped (the openssl command is not available)\n");
        rmdir (dir);
        return;
    }
    snprintf (ca_file, sizeof (ca_file), "%s/cert.pem", dir);
    int port;
    FILE *broker = s_python_broker (python, peer, dir, dir, &port);
    //  trusted certificate: round trips, with payloads that span many
    //  TLS records
    zflow_hpfeeds_t *alice = s_tls_client (port, ca_file, true);
    CHECK (zflow_hpfeeds_subscribe (alice, "chan2") == 0);
    char *text = s_wait_event (alice, ZFLOW_HPFEEDS_EVENT_CONNECTED);
    CHECK (text);
    zstr_free (&text);
    zclock_sleep (200);
    size_t sizes[] = {0, 1, 100, 16383, 16384, 16385, 70000, 500000};
    size_t count = sizeof (sizes) / sizeof (sizes[0]);
    uint8_t *payload = (uint8_t *) malloc (500000);
    for (size_t index = 0; index < 500000; index++)
        payload[index] = (uint8_t) (index % 251);
    for (int round = 0; round < 20; round++)
        for (size_t index = 0; index < count; index++)
            CHECK (zflow_hpfeeds_publish (alice, "chan2", payload, sizes[index]) == 0);
    zflow_msg_t *msg = zflow_msg_new ();
    for (int round = 0; round < 20; round++)
        for (size_t index = 0; index < count; index++) {
            CHECK (zflow_hpfeeds_read (alice, msg, 5000) == 0);
            const void *data;
            size_t size;
            CHECK (zflow_hpfeeds_unpack (msg, NULL, NULL, &data, &size) == 0);
            if (size != sizes[index])
                printf ("round %d index %zu: got %zu bytes, expected %zu\n", round, index, size,
                        sizes[index]);
            CHECK (size == sizes[index] && (size == 0 || memcmp (data, payload, size) == 0));
        }
    zflow_hpfeeds_destroy (&alice);
    //  not trusted (the system's store does not know it): a clear error
    alice = s_tls_client (port, NULL, true);
    text = s_wait_event (alice, ZFLOW_HPFEEDS_EVENT_ERROR);
    CHECK (text && strstr (text, "certificate verify failed"));
    printf ("TLS with an unknown certificate: %s\n", text);
    zstr_free (&text);
    zflow_hpfeeds_destroy (&alice);
    //  verification turned off: it connects
    alice = s_tls_client (port, NULL, false);
    text = s_wait_event (alice, ZFLOW_HPFEEDS_EVENT_CONNECTED);
    CHECK (text);
    zstr_free (&text);
    zflow_hpfeeds_destroy (&alice);
    //  an unreadable CA file is a configuration error
    zflow_hpfeeds_config_t config;
    zflow_hpfeeds_config_init (&config);
    config.port = port;
    config.ident = "alice";
    config.secret = "sa";
    config.tls = true;
    config.tls_ca_file = "/nonexistent/ca.pem";
    int rc = 0;
    CHECK (zflow_hpfeeds_new (&config, &rc) == NULL && rc == ZFLOW_ECONFIG);
    printf ("TLS: %zu payload sizes x 20 rounds through a TLS broker\n", count);
    free (payload);
    zflow_msg_destroy (&msg);
    pclose (broker);
    snprintf (command, sizeof (command), "rm -rf '%s'", dir);
    CHECK (system (command) == 0);
}

int main (int argc, char *argv[])
{
    setvbuf (stdout, NULL, _IONBF, 0);
    if (argc < 3) {
        fprintf (stderr, "usage: test_hpfeeds_interop <python3> <peer.py>\n");
        return 2;
    }
    test_python_client (argv[1], argv[2]);
    test_python_broker (argv[1], argv[2]);
    test_tls (argv[1], argv[2]);
    printf ("test_hpfeeds_interop: OK\n");
    return 0;
}
