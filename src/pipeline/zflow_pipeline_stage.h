/*  =========================================================================
    zflow_pipeline_stage - one pipeline stage: its description and its actor

    Internal to the pipeline. The pipeline fills a zflow__stage_t while it
    is built, then starts zflow__stage_actor on it; the actor reads the
    description (it never changes while the actor runs) and keeps its
    running state to itself.

    Chaining: at start the pipeline fuses runs of stages into one actor
    (zflow__pipeline_chain): the first stage of a run, its head, starts the
    actor and lists the others in chain; each of those has host set to the
    head and no actor of its own. The actor calls their callbacks in turn
    and keeps their counters apart; its STATS reply adds each member's
    counters as "chain/<member>/<counter>".

    Commands on the stage's pipe, besides $TERM / VERBOSE / STATS. Each
    reply repeats the command in its first frame, so a caller that timed
    out and asks again can skip a late reply to the earlier request:
        BINDINGS [name] replies BINDINGS + the endpoints bound by the head
                        (or by the chained sink called name), comma-separated
        DONE            replies DONE + "1" when a synthetic source sent its count
        DRAIN <ms>      stops a source reading, passes on everything in
                        flight, flushes the outputs; replies DRAIN + a zflow
                        code in decimal ("0", "-3" on timeout)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_PIPELINE_STAGE_H_INCLUDED
#define ZFLOW_PIPELINE_STAGE_H_INCLUDED

#include "zflow_meta.h"
#include "zflow_pipeline.h"
#include "zflow_stream.h"

typedef enum {
    ZFLOW__STAGE_SOURCE, //  reads a user ZeroMQ endpoint
    ZFLOW__STAGE_SYNTH,  //  generates synthetic events
    ZFLOW__STAGE_MERGE,  //  passes everything on
    ZFLOW__STAGE_MAP,    //  calls map
    ZFLOW__STAGE_FILTER, //  calls filter
    ZFLOW__STAGE_SINK,   //  writes a user ZeroMQ endpoint
    ZFLOW__STAGE_FILE,   //  writes JSON lines to a file or stdout
    ZFLOW__STAGE_CALL    //  a sink calling map (the write callback)
} zflow__stage_kind_t;

//  True for the kinds that end a chain (nothing reads their output).
#define ZFLOW__STAGE_IS_SINK(kind)                                                                 \
    ((kind) == ZFLOW__STAGE_SINK || (kind) == ZFLOW__STAGE_FILE || (kind) == ZFLOW__STAGE_CALL)

typedef struct _zflow__resource_ops_t zflow__resource_ops_t;
typedef struct _zflow__hop_pool_t zflow__hop_pool_t;

//  A stage's description, owned by the pipeline.
typedef struct _zflow__stage_t {
    char *name;                       //  stage name, unique in the pipeline
    zflow__stage_kind_t kind;         //  what the stage does
    char *input;                      //  inproc endpoint it binds (not sources)
    zlistx_t *outputs;                //  inproc endpoints of its consumers
    zlistx_t *output_names;           //  names of those consumers (same order)
    int sock_type;                    //  ZMQ_PULL/SUB/PUSH/PUB for user endpoints
    char *bind;                       //  user endpoints to bind, or NULL
    char *connect;                    //  user endpoints to connect, or NULL
    char *path;                       //  file sink path ("-" is stdout)
    zlistx_t *subscribe;              //  SUB source: key prefixes (zframe_t, wire form)
    zflow_pipeline_map_fn *map;       //  map callback
    zflow_pipeline_filter_fn *filter; //  filter callback
    void *arg;                        //  argument of the callback
    zflow_pipeline_free_fn *free_fn;  //  frees arg, or NULL
    uint64_t rate;                    //  synthetic: events per second (0: max)
    uint64_t count;                   //  synthetic: events to send (0: no end)
    char *server_cert;                //  CURVE: zcert file of a binding side
    char *client_cert;                //  CURVE: zcert file of a connecting side
    char *server_key;                 //  CURVE: server public key (file or Z85)
    zflow_pipeline_mode_t mode;       //  lossless or lossy
    int hwm;                          //  link watermark in messages
    zactor_t *actor;                  //  the running actor, or NULL
    zflow_stream_t *external;         //  source: an input stream a resource made
                                      //  (used by the actor, owned by the resource)
    const zflow__resource_ops_t *ops; //  its external resource, or NULL
    void *resource;                   //  the resource's state
    bool resource_started;            //  ops->start succeeded
    bool own_thread;                  //  never chained: runs in an actor of its own
    zlistx_t *chain;                  //  head of a run: the stages its actor also runs,
                                      //  in order (not owned), or NULL
    struct _zflow__stage_t *host;     //  chained stage: the head whose actor runs it,
                                      //  or NULL
    zflow__hop_pool_t *pool;          //  the pipeline's empty envelopes (not owned)
} zflow__stage_t;

//  Chain prefix of a chained member's counters in its head's STATS reply.
#define ZFLOW__CHAIN_STATS "chain/"

//  The stage actor; args is the zflow__stage_t (owned by the pipeline).
//  Signals ready with a non-zero status when its sockets or files cannot
//  be opened.
void zflow__stage_actor (zsock_t *pipe, void *args);

//  Applies the stage's CURVE settings to a socket before it binds
//  (is_server) or connects. Returns 0 or ZFLOW_ECONFIG (a key file is
//  missing or unreadable). Defined in zflow_pipeline_curve.c.
int zflow__stage_curve (const zflow__stage_t *stage, zsock_t *sock, bool is_server);

//  An external resource a stage depends on (an adapter client): started
//  before the stages, drained after its stage drained, stopped after the
//  stages ended. Every function may be NULL but free.
struct _zflow__resource_ops_t {
    //  Starts it for stage (may set stage->connect). Returns 0 or a code.
    int (*start) (void *state, zflow__stage_t *stage);
    //  Waits (until deadline, monotonic ms) for what its stage passed on
    //  to leave the process. Returns 0 or ZFLOW_ETIMEDOUT.
    int (*drain) (void *state, zflow__stage_t *stage, int64_t deadline);
    //  Stops it (the stages have ended).
    void (*stop) (void *state);
    //  Adds its counters to a stage's STATS hash.
    void (*stats) (void *state, zhash_t *stats);
    //  Frees state.
    void (*free) (void *state);
    //  Called once every stage actor runs (its sockets connected): a
    //  resource whose first output must not be missed starts producing
    //  here. Returns 0 or a code (the start then fails). May be NULL.
    int (*running) (void *state, zflow__stage_t *stage);
};

//  Attaches a resource to the stage added last; the pipeline owns state
//  from then on (freed with ops->free, also when this call fails).
//  Returns 0, or ZFLOW_EINVAL (no stage) / ZFLOW_ENOMEM.
int zflow__pipeline_add_resource (zflow_pipeline_t *self, const zflow__resource_ops_t *ops,
                                  void *state);

//  Records the pipeline's first builder error (printf-style text) and
//  returns code. Defined in zflow_pipeline.c.
int zflow__pipeline_fail (zflow_pipeline_t *self, int code, const char *format, ...);

//  True when stage may run in the actor of the stage that feeds it: a
//  map or filter, a sink on ZeroMQ endpoints or a sink callback, without
//  a resource (an adapter's client) or the own-thread flag. Defined in
//  zflow_pipeline_chain.c.
bool zflow__stage_chainable (const zflow__stage_t *stage);

//  Decides which stages share an actor (the top of this file): sets the
//  host of every chained stage and lists it in its head's chain, after
//  clearing what an earlier start decided. stages are in the order added.
//  Returns 0 or ZFLOW_ENOMEM. Defined in zflow_pipeline_chain.c.
int zflow__pipeline_chain (zflow__stage_t **stages, size_t size);

//  Returns the counters of stage from its actor's STATS reply all (which
//  stays the caller's): a head's without the chained stages' entries, a
//  chained stage's from under "chain/<name>/", plus its resource's. The
//  caller destroys the result; NULL when out of memory.
zhash_t *zflow__stage_counters (zhash_t *all, zflow__stage_t *stage);

//  Most envelopes in one pointer frame between stages (zflow_pipeline_hop.c).
#define ZFLOW__HOP_BATCH 32

//  One envelope in a pointer frame.
typedef struct {
    zflow_msg_t *msg; //  the heap envelope, NULL once a receiver took it
    size_t bytes;     //  its payload bytes (zflow_msg_content_size)
} zflow__hop_entry_t;

//  Sends count heap envelopes entries[0..count) on a link between stages
//  as one pointer frame (zflow_pipeline_hop.c), using holder (emptied) to
//  carry it. The envelopes belong to the frame from then on, also on
//  failure (they are destroyed); entries is cleared. Returns what
//  zflow_stream_write returns (0, ZFLOW_DRAIN, an error) or ZFLOW_ENOMEM.
int zflow__hop_send (zflow_stream_t *stream, zflow_msg_t *holder, zflow__hop_entry_t *entries,
                     size_t count);

//  Returns the entries of the pointer frame a link delivered in frame
//  (still owned by it) and their number in *count_p, or NULL (and 0) when
//  frame is not one. A receiver takes an envelope by setting its msg to
//  NULL; the frame destroys the envelopes left in it when it is released.
zflow__hop_entry_t *zflow__hop_batch (zflow_msg_t *frame, size_t *count_p);

//  Creates a pool of empty envelopes shared by a pipeline's stages, which
//  keeps at most capacity of them. Returns it (the caller destroys it once
//  no stage runs) or NULL when out of memory.
zflow__hop_pool_t *zflow__hop_pool_new (size_t capacity);

//  Destroys the pool and its envelopes; sets *self_p to NULL. NULL-safe.
void zflow__hop_pool_destroy (zflow__hop_pool_t **self_p);

//  Moves up to max empty envelopes from the pool to nodes (the caller owns
//  them). Returns how many. Thread-safe.
size_t zflow__hop_pool_get (zflow__hop_pool_t *self, zflow_msg_t **nodes, size_t max);

//  Gives count empty envelopes to the pool; those it has no room for are
//  destroyed. Thread-safe.
void zflow__hop_pool_put (zflow__hop_pool_t *self, zflow_msg_t **nodes, size_t count);

//  A source's meta encoding with its sequence number and timestamp left
//  out (zflow_pipeline_meta.c).
typedef struct {
    char wire[ZFLOW_META_MAX_WIRE]; //  the encoding with marker values
    size_t size;                    //  its size
    size_t seq_at;                  //  where the sequence number is (9 bytes)
    size_t ts_at;                   //  where the timestamp is (9 bytes)
} zflow__meta_template_t;

//  Makes self from meta (its seq and timestamp are changed). Returns 0, or
//  -1 when the template would not give zflow_meta_encode's bytes.
int zflow__meta_template_init (zflow__meta_template_t *self, zflow_meta_t *meta);

//  Returns the size of the meta with seq and ts (ts >= 0).
size_t zflow__meta_template_size (const zflow__meta_template_t *self, uint64_t seq, int64_t ts);

//  Writes the meta with seq and ts (ts >= 0) to out, of at least the size
//  zflow__meta_template_size returns.
void zflow__meta_template_fill (const zflow__meta_template_t *self, uint64_t seq, int64_t ts,
                                char *out);

//  Returns a text name for a stage kind.
const char *zflow__stage_kind_name (zflow__stage_kind_t kind);

#endif
