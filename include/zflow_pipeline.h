/*  =========================================================================
    zflow_pipeline - stage actors joined by zflow streams

    A pipeline is a chain of stages, each one actor with its own thread
    unless chained (below):

        sources     read a ZeroMQ endpoint (PULL or SUB, bound or connected)
                    or generate synthetic events, and wrap what they read
                    into zflow envelopes (messages that already are
                    envelopes pass unchanged)
        merge       takes N sources into one stream
        map         changes each envelope (a C callback or a built-in: key
                    rewrite, JSON <-> msgpack re-encoding)
        filter      keeps or drops each envelope (a C callback or a built-in:
                    JSON field match, non-empty field)
        sinks       write to a ZeroMQ endpoint (PUSH or PUB, bound or
                    connected), or to stdout or a file as JSON lines

    Stages are joined by inproc PUSH/PULL links, one per consumer (so two
    sinks after one stage each get every message), and each link is a
    watermark-bounded zflow stream. Envelopes cross these links by
    pointer (a frame of pointers to heap envelopes, a batch of what the
    sender had ready); only source and sink endpoints carry the wire
    format. The builder is sequential: each source
    added after another source joins the same group; a map, filter or
    merge consumes the current group (all its stages) and becomes the
    current group; a sink consumes the current group and leaves it as it is,
    so several sinks in a row all receive the same messages.

        zflow_pipeline_config_t config;
        zflow_pipeline_config_init (&config);
        config.name = "bridge";
        zflow_pipeline_t *p = zflow_pipeline_new (&config, NULL);
        zflow_pipeline_source (p, "in", "pull", "tcp://127.0.0.1:*", NULL);
        zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
        zflow_pipeline_encode (p, "reencode", ZFLOW_PIPELINE_JSON);
        zflow_pipeline_sink_file (p, "stdout", "-");
        if (zflow_pipeline_start (p) == 0) {
            ...
            zflow_pipeline_stop (p, 5000);
        }
        zflow_pipeline_destroy (&p);

    Builder calls return 0 or an error; the first error is also kept and
    returned again by zflow_pipeline_start, so a caller may build without
    checking each call ("fluent" use) and check once at start.

    Delivery. Lossless (the default): a stage whose output link is above its
    write watermark stops reading its input, its input buffer fills and
    stops reading its socket, ZeroMQ's HWM pushes back on the stage before,
    and so on back to the sources, which stop reading their sockets. Nothing
    is dropped inside zflow. Lossy: a stage drops a message for an output
    link that is above its watermark and counts it under the link's name
    ("drops.<consumer>" in the stage's STATS); sources keep reading.

    Stop drains: sources stop reading, then each stage in order takes in
    and passes on everything in flight before the next one is asked.

    Chaining. At start, a map, a filter, a sink on ZeroMQ endpoints or a
    sink callback (zflow_pipeline_sink_fn) that reads only one stage, which
    feeds nothing else, runs in that stage's actor: the actor calls the
    callbacks in turn on each message, and the link between them (a
    thread hop, a queue) is gone. So "source -> map
    -> filter -> sink" is one actor. Nothing else changes: each stage keeps
    its STATS under its own name, backpressure reaches the sources as
    before (a full output stops the actor reading its input), and stop
    drains a chain as one stage. zflow_pipeline_stage_own_thread (or
    "thread = own" in a configuration file) keeps a stage on a thread of
    its own, for a callback slow enough to be worth a core.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_PIPELINE_H_INCLUDED
#define ZFLOW_PIPELINE_H_INCLUDED

#include "zflow_centrifugo_sink.h"
#include "zflow_hpfeeds.h"
#include "zflow_msg.h"
#include "zflow_redis.h"
#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_pipeline_t zflow_pipeline_t;

//  Delivery modes.
typedef enum {
    ZFLOW_PIPELINE_LOSSLESS = 0, //  backpressure to the sources, no drops
    ZFLOW_PIPELINE_LOSSY = 1     //  drop (and count) at full links
} zflow_pipeline_mode_t;

//  Payload encodings for zflow_pipeline_encode.
typedef enum {
    ZFLOW_PIPELINE_JSON = 0,   //  application/json
    ZFLOW_PIPELINE_MSGPACK = 1 //  application/msgpack
} zflow_pipeline_encoding_t;

//  Changes an envelope in place (key, meta, payload frames). Runs in the
//  stage's thread. Returns 0 to pass msg on, or a negative zflow code to
//  drop it (counted as "errors" in the stage's STATS).
typedef int (zflow_pipeline_map_fn) (zflow_msg_t *msg, void *arg);

//  Decides whether an envelope goes on. Runs in the stage's thread. Returns
//  true to keep msg, false to drop it (counted as "filtered").
typedef bool (zflow_pipeline_filter_fn) (const zflow_msg_t *msg, void *arg);

//  Frees a callback's argument when the pipeline is destroyed.
typedef void (zflow_pipeline_free_fn) (void *arg);

//  Default link watermark in messages.
#define ZFLOW_PIPELINE_DEFAULT_HWM 1000

//  The settings of a pipeline. zflow_pipeline_new copies what it needs; the
//  caller keeps the struct (and its strings) and may free or reuse it at
//  once. A zeroed struct also means the defaults (NULL name, 0 hwm).
typedef struct {
    const char *name;           //  labels stages in traces (default "pipeline")
    zflow_pipeline_mode_t mode; //  delivery mode (default ZFLOW_PIPELINE_LOSSLESS)
    int hwm;                    //  watermark of every link in envelopes: what each
                                //  side's buffer holds at most, and the ZeroMQ HWM
                                //  of source and sink endpoints (default 1000)
    bool verbose;               //  every stage traces to stderr (default false)
} zflow_pipeline_config_t;

//  Sets every field of config to its default. NULL does nothing.
void zflow_pipeline_config_init (zflow_pipeline_config_t *config);

//  Creates an empty pipeline from config (NULL: all defaults), copied.
//  Returns the pipeline (the caller owns it; zflow_pipeline_destroy), or
//  NULL with *err_p (if err_p is not NULL) set to ZFLOW_EINVAL (unknown
//  mode, negative hwm) or ZFLOW_ENOMEM; *err_p is 0 on success.
zflow_pipeline_t *zflow_pipeline_new (const zflow_pipeline_config_t *config, int *err_p);

//  Stops the pipeline if it runs (draining for up to 2 s), frees every
//  stage and callback argument; sets *self_p to NULL. Idempotent and
//  NULL-safe (self_p NULL or *self_p NULL do nothing).
void zflow_pipeline_destroy (zflow_pipeline_t **self_p);

//  Uses CURVE on the ZeroMQ endpoints of the stages added after this call
//  (until called again). server_cert: a czmq zcert file (secret key) for a
//  side that binds as CURVE server; client_cert: a zcert file (secret key)
//  for a side that connects; server_key: the server's public key file
//  (zcert public file) or Z85 text for the connecting side. Pass NULLs to
//  turn CURVE off again. The files are read at start. Returns 0 or
//  ZFLOW_ENOMEM.
int zflow_pipeline_set_curve (zflow_pipeline_t *self, const char *server_cert,
                              const char *client_cert, const char *server_key);

//  Makes the stages named in names (comma-separated) the current group, so
//  the next merge, map, filter or sink reads from all of them: for graphs
//  that are not a chain, such as a config file's explicit links. Returns
//  0, ZFLOW_ENOTFOUND (no stage of a name) or ZFLOW_EINVAL (a sink named,
//  or no name).
int zflow_pipeline_from (zflow_pipeline_t *self, const char *names);

//  Adds a source reading ZeroMQ endpoints: type "pull" or "sub"; bind and
//  connect are comma-separated endpoint lists (either may be NULL, not
//  both). A SUB subscribes to everything. Messages that are not zflow
//  envelopes are wrapped with the key "zflow/<name>". Returns 0, or
//  ZFLOW_EINVAL (bad type, no endpoint, duplicate name) or ZFLOW_ENOMEM.
int zflow_pipeline_source (zflow_pipeline_t *self, const char *name, const char *type,
                           const char *bind, const char *connect);

//  Sets the key prefixes the SUB source added last subscribes to: text
//  forms ("hpfeeds/dionaea.capture"), comma-separated, each matched as a
//  ZeroMQ prefix of the key's wire form (so a hub's keys can be picked on
//  its bound sub endpoint). Default: everything. Returns 0, ZFLOW_EINVAL
//  (the last stage is not a SUB source) or ZFLOW_ECONFIG (a bad key).
int zflow_pipeline_subscribe (zflow_pipeline_t *self, const char *prefixes);

//  Adds a source generating honeypot-style JSON events (key
//  "synthetic/events"): about one event in three has a non-empty "hashes"
//  list. rate: events per second (0: as fast as the links take them);
//  count: stop after so many (0: never). Returns as zflow_pipeline_source.
int zflow_pipeline_source_synthetic (zflow_pipeline_t *self, const char *name, uint64_t rate,
                                     uint64_t count);

//  Adds a source subscribed to channels (comma-separated) on an hpfeeds
//  broker, through a zflow_hpfeeds_t client the pipeline creates at start
//  (from config, copied; lossless follows the pipeline's mode) and
//  destroys at stop. Envelopes keep the client's key ("hpfeeds",
//  <channel>) and its "ident" meta. The stage's STATS add the client's
//  counters as "hpfeeds.<name>" and "reconnects" (its disconnects).
//  Returns 0, ZFLOW_EINVAL (no channel, bad name) or ZFLOW_ENOMEM; a
//  config the client refuses makes start fail.
int zflow_pipeline_source_hpfeeds (zflow_pipeline_t *self, const char *name,
                                   const zflow_hpfeeds_config_t *config, const char *channels);

//  Adds a sink publishing the first payload frame of each message to an
//  hpfeeds channel through a client the pipeline owns (as above; lossless
//  uses the BLOCK outbox policy so the broker's pace pushes back). At stop
//  it waits until the client has written everything the stage passed it.
int zflow_pipeline_sink_hpfeeds (zflow_pipeline_t *self, const char *name,
                                 const zflow_hpfeeds_config_t *config, const char *channel);

//  Adds a source reading a hub's envelopes whose key matches pattern (text
//  form, "/" between components, "*" wildcards as in zflow_hub.h, e.g.
//  "hpfeeds/*"), key, meta and payload untouched. hub is the name of a hub
//  of this process (looked up at start; the hub must not be destroyed
//  while the pipeline starts) or the sub endpoint it bound
//  (zflow_hub_bound_sub, any text with "://"). The hub subscriber the
//  stage uses is created at start: for a hub of this process the
//  subscription is in effect when start returns; for an endpoint start
//  waits up to 5 s for the hub's addedSubscriber notice. Lossless: a full
//  stage holds the hub back (ZFLOW_HUB_BLOCK); lossy: the subscriber drops
//  the newest (ZFLOW_HUB_DROP_NEWEST). STATS add the subscriber's counters
//  as "hub.<name>". Returns 0, ZFLOW_EINVAL (no hub or pattern, bad
//  name), ZFLOW_ECONFIG (bad pattern) or ZFLOW_ENOMEM; no such hub, or
//  one that does not answer, makes start fail.
int zflow_pipeline_source_hub (zflow_pipeline_t *self, const char *name, const char *hub,
                               const char *pattern);

//  Adds a sink publishing each envelope into a hub as it is (meta and
//  payload untouched), its key under prefix (text form; NULL or "" for
//  none). hub as for zflow_pipeline_source_hub, an endpoint being the pub
//  endpoint the hub bound (zflow_hub_bound_pub). The hub publisher is
//  created at start and returns once the hub takes its messages, so
//  nothing the sink is passed after start is lost. Lossless: when the hub
//  holds back the stage waits (up to 5 s per message, keeping it); lossy:
//  messages meeting a full publisher buffer are dropped (counted in
//  drops). At stop it sends what the publisher still holds. Returns as
//  zflow_pipeline_source_hub.
int zflow_pipeline_sink_hub (zflow_pipeline_t *self, const char *name, const char *hub,
                             const char *prefix);

//  Adds a source reading a WebSocket feed (zflow_ws_t) at url (ws:// or
//  wss://), created at start: its messages matching filter (a JSON list
//  of objects, NULL or "" for all) arrive as envelopes with key ("ws",
//  <name>). send (may be NULL) is sent after every connect (a login or
//  subscribe message). Lossless pipelines pause reading the WebSocket when
//  the stage is full; lossy ones drop at the feed (counted there). STATS
//  add the feed's counters as "ws.<name>" and "reconnects". A url that
//  zflow_adapter_url_parse refuses (a port out of 1-65535, a space...) or
//  not ws:// / wss:// is ZFLOW_EINVAL, said by zflow_pipeline_error_text.
int zflow_pipeline_source_ws (zflow_pipeline_t *self, const char *name, const char *url,
                              const char *filter, const char *send);

//  Adds a sink sending the first payload frame of each envelope to a
//  WebSocket server at url through a zflow_ws_t created at start (text
//  when it is UTF-8, else binary); send (may be NULL) goes first after
//  every connect. While the connection is down, messages wait in the
//  feed's send queue (1000); a full queue holds a lossless stage back for
//  up to 5 s per message, and drops (counted) in lossy mode. Messages still
//  queued at stop are discarded by the feed (its send_dropped). STATS add
//  the feed's counters as "ws.<name>" and "reconnects". A bad url is
//  ZFLOW_EINVAL, as for zflow_pipeline_source_ws.
int zflow_pipeline_sink_ws (zflow_pipeline_t *self, const char *name, const char *url,
                            const char *send);

//  Adds a sink publishing each envelope into Centrifugo through a
//  zflow_centrifugo_sink_t created at start from config (copied; its input
//  fields are set by the pipeline, lossy follows the mode): the key maps to
//  the channel by config->channel_rule. At stop it waits until the sink has
//  published (or rejected, or dropped) all it was passed. STATS add the
//  sink's counters as "centrifugo.<name>". No config->address, or one
//  that is not a valid http:// or https:// URL (zflow_adapter_url_parse),
//  is ZFLOW_EINVAL, said by zflow_pipeline_error_text.
int zflow_pipeline_sink_centrifugo (zflow_pipeline_t *self, const char *name,
                                    const zflow_centrifugo_sink_config_t *config);

//  Adds a source reading Redis (pub/sub channels and patterns, or a Stream
//  in a consumer group) through a zflow_redis_source_t created at start
//  from config (copied; its endpoint, name and lossless fields are set by
//  the pipeline) and connected once the stages run. STATS add the
//  source's counters as "redis.<name>". No host, a port out of range, a
//  stream mode without stream or a pubsub mode without channel or pattern
//  is ZFLOW_EINVAL, said by zflow_pipeline_error_text.
int zflow_pipeline_source_redis (zflow_pipeline_t *self, const char *name,
                                 const zflow_redis_config_t *config);

//  Adds a sink writing each envelope into Redis (PUBLISH or XADD) through a
//  zflow_redis_sink_t created at start from config (copied; its input is
//  set by the pipeline, lossy follows the mode). At stop it waits until
//  the sink has delivered (or dropped, counted) all it was passed. STATS
//  add the sink's counters as "redis.<name>". Errors as for
//  zflow_pipeline_source_redis (inflight 0 too).
int zflow_pipeline_sink_redis (zflow_pipeline_t *self, const char *name,
                               const zflow_redis_config_t *config);

//  Adds a merge stage taking the current group of stages into one stream.
int zflow_pipeline_merge (zflow_pipeline_t *self, const char *name);

//  Adds a map stage calling fn on every envelope. free_fn (may be NULL)
//  frees arg when the pipeline is destroyed. Returns 0, ZFLOW_EINVAL
//  (no fn, nothing before it, duplicate name) or ZFLOW_ENOMEM.
int zflow_pipeline_map (zflow_pipeline_t *self, const char *name, zflow_pipeline_map_fn *fn,
                        void *arg, zflow_pipeline_free_fn *free_fn);

//  Adds a filter stage calling fn on every envelope. As zflow_pipeline_map.
int zflow_pipeline_filter (zflow_pipeline_t *self, const char *name, zflow_pipeline_filter_fn *fn,
                           void *arg, zflow_pipeline_free_fn *free_fn);

//  Adds a filter keeping JSON (or msgpack) payloads whose top-level fields
//  match: match is a JSON list of objects (or one object); a message
//  matches when all key/value pairs of any one object equal its top-level
//  fields. Returns 0, ZFLOW_ECONFIG (match is not such JSON) or as
//  zflow_pipeline_map.
int zflow_pipeline_filter_json (zflow_pipeline_t *self, const char *name, const char *match);

//  Adds a filter keeping JSON (or msgpack) payloads whose top-level field
//  is present and non-empty (a non-empty string, list or object, or any
//  number, true). Returns as zflow_pipeline_map.
int zflow_pipeline_filter_nonempty (zflow_pipeline_t *self, const char *name, const char *field);

//  Adds a map rewriting keys: a key starting with the components of from
//  (text form "a/b"; "" matches every key) gets them replaced by to (text
//  form; "" removes them, but a key never becomes empty). Other keys pass
//  unchanged. Returns 0, ZFLOW_ECONFIG (bad key text) or as
//  zflow_pipeline_map.
int zflow_pipeline_rekey (zflow_pipeline_t *self, const char *name, const char *from,
                          const char *to);

//  Adds a map re-encoding JSON or msgpack payloads into encoding (and
//  setting the meta content type). A payload that is neither is dropped
//  and counted as an error. Returns as zflow_pipeline_map.
int zflow_pipeline_encode (zflow_pipeline_t *self, const char *name,
                           zflow_pipeline_encoding_t encoding);

//  Adds a sink writing envelopes to ZeroMQ endpoints: type "push" or
//  "pub"; bind / connect as for zflow_pipeline_source. Another pipeline's
//  source reads them as they are. Returns as zflow_pipeline_source.
int zflow_pipeline_sink (zflow_pipeline_t *self, const char *name, const char *type,
                         const char *bind, const char *connect);

//  Adds a sink calling fn on every envelope (in the stage's thread): fn
//  writes it wherever it goes and returns 0 (counted in msgs_out),
//  ZFLOW_EFULL (dropped by the sink's own policy, counted in drops) or
//  another negative code (counted in errors). As zflow_pipeline_map for
//  arg and free_fn. Lets any client library be a sink.
int zflow_pipeline_sink_fn (zflow_pipeline_t *self, const char *name, zflow_pipeline_map_fn *fn,
                            void *arg, zflow_pipeline_free_fn *free_fn);

//  Adds a sink writing one JSON line per message to path ("-" is stdout;
//  a file is appended to). A JSON payload is written as it is, msgpack is
//  converted, anything else becomes a JSON string. Returns as
//  zflow_pipeline_source.
int zflow_pipeline_sink_file (zflow_pipeline_t *self, const char *name, const char *path);

//  Keeps the stage called name on an actor (a thread) of its own when own
//  is true: it neither joins the actor of the stage that feeds it nor
//  takes the stages after it into its own. false restores the default
//  (chained where possible). Takes effect at the next start. Returns 0,
//  ZFLOW_ENOTFOUND (no stage of that name) or ZFLOW_EINVAL (NULL self,
//  or the pipeline is running).
int zflow_pipeline_stage_own_thread (zflow_pipeline_t *self, const char *name, bool own);

//  Returns the name of the stage whose actor runs stage index while the
//  pipeline runs: its own name if it has an actor of its own, else the
//  first stage of its chain (owned by the pipeline); NULL when not
//  running, NULL self or no such stage.
const char *zflow_pipeline_stage_host (zflow_pipeline_t *self, size_t index);

//  Starts every stage, sinks first. Returns 0, the first builder error, or
//  ZFLOW_ECONFIG (no stage, or a stage failed to start: bad endpoint,
//  unreadable file, CURVE file missing; nothing is left running).
int zflow_pipeline_start (zflow_pipeline_t *self);

//  Stops a running pipeline: sources stop reading, then each stage drains
//  in order (each waits up to timeout_ms for its outputs), then all stages
//  end. Returns 0, ZFLOW_ETIMEDOUT (a stage did not drain in time; the rest
//  was still stopped) or ZFLOW_EINVAL (not running).
int zflow_pipeline_stop (zflow_pipeline_t *self, int timeout_ms);

//  True between a successful start and stop.
bool zflow_pipeline_running (zflow_pipeline_t *self);

//  True when every synthetic source has sent its count of events (false if
//  there is none or one has no count).
bool zflow_pipeline_sources_done (zflow_pipeline_t *self);

//  Returns the first builder error (0 if none) and its text (never NULL).
int zflow_pipeline_error (zflow_pipeline_t *self);
const char *zflow_pipeline_error_text (zflow_pipeline_t *self);

//  Returns the number of stages, and the name and kind ("source", "merge",
//  "map", "filter", "sink") of stage index (NULL past the end; owned by
//  the pipeline).
size_t zflow_pipeline_size (zflow_pipeline_t *self);
const char *zflow_pipeline_stage_name (zflow_pipeline_t *self, size_t index);
const char *zflow_pipeline_stage_kind (zflow_pipeline_t *self, size_t index);

//  Returns the endpoints a source or sink stage bound, with real ports
//  (comma-separated; NULL if the stage binds nothing or is not running).
//  The caller frees the string.
char *zflow_pipeline_stage_bindings (zflow_pipeline_t *self, size_t index);

//  Asks stage index for STATS (zflow_actor_stats). Returns the hash (the
//  caller owns it; zhash_destroy), or NULL (NULL self, not running, no such
//  stage, timeout). Besides the standard counters: "filtered", "errors",
//  "pauses", and for each output link "drops.<consumer>".
zhash_t *zflow_pipeline_stage_stats (zflow_pipeline_t *self, size_t index, int timeout_ms);

//  Asks every stage for STATS, within timeout_ms in all. Returns one hash
//  of "<stage name>.<counter>" -> decimal text for all stages (the caller
//  owns it; zhash_destroy), or NULL (NULL self, not running, or a stage
//  did not answer in time).
zhash_t *zflow_pipeline_stats (zflow_pipeline_t *self, int timeout_ms);

//  Turns tracing to stderr on or off for every stage: at once for a running
//  pipeline, and for the stages of every later start. NULL does nothing.
void zflow_pipeline_set_verbose (zflow_pipeline_t *self, bool verbose);

#ifdef __cplusplus
}
#endif

#endif
