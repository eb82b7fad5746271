/*  =========================================================================
    zflow_pipeline_file - the file sink's output

    Lines are formatted whole into memory and written from there as far as
    the non-blocking descriptor takes them, so a reader that stops never
    blocks the stage's actor; the stage stops taking input while the buffer
    is above its watermark (backpressure) and polls the descriptor.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_pipeline_file.h"
#include "zflow_error.h"
#include "zflow_pipeline_codec.h"
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

//  The buffer starts at twice this; one line may make it larger.
#define S_MIN_CAPACITY (64 * 1024)

struct _zflow__linefile_t {
    int fd;                           //  where lines go (non-blocking)
    bool own;                         //  fd was opened here (not stdout)
    int saved_flags;                  //  stdout's file status flags before, or -1
    char *path;                       //  the path, for messages
    char *stage;                      //  the stage's name, for messages
    zflow_actor_counters_t *counters; //  the stage's counters (not owned)
    char *out;                        //  formatted lines not yet written
    size_t off;                       //  start of the unwritten bytes in out
    size_t len;                       //  end of the unwritten bytes in out
    size_t cap;                       //  allocated size of out
};

zflow__linefile_t *zflow__linefile_open (const char *path, const char *stage,
                                         zflow_actor_counters_t *counters)
{
    zflow__linefile_t *self = (zflow__linefile_t *) zmalloc (sizeof (*self));
    if (!self)
        return NULL;
    self->own = !streq (path, "-");
    self->saved_flags = -1;
    self->path = strdup (path);
    self->stage = strdup (stage);
    self->counters = counters;
    if (self->own)
        self->fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    else {
        fflush (stdout); //  nothing else writes to it from now on
        self->fd = STDOUT_FILENO;
    }
    int flags = self->fd >= 0 ? fcntl (self->fd, F_GETFL) : -1;
    if (!self->path || !self->stage || flags < 0 ||
        fcntl (self->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        zsys_error ("%s: cannot open %s: %s", stage, path, strerror (errno));
        if (self->own && self->fd >= 0)
            close (self->fd);
        self->fd = -1;
        zflow__linefile_close (&self);
        return NULL;
    }
    if (!self->own)
        self->saved_flags = flags;
    return self;
}

void zflow__linefile_close (zflow__linefile_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow__linefile_t *self = *self_p;
    if (self->fd >= 0) {
        if (zflow__linefile_write (self))
            zflow__linefile_discard (self, errno, NULL);
        zflow__linefile_discard (self, 0, "the reader did not take them before the stop");
        if (self->own)
            close (self->fd);
        else if (self->saved_flags >= 0)
            fcntl (self->fd, F_SETFL, self->saved_flags);
    }
    free (self->out);
    free (self->path);
    free (self->stage);
    free (self);
    *self_p = NULL;
}

int zflow__linefile_fd (zflow__linefile_t *self)
{
    return self->fd;
}

size_t zflow__linefile_pending (zflow__linefile_t *self)
{
    return self->len - self->off;
}

int zflow__linefile_append (zflow__linefile_t *self, const zflow_msg_t *msg)
{
    char *line;
    size_t size;
    int rc = zflow__codec_format_line (msg, &line, &size);
    if (rc)
        return rc;
    if (self->off && self->cap - self->len < size) {
        memmove (self->out, self->out + self->off, zflow__linefile_pending (self));
        self->len -= self->off;
        self->off = 0;
    }
    if (self->cap - self->len < size) {
        size_t cap = self->len + size > 2 * S_MIN_CAPACITY ? self->len + size : 2 * S_MIN_CAPACITY;
        char *out = (char *) realloc (self->out, cap);
        if (!out) {
            free (line);
            return ZFLOW_ENOMEM;
        }
        self->out = out;
        self->cap = cap;
    }
    memcpy (self->out + self->len, line, size);
    self->len += size;
    free (line);
    return 0;
}

//  Counts the lines (newlines) in data[0..size).
static uint64_t s_lines (const char *data, size_t size)
{
    uint64_t lines = 0;
    for (const char *end = data + size;
         (data = (const char *) memchr (data, '\n', (size_t) (end - data))); data++)
        lines++;
    return lines;
}

void zflow__linefile_discard (zflow__linefile_t *self, int error, const char *why)
{
    size_t pending = zflow__linefile_pending (self);
    if (!pending)
        return;
    uint64_t lines = s_lines (self->out + self->off, pending);
    if (self->out[self->len - 1] != '\n')
        lines++; //  cannot happen: every line ends in one; keep the count honest
    self->counters->drops += lines;
    //  stdout's reader went away (zflow run | head): what it did not want
    //  is counted in drops, without a warning, as Unix tools end quietly
    if (!(error == EPIPE && streq (self->path, "-")))
        zsys_warning ("%s: %" PRIu64 " lines (%zu bytes) not written to %s: %s", self->stage, lines,
                      pending, self->path, error ? strerror (error) : why);
    self->off = self->len = 0;
}

int zflow__linefile_write (zflow__linefile_t *self)
{
    while (zflow__linefile_pending (self)) {
        ssize_t n = write (self->fd, self->out + self->off, zflow__linefile_pending (self));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        self->counters->msgs_out += s_lines (self->out + self->off, (size_t) n);
        self->counters->bytes_out += (uint64_t) n;
        self->off += (size_t) n;
    }
    self->off = self->len = 0;
    return 0;
}

int zflow__linefile_flush (zflow__linefile_t *self, int64_t deadline, size_t limit)
{
    while (zflow__linefile_pending (self) > limit) {
        if (zflow__linefile_write (self)) {
            zflow__linefile_discard (self, errno, NULL);
            return ZFLOW_EIO;
        }
        int64_t left = deadline - zclock_mono ();
        if (zflow__linefile_pending (self) > limit && left <= 0)
            return ZFLOW_ETIMEDOUT;
        struct pollfd item = {self->fd, POLLOUT, 0};
        if (zflow__linefile_pending (self) > limit)
            poll (&item, 1, left > 1000 ? 1000 : (int) left);
    }
    return 0;
}
