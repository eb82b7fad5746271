/*  =========================================================================
    zflow_cli_poll - the counters of a running pipeline, polled in the
    background and served from a cache

    zflow run's main loop must answer /health, /metrics and zflow stats at
    once, but a stage can take seconds to answer STATS (an hpfeeds stage
    asks its client actor, which may be busy). So one thread of our own
    asks every stage in turn (zflow_pipeline_stats, whose STATS requests
    are tagged: a late reply is recognised and skipped) and keeps the last
    reply of each with the time it came. Readers copy from the cache under
    a mutex and never wait for a stage. A stage whose last reply is older
    than the stale limit (or that never answered since the start) is
    stale.

    The poller is the only thread that talks to the stages while it runs
    (a zactor socket is not thread-safe): it also asks whether the sources
    are done, and the main loop reads that flag.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_cli_embedded.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

//  The last reply of one stage.
typedef struct {
    zhash_t *stats; //  counters of the last reply, or NULL (none yet)
    int64_t at;     //  when it came (monotonic ms), or 0
} s_entry_t;

struct _zflow_cli_poll_t {
    zflow_pipeline_t *pipeline;     //  the running pipeline (not owned)
    zflow_cli_embedded_t *embedded; //  the embedded default, or NULL (not owned)
    size_t size;                    //  number of stages
    s_entry_t *entries;             //  one per stage, guarded by mutex
    pthread_mutex_t mutex;          //  guards entries
    int interval_ms;                //  pause between two rounds
    int timeout_ms;                 //  wait per STATS request
    int64_t stale_ms;               //  a reply older than this is stale
    int64_t started;                //  when polling began (monotonic ms)
    atomic_bool done;               //  every (synthetic) source has finished
    atomic_uint_fast64_t rounds;    //  rounds completed
    zactor_t *actor;                //  the polling thread
};

//  True when $TERM arrived on the pipe (waiting up to wait_ms).
static bool s_terminated (zpoller_t *poller, zsock_t *pipe, int wait_ms)
{
    if (!zpoller_wait (poller, wait_ms))
        return zpoller_terminated (poller);
    char *command = zstr_recv (pipe);
    bool term = !command || streq (command, "$TERM");
    zstr_free (&command);
    return term;
}

static void s_poller (zsock_t *pipe, void *arg)
{
    zflow_cli_poll_t *self = (zflow_cli_poll_t *) arg;
    zpoller_t *poller = zpoller_new (pipe, NULL);
    zsock_signal (pipe, 0);
    bool term = false;
    while (!term) {
        for (size_t i = 0; i < self->size && !term; i++) {
            zhash_t *stats = zflow_pipeline_stage_stats (self->pipeline, i, self->timeout_ms);
            if (stats) {
                pthread_mutex_lock (&self->mutex);
                zhash_destroy (&self->entries[i].stats);
                self->entries[i].stats = stats;
                self->entries[i].at = zclock_mono ();
                pthread_mutex_unlock (&self->mutex);
            }
            term = s_terminated (poller, pipe, 0);
        }
        if (!term && !atomic_load (&self->done))
            atomic_store (&self->done, self->embedded
                                           ? zflow_cli_embedded_done (self->embedded)
                                           : zflow_pipeline_sources_done (self->pipeline));
        atomic_fetch_add (&self->rounds, 1);
        term = term || s_terminated (poller, pipe, self->interval_ms);
    }
    zpoller_destroy (&poller);
}

zflow_cli_poll_t *zflow_cli_poll_new (zflow_pipeline_t *pipeline, zflow_cli_embedded_t *embedded,
                                      int interval_ms, int64_t stale_ms)
{
    zflow_cli_poll_t *self = (zflow_cli_poll_t *) zmalloc (sizeof (zflow_cli_poll_t));
    self->pipeline = pipeline;
    self->embedded = embedded;
    self->size = zflow_pipeline_size (pipeline);
    self->entries = (s_entry_t *) zmalloc (sizeof (s_entry_t) * (self->size + 1));
    pthread_mutex_init (&self->mutex, NULL);
    self->interval_ms = interval_ms;
    self->timeout_ms = 1000;
    self->stale_ms = stale_ms;
    self->started = zclock_mono ();
    atomic_init (&self->done, false);
    atomic_init (&self->rounds, 0);
    self->actor = zactor_new (s_poller, self);
    return self;
}

void zflow_cli_poll_destroy (zflow_cli_poll_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_cli_poll_t *self = *self_p;
    zactor_destroy (&self->actor); //  waits for a request in flight (at most its timeout)
    for (size_t i = 0; i < self->size; i++)
        zhash_destroy (&self->entries[i].stats);
    free (self->entries);
    pthread_mutex_destroy (&self->mutex);
    free (self);
    *self_p = NULL;
}

zhash_t *zflow_cli_poll_get (zflow_cli_poll_t *self, size_t index, int64_t *age_p)
{
    zhash_t *copy = NULL;
    int64_t age = -1;
    if (index < self->size) {
        pthread_mutex_lock (&self->mutex);
        if (self->entries[index].stats) {
            copy = zhash_dup (self->entries[index].stats);
            age = zclock_mono () - self->entries[index].at;
        }
        pthread_mutex_unlock (&self->mutex);
    }
    if (age_p)
        *age_p = age;
    return copy;
}

bool zflow_cli_poll_stale (zflow_cli_poll_t *self, int64_t age)
{
    return age < 0 ? zclock_mono () - self->started > self->stale_ms : age > self->stale_ms;
}

bool zflow_cli_poll_done (zflow_cli_poll_t *self)
{
    return atomic_load (&self->done);
}

uint64_t zflow_cli_poll_rounds (zflow_cli_poll_t *self)
{
    return atomic_load (&self->rounds);
}

zflow_pipeline_t *zflow_cli_poll_pipeline (zflow_cli_poll_t *self)
{
    return self->pipeline;
}

char *zflow_cli_stats_text (zflow_cli_poll_t *poll)
{
    char *text = NULL;
    size_t size = 0;
    FILE *file = open_memstream (&text, &size);
    if (!file)
        return NULL;
    zflow_pipeline_t *pipeline = poll->pipeline;
    for (size_t i = 0; i < zflow_pipeline_size (pipeline); i++) {
        int64_t age;
        zhash_t *stats = zflow_cli_poll_get (poll, i, &age);
        const char *name = zflow_pipeline_stage_name (pipeline, i);
        const char *kind = zflow_pipeline_stage_kind (pipeline, i);
        zlist_t *keys = stats ? zhash_keys (stats) : NULL;
        if (keys)
            zlist_sort (keys, (zlist_compare_fn *) strcmp);
        for (const char *key = keys ? (const char *) zlist_first (keys) : NULL; key;
             key = (const char *) zlist_next (keys))
            fprintf (file, "%s %s %s %s\n", name, kind, key,
                     (const char *) zhash_lookup (stats, key));
        //  how old these counters are (-1: the stage has not answered yet)
        fprintf (file, "%s %s stats_age_ms %" PRId64 "\n", name, kind, age);
        zlist_destroy (&keys);
        zhash_destroy (&stats);
    }
    fclose (file);
    return text;
}
