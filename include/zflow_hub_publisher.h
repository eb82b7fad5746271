/*  =========================================================================
    zflow_hub_publisher - publishes envelopes into a hub, under a key prefix

    A publisher owns an XPUB socket (ZMQ_XPUB_NODROP) connected to the hub's
    XSUB side, wrapped in a zflow stream: publish never blocks and never
    drops; when the hub holds back (a lossless subscriber is full) messages
    wait in the stream's bounded write buffer and publish returns
    ZFLOW_DRAIN, the signal to call zflow_hub_publisher_drain.

    Every key published is prefix + key: with prefix ("a") publishing
    ("b","c") sends ("a","b","c").

    A publisher is used from one thread at a time.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_PUBLISHER_H_INCLUDED
#define ZFLOW_HUB_PUBLISHER_H_INCLUDED

#include "zflow_hub.h"
#include "zflow_msg.h"
#include "zflow_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_hub_publisher_t zflow_hub_publisher_t;

//  Creates a publisher on a hub of this process, with prefix (NULL for
//  none; copied). Returns once the hub accepts its messages, or NULL with
//  *err_p (if not NULL) set to ZFLOW_EINVAL (NULL hub), ZFLOW_ETIMEDOUT (the
//  hub did not answer within 5 s) or ZFLOW_ENOMEM. The caller owns the
//  publisher (zflow_hub_publisher_destroy). It may outlive the hub: see
//  zflow_hub_destroy for what it does then.
zflow_hub_publisher_t *zflow_hub_publisher_new (zflow_hub_t *hub, const zflow_key_t *prefix,
                                                int *err_p);

//  As zflow_hub_publisher_new, connecting to the XSUB endpoint a hub bound
//  in another process (zflow_hub_bound_pub there), with CURVE when curve is
//  not NULL (curve->server_public and curve->cert). Waits up to timeout_ms
//  for the hub; ZFLOW_ETIMEDOUT when it did not answer (wrong key, no hub),
//  ZFLOW_EENDPOINT for a bad endpoint.
zflow_hub_publisher_t *zflow_hub_publisher_new_remote (const char *endpoint,
                                                       const zflow_key_t *prefix,
                                                       const zflow_hub_curve_t *curve,
                                                       int timeout_ms, int *err_p);

//  Destroys the publisher and sets *self_p to NULL. Idempotent. It first
//  flushes its write buffer for up to 1 s, and messages on their way then
//  get up to 1 s more (ZMQ_LINGER) to reach the hub; anything left after
//  that is discarded (counted in the stream's dropped counter).
void zflow_hub_publisher_destroy (zflow_hub_publisher_t **self_p);

//  Publishes one payload frame (a copy of data[0..size)) under prefix + key.
//  Returns 0, ZFLOW_DRAIN (queued; drain before publishing much more),
//  ZFLOW_EINVAL (NULL key), ZFLOW_ETOOBIG (prefix + key has more than
//  ZFLOW_KEY_MAX_PARTS components), ZFLOW_ECLOSED or ZFLOW_ENOMEM.
int zflow_hub_publisher_publish (zflow_hub_publisher_t *self, const zflow_key_t *key,
                                 const void *data, size_t size);

//  As publish, with the parts of payload as payload frames (moved out, not
//  copied; payload is left empty, also on error). The envelope gets a new,
//  empty meta: to pass an envelope on with its meta, use forward.
int zflow_hub_publisher_publish_msg (zflow_hub_publisher_t *self, const zflow_key_t *key,
                                     zflow_msg_t *payload);

//  Publishes an existing envelope (frame 0 the key, 1 the meta, 2.. the
//  payload; see zflow_envelope.h) as it is: meta (ident, source, seq,
//  timestamps) and payload frames untouched, only the key gets the
//  publisher's prefix in front (no prefix: unchanged). The frames are
//  moved out; envelope (the caller still owns the object) is left empty,
//  also on error. Returns 0, ZFLOW_DRAIN (queued; drain before much more),
//  ZFLOW_EINVAL (NULL argument), ZFLOW_EPROTO (not an envelope: fewer
//  than 3 frames or an invalid key; the meta is not decoded),
//  ZFLOW_ETOOBIG (prefix + key too long), ZFLOW_ECLOSED or ZFLOW_ENOMEM.
int zflow_hub_publisher_forward (zflow_hub_publisher_t *self, zflow_msg_t *envelope);

//  Waits until the write buffer is down to its low watermark. Returns 0,
//  ZFLOW_ETIMEDOUT or ZFLOW_ECLOSED.
int zflow_hub_publisher_drain (zflow_hub_publisher_t *self, int timeout_ms);

//  Sends the whole write buffer: waits until it is empty. A publisher has
//  no event loop of its own, so a message that had to wait in the buffer
//  moves on only with the next publish, drain or flush: call flush when you
//  stop publishing for a while. Returns 0, ZFLOW_ETIMEDOUT or ZFLOW_ECLOSED.
int zflow_hub_publisher_flush (zflow_hub_publisher_t *self, int timeout_ms);

//  Returns 1 if some subscription of the hub matches prefix + key, 0 if
//  none, ZFLOW_EINVAL / ZFLOW_ETOOBIG for a bad key, ZFLOW_ENOTSUP for a
//  remote publisher.
int zflow_hub_publisher_has_subscribers (zflow_hub_publisher_t *self, const zflow_key_t *key);

//  Returns the publisher's stream (for its counters); owned by the publisher.
zflow_stream_t *zflow_hub_publisher_stream (zflow_hub_publisher_t *self);

#ifdef __cplusplus
}
#endif

#endif
