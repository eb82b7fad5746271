/*  =========================================================================
    zflow_redis - the Redis adapter's configuration: one struct for its
    source (zflow_redis_source.h) and its sink (zflow_redis_sink.h)

    Both talk to one Redis server over hiredis's asynchronous API, driven
    from the actor's own zloop (the actor never blocks on Redis), in one
    of two modes:

      pubsub: the source SUBSCRIBEs to channels and PSUBSCRIBEs to
              patterns; the sink PUBLISHes each envelope's payload.
              Redis pub/sub delivers at most once: what is published while
              no subscriber is connected is gone.
      stream: the sink XADDs each payload to a Redis Stream (MAXLEN ~ N
              when maxlen is set); the source reads one with XREADGROUP in
              a consumer group (created with MKSTREAM when missing) and
              XACKs an entry once it was handed to its output socket. After
              a reconnect or a restart it first reads the group's pending
              entries of its consumer (ID 0), then new ones ('>'): nothing
              acknowledged is read again, nothing unacknowledged is lost.

    Connection: plain TCP (hiredis 0.14 has no TLS), AUTH with a password
    (and a user, Redis 6 ACLs) when given, SELECT db when not 0. A lost
    connection is reopened after a backoff that doubles from 100 ms to
    backoff_max_ms, then subscriptions, group and reading resume.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_REDIS_H_INCLUDED
#define ZFLOW_REDIS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The two ways to use Redis.
typedef enum {
    ZFLOW_REDIS_PUBSUB = 0, //  SUBSCRIBE / PSUBSCRIBE, PUBLISH
    ZFLOW_REDIS_STREAM = 1  //  XREADGROUP + XACK, XADD
} zflow_redis_mode_t;

#define ZFLOW_REDIS_PORT 6379
#define ZFLOW_REDIS_INFLIGHT 1000            //  sink: commands awaiting their reply
#define ZFLOW_REDIS_COUNT 100                //  stream source: entries per XREADGROUP
#define ZFLOW_REDIS_BLOCK_MS 1000            //  stream source: XREADGROUP BLOCK
#define ZFLOW_REDIS_MAX_PAYLOAD (512u << 20) //  Redis's default proto-max-bulk-len
#define ZFLOW_REDIS_BACKOFF_MAX_MS 5000      //  longest reconnect delay
#define ZFLOW_REDIS_CONNECT_TIMEOUT_MS 5000  //  a connection not ready by then is retried
#define ZFLOW_REDIS_ACK_MS 100               //  stream source: XACK this long after the handoff
#define ZFLOW_REDIS_SNDHWM 10000             //  source: output socket's high-water mark

//  Settings of a source or a sink. zflow_redis_config_init sets every
//  default. Strings are the caller's: the _new functions copy them.
typedef struct {
    const char *host;        //  server host or address (default "127.0.0.1")
    int port;                //  server port (6379)
    const char *user;        //  ACL user for AUTH, or NULL (AUTH with the password only)
    const char *password;    //  AUTH password, or NULL (no AUTH)
    int db;                  //  database to SELECT (0: none)
    zflow_redis_mode_t mode; //  pubsub (default) or stream
    const char *channels;    //  source pubsub: channels to SUBSCRIBE, comma-separated;
                             //  sink pubsub: the one channel to PUBLISH to, or NULL (from
                             //  the key, see separator)
    const char *patterns;    //  source pubsub: patterns to PSUBSCRIBE, comma-separated
    const char *stream;      //  stream mode: the stream key (source: required; sink: NULL
                             //  names it from each envelope's key)
    const char *group;       //  stream source: consumer group ("zflow")
    const char *consumer;    //  stream source: consumer name ("zflow"): keep it across
                             //  restarts, it owns the pending entries
    const char *start_id;    //  stream source: where a group created now starts: "$"
                             //  (the default: new entries only) or "0" (the whole stream)
    const char *field;       //  stream: the entry field holding the payload ("payload")
    int64_t maxlen;          //  stream sink: XADD MAXLEN ~ maxlen (0: no trimming)
    const char *prefix;      //  source: first key component ("redis"; "" for none)
    const char *separator;   //  channel/stream name <-> key components (":"; "" keeps
                             //  the name as one component)
    size_t max_payload;      //  largest payload sent (512 MiB, lowered to the server's
                             //  proto-max-bulk-len when it tells it)
    size_t inflight;         //  sink: commands awaiting a reply at most (1000)
    size_t count;            //  stream source: entries per read (100)
    int block_ms;            //  stream source: longest blocking read (1000)
    int ack_ms;              //  stream source: an entry is acknowledged this long after its
                             //  handoff to the output (100)
    int backoff_max_ms;      //  longest reconnect delay (5000)
    int connect_timeout_ms;  //  connect + AUTH must be done within (5000)
    const char *input;       //  sink: endpoint its PULL input binds (zsock_attach form,
                             //  "@inproc://x" or "inproc://x": binds; ">..." connects)
    const char *endpoint;    //  source: endpoint its PUB output binds (NULL: a unique
                             //  inproc:// one)
    size_t sndhwm;           //  source: output high-water mark (10000)
    bool lossless;           //  source pubsub: a full output holds messages (and stops
                             //  reading Redis) instead of dropping them; stream mode is
                             //  always lossless
    bool resend;             //  sink: send the commands in flight when a connection broke
                             //  again on the next one (default true: at least once; false:
                             //  count them as lost, at most once)
    bool lossy;              //  sink: read and drop (counted) while disconnected,
                             //  instead of pushing back on the input
    bool manual_start;       //  source: connect only at zflow_redis_source_start
    const char *name;        //  source: meta "source" and trace label ("redis")
} zflow_redis_config_t;

//  Sets every field of config to its default. NULL is ignored.
void zflow_redis_config_init (zflow_redis_config_t *config);

#ifdef __cplusplus
}
#endif

#endif
