/*  =========================================================================
    zflow_openssl - OpenSSL's process-wide settings, made once

    Internal. zflow's actor threads call libcrypto (hpfeeds auth hashes,
    the WebSocket handshake, TLS), and czmq's zactor_destroy returns when
    the actor has signalled, before its thread has run its thread-local
    destructors. OpenSSL 3 frees every thread's local state in an atexit
    handler, so a process that returns from main right after destroying
    an actor can free the same state twice (AddressSanitizer caught it in
    test_hub_bus). zflow initialises OpenSSL without that handler, once,
    before anything else uses it: a constructor when the library loads,
    and zflow__openssl_init before each first use (which also makes a
    static link pull this file in).

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_OPENSSL_H_INCLUDED
#define ZFLOW_OPENSSL_H_INCLUDED

//  Initialises OpenSSL without its atexit cleanup; idempotent, thread-safe.
void zflow__openssl_init (void);

#endif
