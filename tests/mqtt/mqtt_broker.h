/*  =========================================================================
    mqtt_broker - a real mosquitto broker for the MQTT tests and benchmark

    mqtt_broker_start writes a configuration (a plain listener on a free
    loopback port, plus the caller's lines: password_file, a TLS listener,
    persistence...) into a fresh directory and runs the mosquitto given at
    build time (ZFLOW_MOSQUITTO) on it; it returns once the port accepts
    connections. A missing mosquitto fails with a message naming the
    package (never a skip).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef MQTT_BROKER_H_INCLUDED
#define MQTT_BROKER_H_INCLUDED

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

//  A running broker.
typedef struct {
    pid_t pid;        //  the mosquitto process, or 0
    int port;         //  its plain listener
    char dir[128];    //  its directory (configuration, log, persistence)
    char extra[2048]; //  the caller's configuration lines
} mqtt_broker_t;

//  A TCP port free on 127.0.0.1 right now.
static int mqtt_broker_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t size = sizeof (addr);
    if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof (addr)) ||
        getsockname (fd, (struct sockaddr *) &addr, &size)) {
        fprintf (stderr, "mqtt_broker: no free port\n");
        exit (1);
    }
    close (fd);
    return ntohs (addr.sin_port);
}

//  True when 127.0.0.1:port accepts a connection.
static bool mqtt_broker_listening (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons ((uint16_t) port),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    bool up = fd >= 0 && connect (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0;
    if (fd >= 0)
        close (fd);
    return up;
}

//  (Re)starts the broker of self (self->port and self->extra set, or port
//  0 for a free one). Exits the program when it cannot.
static void mqtt_broker_run (mqtt_broker_t *self)
{
    if (access (ZFLOW_MOSQUITTO, X_OK)) {
        fprintf (stderr,
                 "FAIL: %s is missing: install Debian's mosquitto (scripts/install-deps.sh)\n",
                 ZFLOW_MOSQUITTO);
        exit (1);
    }
    if (!*self->dir) {
        snprintf (self->dir, sizeof (self->dir), "/tmp/zflow-mqtt-XXXXXX");
        if (!mkdtemp (self->dir)) {
            fprintf (stderr, "mqtt_broker: mkdtemp failed\n");
            exit (1);
        }
    }
    //  mosquitto started as root runs as user mosquitto: let it write here
    chmod (self->dir, 0777);
    if (!self->port)
        self->port = mqtt_broker_free_port ();
    char path[256];
    snprintf (path, sizeof (path), "%s/mosquitto.conf", self->dir);
    FILE *file = fopen (path, "w");
    fprintf (file, "per_listener_settings false\nlistener %d 127.0.0.1\n%s\n", self->port,
             self->extra);
    if (!strstr (self->extra, "allow_anonymous"))
        fprintf (file, "allow_anonymous true\n");
    if (!strstr (self->extra, "max_queued_messages"))
        fprintf (file, "max_queued_messages 0\n");
    fprintf (file, "persistence_location %s/\nlog_dest file %s/mosquitto.log\n", self->dir,
             self->dir);
    fclose (file);
    self->pid = fork ();
    if (self->pid == 0) {
        execl (ZFLOW_MOSQUITTO, "mosquitto", "-c", path, (char *) NULL);
        _exit (127);
    }
    for (int i = 0; i < 500 && !mqtt_broker_listening (self->port); i++)
        zclock_sleep (10);
    if (!mqtt_broker_listening (self->port)) {
        fprintf (stderr, "mqtt_broker: mosquitto did not listen on %d (see %s)\n", self->port,
                 self->dir);
        exit (1);
    }
}

//  Stops the broker (SIGTERM: it saves its persistence file) and waits.
static void mqtt_broker_stop (mqtt_broker_t *self)
{
    if (self->pid > 0) {
        kill (self->pid, SIGTERM);
        waitpid (self->pid, NULL, 0);
    }
    self->pid = 0;
}

//  Stops the broker and removes its directory.
static void mqtt_broker_destroy (mqtt_broker_t *self)
{
    mqtt_broker_stop (self);
    if (*self->dir) {
        char command[300];
        snprintf (command, sizeof (command), "rm -rf '%s'", self->dir);
        if (system (command) != 0)
            fprintf (stderr, "mqtt_broker: cannot remove %s\n", self->dir);
    }
}

#endif
