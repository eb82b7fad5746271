/*  =========================================================================
    zflow_stream_internal - the stream's state and the helpers its two
    files share: zflow_stream.c (reading, writing, closing) and
    zflow_stream_loop.c (attaching to a zloop). Not installed.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_STREAM_INTERNAL_H_INCLUDED
#define ZFLOW_STREAM_INTERNAL_H_INCLUDED

#include "zflow_ring.h"
#include "zflow_stream.h"
#include "zflow_stream_monitor.h"

struct _zflow_stream_t {
    zsock_t *sock;                    //  the socket; NULL once closed
    void *handle;                     //  its libzmq handle, cached for the hot path
    int type;                         //  ZMQ socket type
    zlistx_t *bindings;               //  bound endpoints (real ports)
    zlistx_t *connections;            //  connected endpoints
    zflow_ring_t rbuf;                //  read buffer (filled only when attached)
    zflow_ring_t wbuf;                //  write buffer (messages the socket refused)
    size_t read_high;                 //  read buffer bytes at which reading pauses
    size_t read_low;                  //  read buffer bytes at which it resumes
    size_t read_high_msgs;            //  same in messages (0 = no message limit)
    size_t read_low_msgs;             //  resume level in messages
    size_t write_high;                //  write buffer bytes above which write says DRAIN
    size_t write_low;                 //  level that drain waits for
    bool write_above;                 //  wbuf went above write_high, not yet at low
    bool read_paused;                 //  reader removed from the loop by watermark
    unsigned flush_skip;              //  writes left before write() retries a refused flush
    int rcvtimeo;                     //  ZMQ_RCVTIMEO last set, to avoid resetting it
    int exception;                    //  kept transport error (zflow code), or 0
    int exception_errno;              //  libzmq errno behind it
    bool closed;                      //  close() called or the socket died
    zflow__stream_monitor_t *monitor; //  socket monitor, NULL until enabled
    zloop_t *loop;                    //  attached loop, or NULL
    zflow_stream_t *attached_prev;    //  neighbours in the list of attached streams
    zflow_stream_t *attached_next;    //  (see zflow__stream_forget_loop)
    bool polling_out;                 //  POLLOUT poller registered on loop
    zflow_stream_fn *on_readable;     //  attached: called when messages were buffered
    zflow_stream_fn *on_drained;      //  attached: called when the write buffer drained
    void *arg;                        //  argument of both callbacks
    uint64_t msgs_read;               //  messages handed to readers
    uint64_t msgs_written;            //  messages taken by the socket
    uint64_t pauses;                  //  times reading paused at the read watermark
    uint64_t dropped;                 //  messages dropped (see zflow_stream_dropped)
};

//  Moves whatever the socket has into the read buffer, without waiting,
//  until it is empty or the buffer reaches a high watermark.
void zflow__stream_fill (zflow_stream_t *self);

//  True when the read buffer is at or above a high watermark / at or below
//  every low watermark.
bool zflow__stream_read_full (zflow_stream_t *self);
bool zflow__stream_read_low (zflow_stream_t *self);

//  Sends queued messages in order until the socket refuses one. Returns 0,
//  or the error that stopped it.
int zflow__stream_flush (zflow_stream_t *self);

//  After the write buffer shrank: tells an attached owner that it drained.
void zflow__stream_after_flush (zflow_stream_t *self);

//  Attached streams: pauses or resumes the loop's reader by the read
//  watermarks; keeps a POLLOUT poller exactly while messages are queued;
//  removes that poller.
void zflow__stream_update_read_polling (zflow_stream_t *self);
void zflow__stream_update_write_polling (zflow_stream_t *self);
void zflow__stream_stop_write_polling (zflow_stream_t *self);

//  Tells every stream attached to loop that the loop is about to be
//  destroyed: they become detached without touching it, so a stream that
//  outlives its loop can still be detached and destroyed. The actor base
//  calls this before it destroys its loop. Safe from any thread.
void zflow__stream_forget_loop (zloop_t *loop);

#endif
