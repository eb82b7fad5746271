/*  =========================================================================
    zflow_pipeline_builtin - the built-in maps and filters

    JSON field match (the WebSocket filters' rule), non-empty field, key
    rewrite and JSON <-> msgpack re-encoding. Each is an ordinary map or
    filter callback with its state in its argument; a stage runs in one
    thread, so the state (scratch messages) needs no lock.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_key.h"
#include "zflow_meta.h"
#include "zflow_pipeline_codec.h"
#include "zflow_pipeline_stage.h"
#include <string.h>

//  ---------------------------------------------------------------------
//  JSON field match

//  True when every key/value pair of want equals the same field of event.
static bool s_object_matches (json_t *want, json_t *event)
{
    const char *name;
    json_t *value;
    json_object_foreach (want, name, value)
    {
        json_t *field = json_object_get (event, name);
        if (!field || !json_equal (field, value))
            return false;
    }
    return true;
}

static bool s_match_json (const zflow_msg_t *msg, void *arg)
{
    json_t *match = (json_t *) arg;
    json_t *event = zflow__codec_payload (msg);
    bool keep = false;
    if (json_is_object (event)) {
        size_t index;
        json_t *want;
        json_array_foreach (match, index, want) if (s_object_matches (want, event))
        {
            keep = true;
            break;
        }
    }
    json_decref (event);
    return keep;
}

static void s_json_free (void *arg)
{
    json_decref ((json_t *) arg);
}

int zflow_pipeline_filter_json (zflow_pipeline_t *self, const char *name, const char *match)
{
    json_t *json = match ? json_loads (match, JSON_DECODE_ANY, NULL) : NULL;
    if (json_is_object (json)) {
        json_t *list = json_array ();
        json_array_append_new (list, json);
        json = list;
    }
    bool good = json_is_array (json);
    size_t index;
    json_t *item;
    json_array_foreach (json, index, item) good = good && json_is_object (item);
    if (!good) {
        json_decref (json);
        return zflow__pipeline_fail (self, ZFLOW_ECONFIG,
                                     "stage '%s': match is not a JSON list of objects",
                                     name ? name : "");
    }
    return zflow_pipeline_filter (self, name, s_match_json, json, s_json_free);
}

//  ---------------------------------------------------------------------
//  Non-empty field

static bool s_nonempty (const zflow_msg_t *msg, void *arg)
{
    json_t *event = zflow__codec_payload (msg);
    json_t *field = json_object_get (event, (const char *) arg);
    bool keep = false;
    switch (field ? json_typeof (field) : JSON_NULL) {
    case JSON_STRING:
        keep = json_string_length (field) > 0;
        break;
    case JSON_ARRAY:
        keep = json_array_size (field) > 0;
        break;
    case JSON_OBJECT:
        keep = json_object_size (field) > 0;
        break;
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
        keep = true;
        break;
    default:
        keep = false;
    }
    json_decref (event);
    return keep;
}

int zflow_pipeline_filter_nonempty (zflow_pipeline_t *self, const char *name, const char *field)
{
    char *copy = field && *field ? strdup (field) : NULL;
    if (!copy)
        return zflow__pipeline_fail (self, ZFLOW_ECONFIG, "stage '%s': no field name",
                                     name ? name : "");
    return zflow_pipeline_filter (self, name, s_nonempty, copy, free);
}

//  ---------------------------------------------------------------------
//  Key rewrite

typedef struct {
    zflow_key_t *from;    //  prefix to replace, or NULL (every key)
    zflow_key_t *to;      //  replacement, or NULL (remove the prefix)
    zflow_msg_t *scratch; //  reused while rebuilding a message
} s_rekey_t;

static void s_rekey_free (void *arg)
{
    s_rekey_t *self = (s_rekey_t *) arg;
    zflow_key_destroy (&self->from);
    zflow_key_destroy (&self->to);
    zflow_msg_destroy (&self->scratch);
    free (self);
}

//  Replaces the key frame of msg by key, moving the other frames over.
static int s_replace_frame (zflow_msg_t *msg, zflow_msg_t *scratch, size_t index, const void *data,
                            size_t size)
{
    zflow_msg_reset (scratch);
    for (size_t i = 0; i < zflow_msg_size (msg); i++) {
        int rc = i == index ? zflow_msg_add (scratch, data, size)
                            : zflow_msg_add_zmq (scratch, zflow_msg_zmq (msg, i));
        if (rc)
            return rc;
    }
    zflow_msg_move (msg, scratch);
    return 0;
}

static int s_rekey (zflow_msg_t *msg, void *arg)
{
    s_rekey_t *self = (s_rekey_t *) arg;
    size_t size;
    const void *wire = zflow_envelope_key (msg, &size);
    zflow_key_t *key = wire ? zflow_key_decode (wire, size, NULL) : NULL;
    if (!key)
        return ZFLOW_EPROTO;
    size_t skip = self->from ? zflow_key_size (self->from) : 0;
    bool match = zflow_key_size (key) >= skip;
    for (size_t i = 0; match && i < skip; i++)
        match = streq (zflow_key_at (key, i), zflow_key_at (self->from, i));
    size_t keep = zflow_key_size (key) - skip;
    size_t add = self->to ? zflow_key_size (self->to) : 0;
    int rc = 0;
    if (match && keep + add > 0) {
        const char *parts[2 * ZFLOW_KEY_MAX_PARTS];
        for (size_t i = 0; i < add; i++)
            parts[i] = zflow_key_at (self->to, i);
        for (size_t i = 0; i < keep; i++)
            parts[add + i] = zflow_key_at (key, skip + i);
        zflow_key_t *result = zflow_key_new_array (parts, add + keep, &rc);
        if (result) {
            const void *data = zflow_key_wire (result, &size);
            rc = s_replace_frame (msg, self->scratch, 0, data, size);
        }
        zflow_key_destroy (&result);
    }
    zflow_key_destroy (&key);
    return rc;
}

int zflow_pipeline_rekey (zflow_pipeline_t *self, const char *name, const char *from,
                          const char *to)
{
    s_rekey_t *state = (s_rekey_t *) zmalloc (sizeof (s_rekey_t));
    if (!state)
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    state->scratch = zflow_msg_new ();
    if (from && *from)
        state->from = zflow_key_parse (from, NULL);
    if (to && *to)
        state->to = zflow_key_parse (to, NULL);
    if (!state->scratch || (from && *from && !state->from) || (to && *to && !state->to)) {
        s_rekey_free (state);
        return zflow__pipeline_fail (self, ZFLOW_ECONFIG, "stage '%s': bad key '%s' or '%s'",
                                     name ? name : "", from ? from : "", to ? to : "");
    }
    return zflow_pipeline_map (self, name, s_rekey, state, s_rekey_free);
}

//  ---------------------------------------------------------------------
//  Re-encoding

typedef struct {
    zflow_pipeline_encoding_t encoding; //  target encoding
    zflow_meta_t *meta;                 //  reused meta
    zflow_msg_t *scratch;               //  reused while rebuilding
} s_encode_t;

static void s_encode_free (void *arg)
{
    s_encode_t *self = (s_encode_t *) arg;
    zflow_meta_destroy (&self->meta);
    zflow_msg_destroy (&self->scratch);
    free (self);
}

static int s_encode (zflow_msg_t *msg, void *arg)
{
    s_encode_t *self = (s_encode_t *) arg;
    json_t *json = zflow__codec_payload (msg);
    size_t size = 0;
    char *data = json ? zflow__codec_encode (json, self->encoding, &size) : NULL;
    json_decref (json);
    if (!data)
        return ZFLOW_EPROTO;
    byte wire[ZFLOW_META_MAX_WIRE];
    int rc = zflow_meta_decode (self->meta, zflow_msg_data (msg, 1), zflow_msg_part_size (msg, 1));
    if (rc == 0)
        rc = zflow_meta_set_content_type (
            self->meta, self->encoding == ZFLOW_PIPELINE_JSON ? ZFLOW__CT_JSON : ZFLOW__CT_MSGPACK);
    int wire_size = rc ? rc : zflow_meta_encode (self->meta, wire, sizeof (wire));
    if (wire_size > 0) {
        zflow_msg_reset (self->scratch);
        rc = zflow_msg_add_zmq (self->scratch, zflow_msg_zmq (msg, 0));
        rc = rc ? rc : zflow_msg_add (self->scratch, wire, (size_t) wire_size);
        rc = rc ? rc : zflow_msg_add (self->scratch, data, size);
        if (rc == 0)
            zflow_msg_move (msg, self->scratch);
    } else
        rc = wire_size;
    free (data);
    return rc;
}

int zflow_pipeline_encode (zflow_pipeline_t *self, const char *name,
                           zflow_pipeline_encoding_t encoding)
{
    s_encode_t *state = (s_encode_t *) zmalloc (sizeof (s_encode_t));
    if (!state)
        return zflow__pipeline_fail (self, ZFLOW_ENOMEM, "out of memory");
    state->encoding = encoding;
    state->meta = zflow_meta_new ();
    state->scratch = zflow_msg_new ();
    if (!state->meta || !state->scratch ||
        (encoding != ZFLOW_PIPELINE_JSON && encoding != ZFLOW_PIPELINE_MSGPACK)) {
        s_encode_free (state);
        return zflow__pipeline_fail (self, ZFLOW_EINVAL, "stage '%s': unknown encoding",
                                     name ? name : "");
    }
    return zflow_pipeline_map (self, name, s_encode, state, s_encode_free);
}
