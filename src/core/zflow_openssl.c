/*  =========================================================================
    zflow_openssl - OpenSSL's process-wide settings, made once

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_openssl.h"
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <pthread.h>

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_init (void)
{
    //  the first initialisation decides: without OPENSSL_INIT_NO_ATEXIT
    //  OpenSSL frees thread state at exit under threads still ending
    OPENSSL_init_ssl (OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS |
                          OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
                      NULL);
}

void zflow__openssl_init (void)
{
    pthread_once (&s_once, s_init);
}

//  Before main, so that nothing (libcurl included) initialises it first.
__attribute__ ((constructor)) static void s_load (void)
{
    zflow__openssl_init ();
}
