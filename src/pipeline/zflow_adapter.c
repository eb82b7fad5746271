/*  =========================================================================
    zflow_adapter - the adapter registry and the shared option parser

    It lives with the pipeline because an adapter is a way to add pipeline
    stages: the descriptor's constructors take a zflow_pipeline_t, and the
    core (messages, streams, the hub) has no use for it.

    The built-in adapters come from the list in zflow_adapter_list.h; users'
    adapters go into a bounded table behind a mutex. Lookups take the mutex
    too: registration may happen while another thread loads a file.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_adapter.h"
#include "zflow_adapter_list.h"
#include "zflow_error.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>

#define S_ADAPTER_ENTRY(name) &zflow__adapter_##name,
//  The built-in adapters, in listing order.
static const zflow_adapter_t *const s_builtin[] = {ZFLOW__ADAPTERS (S_ADAPTER_ENTRY)};
#undef S_ADAPTER_ENTRY

#define S_BUILTINS (sizeof (s_builtin) / sizeof (s_builtin[0]))

//  Users' adapters, in registration order (borrowed).
static const zflow_adapter_t *s_user[ZFLOW_ADAPTER_USER_MAX];
//  Number of users' adapters.
static size_t s_users;
//  Guards s_user and s_users.
static pthread_mutex_t s_mutex = PTHREAD_MUTEX_INITIALIZER;

static const char *s_type_names[] = {"string", "integer", "boolean", "choice"};

//  True if word (size bytes) is one of the '|'-separated words of list
//  (a word may carry "=suffix", ignored); sets *index and *suffix.
static bool s_in_list_n (const char *list, const char *word, size_t size, int *index,
                         const char **suffix)
{
    int at = 0;
    for (const char *item = list; item; at++) {
        const char *end = strchr (item, '|');
        size_t length = end ? (size_t) (end - item) : strlen (item);
        const char *equal = memchr (item, '=', length);
        size_t name_length = equal ? (size_t) (equal - item) : length;
        if (name_length == size && strncmp (item, word, size) == 0) {
            if (index)
                *index = at;
            if (suffix)
                *suffix = equal ? equal + 1 : NULL;
            return true;
        }
        item = end ? end + 1 : NULL;
    }
    return false;
}

static bool s_in_list (const char *list, const char *word, int *index)
{
    return list && s_in_list_n (list, word, strlen (word), index, NULL);
}

//  Index of adapter slot index across both tables, or NULL. Call locked.
static const zflow_adapter_t *s_at (size_t index)
{
    if (index < S_BUILTINS)
        return s_builtin[index];
    index -= S_BUILTINS;
    return index < s_users ? s_user[index] : NULL;
}

//  True when adapter answers to name (its name, an alias or a scheme).
static bool s_answers (const zflow_adapter_t *adapter, const char *name)
{
    return streq (adapter->name, name) || s_in_list (adapter->aliases, name, NULL) ||
           s_in_list (adapter->schemes, name, NULL);
}

const zflow_adapter_t *zflow_adapter_find (const char *name)
{
    if (!name)
        return NULL;
    const zflow_adapter_t *found = NULL;
    pthread_mutex_lock (&s_mutex);
    for (size_t i = 0; !found && s_at (i); i++)
        if (s_answers (s_at (i), name))
            found = s_at (i);
    pthread_mutex_unlock (&s_mutex);
    return found;
}

const zflow_adapter_t *zflow_adapter_find_url (const char *url, int role)
{
    const char *colon = url ? strstr (url, "://") : NULL;
    if (!colon || colon == url)
        return NULL;
    size_t size = (size_t) (colon - url);
    const zflow_adapter_t *found = NULL;
    pthread_mutex_lock (&s_mutex);
    for (size_t i = 0; !found && s_at (i); i++) {
        const zflow_adapter_t *adapter = s_at (i);
        if (adapter->schemes && s_in_list_n (adapter->schemes, url, size, NULL, NULL) &&
            (role == 0 || (zflow_adapter_roles (adapter) & role)))
            found = adapter;
    }
    pthread_mutex_unlock (&s_mutex);
    return found;
}

const zflow_adapter_t *zflow_adapter_at (size_t index)
{
    pthread_mutex_lock (&s_mutex);
    const zflow_adapter_t *adapter = s_at (index);
    pthread_mutex_unlock (&s_mutex);
    return adapter;
}

//  True when one of the '|'-separated words of names (suffixes ignored)
//  is taken by an adapter already. Call locked.
static bool s_taken (const char *names)
{
    for (const char *item = names; item && *item;) {
        size_t length = strcspn (item, "|=");
        char word[128];
        snprintf (word, sizeof (word), "%.*s", (int) length, item);
        for (size_t i = 0; s_at (i); i++)
            if (s_answers (s_at (i), word))
                return true;
        item = strchr (item, '|');
        item = item ? item + 1 : NULL;
    }
    return false;
}

int zflow_adapter_register (const zflow_adapter_t *adapter)
{
    if (!adapter || !adapter->name || !*adapter->name || !adapter->options ||
        !zflow_adapter_roles (adapter))
        return ZFLOW_EINVAL;
    pthread_mutex_lock (&s_mutex);
    int rc = 0;
    if (s_taken (adapter->name) || s_taken (adapter->aliases) || s_taken (adapter->schemes))
        rc = ZFLOW_ECONFIG;
    else if (s_users == ZFLOW_ADAPTER_USER_MAX)
        rc = ZFLOW_EFULL;
    else
        s_user[s_users++] = adapter;
    pthread_mutex_unlock (&s_mutex);
    return rc;
}

int zflow_adapter_roles (const zflow_adapter_t *adapter)
{
    if (!adapter)
        return 0;
    return (adapter->source ? ZFLOW_ADAPTER_SOURCE : 0) | (adapter->sink ? ZFLOW_ADAPTER_SINK : 0) |
           (adapter->stage ? ZFLOW_ADAPTER_STAGE : 0);
}

int zflow_adapter_role (const zflow_adapter_t *adapter, const char *type)
{
    const char *suffix = NULL;
    if (adapter && type && adapter->aliases &&
        s_in_list_n (adapter->aliases, type, strlen (type), NULL, &suffix) && suffix) {
        size_t size = strcspn (suffix, "|");
        if (size == 6 && strncmp (suffix, "source", 6) == 0)
            return ZFLOW_ADAPTER_SOURCE;
        if (size == 4 && strncmp (suffix, "sink", 4) == 0)
            return ZFLOW_ADAPTER_SINK;
        if (size == 5 && strncmp (suffix, "stage", 5) == 0)
            return ZFLOW_ADAPTER_STAGE;
    }
    int roles = zflow_adapter_roles (adapter);
    return roles == ZFLOW_ADAPTER_SOURCE || roles == ZFLOW_ADAPTER_SINK ||
                   roles == ZFLOW_ADAPTER_STAGE
               ? roles
               : 0;
}

const char *zflow_adapter_role_name (int role)
{
    return role == ZFLOW_ADAPTER_SOURCE  ? "source"
           : role == ZFLOW_ADAPTER_SINK  ? "sink"
           : role == ZFLOW_ADAPTER_STAGE ? "stage"
                                         : "?";
}

//  ---------------------------------------------------------------------
//  Options

//  The option named name that applies to role, or NULL.
static const zflow_adapter_option_t *s_option (const zflow_adapter_t *adapter, int role,
                                               const char *name)
{
    for (const zflow_adapter_option_t *option = adapter->options; option->name; option++)
        if (streq (option->name, name) && (!option->roles || !role || (option->roles & role)))
            return option;
    return NULL;
}

//  Converts value into the field for option. Returns NULL, or a static
//  description of what is wrong.
static const char *s_set (const zflow_adapter_option_t *option, const char *value, void *field)
{
    switch (option->type) {
    case ZFLOW_ADAPTER_STRING:
        *(const char **) field = value;
        return NULL;
    case ZFLOW_ADAPTER_INT: {
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
    case ZFLOW_ADAPTER_BOOL:
        if (s_in_list ("true|yes|on|1", value, NULL))
            *(bool *) field = true;
        else if (s_in_list ("false|no|off|0", value, NULL))
            *(bool *) field = false;
        else
            return "is not a boolean (true or false)";
        return NULL;
    case ZFLOW_ADAPTER_ENUM:
        if (!option->choices || !s_in_list (option->choices, value, (int *) field))
            return "is not one of the choices";
        return NULL;
    }
    return "has an unknown type";
}

int zflow_adapter_parse (const zflow_adapter_t *adapter, const char *type, int role,
                         zconfig_t *section, const char *skip, void *config, const char **option_p,
                         char *err, size_t errsize)
{
    if (option_p)
        *option_p = NULL;
    if (!adapter || !section || !config) {
        snprintf (err, errsize, "invalid argument");
        return -1;
    }
    type = type ? type : adapter->name;
    memset (config, 0, adapter->config_size);
    for (zconfig_t *child = zconfig_child (section); child; child = zconfig_next (child)) {
        const char *name = zconfig_name (child);
        if (s_in_list (skip, name, NULL) || s_option (adapter, role, name))
            continue;
        if (option_p)
            *option_p = name;
        snprintf (err, errsize, "unknown option '%s' for type '%s' (see: zflow help %s)", name,
                  type, adapter->name);
        return -1;
    }
    for (const zflow_adapter_option_t *option = adapter->options; option->name; option++) {
        if (role && option->roles && !(option->roles & role))
            continue;
        zconfig_t *item = zconfig_locate (section, option->name);
        const char *value = item ? zconfig_value (item) : NULL;
        if (value && !*value && option->type != ZFLOW_ADAPTER_STRING)
            value = NULL;
        if (!value && option->required) {
            snprintf (err, errsize, "missing required option '%s' (%s)", option->name,
                      option->help);
            return -1;
        }
        if (!value)
            value = option->fallback;
        const char *problem =
            value ? s_set (option, value, (char *) config + option->offset) : NULL;
        if (problem) {
            if (option_p)
                *option_p = option->name;
            snprintf (err, errsize, "option '%s': '%s' %s%s%s", option->name, value, problem,
                      option->choices ? " " : "", option->choices ? option->choices : "");
            return -1;
        }
    }
    return 0;
}

int zflow_adapter_args (const zflow_adapter_t *adapter, int role, zconfig_t *section, int argc,
                        char **argv, char *err, size_t errsize)
{
    if (!adapter || !section) {
        snprintf (err, errsize, "invalid argument");
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        char name[64];
        const char *arg = argv[i];
        if (strncmp (arg, "--", 2) || strlen (arg) >= sizeof (name) + 2) {
            snprintf (err, errsize, "bad argument '%s'", arg);
            return -1;
        }
        snprintf (name, sizeof (name), "%s", arg + 2);
        for (char *c = name; *c; c++)
            *c = *c == '-' ? '_' : *c;
        const zflow_adapter_option_t *option = s_option (adapter, role, name);
        if (!option) {
            snprintf (err, errsize, "unknown option '%s' for %s (see: zflow help %s)", arg,
                      adapter->name, adapter->name);
            return -1;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (option->type == ZFLOW_ADAPTER_BOOL &&
            (!value || !s_in_list ("true|yes|on|1|false|no|off|0", value, NULL)))
            value = "true"; //  "--insecure" alone
        else if (!value) {
            snprintf (err, errsize, "option '%s' needs a value", arg);
            return -1;
        } else
            i++;
        zconfig_t *item = zconfig_locate (section, name);
        const char *before = item ? zconfig_value (item) : NULL;
        if (before && *before && option->type == ZFLOW_ADAPTER_STRING) {
            char *joined = zsys_sprintf ("%s\n%s", before, value);
            zconfig_set_value (item, "%s", joined);
            zstr_free (&joined);
        } else
            zconfig_put (section, name, value);
    }
    return 0;
}

//  Writes the choices of an enum with ", " between them (a '|' would split
//  a Markdown cell).
static void s_choices (const char *choices, char *text, size_t size)
{
    size_t at = 0;
    for (const char *c = choices; c && *c && at + 3 < size; c++) {
        if (*c == '|') {
            text[at++] = ',';
            text[at++] = ' ';
        } else
            text[at++] = *c;
    }
    text[at] = 0;
}

//  The roles as text ("source, sink").
static void s_roles_text (int roles, char *text, size_t size)
{
    snprintf (text, size, "%s%s%s%s%s", roles & ZFLOW_ADAPTER_SOURCE ? "source" : "",
              (roles & ZFLOW_ADAPTER_SOURCE) && (roles & ~ZFLOW_ADAPTER_SOURCE) ? ", " : "",
              roles & ZFLOW_ADAPTER_STAGE ? "stage" : "",
              (roles & ZFLOW_ADAPTER_STAGE) && (roles & ZFLOW_ADAPTER_SINK) ? ", " : "",
              roles & ZFLOW_ADAPTER_SINK ? "sink" : "");
}

static void s_print_header (const zflow_adapter_t *adapter, FILE *file, bool markdown)
{
    char roles[32];
    s_roles_text (zflow_adapter_roles (adapter), roles, sizeof (roles));
    if (!*roles)
        snprintf (roles, sizeof (roles), "settings");
    fprintf (file, markdown ? "`%s` (%s): %s\n\n" : "%s (%s): %s\n\n", adapter->name, roles,
             adapter->summary ? adapter->summary : "");
    if (adapter->aliases) {
        fprintf (file, markdown ? "Stage types: " : "  stage types: ");
        for (const char *item = adapter->aliases; item;) {
            size_t length = strcspn (item, "|");
            const char *equal = memchr (item, '=', length);
            size_t name_length = equal ? (size_t) (equal - item) : length;
            fprintf (file, markdown ? "`%.*s`%s%.*s%s" : "%.*s%s%.*s%s", (int) name_length, item,
                     equal ? " (" : "", equal ? (int) (length - name_length - 1) : 0,
                     equal ? equal + 1 : "", equal ? ")" : "");
            item = item[length] ? item + length + 1 : NULL;
            fprintf (file, item ? ", " : "\n");
        }
    }
    if (adapter->url_form)
        fprintf (file, markdown ? "URL (zflow pub / sub): `%s`\n" : "  URL (zflow pub / sub): %s\n",
                 adapter->url_form);
    if (adapter->stats.all)
        fprintf (file, markdown ? "Counters: `%s`\n" : "  counters: %s\n", adapter->stats.all);
    if (adapter->aliases || adapter->url_form || adapter->stats.all)
        fprintf (file, "\n");
}

void zflow_adapter_print (const zflow_adapter_t *adapter, FILE *file, bool markdown)
{
    if (!adapter || !file)
        return;
    s_print_header (adapter, file, markdown);
    bool roles_differ = false;
    for (const zflow_adapter_option_t *option = adapter->options; option->name; option++)
        roles_differ = roles_differ || option->roles;
    if (markdown) {
        fprintf (file, "| option | type | required | default | description |\n");
        fprintf (file, "|---|---|---|---|---|\n");
        if (!adapter->options->name)
            fprintf (file, "| (none) | | | | |\n");
    } else
        fprintf (file, "  %-14s %-8s %-9s %-12s %s\n", "OPTION", "TYPE", "REQUIRED", "DEFAULT",
                 "DESCRIPTION");
    for (const zflow_adapter_option_t *option = adapter->options; option->name; option++) {
        const char *type = s_type_names[option->type];
        const char *fallback = option->fallback;
        char roles[40] = "";
        if (roles_differ && option->roles) {
            char text[32];
            s_roles_text (option->roles, text, sizeof (text));
            snprintf (roles, sizeof (roles), " (%s)", text);
        }
        if (markdown) {
            char choices[128];
            s_choices (option->choices, choices, sizeof (choices));
            fprintf (file, "| `%s` | %s%s%s%s | %s | %s%s%s | %s%s |\n", option->name, type,
                     *choices ? " (" : "", choices, *choices ? ")" : "",
                     option->required ? "yes" : "no", fallback ? "`" : "",
                     fallback ? (*fallback ? fallback : "\"\"") : "", fallback ? "`" : "",
                     option->help, roles);
        } else
            fprintf (file, "  %-14s %-8s %-9s %-12s %s%s\n", option->name,
                     option->type == ZFLOW_ADAPTER_ENUM ? option->choices : type,
                     option->required ? "yes" : "no",
                     fallback ? (*fallback ? fallback : "\"\"") : "(none)", option->help, roles);
    }
    fprintf (file, "\n");
}
