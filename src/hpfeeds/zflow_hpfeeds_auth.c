/*  =========================================================================
    zflow_hpfeeds_auth - the broker's user table (internal)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_auth.h"
#include "zflow_error.h"
#include "zflow_hpfeeds_proto.h"
#include <jansson.h>

struct _zflow_hpfeeds_auth_t {
    zhash_t *users; //  ident -> zflow_hpfeeds_user_t
};

//  The table's free function (zhash_free_fn takes the item itself).
static void s_user_destroy (void *item)
{
    zflow_hpfeeds_user_t *user = (zflow_hpfeeds_user_t *) item;
    if (!user)
        return;
    free (user->ident);
    free (user->secret);
    free (user->owner);
    zhash_destroy (&user->pub);
    zhash_destroy (&user->sub);
    free (user);
}

zflow_hpfeeds_auth_t *zflow__hpfeeds_auth_new (void)
{
    zflow_hpfeeds_auth_t *self = (zflow_hpfeeds_auth_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    self->users = zhash_new ();
    if (!self->users) {
        free (self);
        return NULL;
    }
    return self;
}

void zflow__hpfeeds_auth_destroy (zflow_hpfeeds_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hpfeeds_auth_t *self = *self_p;
    zhash_destroy (&self->users);
    free (self);
    *self_p = NULL;
}

static zhash_t *s_channel_set (const char **names, size_t count)
{
    zhash_t *set = zhash_new ();
    for (size_t index = 0; set && index < count; index++) {
        if (!names[index] || strlen (names[index]) > ZFLOW_HPFEEDS_MAX_STR) {
            zhash_destroy (&set);
            break;
        }
        zhash_update (set, names[index], (void *) "");
    }
    return set;
}

int zflow__hpfeeds_auth_add (zflow_hpfeeds_auth_t *self, const char *ident, const char *secret,
                             const char *owner, const char **pub, size_t npub, const char **sub,
                             size_t nsub)
{
    if (!self || !ident || !secret || !*ident || strlen (ident) > ZFLOW_HPFEEDS_MAX_STR)
        return ZFLOW_EINVAL;
    zflow_hpfeeds_user_t *user = (zflow_hpfeeds_user_t *) zmalloc (sizeof (*user));
    if (!user)
        return ZFLOW_ENOMEM;
    user->ident = strdup (ident);
    user->secret = strdup (secret);
    user->owner = strdup (owner ? owner : ident);
    user->pub = s_channel_set (pub, npub);
    user->sub = s_channel_set (sub, nsub);
    int rc = ZFLOW_OK;
    if (!user->ident || !user->secret || !user->owner)
        rc = ZFLOW_ENOMEM;
    else if (!user->pub || !user->sub)
        rc = ZFLOW_EINVAL;
    if (rc) {
        s_user_destroy (user);
        return rc;
    }
    zhash_delete (self->users, ident);
    zhash_insert (self->users, ident, user);
    zhash_freefn (self->users, ident, s_user_destroy);
    return 0;
}

zflow_hpfeeds_user_t *zflow__hpfeeds_auth_lookup (zflow_hpfeeds_auth_t *self, const char *ident)
{
    return (zflow_hpfeeds_user_t *) zhash_lookup (self->users, ident);
}

size_t zflow__hpfeeds_auth_size (zflow_hpfeeds_auth_t *self)
{
    return zhash_size (self->users);
}

//  Collects a JSON array of strings into names (max entries). Returns the
//  count, or -1 when it is not an array of strings.
static int s_json_names (json_t *array, const char **names, size_t max)
{
    if (!json_is_array (array) || json_array_size (array) > max)
        return -1;
    size_t index;
    json_t *value;
    json_array_foreach (array, index, value)
    {
        if (!json_is_string (value))
            return -1;
        names[index] = json_string_value (value);
    }
    return (int) json_array_size (array);
}

#define S_MAX_CHANNELS 1024
#define S_MAX_ZPL (4 * 1024 * 1024) //  largest ZPL user file

//  Checks every entry first (all or nothing), then adds them.
static int s_json_apply (zflow_hpfeeds_auth_t *self, json_t *root, bool apply, char *errbuf,
                         size_t errlen)
{
    const char *ident;
    json_t *entry;
    const char **pub = (const char **) calloc (S_MAX_CHANNELS, sizeof (char *));
    const char **sub = (const char **) calloc (S_MAX_CHANNELS, sizeof (char *));
    int rc = pub && sub ? 0 : ZFLOW_ENOMEM;
    json_object_foreach (root, ident, entry)
    {
        if (rc)
            break;
        json_t *secret = json_object_get (entry, "secret");
        json_t *owner = json_object_get (entry, "owner");
        int npub = s_json_names (json_object_get (entry, "pubchans"), pub, S_MAX_CHANNELS);
        int nsub = s_json_names (json_object_get (entry, "subchans"), sub, S_MAX_CHANNELS);
        if (!json_is_object (entry) || !json_is_string (secret) || !json_is_string (owner) ||
            npub < 0 || nsub < 0) {
            snprintf (errbuf, errlen,
                      "entry for '%s' needs owner and secret (strings) and pubchans and subchans "
                      "(lists of strings)",
                      ident);
            rc = ZFLOW_ECONFIG;
        } else if (apply)
            rc = zflow__hpfeeds_auth_add (self, ident, json_string_value (secret),
                                          json_string_value (owner), pub, (size_t) npub, sub,
                                          (size_t) nsub);
        else if (strlen (ident) == 0 || strlen (ident) > ZFLOW_HPFEEDS_MAX_STR) {
            snprintf (errbuf, errlen, "ident '%.40s' is empty or over 255 bytes", ident);
            rc = ZFLOW_ECONFIG;
        }
    }
    free (pub);
    free (sub);
    return rc;
}

int zflow__hpfeeds_auth_load_json (zflow_hpfeeds_auth_t *self, const char *path, char *errbuf,
                                   size_t errlen)
{
    json_error_t error;
    json_t *root = json_load_file (path, 0, &error);
    if (!root) {
        snprintf (errbuf, errlen, "%s:%d: %s", path, error.line, error.text);
        return ZFLOW_ECONFIG;
    }
    int rc = 0;
    if (!json_is_object (root)) {
        snprintf (errbuf, errlen, "%s: the root is not a mapping", path);
        rc = ZFLOW_ECONFIG;
    }
    if (rc == 0)
        rc = s_json_apply (self, root, false, errbuf, errlen);
    if (rc == 0)
        rc = s_json_apply (self, root, true, errbuf, errlen);
    if (rc && rc != ZFLOW_ECONFIG)
        snprintf (errbuf, errlen, "%s: %s", path, zflow_error_text (rc));
    int count = rc ? ZFLOW_ECONFIG : (int) json_object_size (root);
    json_decref (root);
    return count;
}

//  Collects the values of children named name into names.
static size_t s_zpl_names (zconfig_t *user, const char *name, const char **names, size_t max)
{
    size_t count = 0;
    for (zconfig_t *child = zconfig_child (user); child; child = zconfig_next (child))
        if (streq (zconfig_name (child), name) && count < max)
            names[count++] = zconfig_value (child);
    return count;
}

static int s_zpl_apply (zflow_hpfeeds_auth_t *self, zconfig_t *root, bool apply, char *errbuf,
                        size_t errlen)
{
    const char *pub[S_MAX_CHANNELS], *sub[S_MAX_CHANNELS];
    int count = 0;
    for (zconfig_t *user = zconfig_child (root); user; user = zconfig_next (user)) {
        if (!streq (zconfig_name (user), "user"))
            continue;
        const char *ident = zconfig_get (user, "ident", NULL);
        const char *secret = zconfig_get (user, "secret", NULL);
        if (!ident || !secret || !*ident || strlen (ident) > ZFLOW_HPFEEDS_MAX_STR) {
            snprintf (errbuf, errlen, "user block %d needs an ident (1..255 bytes) and a secret",
                      count + 1);
            return ZFLOW_ECONFIG;
        }
        size_t npub = s_zpl_names (user, "pubchan", pub, S_MAX_CHANNELS);
        size_t nsub = s_zpl_names (user, "subchan", sub, S_MAX_CHANNELS);
        if (apply) {
            const char *owner = zconfig_get (user, "owner", NULL);
            int rc = zflow__hpfeeds_auth_add (self, ident, secret, owner, pub, npub, sub, nsub);
            if (rc) {
                snprintf (errbuf, errlen, "user '%s': %s", ident, zflow_error_text (rc));
                return ZFLOW_ECONFIG;
            }
        }
        count++;
    }
    return count;
}

int zflow__hpfeeds_auth_load_zpl (zflow_hpfeeds_auth_t *self, const char *path, char *errbuf,
                                  size_t errlen)
{
    //  Read the text ourselves: czmq's zconfig_load leaks its zfile when the
    //  text does not parse.
    char *text = NULL;
    FILE *file = fopen (path, "rb");
    if (file) {
        text = (char *) calloc (1, S_MAX_ZPL + 1);
        size_t size = text ? fread (text, 1, S_MAX_ZPL + 1, file) : 0;
        if (size > S_MAX_ZPL)
            zstr_free (&text);
        fclose (file);
    }
    zconfig_t *root = text ? zconfig_str_load (text) : NULL;
    free (text);
    if (!root) {
        snprintf (errbuf, errlen, "%s: cannot read, too large (4 MiB) or not ZPL", path);
        return ZFLOW_ECONFIG;
    }
    int rc = s_zpl_apply (self, root, false, errbuf, errlen);
    if (rc >= 0)
        rc = s_zpl_apply (self, root, true, errbuf, errlen);
    zconfig_destroy (&root);
    return rc;
}
