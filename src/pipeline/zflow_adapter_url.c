/*  =========================================================================
    zflow_adapter_url - the one URL parser of the adapters

    Every adapter's from_url (and the stage checks of configuration files)
    goes through zflow_adapter_url_parse, so that a URL is judged the same
    way whatever its scheme: a port out of range, a space, an unbracketed
    IPv6 address or a URL too long for the buffers behind it is a usage
    error said at once, never a connection retried for ever.

    Hosts are stricter than RFC 3986's reg-name: letters, digits, '-',
    '.' and '_' (what a DNS name or a ZeroMQ interface name can be), so
    that "a(b" is refused here instead of failing each name lookup.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

//  Writes "'URL': what" into err, the URL cut at 100 bytes.
static int s_fail (const char *url, char *err, size_t errsize, const char *what)
{
    size_t size = strlen (url);
    snprintf (err, errsize, "'%.100s%s': %s", url, size > 100 ? "..." : "", what);
    return -1;
}

//  Checks every byte is printable ASCII. Returns 0 or -1 (err set).
static int s_check_bytes (const char *url, char *err, size_t errsize)
{
    for (size_t i = 0; url[i]; i++) {
        unsigned char c = (unsigned char) url[i];
        char what[96];
        if (c == ' ')
            snprintf (what, sizeof (what), "a space at character %zu (percent-encode it as %%20)",
                      i + 1);
        else if (c < 0x21 || c > 0x7e)
            snprintf (what, sizeof (what), "a control or non-ASCII byte 0x%02x at character %zu", c,
                      i + 1);
        else
            continue;
        return s_fail (url, err, errsize, what);
    }
    return 0;
}

//  Reads the scheme ("x+y-z.w") before "://". Returns the text after it,
//  or NULL (err set).
static const char *s_scheme (const char *url, zflow_adapter_url_t *parsed, char *err,
                             size_t errsize)
{
    size_t size = 0;
    while (isalnum ((unsigned char) url[size]) || url[size] == '+' || url[size] == '-' ||
           url[size] == '.')
        size++;
    if (size == 0 || !isalpha ((unsigned char) url[0]) || strncmp (url + size, "://", 3) ||
        size >= sizeof (parsed->scheme)) {
        s_fail (url, err, errsize, "no scheme (SCHEME://...)");
        return NULL;
    }
    for (size_t i = 0; i < size; i++)
        parsed->scheme[i] = (char) tolower ((unsigned char) url[i]);
    parsed->scheme[size] = 0;
    return url + size + 3;
}

//  Splits the userinfo (text up to at, not included) at its first ':'.
static void s_userinfo (const char *text, const char *at, zflow_adapter_url_t *parsed)
{
    const char *colon = memchr (text, ':', (size_t) (at - text));
    const char *user_end = colon ? colon : at;
    parsed->userinfo = true;
    memcpy (parsed->user, text, (size_t) (user_end - text));
    parsed->user[user_end - text] = 0;
    parsed->has_password = colon != NULL;
    if (colon) {
        memcpy (parsed->password, colon + 1, (size_t) (at - colon - 1));
        parsed->password[at - colon - 1] = 0;
    }
}

//  Reads the port (size bytes of text). Returns 0 or -1 (err set).
static int s_port (const char *url, const char *text, size_t size, zflow_adapter_url_t *parsed,
                   char *err, size_t errsize)
{
    char what[80];
    if (size == 0)
        return s_fail (url, err, errsize, "no port after ':'");
    if (strspn (text, "0123456789") < size) {
        snprintf (what, sizeof (what), "port '%.*s' is not a number", (int) (size > 20 ? 20 : size),
                  text);
        return s_fail (url, err, errsize, what);
    }
    long value = 0;
    for (size_t i = 0; i < size && value <= 65535; i++)
        value = value * 10 + (text[i] - '0');
    if (value < 1 || value > 65535) {
        snprintf (what, sizeof (what), "port %.*s is out of range (1-65535)",
                  (int) (size > 20 ? 20 : size), text);
        return s_fail (url, err, errsize, what);
    }
    parsed->port = (int) value;
    return 0;
}

//  Reads HOST[:PORT] or [IPV6][:PORT] (size bytes of text). Returns 0 or
//  -1 (err set).
static int s_host (const char *url, const char *text, size_t size, zflow_adapter_url_t *parsed,
                   char *err, size_t errsize)
{
    const char *host = text, *port = NULL;
    size_t host_size = size;
    if (*text == '[') {
        const char *close = memchr (text, ']', size);
        if (!close || (close + 1 < text + size && close[1] != ':'))
            return s_fail (url, err, errsize, "bad IPv6 address in brackets");
        host = text + 1;
        host_size = (size_t) (close - host);
        port = close + 1 < text + size ? close + 2 : NULL;
        char address[64], binary[16];
        if (host_size == 0 || host_size >= sizeof (address))
            return s_fail (url, err, errsize, "bad IPv6 address in brackets");
        memcpy (address, host, host_size);
        address[host_size] = 0;
        if (inet_pton (AF_INET6, address, binary) != 1)
            return s_fail (url, err, errsize, "bad IPv6 address in brackets");
        parsed->ipv6 = true;
    } else {
        const char *colon = memchr (text, ':', size);
        if (colon && memchr (colon + 1, ':', size - (size_t) (colon + 1 - text)))
            return s_fail (url, err, errsize, "an IPv6 address must be in brackets ([::1]:PORT)");
        if (colon) {
            host_size = (size_t) (colon - text);
            port = colon + 1;
        }
        for (size_t i = 0; i < host_size; i++) {
            char c = host[i];
            if (!isalnum ((unsigned char) c) && c != '-' && c != '.' && c != '_') {
                char what[48];
                snprintf (what, sizeof (what), "bad character '%c' in the host", c);
                return s_fail (url, err, errsize, what);
            }
        }
    }
    if (host_size == 0)
        return s_fail (url, err, errsize, "no host");
    if (host_size >= sizeof (parsed->host))
        return s_fail (url, err, errsize, "host longer than 255 bytes");
    memcpy (parsed->host, host, host_size);
    parsed->host[host_size] = 0;
    return port ? s_port (url, port, (size_t) (text + size - port), parsed, err, errsize) : 0;
}

int zflow_adapter_url_parse (const char *url, zflow_adapter_url_t *parsed, char *err,
                             size_t errsize)
{
    if (!url || !parsed) {
        snprintf (err, errsize, "no URL");
        return -1;
    }
    memset (parsed, 0, sizeof (*parsed));
    size_t size = strlen (url);
    if (size > ZFLOW_ADAPTER_URL_MAX) {
        char what[64];
        snprintf (what, sizeof (what), "longer than %d bytes (%zu)", ZFLOW_ADAPTER_URL_MAX, size);
        return s_fail (url, err, errsize, what);
    }
    if (s_check_bytes (url, err, errsize))
        return -1;
    const char *rest = s_scheme (url, parsed, err, errsize);
    if (!rest)
        return -1;
    size_t authority = strcspn (rest, "/?#");
    const char *at = NULL;
    for (const char *c = rest; c < rest + authority; c++)
        at = *c == '@' ? c : at;
    if (at) {
        s_userinfo (rest, at, parsed);
        authority -= (size_t) (at + 1 - rest);
        rest = at + 1;
    }
    if (s_host (url, rest, authority, parsed, err, errsize))
        return -1;
    strcpy (parsed->path, rest + authority);
    return 0;
}
