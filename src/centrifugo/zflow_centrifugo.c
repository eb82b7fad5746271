/*  =========================================================================
    zflow_centrifugo - a blocking client for Centrifugo's server HTTP API

    The transport (libcurl) and the error classification. The methods that
    build each request live in zflow_centrifugo_methods.c.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_internal.h"
#include "zflow_error.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _zflow_centrifugo_t {
    CURL *curl;                                //  the easy handle, reused for keep-alive
    struct curl_slist *headers;                //  request headers, rebuilt on option change
    bool headers_dirty;                        //  headers must be rebuilt before the next call
    char *address;                             //  API prefix (modern) or endpoint (legacy)
    char *api_key;                             //  API key, or NULL
    zflow_centrifugo_format_t format;          //  wire format
    int connect_ms;                            //  connect timeout
    int total_ms;                              //  total timeout per request
    bool verify;                               //  TLS verification on
    bool transport_errors;                     //  X-Centrifugo-Error-Mode: transport
    bool keepalive;                            //  reuse connections
    zflow_centrifugo_json_encoder_fn *encoder; //  the json_encoder hook, or NULL
    void *encoder_arg;                         //  its argument
    char *body;                                //  the answer body being received
    size_t body_size;                          //  bytes in body
    size_t body_max;                           //  capacity of body
    bool body_too_big;                         //  the answer passed ZFLOW_CENTRIFUGO_MAX_BODY
    char curl_error[CURL_ERROR_SIZE];          //  libcurl's text for the last failure
    zflow_centrifugo_error_kind_t kind;        //  kind of the last failure
    int code;                                  //  Centrifugo error code of the last failure
    long status;                               //  HTTP status of the last answer
    char message[512];                         //  text of the last failure
    json_t *pending;                           //  queued batch commands: [{method, params}]
    uint64_t requests;                         //  requests sent
    uint64_t connects;                         //  new connections opened
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc = CURLE_OK;

static void s_curl_global_init (void)
{
    s_curl_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

//  Records a failure: kind, Centrifugo code, text. Returns rc.
static int s_fail (zflow_centrifugo_t *self, zflow_centrifugo_error_kind_t kind, int code, int rc,
                   const char *format, ...)
{
    self->kind = kind;
    self->code = code;
    va_list args;
    va_start (args, format);
    vsnprintf (self->message, sizeof (self->message), format, args);
    va_end (args);
    return rc;
}

static void s_reset_error (zflow_centrifugo_t *self)
{
    self->kind = ZFLOW_CENTRIFUGO_ERR_NONE;
    self->code = 0;
    self->status = 0;
    self->message[0] = 0;
    self->curl_error[0] = 0;
}

static size_t s_on_body (char *data, size_t size, size_t nmemb, void *arg)
{
    zflow_centrifugo_t *self = (zflow_centrifugo_t *) arg;
    size_t bytes = size * nmemb;
    if (self->body_size + bytes + 1 > ZFLOW_CENTRIFUGO_MAX_BODY) {
        self->body_too_big = true;
        return 0; //  makes libcurl abort with CURLE_WRITE_ERROR
    }
    if (self->body_size + bytes + 1 > self->body_max) {
        size_t max = self->body_max ? self->body_max : 4096;
        while (max < self->body_size + bytes + 1)
            max *= 2;
        char *body = (char *) realloc (self->body, max);
        if (!body)
            return 0;
        self->body = body;
        self->body_max = max;
    }
    memcpy (self->body + self->body_size, data, bytes);
    self->body_size += bytes;
    self->body[self->body_size] = 0;
    return bytes;
}

void zflow_centrifugo_config_init (zflow_centrifugo_config_t *config)
{
    if (!config)
        return;
    memset (config, 0, sizeof (*config));
    config->format = ZFLOW_CENTRIFUGO_MODERN;
    config->connect_timeout_ms = ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT;
    config->timeout_ms = ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT;
}

//  Checks a configuration before anything is allocated. Returns 0,
//  ZFLOW_EINVAL or ZFLOW_ECONFIG.
static int s_check_config (const zflow_centrifugo_config_t *config)
{
    if (!config)
        return ZFLOW_EINVAL;
    //  A key with a line break would inject headers.
    if (!config->address || !*config->address ||
        (config->api_key && strpbrk (config->api_key, "\r\n")))
        return ZFLOW_ECONFIG;
    if (config->format != ZFLOW_CENTRIFUGO_MODERN && config->format != ZFLOW_CENTRIFUGO_LEGACY)
        return ZFLOW_ECONFIG;
    if (config->connect_timeout_ms < 0 || config->timeout_ms < 0)
        return ZFLOW_ECONFIG;
    return 0;
}

zflow_centrifugo_t *zflow_centrifugo_new (const zflow_centrifugo_config_t *config, int *err_p)
{
    int rc = s_check_config (config);
    if (rc == 0) {
        pthread_once (&s_curl_once, s_curl_global_init);
        rc = s_curl_init_rc == CURLE_OK ? 0 : ZFLOW_ENOMEM;
    }
    zflow_centrifugo_t *self =
        rc ? NULL : (zflow_centrifugo_t *) calloc (1, sizeof (zflow_centrifugo_t));
    if (self) {
        self->curl = curl_easy_init ();
        self->address = strdup (config->address);
        self->api_key = config->api_key ? strdup (config->api_key) : NULL;
        self->pending = json_array ();
        if (!self->curl || !self->address || (config->api_key && !self->api_key) || !self->pending)
            zflow_centrifugo_destroy (&self);
    }
    if (!self) {
        if (err_p)
            *err_p = rc ? rc : ZFLOW_ENOMEM;
        return NULL;
    }
    //  Drop a trailing slash so "<address>/<method>" has exactly one.
    size_t len = strlen (self->address);
    while (len > 1 && self->address[len - 1] == '/')
        self->address[--len] = 0;
    self->format = config->format;
    self->connect_ms =
        config->connect_timeout_ms ? config->connect_timeout_ms : ZFLOW_CENTRIFUGO_CONNECT_TIMEOUT;
    self->total_ms = config->timeout_ms ? config->timeout_ms : ZFLOW_CENTRIFUGO_TOTAL_TIMEOUT;
    self->verify = !config->insecure;
    self->keepalive = !config->close_connections;
    self->transport_errors = config->transport_errors;
    self->headers_dirty = true;
    return self;
}

void zflow_centrifugo_destroy (zflow_centrifugo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_centrifugo_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup (self->curl);
    curl_slist_free_all (self->headers);
    free (self->address);
    free (self->api_key);
    free (self->body);
    json_decref (self->pending);
    free (self);
    *self_p = NULL;
}

int zflow_centrifugo_set_timeouts (zflow_centrifugo_t *self, int connect_ms, int total_ms)
{
    if (!self || connect_ms <= 0 || total_ms <= 0)
        return ZFLOW_EINVAL;
    self->connect_ms = connect_ms;
    self->total_ms = total_ms;
    return 0;
}

void zflow_centrifugo_json_set_encoder (zflow_centrifugo_t *self,
                                        zflow_centrifugo_json_encoder_fn *encoder, void *arg)
{
    if (!self)
        return;
    self->encoder = encoder;
    self->encoder_arg = arg;
}

zflow_centrifugo_format_t zflow_centrifugo_format (zflow_centrifugo_t *self)
{
    return self ? self->format : ZFLOW_CENTRIFUGO_MODERN;
}

zflow_centrifugo_error_kind_t zflow_centrifugo_error_kind (zflow_centrifugo_t *self)
{
    return self ? self->kind : ZFLOW_CENTRIFUGO_ERR_USAGE;
}

int zflow_centrifugo_error_code (zflow_centrifugo_t *self)
{
    return self ? self->code : 0;
}

long zflow_centrifugo_http_status (zflow_centrifugo_t *self)
{
    return self ? self->status : 0;
}

const char *zflow_centrifugo_error_message (zflow_centrifugo_t *self)
{
    return self ? self->message : "no client (NULL)";
}

uint64_t zflow_centrifugo_requests (zflow_centrifugo_t *self)
{
    return self ? self->requests : 0;
}

uint64_t zflow_centrifugo_connects (zflow_centrifugo_t *self)
{
    return self ? self->connects : 0;
}

//  Appends line (NULL counts as a failure) to *list_p. Returns true on
//  success; on failure *list_p is left as it was.
static bool s_header_add (struct curl_slist **list_p, const char *line)
{
    struct curl_slist *longer = line ? curl_slist_append (*list_p, line) : NULL;
    if (longer)
        *list_p = longer;
    return longer != NULL;
}

//  Builds the header list for the format and options in force.
static int s_build_headers (zflow_centrifugo_t *self)
{
    curl_slist_free_all (self->headers);
    self->headers = NULL;
    struct curl_slist *list = NULL;
    //  No "Expect: 100-continue" round trip before large bodies.
    bool ok =
        s_header_add (&list, "Content-Type: application/json") && s_header_add (&list, "Expect:");
    if (ok && self->api_key) {
        char *line = NULL;
        if (asprintf (&line,
                      self->format == ZFLOW_CENTRIFUGO_MODERN ? "X-API-Key: %s"
                                                              : "Authorization: apikey %s",
                      self->api_key) < 0)
            line = NULL;
        ok = s_header_add (&list, line);
        free (line);
    }
    if (ok && self->transport_errors)
        ok = s_header_add (&list, "X-Centrifugo-Error-Mode: transport");
    if (!ok) {
        curl_slist_free_all (list);
        return ZFLOW_ENOMEM;
    }
    self->headers = list;
    self->headers_dirty = false;
    return 0;
}

//  Classifies a libcurl failure as a request error.
static int s_curl_failed (zflow_centrifugo_t *self, CURLcode code)
{
    const char *text = self->curl_error[0] ? self->curl_error : curl_easy_strerror (code);
    int rc = ZFLOW_ETRANSPORT;
    if (self->body_too_big)
        return s_fail (self, ZFLOW_CENTRIFUGO_ERR_REQUEST, 0, ZFLOW_ETOOBIG,
                       "answer larger than %d bytes", ZFLOW_CENTRIFUGO_MAX_BODY);
    if (code == CURLE_OPERATION_TIMEDOUT)
        rc = ZFLOW_ETIMEDOUT;
    else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
             code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_URL_MALFORMAT ||
             code == CURLE_UNSUPPORTED_PROTOCOL)
        rc = ZFLOW_EENDPOINT;
    return s_fail (self, ZFLOW_CENTRIFUGO_ERR_REQUEST, 0, rc, "request failed: %s", text);
}

//  POSTs body to url; on success (HTTP 200 or any status, see below) the
//  answer is in self->body. Returns 0 when an answer came, or a REQUEST
//  failure.
int zflow__centrifugo_post (zflow_centrifugo_t *self, const char *url, const char *body,
                            size_t size)
{
    if (self->headers_dirty && s_build_headers (self))
        return s_fail (self, ZFLOW_CENTRIFUGO_ERR_USAGE, 0, ZFLOW_ENOMEM, "out of memory");
    CURL *curl = self->curl;
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_POST, 1L);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, self);
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, self->curl_error);
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) self->connect_ms);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) self->total_ms);
    curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, self->verify ? 1L : 0L);
    curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, self->verify ? 2L : 0L);
    curl_easy_setopt (curl, CURLOPT_FORBID_REUSE, self->keepalive ? 0L : 1L);
    curl_easy_setopt (curl, CURLOPT_TCP_NODELAY, 1L);
    self->body_size = 0;
    self->body_too_big = false;
    if (self->body)
        self->body[0] = 0;
    self->requests++;
    CURLcode code = curl_easy_perform (curl);
    long connects = 0;
    if (curl_easy_getinfo (curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
        self->connects += (uint64_t) connects;
    if (code != CURLE_OK)
        return s_curl_failed (self, code);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &self->status);
    return 0;
}

//  Returns the body of the last answer (never NULL) and its size.
const char *zflow__centrifugo_body (zflow_centrifugo_t *self, size_t *size_p)
{
    *size_p = self->body_size;
    return self->body ? self->body : "";
}

//  If obj is an error object {"code":int,"message":str}, records it as a
//  RESPONSE failure and returns ZFLOW_EREFUSED; returns 0 otherwise.
int zflow__centrifugo_error_object (zflow_centrifugo_t *self, const json_t *obj)
{
    json_t *code = json_is_object (obj) ? json_object_get (obj, "code") : NULL;
    if (!json_is_integer (code))
        return 0;
    json_t *message = json_object_get (obj, "message");
    return s_fail (self, ZFLOW_CENTRIFUGO_ERR_RESPONSE, (int) json_integer_value (code),
                   ZFLOW_EREFUSED, "%s",
                   json_is_string (message) ? json_string_value (message) : "");
}

//  Checks the HTTP status of the last answer. In transport error mode a
//  non-200 status with a {"code","message"} body is a RESPONSE error;
//  any other non-200 status is a REQUEST error. Returns 0 for 200.
int zflow__centrifugo_check_status (zflow_centrifugo_t *self)
{
    if (self->status == 200)
        return 0;
    if (self->transport_errors) {
        json_t *obj = json_loadb (self->body ? self->body : "", self->body_size, 0, NULL);
        int rc = zflow__centrifugo_error_object (self, obj);
        json_decref (obj);
        if (rc)
            return rc;
    }
    //  Keep the start of the body: servers explain a 401 or 500 there.
    char text[160] = "";
    if (self->body_size) {
        snprintf (text, sizeof (text), "%.*s",
                  (int) (self->body_size < 120 ? self->body_size : 120), self->body);
        for (char *c = text; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
    }
    return s_fail (self, ZFLOW_CENTRIFUGO_ERR_REQUEST, 0, ZFLOW_ETRANSPORT, "HTTP status %ld%s%s",
                   self->status, *text ? ": " : "", text);
}

//  Records a missing API method as error 104. Returns ZFLOW_EREFUSED.
int zflow__centrifugo_method_missing (zflow_centrifugo_t *self, const char *method)
{
    return s_fail (self, ZFLOW_CENTRIFUGO_ERR_RESPONSE, ZFLOW_CENTRIFUGO_NOT_FOUND, ZFLOW_EREFUSED,
                   "not found: the server has no API method '%.100s' (HTTP status %ld)", method,
                   self->status);
}

//  Keeps kind and code, replaces the message. Returns ZFLOW_ENOTSUP.
int zflow__centrifugo_not_supported (zflow_centrifugo_t *self, const char *what)
{
    return s_fail (self, self->kind, self->code, ZFLOW_ENOTSUP, "%s", what);
}

//  Records a DECODE failure. Returns ZFLOW_EPROTO.
int zflow__centrifugo_decode_failed (zflow_centrifugo_t *self, const char *what)
{
    return s_fail (self, ZFLOW_CENTRIFUGO_ERR_DECODE, 0, ZFLOW_EPROTO,
                   "answer is not valid Centrifugo JSON: %s", what);
}

//  Records a USAGE failure. Returns rc.
int zflow__centrifugo_usage (zflow_centrifugo_t *self, int rc, const char *what)
{
    return s_fail (self, ZFLOW_CENTRIFUGO_ERR_USAGE, 0, rc, "%s", what);
}

void zflow__centrifugo_reset_error (zflow_centrifugo_t *self)
{
    s_reset_error (self);
}

const char *zflow__centrifugo_address (zflow_centrifugo_t *self)
{
    return self->address;
}

json_t *zflow__centrifugo_pending (zflow_centrifugo_t *self)
{
    return self->pending;
}

json_t *zflow__centrifugo_encode (zflow_centrifugo_t *self, const void *object)
{
    return self->encoder ? self->encoder (object, self->encoder_arg) : NULL;
}
