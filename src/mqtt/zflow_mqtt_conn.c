/*  =========================================================================
    zflow_mqtt_conn - one libmosquitto client in an actor's zloop: the
    socket poller, keepalive, reconnects with backoff (see
    zflow_mqtt_internal.h and, for why it is not mosquitto_loop_start's
    thread, include/zflow_mqtt.h)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"
#include "zflow_mqtt_internal.h"
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

//  How often mosquitto_loop_misc runs (keepalive pings, ping timeouts).
#define S_MISC_MS 500
//  How long a connect may wait for its CONNACK.
#define S_CONNACK_MS 10000
//  Packets read per readable event at most, so that one busy broker
//  socket cannot starve the actor's pipe and input.
#define S_READ_BURST 256

static pthread_once_t s_lib_once = PTHREAD_ONCE_INIT;

static void s_lib_init (void)
{
    mosquitto_lib_init (); //  once per process; never cleaned up (other users may remain)
}

static bool s_verbose (zflow__mqtt_conn_t *conn)
{
    return conn->base && zflow_actor_verbose (conn->base);
}

void zflow__mqtt_conn_reason (zflow__mqtt_conn_t *conn, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (conn->reason, sizeof (conn->reason), format, args);
    va_end (args);
    if (s_verbose (conn))
        zsys_debug ("%s: %s", conn->name, conn->reason);
}

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static void s_lost (zflow__mqtt_conn_t *conn, int rc);

//  Polls the socket for events (0: not at all).
static void s_poll (zflow__mqtt_conn_t *conn, int events)
{
    int fd = mosquitto_socket (conn->mosq);
    if (fd == conn->fd && events == conn->events)
        return;
    if (conn->fd >= 0) {
        zmq_pollitem_t old = {NULL, conn->fd, 0, 0};
        zloop_poller_end (conn->loop, &old);
    }
    conn->fd = -1;
    conn->events = 0;
    if (fd >= 0 && events) {
        zmq_pollitem_t item = {NULL, fd, (short) events, 0};
        if (zloop_poller (conn->loop, &item, s_on_socket, conn) == 0) {
            //  errors are libmosquitto's to report (its read fails)
            zloop_poller_set_tolerant (conn->loop, &item);
            conn->fd = fd;
            conn->events = events;
        }
    }
}

//  The events the socket needs now.
static int s_wanted (zflow__mqtt_conn_t *conn, bool want_write)
{
    return (conn->paused ? 0 : ZMQ_POLLIN) | (want_write ? ZMQ_POLLOUT : 0);
}

bool zflow__mqtt_conn_sync (zflow__mqtt_conn_t *conn)
{
    if (mosquitto_socket (conn->mosq) < 0)
        return false;
    bool want = mosquitto_want_write (conn->mosq);
    if (want) {
        int rc = mosquitto_loop_write (conn->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            s_lost (conn, rc);
            return false;
        }
        want = mosquitto_want_write (conn->mosq);
    }
    s_poll (conn, s_wanted (conn, want));
    //  whoever drained the socket (a POLLOUT, the misc timer, the owner's
    //  own call), the owner hears that it takes bytes again
    bool drained = conn->write_pending && !want;
    conn->write_pending = want;
    if (drained && conn->on_io)
        conn->on_io (conn->owner);
    return want;
}

void zflow__mqtt_conn_pause (zflow__mqtt_conn_t *conn, bool paused)
{
    if (conn->paused == paused)
        return;
    conn->paused = paused;
    if (mosquitto_socket (conn->mosq) >= 0)
        s_poll (conn, s_wanted (conn, mosquitto_want_write (conn->mosq)));
}

//  True when more may be read at once: bytes on the socket, or records
//  TLS has decrypted already (the socket then shows nothing).
static bool s_more (zflow__mqtt_conn_t *conn)
{
    SSL *ssl = (SSL *) mosquitto_ssl_get (conn->mosq);
    if (ssl && SSL_pending (ssl) > 0)
        return true;
    zmq_pollitem_t item = {NULL, mosquitto_socket (conn->mosq), ZMQ_POLLIN, 0};
    return item.fd >= 0 && zmq_poll (&item, 1, 0) == 1 && (item.revents & ZMQ_POLLIN);
}

static int s_on_socket (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    zflow__mqtt_conn_t *conn = (zflow__mqtt_conn_t *) arg;
    if (item->revents & (ZMQ_POLLOUT | ZMQ_POLLERR)) {
        int rc = mosquitto_loop_write (conn->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            s_lost (conn, rc);
            return 0;
        }
    }
    //  libmosquitto's loop_read takes about one packet per call
    for (int count = 0;
         count < S_READ_BURST && !conn->paused && (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR));
         count++) {
        int rc = mosquitto_loop_read (conn->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS) {
            s_lost (conn, rc);
            return 0;
        }
        if (mosquitto_socket (conn->mosq) < 0 || !s_more (conn))
            break;
    }
    zflow__mqtt_conn_sync (conn);
    return 0;
}

static int s_on_retry (zloop_t *loop, int timer_id, void *arg);

//  Arms the reconnect timer with the current backoff (random point in
//  its second half), then doubles the backoff.
static void s_schedule (zflow__mqtt_conn_t *conn)
{
    if (conn->stopping || conn->refused || conn->retry_timer >= 0)
        return;
    int delay = conn->backoff_ms / 2 + (int) (randof (conn->backoff_ms / 2 + 1));
    conn->retry_timer =
        zloop_timer (conn->loop, (size_t) (delay > 0 ? delay : 1), 1, s_on_retry, conn);
    conn->backoff_ms = conn->backoff_ms * 2 > conn->cf->backoff_max_ms ? conn->cf->backoff_max_ms
                                                                       : conn->backoff_ms * 2;
}

//  The connection is gone (rc: libmosquitto's code): stop polling, tell
//  the owner, try again later unless refused.
static void s_lost (zflow__mqtt_conn_t *conn, int rc)
{
    //  libmosquitto closed the socket (or the reconnect will); it keeps
    //  unacknowledged QoS 1/2 messages and sends them again after it
    s_poll (conn, 0);
    conn->connect_deadline = 0;
    bool was_up = conn->connected;
    conn->connected = false;
    if (was_up) {
        conn->disconnects++;
        zflow__mqtt_conn_reason (conn, "connection to %s:%d lost: %s", conn->cf->host,
                                 conn->cf->port, mosquitto_strerror (rc));
    } else if (!conn->refused)
        zflow__mqtt_conn_reason (conn, "cannot connect to %s:%d: %s", conn->cf->host,
                                 conn->cf->port,
                                 rc == MOSQ_ERR_ERRNO ? strerror (errno) : mosquitto_strerror (rc));
    if (was_up || conn->refused)
        conn->on_down (conn->owner);
    s_schedule (conn);
}

//  One connect attempt (the first, or a reconnect).
static void s_attempt (zflow__mqtt_conn_t *conn)
{
    if (conn->attempts++ && conn->connects)
        conn->reconnects++;
    //  the name lookup of the host blocks; the TCP connect does not
    int rc = conn->attempts == 1 ? mosquitto_connect_async (conn->mosq, conn->cf->host,
                                                            conn->cf->port, conn->cf->keepalive_s)
                                 : mosquitto_reconnect_async (conn->mosq);
    if (rc != MOSQ_ERR_SUCCESS) {
        s_lost (conn, rc);
        return;
    }
    conn->connect_deadline = zclock_mono () + S_CONNACK_MS;
    zflow__mqtt_conn_sync (conn);
}

static int s_on_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow__mqtt_conn_t *conn = (zflow__mqtt_conn_t *) arg;
    conn->retry_timer = -1;
    s_attempt (conn);
    return 0;
}

static int s_on_misc (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow__mqtt_conn_t *conn = (zflow__mqtt_conn_t *) arg;
    if (conn->connect_deadline && zclock_mono () > conn->connect_deadline) {
        s_lost (conn, MOSQ_ERR_TIMEOUT);
        return 0;
    }
    if (mosquitto_socket (conn->mosq) < 0)
        return 0;
    int rc = mosquitto_loop_misc (conn->mosq);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
        s_lost (conn, rc);
    else if (mosquitto_socket (conn->mosq) < 0) //  keepalive expired: it closed the socket
        s_lost (conn, MOSQ_ERR_KEEPALIVE);
    else
        zflow__mqtt_conn_sync (conn);
    return 0;
}

static void s_on_connect (struct mosquitto *mosq, void *arg, int rc)
{
    (void) mosq;
    zflow__mqtt_conn_t *conn = (zflow__mqtt_conn_t *) arg;
    conn->connect_deadline = 0;
    if (rc != 0) {
        //  a CONNACK refusal is the broker's decision: trying again would
        //  only repeat it (and a wrong password may lock the user out)
        conn->refused = true;
        zflow__mqtt_conn_reason (conn, "%s:%d refused the connection: %s", conn->cf->host,
                                 conn->cf->port, mosquitto_connack_string (rc));
        return;
    }
    conn->connected = true;
    conn->connects++;
    conn->backoff_ms = conn->cf->backoff_min_ms;
    if (s_verbose (conn))
        zsys_debug ("%s: connected to %s:%d", conn->name, conn->cf->host, conn->cf->port);
    conn->on_up (conn->owner);
}

int zflow__mqtt_conn_init (zflow__mqtt_conn_t *conn, const zflow_mqtt_config_t *cf,
                           zflow_actor_t *base, const char *name, void *owner)
{
    pthread_once (&s_lib_once, s_lib_init);
    conn->cf = cf;
    conn->base = base;
    conn->loop = zflow_actor_loop (base);
    conn->name = name;
    conn->owner = owner;
    conn->fd = -1;
    conn->retry_timer = -1;
    conn->misc_timer = -1;
    conn->backoff_ms = cf->backoff_min_ms;
    conn->mosq = mosquitto_new (cf->client_id, cf->clean_session, conn);
    if (!conn->mosq)
        return ZFLOW_ENOMEM;
    mosquitto_connect_callback_set (conn->mosq, s_on_connect);
    //  our own bound (max_inflight) holds back the sink; libmosquitto's
    //  default of 20 would queue behind it instead
    mosquitto_max_inflight_messages_set (conn->mosq, (unsigned int) cf->max_inflight);
    mosquitto_int_option (conn->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    if (cf->username && mosquitto_username_pw_set (conn->mosq, cf->username, cf->password))
        return ZFLOW_ECONFIG;
    if (cf->tls) {
        if (mosquitto_tls_set (conn->mosq, cf->ca_file, NULL, NULL, NULL, NULL))
            return ZFLOW_ECONFIG;
        if (!cf->ca_file)
            mosquitto_int_option (conn->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
        if (cf->insecure)
            mosquitto_tls_insecure_set (conn->mosq, true);
    }
    conn->misc_timer = zloop_timer (conn->loop, S_MISC_MS, 0, s_on_misc, conn);
    return 0;
}

void zflow__mqtt_conn_start (zflow__mqtt_conn_t *conn)
{
    s_attempt (conn);
}

void zflow__mqtt_conn_close (zflow__mqtt_conn_t *conn)
{
    conn->stopping = true;
    if (conn->loop) {
        s_poll (conn, 0);
        if (conn->retry_timer >= 0)
            zloop_timer_end (conn->loop, conn->retry_timer);
        if (conn->misc_timer >= 0)
            zloop_timer_end (conn->loop, conn->misc_timer);
    }
    conn->retry_timer = conn->misc_timer = -1;
    if (conn->mosq) {
        if (conn->connected) {
            mosquitto_disconnect (conn->mosq); //  queues DISCONNECT, closes
            mosquitto_loop_write (conn->mosq, 1);
        }
        mosquitto_destroy (conn->mosq);
        conn->mosq = NULL;
    }
}

void zflow__mqtt_conn_stats (zflow__mqtt_conn_t *conn, zmsg_t *reply)
{
    zflow_actor_stats_add (reply, "connected", conn->connected);
    zflow_actor_stats_add (reply, "connects", conn->connects);
    zflow_actor_stats_add (reply, "reconnects", conn->reconnects);
    zflow_actor_stats_add (reply, "disconnects", conn->disconnects);
    zflow_actor_stats_add (reply, "refused", conn->refused);
    zmsg_addstr (reply, "reason");
    zmsg_addstr (reply, conn->reason);
}

//  ---------------------------------------------------------------------
//  Configuration copies

static int s_dup (const char **field)
{
    if (*field && !(*field = strdup (*field)))
        return ZFLOW_ENOMEM;
    return 0;
}

int zflow__mqtt_config_copy (zflow_mqtt_config_t *dst, const zflow_mqtt_config_t *src,
                             const char *role)
{
    static uint32_t counter = 0;
    *dst = *src;
    if (!dst->host)
        dst->host = "127.0.0.1";
    if (!dst->port)
        dst->port = dst->tls ? ZFLOW_MQTT_TLS_PORT : ZFLOW_MQTT_PORT;
    if (!dst->key_prefix)
        dst->key_prefix = "mqtt";
    if (dst->keepalive_s <= 0)
        dst->keepalive_s = ZFLOW_MQTT_KEEPALIVE_S;
    if (dst->backoff_min_ms <= 0)
        dst->backoff_min_ms = ZFLOW_MQTT_BACKOFF_MIN_MS;
    if (dst->backoff_max_ms < dst->backoff_min_ms)
        dst->backoff_max_ms = dst->backoff_min_ms > ZFLOW_MQTT_BACKOFF_MAX_MS
                                  ? dst->backoff_min_ms
                                  : ZFLOW_MQTT_BACKOFF_MAX_MS;
    if (!dst->max_inflight)
        dst->max_inflight = ZFLOW_MQTT_MAX_INFLIGHT;
    if (!dst->max_payload || dst->max_payload > ZFLOW_MQTT_MAX_PAYLOAD)
        dst->max_payload = ZFLOW_MQTT_MAX_PAYLOAD;
    if (!dst->sndhwm)
        dst->sndhwm = ZFLOW_MQTT_SNDHWM;
    uint32_t n = __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED);
    char *id = dst->client_id ? NULL : zsys_sprintf ("zflow-%d-%u", (int) getpid (), n);
    char *endpoint = dst->endpoint
                         ? NULL
                         : zsys_sprintf ("inproc://zflow-mqtt-%s-%d-%u", role, (int) getpid (), n);
    int rc = 0;
    rc |= s_dup (&dst->host);
    rc |= s_dup (&dst->username);
    rc |= s_dup (&dst->password);
    rc |= s_dup (&dst->client_id);
    rc |= s_dup (&dst->ca_file);
    rc |= s_dup (&dst->filters);
    rc |= s_dup (&dst->key_prefix);
    rc |= s_dup (&dst->topic);
    rc |= s_dup (&dst->endpoint);
    if (id)
        dst->client_id = id;
    if (endpoint)
        dst->endpoint = endpoint;
    return rc ? ZFLOW_ENOMEM : 0;
}

void zflow__mqtt_config_free (zflow_mqtt_config_t *config)
{
    const char **fields[] = {&config->host,       &config->username, &config->password,
                             &config->client_id,  &config->ca_file,  &config->filters,
                             &config->key_prefix, &config->topic,    &config->endpoint};
    for (size_t index = 0; index < sizeof (fields) / sizeof (fields[0]); index++) {
        free ((char *) *fields[index]);
        *fields[index] = NULL;
    }
}

void zflow_mqtt_config_init (zflow_mqtt_config_t *config)
{
    if (!config)
        return;
    memset (config, 0, sizeof (*config));
    config->host = "127.0.0.1";
    config->port = ZFLOW_MQTT_PORT;
    config->clean_session = true;
    config->keepalive_s = ZFLOW_MQTT_KEEPALIVE_S;
    config->key_prefix = "mqtt";
    config->max_inflight = ZFLOW_MQTT_MAX_INFLIGHT;
    config->max_payload = ZFLOW_MQTT_MAX_PAYLOAD;
    config->backoff_min_ms = ZFLOW_MQTT_BACKOFF_MIN_MS;
    config->backoff_max_ms = ZFLOW_MQTT_BACKOFF_MAX_MS;
    config->sndhwm = ZFLOW_MQTT_SNDHWM;
}
