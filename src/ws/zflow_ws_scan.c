/*  =========================================================================
    zflow_ws_scan - a fast path for filters: the top-level fields of a JSON
    text without building a jansson value (internal)

    jansson builds a hash table per object and allocates every key and
    value: about 12,000 instructions for a 64-byte message, most of what the
    feed spends per message when it only needs to compare a few top-level
    fields with its filters. The scan checks the text and notes where each
    top-level field's key and value are; filters then compare those spans.

    The scan claims a message only when it is sure jansson would parse it to
    the same thing: anything it does not handle (escapes in keys, \u escapes,
    exponents, long numbers, control bytes, bytes above 0x7F in a binary
    message, deep nesting, many fields) makes it answer "unsure", and the
    feed parses with jansson as before. So jansson stays the judge of what is
    JSON; the scan only avoids it on plain messages.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_internal.h"
#include <pthread.h>

#define S_MAX_DEPTH 64

//  The scanner's cursor.
typedef struct {
    const uint8_t *at;  //  next byte
    const uint8_t *end; //  end of the text
    bool ascii_only;    //  bytes above 0x7F make the scan unsure (binary input)
    int depth;          //  nesting depth
} s_cursor_t;

//  Bytes that need no check inside a string: in text (already valid UTF-8)
//  and in binary data (where bytes above 0x7F are left to jansson).
static bool s_plain_text[256];
static bool s_plain_ascii[256];

static void s_tables_init (void)
{
    for (int c = 0; c < 256; c++) {
        s_plain_text[c] = c >= 0x20 && c != '"' && c != '\\';
        s_plain_ascii[c] = s_plain_text[c] && c < 0x80;
    }
}

static void s_skip_space (s_cursor_t *cur)
{
    while (cur->at < cur->end &&
           (*cur->at == ' ' || *cur->at == '\t' || *cur->at == '\n' || *cur->at == '\r'))
        cur->at++;
}

//  A string from its opening quote. Returns 0 and sets *escaped, or -1.
static int s_string (s_cursor_t *cur, bool *escaped)
{
    *escaped = false;
    cur->at++;
    while (cur->at < cur->end) {
        //  Plain bytes first, without the checks below.
        const bool *plain = cur->ascii_only ? s_plain_ascii : s_plain_text;
        while (cur->at < cur->end && plain[*cur->at])
            cur->at++;
        if (cur->at >= cur->end)
            return -1;
        uint8_t c = *cur->at++;
        if (c == '"')
            return 0;
        if (c < 0x20 || (c >= 0x80 && cur->ascii_only))
            return -1;
        if (c == '\\') {
            if (cur->at >= cur->end)
                return -1;
            c = *cur->at++;
            //  \u escapes (NUL, surrogates) are left to jansson.
            if (!strchr ("\"\\/bfnrt", c) || c == 0)
                return -1;
            *escaped = true;
        }
    }
    return -1;
}

//  A number. Returns its kind (ZFLOW_WS_SCAN_INTEGER or _REAL) or -1.
static int s_number (s_cursor_t *cur)
{
    const uint8_t *start = cur->at;
    if (*cur->at == '-')
        cur->at++;
    const uint8_t *digits = cur->at;
    while (cur->at < cur->end && *cur->at >= '0' && *cur->at <= '9')
        cur->at++;
    size_t count = (size_t) (cur->at - digits);
    if (count == 0 || (count > 1 && *digits == '0'))
        return -1;
    int kind = ZFLOW_WS_SCAN_INTEGER;
    if (cur->at < cur->end && *cur->at == '.') {
        cur->at++;
        const uint8_t *fraction = cur->at;
        while (cur->at < cur->end && *cur->at >= '0' && *cur->at <= '9')
            cur->at++;
        if (cur->at == fraction)
            return -1;
        kind = ZFLOW_WS_SCAN_REAL;
    }
    //  Exponents may overflow a double and long integers a json_int_t:
    //  jansson decides those.
    if (cur->at < cur->end && (*cur->at == 'e' || *cur->at == 'E'))
        return -1;
    if (count > 18 || cur->at - start > 40)
        return -1;
    return kind;
}

static int s_value (s_cursor_t *cur, zflow_ws_scan_t *top);

//  An object or array from its opening bracket; top (may be NULL) gets the
//  fields of a top-level object. Returns 0 or -1.
static int s_container (s_cursor_t *cur, zflow_ws_scan_t *top)
{
    bool object = *cur->at == '{';
    uint8_t close = object ? '}' : ']';
    if (++cur->depth > S_MAX_DEPTH)
        return -1;
    cur->at++;
    s_skip_space (cur);
    if (cur->at < cur->end && *cur->at == close) {
        cur->at++;
        cur->depth--;
        return 0;
    }
    while (cur->at < cur->end) {
        zflow_ws_scan_field_t *field = NULL;
        if (object) {
            bool escaped;
            if (*cur->at != '"')
                return -1;
            const uint8_t *key = cur->at + 1;
            if (s_string (cur, &escaped) || escaped)
                return -1; //  keys with escapes are left to jansson
            if (top) {
                if (top->count == ZFLOW_WS_SCAN_FIELDS)
                    return -1;
                field = &top->fields[top->count++];
                field->key = (const char *) key;
                field->key_size = (size_t) (cur->at - 1 - key);
            }
            s_skip_space (cur);
            if (cur->at >= cur->end || *cur->at++ != ':')
                return -1;
            s_skip_space (cur);
        }
        const uint8_t *value = cur->at;
        int kind = s_value (cur, NULL);
        if (kind < 0)
            return -1;
        if (field) {
            field->value = (const char *) value;
            field->value_size = (size_t) (cur->at - value);
            field->kind = kind;
        }
        s_skip_space (cur);
        if (cur->at >= cur->end)
            return -1;
        uint8_t c = *cur->at++;
        if (c == close) {
            cur->depth--;
            return 0;
        }
        if (c != ',')
            return -1;
        s_skip_space (cur);
    }
    return -1;
}

//  One value at cur (no leading space). Returns its kind or -1.
static int s_value (s_cursor_t *cur, zflow_ws_scan_t *top)
{
    if (cur->at >= cur->end)
        return -1;
    uint8_t c = *cur->at;
    if (c == '"') {
        bool escaped;
        if (s_string (cur, &escaped))
            return -1;
        return escaped ? ZFLOW_WS_SCAN_STRING_ESCAPED : ZFLOW_WS_SCAN_STRING;
    }
    if (c == '{' || c == '[')
        return s_container (cur, top) ? -1 : c == '{' ? ZFLOW_WS_SCAN_OBJECT : ZFLOW_WS_SCAN_ARRAY;
    if (c == '-' || (c >= '0' && c <= '9'))
        return s_number (cur);
    const char *literal = c == 't' ? "true" : c == 'f' ? "false" : c == 'n' ? "null" : NULL;
    size_t size = literal ? strlen (literal) : 0;
    if (!literal || (size_t) (cur->end - cur->at) < size || memcmp (cur->at, literal, size) != 0)
        return -1;
    cur->at += size;
    return c == 't' ? ZFLOW_WS_SCAN_TRUE : c == 'f' ? ZFLOW_WS_SCAN_FALSE : ZFLOW_WS_SCAN_NULL;
}

int zflow__ws_scan (const uint8_t *data, size_t size, bool binary, zflow_ws_scan_t *scan)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_tables_init);
    s_cursor_t cur = {data, data + size, binary, 0};
    scan->count = 0;
    s_skip_space (&cur);
    bool object = cur.at < cur.end && *cur.at == '{';
    int kind = s_value (&cur, object ? scan : NULL);
    s_skip_space (&cur);
    if (kind < 0 || cur.at != cur.end)
        return -1;
    scan->object = object;
    return 0;
}

//  One pair of a filter object, ready to compare with scanned text.
typedef struct {
    const char *key;  //  the key (points into the filter's JSON value)
    size_t key_size;  //  its length
    int kind;         //  ZFLOW_WS_SCAN_* of the wanted value, or -1: jansson compares
    const char *text; //  strings: the wanted text; integers: its decimal form
    size_t text_size; //  its length
    char number[24];  //  the decimal form of an integer
} s_pair_t;

struct _zflow_ws_cfilter_t {
    size_t nobjects;  //  objects in the filter (any one may match)
    size_t *npairs;   //  pairs of each (all must match)
    s_pair_t **pairs; //  the pairs of each object
};

void zflow__ws_cfilter_destroy (zflow_ws_cfilter_t **self_p)
{
    zflow_ws_cfilter_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nobjects; i++)
        free (self->pairs[i]);
    free (self->pairs);
    free (self->npairs);
    free (self);
    *self_p = NULL;
}

//  Prepares one wanted value.
static void s_pair_set (s_pair_t *pair, const char *key, const json_t *want)
{
    pair->key = key;
    pair->key_size = strlen (key);
    pair->kind = -1;
    switch (json_typeof (want)) {
    case JSON_STRING:
        pair->kind = ZFLOW_WS_SCAN_STRING;
        pair->text = json_string_value (want);
        pair->text_size = json_string_length (want);
        break;
    case JSON_INTEGER:
        pair->kind = ZFLOW_WS_SCAN_INTEGER;
        snprintf (pair->number, sizeof (pair->number), "%" JSON_INTEGER_FORMAT,
                  json_integer_value (want));
        pair->text = pair->number;
        pair->text_size = strlen (pair->number);
        break;
    case JSON_REAL:
        pair->kind = ZFLOW_WS_SCAN_REAL; //  compared by jansson (no locale)
        break;
    case JSON_TRUE:
        pair->kind = ZFLOW_WS_SCAN_TRUE;
        break;
    case JSON_FALSE:
        pair->kind = ZFLOW_WS_SCAN_FALSE;
        break;
    case JSON_NULL:
        pair->kind = ZFLOW_WS_SCAN_NULL;
        break;
    default:
        break; //  objects and arrays: jansson compares them
    }
}

zflow_ws_cfilter_t *zflow__ws_cfilter_new (const json_t *filter)
{
    zflow_ws_cfilter_t *self = (zflow_ws_cfilter_t *) calloc (1, sizeof (zflow_ws_cfilter_t));
    size_t count = json_array_size (filter);
    if (!self || !json_is_array (filter))
        goto fail;
    self->npairs = (size_t *) calloc (count + 1, sizeof (size_t));
    self->pairs = (s_pair_t **) calloc (count + 1, sizeof (s_pair_t *));
    if (!self->npairs || !self->pairs)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        json_t *object = json_array_get (filter, i);
        self->pairs[i] = (s_pair_t *) calloc (json_object_size (object) + 1, sizeof (s_pair_t));
        self->nobjects = i + 1;
        if (!json_is_object (object) || !self->pairs[i])
            goto fail;
        const char *key;
        json_t *want;
        json_object_foreach (object, key, want)
            s_pair_set (&self->pairs[i][self->npairs[i]++], key, want);
    }
    return self;
fail:
    zflow__ws_cfilter_destroy (&self);
    return NULL;
}

//  Compares one wanted value with a scanned value: 1 equal, 0 not, -1 unsure.
static int s_equal (const s_pair_t *want, const zflow_ws_scan_field_t *have)
{
    switch (want->kind) {
    case ZFLOW_WS_SCAN_STRING:
        if (have->kind == ZFLOW_WS_SCAN_STRING_ESCAPED)
            return -1;
        return have->kind == ZFLOW_WS_SCAN_STRING && have->value_size - 2 == want->text_size &&
               memcmp (have->value + 1, want->text, want->text_size) == 0;
    case ZFLOW_WS_SCAN_INTEGER:
        //  The scan took only plain integers (no leading zeros, no
        //  exponent): equal values have the same text, but for -0.
        if (have->kind != ZFLOW_WS_SCAN_INTEGER)
            return 0;
        if (have->value_size == 2 && memcmp (have->value, "-0", 2) == 0)
            return want->text_size == 1 && want->text[0] == '0';
        return have->value_size == want->text_size &&
               memcmp (have->value, want->text, want->text_size) == 0;
    case ZFLOW_WS_SCAN_REAL:
        return have->kind == ZFLOW_WS_SCAN_REAL ? -1 : 0;
    case ZFLOW_WS_SCAN_TRUE:
    case ZFLOW_WS_SCAN_FALSE:
    case ZFLOW_WS_SCAN_NULL:
        return have->kind == want->kind;
    default:
        return -1;
    }
}

//  The last field named like pair (jansson keeps the last of duplicates).
static const zflow_ws_scan_field_t *s_field (const zflow_ws_scan_t *scan, const s_pair_t *pair)
{
    for (size_t i = scan->count; i-- > 0;) {
        const zflow_ws_scan_field_t *field = &scan->fields[i];
        if (field->key_size == pair->key_size &&
            (pair->key_size == 0 || (field->key[0] == pair->key[0] &&
                                     memcmp (field->key, pair->key, pair->key_size) == 0)))
            return field;
    }
    return NULL;
}

int zflow__ws_cfilter_match (const zflow_ws_cfilter_t *self, const zflow_ws_scan_t *scan)
{
    if (!self)
        return 1;
    if (!scan->object)
        return 0;
    int result = 0;
    for (size_t i = 0; i < self->nobjects; i++) {
        int all = 1;
        for (size_t j = 0; j < self->npairs[i]; j++) {
            const zflow_ws_scan_field_t *have = s_field (scan, &self->pairs[i][j]);
            int equal = have ? s_equal (&self->pairs[i][j], have) : 0;
            if (equal < 0)
                all = -1; //  unsure: only a definite match elsewhere decides
            else if (equal == 0) {
                all = 0;
                break;
            }
        }
        if (all == 1)
            return 1;
        if (all < 0)
            result = -1;
    }
    return result;
}
