/*  =========================================================================
    zflow_error - error codes shared by every zflow class

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_ERROR_H_INCLUDED
#define ZFLOW_ERROR_H_INCLUDED

#ifdef __cplusplus
extern "C" {
#endif

//  One table feeds both the enum and zflow_error_text(), so a code can never
//  lack its text. Every zflow function that can fail returns 0 on success or
//  one of these negative codes; none of them asserts on user input.
#define ZFLOW_ERRNO_MAP(X)                                                                         \
    X (EINVAL, -1, "invalid argument")                                                             \
    X (ECLOSED, -2, "stream or actor is closed")                                                   \
    X (ETIMEDOUT, -3, "timed out")                                                                 \
    X (EAGAIN, -4, "no message available now (non-blocking call)")                                 \
    X (ENOMEM, -5, "out of memory")                                                                \
    X (EENDPOINT, -6, "bad endpoint or bind/connect failed")                                       \
    X (ESOCKTYPE, -7, "not a ZeroMQ socket type")                                                  \
    X (EWATERMARK, -8, "bad watermarks: high must be >= low and > 0")                              \
    X (EPROTO, -9, "malformed input (protocol or encoding error)")                                 \
    X (ETOOBIG, -10, "message or field too large")                                                 \
    X (ETRANSPORT, -11, "transport error on the underlying socket")                                \
    X (EFULL, -12, "queue full (bounded queue at its watermark)")                                  \
    X (ENOTFOUND, -13, "no such item")                                                             \
    X (EREFUSED, -14, "refused by peer (connection, authentication or permission)")                \
    X (ECONFIG, -15, "bad configuration")                                                          \
    X (EIO, -16, "input/output error")                                                             \
    X (ENOTSUP, -17, "operation not supported on this object")

typedef enum {
    ZFLOW_OK = 0,
#define ZFLOW_ERRNO_ENUM(name, value, text) ZFLOW_##name = value,
    ZFLOW_ERRNO_MAP (ZFLOW_ERRNO_ENUM)
#undef ZFLOW_ERRNO_ENUM
} zflow_error_t;

//  Returned (positive, not an error) by zflow_stream_write when the message
//  was queued but the write buffer is above its high watermark: the caller
//  should call zflow_stream_drain() before writing much more.
#define ZFLOW_DRAIN 1

//  Returns a static, human-readable text for a zflow code (0 gives "success",
//  an unknown code gives "unknown zflow error"). Never NULL; nothing to free.
const char *zflow_error_text (int code);

#ifdef __cplusplus
}
#endif

#endif
