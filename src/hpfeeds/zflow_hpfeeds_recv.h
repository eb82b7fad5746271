/*  =========================================================================
    zflow_hpfeeds_recv - the hpfeeds client's receive codec (internal):
    bytes read from the broker become deliveries

    The connection reads into the codec's buffer (zflow__hpfeeds_recv_buf);
    zflow__hpfeeds_recv_next then finds runs of publish frames with valid
    channels and hands each whole to the wrapper's reader (one batch, byte
    for byte as the broker sent them, in a block of the pool when it fits)
    and, while someone subscribes there, as envelopes to the XPUB output;
    any other frame goes back to the caller. When either output is full in
    lossless mode the run stays and the caller stops reading until it
    retries; in lossy mode the messages are dropped and counted.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_RECV_H_INCLUDED
#define ZFLOW_HPFEEDS_RECV_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_hpfeeds.h"
#include "zflow_hpfeeds_buf.h"
#include "zflow_hpfeeds_handoff.h"
#include "zflow_hpfeeds_proto.h"
#include "zflow_meta.h"

//  What zflow__hpfeeds_recv_next found.
typedef enum {
    ZFLOW_HPFEEDS_RECV_MORE = 0,  //  nothing left to handle: read more bytes
    ZFLOW_HPFEEDS_RECV_FRAME = 1, //  a frame for the caller (then zflow__hpfeeds_recv_consume)
    ZFLOW_HPFEEDS_RECV_FULL = 2,  //  lossless and an output is full: stop reading, retry
    ZFLOW_HPFEEDS_RECV_BAD = 3    //  a malformed or oversized frame: the text says why
} zflow_hpfeeds_recv_result_t;

typedef struct {
    zflow_actor_counters_t *counters;           //  the actor's standard counters
    zflow_hpfeeds_buf_t in;                     //  bytes read, not yet handled
    size_t run_bytes;                           //  publish frames at the head of in, being
                                                //  delivered
    size_t run_frames;                          //  how many frames those are
    size_t run_data;                            //  their payload bytes
    size_t run_pub_offset;                      //  bytes of the run already sent on output
    bool run_batched;                           //  the run went to the batch socket
    zloop_t *loop;                              //  the actor's loop (output's reader)
    zsock_t *output;                            //  XPUB: received envelopes
    int output_topics;                          //  topics subscribed on output (0: nobody)
    zsock_t *batch;                             //  PUSH: batches for the reader, or NULL
    zflow_hpfeeds_handoff_t *handoff;           //  unread count and pool (the wrapper's)
    size_t unread_limit;                        //  most messages unread (2 * output_hwm)
    bool lossless;                              //  a full output stops reading (no drops)
    char source_name[300];                      //  meta "src"
    zflow_meta_t *meta;                         //  meta of the last ident seen
    char meta_ident[ZFLOW_HPFEEDS_MAX_STR + 1]; //  that ident
    uint8_t meta_wire[ZFLOW_META_MAX_WIRE];     //  its encoding
    int meta_size;                              //  bytes in meta_wire (<= 0: none)
    uint64_t received;                          //  publish frames received
    uint64_t inproc_drops;                      //  received messages an output could not take
} zflow_hpfeeds_recv_t;

//  Creates the codec for config (lossless, output_hwm, host and port for
//  the meta), binding its XPUB to output and, when batch is not NULL, its
//  PUSH for the reader to batch. loop, counters and handoff stay the
//  caller's and must outlive it. Returns NULL when out of memory or an
//  endpoint cannot be bound.
zflow_hpfeeds_recv_t *zflow__hpfeeds_recv_new (const zflow_hpfeeds_config_t *config, zloop_t *loop,
                                               zflow_actor_counters_t *counters, const char *output,
                                               const char *batch, zflow_hpfeeds_handoff_t *handoff);

//  Destroys the codec; sets *self_p to NULL. NULL-safe.
void zflow__hpfeeds_recv_destroy (zflow_hpfeeds_recv_t **self_p);

//  The buffer the connection reads into (owned by the codec).
static inline zflow_hpfeeds_buf_t *zflow__hpfeeds_recv_buf (zflow_hpfeeds_recv_t *self)
{
    return &self->in;
}

//  Handles the bytes read so far: with publishes true (the connection is
//  ready) runs of publish frames go out as above and a publish whose
//  channel cannot be a key component is dropped (inproc_drops). Returns
//  ZFLOW_HPFEEDS_RECV_FRAME with *frame (pointing into the buffer) for any
//  other frame, ZFLOW_HPFEEDS_RECV_BAD with the reason in text (textlen
//  bytes), or as described in zflow_hpfeeds_recv_result_t.
zflow_hpfeeds_recv_result_t zflow__hpfeeds_recv_next (zflow_hpfeeds_recv_t *self, bool publishes,
                                                      zflow_hpfeeds_frame_t *frame, char *text,
                                                      size_t textlen);

//  Drops the frame zflow__hpfeeds_recv_next returned (size bytes).
void zflow__hpfeeds_recv_consume (zflow_hpfeeds_recv_t *self, size_t size);

//  The connection is lost: forgets what was read (a run half-delivered
//  counts as received: the reader has it).
void zflow__hpfeeds_recv_reset (zflow_hpfeeds_recv_t *self);

#endif
