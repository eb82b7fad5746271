/*  =========================================================================
    cli_hub - a zflow hub bound on tcp:// for the zflow command's tests

    Binds a hub "cli" on tcp://127.0.0.1:* (publishers' and subscribers'
    sides), prints "PUB <endpoint> SUB <endpoint>" on stdout, and runs
    until stdin is closed, then prints the hub's counters on stderr.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow.h"
#include <stdio.h>

int main (void)
{
    zflow_hub_t *hub = zflow_hub_new (&(zflow_hub_config_t){.name = "cli"}, NULL);
    if (!hub || zflow_hub_bind (hub, "tcp://127.0.0.1:*", "tcp://127.0.0.1:*")) {
        fprintf (stderr, "cli_hub: cannot bind\n");
        zflow_hub_destroy (&hub);
        return 1;
    }
    printf ("PUB %s SUB %s\n", zflow_hub_bound_pub (hub), zflow_hub_bound_sub (hub));
    fflush (stdout);
    char line[256];
    while (fgets (line, sizeof (line), stdin))
        ;
    zhash_t *stats = zflow_hub_stats (hub, 1000);
    for (const char *value = stats ? (const char *) zhash_first (stats) : NULL; value;
         value = (const char *) zhash_next (stats))
        fprintf (stderr, "%s %s\n", zhash_cursor (stats), value);
    zhash_destroy (&stats);
    zflow_hub_destroy (&hub);
    return 0;
}
