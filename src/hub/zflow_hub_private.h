/*  =========================================================================
    zflow_hub_private - what the hub's own files share: the hub object,
    which its wrapper (zflow_hub.c) and its actor (zflow_hub_actor.c) both
    read, and the process-wide parts they use, the hub registry
    (zflow_hub_registry.c) and the shared zauth (zflow_hub_auth.c).
    Internal, not installed; publishers and subscribers use
    zflow_hub_internal.h and never see the struct.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HUB_PRIVATE_H_INCLUDED
#define ZFLOW_HUB_PRIVATE_H_INCLUDED

#include "zflow_hub.h"
#include "zflow_hub_trie.h"
#include <pthread.h>
#include <stdint.h>

//  One subscription pattern the hub knows (its wire form is its hash key).
typedef struct {
    uint64_t count; //  subscriptions to it now
} zflow_hub_pattern_t;

//  One zflow subscriber (local or remote) the hub has heard of.
typedef struct {
    zhashx_t *patterns; //  pattern wire form -> its subscriptions (uint64_t *)
    uint64_t fence;     //  last fence seen
    uint64_t presence;  //  its presence topic's subscriptions now (gone at 0)
} zflow_hub_peer_t;

struct _zflow_hub_t {
    char *name;            //  the hub's name
    char *pub_endpoint;    //  inproc endpoint of the XSUB side
    char *sub_endpoint;    //  inproc endpoint of the XPUB side
    char *bound_pub;       //  real endpoint of the last external XSUB bind
    char *bound_sub;       //  real endpoint of the last external XPUB bind
    zactor_t *actor;       //  the hub actor
    pthread_mutex_t lock;  //  guards trie, patterns and peers
    pthread_cond_t fenced; //  signalled when a fence arrives
    zflow_trie_t *trie;    //  pattern index, items are zflow_hub_pattern_t
    zhashx_t *patterns;    //  pattern wire form -> zflow_hub_pattern_t
    zhashx_t *peers;       //  subscriber uid -> zflow_hub_peer_t
    bool curve;            //  this hub holds a reference on the shared zauth
    bool verbose;          //  as configured: sent to the actor as VERBOSE at start
    size_t max_message;    //  largest message from a bound tcp/ipc endpoint
    size_t max_peer_subs;  //  subscriptions per remote connection
    size_t max_sub_bytes;  //  topics of all remote connections, bytes
    int stall_limit_ms;    //  drop a tcp subscriber taking nothing this long
    bool closed;           //  destroyed: trie, patterns, peers are gone (lock)
    size_t refs;           //  the owner's and each publisher's and subscriber's
                           //  (under the registry's lock, zflow_hub_registry.c);
                           //  the struct is freed at 0
};

//  The hub actor (zflow_hub_actor.c); args is the zflow_hub_t, which it
//  shares with the caller and does not own.
void zflow__hub_actor (zsock_t *pipe, void *args);

//  Adds self to the registry under its name. Returns 0 or ZFLOW_EENDPOINT
//  (the name is taken) / ZFLOW_ENOMEM.
int zflow__hub_register (zflow_hub_t *self);
//  Takes self out of the registry (if it is there under its name).
void zflow__hub_unregister (zflow_hub_t *self);
//  Makes up a name no other hub of this process has had. Returns a fresh
//  string the caller frees, or NULL when out of memory.
char *zflow__hub_anonymous_name (void);

//  Takes a reference on the process's zauth, set for the allow directory
//  (NULL: any client key). Returns 0, or ZFLOW_ECONFIG when zauth cannot
//  start or another hub holds it for another directory.
int zflow__hub_auth_acquire (const char *allow_dir);
//  Gives back a reference zflow__hub_auth_acquire took.
void zflow__hub_auth_release (void);

#endif
