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
             "usage: zflow help [TYPE | --all] [--markdown]\n"
             "\n"
             "Lists the stage types a configuration file can use, or the options of one\n"
             "(from the same table the loader checks files with). Every section also takes\n"
             "'type' and, for all but sources, 'input' (sections it reads, comma-separated).\n");
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
        const zflow_cli_adapter_t *adapter =
            streq (type, "zflow") ? &zflow_cli_global : zflow_cli_adapter (type);
        if (!adapter) {
            fprintf (stderr, "zflow help: unknown type '%s' (see: zflow help)\n", type);
            return ZFLOW_EXIT_USAGE;
        }
        zflow_cli_options_print (adapter, stdout, markdown);
        return ZFLOW_EXIT_OK;
    }
    if (all) {
        zflow_cli_options_print (&zflow_cli_global, stdout, markdown);
        for (size_t i = 0; zflow_cli_adapter_at (i); i++)
            zflow_cli_options_print (zflow_cli_adapter_at (i), stdout, markdown);
        return ZFLOW_EXIT_OK;
    }
    printf ("stage types (zflow help TYPE for options; zflow help zflow for run settings):\n\n");
    for (size_t i = 0; zflow_cli_adapter_at (i); i++) {
        const zflow_cli_adapter_t *adapter = zflow_cli_adapter_at (i);
        printf ("  %-10s %-7s %s\n", adapter->name, adapter->role, adapter->summary);
    }
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
