/*  =========================================================================
    pipeline_basic - the hpfeeds seed's aiostream example as a zflow
    pipeline in C

    The Python original merges the feeds of three brokers, decodes JSON,
    keeps the events that have hashes, re-encodes them and publishes them
    to another broker. Here the three "brokers" are three ZeroMQ PULL
    sources this program feeds itself, so it runs with nothing else:

        in1, in2, in3 -> merge -> hashes -> tag (a C callback) -> reencode
            -> out (PUSH, the "other channel") and stdout (JSON lines)

    Run it: ./pipeline_basic   (prints the kept events, then each stage's
    counters)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <inttypes.h>
#include <string.h>

//  A user map: counts what it sees and drops (counted as an error) an
//  envelope without a key. Runs in the stage's own thread.
static int s_tag (zflow_msg_t *msg, void *arg)
{
    int *seen = (int *) arg;
    (*seen)++;
    size_t size;
    const char *key = (const char *) zflow_envelope_key (msg, &size);
    return key && size > 0 ? 0 : ZFLOW_EPROTO; //  drop (and count) a keyless one
}

int main (void)
{
    int seen = 0;
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "aiostream"}, NULL);
    //  three sources in a row form one group: merge takes them all
    zflow_pipeline_source (p, "in1", "pull", "inproc://broker-1", NULL);
    zflow_pipeline_source (p, "in2", "pull", "inproc://broker-2", NULL);
    zflow_pipeline_source (p, "in3", "pull", "inproc://broker-3", NULL);
    zflow_pipeline_merge (p, "merge");
    //  only interested in events that have hashes associated with them
    zflow_pipeline_filter_nonempty (p, "hashes", "hashes");
    zflow_pipeline_map (p, "tag", s_tag, &seen, NULL);
    zflow_pipeline_rekey (p, "rekey", "zflow", "bridged");
    //  re-encode the payload for transmission
    zflow_pipeline_encode (p, "reencode", ZFLOW_PIPELINE_MSGPACK);
    //  two sinks after one stage: both get every message
    zflow_pipeline_sink (p, "out", "push", "inproc://out-channel", NULL);
    zflow_pipeline_sink_file (p, "stdout", "-");
    if (zflow_pipeline_start (p)) {
        fprintf (stderr, "cannot start: %s\n", zflow_pipeline_error_text (p));
        zflow_pipeline_destroy (&p);
        return 1;
    }
    //  the other channel's reader
    zsock_t *out = zsock_new_pull (">inproc://out-channel");
    //  feed the three "brokers"
    const char *endpoints[] = {">inproc://broker-1", ">inproc://broker-2", ">inproc://broker-3"};
    for (int b = 0; b < 3; b++) {
        zsock_t *broker = zsock_new_push (endpoints[b]);
        for (int i = 0; i < 4; i++)
            zstr_sendf (broker, "{\"broker\":%d,\"n\":%d,\"hashes\":[%s]}", b + 1, i,
                        i % 2 ? "" : "\"d41d8cd98f00b204e9800998ecf8427e\"");
        zsock_destroy (&broker);
    }
    //  the other channel receives the 6 kept events (as msgpack envelopes)
    zsock_set_rcvtimeo (out, 2000);
    int received = 0;
    zmsg_t *msg;
    while (received < 6 && (msg = zmsg_recv (out))) {
        received++;
        zmsg_destroy (&msg);
    }
    zclock_sleep (100);
    for (size_t i = 0; i < zflow_pipeline_size (p); i++) {
        zhash_t *stats = zflow_pipeline_stage_stats (p, i, 1000);
        fprintf (stderr, "%-9s %-7s in %3" PRIu64 "  out %3" PRIu64 "  filtered %" PRIu64 "\n",
                 zflow_pipeline_stage_name (p, i), zflow_pipeline_stage_kind (p, i),
                 zflow_actor_stats_get (stats, "msgs_in"),
                 zflow_actor_stats_get (stats, "msgs_out"),
                 zflow_actor_stats_get (stats, "filtered"));
        zhash_destroy (&stats);
    }
    zflow_pipeline_stop (p, 2000); //  drains what is in flight
    fprintf (stderr, "other channel received %d, the C callback saw %d\n", received, seen);
    zflow_pipeline_destroy (&p);
    zsock_destroy (&out);
    return received == 6 ? 0 : 1;
}
