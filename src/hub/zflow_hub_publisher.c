/*  =========================================================================
    zflow_hub_publisher - publishes envelopes into a hub, under a key prefix

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hub_publisher.h"
#include "zflow_envelope.h"
#include "zflow_error.h"
#include "zflow_hub_internal.h"

//  How long destroy lets queued messages go out, in milliseconds.
#define S_LINGER 1000
//  Largest wire form of a key.
#define S_WIRE_MAX (ZFLOW_KEY_MAX_PARTS * (ZFLOW_KEY_MAX_PART + 1))

struct _zflow_hub_publisher_t {
    zflow_hub_t *hub;       //  the local hub (a reference), or NULL when remote
    zflow_stream_t *stream; //  XPUB socket connected to the hub's XSUB side
    zflow_msg_t *msg;       //  message being built, reused
    size_t prefix_parts;    //  components in the prefix
    size_t prefix_size;     //  bytes of the prefix wire form plus separator
    char wire[S_WIRE_MAX];  //  prefix wire form + separator, then the key
};

//  Waits for the hub's XSUB subscription: from then on nothing is lost.
static int s_wait_hub (zflow_hub_publisher_t *self, int timeout_ms)
{
    zflow_msg_t *msg = zflow_msg_new ();
    int rc = msg ? zflow_stream_read (self->stream, msg, timeout_ms) : ZFLOW_ENOMEM;
    if (rc == 0 &&
        (zflow_msg_part_size (msg, 0) < 1 || *(const char *) zflow_msg_data (msg, 0) != 1))
        rc = ZFLOW_EPROTO;
    zflow_msg_destroy (&msg);
    return rc;
}

static zflow_hub_publisher_t *s_new (zflow_hub_t *hub, const char *endpoint,
                                     const zflow_key_t *prefix, const zflow_hub_curve_t *curve,
                                     int timeout_ms, int *err_p)
{
    zflow_hub_publisher_t *self = (zflow_hub_publisher_t *) zmalloc (sizeof (*self));
    zsock_t *sock = zsock_new (ZMQ_XPUB);
    int err = self && sock ? 0 : ZFLOW_ENOMEM;
    if (!err) {
        int on = 1;
        zmq_setsockopt (zsock_resolve (sock), ZMQ_XPUB_NODROP, &on, sizeof (on));
        //  messages still queued when the publisher is destroyed get this long
        zsock_set_linger (sock, S_LINGER);
        if (curve && curve->cert && curve->server_public) {
            zcert_apply (curve->cert, sock);
            zsock_set_curve_serverkey (sock, curve->server_public);
        }
        if (zsock_connect (sock, "%s", endpoint) != 0)
            err = ZFLOW_EENDPOINT;
    }
    if (!err) {
        self->hub = hub;
        if (hub)
            zflow__hub_ref (hub); //  the struct outlives a hub destroyed first
        self->stream = zflow_stream_new_sock (&sock);
        self->msg = zflow_msg_new ();
        err = self->stream && self->msg ? 0 : ZFLOW_ENOMEM;
    }
    if (!err && prefix) {
        size_t size;
        const void *wire = zflow_key_wire (prefix, &size);
        memcpy (self->wire, wire, size);
        self->wire[size] = ZFLOW_KEY_SEP;
        self->prefix_size = size + 1;
        self->prefix_parts = zflow_key_size (prefix);
    }
    if (!err)
        err = s_wait_hub (self, timeout_ms);
    zsock_destroy (&sock);
    if (err)
        zflow_hub_publisher_destroy (&self);
    if (err_p)
        *err_p = err;
    return self;
}

zflow_hub_publisher_t *zflow_hub_publisher_new (zflow_hub_t *hub, const zflow_key_t *prefix,
                                                int *err_p)
{
    if (!hub) {
        if (err_p)
            *err_p = ZFLOW_EINVAL;
        return NULL;
    }
    return s_new (hub, zflow_hub_pub_endpoint (hub), prefix, NULL, 5000, err_p);
}

zflow_hub_publisher_t *zflow_hub_publisher_new_remote (const char *endpoint,
                                                       const zflow_key_t *prefix,
                                                       const zflow_hub_curve_t *curve,
                                                       int timeout_ms, int *err_p)
{
    if (!endpoint) {
        if (err_p)
            *err_p = ZFLOW_EINVAL;
        return NULL;
    }
    return s_new (NULL, endpoint, prefix, curve, timeout_ms, err_p);
}

void zflow_hub_publisher_destroy (zflow_hub_publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zflow_hub_publisher_t *self = *self_p;
    if (self->stream)
        zflow_stream_flush (self->stream, S_LINGER);
    zflow_stream_destroy (&self->stream);
    zflow_msg_destroy (&self->msg);
    zflow__hub_unref (&self->hub);
    free (self);
    *self_p = NULL;
}

//  Puts prefix + key in self->wire; returns its size or a negative error.
static int s_full_key (zflow_hub_publisher_t *self, const zflow_key_t *key)
{
    if (!key)
        return ZFLOW_EINVAL;
    if (self->prefix_parts + zflow_key_size (key) > ZFLOW_KEY_MAX_PARTS)
        return ZFLOW_ETOOBIG;
    size_t size;
    const void *wire = zflow_key_wire (key, &size);
    memcpy (self->wire + self->prefix_size, wire, size);
    return (int) (self->prefix_size + size);
}

int zflow_hub_publisher_publish (zflow_hub_publisher_t *self, const zflow_key_t *key,
                                 const void *data, size_t size)
{
    if (!self)
        return ZFLOW_EINVAL;
    int wire_size = s_full_key (self, key);
    if (wire_size < 0)
        return wire_size;
    int rc = zflow_envelope_encode (self->msg, self->wire, (size_t) wire_size, NULL, data, size);
    return rc ? rc : zflow_stream_write (self->stream, self->msg);
}

int zflow_hub_publisher_publish_msg (zflow_hub_publisher_t *self, const zflow_key_t *key,
                                     zflow_msg_t *payload)
{
    if (!self || !payload)
        return ZFLOW_EINVAL;
    int wire_size = s_full_key (self, key);
    int rc = wire_size < 0 ? wire_size
                           : zflow_envelope_wrap (payload, self->wire, (size_t) wire_size, NULL);
    if (rc) {
        zflow_msg_reset (payload);
        return rc;
    }
    return zflow_stream_write (self->stream, payload);
}

//  Replaces the key frame of envelope with prefix + key. Returns 0,
//  ZFLOW_ETOOBIG or ZFLOW_ENOMEM.
static int s_prefix_key (zflow_hub_publisher_t *self, zflow_msg_t *envelope)
{
    size_t size;
    const char *key = (const char *) zflow_envelope_key (envelope, &size);
    size_t parts = 1;
    for (size_t i = 0; i < size; i++)
        parts += key[i] == ZFLOW_KEY_SEP;
    if (self->prefix_parts + parts > ZFLOW_KEY_MAX_PARTS || self->prefix_size + size > S_WIRE_MAX)
        return ZFLOW_ETOOBIG;
    zmq_msg_t full;
    if (zmq_msg_init_size (&full, self->prefix_size + size))
        return ZFLOW_ENOMEM;
    memcpy (zmq_msg_data (&full), self->wire, self->prefix_size);
    memcpy ((char *) zmq_msg_data (&full) + self->prefix_size, key, size);
    zmq_msg_move ((zmq_msg_t *) zflow_msg_zmq (envelope, 0), &full);
    zmq_msg_close (&full);
    return 0;
}

int zflow_hub_publisher_forward (zflow_hub_publisher_t *self, zflow_msg_t *envelope)
{
    if (!self || !envelope)
        return ZFLOW_EINVAL;
    int rc = zflow_envelope_decode (envelope, NULL);
    if (rc == 0 && self->prefix_size)
        rc = s_prefix_key (self, envelope);
    if (rc) {
        zflow_msg_reset (envelope);
        return rc;
    }
    return zflow_stream_write (self->stream, envelope);
}

int zflow_hub_publisher_drain (zflow_hub_publisher_t *self, int timeout_ms)
{
    return self ? zflow_stream_drain (self->stream, timeout_ms) : ZFLOW_EINVAL;
}

int zflow_hub_publisher_flush (zflow_hub_publisher_t *self, int timeout_ms)
{
    return self ? zflow_stream_flush (self->stream, timeout_ms) : ZFLOW_EINVAL;
}

int zflow_hub_publisher_has_subscribers (zflow_hub_publisher_t *self, const zflow_key_t *key)
{
    if (!self)
        return ZFLOW_EINVAL;
    if (!self->hub)
        return ZFLOW_ENOTSUP;
    int wire_size = s_full_key (self, key);
    if (wire_size < 0)
        return wire_size;
    int err = 0;
    zflow_key_t *full = zflow_key_decode (self->wire, (size_t) wire_size, &err);
    if (!full)
        return err;
    int rc = zflow_hub_has_subscribers (self->hub, full) ? 1 : 0;
    zflow_key_destroy (&full);
    return rc;
}

zflow_stream_t *zflow_hub_publisher_stream (zflow_hub_publisher_t *self)
{
    return self->stream;
}
