/*  =========================================================================
    zflow_hpfeeds_outbox - the hpfeeds client's outbox (internal): publish
    frames waiting for the connection, fed by the publish hand-off (rings,
    large frames on the PULL socket, what direct writes left) and by
    zflow__hpfeeds_outbox_enqueue

    The outbox holds encoded publish frames, bounded in bytes: DROP_OLDEST
    drops whole frames from the head (never the one partly on the wire) in
    batches of at least a quarter of the outbox, so the cost of moving the
    bytes stays low; BLOCK stops reading the inputs while a frame of the
    largest size might not fit, which pushes back on the publishers.

    The connection (zflow_hpfeeds_conn.c) writes the outbox's bytes and
    reports them with zflow__hpfeeds_outbox_sent; frame_left says how much
    of the head frame is on the wire already, so control frames go between
    whole frames only. Direct writes (see zflow_hpfeeds_handoff.h) are
    turned on and off here.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_OUTBOX_H_INCLUDED
#define ZFLOW_HPFEEDS_OUTBOX_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_hpfeeds.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_handoff.h"
#include "zflow_hpfeeds_proto.h"

//  Called when the outbox took new frames from its input (or a linger
//  ended): the owner writes what it can and calls zflow__hpfeeds_outbox_
//  resume once the outbox has room again.
typedef void (zflow_hpfeeds_outbox_fn) (void *arg);

typedef struct {
    zloop_t *loop;                         //  the actor's loop (input reader, linger timer)
    zflow_actor_counters_t *counters;      //  the actor's standard counters (drops)
    zflow_hpfeeds_outbox_fn *on_frames;    //  new frames to write (the owner's flush)
    void *arg;                             //  its argument
    char ident[ZFLOW_HPFEEDS_MAX_STR + 1]; //  our ident (publish frames we encode)
    size_t ident_size;                     //  its length
    zflow_hpfeeds_outbox_policy_t policy;  //  what a full outbox does
    zflow_hpfeeds_buf_t out;               //  publish frames to send (whole, in order)
    size_t frame_left;                     //  unsent bytes of the head frame (0: at start)
    bool pinned;                           //  a TLS write of the head bytes must be retried
                                           //  unchanged: nothing may move them
    zhash_t *refused;                      //  channels the broker refused us to publish to
    zsock_t *input;                        //  PULL: rings and large publishes from the wrapper
    bool input_paused;                     //  BLOCK: outbox full, input reader ended
    zflow_hpfeeds_handoff_t *handoff;      //  the publish hand-off (owned by the wrapper)
    uint8_t *spare;                        //  the hand-off buffer the outbox holds (owned)
    int linger_timer;                      //  direct writes: takes the hand-off after a ring,
                                           //  or -1
    uint64_t direct_writes_seen;           //  handoff->direct_writes at the last take
    bool pub_busy;                         //  the publisher wrote directly since the take before
    uint64_t published;                    //  publishes put in the outbox (or written directly)
    uint64_t sent;                         //  publish frames fully written to the socket
    uint64_t drops;                        //  publishes dropped by the policy
    uint64_t inflight_lost;                //  frames cut in the middle by a lost connection
    uint64_t refused_drops;                //  publishes to a refused channel, dropped
} zflow_hpfeeds_outbox_t;

//  Creates the outbox of up to config->outbox_bytes with config's policy
//  and ident, reading rings and large publishes on a PULL socket bound to
//  input (the wrapper's PUSH connects there) from handoff; on_frames (arg)
//  is called when it took new frames. loop, counters and handoff stay the
//  caller's and must outlive the outbox. Returns NULL when out of memory or
//  the endpoint cannot be bound.
zflow_hpfeeds_outbox_t *zflow__hpfeeds_outbox_new (const zflow_hpfeeds_config_t *config,
                                                   zloop_t *loop, zflow_actor_counters_t *counters,
                                                   const char *input,
                                                   zflow_hpfeeds_handoff_t *handoff,
                                                   zflow_hpfeeds_outbox_fn *on_frames, void *arg);

//  Destroys the outbox (queued frames are discarded); sets *self_p to NULL.
//  NULL-safe.
void zflow__hpfeeds_outbox_destroy (zflow_hpfeeds_outbox_t **self_p);

//  Bytes queued.
static inline size_t zflow__hpfeeds_outbox_size (const zflow_hpfeeds_outbox_t *self)
{
    return zflow__hpfeeds_buf_size (&self->out);
}

//  The connection wrote size bytes from the head: drops them and counts
//  the frames completed in sent.
void zflow__hpfeeds_outbox_sent (zflow_hpfeeds_outbox_t *self, size_t size);

//  Puts one publish frame for channel (channel_size bytes) with payload in
//  the outbox, by policy. Returns 0, or -1 when it was dropped (counted:
//  no room even after dropping old frames, refused channel, over-long).
int zflow__hpfeeds_outbox_enqueue (zflow_hpfeeds_outbox_t *self, const void *channel,
                                   size_t channel_size, const void *payload, size_t size);

//  BLOCK: true while the outbox may not have room for the largest frame
//  (inputs wait).
bool zflow__hpfeeds_outbox_blocked (zflow_hpfeeds_outbox_t *self);

//  Resumes the input BLOCK paused, once the outbox has room.
void zflow__hpfeeds_outbox_resume (zflow_hpfeeds_outbox_t *self);

//  Forgets channel for publishing: drops its frames from the outbox and
//  every later publish to it, counted in refused_drops.
void zflow__hpfeeds_outbox_refuse (zflow_hpfeeds_outbox_t *self, const char *channel);

//  Turns direct writes off and takes what the publisher left in the
//  hand-off (a frame cut by a direct write first), before the actor
//  writes or queues anything itself.
void zflow__hpfeeds_outbox_direct_off (zflow_hpfeeds_outbox_t *self);

//  Turns direct writes to fd on when fd >= 0 and the outbox has nothing to
//  send (the caller checked that the connection has nothing either).
void zflow__hpfeeds_outbox_direct_on (zflow_hpfeeds_outbox_t *self, int fd);

//  The connection is lost: takes what the publisher left, ends the
//  linger, and drops the rest of a frame cut in the middle (it cannot be
//  sent again alone; counted in inflight_lost).
void zflow__hpfeeds_outbox_disconnected (zflow_hpfeeds_outbox_t *self);

//  Counts the frames the publisher wrote itself as published and sent,
//  and returns its direct writes and stalls so far (for STATS).
void zflow__hpfeeds_outbox_count_direct (zflow_hpfeeds_outbox_t *self, uint64_t *writes_p,
                                         uint64_t *stalls_p);

#endif
