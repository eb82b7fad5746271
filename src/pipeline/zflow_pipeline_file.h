/*  =========================================================================
    zflow_pipeline_file - internal: the file sink's output, a descriptor
    written without blocking from a buffer of whole lines. Not installed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_PIPELINE_FILE_H_INCLUDED
#define ZFLOW_PIPELINE_FILE_H_INCLUDED

#include "zflow_actor.h"
#include "zflow_msg.h"
#include <stddef.h>
#include <stdint.h>

typedef struct _zflow__linefile_t zflow__linefile_t;

//  Opens path for appending ("-" is stdout), non-blocking. Lines written
//  are counted in counters->msgs_out / bytes_out once the kernel took them
//  whole, lines lost in counters->drops (counters stays owned by the
//  caller and must outlive the file). stage names the stage in messages.
//  Returns the file (the caller owns it: zflow__linefile_close), or NULL
//  after logging why.
zflow__linefile_t *zflow__linefile_open (const char *path, const char *stage,
                                         zflow_actor_counters_t *counters);

//  Stops the file: one last non-blocking write, what is left counted as
//  lost (and logged), stdout's flags restored, the descriptor closed if it
//  was opened here. Sets *self_p to NULL. Idempotent.
void zflow__linefile_close (zflow__linefile_t **self_p);

//  The descriptor, to poll for POLLOUT.
int zflow__linefile_fd (zflow__linefile_t *self);

//  Bytes waiting to be written.
size_t zflow__linefile_pending (zflow__linefile_t *self);

//  Formats msg as one JSON line at the end of the buffer. Returns 0 or a
//  zflow code (the message is then not written).
int zflow__linefile_append (zflow__linefile_t *self, const zflow_msg_t *msg);

//  Writes from the buffer as far as the kernel takes it without blocking.
//  Returns 0, or -1 when the write failed (errno says why).
int zflow__linefile_write (zflow__linefile_t *self);

//  Drops what the buffer holds as counted losses (drops), logged with the
//  reason: error (an errno; 0: none) or else why. On stdout, EPIPE (its
//  reader went away, as in zflow run | head) is counted but not logged.
void zflow__linefile_discard (zflow__linefile_t *self, int error, const char *why);

//  Writes until at most limit bytes are left, waiting for the file at most
//  until deadline (monotonic ms). Returns 0, ZFLOW_ETIMEDOUT or ZFLOW_EIO
//  (the rest then discarded).
int zflow__linefile_flush (zflow__linefile_t *self, int64_t deadline, size_t limit);

#endif
