/*  =========================================================================
    zflow_pipeline_codec - JSON and msgpack payloads for pipeline stages

    Internal. The only pipeline file that includes msgpack.h; jansson is
    the in-memory form of both encodings.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_PIPELINE_CODEC_H_INCLUDED
#define ZFLOW_PIPELINE_CODEC_H_INCLUDED

#include "zflow_pipeline.h"
#include <jansson.h>
#include <stdio.h>

//  Content types set by the re-encoding map.
#define ZFLOW__CT_JSON "application/json"
#define ZFLOW__CT_MSGPACK "application/msgpack"

//  Decodes data[0..size) as JSON (when it starts with '{', '[' or '"' after
//  blanks) or else as one msgpack map or array filling all of it. Returns a
//  new reference (the caller json_decref's it), or NULL when it is neither.
json_t *zflow__codec_decode (const void *data, size_t size);

//  As zflow__codec_decode on the first payload frame of an envelope.
json_t *zflow__codec_payload (const zflow_msg_t *msg);

//  Encodes json as compact JSON or as msgpack. Returns a buffer the caller
//  frees (free) and its size in *size_p, or NULL when out of memory or the
//  value cannot be encoded.
char *zflow__codec_encode (const json_t *json, zflow_pipeline_encoding_t encoding, size_t *size_p);

//  Writes the first payload frame of msg as one JSON line to file: JSON as
//  it is (re-dumped compact if it spans lines), msgpack converted, anything
//  else as a JSON string (invalid UTF-8 bytes replaced by U+FFFD). Returns 0
//  or ZFLOW_EIO (the write failed).
int zflow__codec_write_line (FILE *file, const zflow_msg_t *msg);

//  As zflow__codec_write_line, but into memory: sets *line_p to a new buffer
//  holding the whole line, its newline included (the caller frees it with
//  free), and *size_p to its size. Returns 0, ZFLOW_EINVAL (not an
//  envelope), ZFLOW_ENOMEM or ZFLOW_EIO; on error *line_p is NULL.
int zflow__codec_format_line (const zflow_msg_t *msg, char **line_p, size_t *size_p);

#endif
