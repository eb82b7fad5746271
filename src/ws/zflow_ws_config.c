/*  =========================================================================
    zflow_ws_config - the configuration of a WebSocket feed, and filters

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"

//  ---------------------------------------------------------------------
//  Filters

json_t *zflow__ws_filter_parse (const char *text)
{
    if (!text)
        return NULL;
    json_t *value = json_loads (text, JSON_DECODE_ANY, NULL);
    if (json_is_object (value)) {
        json_t *list = json_array ();
        json_array_append_new (list, value);
        return list;
    }
    if (!json_is_array (value) || json_array_size (value) == 0) {
        json_decref (value);
        return NULL;
    }
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item) if (!json_is_object (item))
    {
        json_decref (value);
        return NULL;
    }
    return value;
}

bool zflow__ws_filter_match (const json_t *filter, const json_t *message)
{
    if (!filter)
        return true;
    if (!json_is_object (message))
        return false;
    size_t index;
    json_t *item;
    json_array_foreach (filter, index, item)
    {
        const char *key;
        json_t *want;
        bool all = true;
        json_object_foreach ((json_t *) item, key, want)
        {
            json_t *have = json_object_get (message, key);
            if (!have || !json_equal (have, want)) {
                all = false;
                break;
            }
        }
        if (all)
            return true;
    }
    return false;
}

//  ---------------------------------------------------------------------
//  Configuration

zflow_ws_config_t *zflow_ws_config_new (const char *url)
{
    zflow_ws_url_t parsed;
    if (zflow__ws_url_parse (url, &parsed))
        return NULL;
    zflow_ws_config_t *self = (zflow_ws_config_t *) calloc (1, sizeof (zflow_ws_config_t));
    if (!self)
        return NULL;
    self->url = strdup (url);
    self->name = strdup ("ws");
    self->connect_msgs = zlist_new ();
    if (!self->url || !self->name || !self->connect_msgs) {
        zflow_ws_config_destroy (&self);
        return NULL;
    }
    zlist_autofree (self->connect_msgs);
    self->deflate = true;
    self->tls_verify = true;
    self->max_message = ZFLOW_WS_DEFAULT_MAX_MESSAGE;
    self->timeout_ms = ZFLOW_WS_DEFAULT_TIMEOUT;
    self->backoff_initial_ms = 100;
    self->backoff_max_ms = 30000;
    self->send_queue = 1000;
    self->batch = ZFLOW_WS_BATCH_DEFAULT;
    return self;
}

void zflow_ws_config_destroy (zflow_ws_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_config_t *self = *self_p;
    free (self->url);
    free (self->headers);
    free (self->protocols);
    free (self->ca_file);
    free (self->app_ping_text);
    free (self->app_pong_text);
    free (self->reply_ping);
    free (self->reply_pong);
    free (self->endpoint);
    free (self->name);
    json_decref (self->rotate_filter);
    json_decref (self->app_pong_filter);
    zlist_destroy (&self->connect_msgs);
    free (self);
    *self_p = NULL;
}

//  Replaces *field with a copy of value (NULL clears). Returns 0 or ENOMEM.
static int s_set_string (char **field, const char *value)
{
    char *copy = value ? strdup (value) : NULL;
    if (value && !copy)
        return ZFLOW_ENOMEM;
    free (*field);
    *field = copy;
    return 0;
}

int zflow_ws_config_set_header (zflow_ws_config_t *self, const char *name, const char *value)
{
    if (!self || !name || !value || !*name || strpbrk (name, "\r\n:") || strpbrk (value, "\r\n"))
        return ZFLOW_EINVAL;
    size_t size =
        (self->headers ? strlen (self->headers) + 2 : 0) + strlen (name) + strlen (value) + 3;
    char *headers = (char *) malloc (size);
    if (!headers)
        return ZFLOW_ENOMEM;
    snprintf (headers, size, "%s%s%s: %s", self->headers ? self->headers : "",
              self->headers ? "\r\n" : "", name, value);
    free (self->headers);
    self->headers = headers;
    return 0;
}

int zflow_ws_config_set_protocols (zflow_ws_config_t *self, const char *protocols)
{
    if (!self || (protocols && strpbrk (protocols, "\r\n")))
        return ZFLOW_EINVAL;
    return s_set_string (&self->protocols, protocols);
}

int zflow_ws_config_set_deflate (zflow_ws_config_t *self, bool offer)
{
    if (!self)
        return ZFLOW_EINVAL;
    self->deflate = offer;
    return 0;
}

int zflow_ws_config_set_tls (zflow_ws_config_t *self, bool verify, const char *ca_file)
{
    if (!self)
        return ZFLOW_EINVAL;
    self->tls_verify = verify;
    return s_set_string (&self->ca_file, ca_file);
}

int zflow_ws_config_set_max_message (zflow_ws_config_t *self, size_t size)
{
    if (!self || size == 0 || size > (1u << 31) - 1)
        return ZFLOW_EINVAL;
    self->max_message = size;
    return 0;
}

int zflow_ws_config_set_timeout (zflow_ws_config_t *self, int timeout_ms)
{
    if (!self || timeout_ms <= 0)
        return ZFLOW_EINVAL;
    self->timeout_ms = timeout_ms;
    return 0;
}

int zflow_ws_config_set_parse (zflow_ws_config_t *self, int mode)
{
    if (!self || (mode != ZFLOW_WS_PARSE_JSON && mode != ZFLOW_WS_PARSE_RAW))
        return ZFLOW_EINVAL;
    self->parse_mode = mode;
    self->parser = NULL;
    return 0;
}

int zflow_ws_json_set_parser (zflow_ws_config_t *self, zflow_ws_json_parse_fn *fn, void *arg)
{
    if (!self || !fn)
        return ZFLOW_EINVAL;
    self->parser = fn;
    self->parser_arg = arg;
    return 0;
}

int zflow_ws_json_add_handler (zflow_ws_config_t *self, zflow_ws_json_handler_fn *fn, void *arg)
{
    if (!self || !fn || self->nhandlers == ZFLOW_WS_MAX_HANDLERS)
        return ZFLOW_EINVAL;
    self->handlers[self->nhandlers++] = (zflow_ws_handler_t){fn, arg};
    return 0;
}

int zflow_ws_config_set_decode (zflow_ws_config_t *self, int mode)
{
    if (!self || mode < ZFLOW_WS_DECODE_NONE || mode > ZFLOW_WS_DECODE_DEFLATE)
        return ZFLOW_EINVAL;
    self->decode = mode;
    return 0;
}

int zflow_ws_config_set_backoff (zflow_ws_config_t *self, int initial_ms, int max_ms)
{
    if (!self || initial_ms <= 0 || max_ms < initial_ms)
        return ZFLOW_EINVAL;
    self->backoff_initial_ms = initial_ms;
    self->backoff_max_ms = max_ms;
    return 0;
}

int zflow_ws_config_set_connect_rate (zflow_ws_config_t *self, int interval_ms)
{
    if (!self || interval_ms < 0)
        return ZFLOW_EINVAL;
    self->connect_interval_ms = interval_ms;
    return 0;
}

int zflow_ws_config_set_rotate (zflow_ws_config_t *self, int64_t interval_ms,
                                const char *filter_json)
{
    if (!self || interval_ms < 0)
        return ZFLOW_EINVAL;
    json_t *filter = NULL;
    if (filter_json && !(filter = zflow__ws_filter_parse (filter_json)))
        return ZFLOW_EINVAL;
    json_decref (self->rotate_filter);
    self->rotate_filter = filter;
    self->rotate_ms = interval_ms;
    return 0;
}

int zflow_ws_config_on_connect_send (zflow_ws_config_t *self, const char *text)
{
    if (!self || !text || !zflow__ws_utf8_valid ((const uint8_t *) text, strlen (text)))
        return ZFLOW_EINVAL;
    return zlist_append (self->connect_msgs, (void *) text) == 0 ? 0 : ZFLOW_ENOMEM;
}

int zflow_ws_config_on_connect (zflow_ws_config_t *self, zflow_ws_connect_fn *fn, void *arg)
{
    if (!self)
        return ZFLOW_EINVAL;
    self->on_connect = fn;
    self->on_connect_arg = arg;
    return 0;
}

int zflow_ws_config_set_ping (zflow_ws_config_t *self, int interval_ms)
{
    if (!self || interval_ms < 0)
        return ZFLOW_EINVAL;
    self->ping_ms = interval_ms;
    return 0;
}

int zflow_ws_config_set_app_ping (zflow_ws_config_t *self, int interval_ms, const char *ping_text,
                                  const char *pong)
{
    if (!self || interval_ms < 0 || (interval_ms && !ping_text))
        return ZFLOW_EINVAL;
    json_t *filter = NULL;
    if (pong && (*pong == '[' || *pong == '{') && !(filter = zflow__ws_filter_parse (pong)))
        return ZFLOW_EINVAL;
    json_decref (self->app_pong_filter);
    self->app_pong_filter = filter;
    self->app_ping_ms = interval_ms;
    if (s_set_string (&self->app_ping_text, ping_text) ||
        s_set_string (&self->app_pong_text, filter ? NULL : pong))
        return ZFLOW_ENOMEM;
    return 0;
}

int zflow_ws_config_set_send_queue (zflow_ws_config_t *self, size_t messages)
{
    if (!self || messages == 0)
        return ZFLOW_EINVAL;
    self->send_queue = messages;
    return 0;
}

int zflow_ws_config_set_send_rate (zflow_ws_config_t *self, double per_second)
{
    if (!self || per_second < 0)
        return ZFLOW_EINVAL;
    self->send_rate = per_second;
    return 0;
}

int zflow_ws_config_set_endpoint (zflow_ws_config_t *self, const char *endpoint)
{
    if (!self || !endpoint || !*endpoint)
        return ZFLOW_EINVAL;
    return s_set_string (&self->endpoint, endpoint);
}

int zflow_ws_config_set_autostart (zflow_ws_config_t *self, bool autostart)
{
    if (!self)
        return ZFLOW_EINVAL;
    self->manual_start = !autostart;
    return 0;
}

int zflow_ws_config_set_app_ping_reply (zflow_ws_config_t *self, const char *ping, const char *pong)
{
    if (!self || (ping && (!*ping || !pong || !*pong)))
        return ZFLOW_EINVAL;
    if (ping && (!zflow__ws_utf8_valid ((const uint8_t *) ping, strlen (ping)) ||
                 !zflow__ws_utf8_valid ((const uint8_t *) pong, strlen (pong))))
        return ZFLOW_EINVAL;
    if (s_set_string (&self->reply_ping, ping) ||
        s_set_string (&self->reply_pong, ping ? pong : NULL))
        return ZFLOW_ENOMEM;
    return 0;
}

int zflow_ws_config_set_batch (zflow_ws_config_t *self, size_t messages)
{
    if (!self || messages == 0 || messages > 65536)
        return ZFLOW_EINVAL;
    self->batch = messages;
    return 0;
}

int zflow_ws_config_set_name (zflow_ws_config_t *self, const char *name)
{
    if (!self || !name || !*name)
        return ZFLOW_EINVAL;
    zflow_key_t *key = zflow_key_new ("ws", name, NULL);
    if (!key)
        return ZFLOW_EINVAL; //  0x1F in it, or too long for a key
    zflow_key_destroy (&key);
    return s_set_string (&self->name, name);
}

int zflow_ws_config_on_close (zflow_ws_config_t *self, zflow_ws_close_fn *fn, void *arg)
{
    if (!self)
        return ZFLOW_EINVAL;
    self->on_close = fn;
    self->on_close_arg = arg;
    return 0;
}

int zflow_ws_config_on_message (zflow_ws_config_t *self, zflow_ws_message_fn *fn, void *arg)
{
    if (!self)
        return ZFLOW_EINVAL;
    self->on_message = fn;
    self->on_message_arg = arg;
    return 0;
}

//  Copies *field into *copy (NULL stays NULL). Returns 0 or -1.
static int s_dup_string (char **copy, const char *field)
{
    *copy = field ? strdup (field) : NULL;
    return field && !*copy ? -1 : 0;
}

//  Copies a JSON filter: a deep copy, so that no reference count is
//  shared between the caller's thread and the actor's.
static int s_dup_json (json_t **copy, const json_t *field)
{
    *copy = field ? json_deep_copy (field) : NULL;
    return field && !*copy ? -1 : 0;
}

zflow_ws_config_t *zflow__ws_config_dup (const zflow_ws_config_t *self)
{
    zflow_ws_config_t *copy = (zflow_ws_config_t *) malloc (sizeof (zflow_ws_config_t));
    if (!copy)
        return NULL;
    *copy = *self; //  numbers and callbacks; every pointer is replaced below
    int rc = s_dup_string (&copy->url, self->url);
    rc |= s_dup_string (&copy->headers, self->headers);
    rc |= s_dup_string (&copy->protocols, self->protocols);
    rc |= s_dup_string (&copy->ca_file, self->ca_file);
    rc |= s_dup_string (&copy->app_ping_text, self->app_ping_text);
    rc |= s_dup_string (&copy->app_pong_text, self->app_pong_text);
    rc |= s_dup_string (&copy->reply_ping, self->reply_ping);
    rc |= s_dup_string (&copy->reply_pong, self->reply_pong);
    rc |= s_dup_string (&copy->endpoint, self->endpoint);
    rc |= s_dup_string (&copy->name, self->name);
    rc |= s_dup_json (&copy->rotate_filter, self->rotate_filter);
    rc |= s_dup_json (&copy->app_pong_filter, self->app_pong_filter);
    copy->connect_msgs = zlist_new ();
    if (copy->connect_msgs) {
        zlist_autofree (copy->connect_msgs);
        const char *text = (const char *) zlist_first (self->connect_msgs);
        for (; text; text = (const char *) zlist_next (self->connect_msgs))
            rc |= zlist_append (copy->connect_msgs, (void *) text);
    }
    if (rc || !copy->connect_msgs)
        zflow_ws_config_destroy (&copy);
    return copy;
}
