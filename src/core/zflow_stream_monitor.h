/*  =========================================================================
    zflow_stream_monitor - internal: a stream's socket monitor and its
    bounded event backlog (oldest discarded). Not installed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_STREAM_MONITOR_H_INCLUDED
#define ZFLOW_STREAM_MONITOR_H_INCLUDED

#include "zflow_stream.h"

typedef struct _zflow_stream_monitor_t zflow__stream_monitor_t;

//  Starts libzmq's monitor on the socket handle for the events mask, with a
//  backlog of backlog events. Returns NULL if libzmq refused.
zflow__stream_monitor_t *zflow__stream_monitor_new (void *handle, int events, size_t backlog);

//  Stops monitoring; events already emitted stay readable. Call before the
//  socket is closed.
void zflow__stream_monitor_stop (zflow__stream_monitor_t *self, void *handle);

//  Frees everything; sets *self_p to NULL. Idempotent.
void zflow__stream_monitor_destroy (zflow__stream_monitor_t **self_p);

//  Reads one event (see zflow_stream_read_event for the returns).
int zflow__stream_monitor_read (zflow__stream_monitor_t *self, zflow_stream_event_t *event,
                                int timeout_ms);

//  Returns the number of events discarded because the backlog was full.
uint64_t zflow__stream_monitor_discarded (zflow__stream_monitor_t *self);

#endif
