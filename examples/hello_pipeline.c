/*  =========================================================================
    hello_pipeline - the README's example: a synthetic honeypot feed, keep
    the events that have hashes, print them as JSON lines

        hello_pipeline      (prints 10 of 30 events, then exits 0)

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include <zflow.h>

int main (void)
{
    zflow_pipeline_t *p = zflow_pipeline_new (&(zflow_pipeline_config_t){.name = "hello"}, NULL);
    zflow_pipeline_source_synthetic (p, "feed", 0, 30);     //  30 events, as fast as taken
    zflow_pipeline_filter_nonempty (p, "hashes", "hashes"); //  one in three has hashes
    zflow_pipeline_sink_file (p, "stdout", "-");            //  JSON lines on stdout
    if (zflow_pipeline_start (p)) {                         //  reports any builder error
        fprintf (stderr, "hello: %s\n", zflow_pipeline_error_text (p));
        zflow_pipeline_destroy (&p);
        return 1;
    }
    while (!zflow_pipeline_sources_done (p))
        zclock_sleep (10);
    int rc = zflow_pipeline_stop (p, 5000); //  drains what is in flight
    zflow_pipeline_destroy (&p);
    return rc ? 1 : 0;
}
