/*  =========================================================================
    zflow_centrifugo_source_token - the source's token provider: a user
    callback, or HS256 JWTs signed here with the server's HMAC secret

    A Centrifugo connection token carries "sub" (the user) and "exp"; a
    subscription token also "channel", and its "sub" must be the
    connection's user, or the server closes the connection with 3500.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_centrifugo_source_internal.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <time.h>

//  Largest token a callback may write.
#define S_TOKEN_MAX 4096

bool zflow__centsrc_has_provider (s_source_t *self)
{
    return self->token_fn || self->token_secret;
}

//  size bytes as base64url without padding (JWT). Returns a new string or
//  NULL.
static char *s_b64url (const unsigned char *data, size_t size)
{
    char *text = (char *) malloc (4 * ((size + 2) / 3) + 1);
    if (!text)
        return NULL;
    int length = EVP_EncodeBlock ((unsigned char *) text, data, (int) size);
    while (length > 0 && text[length - 1] == '=')
        length--;
    text[length] = 0;
    for (char *c = text; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return text;
}

//  The "sub" claim of a JWT (its payload, base64url JSON), as a new
//  string, or NULL when the token is not one.
static char *s_token_sub (const char *token)
{
    const char *dot = token ? strchr (token, '.') : NULL;
    const char *end = dot ? strchr (dot + 1, '.') : NULL;
    if (!end || end - dot - 1 > S_TOKEN_MAX)
        return NULL;
    size_t size = (size_t) (end - dot - 1);
    char b64[S_TOKEN_MAX + 4];
    memcpy (b64, dot + 1, size);
    for (size_t i = 0; i < size; i++)
        b64[i] = b64[i] == '-' ? '+' : b64[i] == '_' ? '/' : b64[i];
    while (size % 4)
        b64[size++] = '=';
    unsigned char json[S_TOKEN_MAX];
    int length = EVP_DecodeBlock (json, (const unsigned char *) b64, (int) size);
    if (length <= 0)
        return NULL;
    //  EVP_DecodeBlock counts the padding as zero bytes: JSON stops at '}'.
    while (length > 0 && json[length - 1] != '}')
        length--;
    json_t *claims = json_loadb ((const char *) json, (size_t) length, 0, NULL);
    json_t *sub = json_object_get (claims, "sub");
    char *user = json_is_string (sub) ? strdup (json_string_value (sub)) : NULL;
    json_decref (claims);
    return user;
}

//  An HS256 JWT with sub, exp and (when not NULL) channel, signed with
//  secret. Returns a new string or NULL.
static char *s_sign (const char *secret, const char *user, int ttl, const char *channel)
{
    json_t *claims =
        json_pack ("{s:s,s:I}", "sub", user ? user : "", "exp", (json_int_t) time (NULL) + ttl);
    if (claims && channel)
        json_object_set_new (claims, "channel", json_string (channel));
    char *payload = claims ? json_dumps (claims, JSON_COMPACT) : NULL;
    json_decref (claims);
    const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *head64 = s_b64url ((const unsigned char *) header, strlen (header));
    char *body64 = payload ? s_b64url ((const unsigned char *) payload, strlen (payload)) : NULL;
    char *input = head64 && body64 ? zsys_sprintf ("%s.%s", head64, body64) : NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_size = 0;
    char *sig64 = NULL;
    if (input && HMAC (EVP_sha256 (), secret, (int) strlen (secret), (unsigned char *) input,
                       strlen (input), mac, &mac_size))
        sig64 = s_b64url (mac, mac_size);
    char *token = sig64 ? zsys_sprintf ("%s.%s", input, sig64) : NULL;
    free (payload);
    free (head64);
    free (body64);
    zstr_free (&input);
    free (sig64);
    return token;
}

char *zflow__centsrc_sub_token (s_source_t *self, s_channel_t *channel)
{
    char *token = zflow__centsrc_make_token (self, channel->name);
    return token ? token : channel->token ? strdup (channel->token) : NULL;
}

char *zflow__centsrc_make_token (s_source_t *self, const char *channel)
{
    if (self->token_fn) {
        char *token = (char *) calloc (1, S_TOKEN_MAX);
        int length = token ? self->token_fn (channel, token, S_TOKEN_MAX, self->token_arg) : 0;
        if (length > 0 && length < S_TOKEN_MAX && token[0]) {
            token[length] = 0;
            return token;
        }
        free (token);
        return NULL;
    }
    if (!self->token_secret)
        return NULL;
    //  A subscription token's user must be the connection's, and so must
    //  a refreshed connection token's.
    char *user = self->token_user ? strdup (self->token_user) : s_token_sub (self->token);
    char *token = s_sign (self->token_secret, user, self->token_ttl, channel);
    free (user);
    return token;
}
