/*  =========================================================================
    zflow_pipeline - stage actors joined by zflow streams: the builder,
    start, stop and stats

    Each stage binds its input on "inproc://zflow-pipeline-<id>-<index>";
    the stages of the group before it connect one PUSH each to that
    endpoint. Stages are only ever consumed by stages added later, so the
    order of addition is a topological order: start goes backwards (every
    input is bound before anyone connects) and stop drains forwards.

    Chaining: before the actors start, each stage that reads only one
    stage, which it alone reads, joins that stage's actor when both allow
    it (zflow_pipeline_chain.c): the link between them becomes a function
    call. A run of such stages is one actor, started and drained as its
    first stage (its head); the others answer STATS through it.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_actor.h"
#include "zflow_error.h"
#include "zflow_key.h"
#include "zflow_pipeline_stage.h"
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>

//  Longest stage name.
#define S_NAME_MAX 64

//  Most empty envelopes the pipeline keeps for its stages to reuse.
#define S_POOL_SIZE 1024

struct _zflow_pipeline_t {
    char *name;                 //  pipeline name
    unsigned id;                //  process-unique id for inproc endpoints
    zflow__stage_t **stages;    //  stages in the order added (owned)
    size_t size;                //  number of stages
    size_t capacity;            //  room in stages
    zlistx_t *group;            //  current group (stage pointers, not owned)
    bool after_source;          //  the last stage added was a source
    zflow_pipeline_mode_t mode; //  delivery mode for every stage
    int hwm;                    //  link watermark in messages
    char *server_cert;          //  CURVE settings for stages added next
    char *client_cert;
    char *server_key;
    int error;               //  first builder error, or 0
    char error_text[256];    //  its description
    bool running;            //  started and not stopped
    bool verbose;            //  stages trace to stderr (sent to each at start)
    zflow__hop_pool_t *pool; //  empty envelopes the stages pass around
};

//  Source of pipeline ids (inproc endpoint names must be unique per process).
static atomic_uint s_next_id;

int zflow__pipeline_fail (zflow_pipeline_t *self, int code, const char *format, ...)
{
    if (!self->error) {
        self->error = code;
        va_list args;
        va_start (args, format);
        vsnprintf (self->error_text, sizeof (self->error_text), format, args);
        va_end (args);
    }
    return code;
}

static void s_stage_destroy (zflow__stage_t **stage_p)
{
    zflow__stage_t *stage = *stage_p;
    if (!stage)
        return;
    zactor_destroy (&stage->actor);
    zlistx_destroy (&stage->chain);
    if (stage->resource_started && stage->ops->stop)
        stage->ops->stop (stage->resource);
    if (stage->ops && stage->resource)
        stage->ops->free (stage->resource);
    if (stage->free_fn && stage->arg)
        stage->free_fn (stage->arg);
    zlistx_destroy (&stage->outputs);
    zlistx_destroy (&stage->subscribe);
    zlistx_destroy (&stage->output_names);
    free (stage->name);
    free (stage->input);
    free (stage->bind);
    free (stage->connect);
    free (stage->path);
    free (stage->server_cert);
    free (stage->client_cert);
    free (stage->server_key);
    free (stage);
    *stage_p = NULL;
}

void zflow_pipeline_config_init (zflow_pipeline_config_t *config)
{
    if (!config)
        return;
    memset (config, 0, sizeof (*config));
    config->name = "pipeline";
    config->mode = ZFLOW_PIPELINE_LOSSLESS;
    config->hwm = ZFLOW_PIPELINE_DEFAULT_HWM;
}

//  Sets *err_p (if not NULL) and returns NULL: the failure of _new.
static zflow_pipeline_t *s_new_failed (int code, int *err_p)
{
    if (err_p)
        *err_p = code;
    return NULL;
}

zflow_pipeline_t *zflow_pipeline_new (const zflow_pipeline_config_t *config, int *err_p)
{
    zflow_pipeline_config_t defaults;
    zflow_pipeline_config_init (&defaults);
    if (!config)
        config = &defaults;
    if ((config->mode != ZFLOW_PIPELINE_LOSSLESS && config->mode != ZFLOW_PIPELINE_LOSSY) ||
        config->hwm < 0)
        return s_new_failed (ZFLOW_EINVAL, err_p);
    zflow_pipeline_t *self = (zflow_pipeline_t *) zmalloc (sizeof (zflow_pipeline_t));
    if (!self)
        return s_new_failed (ZFLOW_ENOMEM, err_p);
    self->name = strdup (config->name ? config->name : defaults.name);
    self->group = zlistx_new ();
    self->id = atomic_fetch_add (&s_next_id, 1);
    self->mode = config->mode;
    self->hwm = config->hwm ? config->hwm : ZFLOW_PIPELINE_DEFAULT_HWM;
    self->verbose = config->verbose;
    self->pool = zflow__hop_pool_new (S_POOL_SIZE);
    if (!self->name || !self->group || !self->pool) {
        zflow_pipeline_destroy (&self);
        return s_new_failed (ZFLOW_ENOMEM, err_p);
    }
    if (err_p)
        *err_p = 0;
    return self;
}

void zflow_pipeline_destroy (zflow_pipeline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_pipeline_t *self = *self_p;
    if (self->running)
        zflow_pipeline_stop (self, 2000);
    for (size_t i = 0; i < self->size; i++)
        s_stage_destroy (&self->stages[i]);
    free (self->stages);
    zflow__hop_pool_destroy (&self->pool); //  after the last stage actor
    zlistx_destroy (&self->group);
    free (self->name);
    free (self->server_cert);
    free (self->client_cert);
    free (self->server_key);
    free (self);
    *self_p = NULL;
}

//  Replaces *field by a copy of value (NULL clears). Returns 0 or ENOMEM.
static int s_set_text (char **field, const char *value)
{
    free (*field);
    *field = value ? strdup (value) : NULL;
    return (value && !*field) ? ZFLOW_ENOMEM : 0;
}

int zflow_pipeline_set_curve (zflow_pipeline_t *self, const char *server_cert,
                              const char *client_cert, const char *server_key)
{
    if (s_set_text (&self->server_cert, server_cert) ||
        s_set_text (&self->client_cert, client_cert) || s_set_text (&self->server_key, server_key))
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    return 0;
}

//  ---------------------------------------------------------------------
//  Adding stages

//  True if name is a usable stage name: 1..64 of [A-Za-z0-9_.-].
static bool s_valid_name (const char *name)
{
    size_t size = name ? strlen (name) : 0;
    if (size == 0 || size > S_NAME_MAX)
        return false;
    return strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
           size;
}

//  Creates a stage of kind named name at the end of the list. Returns it,
//  or NULL with the pipeline's error set.
static zflow__stage_t *s_add (zflow_pipeline_t *self, const char *name, zflow__stage_kind_t kind)
{
    if (self->running) {
        zflow__pipeline_fail (self, ZFLOW_EINVAL, "pipeline is running: cannot add '%s'",
                              name ? name : "");
        return NULL;
    }
    if (!s_valid_name (name)) {
        zflow__pipeline_fail (self, ZFLOW_EINVAL, "bad stage name '%s' (1-64 of A-Z a-z 0-9 _ . -)",
                              name ? name : "(null)");
        return NULL;
    }
    for (size_t i = 0; i < self->size; i++)
        if (streq (self->stages[i]->name, name)) {
            zflow__pipeline_fail (self, ZFLOW_EINVAL, "duplicate stage name '%s'", name);
            return NULL;
        }
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        void *more = realloc (self->stages, capacity * sizeof (zflow__stage_t *));
        if (!more) {
            zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
            return NULL;
        }
        self->stages = (zflow__stage_t **) more;
        self->capacity = capacity;
    }
    zflow__stage_t *stage = (zflow__stage_t *) zmalloc (sizeof (zflow__stage_t));
    if (stage) {
        stage->name = strdup (name);
        stage->kind = kind;
        stage->pool = self->pool;
        stage->input = zsys_sprintf ("inproc://zflow-pipeline-%u-%zu", self->id, self->size);
        stage->outputs = zlistx_new ();
        stage->output_names = zlistx_new ();
    }
    if (stage && stage->outputs && stage->output_names) {
        zlistx_set_destructor (stage->outputs, (zlistx_destructor_fn *) zstr_free);
        zlistx_set_duplicator (stage->outputs, (zlistx_duplicator_fn *) strdup);
        zlistx_set_destructor (stage->output_names, (zlistx_destructor_fn *) zstr_free);
        zlistx_set_duplicator (stage->output_names, (zlistx_duplicator_fn *) strdup);
    }
    if (!stage || !stage->name || !stage->input || !stage->outputs || !stage->output_names ||
        s_set_text (&stage->server_cert, self->server_cert) ||
        s_set_text (&stage->client_cert, self->client_cert) ||
        s_set_text (&stage->server_key, self->server_key)) {
        s_stage_destroy (&stage);
        zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
        return NULL;
    }
    self->stages[self->size++] = stage;
    return stage;
}

//  Removes the stage just added (after a later check failed).
static void s_unadd (zflow_pipeline_t *self)
{
    s_stage_destroy (&self->stages[--self->size]);
}

//  Links every stage of the current group to stage. Returns 0, or
//  ZFLOW_EINVAL when the group is empty.
static int s_consume (zflow_pipeline_t *self, zflow__stage_t *stage)
{
    if (zlistx_size (self->group) == 0)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL,
                                     "stage '%s': nothing before it to read from", stage->name);
    for (zflow__stage_t *from = (zflow__stage_t *) zlistx_first (self->group); from;
         from = (zflow__stage_t *) zlistx_next (self->group)) {
        zlistx_add_end (from->outputs, stage->input);
        zlistx_add_end (from->output_names, stage->name);
    }
    return 0;
}

//  Places a new stage in the graph according to its kind.
static int s_place (zflow_pipeline_t *self, zflow__stage_t *stage)
{
    zflow__stage_kind_t kind = stage->kind;
    if (kind == ZFLOW__STAGE_SOURCE || kind == ZFLOW__STAGE_SYNTH) {
        if (!self->after_source)
            zlistx_purge (self->group);
        zlistx_add_end (self->group, stage);
        self->after_source = true;
        return 0;
    }
    if (s_consume (self, stage)) {
        s_unadd (self);
        return self->error;
    }
    self->after_source = false;
    if (!ZFLOW__STAGE_IS_SINK (kind)) {
        zlistx_purge (self->group);
        zlistx_add_end (self->group, stage);
    }
    return 0;
}

int zflow_pipeline_from (zflow_pipeline_t *self, const char *names)
{
    char *copy = names ? strdup (names) : NULL;
    if (!copy)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "no stage names to read from");
    zlistx_purge (self->group);
    self->after_source = false;
    char *save = NULL;
    int rc = 0;
    for (char *name = strtok_r (copy, ", ", &save); name && rc == 0;
         name = strtok_r (NULL, ", ", &save)) {
        zflow__stage_t *found = NULL;
        for (size_t i = 0; i < self->size && !found; i++)
            if (streq (self->stages[i]->name, name))
                found = self->stages[i];
        if (!found)
            rc = zflow__pipeline_fail (self, ZFLOW_ENOTFOUND, "no stage named '%s'", name);
        else if (ZFLOW__STAGE_IS_SINK (found->kind))
            rc = zflow__pipeline_fail (self, ZFLOW_EINVAL, "'%s' is a sink: nothing to read", name);
        else
            zlistx_add_end (self->group, found);
    }
    free (copy);
    return rc;
}

//  Adds a stage on user endpoints (a source or a sink).
static int s_add_endpoint (zflow_pipeline_t *self, const char *name, zflow__stage_kind_t kind,
                           const char *type, const char *bind, const char *connect)
{
    bool source = kind == ZFLOW__STAGE_SOURCE;
    int sock_type = !type                                    ? -1
                    : streq (type, source ? "pull" : "push") ? (source ? ZMQ_PULL : ZMQ_PUSH)
                    : streq (type, source ? "sub" : "pub")   ? (source ? ZMQ_SUB : ZMQ_PUB)
                                                             : -1;
    if (sock_type < 0)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': socket type '%s' is not %s",
                                     name ? name : "", type ? type : "(null)",
                                     source ? "pull or sub" : "push or pub");
    if (!bind && !connect)
        return zflow__pipeline_fail (
            self, ZFLOW_EINVAL, "stage '%s': no endpoint to bind or connect", name ? name : "");
    zflow__stage_t *stage = s_add (self, name, kind);
    if (!stage)
        return self->error;
    stage->sock_type = sock_type;
    if (s_set_text (&stage->bind, bind) || s_set_text (&stage->connect, connect)) {
        s_unadd (self);
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    }
    return s_place (self, stage);
}

int zflow_pipeline_source (zflow_pipeline_t *self, const char *name, const char *type,
                           const char *bind, const char *connect)
{
    return s_add_endpoint (self, name, ZFLOW__STAGE_SOURCE, type, bind, connect);
}

int zflow_pipeline_sink (zflow_pipeline_t *self, const char *name, const char *type,
                         const char *bind, const char *connect)
{
    return s_add_endpoint (self, name, ZFLOW__STAGE_SINK, type, bind, connect);
}

int zflow_pipeline_subscribe (zflow_pipeline_t *self, const char *prefixes)
{
    zflow__stage_t *stage = self->size ? self->stages[self->size - 1] : NULL;
    if (!stage || stage->kind != ZFLOW__STAGE_SOURCE || stage->sock_type != ZMQ_SUB || !prefixes)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL,
                                     "subscribe: the last stage is not a sub source");
    zlistx_destroy (&stage->subscribe);
    stage->subscribe = zlistx_new ();
    zlistx_set_destructor (stage->subscribe, (zlistx_destructor_fn *) zframe_destroy);
    char *copy = strdup (prefixes), *save = NULL;
    int rc = 0;
    for (char *text = strtok_r (copy, ", ", &save); text && rc == 0;
         text = strtok_r (NULL, ", ", &save)) {
        zflow_key_t *key = zflow_key_parse (text, NULL);
        size_t size = 0;
        const void *wire = key ? zflow_key_wire (key, &size) : NULL;
        if (wire)
            zlistx_add_end (stage->subscribe, zframe_new (wire, size));
        else
            rc = zflow__pipeline_fail (self, ZFLOW_ECONFIG, "stage '%s': bad key prefix '%s'",
                                       stage->name, text);
        zflow_key_destroy (&key);
    }
    free (copy);
    return rc;
}

int zflow_pipeline_source_synthetic (zflow_pipeline_t *self, const char *name, uint64_t rate,
                                     uint64_t count)
{
    zflow__stage_t *stage = s_add (self, name, ZFLOW__STAGE_SYNTH);
    if (!stage)
        return self->error;
    stage->rate = rate;
    stage->count = count;
    return s_place (self, stage);
}

int zflow_pipeline_merge (zflow_pipeline_t *self, const char *name)
{
    zflow__stage_t *stage = s_add (self, name, ZFLOW__STAGE_MERGE);
    return stage ? s_place (self, stage) : self->error;
}

//  Adds a map or filter stage; on failure frees arg with free_fn.
static int s_add_callback (zflow_pipeline_t *self, const char *name, zflow__stage_kind_t kind,
                           zflow_pipeline_map_fn *map, zflow_pipeline_filter_fn *filter, void *arg,
                           zflow_pipeline_free_fn *free_fn)
{
    zflow__stage_t *stage = (map || filter) ? s_add (self, name, kind) : NULL;
    if (!stage) {
        if (free_fn && arg)
            free_fn (arg);
        return (map || filter) ? self->error
                               : zflow__pipeline_fail (self, ZFLOW_EINVAL,
                                                       "stage '%s': no callback", name ? name : "");
    }
    stage->map = map;
    stage->filter = filter;
    stage->arg = arg;
    stage->free_fn = free_fn;
    return s_place (self, stage);
}

int zflow_pipeline_sink_fn (zflow_pipeline_t *self, const char *name, zflow_pipeline_map_fn *fn,
                            void *arg, zflow_pipeline_free_fn *free_fn)
{
    return s_add_callback (self, name, ZFLOW__STAGE_CALL, fn, NULL, arg, free_fn);
}

int zflow_pipeline_map (zflow_pipeline_t *self, const char *name, zflow_pipeline_map_fn *fn,
                        void *arg, zflow_pipeline_free_fn *free_fn)
{
    return s_add_callback (self, name, ZFLOW__STAGE_MAP, fn, NULL, arg, free_fn);
}

int zflow_pipeline_filter (zflow_pipeline_t *self, const char *name, zflow_pipeline_filter_fn *fn,
                           void *arg, zflow_pipeline_free_fn *free_fn)
{
    return s_add_callback (self, name, ZFLOW__STAGE_FILTER, NULL, fn, arg, free_fn);
}

int zflow_pipeline_sink_file (zflow_pipeline_t *self, const char *name, const char *path)
{
    if (!path || !*path)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': no file path",
                                     name ? name : "");
    zflow__stage_t *stage = s_add (self, name, ZFLOW__STAGE_FILE);
    if (!stage)
        return self->error;
    if (s_set_text (&stage->path, path)) {
        s_unadd (self);
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    }
    return s_place (self, stage);
}

int zflow__pipeline_add_resource (zflow_pipeline_t *self, const zflow__resource_ops_t *ops,
                                  void *state)
{
    zflow__stage_t *stage = self->size ? self->stages[self->size - 1] : NULL;
    if (!stage || stage->ops || !state) {
        if (state)
            ops->free (state);
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "no stage for the resource");
    }
    stage->ops = ops;
    stage->resource = state;
    return 0;
}

int zflow_pipeline_stage_own_thread (zflow_pipeline_t *self, const char *name, bool own)
{
    if (!self)
        return ZFLOW_EINVAL;
    if (self->running)
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "pipeline is running: cannot move '%s'",
                                     name ? name : "");
    for (size_t i = 0; name && i < self->size; i++)
        if (streq (self->stages[i]->name, name)) {
            self->stages[i]->own_thread = own;
            return 0;
        }
    return zflow__pipeline_fail (self, ZFLOW_ENOTFOUND, "no stage named '%s'",
                                 name ? name : "(null)");
}

const char *zflow_pipeline_stage_host (zflow_pipeline_t *self, size_t index)
{
    if (!self || !self->running || index >= self->size)
        return NULL;
    zflow__stage_t *stage = self->stages[index];
    return stage->host ? stage->host->name : stage->name;
}

//  ---------------------------------------------------------------------
//  Running

//  Ends the actors of every stage (no draining), then stops their resources.
static void s_end_all (zflow_pipeline_t *self)
{
    for (size_t i = 0; i < self->size; i++)
        zactor_destroy (&self->stages[i]->actor);
    for (size_t i = 0; i < self->size; i++) {
        zflow__stage_t *stage = self->stages[i];
        if (stage->resource_started && stage->ops->stop)
            stage->ops->stop (stage->resource);
        stage->resource_started = false;
    }
}

int zflow_pipeline_start (zflow_pipeline_t *self)
{
    if (self->error)
        return self->error;
    if (self->running)
        return ZFLOW_EINVAL;
    if (self->size == 0)
        return zflow__pipeline_fail (self, ZFLOW_ECONFIG, "pipeline '%s' has no stage", self->name);
    for (size_t i = 0; i < self->size; i++) {
        zflow__stage_t *stage = self->stages[i];
        bool sink = ZFLOW__STAGE_IS_SINK (stage->kind);
        if (!sink && zlistx_size (stage->outputs) == 0)
            return zflow__pipeline_fail (self, ZFLOW_ECONFIG,
                                         "stage '%s': nothing reads its output", stage->name);
        stage->mode = self->mode;
        stage->hwm = self->hwm;
    }
    if (zflow__pipeline_chain (self->stages, self->size))
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    for (size_t i = 0; i < self->size; i++) {
        zflow__stage_t *stage = self->stages[i];
        if (stage->ops && stage->ops->start) {
            if (stage->ops->start (stage->resource, stage)) {
                s_end_all (self);
                return zflow__pipeline_fail (self, ZFLOW_ECONFIG, "stage '%s' failed to start",
                                             stage->name);
            }
            stage->resource_started = true;
        }
    }
    for (size_t i = self->size; i-- > 0;) {
        zflow__stage_t *stage = self->stages[i];
        if (stage->host)
            continue; //  runs in its head's actor
        stage->actor = zflow_actor_start (zflow__stage_actor, stage);
        if (!stage->actor) {
            s_end_all (self);
            return zflow__pipeline_fail (self, ZFLOW_ECONFIG, "stage '%s' failed to start",
                                         stage->name);
        }
        if (self->verbose)
            zflow_actor_set_verbose (stage->actor, true);
    }
    for (size_t i = 0; i < self->size; i++) {
        zflow__stage_t *stage = self->stages[i];
        if (stage->resource_started && stage->ops->running &&
            stage->ops->running (stage->resource, stage)) {
            s_end_all (self);
            return zflow__pipeline_fail (self, ZFLOW_ECONFIG, "stage '%s' failed to start",
                                         stage->name);
        }
    }
    self->running = true;
    return 0;
}

//  Sends a command and waits up to timeout_ms for its reply (command,
//  value), skipping late replies to earlier requests that timed out
//  (STATS replies included). Returns the value (the caller frees it), or
//  NULL on timeout.
static char *s_ask (zactor_t *actor, const char *command, const char *arg, int timeout_ms)
{
    if (arg ? zstr_sendx (actor, command, arg, NULL) : zstr_send (actor, command))
        return NULL;
    int64_t deadline = zclock_mono () + timeout_ms;
    char *value = NULL;
    while (!value) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            break;
        zsock_set_rcvtimeo (actor, (int) left);
        zmsg_t *reply = zmsg_recv (actor);
        if (!reply)
            break;
        char *name = zmsg_popstr (reply);
        if (name && streq (name, command) && zmsg_size (reply) == 1)
            value = zmsg_popstr (reply);
        zstr_free (&name);
        zmsg_destroy (&reply);
    }
    zsock_set_rcvtimeo (actor, -1);
    return value;
}

int zflow_pipeline_stop (zflow_pipeline_t *self, int timeout_ms)
{
    if (!self->running)
        return ZFLOW_EINVAL;
    char text[16];
    snprintf (text, sizeof (text), "%d", timeout_ms);
    int rc = 0;
    for (size_t i = 0; i < self->size; i++) {
        //  a chained stage was drained with its head: nothing can reach it
        //  but through the head's actor, which passed everything on
        char *reply = self->stages[i]->host
                          ? strdup ("0")
                          : s_ask (self->stages[i]->actor, "DRAIN", text, timeout_ms + 1000);
        if (!reply || !streq (reply, "0")) {
            zsys_warning ("%s: stage '%s' did not drain in time", self->name,
                          self->stages[i]->name);
            rc = ZFLOW_ETIMEDOUT;
        }
        zstr_free (&reply);
        zflow__stage_t *stage = self->stages[i];
        if (stage->resource_started && stage->ops->drain &&
            stage->ops->drain (stage->resource, stage, zclock_mono () + timeout_ms)) {
            zsys_warning ("%s: stage '%s' did not drain in time", self->name, stage->name);
            rc = ZFLOW_ETIMEDOUT;
        }
    }
    s_end_all (self);
    self->running = false;
    return rc;
}

bool zflow_pipeline_running (zflow_pipeline_t *self)
{
    return self->running;
}

bool zflow_pipeline_sources_done (zflow_pipeline_t *self)
{
    bool any = false;
    for (size_t i = 0; self->running && i < self->size; i++) {
        zflow__stage_t *stage = self->stages[i];
        if (stage->kind != ZFLOW__STAGE_SYNTH)
            continue;
        char *reply = s_ask (stage->actor, "DONE", NULL, 1000);
        bool done = reply && streq (reply, "1");
        zstr_free (&reply);
        if (!done)
            return false;
        any = true;
    }
    return any;
}

int zflow_pipeline_error (zflow_pipeline_t *self)
{
    return self->error;
}

const char *zflow_pipeline_error_text (zflow_pipeline_t *self)
{
    return self->error ? self->error_text : "no error";
}

size_t zflow_pipeline_size (zflow_pipeline_t *self)
{
    return self->size;
}

const char *zflow_pipeline_stage_name (zflow_pipeline_t *self, size_t index)
{
    return index < self->size ? self->stages[index]->name : NULL;
}

const char *zflow_pipeline_stage_kind (zflow_pipeline_t *self, size_t index)
{
    return index < self->size ? zflow__stage_kind_name (self->stages[index]->kind) : NULL;
}

char *zflow_pipeline_stage_bindings (zflow_pipeline_t *self, size_t index)
{
    if (!self->running || index >= self->size)
        return NULL;
    zflow__stage_t *stage = self->stages[index];
    char *reply = stage->host ? s_ask (stage->host->actor, "BINDINGS", stage->name, 1000)
                              : s_ask (stage->actor, "BINDINGS", NULL, 1000);
    if (reply && !*reply)
        zstr_free (&reply);
    return reply;
}

zhash_t *zflow_pipeline_stage_stats (zflow_pipeline_t *self, size_t index, int timeout_ms)
{
    if (!self || !self->running || index >= self->size)
        return NULL;
    zflow__stage_t *stage = self->stages[index];
    zhash_t *all = zflow_actor_stats (stage->host ? stage->host->actor : stage->actor, timeout_ms);
    zhash_t *stats = all ? zflow__stage_counters (all, stage) : NULL;
    zhash_destroy (&all);
    return stats;
}

//  Returns the index of stage in the pipeline.
static size_t s_index (zflow_pipeline_t *self, zflow__stage_t *stage)
{
    size_t index = 0;
    while (index < self->size && self->stages[index] != stage)
        index++;
    return index;
}

zhash_t *zflow_pipeline_stats (zflow_pipeline_t *self, int timeout_ms)
{
    if (!self || !self->running)
        return NULL;
    zhash_t *all = zhash_new ();
    //  one STATS request per actor, so the stages of a chain are counted
    //  at the same moment: replies[i] is the reply of stage i's actor
    zhash_t **replies = (zhash_t **) calloc (self->size, sizeof (zhash_t *));
    if (all)
        zhash_autofree (all);
    if (!replies)
        zhash_destroy (&all);
    int64_t deadline = zclock_mono () + timeout_ms;
    for (size_t i = 0; all && i < self->size; i++) {
        zflow__stage_t *stage = self->stages[i];
        size_t head = stage->host ? s_index (self, stage->host) : i;
        int64_t left = timeout_ms < 0 ? -1 : deadline - zclock_mono ();
        if (!replies[head] && (timeout_ms < 0 || left > 0))
            replies[head] = zflow_actor_stats (self->stages[head]->actor, (int) left);
        zhash_t *stats = replies[head] ? zflow__stage_counters (replies[head], stage) : NULL;
        if (!stats) {
            zhash_destroy (&all); //  a stage did not answer in time
            break;
        }
        for (const char *value = (const char *) zhash_first (stats); value;
             value = (const char *) zhash_next (stats)) {
            char name[S_NAME_MAX + 256];
            snprintf (name, sizeof (name), "%s.%s", self->stages[i]->name, zhash_cursor (stats));
            zhash_update (all, name, (void *) value);
        }
        zhash_destroy (&stats);
    }
    for (size_t i = 0; replies && i < self->size; i++)
        zhash_destroy (&replies[i]);
    free (replies);
    return all;
}

void zflow_pipeline_set_verbose (zflow_pipeline_t *self, bool verbose)
{
    if (!self)
        return;
    self->verbose = verbose;
    for (size_t i = 0; self->running && i < self->size; i++)
        zflow_actor_set_verbose (self->stages[i]->actor, verbose); //  NULL (chained): nothing
}
