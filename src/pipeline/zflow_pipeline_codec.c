/*  =========================================================================
    zflow_pipeline_codec - JSON and msgpack payloads for pipeline stages

    msgpack values map to JSON values one to one, except what JSON cannot
    hold: map keys that are not strings, binary that is not UTF-8 text and
    extension types make a payload undecodable (NULL), never a crash.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_pipeline_codec.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include <msgpack.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  msgpack -> JSON

static json_t *s_from_msgpack (const msgpack_object *obj);

static json_t *s_from_msgpack_map (const msgpack_object_map *map)
{
    json_t *object = json_object ();
    for (uint32_t i = 0; object && i < map->size; i++) {
        const msgpack_object *key = &map->ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR) {
            json_decref (object);
            return NULL;
        }
        char *name = strndup (key->via.str.ptr, key->via.str.size);
        json_t *value = s_from_msgpack (&map->ptr[i].val);
        //  a NUL inside a key cannot be a JSON object key here
        bool good = name && value && strlen (name) == key->via.str.size;
        if (!good)
            json_decref (value);
        if (!good || json_object_set_new (object, name, value)) {
            json_decref (object);
            object = NULL;
        }
        free (name);
    }
    return object;
}

static json_t *s_from_msgpack (const msgpack_object *obj)
{
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null ();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean (obj->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (obj->via.u64 > (uint64_t) INT64_MAX)
            return json_real ((double) obj->via.u64);
        return json_integer ((json_int_t) obj->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer ((json_int_t) obj->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return json_real (obj->via.f64);
    case MSGPACK_OBJECT_STR:
        return json_stringn (obj->via.str.ptr, obj->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return json_stringn (obj->via.bin.ptr, obj->via.bin.size);
    case MSGPACK_OBJECT_ARRAY: {
        json_t *array = json_array ();
        for (uint32_t i = 0; array && i < obj->via.array.size; i++) {
            json_t *item = s_from_msgpack (&obj->via.array.ptr[i]);
            if (!item || json_array_append_new (array, item)) {
                json_decref (array);
                array = NULL;
            }
        }
        return array;
    }
    case MSGPACK_OBJECT_MAP:
        return s_from_msgpack_map (&obj->via.map);
    default:
        return NULL;
    }
}

static json_t *s_decode_msgpack (const void *data, size_t size)
{
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    size_t offset = 0;
    json_t *json = NULL;
    msgpack_unpack_return rc = msgpack_unpack_next (&result, (const char *) data, size, &offset);
    if (rc == MSGPACK_UNPACK_SUCCESS && offset == size &&
        (result.data.type == MSGPACK_OBJECT_MAP || result.data.type == MSGPACK_OBJECT_ARRAY))
        json = s_from_msgpack (&result.data);
    msgpack_unpacked_destroy (&result);
    return json;
}

json_t *zflow__codec_decode (const void *data, size_t size)
{
    const char *text = (const char *) data;
    size_t at = 0;
    while (at < size &&
           (text[at] == ' ' || text[at] == '\t' || text[at] == '\r' || text[at] == '\n'))
        at++;
    if (at < size && (text[at] == '{' || text[at] == '[' || text[at] == '"'))
        return json_loadb (text, size, JSON_DECODE_ANY, NULL);
    return size ? s_decode_msgpack (data, size) : NULL;
}

json_t *zflow__codec_payload (const zflow_msg_t *msg)
{
    size_t size;
    const void *data = zflow_envelope_payload (msg, &size);
    return data ? zflow__codec_decode (data, size) : NULL;
}

//  ---------------------------------------------------------------------
//  JSON -> msgpack

static int s_pack (msgpack_packer *pk, const json_t *json)
{
    switch (json_typeof (json)) {
    case JSON_NULL:
        return msgpack_pack_nil (pk);
    case JSON_TRUE:
        return msgpack_pack_true (pk);
    case JSON_FALSE:
        return msgpack_pack_false (pk);
    case JSON_INTEGER:
        return msgpack_pack_int64 (pk, json_integer_value (json));
    case JSON_REAL:
        return msgpack_pack_double (pk, json_real_value (json));
    case JSON_STRING: {
        size_t size = json_string_length (json);
        return msgpack_pack_str (pk, size) ||
               msgpack_pack_str_body (pk, json_string_value (json), size);
    }
    case JSON_ARRAY: {
        size_t index;
        json_t *item;
        int rc = msgpack_pack_array (pk, json_array_size (json));
        json_array_foreach (json, index, item) rc = rc ? rc : s_pack (pk, item);
        return rc;
    }
    case JSON_OBJECT: {
        const char *name;
        json_t *value;
        int rc = msgpack_pack_map (pk, json_object_size (json));
        json_object_foreach ((json_t *) json, name, value)
        {
            size_t size = strlen (name);
            rc = rc ? rc : msgpack_pack_str (pk, size);
            rc = rc ? rc : msgpack_pack_str_body (pk, name, size);
            rc = rc ? rc : s_pack (pk, value);
        }
        return rc;
    }
    }
    return -1;
}

char *zflow__codec_encode (const json_t *json, zflow_pipeline_encoding_t encoding, size_t *size_p)
{
    if (encoding == ZFLOW_PIPELINE_JSON) {
        char *text = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text)
            *size_p = strlen (text);
        return text;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    if (s_pack (&pk, json)) {
        msgpack_sbuffer_destroy (&sbuf);
        return NULL;
    }
    *size_p = sbuf.size;
    return msgpack_sbuffer_release (&sbuf);
}

//  ---------------------------------------------------------------------
//  JSON lines

//  Writes bytes that are neither JSON nor msgpack as a JSON string.
static int s_write_string (FILE *file, const char *data, size_t size)
{
    json_t *string = json_stringn (data, size);
    if (!string) {
        //  not UTF-8: keep ASCII, replace every other byte by '?'
        char *ascii = (char *) malloc (size + 1);
        if (!ascii)
            return ZFLOW_EIO;
        for (size_t i = 0; i < size; i++)
            ascii[i] = (data[i] & 0x80) ? '?' : data[i];
        string = json_stringn (ascii, size);
        free (ascii);
    }
    int rc = string ? json_dumpf (string, file, JSON_ENCODE_ANY) : -1;
    json_decref (string);
    return rc;
}

int zflow__codec_write_line (FILE *file, const zflow_msg_t *msg)
{
    size_t size;
    const char *data = (const char *) zflow_envelope_payload (msg, &size);
    if (!data)
        return ZFLOW_EINVAL;
    int rc = 0;
    json_t *json = zflow__codec_decode (data, size);
    if (json && (data[0] == '{' || data[0] == '[') && !memchr (data, '\n', size)) {
        while (size && (data[size - 1] == ' ' || data[size - 1] == '\r'))
            size--;
        rc = fwrite (data, 1, size, file) == size ? 0 : -1;
    } else if (json)
        rc = json_dumpf (json, file, JSON_COMPACT | JSON_ENCODE_ANY);
    else
        rc = s_write_string (file, data, size);
    json_decref (json);
    if (rc == 0 && fputc ('\n', file) == EOF)
        rc = -1;
    return rc ? ZFLOW_EIO : 0;
}

int zflow__codec_format_line (const zflow_msg_t *msg, char **line_p, size_t *size_p)
{
    *line_p = NULL;
    *size_p = 0;
    char *line = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&line, &size);
    if (!memory)
        return ZFLOW_ENOMEM;
    int rc = zflow__codec_write_line (memory, msg);
    if (fclose (memory) && rc == 0)
        rc = ZFLOW_ENOMEM;
    if (rc) {
        free (line);
        return rc;
    }
    *line_p = line;
    *size_p = size;
    return 0;
}
