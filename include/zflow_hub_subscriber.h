/*  =========================================================================
    zflow_hub_subscriber - subscriptions, listeners and a bounded queue

    A subscriber is an actor with one XSUB socket connected to a hub. For
    each pattern it subscribes ZeroMQ-side to the pattern's longest literal
    prefix (ZeroMQ filters on prefixes only: it cannot express a "*" in the
    middle), tells the hub about the pattern (for counts and notices), and
    indexes it in its own trie, which decides exactly, at a cost that does
    not grow with the number of subscriptions.

    What matches goes to:
    - the subscriber's queue (zflow_hub_subscriber_subscribe), read with
      zflow_hub_subscriber_consume; several patterns feed the one ordered
      queue, and a message matching several of them is queued once;
    - sync listeners: a callback run in the subscriber's actor thread;
    - actor listeners: written to a PUSH socket connected to an endpoint
      where the user's actor reads with a zflow stream (PULL).
    Each listener and the queue see messages in publish order (per
    publisher).

    The queue is bounded (zflow_hub_subscriber_set_queue) with an explicit
    overflow policy:
    - ZFLOW_HUB_BLOCK (default): lossless. When the queue (or an actor
      listener's stream) is full the subscriber stops reading, the hub's
      XPUB (ZMQ_XPUB_NODROP) holds back, and publishers get ZFLOW_DRAIN.
      A blocked subscriber holds back the whole hub: that is the price of
      lossless delivery.
    - ZFLOW_HUB_DROP_NEWEST / ZFLOW_HUB_DROP_OLDEST: the subscriber keeps
      reading; the message that does not fit (or the oldest queued) is
      dropped and counted (STATS: drops, dropped_newest, dropped_oldest).

    A subscriber is used from one thread; do not call its methods from one
    of its own sync listeners.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_SUBSCRIBER_H_INCLUDED
#define ZFLOW_HUB_SUBSCRIBER_H_INCLUDED

#include "zflow_hub.h"
#include "zflow_msg.h"
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_hub_subscriber_t zflow_hub_subscriber_t;

//  What a full queue does.
typedef enum {
    ZFLOW_HUB_BLOCK = 0,       //  hold publishers back, lose nothing
    ZFLOW_HUB_DROP_NEWEST = 1, //  drop the message that does not fit
    ZFLOW_HUB_DROP_OLDEST = 2  //  drop the oldest queued message
} zflow_hub_overflow_t;

//  Default queue limit, in messages.
#define ZFLOW_HUB_DEFAULT_QUEUE 1000

//  A sync listener: called in the subscriber's actor thread with the
//  envelope (frame 0 the key, 1 the meta, 2.. the payload; see
//  zflow_envelope.h). The envelope belongs to the subscriber and is valid
//  only during the call (zflow_msg_copy it to keep it).
typedef void (zflow_hub_listener_fn) (const zflow_msg_t *envelope, void *arg);

//  Creates a subscriber called id (any non-empty text, for logs) on a hub
//  of this process. Returns it (the caller owns it;
//  zflow_hub_subscriber_destroy), or NULL with *err_p (if not NULL) set to
//  ZFLOW_EINVAL or ZFLOW_ENOMEM. It may outlive the hub: see
//  zflow_hub_destroy for what it does then.
zflow_hub_subscriber_t *zflow_hub_subscriber_new (zflow_hub_t *hub, const char *id, int *err_p);

//  As zflow_hub_subscriber_new, connected to the XPUB endpoint a hub bound
//  in another process (zflow_hub_bound_sub there), with CURVE when curve is
//  not NULL. Subscriptions then take effect asynchronously: watch the hub's
//  addedSubscriber notices to know when. ZFLOW_EENDPOINT for a bad endpoint.
zflow_hub_subscriber_t *zflow_hub_subscriber_new_remote (const char *endpoint, const char *id,
                                                         const zflow_hub_curve_t *curve,
                                                         int *err_p);

//  Stops the actor (the hub then sees its subscriptions go) and frees
//  everything; sets *self_p to NULL. Idempotent.
void zflow_hub_subscriber_destroy (zflow_hub_subscriber_t **self_p);

//  Returns the subscriber's id (owned by the subscriber).
const char *zflow_hub_subscriber_id (zflow_hub_subscriber_t *self);

//  Sets the queue limit (messages, > 0) and overflow policy. Applies to the
//  queue and, for the drop policies, to actor listeners (which drop the
//  newest when their stream is above its write watermark). Returns 0,
//  ZFLOW_EINVAL or ZFLOW_ECLOSED; the actor applies it without a reply, so
//  an out-of-memory there is returned by the next zflow_hub_subscriber_sync.
int zflow_hub_subscriber_set_queue (zflow_hub_subscriber_t *self, size_t limit,
                                    zflow_hub_overflow_t policy);

//  When sync is true (the default) each subscribe / add_*_listener call on a
//  local hub returns only after the hub has seen the subscription, so a
//  message published afterwards is delivered. Set false to add many
//  subscriptions quickly, then call zflow_hub_subscriber_sync.
void zflow_hub_subscriber_set_sync (zflow_hub_subscriber_t *self, bool sync);

//  Waits until the hub has seen every subscription made so far (local hub),
//  or until the actor has applied them (remote hub); timeout_ms < 0 waits
//  as long as it takes. Returns 0, ZFLOW_ETIMEDOUT, or the first error the
//  actor met since the last sync in a call that did not wait for it (a
//  subscribe without sync, set_queue: e.g. ZFLOW_ENOMEM), or ZFLOW_ECLOSED.
int zflow_hub_subscriber_sync (zflow_hub_subscriber_t *self, int timeout_ms);

//  Subscribes the queue to pattern (a key; "*" components are wildcards).
//  Subscribing twice to a pattern needs two unsubscribes. Returns 0, or
//  ZFLOW_EINVAL (NULL pattern), ZFLOW_ETIMEDOUT (sync mode: the hub did not
//  confirm in 5 s) or ZFLOW_ENOMEM.
int zflow_hub_subscriber_subscribe (zflow_hub_subscriber_t *self, const zflow_key_t *pattern);

//  Removes one queue subscription to pattern. Returns 0, ZFLOW_EINVAL, or
//  ZFLOW_ENOTFOUND when the queue was not subscribed to it.
int zflow_hub_subscriber_unsubscribe (zflow_hub_subscriber_t *self, const zflow_key_t *pattern);

//  Takes the oldest queued envelope into envelope (reset first). timeout_ms:
//  -1 waits forever, 0 does not wait. Returns 0, ZFLOW_EAGAIN (timeout 0,
//  empty), ZFLOW_ETIMEDOUT or ZFLOW_EINVAL.
int zflow_hub_subscriber_consume (zflow_hub_subscriber_t *self, zflow_msg_t *envelope,
                                  int timeout_ms);

//  Adds a sync listener on pattern. Returns its id (> 0), or ZFLOW_EINVAL
//  (NULL pattern or fn), ZFLOW_ETIMEDOUT (sync mode) or ZFLOW_ENOMEM.
int zflow_hub_subscriber_add_sync_listener (zflow_hub_subscriber_t *self,
                                            const zflow_key_t *pattern, zflow_hub_listener_fn *fn,
                                            void *arg);

//  Adds an actor listener on pattern: matching envelopes are written to a
//  PUSH socket connected to endpoint, where the user's actor reads them
//  with a zflow stream (PULL, bound there). Returns its id (> 0), or
//  ZFLOW_EINVAL, ZFLOW_EENDPOINT (connect refused), ZFLOW_ETIMEDOUT.
int zflow_hub_subscriber_add_actor_listener (zflow_hub_subscriber_t *self,
                                             const zflow_key_t *pattern, const char *endpoint);

//  Removes listener id; once it returns the listener is not called again.
//  Returns 0, or ZFLOW_ENOTFOUND.
int zflow_hub_subscriber_remove_listener (zflow_hub_subscriber_t *self, int id);

//  Removes every listener (sync and actor; queue subscriptions stay).
//  Returns the number removed.
int zflow_hub_subscriber_remove_all_listeners (zflow_hub_subscriber_t *self);

//  Asks the actor for its counters: the standard ones (msgs_in: messages
//  read from the hub; msgs_out: deliveries; drops; queue_depth) plus
//  delivered_queue, delivered_sync, delivered_actor, dropped_newest,
//  dropped_oldest, max_queue_depth, unmatched, malformed, blocked,
//  subscriptions. Returns a hash (the caller owns it) or NULL on timeout.
zhash_t *zflow_hub_subscriber_stats (zflow_hub_subscriber_t *self, int timeout_ms);

//  Turns the actor's tracing on or off (VERBOSE; does not wait). A NULL
//  self does nothing.
void zflow_hub_subscriber_set_verbose (zflow_hub_subscriber_t *self, bool verbose);

//  Returns the inproc endpoint of the PAIR socket on which the actor hands
//  out the queue (what zflow_hub_subscriber_consume reads; one reader
//  only, this object's), owned by self; NULL for a NULL self.
const char *zflow_hub_subscriber_endpoint (zflow_hub_subscriber_t *self);

//  Returns the subscriber's actor (borrowed; destroyed with self), or NULL
//  for a NULL self.
zactor_t *zflow_hub_subscriber_actor (zflow_hub_subscriber_t *self);

#ifdef __cplusplus
}
#endif

#endif
