/*  =========================================================================
    test_hpfeeds_pool - the batch block pool: reuse, its bound, blocks
    given back in another thread, and blocks that outlive the pool (run
    under ASan, a block or pool lost or freed twice fails the test)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_hpfeeds_pool.h"
#include "zflow_testing.h"
#include <czmq.h>
#include <string.h>

//  Blocks come back on close, are reused, and at most max_cached are kept.
static void test_reuse (void)
{
    zflow_hpfeeds_pool_t *pool = zflow__hpfeeds_pool_new (64, 2);
    CHECK (pool);
    zmq_msg_t msgs[3];
    for (int index = 0; index < 3; index++) {
        CHECK (zflow__hpfeeds_pool_msg (pool, &msgs[index], "batch", 5) == 0);
        CHECK (zmq_msg_size (&msgs[index]) == 5);
        CHECK (memcmp (zmq_msg_data (&msgs[index]), "batch", 5) == 0);
    }
    CHECK (zflow__hpfeeds_pool_cached (pool) == 0);
    void *second = zmq_msg_data (&msgs[1]);
    zmq_msg_close (&msgs[0]);
    CHECK (zflow__hpfeeds_pool_cached (pool) == 1);
    zmq_msg_close (&msgs[1]);
    zmq_msg_close (&msgs[2]);
    CHECK (zflow__hpfeeds_pool_cached (pool) == 2); //  the third was freed
    //  a kept block is handed out again (last in, first out)
    zmq_msg_t again;
    CHECK (zflow__hpfeeds_pool_msg (pool, &again, "x", 1) == 0);
    CHECK (zflow__hpfeeds_pool_cached (pool) == 1);
    CHECK (zmq_msg_data (&again) == second);
    zmq_msg_close (&again);
    //  too big for a block: refused, nothing initialised
    uint8_t big[65] = {0};
    zmq_msg_t refused;
    CHECK (zflow__hpfeeds_pool_msg (pool, &refused, big, sizeof (big)) == -1);
    CHECK (zflow__hpfeeds_pool_msg (pool, &refused, big, 64) == 0);
    zmq_msg_close (&refused);
    zflow__hpfeeds_pool_destroy (&pool);
    CHECK (pool == NULL);
    zflow__hpfeeds_pool_destroy (&pool);
    zflow__hpfeeds_pool_destroy (NULL);
}

//  Blocks sent through inproc and closed in the receiving thread come
//  back; one still queued in a socket when the pool is destroyed is freed
//  with the socket, after the pool's owner has gone.
static void test_threads_and_lifetime (void)
{
    zflow_hpfeeds_pool_t *pool = zflow__hpfeeds_pool_new (1024, 4);
    zsock_t *push = zsock_new_push ("inproc://test-pool");
    zsock_t *pull = zsock_new_pull ("inproc://test-pool");
    CHECK (push && pull);
    for (int round = 0; round < 100; round++) {
        zmq_msg_t msg;
        char text[32];
        int size = snprintf (text, sizeof (text), "round %d", round);
        CHECK (zflow__hpfeeds_pool_msg (pool, &msg, text, (size_t) size) == 0);
        CHECK (zmq_msg_send (&msg, zsock_resolve (push), 0) == size);
        zmq_msg_t got;
        zmq_msg_init (&got);
        CHECK (zmq_msg_recv (&got, zsock_resolve (pull), 0) == size);
        CHECK (memcmp (zmq_msg_data (&got), text, (size_t) size) == 0);
        zmq_msg_close (&got);
    }
    //  one block in use the whole time: the pool kept the one that cycled
    CHECK (zflow__hpfeeds_pool_cached (pool) == 1);
    zmq_msg_t queued;
    CHECK (zflow__hpfeeds_pool_msg (pool, &queued, "left in the queue", 17) == 0);
    CHECK (zmq_msg_send (&queued, zsock_resolve (push), 0) == 17);
    zflow__hpfeeds_pool_destroy (&pool);
    zsock_destroy (&pull);
    zsock_destroy (&push); //  the queued block goes back to a pool nobody owns
}

int main (void)
{
    setvbuf (stdout, NULL, _IONBF, 0);
    printf ("test_hpfeeds_pool:\n");
    RUN (test_reuse);
    RUN (test_threads_and_lifetime);
    zsys_shutdown ();
    printf ("test_hpfeeds_pool: OK\n");
    return 0;
}
