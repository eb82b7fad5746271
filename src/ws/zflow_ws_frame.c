/*  =========================================================================
    zflow_ws_frame - RFC 6455 messages over wslay's frame layer (internal)

    wslay_frame_recv hands us one chunk of one frame at a time (the header
    fields with every chunk, the payload unmasked in wslay's 4 KiB buffer).
    We keep where the current frame is, check each frame's header when its
    first chunk arrives, pass a message that arrives whole in one chunk
    straight from wslay's buffer (the usual case: no copy), and join the
    rest in a buffer of our own. Output frames are built and masked by
    wslay_frame_send into our output buffer, which never refuses them, so
    a frame is never half-queued and a close can always follow.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_ws_frame.h"
#include "zflow_error.h"
#include "zflow_ws_proto.h"
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <wslay/wslay.h>

//  Largest frame header we write: 2 + 8 length bytes + 4 mask bytes.
#define S_HEADER_MAX 14
//  Pongs that may wait unwritten in out, one per ping; beyond that pings
//  are coalesced (s_pong).
#define S_PONGS_MAX 16

struct _zflow_ws_frame_t {
    wslay_frame_context_ptr wslay; //  wslay's frame parser and builder
    zflow_ws_frame_read_fn *read;  //  where input comes from
    void *arg;                     //  its argument
    size_t max_message;            //  largest data message accepted
    bool deflate;                  //  RSV1 allowed on a message's first frame
    bool reading;                  //  frames are still read
    bool in_frame;                 //  payload of the current frame is still to come
    uint64_t frame_left;           //  how much of it
    uint8_t opcode;                //  opcode of the current frame
    uint8_t msg_opcode;            //  opcode of the data message in progress, 0 if none
    bool msg_compressed;           //  that message has RSV1
    zflow_ws_buf_t msg;            //  its fragments joined
    size_t msg_checked;            //  bytes of msg whose UTF-8 is checked
    uint8_t ctrl[125];             //  payload of the control frame being read
    size_t ctrl_size;              //  bytes in ctrl
    zflow_ws_buf_t out;            //  framed bytes to write
    size_t out_pos;                //  the first of them not written yet
    int code_sent;                 //  close code we queued (1005: none), 0 before
    int code_received;             //  close code received (1005: none), 0 before
    size_t pong_ends[S_PONGS_MAX]; //  ends in out of the pongs queued and not written, oldest first
    size_t pongs;                  //  how many of pong_ends are used
    bool pong_pending;             //  a ping waits for its pong until that one is written
    uint8_t pong[125];             //  the payload of that pong (the most recent ping's)
    size_t pong_size;              //  bytes in pong
    uint64_t pongs_coalesced;      //  pings left unanswered because a later one came
};

//  ---------------------------------------------------------------------
//  wslay callbacks

static ssize_t s_recv (uint8_t *buf, size_t len, int flags, void *user_data)
{
    (void) flags;
    zflow_ws_frame_t *self = (zflow_ws_frame_t *) user_data;
    size_t n = self->read (self->arg, buf, len);
    return n ? (ssize_t) n : -1; //  wslay takes -1 as "want read"
}

//  Appends to out, where s_queue made room for the whole frame first.
static ssize_t s_send (const uint8_t *data, size_t len, int flags, void *user_data)
{
    (void) flags;
    zflow_ws_frame_t *self = (zflow_ws_frame_t *) user_data;
    if (len > self->out.cap - self->out.size)
        return -1; //  cannot happen: s_queue reserved the room
    memcpy (self->out.data + self->out.size, data, len);
    self->out.size += len;
    return (ssize_t) len;
}

//  Mask keys come from the kernel's random source (RFC 6455 10.3).
static int s_genmask (uint8_t *buf, size_t len, void *user_data)
{
    (void) user_data;
    return getrandom (buf, len, 0) == (ssize_t) len ? 0 : -1;
}

//  ---------------------------------------------------------------------
//  Buffers and output

//  Makes room for extra more bytes in buf. Returns 0 or ZFLOW_ENOMEM.
static int s_reserve (zflow_ws_buf_t *buf, size_t extra)
{
    if (extra <= buf->cap - buf->size)
        return 0;
    size_t cap = buf->cap ? buf->cap : 4096;
    while (cap - buf->size < extra) {
        if (cap > SIZE_MAX / 2)
            return ZFLOW_ENOMEM;
        cap *= 2;
    }
    uint8_t *grown = (uint8_t *) realloc (buf->data, cap);
    if (!grown)
        return ZFLOW_ENOMEM;
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

//  Frames and masks one whole frame into out. Returns 0, ZFLOW_ENOMEM or
//  ZFLOW_EIO (no mask key).
static int s_queue (zflow_ws_frame_t *self, uint8_t opcode, uint8_t rsv, const void *data,
                    size_t size)
{
    if (self->out_pos > 0 && size + S_HEADER_MAX > self->out.cap - self->out.size) {
        //  Move what is left to write to the front (TLS allows a moved
        //  buffer: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER).
        memmove (self->out.data, self->out.data + self->out_pos, self->out.size - self->out_pos);
        self->out.size -= self->out_pos;
        for (size_t i = 0; i < self->pongs; i++)
            self->pong_ends[i] = self->pong_ends[i] > self->out_pos
                                     ? self->pong_ends[i] - self->out_pos
                                     : 0; //  0: written
        self->out_pos = 0;
    }
    if (size > SIZE_MAX - S_HEADER_MAX || s_reserve (&self->out, size + S_HEADER_MAX))
        return ZFLOW_ENOMEM;
    struct wslay_frame_iocb iocb = {.fin = 1,
                                    .rsv = rsv,
                                    .opcode = opcode,
                                    .payload_length = size,
                                    .mask = 1,
                                    .data = (const uint8_t *) data,
                                    .data_length = size};
    ssize_t n = wslay_frame_send (self->wslay, &iocb);
    //  Only the mask key can fail, before anything is written.
    return n == (ssize_t) size ? 0 : ZFLOW_EIO;
}

//  Forgets the pongs that out_pos has passed (written).
static void s_pongs_written (zflow_ws_frame_t *self)
{
    size_t done = 0;
    while (done < self->pongs && self->pong_ends[done] <= self->out_pos)
        done++;
    memmove (self->pong_ends, self->pong_ends + done, (self->pongs - done) * sizeof (size_t));
    self->pongs -= done;
}

//  Queues a pong and remembers where it ends. Returns 0 or as s_queue.
static int s_pong_queue (zflow_ws_frame_t *self, const uint8_t *data, size_t size)
{
    s_pongs_written (self); //  before s_queue may move out's contents
    int rc = s_queue (self, WSLAY_PONG, 0, data, size);
    if (rc == 0)
        self->pong_ends[self->pongs++] = self->out.size;
    return rc;
}

//  Answers a ping. Each ping gets its own pong while fewer than
//  S_PONGS_MAX pongs wait unwritten in out (peers such as the Autobahn
//  suite expect one per ping); beyond that a newer ping only replaces the
//  payload of the next pong (RFC 6455 5.5.3 lets an endpoint answer only
//  the most recent ping), so a peer that floods pings and reads nothing
//  costs us S_PONGS_MAX + 1 pongs, not one per ping. Returns 0 or as
//  s_queue.
static int s_pong (zflow_ws_frame_t *self, const uint8_t *data, size_t size)
{
    s_pongs_written (self);
    if (self->pongs == S_PONGS_MAX) {
        self->pongs_coalesced += self->pong_pending;
        memcpy (self->pong, data, size); //  size <= 125: a control frame
        self->pong_size = size;
        self->pong_pending = true;
        return 0;
    }
    return s_pong_queue (self, data, size);
}

//  Queues the pong that waited, once the one before it is written.
static void s_pong_flush (zflow_ws_frame_t *self)
{
    s_pongs_written (self);
    if (!self->pong_pending || self->pongs == S_PONGS_MAX || self->code_sent)
        return;
    self->pong_pending = false;
    //  Out of memory here only loses a pong: the next ping gets one.
    s_pong_queue (self, self->pong, self->pong_size);
}

//  ---------------------------------------------------------------------
//  Receiving

//  Ends reading with an error event.
static zflow_ws_frame_kind_t s_fail (zflow_ws_frame_t *self, zflow_ws_frame_event_t *event,
                                     int error, int code, const char *text)
{
    self->reading = false;
    event->error = error;
    event->code = code;
    event->text = text;
    return ZFLOW_WS_FRAME_ERROR;
}

//  True for close codes a peer may send (RFC 6455 7.4, IANA registry).
static bool s_close_code_valid (int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

//  Checks the header of a new frame (wslay refused fragmented and
//  over-long control frames and bad lengths already) and starts a data
//  message. Returns AGAIN when it is fine, else ERROR.
static zflow_ws_frame_kind_t s_frame_start (zflow_ws_frame_t *self,
                                            const struct wslay_frame_iocb *iocb,
                                            zflow_ws_frame_event_t *event)
{
    uint8_t opcode = iocb->opcode;
    bool control = wslay_is_ctrl_frame (opcode);
    self->opcode = opcode;
    self->frame_left = iocb->payload_length;
    self->ctrl_size = 0;
    if (iocb->mask)
        return s_fail (self, event, ZFLOW_EPROTO, 1002, "peer sent a masked frame");
    if (iocb->rsv & (WSLAY_RSV2_BIT | WSLAY_RSV3_BIT))
        return s_fail (self, event, ZFLOW_EPROTO, 1002, "peer set reserved bit RSV2 or RSV3");
    if (iocb->rsv && (!self->deflate || control || opcode == WSLAY_CONTINUATION_FRAME))
        return s_fail (self, event, ZFLOW_EPROTO, 1002,
                       "peer set RSV1 without permessage-deflate or not on a message's first "
                       "frame");
    if (control)
        return opcode <= WSLAY_PONG ? ZFLOW_WS_FRAME_AGAIN
                                    : s_fail (self, event, ZFLOW_EPROTO, 1002,
                                              "peer sent an unknown control opcode");
    if (opcode > WSLAY_BINARY_FRAME)
        return s_fail (self, event, ZFLOW_EPROTO, 1002, "peer sent an unknown data opcode");
    if (opcode == WSLAY_CONTINUATION_FRAME && !self->msg_opcode)
        return s_fail (self, event, ZFLOW_EPROTO, 1002,
                       "peer sent a continuation frame outside a message");
    if (opcode != WSLAY_CONTINUATION_FRAME && self->msg_opcode)
        return s_fail (self, event, ZFLOW_EPROTO, 1002,
                       "peer began a message before the last one ended");
    if (opcode != WSLAY_CONTINUATION_FRAME) {
        self->msg_opcode = opcode;
        self->msg_compressed = iocb->rsv != 0;
        self->msg.size = 0;
        self->msg_checked = 0;
    }
    if (iocb->payload_length > self->max_message - self->msg.size)
        return s_fail (self, event, ZFLOW_ETOOBIG, 1009, "message larger than the maximum");
    return ZFLOW_WS_FRAME_AGAIN;
}

//  Checks the UTF-8 of the joined message not checked yet: all of it when
//  final, else up to its last whole code point.
static bool s_utf8_check (zflow_ws_frame_t *self, bool final)
{
    size_t size = self->msg.size - self->msg_checked;
    if (size == 0)
        return true;
    const uint8_t *data = self->msg.data + self->msg_checked;
    if (!final)
        size = zflow__ws_utf8_whole (data, size);
    if (!zflow__ws_utf8_valid (data, size))
        return false;
    self->msg_checked += size;
    return true;
}

//  Takes a chunk of a data frame: joins it, or completes the message.
static zflow_ws_frame_kind_t s_data_chunk (zflow_ws_frame_t *self,
                                           const struct wslay_frame_iocb *iocb, size_t n,
                                           zflow_ws_frame_event_t *event)
{
    bool last = !self->in_frame && iocb->fin;
    bool text = self->msg_opcode == WSLAY_TEXT_FRAME && !self->msg_compressed;
    if (last && self->msg.size == 0 && n == iocb->payload_length) {
        //  The whole message in one chunk: straight from wslay's buffer.
        if (text && !zflow__ws_utf8_valid (iocb->data, n))
            return s_fail (self, event, ZFLOW_EPROTO, 1007, "text message is not valid UTF-8");
        event->data = iocb->data;
        event->size = n;
    } else {
        if (s_reserve (&self->msg, n))
            return s_fail (self, event, ZFLOW_ENOMEM, 1011, "out of memory");
        if (n)
            memcpy (self->msg.data + self->msg.size, iocb->data, n);
        self->msg.size += n;
        //  Fail fast: a code point may be split between chunks or fragments.
        if (text && !s_utf8_check (self, last))
            return s_fail (self, event, ZFLOW_EPROTO, 1007, "text message is not valid UTF-8");
        if (!last)
            return ZFLOW_WS_FRAME_AGAIN;
        event->data = self->msg.data;
        event->size = self->msg.size;
    }
    event->binary = self->msg_opcode == WSLAY_BINARY_FRAME;
    event->compressed = self->msg_compressed;
    self->msg_opcode = 0;
    self->msg.size = 0;
    return ZFLOW_WS_FRAME_MESSAGE;
}

//  Handles a whole close frame: checks its code and reason, echoes it.
static zflow_ws_frame_kind_t s_close_frame (zflow_ws_frame_t *self, zflow_ws_frame_event_t *event)
{
    if (self->ctrl_size == 1)
        return s_fail (self, event, ZFLOW_EPROTO, 1002, "peer sent a one-byte close payload");
    int code = self->ctrl_size ? (self->ctrl[0] << 8) | self->ctrl[1] : 1005;
    if (self->ctrl_size && !s_close_code_valid (code))
        return s_fail (self, event, ZFLOW_EPROTO, 1002, "peer sent an invalid close code");
    size_t size = self->ctrl_size ? self->ctrl_size - 2 : 0;
    if (!zflow__ws_utf8_valid (self->ctrl + 2, size))
        return s_fail (self, event, ZFLOW_EPROTO, 1007,
                       "peer sent a close reason that is not UTF-8");
    self->reading = false;
    self->code_received = code;
    //  Our reply echoes the code; if it fails the caller ends the TCP
    //  connection without it.
    zflow__ws_frame_close (self, code == 1005 ? 0 : code, NULL, 0);
    event->code = code;
    event->data = self->ctrl + 2;
    event->size = size;
    return ZFLOW_WS_FRAME_CLOSE;
}

//  Takes a chunk of a control frame; acts once the frame is whole.
static zflow_ws_frame_kind_t s_control_chunk (zflow_ws_frame_t *self,
                                              const struct wslay_frame_iocb *iocb, size_t n,
                                              zflow_ws_frame_event_t *event)
{
    if (n)
        memcpy (self->ctrl + self->ctrl_size, iocb->data, n); //  wslay bounds it to 125
    self->ctrl_size += n;
    if (self->in_frame)
        return ZFLOW_WS_FRAME_AGAIN;
    if (self->opcode == WSLAY_CONNECTION_CLOSE)
        return s_close_frame (self, event);
    if (self->opcode == WSLAY_PONG) {
        event->data = self->ctrl;
        event->size = self->ctrl_size;
        return ZFLOW_WS_FRAME_PONG;
    }
    //  A ping: answered unless our close went out already (RFC 6455 5.5.1).
    int rc = self->code_sent ? 0 : s_pong (self, self->ctrl, self->ctrl_size);
    return rc ? s_fail (self, event, rc, 1011, "cannot queue a pong") : ZFLOW_WS_FRAME_AGAIN;
}

zflow_ws_frame_kind_t zflow__ws_frame_next (zflow_ws_frame_t *self, zflow_ws_frame_event_t *event)
{
    while (self->reading) {
        struct wslay_frame_iocb iocb;
        ssize_t n = wslay_frame_recv (self->wslay, &iocb);
        if (n == WSLAY_ERR_WANT_READ)
            break;
        if (n < 0)
            return s_fail (self, event, ZFLOW_EPROTO, 1002,
                           "peer sent a malformed frame header (control frame fragmented or "
                           "over 125 bytes, or a bad length)");
        zflow_ws_frame_kind_t kind = ZFLOW_WS_FRAME_AGAIN;
        if (!self->in_frame)
            kind = s_frame_start (self, &iocb, event);
        if (kind != ZFLOW_WS_FRAME_AGAIN)
            return kind;
        self->frame_left -= (uint64_t) n;
        self->in_frame = self->frame_left > 0;
        if (wslay_is_ctrl_frame (self->opcode))
            kind = s_control_chunk (self, &iocb, (size_t) n, event);
        else
            kind = s_data_chunk (self, &iocb, (size_t) n, event);
        if (kind != ZFLOW_WS_FRAME_AGAIN)
            return kind;
    }
    return ZFLOW_WS_FRAME_AGAIN;
}

//  ---------------------------------------------------------------------
//  The rest of the API

zflow_ws_frame_t *zflow__ws_frame_new (zflow_ws_frame_read_fn *read, void *arg, size_t max_message,
                                       bool deflate)
{
    zflow_ws_frame_t *self = (zflow_ws_frame_t *) calloc (1, sizeof (zflow_ws_frame_t));
    if (!self)
        return NULL;
    struct wslay_frame_callbacks callbacks = {s_send, s_recv, s_genmask};
    if (wslay_frame_context_init (&self->wslay, &callbacks, self) != 0) {
        free (self);
        return NULL;
    }
    self->read = read;
    self->arg = arg;
    self->max_message = max_message;
    self->deflate = deflate;
    self->reading = true;
    return self;
}

void zflow__ws_frame_destroy (zflow_ws_frame_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_ws_frame_t *self = *self_p;
    wslay_frame_context_free (self->wslay);
    zflow__ws_buf_free (&self->msg);
    zflow__ws_buf_free (&self->out);
    free (self);
    *self_p = NULL;
}

int zflow__ws_frame_send (zflow_ws_frame_t *self, bool binary, bool compressed, const void *data,
                          size_t size)
{
    if (self->code_sent)
        return ZFLOW_ECLOSED;
    return s_queue (self, binary ? WSLAY_BINARY_FRAME : WSLAY_TEXT_FRAME,
                    compressed ? WSLAY_RSV1_BIT : WSLAY_RSV_NONE, data, size);
}

int zflow__ws_frame_ping (zflow_ws_frame_t *self, const void *data, size_t size)
{
    if (self->code_sent)
        return ZFLOW_ECLOSED;
    if (size > 125)
        return ZFLOW_ETOOBIG;
    return s_queue (self, WSLAY_PING, WSLAY_RSV_NONE, data, size);
}

int zflow__ws_frame_close (zflow_ws_frame_t *self, int code, const void *reason, size_t size)
{
    if (self->code_sent)
        return 0;
    //  A pong still waiting goes before the close; none may follow it.
    if (self->pong_pending) {
        self->pong_pending = false;
        s_queue (self, WSLAY_PONG, 0, self->pong, self->pong_size); //  the last pong: no count
    }
    uint8_t payload[125] = {0};
    size_t len = 0;
    if (code) {
        if (size > sizeof (payload) - 2)
            size = sizeof (payload) - 2;
        payload[0] = (uint8_t) (code >> 8);
        payload[1] = (uint8_t) code;
        if (size)
            memcpy (payload + 2, reason, size);
        len = size + 2;
    }
    int rc = s_queue (self, WSLAY_CONNECTION_CLOSE, WSLAY_RSV_NONE, payload, len);
    if (rc == 0)
        self->code_sent = code ? code : 1005;
    return rc;
}

void zflow__ws_frame_stop_reading (zflow_ws_frame_t *self)
{
    self->reading = false;
}

const uint8_t *zflow__ws_frame_out (zflow_ws_frame_t *self, size_t *size)
{
    *size = self->out.size - self->out_pos;
    return *size ? self->out.data + self->out_pos : NULL;
}

void zflow__ws_frame_out_done (zflow_ws_frame_t *self, size_t size)
{
    self->out_pos += size;
    if (self->out_pos >= self->out.size)
        self->out.size = self->out_pos = self->pongs = 0;
    s_pong_flush (self);
}

bool zflow__ws_frame_reading (zflow_ws_frame_t *self)
{
    return self->reading;
}

int zflow__ws_frame_code_sent (zflow_ws_frame_t *self)
{
    return self->code_sent;
}

int zflow__ws_frame_code_received (zflow_ws_frame_t *self)
{
    return self->code_received;
}

uint64_t zflow__ws_frame_pongs_coalesced (zflow_ws_frame_t *self)
{
    return self->pongs_coalesced;
}
