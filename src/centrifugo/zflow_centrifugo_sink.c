/*  =========================================================================
    zflow_centrifugo_sink - an actor that publishes zflow envelopes into
    Centrifugo channels (see the header for the behaviour)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_sink.h"
#include "zflow_actor.h"
#include "zflow_centrifugo_internal.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_stream.h"
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/evp.h>

//  What the caller hands the actor at start; the actor copies what it keeps.
typedef struct {
    const zflow_centrifugo_sink_config_t *config; //  the caller's configuration
    int err;                                      //  set by the actor on bad config
    char *endpoint;                               //  set by the actor: the input's
                                                  //  bound endpoint (the caller frees it)
} s_start_t;

//  The actor's state.
typedef struct {
    zflow_actor_t *base;              //  actor base: loop, pipe, counters
    zflow_actor_counters_t *counters; //  the base's standard counters
    zflow_centrifugo_t *client;       //  the API client
    zflow_stream_t *input;            //  the input stream (SUB or PULL)
    zflow_msg_t *msg;                 //  reused for every input message
    char *rule;                       //  key -> channel template
    zlist_t *prefixes;                //  SUB key prefixes in wire form (char *), or empty
    size_t batch_max;                 //  commands per batch
    int batch_ms;                     //  partial batch delay
    size_t outbox_max;                //  outbox capacity
    bool lossy;                       //  drop instead of pushing back
    bool parallel;                    //  batch "parallel" flag
    bool binary;                      //  every payload as b64data (else text/JSON)
    int retry_min_ms;                 //  first backoff
    int retry_max_ms;                 //  longest backoff
    int max_attempts;                 //  attempts per batch, 0 for no limit
    json_t **outbox;                  //  ring of publish params, outbox_max slots
    size_t head;                      //  index of the oldest command
    size_t count;                     //  commands in the outbox
    int timer;                        //  id of the armed flush timer, or -1
    bool backoff;                     //  waiting out a retry backoff
    int attempts;                     //  failed attempts of the current batch
    char id[24];                      //  this sink's idempotency key prefix
    uint64_t seq;                     //  next idempotency key number
    uint64_t published;               //  commands Centrifugo accepted
    uint64_t rejected;                //  commands refused for good
    uint64_t malformed;               //  input messages that were not envelopes
    uint64_t unmapped;                //  keys the rule could not map
    uint64_t batches;                 //  batches accepted
    uint64_t retries;                 //  batch or command retries
    uint64_t request_errors;          //  failed HTTP exchanges (incl. decode)
    uint64_t response_errors;         //  per-command errors
    uint64_t refused;                 //  commands dropped on a refused request (401, 403)
    uint64_t empty;                   //  empty payloads skipped
    uint64_t not_text;                //  payloads skipped in text mode: not UTF-8
    char reason[200];                 //  why the last request or command failed, or ""
} s_sink_t;

//  True when the sink traces to stderr: the VERBOSE every zflow actor
//  knows (set_verbose and a pipeline both send it).
static bool s_verbose (s_sink_t *self)
{
    return zflow_actor_verbose (self->base);
}

static void s_arm_timer (s_sink_t *self, int delay_ms, bool replace);

//  ---------------------------------------------------------------------
//  Outbox: a ring of json publish params

static json_t **s_slot (s_sink_t *self, size_t index)
{
    return &self->outbox[(self->head + index) % self->outbox_max];
}

static void s_outbox_drop_front (s_sink_t *self, size_t n)
{
    for (size_t index = 0; index < n; index++) {
        json_decref (*s_slot (self, 0));
        *s_slot (self, 0) = NULL;
        self->head = (self->head + 1) % self->outbox_max;
        self->count--;
    }
    self->counters->queue_depth = self->count;
}

//  ---------------------------------------------------------------------
//  Turning an envelope into a publish command

//  Appends text (length bytes) to out. Returns 0, or -1 if it does not fit.
static int s_append (char *out, size_t size, size_t *used_p, const char *text, size_t length)
{
    if (*used_p + length + 1 > size)
        return -1;
    memcpy (out + *used_p, text, length);
    *used_p += length;
    out[*used_p] = 0;
    return 0;
}

//  Writes the channel for key into out following the rule. Returns 0, or
//  -1 when the rule names a component the key lacks or the channel does
//  not fit.
static int s_map_channel (s_sink_t *self, const zflow_key_t *key, char *out, size_t size)
{
    size_t used = 0;
    const char *rule = self->rule;
    int rc = 0;
    out[0] = 0;
    while (*rule && rc == 0) {
        if (strncmp (rule, "{*}", 3) == 0) {
            for (size_t index = 0; index < zflow_key_size (key) && rc == 0; index++) {
                const char *part = zflow_key_at (key, index);
                if (index)
                    rc = s_append (out, size, &used, ":", 1);
                rc = rc ? rc : s_append (out, size, &used, part, strlen (part));
            }
            rule += 3;
        } else if (*rule == '{' && isdigit ((unsigned char) rule[1])) {
            char *end;
            long index = strtol (rule + 1, &end, 10);
            const char *part = *end == '}' ? zflow_key_at (key, (size_t) index) : NULL;
            rc = part ? s_append (out, size, &used, part, strlen (part)) : -1;
            rule = *end == '}' ? end + 1 : end;
        } else
            rc = s_append (out, size, &used, rule++, 1);
    }
    return rc == 0 && used ? 0 : -1;
}

//  What s_set_payload did with a payload.
typedef enum {
    S_PAYLOAD_SET = 0,      //  params carry it
    S_PAYLOAD_FAILED = -1,  //  out of memory
    S_PAYLOAD_EMPTY = -2,   //  nothing to publish: skipped
    S_PAYLOAD_NOT_TEXT = -3 //  not UTF-8 and not binary mode: skipped
} s_payload_t;

//  Sets the payload in params. Text mode (the default): JSON is published
//  as "data" as it is; other text (valid UTF-8) as a JSON string, so a
//  line of text arrives as that text; bytes that are not UTF-8 cannot
//  travel in JSON and are skipped. Never "b64data" in text mode: Centrifugo
//  closes every JSON-protocol subscriber of a channel that gets binary
//  data (3506) and its history then fails. Binary mode: every payload as
//  "b64data". An empty payload is skipped in both (the server refuses an
//  empty b64data with error 107, and an empty line is no JSON value).
static s_payload_t s_set_payload (json_t *params, const void *payload, size_t size, bool binary)
{
    if (size == 0)
        return S_PAYLOAD_EMPTY;
    if (!binary) {
        json_t *data = json_loadb ((const char *) payload, size, JSON_DECODE_ANY, NULL);
        if (!data)
            data = json_stringn ((const char *) payload, size);
        if (!data)
            return S_PAYLOAD_NOT_TEXT; //  jansson refuses invalid UTF-8
        return json_object_set_new (params, "data", data) ? S_PAYLOAD_FAILED : S_PAYLOAD_SET;
    }
    if (size > (size_t) INT_MAX / 4 * 3)
        return S_PAYLOAD_FAILED;
    char *b64 = (char *) malloc (4 * ((size + 2) / 3) + 1);
    if (!b64)
        return S_PAYLOAD_FAILED;
    EVP_EncodeBlock ((unsigned char *) b64, (const unsigned char *) payload, (int) size);
    int rc = json_object_set_new (params, "b64data", json_string (b64));
    free (b64);
    return rc ? S_PAYLOAD_FAILED : S_PAYLOAD_SET;
}

//  True when the key starts with one of the prefixes, component-wise.
static bool s_key_selected (s_sink_t *self, const char *wire, size_t size)
{
    if (zlist_size (self->prefixes) == 0)
        return true;
    for (char *prefix = (char *) zlist_first (self->prefixes); prefix;
         prefix = (char *) zlist_next (self->prefixes)) {
        size_t length = strlen (prefix);
        if (size >= length && memcmp (wire, prefix, length) == 0 &&
            (size == length || wire[length] == ZFLOW_KEY_SEP))
            return true;
    }
    return false;
}

//  Turns the envelope in self->msg into a publish command in the outbox.
static void s_take_message (s_sink_t *self)
{
    size_t key_size, size;
    const void *wire = zflow_envelope_key (self->msg, &key_size);
    const void *payload = zflow_envelope_payload (self->msg, &size);
    zflow_key_t *key = NULL;
    if (zflow_envelope_decode (self->msg, NULL) == 0)
        key = zflow_key_decode (wire, key_size, NULL);
    if (!key) {
        self->malformed++;
        self->counters->drops++;
        return;
    }
    if (!s_key_selected (self, (const char *) wire, key_size)) {
        zflow_key_destroy (&key);
        return;
    }
    self->counters->msgs_in++;
    self->counters->bytes_in += size;
    char channel[1024];
    if (s_map_channel (self, key, channel, sizeof (channel))) {
        self->unmapped++;
        self->counters->drops++;
        zflow_key_destroy (&key);
        return;
    }
    zflow_key_destroy (&key);
    char ikey[48];
    snprintf (ikey, sizeof (ikey), "%s-%" PRIu64, self->id, self->seq++);
    json_t *params = json_pack ("{s:s, s:s}", "channel", channel, "idempotency_key", ikey);
    s_payload_t taken =
        params ? s_set_payload (params, payload, size, self->binary) : S_PAYLOAD_FAILED;
    if (taken != S_PAYLOAD_SET) {
        json_decref (params);
        self->counters->drops++;
        if (taken == S_PAYLOAD_EMPTY) {
            self->empty++;
            snprintf (self->reason, sizeof (self->reason),
                      "an empty payload for %.100s: skipped (nothing to publish)", channel);
        } else if (taken == S_PAYLOAD_NOT_TEXT) {
            self->not_text++;
            snprintf (self->reason, sizeof (self->reason),
                      "a payload for %.100s is not UTF-8 text: skipped (binary mode publishes "
                      "it as b64data)",
                      channel);
        }
        return;
    }
    *s_slot (self, self->count++) = params;
    self->counters->queue_depth = self->count;
}

//  ---------------------------------------------------------------------
//  Sending batches

//  Settles one accepted batch of n: keeps the commands that got error 100
//  (moved to the front, in order) and drops the others.
static size_t s_settle_replies (s_sink_t *self, json_t *replies, size_t n)
{
    size_t kept = 0;
    for (size_t index = 0; index < n; index++) {
        json_t **slot = s_slot (self, index);
        const char *message = NULL;
        int code = zflow_centrifugo_json_reply_error (json_array_get (replies, index), &message);
        if (code)
            self->response_errors++;
        if (code == ZFLOW_CENTRIFUGO_INTERNAL) {
            json_t *params = *slot;
            *slot = NULL;
            *s_slot (self, kept++) = params;
            continue;
        }
        if (code) {
            self->rejected++;
            self->counters->drops++;
            snprintf (self->reason, sizeof (self->reason), "error %d: %s", code,
                      message ? message : "");
            if (s_verbose (self))
                zsys_debug ("centrifugo_sink: rejected, error %d: %s", code, message);
        } else {
            self->published++;
            self->counters->msgs_out++;
        }
        json_decref (*slot);
        *slot = NULL;
    }
    //  Slots kept..n-1 are empty now: move the head past them.
    size_t freed = n - kept;
    for (size_t index = kept; freed && index-- > 0;) {
        *s_slot (self, index + freed) = *s_slot (self, index);
        *s_slot (self, index) = NULL;
    }
    self->head = (self->head + freed) % self->outbox_max;
    self->count -= freed;
    self->counters->queue_depth = self->count;
    return kept;
}

//  Sends one batch from the front of the outbox. Returns 0 when the server
//  answered and nothing needs a retry, 1 when some commands got error 100
//  and wait for a retry, -1 on a failed exchange, -2 when the server
//  refused the request for good (HTTP 401 or 403: the API key is wrong or
//  missing, and no retry can change that).
static int s_send_batch (s_sink_t *self)
{
    size_t n = self->count < self->batch_max ? self->count : self->batch_max;
    zflow_centrifugo_clear (self->client);
    for (size_t index = 0; index < n; index++)
        zflow__centrifugo_add_shared (self->client, "publish", *s_slot (self, index));
    json_t *replies = NULL;
    int rc = zflow_centrifugo_json_send (self->client, self->parallel, &replies);
    if (rc) {
        self->request_errors++;
        long status = zflow_centrifugo_error_kind (self->client) == ZFLOW_CENTRIFUGO_ERR_REQUEST
                          ? zflow_centrifugo_http_status (self->client)
                          : 0;
        snprintf (self->reason, sizeof (self->reason), "%s%s",
                  zflow_centrifugo_error_message (self->client),
                  status == 401 || status == 403 ? " (wrong or missing API key)" : "");
        if (s_verbose (self))
            zsys_debug ("centrifugo_sink: batch of %zu failed: %s", n, self->reason);
        return status == 401 || status == 403 ? -2 : -1;
    }
    self->batches++;
    size_t kept = s_settle_replies (self, replies, n);
    json_decref (replies);
    return kept ? 1 : 0;
}

//  Backoff before attempt number attempts + 1.
static int s_backoff_ms (s_sink_t *self)
{
    int64_t delay = self->retry_min_ms;
    for (int index = 1; index < self->attempts && delay < self->retry_max_ms; index++)
        delay *= 2;
    return delay > self->retry_max_ms ? self->retry_max_ms : (int) delay;
}

static void s_pull_input (s_sink_t *self);

//  Sends full batches (and one partial batch when force is set) until the
//  outbox is empty, a batch fails, or a retry must wait.
static void s_flush (s_sink_t *self, bool force)
{
    int rounds = 0;
    while (self->count && !self->backoff && (force || self->count >= self->batch_max)) {
        int sent = s_send_batch (self);
        if (sent == 0)
            self->attempts = 0;
        else if (sent == -2) {
            size_t n = self->count < self->batch_max ? self->count : self->batch_max;
            self->refused += n;
            self->counters->drops += n;
            s_outbox_drop_front (self, n);
            self->attempts = 0;
        } else {
            self->retries++;
            self->attempts++;
            if (self->max_attempts > 0 && self->attempts >= self->max_attempts) {
                size_t n = self->count < self->batch_max ? self->count : self->batch_max;
                self->counters->drops += n;
                s_outbox_drop_front (self, n);
                self->attempts = 0;
            } else {
                self->backoff = true;
                s_arm_timer (self, s_backoff_ms (self), true);
                return;
            }
        }
        force = force && self->count > 0;
        //  One request per loop turn: between two, the loop answers the
        //  pipe (STATS, $TERM) and takes input; a 0 ms timer brings the next.
        if (++rounds == 1)
            break;
    }
    s_pull_input (self);
    if (self->count && !self->backoff)
        s_arm_timer (self, self->count >= self->batch_max ? 0 : self->batch_ms, false);
}

static int s_on_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_sink_t *self = (s_sink_t *) arg;
    self->timer = -1;
    self->backoff = false;
    s_flush (self, true);
    return 0;
}

//  Arms the one flush timer; replace cancels an armed one first.
static void s_arm_timer (s_sink_t *self, int delay_ms, bool replace)
{
    if (self->timer != -1 && !replace)
        return;
    if (self->timer != -1)
        zloop_timer_end (zflow_actor_loop (self->base), self->timer);
    self->timer = zloop_timer (zflow_actor_loop (self->base),
                               (size_t) (delay_ms > 0 ? delay_ms : 0), 1, s_on_timer, self);
}

//  Takes messages from the input stream while the outbox has room (or
//  drops them in lossy mode).
static void s_pull_input (s_sink_t *self)
{
    while (true) {
        bool full = self->count >= self->outbox_max;
        if (full && !self->lossy)
            return; //  leave them: the stream's watermark pushes back
        if (zflow_stream_read (self->input, self->msg, 0))
            return;
        if (full)
            self->counters->drops++;
        else
            s_take_message (self);
    }
}

static void s_on_input (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_sink_t *self = (s_sink_t *) arg;
    s_pull_input (self);
    if (self->count >= self->batch_max && !self->backoff)
        s_flush (self, false);
    else if (self->count)
        s_arm_timer (self, self->batch_ms, false);
}

//  ---------------------------------------------------------------------
//  Setup and the actor

static void s_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_sink_t *self = (s_sink_t *) arg;
    zflow_actor_stats_add (reply, "published", self->published);
    zflow_actor_stats_add (reply, "rejected", self->rejected);
    zflow_actor_stats_add (reply, "malformed", self->malformed);
    zflow_actor_stats_add (reply, "unmapped", self->unmapped);
    zflow_actor_stats_add (reply, "batches", self->batches);
    zflow_actor_stats_add (reply, "requests", zflow_centrifugo_requests (self->client));
    zflow_actor_stats_add (reply, "retries", self->retries);
    zflow_actor_stats_add (reply, "request_errors", self->request_errors);
    zflow_actor_stats_add (reply, "response_errors", self->response_errors);
    zflow_actor_stats_add (reply, "outbox", self->count);
    zflow_actor_stats_add (reply, "connects", zflow_centrifugo_connects (self->client));
    zflow_actor_stats_add (reply, "refused", self->refused);
    zflow_actor_stats_add (reply, "empty", self->empty);
    zflow_actor_stats_add (reply, "not_text", self->not_text);
    if (*self->reason) {
        zmsg_addstr (reply, "reason");
        zmsg_addstr (reply, self->reason);
    }
}

static void s_sink_destroy (s_sink_t **self_p)
{
    s_sink_t *self = *self_p;
    if (!self)
        return;
    if (self->outbox) {
        while (self->count)
            s_outbox_drop_front (self, 1);
        free (self->outbox);
    }
    if (self->input)
        zflow_stream_detach (self->input);
    zflow_stream_destroy (&self->input);
    zflow_msg_destroy (&self->msg);
    zflow_centrifugo_destroy (&self->client);
    zlist_destroy (&self->prefixes);
    free (self->rule);
    zflow_actor_destroy (&self->base);
    free (self);
    *self_p = NULL;
}

//  Copies the numbers of the configuration, with defaults. Returns 0 or
//  ZFLOW_ECONFIG.
static int s_configure_numbers (s_sink_t *self, const zflow_centrifugo_sink_config_t *config)
{
    self->batch_max = config->batch_max ? config->batch_max : ZFLOW_CENTRIFUGO_SINK_BATCH_MAX;
    self->batch_ms = config->batch_ms > 0 ? config->batch_ms : ZFLOW_CENTRIFUGO_SINK_BATCH_MS;
    self->outbox_max = config->outbox_max ? config->outbox_max : ZFLOW_CENTRIFUGO_SINK_OUTBOX_MAX;
    self->retry_min_ms =
        config->retry_min_ms > 0 ? config->retry_min_ms : ZFLOW_CENTRIFUGO_SINK_RETRY_MIN_MS;
    self->retry_max_ms =
        config->retry_max_ms > 0 ? config->retry_max_ms : ZFLOW_CENTRIFUGO_SINK_RETRY_MAX_MS;
    self->max_attempts = config->max_attempts > 0 ? config->max_attempts : 0;
    self->lossy = config->lossy;
    self->parallel = config->parallel;
    self->binary = config->binary;
    if (self->batch_max > self->outbox_max || self->retry_min_ms > self->retry_max_ms)
        return ZFLOW_ECONFIG;
    self->outbox = (json_t **) calloc (self->outbox_max, sizeof (json_t *));
    return self->outbox ? 0 : ZFLOW_ENOMEM;
}

//  Makes the API client. Returns 0, ZFLOW_ECONFIG or ZFLOW_ENOMEM.
static int s_configure_client (s_sink_t *self, const zflow_centrifugo_sink_config_t *config)
{
    zflow_centrifugo_config_t client;
    zflow_centrifugo_config_init (&client);
    client.address = config->address;
    client.api_key = config->api_key;
    client.format = config->format;
    client.insecure = config->insecure;
    client.close_connections = config->close_connections;
    if (config->timeout_ms > 0)
        client.timeout_ms = config->timeout_ms;
    int rc = ZFLOW_ECONFIG;
    self->client = zflow_centrifugo_new (&client, &rc);
    return self->client ? 0 : rc;
}

//  Opens the input socket, with its high-water mark set before any pipe
//  exists, and wraps it in a stream. Returns 0, ZFLOW_EENDPOINT or
//  ZFLOW_ENOMEM.
static int s_open_input (s_sink_t *self, int type, const zflow_centrifugo_sink_config_t *config)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return ZFLOW_ENOMEM;
    if (config->input_hwm > 0)
        zsock_set_rcvhwm (sock, (int) config->input_hwm);
    if ((config->input_bind && zsock_attach (sock, config->input_bind, true)) ||
        (config->input_connect && zsock_attach (sock, config->input_connect, false))) {
        zsock_destroy (&sock);
        return ZFLOW_EENDPOINT;
    }
    self->input = zflow_stream_new_sock (&sock);
    if (!self->input) {
        zsock_destroy (&sock);
        return ZFLOW_ENOMEM;
    }
    if (config->input_hwm > 0)
        zflow_stream_set_read_limits_msgs (self->input, config->input_hwm, 0);
    return 0;
}

//  Makes the input stream and its subscriptions. Returns 0, ZFLOW_ECONFIG
//  or ZFLOW_EENDPOINT.
static int s_configure_input (s_sink_t *self, const zflow_centrifugo_sink_config_t *config)
{
    int type = config->input_type ? config->input_type : ZMQ_SUB;
    if ((type != ZMQ_SUB && type != ZMQ_PULL) || (!config->input_connect && !config->input_bind))
        return ZFLOW_ECONFIG;
    int rc = s_open_input (self, type, config);
    if (rc)
        return rc;
    self->prefixes = zlist_new ();
    zlist_autofree (self->prefixes);
    if (type == ZMQ_SUB && config->subscribe && *config->subscribe) {
        char *list = strdup (config->subscribe);
        for (char *save = NULL, *text = strtok_r (list, ",", &save); text && rc == 0;
             text = strtok_r (NULL, ",", &save)) {
            zflow_key_t *key = zflow_key_parse (text, NULL);
            size_t size = 0;
            const char *wire = key ? (const char *) zflow_key_wire (key, &size) : NULL;
            if (wire) {
                char *prefix = strndup (wire, size);
                zsock_set_subscribe (zflow_stream_sock (self->input), prefix);
                zlist_append (self->prefixes, prefix);
                free (prefix);
            } else
                rc = ZFLOW_ECONFIG;
            zflow_key_destroy (&key);
        }
        free (list);
    } else if (type == ZMQ_SUB)
        zsock_set_subscribe (zflow_stream_sock (self->input), "");
    if (rc == 0)
        rc = zflow_stream_attach (self->input, zflow_actor_loop (self->base), s_on_input, NULL,
                                  self);
    return rc;
}

static s_sink_t *s_sink_new (zflow_actor_t *base, const zflow_centrifugo_sink_config_t *config,
                             int *err_p)
{
    s_sink_t *self = (s_sink_t *) zmalloc (sizeof (s_sink_t));
    self->base = base;
    self->counters = zflow_actor_counters (base);
    self->msg = zflow_msg_new ();
    self->timer = -1;
    self->rule =
        strdup (config->channel_rule && *config->channel_rule ? config->channel_rule : "{*}");
    zuuid_t *uuid = zuuid_new ();
    snprintf (self->id, sizeof (self->id), "%.16s", zuuid_str (uuid));
    zuuid_destroy (&uuid);
    int rc = config->address ? 0 : ZFLOW_ECONFIG;
    if (rc == 0)
        rc = s_configure_numbers (self, config);
    if (rc == 0)
        rc = s_configure_client (self, config);
    if (rc == 0)
        rc = s_configure_input (self, config);
    if (rc) {
        *err_p = rc;
        self->base = NULL; //  the caller keeps the base
        s_sink_destroy (&self);
    }
    return self;
}

//  One attempt, without retries, to send what is left at the end: a batch
//  that failed or needs a retry ends it (a server answering error 100 for
//  ever must not hold the destroy). What is left is counted as dropped.
static void s_final_flush (s_sink_t *self)
{
    while (self->count)
        if (s_send_batch (self) != 0)
            break;
    self->counters->drops += self->count;
    //  and what was read from the input but never taken into the outbox
    if (self->input)
        self->counters->drops += zflow_stream_read_pending (self->input);
}

static void s_sink_actor (zsock_t *pipe, void *args)
{
    s_start_t *start = (s_start_t *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, "centrifugo_sink");
    s_sink_t *self = base ? s_sink_new (base, start->config, &start->err) : NULL;
    if (!self) {
        if (base)
            zflow_actor_ready (base, -1);
        else {
            //  no base to signal through: the same two signals by hand, so
            //  zflow_actor_start returns instead of waiting for ever
            zsock_signal (pipe, 0);
            zsock_signal (pipe, 1);
        }
        zflow_actor_destroy (&base);
        return;
    }
    zflow_actor_set_stats_handler (self->base, s_stats, self);
    if (start->config->input_bind)
        start->endpoint = zsock_last_endpoint (zflow_stream_sock (self->input));
    zflow_actor_ready (self->base, 0);
    zflow_actor_run (self->base);
    s_final_flush (self);
    s_sink_destroy (&self);
}

//  ---------------------------------------------------------------------
//  The caller's side

struct _zflow_centrifugo_sink_t {
    zactor_t *actor; //  the sink actor
    char *endpoint;  //  the input's bound endpoint, or NULL when it only connects
};

void zflow_centrifugo_sink_config_init (zflow_centrifugo_sink_config_t *config)
{
    if (!config)
        return;
    memset (config, 0, sizeof (*config));
    config->format = ZFLOW_CENTRIFUGO_MODERN;
    config->timeout_ms = ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT;
    config->input_type = ZMQ_SUB;
    config->channel_rule = "{*}";
    config->batch_max = ZFLOW_CENTRIFUGO_SINK_BATCH_MAX;
    config->batch_ms = ZFLOW_CENTRIFUGO_SINK_BATCH_MS;
    config->outbox_max = ZFLOW_CENTRIFUGO_SINK_OUTBOX_MAX;
    config->retry_min_ms = ZFLOW_CENTRIFUGO_SINK_RETRY_MIN_MS;
    config->retry_max_ms = ZFLOW_CENTRIFUGO_SINK_RETRY_MAX_MS;
}

zflow_centrifugo_sink_t *zflow_centrifugo_sink_new (const zflow_centrifugo_sink_config_t *config,
                                                    int *err_p)
{
    int err = ZFLOW_EINVAL;
    zflow_centrifugo_sink_t *self = NULL;
    if (config) {
        s_start_t start = {config, 0, NULL};
        zactor_t *actor = zflow_actor_start (s_sink_actor, &start);
        err = start.err ? start.err : ZFLOW_ENOMEM;
        self = actor ? (zflow_centrifugo_sink_t *) zmalloc (sizeof (*self)) : NULL;
        if (self) {
            self->actor = actor;
            self->endpoint = start.endpoint;
        } else {
            zactor_destroy (&actor);
            zstr_free (&start.endpoint);
        }
    }
    if (!self && err_p)
        *err_p = err;
    return self;
}

void zflow_centrifugo_sink_destroy (zflow_centrifugo_sink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zactor_destroy (&(*self_p)->actor);
    zstr_free (&(*self_p)->endpoint);
    free (*self_p);
    *self_p = NULL;
}

zactor_t *zflow_centrifugo_sink_actor (zflow_centrifugo_sink_t *self)
{
    return self ? self->actor : NULL;
}

const char *zflow_centrifugo_sink_endpoint (zflow_centrifugo_sink_t *self)
{
    return self ? self->endpoint : NULL;
}

zhash_t *zflow_centrifugo_sink_stats (zflow_centrifugo_sink_t *self, int timeout_ms)
{
    return self ? zflow_actor_stats (self->actor, timeout_ms) : NULL;
}

void zflow_centrifugo_sink_set_verbose (zflow_centrifugo_sink_t *self, bool verbose)
{
    if (self)
        zflow_actor_set_verbose (self->actor, verbose);
}
