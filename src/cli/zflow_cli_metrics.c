/*  =========================================================================
    zflow_cli_metrics - Prometheus text over HTTP, /metrics and /health

    A listening TCP socket of our own in the run's zloop (not a ZMQ_STREAM
    socket: libzmq accepts on its own thread, spins there when the process
    is out of file descriptors and lets us set no limit). Every connection
    is non-blocking and bounded: its request is gathered until the end of
    its headers (at most S_REQUEST_MAX bytes, however many TCP segments it
    takes), parsed (request line and header lines checked), answered once
    and closed (HTTP/1.1 with "Connection: close", which is all a
    Prometheus scraper or curl needs). A connection that has not sent its
    request or taken its answer within S_IDLE_MS is closed; at
    S_MAX_CONNECTIONS the listener is not polled (new connections wait in
    the kernel's backlog) until one closes; when accept fails for want of
    file descriptors (EMFILE) the listener rests for S_BACKOFF_MS instead
    of being polled in a busy loop.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

//  Largest request head (request line and headers) accepted: 431 beyond.
#define S_REQUEST_MAX 8192
//  Time a connection has to send its request and take its answer.
#define S_IDLE_MS 5000
//  Connections served at once; more wait in the listen backlog.
#define S_MAX_CONNECTIONS 64
//  Rest of the listener after accept ran out of file descriptors.
#define S_BACKOFF_MS 250
//  How often idle connections are looked for.
#define S_SWEEP_MS 250

//  The per-stage counters served, and their Prometheus types and help.
static const struct {
    const char *counter;
    const char *type;
    const char *help;
} s_metrics[] = {
    {"msgs_in", "counter", "Messages taken in by a stage."},
    {"bytes_in", "counter", "Payload bytes taken in by a stage."},
    {"msgs_out", "counter", "Messages passed on (or written) by a stage."},
    {"bytes_out", "counter", "Payload bytes passed on by a stage."},
    {"drops", "counter", "Messages dropped by policy (lossy mode)."},
    {"filtered", "counter", "Messages a filter did not keep."},
    {"errors", "counter", "Messages lost to a map error or a dead output."},
    {"pauses", "counter", "Times a stage stopped reading its input (backpressure)."},
    {"reconnects", "counter", "Times an adapter's connection was lost and made again."},
    {"queue_depth", "gauge", "Messages waiting in a stage's buffers."},
};

//  Writes the metrics of every stage into a new text (the caller frees it).
//  The counters come from the poller's cache: this never waits for a stage.
static char *s_metrics_text (zflow_cli_poll_t *poll)
{
    zflow_pipeline_t *pipeline = zflow_cli_poll_pipeline (poll);
    size_t count = zflow_pipeline_size (pipeline);
    zhash_t **stats = (zhash_t **) zmalloc (sizeof (zhash_t *) * (count + 1));
    int64_t *ages = (int64_t *) zmalloc (sizeof (int64_t) * (count + 1));
    for (size_t i = 0; i < count; i++)
        stats[i] = zflow_cli_poll_get (poll, i, &ages[i]);
    char *text = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&text, &size);
    for (size_t m = 0; file && m < sizeof (s_metrics) / sizeof (s_metrics[0]); m++) {
        const char *suffix = streq (s_metrics[m].type, "counter") ? "_total" : "";
        fprintf (file, "# HELP zflow_%s%s %s\n# TYPE zflow_%s%s %s\n", s_metrics[m].counter, suffix,
                 s_metrics[m].help, s_metrics[m].counter, suffix, s_metrics[m].type);
        for (size_t i = 0; i < count; i++)
            fprintf (file, "zflow_%s%s{stage=\"%s\",kind=\"%s\"} %" PRIu64 "\n",
                     s_metrics[m].counter, suffix, zflow_pipeline_stage_name (pipeline, i),
                     zflow_pipeline_stage_kind (pipeline, i),
                     zflow_actor_stats_get (stats[i], s_metrics[m].counter));
    }
    if (file) {
        fprintf (file, "# HELP zflow_link_drops_total Messages dropped at one output link.\n"
                       "# TYPE zflow_link_drops_total counter\n");
        for (size_t i = 0; i < count; i++)
            for (const char *value = stats[i] ? (const char *) zhash_first (stats[i]) : NULL; value;
                 value = (const char *) zhash_next (stats[i]))
                if (strncmp (zhash_cursor (stats[i]), "drops.", 6) == 0)
                    fprintf (file, "zflow_link_drops_total{stage=\"%s\",link=\"%s\"} %s\n",
                             zflow_pipeline_stage_name (pipeline, i), zhash_cursor (stats[i]) + 6,
                             value);
        fprintf (file,
                 "# HELP zflow_stats_age_seconds Age of the counters served (absent: none yet).\n"
                 "# TYPE zflow_stats_age_seconds gauge\n");
        for (size_t i = 0; i < count; i++)
            if (ages[i] >= 0)
                fprintf (file, "zflow_stats_age_seconds{stage=\"%s\",kind=\"%s\"} %.3f\n",
                         zflow_pipeline_stage_name (pipeline, i),
                         zflow_pipeline_stage_kind (pipeline, i), (double) ages[i] / 1000.0);
        fclose (file);
    }
    for (size_t i = 0; i < count; i++)
        zhash_destroy (&stats[i]);
    free (stats);
    free (ages);
    return text;
}

//  The /health answer: status 200 and "ok" when the pipeline runs and
//  every stage answered STATS lately; else 503 and "stale" (a stage has
//  not answered for the stale limit) or "stopped". Then one line per
//  stage: "stage kind age_ms ok|stale" (age -1: no answer yet).
static char *s_health_text (zflow_cli_poll_t *poll, bool *ok_p)
{
    zflow_pipeline_t *pipeline = zflow_cli_poll_pipeline (poll);
    char *lines = NULL;
    size_t size = 0;
    bool stale = false;
    FILE *file = open_memstream (&lines, &size);
    for (size_t i = 0; file && i < zflow_pipeline_size (pipeline); i++) {
        int64_t age;
        zhash_t *stats = zflow_cli_poll_get (poll, i, &age);
        zhash_destroy (&stats);
        bool old = zflow_cli_poll_stale (poll, age);
        stale = stale || old;
        fprintf (file, "%s %s %" PRId64 " %s\n", zflow_pipeline_stage_name (pipeline, i),
                 zflow_pipeline_stage_kind (pipeline, i), age, old ? "stale" : "ok");
    }
    if (file)
        fclose (file);
    bool running = zflow_pipeline_running (pipeline);
    char *body = zsys_sprintf ("%s\n%s",
                               !running ? "stopped"
                               : stale  ? "stale"
                                        : "ok",
                               lines ? lines : "");
    free (lines);
    *ok_p = running && !stale;
    return body;
}

//  ---------------------------------------------------------------------
//  Connections

//  One client connection.
typedef struct {
    zflow_cli_metrics_t *server; //  the server it belongs to
    int fd;                      //  its socket (non-blocking)
    int64_t deadline;            //  closed when still open at this time (monotonic ms)
    char request[S_REQUEST_MAX]; //  the request head gathered so far
    size_t size;                 //  bytes in request
    char *response;              //  the answer being written, or NULL (owned)
    size_t response_size;        //  its size
    size_t response_sent;        //  bytes of it written
    void *next_dead;             //  the next closed connection waiting to be freed
} s_conn_t;

struct _zflow_cli_metrics_t {
    int listener;                       //  the listening socket
    char address[INET6_ADDRSTRLEN + 8]; //  "host:port" it is bound to
    zloop_t *loop;                      //  the loop serving it, NULL before serve
    zflow_cli_poll_t *poll;             //  the counters served (not owned)
    bool listening;                     //  the listener is polled
    int backoff_timer;                  //  the listener rests (EMFILE), -1 when not
    int sweep_timer;                    //  looks for idle connections, -1 before serve
    s_conn_t *conns[S_MAX_CONNECTIONS]; //  open connections (NULL: free slot)
    size_t count;                       //  how many
    s_conn_t *dead;                     //  closed connections, freed by the next sweep
};

static int s_on_listener (zloop_t *loop, zmq_pollitem_t *item, void *arg);
static int s_on_conn (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Polls (or stops polling) the listener: only while a slot is free and
//  accept is not resting.
static void s_listen (zflow_cli_metrics_t *self, bool on)
{
    on = on && self->count < S_MAX_CONNECTIONS && self->backoff_timer < 0;
    if (on == self->listening || !self->loop)
        return;
    zmq_pollitem_t item = {NULL, self->listener, ZMQ_POLLIN, 0};
    if (on) {
        zloop_poller (self->loop, &item, s_on_listener, self);
        zloop_poller_set_tolerant (self->loop, &item);
    } else
        zloop_poller_end (self->loop, &item);
    self->listening = on;
}

//  Sets the events polled on a connection's socket.
static void s_conn_poll (s_conn_t *conn, short events)
{
    zmq_pollitem_t item = {NULL, conn->fd, events, 0};
    zloop_poller_end (conn->server->loop, &item);
    zloop_poller (conn->server->loop, &item, s_on_conn, conn);
    zloop_poller_set_tolerant (conn->server->loop, &item);
}

//  Closes a connection and frees its slot. The connection itself is freed
//  by the next sweep: zloop may still call its poller handler in this turn
//  (a poll result from before a timer closed it), which then sees fd -1.
static void s_conn_close (s_conn_t *conn)
{
    zflow_cli_metrics_t *self = conn->server;
    zmq_pollitem_t item = {NULL, conn->fd, 0, 0};
    if (self->loop)
        zloop_poller_end (self->loop, &item);
    close (conn->fd);
    conn->fd = -1;
    for (size_t i = 0; i < S_MAX_CONNECTIONS; i++)
        if (self->conns[i] == conn)
            self->conns[i] = NULL;
    self->count--;
    conn->next_dead = self->dead;
    self->dead = conn;
    //  A descriptor is free now: accept may work again before the rest ends.
    if (self->backoff_timer >= 0 && self->loop) {
        zloop_timer_end (self->loop, self->backoff_timer);
        self->backoff_timer = -1;
    }
    s_listen (self, true);
}

//  Frees the connections closed before.
static void s_bury (zflow_cli_metrics_t *self)
{
    while (self->dead) {
        s_conn_t *conn = self->dead;
        self->dead = (s_conn_t *) conn->next_dead;
        free (conn->response);
        free (conn);
    }
}

//  Writes what the socket takes of the answer; closes once all is out.
static void s_conn_write (s_conn_t *conn)
{
    while (conn->response_sent < conn->response_size) {
        ssize_t n = send (conn->fd, conn->response + conn->response_sent,
                          conn->response_size - conn->response_sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            s_conn_poll (conn, ZMQ_POLLOUT);
            return;
        }
        if (n <= 0)
            break;
        conn->response_sent += (size_t) n;
    }
    shutdown (conn->fd, SHUT_WR);
    s_conn_close (conn);
}

//  Starts writing one answer (HEAD: the headers alone).
static void s_respond (s_conn_t *conn, bool head, int status, const char *reason, const char *type,
                       const char *body)
{
    conn->response = zsys_sprintf ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                   "Connection: close\r\n\r\n%s",
                                   status, reason, type, strlen (body), head ? "" : body);
    if (!conn->response) {
        s_conn_close (conn);
        return;
    }
    conn->response_size = strlen (conn->response);
    conn->deadline = zclock_mono () + S_IDLE_MS;
    s_conn_write (conn);
}

//  ---------------------------------------------------------------------
//  Requests

//  True for the characters of an HTTP token (RFC 9110 5.6.2).
static bool s_tchar (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr ("!#$%&'*+-.^_`|~", c));
}

//  Checks one header line "name: value" (no line end): a token, a colon,
//  then visible characters, spaces and tabs only.
static bool s_header_valid (const char *line, size_t size)
{
    size_t i = 0;
    while (i < size && s_tchar (line[i]))
        i++;
    if (i == 0 || i == size || line[i] != ':')
        return false; //  an empty name, no colon, or a folded line (RFC 9112 5.2)
    for (i++; i < size; i++)
        if ((unsigned char) line[i] < 0x20 ? line[i] != '\t' : line[i] == 0x7F)
            return false;
    return true;
}

//  Parses a whole request head (ended by an empty line) in data: the
//  request line "METHOD SP TARGET SP HTTP/1.x" and the header lines (lines
//  end in CRLF or LF). Fills method (16 bytes) and path (the target up to
//  '?', 256 bytes). Returns 0, 400 (malformed), 414 (target too long) or
//  505 (not HTTP/1.x).
static int s_parse (char *data, char *method, char *path)
{
    char *line = data;
    char *end = strchr (line, '\n');
    size_t size = (size_t) (end - line) - (end > line && end[-1] == '\r');
    size_t m = 0;
    while (m < size && s_tchar (line[m]))
        m++;
    if (m == 0 || m >= 16 || m == size || line[m] != ' ')
        return 400;
    memcpy (method, line, m);
    method[m] = 0;
    char *target = line + m + 1;
    char *space = memchr (target, ' ', size - m - 1);
    if (!space || space == target || target[0] != '/')
        return 400;
    size_t target_size = (size_t) (space - target);
    for (size_t i = 0; i < target_size; i++)
        if ((unsigned char) target[i] <= 0x20 || target[i] == 0x7F)
            return 400;
    size_t version_size = size - (size_t) (space + 1 - line);
    if (version_size != 8 || strncmp (space + 1, "HTTP/1.", 7) || space[8] < '0' || space[8] > '9')
        return strncmp (space + 1, "HTTP/", 5) == 0 ? 505 : 400;
    size_t path_size = strcspn (target, "? ");
    if (path_size >= 256)
        return 414;
    memcpy (path, target, path_size);
    path[path_size] = 0;
    for (line = end + 1; *line != '\n' && !(line[0] == '\r' && line[1] == '\n'); line = end + 1) {
        end = strchr (line, '\n');
        size = (size_t) (end - line) - (end > line && end[-1] == '\r');
        if (!s_header_valid (line, size))
            return 400;
    }
    return 0;
}

//  Answers a whole request.
static void s_answer (s_conn_t *conn)
{
    char method[16] = "", path[256] = "";
    int status = s_parse (conn->request, method, path);
    bool head = streq (method, "HEAD");
    if (status == 400)
        s_respond (conn, false, 400, "Bad Request", "text/plain", "malformed request\n");
    else if (status == 414)
        s_respond (conn, false, 414, "URI Too Long", "text/plain", "target too long\n");
    else if (status == 505)
        s_respond (conn, false, 505, "HTTP Version Not Supported", "text/plain", "HTTP/1.x only\n");
    else if (!streq (method, "GET") && !head)
        s_respond (conn, false, 405, "Method Not Allowed", "text/plain", "GET only\n");
    else if (streq (path, "/metrics")) {
        char *text = s_metrics_text (conn->server->poll);
        s_respond (conn, head, 200, "OK", "text/plain; version=0.0.4", text ? text : "");
        free (text);
    } else if (streq (path, "/health")) {
        bool ok;
        char *text = s_health_text (conn->server->poll, &ok);
        s_respond (conn, head, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain",
                   text ? text : "");
        zstr_free (&text);
    } else
        s_respond (conn, head, 404, "Not Found", "text/plain", "try /metrics or /health\n");
}

//  True once data (size bytes) holds the empty line that ends a head.
static bool s_head_complete (const char *data, size_t size)
{
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '\n' &&
            (data[i + 1] == '\n' || (data[i + 1] == '\r' && i + 2 < size && data[i + 2] == '\n')))
            return true;
    return false;
}

//  Reads what came; answers once the head is whole.
static void s_conn_read (s_conn_t *conn)
{
    size_t room = sizeof (conn->request) - 1 - conn->size;
    ssize_t n = recv (conn->fd, conn->request + conn->size, room, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        s_conn_close (conn); //  gone before its request was whole
        return;
    }
    //  Look again from the end of the last read, less the 3 bytes an end
    //  of head may straddle.
    size_t from = conn->size > 3 ? conn->size - 3 : 0;
    conn->size += (size_t) n;
    conn->request[conn->size] = 0;
    if (memchr (conn->request + from, 0, conn->size - from)) {
        s_respond (conn, false, 400, "Bad Request", "text/plain", "NUL in request\n");
        return;
    }
    if (s_head_complete (conn->request + from, conn->size - from)) {
        s_conn_poll (conn, 0);
        s_answer (conn);
    } else if (conn->size == sizeof (conn->request) - 1)
        s_respond (conn, false, 431, "Request Header Fields Too Large", "text/plain",
                   "request head too large\n");
}

static int s_on_conn (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    s_conn_t *conn = (s_conn_t *) arg;
    if (conn->fd < 0)
        return 0; //  closed earlier in this turn
    if (conn->response)
        s_conn_write (conn);
    else if (item->revents & (ZMQ_POLLIN | ZMQ_POLLERR))
        s_conn_read (conn);
    return 0;
}

//  ---------------------------------------------------------------------
//  Accepting and timers

static int s_on_backoff (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_cli_metrics_t *self = (zflow_cli_metrics_t *) arg;
    self->backoff_timer = -1;
    s_listen (self, true);
    return 0;
}

//  Accepts the connections waiting, while slots are free.
static int s_on_listener (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) item;
    zflow_cli_metrics_t *self = (zflow_cli_metrics_t *) arg;
    while (self->count < S_MAX_CONNECTIONS) {
        int fd = accept4 (self->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                //  The backlog stays readable: polling it now would spin.
                s_listen (self, false);
                self->backoff_timer = zloop_timer (loop, S_BACKOFF_MS, 1, s_on_backoff, self);
            }
            break; //  EAGAIN: none left; anything else: the next poll retries
        }
        s_conn_t *conn = (s_conn_t *) calloc (1, sizeof (s_conn_t));
        if (!conn) {
            close (fd);
            break;
        }
        conn->server = self;
        conn->fd = fd;
        conn->deadline = zclock_mono () + S_IDLE_MS;
        for (size_t i = 0; i < S_MAX_CONNECTIONS; i++)
            if (!self->conns[i]) {
                self->conns[i] = conn;
                break;
            }
        self->count++;
        s_conn_poll (conn, ZMQ_POLLIN);
    }
    s_listen (self, true); //  off at the limit, on again below it
    return 0;
}

//  Closes the connections past their deadline.
static int s_on_sweep (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    zflow_cli_metrics_t *self = (zflow_cli_metrics_t *) arg;
    s_bury (self); //  timers run before pollers: none of these is in this turn's poll
    int64_t now = zclock_mono ();
    for (size_t i = 0; i < S_MAX_CONNECTIONS; i++)
        if (self->conns[i] && now >= self->conns[i]->deadline)
            s_conn_close (self->conns[i]);
    return 0;
}

//  ---------------------------------------------------------------------
//  Public (internal) API

//  Splits "host:port", "[v6]:port" or "tcp://..." into host (NULL for any:
//  "*" or empty) and a port of 0 to 65535 ("*": any). Returns 0 or -1.
static int s_split (const char *address, char *host, size_t host_size, char *port)
{
    if (strncmp (address, "tcp://", 6) == 0)
        address += 6;
    const char *colon = strrchr (address, ':');
    if (!colon || colon[1] == 0 || strlen (colon + 1) > 5)
        return -1;
    const char *start = address, *stop = colon;
    if (*start == '[' && stop > start && stop[-1] == ']') {
        start++;
        stop--;
    }
    if ((size_t) (stop - start) >= host_size)
        return -1;
    snprintf (host, host_size, "%.*s", (int) (stop - start), start);
    if (streq (colon + 1, "*"))
        strcpy (port, "0");
    else {
        long value = 0;
        for (const char *c = colon + 1; *c; c++) {
            //  checked per digit, so a long run of digits cannot overflow
            if (*c < '0' || *c > '9' || (value = value * 10 + (*c - '0')) > 65535)
                return -1;
        }
        if (colon[1] == 0)
            return -1;
        snprintf (port, 6, "%hu", (unsigned short) value);
    }
    if (streq (host, "*"))
        host[0] = 0;
    return 0;
}

//  Binds and listens on address. Returns the socket or -1 (errno set;
//  EINVAL for an address we cannot read).
static int s_bind (const char *address, char *bound, size_t bound_size)
{
    char host[256], port[6];
    if (s_split (address, host, sizeof (host), port)) {
        errno = EINVAL;
        return -1;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET; //  "*" means IPv4, as in libzmq
    struct addrinfo *found = NULL;
    if (getaddrinfo (host[0] ? host : NULL, port, &hints, &found) || !found) {
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = socket (found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd >= 0)
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof (on));
    if (fd < 0 || bind (fd, found->ai_addr, found->ai_addrlen) || listen (fd, 128)) {
        int error = errno;
        if (fd >= 0)
            close (fd);
        freeaddrinfo (found);
        errno = error;
        return -1;
    }
    freeaddrinfo (found);
    struct sockaddr_storage name;
    socklen_t size = sizeof (name);
    char text[INET6_ADDRSTRLEN] = "", service[8] = "";
    getsockname (fd, (struct sockaddr *) &name, &size);
    getnameinfo ((struct sockaddr *) &name, size, text, sizeof (text), service, sizeof (service),
                 NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf (bound, bound_size, name.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", text, service);
    return fd;
}

bool zflow_cli_metrics_address_valid (const char *address)
{
    char host[256], port[6];
    return address && s_split (address, host, sizeof (host), port) == 0;
}

zflow_cli_metrics_t *zflow_cli_metrics_new (const char *address)
{
    zflow_cli_metrics_t *self = (zflow_cli_metrics_t *) calloc (1, sizeof (zflow_cli_metrics_t));
    if (self)
        self->listener = s_bind (address, self->address, sizeof (self->address));
    if (!self || self->listener < 0) {
        fprintf (stderr, "zflow: cannot serve metrics on %s: %s\n", address,
                 self ? (errno == EINVAL ? "not HOST:PORT (port 0 to 65535)" : strerror (errno))
                      : "out of memory");
        free (self);
        return NULL;
    }
    self->backoff_timer = self->sweep_timer = -1;
    return self;
}

void zflow_cli_metrics_destroy (zflow_cli_metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_cli_metrics_t *self = *self_p;
    for (size_t i = 0; i < S_MAX_CONNECTIONS; i++)
        if (self->conns[i])
            s_conn_close (self->conns[i]);
    if (self->loop && self->backoff_timer >= 0)
        zloop_timer_end (self->loop, self->backoff_timer);
    self->backoff_timer = -1;
    self->count = S_MAX_CONNECTIONS; //  s_listen then stops polling the listener
    s_listen (self, false);
    if (self->loop && self->sweep_timer >= 0)
        zloop_timer_end (self->loop, self->sweep_timer);
    close (self->listener);
    s_bury (self);
    free (self);
    *self_p = NULL;
}

const char *zflow_cli_metrics_address (zflow_cli_metrics_t *self)
{
    return self->address;
}

void zflow_cli_metrics_serve (zflow_cli_metrics_t *self, zloop_t *loop, zflow_cli_poll_t *poll)
{
    self->loop = loop;
    self->poll = poll;
    self->sweep_timer = zloop_timer (loop, S_SWEEP_MS, 0, s_on_sweep, self);
    s_listen (self, true);
}
