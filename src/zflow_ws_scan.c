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

#define S_MAX_DEPTH 64

//  The scanner's cursor.
typedef struct {
    const uint8_t *at;     //  next byte
    const uint8_t *end;    //  end of the text
    bool ascii_only;       //  bytes above 0x7F make the scan unsure (binary input)
    int depth;             //  nesting depth
} s_cursor_t;

static void
s_skip_space (s_cursor_t *cur)
{
    while (cur->at < cur->end
           && (*cur->at == ' ' || *cur->at == '\t' || *cur->at == '\n' || *cur->at == '\r'))
        cur->at++;
}

//  A string from its opening quote. Returns 0 and sets *escaped, or -1.
static int
s_string (s_cursor_t *cur, bool *escaped)
{
    *escaped = false;
    cur->at++;
    while (cur->at < cur->end) {
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
static int
s_number (s_cursor_t *cur)
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
static int
s_container (s_cursor_t *cur, zflow_ws_scan_t *top)
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
                return -1;   //  keys with escapes are left to jansson
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
static int
s_value (s_cursor_t *cur, zflow_ws_scan_t *top)
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
    static const char *literals[] = { "true", "false", "null" };
    static const int kinds[] = { ZFLOW_WS_SCAN_TRUE, ZFLOW_WS_SCAN_FALSE, ZFLOW_WS_SCAN_NULL };
    for (int i = 0; i < 3; i++) {
        size_t size = strlen (literals[i]);
        if ((size_t) (cur->end - cur->at) >= size && memcmp (cur->at, literals[i], size) == 0) {
            cur->at += size;
            return kinds[i];
        }
    }
    return -1;
}

int
zflow__ws_scan (const uint8_t *data, size_t size, bool binary, zflow_ws_scan_t *scan)
{
    s_cursor_t cur = { data, data + size, binary, 0 };
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

//  Compares one filter value with a scanned value: 1 equal, 0 not, -1 unsure.
static int
s_equal (const json_t *want, const zflow_ws_scan_field_t *have)
{
    switch (json_typeof (want)) {
    case JSON_STRING:
        if (have->kind == ZFLOW_WS_SCAN_STRING_ESCAPED)
            return -1;
        return have->kind == ZFLOW_WS_SCAN_STRING
               && have->value_size - 2 == json_string_length (want)
               && memcmp (have->value + 1, json_string_value (want), have->value_size - 2) == 0;
    case JSON_INTEGER: {
        if (have->kind != ZFLOW_WS_SCAN_INTEGER)
            return 0;
        char text[48];
        memcpy (text, have->value, have->value_size);
        text[have->value_size] = 0;
        return strtoll (text, NULL, 10) == json_integer_value (want);
    }
    case JSON_REAL:
        //  jansson converts without the locale: let it compare reals.
        return have->kind == ZFLOW_WS_SCAN_REAL ? -1 : 0;
    case JSON_TRUE:
        return have->kind == ZFLOW_WS_SCAN_TRUE;
    case JSON_FALSE:
        return have->kind == ZFLOW_WS_SCAN_FALSE;
    case JSON_NULL:
        return have->kind == ZFLOW_WS_SCAN_NULL;
    default:
        return -1;   //  objects and arrays: jansson compares them
    }
}

//  The last field named key (jansson keeps the last of duplicates), or NULL.
static const zflow_ws_scan_field_t *
s_field (const zflow_ws_scan_t *scan, const char *key)
{
    size_t size = strlen (key);
    for (size_t i = scan->count; i-- > 0;)
        if (scan->fields[i].key_size == size && memcmp (scan->fields[i].key, key, size) == 0)
            return &scan->fields[i];
    return NULL;
}

int
zflow__ws_scan_match (const json_t *filter, const zflow_ws_scan_t *scan)
{
    if (!filter)
        return 1;
    if (!scan->object)
        return 0;
    size_t index;
    json_t *item;
    int result = 0;
    json_array_foreach (filter, index, item) {
        const char *key;
        json_t *want;
        int all = 1;
        json_object_foreach ((json_t *) item, key, want) {
            const zflow_ws_scan_field_t *have = s_field (scan, key);
            int equal = have ? s_equal (want, have) : 0;
            if (equal < 0)
                all = -1;   //  unsure: only a definite match elsewhere decides
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
