/*  =========================================================================
    zflow_error - texts for the shared error codes

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_error.h"

const char *zflow_error_text (int code)
{
    switch (code) {
    case ZFLOW_OK:
        return "success";
#define ZFLOW_ERRNO_TEXT(name, value, text)                                                        \
    case ZFLOW_##name:                                                                             \
        return text;
        ZFLOW_ERRNO_MAP (ZFLOW_ERRNO_TEXT)
#undef ZFLOW_ERRNO_TEXT
    default:
        return "unknown zflow error";
    }
}
