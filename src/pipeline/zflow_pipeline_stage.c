/*  =========================================================================
    zflow_pipeline_stage - the actor that runs one pipeline stage

    Every stage has the same shape: an input (an inproc PULL link, or for a
    source the user's endpoint), one step (wrap, map, filter, write a line,
    or nothing), and outputs (one PUSH link per consumer, or for a sink the
    user's endpoint). All are zflow streams attached to the actor's loop.

    A chained stage's actor runs the callbacks of the stages fused after it
    (zflow_pipeline_stage.h) in turn on each message, between its input
    and the outputs of the last of them; each keeps its own counters.

    Backpressure (lossless): when a write to an output returns ZFLOW_DRAIN
    the output is "above"; while any output is above, the stage stops
    reading its input. Its input buffer then fills, the stream stops
    reading the socket, and ZeroMQ's HWM pushes back on the stage before.
    The output's on_drained callback resumes the stage.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_pipeline_stage.h"
#include "zflow_actor.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_pipeline_codec.h"
#include "zflow_pipeline_file.h"
#include "zflow_stream.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

//  Most messages one pump takes before it lets the loop see its pipe.
#define S_BATCH 512

//  File sink: bytes of formatted lines the actor holds before it stops
//  taking input (one line may overshoot it).
#define S_FILE_HIGH (64 * 1024)

typedef struct _s_run_t s_run_t;

//  One stage the actor runs: the head (its own) or a chained one.
typedef struct {
    zflow__stage_t *desc;             //  the stage (owned by the pipeline)
    zflow_actor_counters_t *counters; //  its standard counters (the base's for the head)
    zflow_actor_counters_t own;       //  a chained stage's counters
    uint64_t filtered;                //  messages its filter dropped
    uint64_t errors;                  //  messages lost to a map error or a dead output
} s_step_t;

//  One output of the stage.
typedef struct {
    s_run_t *run;           //  the stage it belongs to
    zflow_stream_t *stream; //  the link (or the sink's user endpoint)
    const char *name;       //  consumer name, for its drop counter
    bool above;             //  lossless: write buffer above its watermark
    uint64_t drops;         //  lossy: messages dropped at this output
    bool hop;               //  a link to a stage: carries pointer frames
    size_t high;            //  lossy: drop above this many bytes in the write buffer
    size_t batch;           //  hop: most envelopes per pointer frame
    size_t n_pending;       //  hop: envelopes in pending
    zflow__hop_entry_t pending[ZFLOW__HOP_BATCH]; //  hop: the next frame's envelopes (owned)
} s_output_t;

//  The running state of a stage, owned by its actor.
struct _s_run_t {
    zflow__stage_t *desc;             //  the description (owned by the pipeline)
    zflow_actor_t *base;              //  the actor base
    zflow_actor_counters_t *counters; //  the base's standard counters
    s_step_t *steps;                  //  the head, then its chained stages
    size_t n_steps;                   //  at least 1
    s_step_t *tail;                   //  the last step: it owns the outputs
    zflow_stream_t *input;            //  input link or user endpoint (not synth)
    s_output_t *outputs;              //  outputs (the tail's), n_outputs of them
    size_t n_outputs;
    size_t blocked;          //  outputs above their watermark now
    zflow__linefile_t *file; //  file sink: the output and its buffer, or NULL
    bool file_polling;       //  file sink: the loop polls its fd for POLLOUT
    bool file_waiting;       //  file sink: its buffer above S_FILE_HIGH (counts as blocked)
    zflow_msg_t *msg;        //  reused message
    zflow_msg_t *copy;       //  reused copy for all outputs but the last
    zflow_msg_t *wrapped;    //  source: swapped with msg by s_wrap
    zflow_msg_t *fresh[ZFLOW__HOP_BATCH]; //  empty envelopes for s_take (owned)
    size_t n_fresh;                       //  how many
    zflow_msg_t *used[ZFLOW__HOP_BATCH];  //  emptied ones for the pool (owned)
    size_t n_used;                        //  how many
    zflow_msg_t *holder;                  //  carries a pointer frame to zflow__hop_send
    bool hop_in;                          //  the input is a link to a stage: pointer frames
    bool taken;                           //  the envelope in hand went into a pointer frame
    zflow_meta_t *meta;                   //  reused meta for wrapping
    zflow__meta_template_t template;      //  source: its meta, fast
    bool templated;                       //  source: template usable
    zflow_key_t *key;                     //  key for wrapping (sources, synthetic)
    uint64_t seq;                         //  sequence number of wrapped messages
    bool stopped;                         //  drained: takes nothing more in
    bool draining;                        //  inside DRAIN: never drop, wait instead
    bool pumping;                         //  inside s_pump (callbacks may re-enter)
    int retry_timer;                      //  timer id of a pending re-pump, or -1
    uint64_t generated;                   //  synthetic: events made
    int synth_timer;                      //  synthetic: generator timer id, or -1
    int64_t started;                      //  synthetic: start time (monotonic ms)
};

static void s_pump (s_run_t *run);

//  ---------------------------------------------------------------------
//  Passing messages on

//  Notes a write's result rc on out: lossless, a write above the
//  watermark blocks the stage. Returns true when the message went out.
static bool s_written (s_run_t *run, s_output_t *out, int rc)
{
    bool lossless = run->desc->mode == ZFLOW_PIPELINE_LOSSLESS || run->draining;
    if (rc == ZFLOW_DRAIN && lossless && !out->above) {
        out->above = true;
        run->blocked++;
    }
    return rc == 0 || rc == ZFLOW_DRAIN;
}

//  Sends the envelopes a hop output holds as one pointer frame.
static void s_hop_flush (s_run_t *run, s_output_t *out)
{
    if (!out->n_pending)
        return;
    size_t count = out->n_pending;
    out->n_pending = 0;
    int rc = zflow__hop_send (out->stream, run->holder, out->pending, count);
    if (!s_written (run, out, rc))
        run->tail->errors += count;
}

//  Flushes every hop output: the sender never waits to fill a frame, it
//  sends what it has when its input runs dry (or it stops).
static void s_hop_flush_all (s_run_t *run)
{
    for (size_t i = 0; i < run->n_outputs; i++)
        s_hop_flush (run, &run->outputs[i]);
}

//  Returns an empty heap envelope: one this stage emptied, or one from
//  the pipeline's pool, or a new one; NULL when out of memory.
static zflow_msg_t *s_node (s_run_t *run)
{
    if (run->n_used)
        return run->used[--run->n_used];
    if (!run->n_fresh)
        run->n_fresh = zflow__hop_pool_get (run->desc->pool, run->fresh, ZFLOW__HOP_BATCH);
    return run->n_fresh ? run->fresh[--run->n_fresh] : zflow_msg_new ();
}

//  Returns a heap envelope holding what msg held, for a pointer frame: a
//  node from a hop passes on as it is; run's reused message is handed over
//  and replaced by an empty node. NULL when out of memory (msg unchanged).
static zflow_msg_t *s_take (s_run_t *run, zflow_msg_t *msg)
{
    if (msg != run->msg) {
        run->taken = true;
        return msg;
    }
    zflow_msg_t *fresh = s_node (run);
    if (!fresh)
        return NULL;
    run->msg = fresh;
    return msg;
}

//  Returns a heap copy of msg for a pointer frame, or NULL.
static zflow_msg_t *s_node_copy (s_run_t *run, const zflow_msg_t *msg)
{
    zflow_msg_t *node = s_node (run);
    if (node && zflow_msg_copy (node, msg))
        zflow_msg_destroy (&node);
    return node;
}

//  Empties an envelope node that went no further and gives it back to the
//  pipeline's pool (a batch at a time).
static void s_recycle (s_run_t *run, zflow_msg_t *node)
{
    zflow_msg_reset (node);
    run->used[run->n_used++] = node;
    if (run->n_used == ZFLOW__HOP_BATCH) {
        zflow__hop_pool_put (run->desc->pool, run->used, run->n_used);
        run->n_used = 0;
    }
}

//  True when a lossy stage drops at out: its write buffer is full.
static bool s_full (s_run_t *run, s_output_t *out)
{
    size_t bytes = zflow_stream_write_pending_bytes (out->stream);
    return run->desc->mode == ZFLOW_PIPELINE_LOSSY && !run->draining &&
           bytes + out->n_pending * sizeof (zflow__hop_entry_t) >= out->high;
}

//  Writes msg (of bytes payload bytes) to every output (copies for all but
//  the last) and empties it, or hands it to a hop output's next frame;
//  counts it as the tail's.
static void s_emit (s_run_t *run, zflow_msg_t *msg, size_t bytes)
{
    s_step_t *tail = run->tail;
    bool sent = false, handed = false;
    for (size_t i = 0; i < run->n_outputs; i++) {
        s_output_t *out = &run->outputs[i];
        bool last = i + 1 == run->n_outputs;
        if (s_full (run, out)) {
            out->drops++;
            tail->counters->drops++;
            continue;
        }
        if (out->hop) {
            zflow_msg_t *node = last ? s_take (run, msg) : s_node_copy (run, msg);
            if (!node) {
                tail->errors++;
                continue;
            }
            handed = last;
            out->pending[out->n_pending++] = (zflow__hop_entry_t){node, bytes};
            sent = true;
            if (out->n_pending == out->batch)
                s_hop_flush (run, out);
            continue;
        }
        zflow_msg_t *part = msg;
        if (!last) {
            if (zflow_msg_copy (run->copy, msg)) {
                tail->errors++;
                continue;
            }
            part = run->copy;
        }
        if (s_written (run, out, zflow_stream_write (out->stream, part)))
            sent = true;
        else
            tail->errors++;
    }
    if (sent) {
        tail->counters->msgs_out++;
        tail->counters->bytes_out += bytes;
    }
    if (!handed)
        zflow_msg_reset (msg);
}

//  A sink calling its write callback (the tail): counts what it says.
static void s_call (s_step_t *step, zflow_msg_t *msg, size_t bytes)
{
    int rc = step->desc->map (msg, step->desc->arg);
    if (rc == 0) {
        step->counters->msgs_out++;
        step->counters->bytes_out += bytes;
    } else if (rc == ZFLOW_EFULL)
        step->counters->drops++; //  the sink's own policy dropped it
    else
        step->errors++;
    zflow_msg_reset (msg);
}

//  Passes msg (bytes payload bytes), which step from - 1 let through, to
//  the chained steps from there on in turn (the payload frames move, never
//  copied), then to the outputs or the sink callback; or drops it where a
//  map fails or a filter says no.
static void s_pass (s_run_t *run, zflow_msg_t *msg, size_t from, size_t bytes)
{
    for (size_t k = from; k < run->n_steps; k++) {
        s_step_t *step = &run->steps[k];
        run->steps[k - 1].counters->msgs_out++;
        run->steps[k - 1].counters->bytes_out += bytes;
        step->counters->msgs_in++;
        step->counters->bytes_in += bytes;
        zflow__stage_t *desc = step->desc;
        if (desc->kind == ZFLOW__STAGE_MAP && desc->map (msg, desc->arg) < 0) {
            step->errors++;
            zflow_msg_reset (msg);
            return;
        }
        if (desc->kind == ZFLOW__STAGE_MAP)
            bytes = zflow_msg_content_size (msg); //  a map may change the size
        if (desc->kind == ZFLOW__STAGE_FILTER && !desc->filter (msg, desc->arg)) {
            step->filtered++;
            zflow_msg_reset (msg);
            return;
        }
    }
    if (run->tail->desc->kind == ZFLOW__STAGE_CALL)
        s_call (run->tail, msg, bytes);
    else
        s_emit (run, msg, bytes);
}

//  Adds a source's meta frame with the next sequence number and the time
//  now to out: from the template when it is usable, else encoded. Adds its
//  size to *bytes.
static int s_add_meta (s_run_t *run, zflow_msg_t *out, size_t *bytes)
{
    uint64_t seq = ++run->seq;
    struct timeval now;
    gettimeofday (&now, NULL); //  as zflow_meta_stamp
    int64_t ts = (int64_t) now.tv_sec * 1000000 + now.tv_usec;
    if (run->templated && ts >= 0) {
        size_t size = zflow__meta_template_size (&run->template, seq, ts);
        char *data = (char *) zflow_msg_add_empty (out, size);
        if (!data)
            return ZFLOW_ENOMEM;
        zflow__meta_template_fill (&run->template, seq, ts, data);
        *bytes += size;
        return 0;
    }
    zflow_meta_set_seq (run->meta, seq); //  its source was set once
    zflow_meta_set_timestamp (run->meta, ts);
    char meta[ZFLOW_META_MAX_WIRE];
    int size = zflow_meta_encode (run->meta, meta, sizeof (meta));
    if (size < 0)
        return size;
    *bytes += (size_t) size;
    return zflow_msg_add (out, meta, (size_t) size);
}

//  Wraps what a source read (*msg_p, which is run->msg) into an envelope
//  unless it already is one, as zflow_envelope_wrap does but without its
//  allocations, which were a quarter of a chained pipeline's work: the key
//  and meta frames go into run->wrapped, the payload frames move behind
//  them, and run->msg and run->wrapped swap (*msg_p follows). *bytes,
//  the payload's size, becomes the envelope's.
static int s_wrap (s_run_t *run, zflow_msg_t **msg_p, size_t *bytes)
{
    zflow_msg_t *msg = *msg_p, *out = run->wrapped;
    if (zflow_envelope_decode (msg, NULL) == 0)
        return 0;
    size_t key_size;
    const void *key = zflow_key_wire (run->key, &key_size);
    zflow_msg_reset (out);
    int rc = zflow_msg_add (out, key, key_size);
    size_t size = *bytes + key_size;
    rc = rc ? rc : s_add_meta (run, out, &size);
    if (rc == 0 && zflow_msg_size (msg) == 0)
        rc = zflow_msg_add (out, "", 0);
    for (size_t i = 0; rc == 0 && i < zflow_msg_size (msg); i++)
        rc = zflow_msg_add_zmq (out, zflow_msg_zmq (msg, i));
    if (rc) {
        zflow_msg_reset (out);
        return rc;
    }
    zflow_msg_reset (msg); //  frames moved out: closes empty ones
    *bytes = size;
    run->wrapped = msg;
    run->msg = out;
    *msg_p = out;
    return 0;
}

static int s_on_file_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  Writes what it can, then has the loop poll fd while anything is left,
//  and counts the file as a blocked output while the buffer is above
//  S_FILE_HIGH (the input is not read meanwhile: backpressure).
static void s_file_sync (s_run_t *run)
{
    if (zflow__linefile_write (run->file))
        zflow__linefile_discard (run->file, errno, NULL);
    bool waiting = zflow__linefile_pending (run->file) > S_FILE_HIGH;
    if (waiting != run->file_waiting) {
        run->file_waiting = waiting;
        if (waiting)
            run->blocked++;
        else
            run->blocked--;
    }
    bool polling = zflow__linefile_pending (run->file) > 0;
    if (polling != run->file_polling) {
        zmq_pollitem_t item = {NULL, zflow__linefile_fd (run->file), ZMQ_POLLOUT, 0};
        zloop_t *loop = zflow_actor_loop (run->base);
        if (polling && zloop_poller (loop, &item, s_on_file_writable, run))
            polling = false; //  cannot happen short of memory; the next pump retries
        else if (!polling)
            zloop_poller_end (loop, &item);
        run->file_polling = polling;
    }
}

//  Applies the stage's step to one message taken in (of bytes payload
//  bytes), then passes it on.
static void s_handle (s_run_t *run, zflow_msg_t *msg, size_t bytes)
{
    zflow__stage_t *desc = run->desc;
    s_step_t *head = &run->steps[0];
    run->counters->msgs_in++;
    run->counters->bytes_in += bytes;
    int rc = 0;
    if (desc->kind == ZFLOW__STAGE_SOURCE)
        rc = s_wrap (run, &msg, &bytes);
    else if (desc->kind == ZFLOW__STAGE_MAP)
        rc = desc->map (msg, desc->arg);
    else if (desc->kind == ZFLOW__STAGE_FILTER && !desc->filter (msg, desc->arg)) {
        head->filtered++;
        zflow_msg_reset (msg);
        return;
    } else if (desc->kind == ZFLOW__STAGE_FILE) {
        //  counted as out once the kernel took the whole line
        if (zflow__linefile_append (run->file, msg))
            head->errors++;
        zflow_msg_reset (msg);
        return;
    }
    if (rc < 0) {
        head->errors++;
        zflow_msg_reset (msg);
        return;
    }
    if (desc->kind == ZFLOW__STAGE_MAP)
        bytes = zflow_msg_content_size (msg); //  a map may change the size
    s_pass (run, msg, 1, bytes);
}

//  Handles what the input delivered in run->msg: an envelope, or from a
//  stage's link a pointer frame whose envelopes it takes one by one (each
//  passed on by pointer, or recycled).
static void s_handle_input (s_run_t *run)
{
    if (!run->hop_in) {
        s_handle (run, run->msg, zflow_msg_content_size (run->msg));
        return;
    }
    size_t count;
    zflow__hop_entry_t *batch = zflow__hop_batch (run->msg, &count);
    if (!batch)
        run->steps[0].errors++; //  cannot happen: only stages write links
    for (size_t i = 0; i < count; i++) {
        zflow_msg_t *node = batch[i].msg;
        batch[i].msg = NULL;
        run->taken = false;
        s_handle (run, node, batch[i].bytes);
        if (!run->taken)
            s_recycle (run, node);
    }
    zflow_msg_reset (run->msg); //  releases the frame, empty now
}

//  ---------------------------------------------------------------------
//  Synthetic events

static const char *s_eventids[] = {"dionaea.connection", "cowrie.login.failed",
                                   "dionaea.capture",    "cowrie.session.file_download",
                                   "glastopf.request",   "conpot.modbus"};

//  Makes one honeypot-style JSON event into msg; one in three has hashes.
static void s_synth_one (s_run_t *run, zflow_msg_t *msg)
{
    uint64_t n = run->generated++;
    char hashes[80] = "";
    if (n % 3 == 0)
        snprintf (hashes, sizeof (hashes), "\"%016" PRIx64 "%016" PRIx64 "\"",
                  (uint64_t) (n * 0x9E3779B97F4A7C15ULL), (uint64_t) (~n * 0xC2B2AE3D27D4EB4FULL));
    char event[512];
    int size =
        snprintf (event, sizeof (event),
                  "{\"eventid\":\"%s\",\"seq\":%" PRIu64 ",\"src_ip\":\"10.%u.%u.%u\","
                  "\"src_port\":%u,\"dst_port\":%u,\"timestamp\":%" PRId64 ","
                  "\"hashes\":[%s]}",
                  s_eventids[n % 6], n, (unsigned) (n >> 16) & 255, (unsigned) (n >> 8) & 255,
                  (unsigned) n & 255, (unsigned) (1024 + n % 60000), (n % 2) ? 445u : 22u,
                  zclock_time (), hashes);
    zflow_meta_reset (run->meta);
    zflow_meta_set_source (run->meta, run->desc->name);
    zflow_meta_set_seq (run->meta, n + 1);
    zflow_meta_stamp (run->meta);
    zflow_meta_set_content_type (run->meta, ZFLOW__CT_JSON);
    zflow_envelope_encode_key (msg, run->key, run->meta, event, (size_t) size);
}

//  Makes the events due now, while the outputs take them.
static void s_synth_pump (s_run_t *run)
{
    zflow__stage_t *desc = run->desc;
    uint64_t target = run->generated + S_BATCH;
    if (desc->rate) {
        //  in double: elapsed ms times any configured rate cannot overflow
        double exact = (double) (zclock_mono () - run->started) * (double) desc->rate / 1000.0;
        uint64_t due = exact >= 1e18 ? (uint64_t) 1e18 : (uint64_t) exact + 1;
        target = due < target ? due : target;
    }
    if (desc->count && target > desc->count)
        target = desc->count;
    while (run->generated < target && !run->blocked) {
        s_synth_one (run, run->msg);
        size_t bytes = zflow_msg_content_size (run->msg);
        run->counters->msgs_in++;
        run->counters->bytes_in += bytes;
        s_pass (run, run->msg, 1, bytes);
    }
}

static int s_on_synth_timer (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_pump ((s_run_t *) arg);
    return 0;
}

//  ---------------------------------------------------------------------
//  The loop's callbacks

//  Counts envelopes in the input and output buffers (a pointer frame's
//  envelopes, not the frame).
static void s_update_depth (s_run_t *run)
{
    uint64_t depth =
        !run->input   ? 0
        : run->hop_in ? zflow_stream_read_pending_bytes (run->input) / sizeof (zflow__hop_entry_t)
                      : zflow_stream_read_pending (run->input);
    for (size_t i = 0; i < run->n_outputs; i++) {
        s_output_t *out = &run->outputs[i];
        depth += out->hop
                     ? zflow_stream_write_pending_bytes (out->stream) / sizeof (zflow__hop_entry_t)
                     : zflow_stream_write_pending (out->stream);
    }
    run->counters->queue_depth = depth;
}

static int s_on_retry (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    s_run_t *run = (s_run_t *) arg;
    run->retry_timer = -1;
    s_pump (run);
    return 0;
}

static int s_on_file_writable (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    s_run_t *run = (s_run_t *) arg;
    s_file_sync (run);
    if (!run->blocked)
        s_pump (run);
    return 0;
}

//  Takes in what the input has, a batch at a time, while no output is
//  above its watermark; asks the loop to come back if more is buffered.
static void s_pump (s_run_t *run)
{
    if (run->pumping || run->stopped)
        return;
    run->pumping = true;
    if (run->desc->kind == ZFLOW__STAGE_SYNTH)
        s_synth_pump (run);
    else {
        size_t taken = 0;
        while (!run->blocked && taken < S_BATCH &&
               (!run->file || zflow__linefile_pending (run->file) <= S_FILE_HIGH) &&
               zflow_stream_read (run->input, run->msg, 0) == 0) {
            s_handle_input (run);
            taken++;
        }
        if (run->file)
            s_file_sync (run);
        if (!run->blocked && zflow_stream_read_pending (run->input) && run->retry_timer < 0)
            run->retry_timer = zloop_timer (zflow_actor_loop (run->base), 1, 1, s_on_retry, run);
    }
    s_hop_flush_all (run);
    s_update_depth (run);
    run->pumping = false;
}

static void s_on_input (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_pump ((s_run_t *) arg);
}

static void s_on_drained (zflow_stream_t *stream, void *arg)
{
    (void) stream;
    s_output_t *out = (s_output_t *) arg;
    if (out->above) {
        out->above = false;
        out->run->blocked--;
    }
    if (!out->run->blocked)
        s_pump (out->run);
}

//  ---------------------------------------------------------------------
//  Opening the sockets and the file

//  Binds or connects stream to each endpoint of a comma-separated list.
//  Returns 0 or ZFLOW_EENDPOINT (logged with the stage and the endpoint).
static int s_endpoints (zflow_stream_t *stream, const char *list, bool bind, const char *stage)
{
    if (!list)
        return 0;
    char *copy = strdup (list);
    if (!copy)
        return ZFLOW_ENOMEM;
    char *save = NULL;
    int rc = 0;
    for (char *ep = strtok_r (copy, ",", &save); ep && rc == 0; ep = strtok_r (NULL, ",", &save)) {
        while (*ep == ' ')
            ep++;
        rc = bind ? zflow_stream_bind (stream, ep) : zflow_stream_connect (stream, ep);
        if (rc)
            zsys_error ("%s: cannot %s %s: %s", stage, bind ? "bind" : "connect", ep,
                        zmq_strerror (zmq_errno ()));
    }
    free (copy);
    return rc;
}

//  Creates the stream of a user endpoint (a source's input, a sink's
//  output) with HWM, linger and CURVE set before it binds or connects.
static zflow_stream_t *s_user_stream (zflow__stage_t *desc)
{
    zflow_stream_t *stream = zflow_stream_new (desc->sock_type, NULL, NULL, NULL);
    if (!stream)
        return NULL;
    zsock_t *sock = zflow_stream_sock (stream);
    zsock_set_sndhwm (sock, desc->hwm);
    zsock_set_rcvhwm (sock, desc->hwm);
    zsock_set_linger (sock, 1000); //  let a remote peer get the tail
    if (desc->sock_type == ZMQ_SUB && !desc->subscribe)
        zsock_set_subscribe (sock, "");
    for (zframe_t *prefix = desc->subscribe ? (zframe_t *) zlistx_first (desc->subscribe) : NULL;
         prefix; prefix = (zframe_t *) zlistx_next (desc->subscribe))
        zmq_setsockopt (zsock_resolve (sock), ZMQ_SUBSCRIBE, zframe_data (prefix),
                        zframe_size (prefix));
    //  queue only to peers that completed the handshake: a refused peer
    //  (wrong CURVE key) leaves messages in zflow's buffer, where a stop
    //  that cannot drain counts them, instead of in a pipe that vanishes
    if (desc->sock_type == ZMQ_PUSH)
        zsock_set_immediate (sock, 1);
    //  libzmq takes a [bracketed] IPv6 address only on an IPv6 socket; only
    //  then, so that a name ("localhost") keeps resolving as before
    if ((desc->bind && strchr (desc->bind, '[')) || (desc->connect && strchr (desc->connect, '[')))
        zsock_set_ipv6 (sock, 1);
    if (zflow__stage_curve (desc, sock, desc->bind != NULL) ||
        s_endpoints (stream, desc->bind, true, desc->name) ||
        s_endpoints (stream, desc->connect, false, desc->name))
        zflow_stream_destroy (&stream);
    return stream;
}

//  Envelopes per pointer frame on a link of watermark hwm: at most
//  ZFLOW__HOP_BATCH, and no more than hwm so that a frame fits.
static size_t s_hop_batch (int hwm)
{
    return hwm < ZFLOW__HOP_BATCH ? (size_t) (hwm > 0 ? hwm : 1) : ZFLOW__HOP_BATCH;
}

//  Creates one inproc link end. The watermark counts envelopes: the
//  socket's HWM is in frames of up to s_hop_batch envelopes.
static zflow_stream_t *s_link (s_run_t *run, int type, const char *endpoint, bool bind)
{
    zflow_stream_t *stream = zflow_stream_new (type, NULL, NULL, NULL);
    if (!stream)
        return NULL;
    int frames = (int) ((size_t) run->desc->hwm / s_hop_batch (run->desc->hwm));
    zsock_set_sndhwm (zflow_stream_sock (stream), frames);
    zsock_set_rcvhwm (zflow_stream_sock (stream), frames);
    int rc = bind ? zflow_stream_bind (stream, endpoint) : zflow_stream_connect (stream, endpoint);
    if (rc)
        zflow_stream_destroy (&stream);
    return stream;
}

static int s_open_input (s_run_t *run)
{
    zflow__stage_t *desc = run->desc;
    zloop_t *loop = zflow_actor_loop (run->base);
    if (desc->kind == ZFLOW__STAGE_SYNTH) {
        run->started = zclock_mono ();
        run->synth_timer = zloop_timer (loop, desc->rate ? 10 : 1, 0, s_on_synth_timer, run);
        return run->synth_timer < 0 ? ZFLOW_ENOMEM : 0;
    }
    if (desc->kind == ZFLOW__STAGE_SOURCE && desc->external)
        run->input = desc->external;
    else if (desc->kind == ZFLOW__STAGE_SOURCE)
        run->input = s_user_stream (desc);
    else
        run->input = s_link (run, ZMQ_PULL, desc->input, true);
    if (!run->input)
        return ZFLOW_ECONFIG;
    size_t hwm = (size_t) desc->hwm;
    run->hop_in = desc->kind != ZFLOW__STAGE_SOURCE;
    if (run->hop_in)
        hwm /= s_hop_batch (desc->hwm); //  in pointer frames
    zflow_stream_set_read_limits_msgs (run->input, hwm, hwm / 4);
    return zflow_stream_attach (run->input, loop, s_on_input, NULL, run);
}

static int s_open_outputs (s_run_t *run)
{
    zflow__stage_t *desc = run->tail->desc;
    if (desc->kind == ZFLOW__STAGE_CALL)
        return 0; //  the callback is its output
    if (desc->kind == ZFLOW__STAGE_FILE)
        return (run->file = zflow__linefile_open (run->desc->path, run->desc->name, run->counters))
                   ? 0
                   : ZFLOW_ECONFIG;
    size_t count = desc->kind == ZFLOW__STAGE_SINK ? 1 : zlistx_size (desc->outputs);
    run->outputs = (s_output_t *) zmalloc (sizeof (s_output_t) * (count ? count : 1));
    if (!run->outputs)
        return ZFLOW_ENOMEM;
    const char *endpoint = (const char *) zlistx_first (desc->outputs);
    const char *name = (const char *) zlistx_first (desc->output_names);
    for (size_t i = 0; i < count; i++) {
        s_output_t *out = &run->outputs[i];
        out->run = run;
        out->name = desc->kind == ZFLOW__STAGE_SINK ? desc->name : name;
        out->stream = desc->kind == ZFLOW__STAGE_SINK ? s_user_stream (desc)
                                                      : s_link (run, ZMQ_PUSH, endpoint, false);
        if (!out->stream)
            return ZFLOW_ECONFIG;
        run->n_outputs++;
        out->hop = desc->kind != ZFLOW__STAGE_SINK;
        out->batch = s_hop_batch (run->desc->hwm);
        //  a link holds up to hwm envelopes in its write buffer: their
        //  pointers' bytes, since that is what the stream counts
        out->high = out->hop ? (size_t) run->desc->hwm * sizeof (zflow__hop_entry_t)
                             : ZFLOW_STREAM_DEFAULT_HIGH;
        zflow_stream_set_write_limits (out->stream, out->high, 0);
        zflow_stream_attach (out->stream, zflow_actor_loop (run->base), NULL, s_on_drained, out);
        endpoint = (const char *) zlistx_next (desc->outputs);
        name = (const char *) zlistx_next (desc->output_names);
    }
    return 0;
}

static void s_run_destroy (s_run_t **run_p)
{
    s_run_t *run = *run_p;
    if (!run)
        return;
    if (run->input && run->input == run->desc->external)
        zflow_stream_detach (run->input); //  its owner destroys it
    else
        zflow_stream_destroy (&run->input);
    for (size_t i = 0; i < run->n_outputs; i++) {
        zflow_stream_t *stream = run->outputs[i].stream;
        for (size_t k = 0; k < run->outputs[i].n_pending; k++)
            zflow_msg_destroy (&run->outputs[i].pending[k].msg);
        if (stream)
            zflow_stream_close (stream);
        if (stream && zflow_stream_dropped (stream))
            zsys_warning (
                "%s: %" PRIu64 " unsent messages (to a stage: batches) to '%s' discarded at stop",
                run->tail->desc->name, zflow_stream_dropped (stream), run->outputs[i].name);
        zflow_stream_destroy (&run->outputs[i].stream);
    }
    free (run->outputs);
    zflow__linefile_close (&run->file);
    zflow_msg_destroy (&run->msg);
    zflow_msg_destroy (&run->copy);
    zflow_msg_destroy (&run->wrapped);
    zflow__hop_pool_put (run->desc->pool, run->used, run->n_used);
    zflow__hop_pool_put (run->desc->pool, run->fresh, run->n_fresh);
    zflow_msg_destroy (&run->holder);
    zflow_meta_destroy (&run->meta);
    zflow_key_destroy (&run->key);
    free (run->steps);
    free (run);
    *run_p = NULL;
}

static s_run_t *s_run_new (zflow__stage_t *desc, zflow_actor_t *base)
{
    s_run_t *run = (s_run_t *) zmalloc (sizeof (s_run_t));
    if (!run)
        return NULL;
    run->desc = desc;
    run->base = base;
    run->counters = zflow_actor_counters (base);
    run->retry_timer = run->synth_timer = -1;
    run->n_steps = 1 + (desc->chain ? zlistx_size (desc->chain) : 0);
    run->steps = (s_step_t *) zmalloc (run->n_steps * sizeof (s_step_t));
    if (!run->steps) {
        free (run);
        return NULL;
    }
    run->steps[0].desc = desc;
    run->steps[0].counters = run->counters;
    zflow__stage_t *member = desc->chain ? (zflow__stage_t *) zlistx_first (desc->chain) : NULL;
    for (size_t k = 1; k < run->n_steps; k++) {
        run->steps[k].desc = member;
        run->steps[k].counters = &run->steps[k].own;
        member = (zflow__stage_t *) zlistx_next (desc->chain);
    }
    run->tail = &run->steps[run->n_steps - 1];
    run->msg = zflow_msg_new ();
    run->copy = zflow_msg_new ();
    run->wrapped = zflow_msg_new ();
    run->holder = zflow_msg_new ();
    run->meta = zflow_meta_new ();
    if (run->meta && desc->kind == ZFLOW__STAGE_SOURCE) {
        zflow_meta_set_source (run->meta, desc->name); //  s_wrap sets the rest
        run->templated = zflow__meta_template_init (&run->template, run->meta) == 0;
    }
    run->key = desc->kind == ZFLOW__STAGE_SYNTH ? zflow_key_new ("synthetic", "events", NULL)
                                                : zflow_key_new ("zflow", desc->name, NULL);
    if (!run->msg || !run->copy || !run->wrapped || !run->holder || !run->meta || !run->key ||
        s_open_outputs (run) || s_open_input (run))
        s_run_destroy (&run);
    return run;
}

//  ---------------------------------------------------------------------
//  Commands

//  Waits until each output is at its low watermark (all: empty).
static int s_flush_outputs (s_run_t *run, int64_t deadline, bool all)
{
    s_hop_flush_all (run);
    for (size_t i = 0; i < run->n_outputs; i++) {
        s_output_t *out = &run->outputs[i];
        if (all)
            zflow_stream_set_write_limits (out->stream, 1, 1);
        int64_t left = deadline - zclock_mono ();
        int rc = zflow_stream_drain (out->stream, left > 0 ? (int) left : 0);
        if (rc)
            return rc;
        if (out->above) {
            out->above = false;
            run->blocked--;
        }
    }
    return 0;
}

//  Stops taking input (a source: stops reading its socket), passes on
//  what is in flight and empties the outputs. Returns 0 or a zflow code.
static int s_drain (s_run_t *run, int timeout_ms)
{
    zloop_t *loop = zflow_actor_loop (run->base);
    int64_t deadline = zclock_mono () + timeout_ms;
    if (run->synth_timer >= 0)
        zloop_timer_end (loop, run->synth_timer);
    if (run->retry_timer >= 0)
        zloop_timer_end (loop, run->retry_timer);
    run->synth_timer = run->retry_timer = -1;
    run->draining = true;
    for (size_t i = 0; i < run->n_outputs; i++)
        zflow_stream_detach (run->outputs[i].stream);
    int rc = 0;
    if (run->input) {
        //  A source also takes what its socket holds already: the peer
        //  sent it, so it is in flight too. The deadline bounds a peer
        //  that never stops sending.
        zflow_stream_detach (run->input);
        while (rc == 0 && zclock_mono () < deadline &&
               zflow_stream_read (run->input, run->msg, 0) == 0) {
            s_handle_input (run);
            if (run->file)
                rc = zflow__linefile_flush (run->file, deadline, S_FILE_HIGH);
            else if (run->blocked)
                rc = s_flush_outputs (run, deadline, false);
        }
    }
    if (rc == 0)
        rc = s_flush_outputs (run, deadline, true);
    if (rc == 0 && run->file)
        rc = zflow__linefile_flush (run->file, deadline, 0);
    run->stopped = true;
    if (run->file)
        s_file_sync (run); //  a tail left by a timeout: the loop keeps writing it
    s_update_depth (run);
    return rc;
}

//  Returns the bound endpoints of the user stream of the head, or of the
//  chained sink called name (NULL: the head), comma-separated, or NULL.
static char *s_bindings (s_run_t *run, const char *name)
{
    zflow__stage_t *desc = name ? run->tail->desc : run->desc;
    if (name && !streq (desc->name, name))
        return NULL;
    zflow_stream_t *stream = desc->kind == ZFLOW__STAGE_SOURCE ? run->input
                             : desc->kind == ZFLOW__STAGE_SINK && run->n_outputs
                                 ? run->outputs[0].stream
                                 : NULL;
    if (!stream)
        return NULL;
    char *list = NULL;
    for (const char *ep = (const char *) zlistx_first (zflow_stream_bindings (stream)); ep;
         ep = (const char *) zlistx_next (zflow_stream_bindings (stream))) {
        char *more = list ? zsys_sprintf ("%s,%s", list, ep) : strdup (ep);
        free (list);
        list = more;
    }
    return list;
}

static int s_on_command (zflow_actor_t *base, const char *command, zmsg_t *request, void *arg)
{
    s_run_t *run = (s_run_t *) arg;
    zsock_t *pipe = zflow_actor_pipe (base);
    if (streq (command, "BINDINGS")) {
        char *name = zmsg_popstr (request);
        char *list = s_bindings (run, name);
        zstr_free (&name);
        zstr_sendx (pipe, "BINDINGS", list ? list : "", NULL);
        free (list);
    } else if (streq (command, "DONE")) {
        bool done = run->desc->kind == ZFLOW__STAGE_SYNTH && run->desc->count &&
                    run->generated >= run->desc->count;
        zstr_sendx (pipe, "DONE", done ? "1" : "0", NULL);
    } else if (streq (command, "DRAIN")) {
        char *text = zmsg_popstr (request);
        long timeout = text ? strtol (text, NULL, 10) : 1000;
        zstr_free (&text);
        char code[16];
        snprintf (code, sizeof (code), "%d", s_drain (run, (int) timeout));
        zstr_sendx (pipe, "DRAIN", code, NULL);
    } else
        zsys_warning ("%s: unknown command '%s' ignored", run->desc->name, command);
    return 0;
}

//  Adds a counter of step (prefixed "chain/<name>/" for a chained one).
static void s_stats_add (zmsg_t *reply, s_step_t *step, bool chained, const char *name,
                         uint64_t value)
{
    char full[400];
    if (chained)
        snprintf (full, sizeof (full), ZFLOW__CHAIN_STATS "%s/%s", step->desc->name, name);
    zflow_actor_stats_add (reply, chained ? full : name, value);
}

//  Adds the counters of each step but the standard ones of the head, which
//  the base adds: chained stages report what they would on their own.
static void s_on_stats (zflow_actor_t *base, zmsg_t *reply, void *arg)
{
    (void) base;
    s_run_t *run = (s_run_t *) arg;
    for (size_t k = 0; k < run->n_steps; k++) {
        s_step_t *step = &run->steps[k];
        bool chained = k > 0;
        if (chained) {
            s_stats_add (reply, step, true, "msgs_in", step->own.msgs_in);
            s_stats_add (reply, step, true, "bytes_in", step->own.bytes_in);
            s_stats_add (reply, step, true, "msgs_out", step->own.msgs_out);
            s_stats_add (reply, step, true, "bytes_out", step->own.bytes_out);
            s_stats_add (reply, step, true, "drops", step->own.drops);
            s_stats_add (reply, step, true, "queue_depth", 0);
        }
        s_stats_add (reply, step, chained, "filtered", step->filtered);
        s_stats_add (reply, step, chained, "errors", step->errors);
        s_stats_add (reply, step, chained, "pauses",
                     !chained && run->input ? zflow_stream_pauses (run->input) : 0);
        if (step->desc->kind == ZFLOW__STAGE_SYNTH)
            s_stats_add (reply, step, chained, "generated", run->generated);
        char name[300];
        if (k + 1 < run->n_steps) {
            //  the link to the next step that chaining saved drops nothing
            snprintf (name, sizeof (name), "drops.%s", run->steps[k + 1].desc->name);
            s_stats_add (reply, step, chained, name, 0);
        } else
            for (size_t i = 0; i < run->n_outputs; i++) {
                snprintf (name, sizeof (name), "drops.%s", run->outputs[i].name);
                s_stats_add (reply, step, chained, name, run->outputs[i].drops);
            }
    }
}

//  ---------------------------------------------------------------------
//  The actor

void zflow__stage_actor (zsock_t *pipe, void *args)
{
    //  Signals go to the thread that owns the pipeline, which drains the
    //  stages in order; a stage must not stop by itself on Ctrl-C.
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGINT);
    sigaddset (&signals, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &signals, NULL);

    zflow__stage_t *desc = (zflow__stage_t *) args;
    zflow_actor_t *base = zflow_actor_new (pipe, desc->name);
    if (!base) {
        zsock_signal (pipe, 0);
        zsock_signal (pipe, 1);
        return;
    }
    s_run_t *run = s_run_new (desc, base);
    if (!run) {
        zflow_actor_ready (base, -1);
        zflow_actor_destroy (&base);
        return;
    }
    zloop_set_nonstop (zflow_actor_loop (base), true);
    zflow_actor_set_command_handler (base, s_on_command, run);
    zflow_actor_set_stats_handler (base, s_on_stats, run);
    zflow_actor_ready (base, 0);
    zflow_actor_run (base);
    s_run_destroy (&run);
    zflow_actor_destroy (&base);
}

const char *zflow__stage_kind_name (zflow__stage_kind_t kind)
{
    static const char *names[] = {"source", "source", "merge", "map",
                                  "filter", "sink",   "sink",  "sink"};
    return (unsigned) kind < 8 ? names[kind] : "unknown";
}
