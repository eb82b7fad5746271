/*  =========================================================================
    zflow_cli_options - option tables: parsing a section, printing help

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include <errno.h>
#include <string.h>
#include <strings.h>

static const char *s_type_names[] = {"string", "integer", "boolean", "choice"};

//  Returns the line of a zconfig path, or 0 if unknown.
static int s_line (zhash_t *lines, const char *section, const char *option)
{
    char path[512];
    if (option)
        snprintf (path, sizeof (path), "%s/%s", section, option);
    else
        snprintf (path, sizeof (path), "%s", section);
    return lines ? (int) (intptr_t) zhash_lookup (lines, path) : 0;
}

//  True if name is one of the '|'-separated words of list; sets *index.
static bool s_in_list (const char *list, const char *name, int *index)
{
    size_t size = strlen (name);
    int at = 0;
    for (const char *word = list; word; at++) {
        const char *end = strchr (word, '|');
        size_t length = end ? (size_t) (end - word) : strlen (word);
        if (length == size && strncmp (word, name, size) == 0) {
            if (index)
                *index = at;
            return true;
        }
        word = end ? end + 1 : NULL;
    }
    return false;
}

static const zflow_cli_option_t *s_find (const zflow_cli_adapter_t *adapter, const char *name)
{
    for (const zflow_cli_option_t *option = adapter->options; option->name; option++)
        if (streq (option->name, name))
            return option;
    return NULL;
}

//  Converts value into the field for option. Returns NULL, or a static
//  description of what is wrong.
static const char *s_set (const zflow_cli_option_t *option, const char *value, void *field)
{
    switch (option->type) {
    case ZFLOW_CLI_STRING:
        *(const char **) field = value;
        return NULL;
    case ZFLOW_CLI_INT: {
        char *end = NULL;
        errno = 0;
        long long number = strtoll (value, &end, 10);
        if (!*value || *end || errno)
            return "is not an integer";
        if (number < 0)
            return "must not be negative";
        *(int64_t *) field = number;
        return NULL;
    }
    case ZFLOW_CLI_BOOL:
        if (s_in_list ("true|yes|on|1", value, NULL))
            *(bool *) field = true;
        else if (s_in_list ("false|no|off|0", value, NULL))
            *(bool *) field = false;
        else
            return "is not a boolean (true or false)";
        return NULL;
    case ZFLOW_CLI_ENUM:
        if (!s_in_list (option->choices, value, (int *) field))
            return "is not one of the choices";
        return NULL;
    }
    return "has an unknown type";
}

int zflow_cli_options_parse (const zflow_cli_adapter_t *adapter, zconfig_t *section,
                             const char *file, zhash_t *lines, const char *skip, void *config,
                             char *err, size_t errsize)
{
    memset (config, 0, adapter->config_size);
    const char *name = zconfig_name (section);
    for (zconfig_t *child = zconfig_child (section); child; child = zconfig_next (child)) {
        const char *option = zconfig_name (child);
        if ((skip && s_in_list (skip, option, NULL)) || s_find (adapter, option))
            continue;
        snprintf (err, errsize,
                  "%s:%d: section '%s': unknown option '%s' for type '%s' (see: zflow help %s)",
                  file, s_line (lines, name, option), name, option, adapter->name, adapter->name);
        return -1;
    }
    for (const zflow_cli_option_t *option = adapter->options; option->name; option++) {
        zconfig_t *item = zconfig_locate (section, option->name);
        const char *value = item ? zconfig_value (item) : NULL;
        if (value && !*value && option->type != ZFLOW_CLI_STRING)
            value = NULL;
        if (!value && option->required) {
            snprintf (err, errsize, "%s:%d: section '%s': missing required option '%s' (%s)", file,
                      s_line (lines, name, NULL), name, option->name, option->help);
            return -1;
        }
        if (!value)
            value = option->fallback;
        const char *problem =
            value ? s_set (option, value, (char *) config + option->offset) : NULL;
        if (problem) {
            snprintf (err, errsize, "%s:%d: section '%s': option '%s': '%s' %s%s%s", file,
                      s_line (lines, name, option->name), name, option->name, value, problem,
                      option->choices ? " " : "", option->choices ? option->choices : "");
            return -1;
        }
    }
    return 0;
}

void zflow_cli_options_print (const zflow_cli_adapter_t *adapter, FILE *file, bool markdown)
{
    if (markdown) {
        fprintf (file, "`%s` (%s): %s\n\n", adapter->name, adapter->role, adapter->summary);
        fprintf (file, "| option | type | required | default | description |\n");
        fprintf (file, "|---|---|---|---|---|\n");
    } else {
        fprintf (file, "%s (%s): %s\n\n", adapter->name, adapter->role, adapter->summary);
        fprintf (file, "  %-14s %-8s %-9s %-12s %s\n", "OPTION", "TYPE", "REQUIRED", "DEFAULT",
                 "DESCRIPTION");
    }
    if (markdown && !adapter->options->name)
        fprintf (file, "| (none) | | | | |\n");
    for (const zflow_cli_option_t *option = adapter->options; option->name; option++) {
        const char *type = s_type_names[option->type];
        const char *fallback = option->fallback;
        if (markdown) {
            //  a '|' would split the Markdown cell: list choices with ", "
            char choices[128] = "";
            size_t at = 0;
            for (const char *c = option->choices; c && *c && at < sizeof (choices) - 3; c++) {
                if (*c == '|') {
                    choices[at++] = ',';
                    choices[at++] = ' ';
                } else
                    choices[at++] = *c;
            }
            choices[at] = 0;
            fprintf (file, "| `%s` | %s%s%s%s | %s | %s%s%s | %s |\n", option->name, type,
                     *choices ? " (" : "", choices, *choices ? ")" : "",
                     option->required ? "yes" : "no", fallback ? "`" : "",
                     fallback ? (*fallback ? fallback : "\"\"") : "", fallback ? "`" : "",
                     option->help);
        } else
            fprintf (file, "  %-14s %-8s %-9s %-12s %s\n", option->name,
                     option->type == ZFLOW_CLI_ENUM ? option->choices : type,
                     option->required ? "yes" : "no",
                     fallback ? (*fallback ? fallback : "\"\"") : "(none)", option->help);
    }
    fprintf (file, "\n");
}
