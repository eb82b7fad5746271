/*  =========================================================================
    zflow_cli_help - zflow help [TYPE] and zflow check FILE

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <string.h>

static void s_help_usage (FILE *file)
{
    fprintf (file,
             "usage: zflow help [NAME | --all] [--markdown]\n"
             "\n"
             "Lists the adapters (the stage types a configuration file can use, and the URL\n"
             "schemes of zflow pub / sub), or the options of one (from the same table the\n"
             "loader checks files with; zflow pub / sub take them as --name value). Every\n"
             "section also takes 'type' and, for all but sources, 'input' (sections it\n"
             "reads, comma-separated); an adapter that is both a source and a sink is a sink\n"
             "in a section with 'input'.\n");
}

//  One adapter in the list: name, its stage type names, roles, summary.
static void s_list_line (const zflow_adapter_t *adapter, bool markdown)
{
    char types[160] = "", roles[32] = "";
    int all = zflow_adapter_roles (adapter);
    snprintf (types, sizeof (types), "%s", adapter->aliases ? adapter->aliases : adapter->name);
    //  "hpfeeds_sub=source|hpfeeds_pub=sink" -> "hpfeeds_sub hpfeeds_pub"
    char *out = types;
    for (const char *in = types; *in;) {
        if (*in == '=')
            in += strcspn (in, "|");
        else
            *out++ = *in == '|' ? ' ' : *in, in++;
    }
    *out = 0;
    snprintf (roles, sizeof (roles), "%s%s%s", all & ZFLOW_ADAPTER_SOURCE ? "source " : "",
              all & ZFLOW_ADAPTER_STAGE ? "stage " : "", all & ZFLOW_ADAPTER_SINK ? "sink " : "");
    roles[strlen (roles) - 1] = 0;
    if (markdown)
        printf ("| `%s` | %s | %s | %s | %s |\n", adapter->name, types, roles,
                adapter->url_form ? adapter->url_form : "", adapter->summary);
    else
        printf ("  %-10s %-11s %-25s %s\n", adapter->name, roles, types, adapter->summary);
}

int zflow_cli_help (int argc, char **argv)
{
    bool markdown = false, all = false;
    const char *type = NULL;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            s_help_usage (stdout);
            return ZFLOW_EXIT_OK;
        } else if (streq (argv[i], "--markdown"))
            markdown = true;
        else if (streq (argv[i], "--all"))
            all = true;
        else if (argv[i][0] != '-' && !type)
            type = argv[i];
        else {
            fprintf (stderr, "zflow help: bad argument '%s'\n", argv[i]);
            return ZFLOW_EXIT_USAGE;
        }
    }
    if (type) {
        const zflow_adapter_t *adapter =
            streq (type, "zflow") ? &zflow_cli_global : zflow_adapter_find (type);
        if (!adapter) {
            fprintf (stderr, "zflow help: unknown type '%s' (see: zflow help)\n", type);
            return ZFLOW_EXIT_USAGE;
        }
        zflow_adapter_print (adapter, stdout, markdown);
        return ZFLOW_EXIT_OK;
    }
    if (all) {
        zflow_adapter_print (&zflow_cli_global, stdout, markdown);
        for (size_t i = 0; zflow_adapter_at (i); i++)
            zflow_adapter_print (zflow_adapter_at (i), stdout, markdown);
        return ZFLOW_EXIT_OK;
    }
    if (markdown) {
        printf ("| adapter | stage types | roles | URL | summary |\n|---|---|---|---|---|\n");
        for (size_t i = 0; zflow_adapter_at (i); i++)
            s_list_line (zflow_adapter_at (i), true);
        return ZFLOW_EXIT_OK;
    }
    printf ("adapters (zflow help NAME for options; zflow help zflow for run settings):\n\n");
    for (size_t i = 0; zflow_adapter_at (i); i++)
        s_list_line (zflow_adapter_at (i), false);
    return ZFLOW_EXIT_OK;
}

int zflow_cli_check (int argc, char **argv)
{
    const char *file = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (streq (argv[i], "-h") || streq (argv[i], "--help")) {
            printf ("usage: zflow check FILE [--quiet]\n\n"
                    "Checks FILE as zflow run would, without starting anything. Prints each\n"
                    "error as FILE:LINE: ... on stderr. Exit codes: 0 valid, 2 usage error,\n"
                    "3 invalid.\n");
            return ZFLOW_EXIT_OK;
        } else if (streq (argv[i], "-q") || streq (argv[i], "--quiet"))
            quiet = true;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf (stderr, "zflow check: bad argument '%s'\n", argv[i]);
            return ZFLOW_EXIT_USAGE;
        }
    }
    if (!file) {
        fprintf (stderr, "zflow check: which file? (usage: zflow check FILE)\n");
        return ZFLOW_EXIT_USAGE;
    }
    zflow_pipeline_t *pipeline = NULL;
    zconfig_t *config = NULL;
    zflow_cli_global_t global;
    if (zflow_cli_load (file, &pipeline, &global, &config))
        return ZFLOW_EXIT_CONFIG;
    if (!quiet)
        fprintf (stderr, "%s: ok, %zu stages\n", file, zflow_pipeline_size (pipeline));
    zflow_pipeline_destroy (&pipeline);
    zconfig_destroy (&config);
    return ZFLOW_EXIT_OK;
}
