/*  =========================================================================
    zflow_ws_proto - pure WebSocket protocol helpers (internal)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_proto.h"
#include "zflow_error.h"
#include "zflow_openssl.h"
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

//  The GUID of RFC 6455 section 1.3, appended to the key before hashing.
#define S_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
//  Largest handshake response we read before giving up.
#define S_MAX_RESPONSE 16384

//  ---------------------------------------------------------------------
//  URL

int zflow__ws_url_parse (const char *url, zflow_ws_url_t *out)
{
    if (!url || !out)
        return ZFLOW_EINVAL;
    memset (out, 0, sizeof (*out));
    const char *rest;
    if (strncasecmp (url, "ws://", 5) == 0)
        rest = url + 5;
    else if (strncasecmp (url, "wss://", 6) == 0) {
        out->tls = true;
        rest = url + 6;
    } else
        return ZFLOW_EINVAL;
    size_t auth_len = strcspn (rest, "/?#");
    const char *host = rest, *port = NULL;
    size_t host_len = auth_len;
    if (*host == '[') { //  [v6]:port
        const char *close = memchr (host, ']', auth_len);
        if (!close)
            return ZFLOW_EINVAL;
        host++;
        host_len = (size_t) (close - host);
        if (close[1] == ':')
            port = close + 2;
    } else {
        const char *colon = memchr (host, ':', auth_len);
        if (colon) {
            host_len = (size_t) (colon - host);
            port = colon + 1;
        }
    }
    if (host_len == 0 || memchr (host, '@', host_len))
        return ZFLOW_EINVAL;
    if (host_len >= sizeof (out->host))
        return ZFLOW_ETOOBIG;
    memcpy (out->host, host, host_len);
    size_t port_len = port ? (size_t) (rest + auth_len - port) : 0;
    if (port) {
        if (port_len == 0 || port_len > 5 || strspn (port, "0123456789") < port_len)
            return ZFLOW_EINVAL;
        memcpy (out->port, port, port_len);
        long value = strtol (out->port, NULL, 10);
        if (value < 1 || value > 65535)
            return ZFLOW_EINVAL;
    } else {
        strcpy (out->port, out->tls ? "443" : "80");
        out->default_port = true;
    }
    const char *path = rest + auth_len;
    size_t path_len = strcspn (path, "#");
    if (path_len + 2 > sizeof (out->path))
        return ZFLOW_ETOOBIG;
    if (path_len == 0 || *path == '?')
        out->path[0] = '/';
    memcpy (out->path + strlen (out->path), path, path_len);
    return 0;
}

//  ---------------------------------------------------------------------
//  Handshake

int zflow__ws_make_key (char *key_b64)
{
    zflow__openssl_init ();
    unsigned char raw[16];
    if (getrandom (raw, sizeof (raw), 0) != (ssize_t) sizeof (raw))
        return ZFLOW_EIO;
    EVP_EncodeBlock ((unsigned char *) key_b64, raw, sizeof (raw));
    return 0;
}

//  Computes the Sec-WebSocket-Accept value for key into accept (29 bytes).
static void s_accept_for (const char *key_b64, char *accept)
{
    char joined[128];
    snprintf (joined, sizeof (joined), "%s%s", key_b64, S_WS_GUID);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1 ((const unsigned char *) joined, strlen (joined), digest);
    EVP_EncodeBlock ((unsigned char *) accept, digest, sizeof (digest));
}

char *zflow__ws_request (const zflow_ws_url_t *url, const char *key_b64, const char *headers,
                         const char *protocols, bool deflate)
{
    char host[300];
    bool v6 = strchr (url->host, ':') != NULL;
    snprintf (host, sizeof (host), "%s%s%s%s%s", v6 ? "[" : "", url->host, v6 ? "]" : "",
              url->default_port ? "" : ":", url->default_port ? "" : url->port);
    size_t size = strlen (url->path) + strlen (host) + 512 + (headers ? strlen (headers) : 0) +
                  (protocols ? strlen (protocols) : 0);
    char *request = malloc (size);
    if (!request)
        return NULL;
    int n = snprintf (request, size,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                      "Sec-WebSocket-Version: 13\r\n",
                      url->path, host, key_b64);
    if (protocols && *protocols)
        n += snprintf (request + n, size - n, "Sec-WebSocket-Protocol: %s\r\n", protocols);
    if (deflate)
        n += snprintf (request + n, size - n,
                       "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    if (headers && *headers)
        n += snprintf (request + n, size - n, "%s\r\n", headers);
    snprintf (request + n, size - n, "\r\n");
    return request;
}

//  True when the comma-separated list contains token (case-insensitive).
static bool s_list_has (const char *list, size_t list_len, const char *token)
{
    size_t token_len = strlen (token);
    const char *p = list, *end = list + list_len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *start = p;
        while (p < end && *p != ',')
            p++;
        const char *stop = p;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if ((size_t) (stop - start) == token_len && strncasecmp (start, token, token_len) == 0)
            return true;
    }
    return false;
}

//  Parses one window-bits parameter value "=N". Returns 8..15 or -1.
static int s_window_bits (const char *value, size_t len)
{
    if (len == 0 || len > 2)
        return -1;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit ((unsigned char) value[i]))
            return -1;
        bits = bits * 10 + (value[i] - '0');
    }
    return bits >= 8 && bits <= 15 ? bits : -1;
}

//  Parses a Sec-WebSocket-Extensions response value into out. Returns 0 or
//  ZFLOW_EPROTO (an extension we did not offer, an unknown or repeated
//  parameter, a bad value).
static int s_parse_extensions (const char *value, size_t len, bool offered, zflow_ws_accept_t *out)
{
    char text[512];
    if (len >= sizeof (text) || !offered || out->deflate)
        return ZFLOW_EPROTO;
    memcpy (text, value, len);
    text[len] = 0;
    if (strchr (text, ','))
        return ZFLOW_EPROTO; //  we offered one extension: one may come back
    char *save = NULL;
    char *part = strtok_r (text, ";", &save);
    unsigned seen = 0;
    for (int index = 0; part; index++, part = strtok_r (NULL, ";", &save)) {
        while (*part == ' ' || *part == '\t')
            part++;
        size_t plen = strlen (part);
        while (plen && (part[plen - 1] == ' ' || part[plen - 1] == '\t'))
            part[--plen] = 0;
        char *eq = strchr (part, '=');
        size_t name_len = eq ? (size_t) (eq - part) : plen;
        const char *arg = eq ? eq + 1 : "";
        size_t arg_len = eq ? plen - name_len - 1 : 0;
        if (arg_len >= 2 && arg[0] == '"' && arg[arg_len - 1] == '"') {
            arg++;
            arg_len -= 2;
        }
#define S_IS(name) (name_len == strlen (name) && strncasecmp (part, name, name_len) == 0)
        unsigned bit;
        if (index == 0) {
            if (!S_IS ("permessage-deflate") || eq)
                return ZFLOW_EPROTO;
            continue;
        }
        if (S_IS ("server_no_context_takeover") && !eq) {
            bit = 1;
            out->server_no_takeover = true;
        } else if (S_IS ("client_no_context_takeover") && !eq) {
            bit = 2;
            out->client_no_takeover = true;
        } else if (S_IS ("server_max_window_bits")) {
            bit = 4;
            out->server_max_window_bits = s_window_bits (arg, arg_len);
        } else if (S_IS ("client_max_window_bits")) {
            bit = 8;
            out->client_max_window_bits = s_window_bits (arg, arg_len);
        } else
            return ZFLOW_EPROTO;
#undef S_IS
        if ((seen & bit) || out->server_max_window_bits < 0 || out->client_max_window_bits < 0)
            return ZFLOW_EPROTO;
        seen |= bit;
    }
    out->deflate = true;
    return 0;
}

//  Checks one response header line. Returns 0 or a zflow error with err set.
static int s_check_header (const char *name, size_t name_len, const char *value, size_t value_len,
                           const char *key_b64, const char *protocols, bool deflate_offered,
                           zflow_ws_accept_t *out, unsigned *found, char *err, size_t err_size)
{
#define S_NAME(n) (name_len == strlen (n) && strncasecmp (name, n, name_len) == 0)
    if (S_NAME ("Upgrade")) {
        if (!s_list_has (value, value_len, "websocket"))
            goto bad;
        *found |= 1;
    } else if (S_NAME ("Connection")) {
        if (!s_list_has (value, value_len, "upgrade"))
            goto bad;
        *found |= 2;
    } else if (S_NAME ("Sec-WebSocket-Accept")) {
        char accept[32];
        s_accept_for (key_b64, accept);
        if (value_len != strlen (accept) || memcmp (value, accept, value_len) != 0)
            goto bad;
        *found |= 4;
    } else if (S_NAME ("Sec-WebSocket-Extensions")) {
        if (s_parse_extensions (value, value_len, deflate_offered, out))
            goto bad;
    } else if (S_NAME ("Sec-WebSocket-Protocol")) {
        if (out->protocol[0] || value_len >= sizeof (out->protocol) || !protocols ||
            memchr (value, ',', value_len))
            goto bad;
        memcpy (out->protocol, value, value_len);
        out->protocol[value_len] = 0;
        if (!s_list_has (protocols, strlen (protocols), out->protocol))
            goto bad;
    }
#undef S_NAME
    return 0;
bad:
    snprintf (err, err_size, "bad handshake header %.*s: %.*s", (int) name_len, name,
              (int) (value_len > 100 ? 100 : value_len), value);
    return ZFLOW_EPROTO;
}

//  Looks for the Location header of a redirect, for the error text.
static void s_location (const char *buf, size_t size, char *location, size_t loc_size)
{
    snprintf (location, loc_size, "(no Location)");
    for (const char *p = buf; p + 10 < buf + size; p++)
        if (*p == '\n' && strncasecmp (p + 1, "Location:", 9) == 0) {
            const char *v = p + 10;
            while (*v == ' ')
                v++;
            size_t n = strcspn (v, "\r\n");
            snprintf (location, loc_size, "%.*s", (int) (n > 200 ? 200 : n), v);
            return;
        }
}

int zflow__ws_response (const char *buf, size_t size, const char *key_b64, const char *protocols,
                        bool deflate_offered, zflow_ws_accept_t *out, char *err, size_t err_size)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < size && i < S_MAX_RESPONSE; i++)
        if (buf[i] == '\r' && memcmp (buf + i, "\r\n\r\n", 4) == 0) {
            end = buf + i + 4;
            break;
        }
    if (!end) {
        snprintf (err, err_size, "handshake response incomplete");
        return size >= S_MAX_RESPONSE ? ZFLOW_ETOOBIG : ZFLOW_EAGAIN;
    }
    memset (out, 0, sizeof (*out));
    out->server_max_window_bits = out->client_max_window_bits = 15;
    out->header_size = (size_t) (end - buf);
    int status = 0;
    if (size < 12 || strncmp (buf, "HTTP/1.1 ", 9) != 0 || !isdigit ((unsigned char) buf[9]) ||
        !isdigit ((unsigned char) buf[10]) || !isdigit ((unsigned char) buf[11])) {
        snprintf (err, err_size, "handshake response is not HTTP/1.1");
        return ZFLOW_EPROTO;
    }
    status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (status >= 300 && status < 400) {
        char location[256];
        s_location (buf, out->header_size, location, sizeof (location));
        snprintf (err, err_size, "server redirects (HTTP %d to %s); redirects are refused", status,
                  location);
        return ZFLOW_EREFUSED;
    }
    if (status != 101) {
        size_t n = strcspn (buf, "\r\n");
        snprintf (err, err_size, "server refused the upgrade: %.*s", (int) (n > 120 ? 120 : n),
                  buf);
        return ZFLOW_EREFUSED;
    }
    unsigned found = 0;
    const char *line = memchr (buf, '\n', out->header_size) + 1;
    while (line < end - 2) {
        const char *eol = memchr (line, '\n', (size_t) (end - line));
        size_t len = (size_t) (eol - line);
        if (len && line[len - 1] == '\r')
            len--;
        const char *colon = memchr (line, ':', len);
        if (!colon || colon == line) {
            snprintf (err, err_size, "malformed handshake header line");
            return ZFLOW_EPROTO;
        }
        const char *value = colon + 1, *vend = line + len;
        while (value < vend && (*value == ' ' || *value == '\t'))
            value++;
        while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        int rc = s_check_header (line, (size_t) (colon - line), value, (size_t) (vend - value),
                                 key_b64, protocols, deflate_offered, out, &found, err, err_size);
        if (rc)
            return rc;
        line = eol + 1;
    }
    if (found != 7) {
        snprintf (err, err_size, "handshake response lacks %s",
                  !(found & 1)   ? "Upgrade: websocket"
                  : !(found & 2) ? "Connection: Upgrade"
                                 : "Sec-WebSocket-Accept");
        return ZFLOW_EPROTO;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  UTF-8

bool zflow__ws_utf8_valid (const uint8_t *data, size_t size)
{
    size_t i = 0;
    while (i < size) {
        //  Fast paths: 32, then eight ASCII bytes at a time.
        if (i + 32 <= size) {
            uint64_t words[4];
            memcpy (words, data + i, 32);
            if (((words[0] | words[1] | words[2] | words[3]) & 0x8080808080808080ULL) == 0) {
                i += 32;
                continue;
            }
        }
        if (i + 8 <= size) {
            uint64_t word;
            memcpy (&word, data + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        uint8_t c = data[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else
            return false;
        if (i + n >= size)
            return false; //  truncated sequence
        for (size_t k = 1; k <= n; k++) {
            if ((data[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (data[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

//  True when tail[0..size) (a lead byte and fewer continuation bytes than
//  it needs) can still become a valid code point: the lead is C2..F4 and
//  the second byte keeps it from being an overlong, a surrogate or above
//  U+10FFFF (RFC 3629 section 4). Lets a reader fail on the byte that
//  makes the text invalid instead of waiting for the rest.
static bool s_utf8_prefix_ok (const uint8_t *tail, size_t size)
{
    uint8_t lead = tail[0];
    if (lead < 0xC2 || lead > 0xF4)
        return false;
    if (size < 2)
        return true;
    uint8_t next = tail[1];
    uint8_t low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    uint8_t high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    return next >= low && next <= high;
}

size_t zflow__ws_utf8_whole (const uint8_t *data, size_t size)
{
    //  Back over up to three continuation bytes to the lead byte.
    for (size_t back = 1; back <= 4 && back <= size; back++) {
        uint8_t c = data[size - back];
        if ((c & 0xC0) == 0x80)
            continue;
        size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (need <= back || !s_utf8_prefix_ok (data + size - back, back))
            return size; //  whole, or already invalid: zflow__ws_utf8_valid says so
        return size - back;
    }
    return size;
}

//  ---------------------------------------------------------------------
//  Compression

void zflow__ws_buf_free (zflow_ws_buf_t *buf)
{
    free (buf->data);
    memset (buf, 0, sizeof (*buf));
}

//  Makes room for at least more bytes. Returns 0 or ZFLOW_ENOMEM.
static int s_buf_reserve (zflow_ws_buf_t *buf, size_t more)
{
    if (buf->cap - buf->size >= more)
        return 0;
    size_t cap = buf->cap ? buf->cap : 4096;
    while (cap - buf->size < more)
        cap *= 2;
    uint8_t *data = realloc (buf->data, cap);
    if (!data)
        return ZFLOW_ENOMEM;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

//  Runs inflate over input until it is consumed. Returns as zflow__ws_inflate.
static int s_inflate_input (z_stream *zs, const uint8_t *data, size_t size, size_t limit,
                            zflow_ws_buf_t *out)
{
    zs->next_in = (Bytef *) data;
    zs->avail_in = (uInt) size;
    while (true) {
        if (s_buf_reserve (out, 4096))
            return ZFLOW_ENOMEM;
        zs->next_out = out->data + out->size;
        zs->avail_out = (uInt) (out->cap - out->size);
        int rc = inflate (zs, Z_SYNC_FLUSH);
        out->size = out->cap - zs->avail_out;
        if (out->size > limit)
            return ZFLOW_ETOOBIG;
        if (rc == Z_STREAM_END || (rc == Z_BUF_ERROR && zs->avail_in == 0))
            return 0;
        if (rc != Z_OK)
            return ZFLOW_EPROTO;
        if (zs->avail_in == 0 && zs->avail_out > 0)
            return 0;
    }
}

int zflow__ws_inflate (z_stream *zs, const uint8_t *data, size_t size, bool raw_tail, size_t limit,
                       zflow_ws_buf_t *out)
{
    static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
    out->size = 0;
    int rc = s_inflate_input (zs, data, size, limit, out);
    if (rc == 0 && raw_tail)
        rc = s_inflate_input (zs, tail, sizeof (tail), limit, out);
    return rc;
}

int zflow__ws_deflate (z_stream *zs, const uint8_t *data, size_t size, zflow_ws_buf_t *out)
{
    out->size = 0;
    zs->next_in = (Bytef *) data;
    zs->avail_in = (uInt) size;
    do {
        if (s_buf_reserve (out, 4096 + size / 2))
            return ZFLOW_ENOMEM;
        zs->next_out = out->data + out->size;
        zs->avail_out = (uInt) (out->cap - out->size);
        int rc = deflate (zs, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return ZFLOW_EPROTO;
        out->size = out->cap - zs->avail_out;
    } while (zs->avail_out == 0);
    if (out->size >= 4 && memcmp (out->data + out->size - 4, "\x00\x00\xff\xff", 4) == 0)
        out->size -= 4;
    return 0;
}
