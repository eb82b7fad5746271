/*  =========================================================================
    zflow_hpfeeds_auth - the broker's user table: per-ident secret and
    publish / subscribe channel lists (internal)

    Loaded from the reference broker's JSON format

        { "bob": { "owner": "bob", "secret": "s3cret",
                   "pubchans": ["chan1"], "subchans": ["chan1"] } }

    or from ZPL (czmq zconfig), one "user" block per ident:

        user
            ident = "bob"
            secret = "s3cret"
            owner = "bob"               (optional)
            pubchan = "chan1"           (repeat for more channels)
            subchan = "chan1"

    or user by user through the API.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HPFEEDS_AUTH_H_INCLUDED
#define ZFLOW_HPFEEDS_AUTH_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _zflow_hpfeeds_auth_t zflow_hpfeeds_auth_t;

//  One user. Owned by the table.
typedef struct {
    char *ident;  //  the ident
    char *secret; //  the shared secret
    char *owner;  //  the owner (informational)
    zhash_t *pub; //  channels the ident may publish to (set)
    zhash_t *sub; //  channels the ident may subscribe to (set)
} zflow_hpfeeds_user_t;

//  Creates an empty table. NULL when out of memory.
zflow_hpfeeds_auth_t *zflow__hpfeeds_auth_new (void);

//  Destroys the table and its users; sets *self_p to NULL.
void zflow__hpfeeds_auth_destroy (zflow_hpfeeds_auth_t **self_p);

//  Adds or replaces one user. pub and sub are arrays of npub / nsub
//  channel names (may be NULL when the count is 0). Returns 0, or
//  ZFLOW_EINVAL (NULL or over-long ident or secret, a channel over 255
//  bytes), ZFLOW_ENOMEM.
int zflow__hpfeeds_auth_add (zflow_hpfeeds_auth_t *self, const char *ident, const char *secret,
                             const char *owner, const char **pub, size_t npub, const char **sub,
                             size_t nsub);

//  Loads users from a JSON file in the reference broker's format; they are
//  added to (or replace) the ones there. All or nothing: on error nothing is
//  changed. Returns the number of users loaded (>= 0), or ZFLOW_ECONFIG
//  with a text in errbuf (errlen bytes).
int zflow__hpfeeds_auth_load_json (zflow_hpfeeds_auth_t *self, const char *path, char *errbuf,
                                   size_t errlen);

//  The same for a ZPL file.
int zflow__hpfeeds_auth_load_zpl (zflow_hpfeeds_auth_t *self, const char *path, char *errbuf,
                                  size_t errlen);

//  Returns the user for ident, or NULL. Owned by the table; valid until the
//  user is replaced.
zflow_hpfeeds_user_t *zflow__hpfeeds_auth_lookup (zflow_hpfeeds_auth_t *self, const char *ident);

//  Returns the number of users.
size_t zflow__hpfeeds_auth_size (zflow_hpfeeds_auth_t *self);

#endif
