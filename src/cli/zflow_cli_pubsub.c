/*  =========================================================================
    zflow_cli_pubsub - zflow pub / zflow sub: any adapter from the terminal

    Both work on adapters only (zflow_adapter.h), found by the URL's scheme
    or by --type: pub runs a pipeline "stdin lines -> the adapter's sink",
    sub runs "the adapter's source -> stdout". The adapter's option table
    gives the command-line options (--name value), its URL function the
    options a URL stands for, and its STATS names what pub and sub wait
    for: a connection, the messages the far end took, a refusal for good
    (said in the far end's words) and events that end the command. Nothing
    here knows one adapter from another.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cli.h"
#include "zflow_pipeline_codec.h"
#include <jansson.h>
#include <string.h>
#include <unistd.h>

//  Most adapter options one command line passes.
#define S_MAX_ARGS 64

//  The command line of pub or sub.
typedef struct {
    const char *command;            //  "pub" or "sub"
    int role;                       //  ZFLOW_ADAPTER_SINK (pub) or _SOURCE (sub)
    const zflow_adapter_t *adapter; //  the adapter
    const char *url;                //  the URL given, or NULL
    const char *key;                //  pub: key of the envelopes; sub: key filter
    int64_t count;                  //  sub: stop after so many (0: never)
    int64_t timeout_ms;             //  longest wait for a connection
    bool quiet;                     //  sub: no events on stderr
    int argc;                       //  the adapter's options
    char *argv[S_MAX_ARGS];         //  (pointers into the command line)
    void *config;                   //  the adapter's parsed config
    zconfig_t *section;             //  the option values config points into
} s_args_t;

static void s_usage (FILE *file, const char *command)
{
    bool pub = streq (command, "pub");
    fprintf (
        file,
        pub ? "usage: zflow pub [--type NAME] URL [--key a/b] [--timeout MS] [--OPTION VALUE]...\n"
              "\n"
              "Sends each line of stdin as one message (a zflow envelope, key --key, default\n"
              "zflow/pub) into the sink of the adapter that serves URL's scheme, or of\n"
              "--type NAME: zflow help lists them, zflow help NAME their options, which\n"
              "are given here as --option value (see below with a URL). Waits for the\n"
              "connection (--timeout, default 5000 ms), then until the far end took every\n"
              "line; a far end that refuses for good (a wrong secret or API key, a channel\n"
              "the ident may not use) ends it at once, its words said on stderr. A ZeroMQ\n"
              "URL is connected; --bind ENDPOINT binds instead.\n"
              "  zflow pub tcp://127.0.0.1:5555 [--type pub]\n"
              "  zflow pub hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL\n"
              "  zflow pub http://HOST:8000/api --channel CHANNEL [--api-key KEY]\n"
              "  zflow pub ws://HOST:PORT/PATH [--binary] [--header 'Name: value']...\n"
              "Exit codes: 0 every line taken, 1 no connection, refused or lines not taken\n"
              "(said on stderr, with why), 2 usage error.\n"
            : "usage: zflow sub [--type NAME] URL [--count N] [--key a/b] [--timeout MS] "
              "[-q]\n"
              "                 [--OPTION VALUE]...\n"
              "\n"
              "Prints what the source of the adapter that serves URL's scheme (or --type\n"
              "NAME) reads as JSON lines (payloads; msgpack converted) until Ctrl-C or N\n"
              "messages; ends quietly when stdout is closed (| head). --key keeps the\n"
              "envelopes whose key is a/b or below it. The adapter's options (zflow help\n"
              "NAME) are given as --option value. Its events (connected, errors) go to\n"
              "stderr unless -q; a refusal for good (a bad token or secret, a channel the\n"
              "ident may not read) ends it, said on stderr.\n"
              "  zflow sub tcp://127.0.0.1:5556 [--type pull]\n"
              "  zflow sub hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL[,CHANNEL...]\n"
              "  zflow sub ws[s]://HOST[:PORT]/PATH [--header 'Name: value']...\n"
              "  zflow sub centrifugo+ws://HOST:8000/connection/websocket --channel CH\n"
              "Exit codes: 0 ok, 1 no connection within --timeout or refused, 2 usage "
              "error.\n");
}

//  Prints the adapter's options for role as --name lines.
static void s_options_help (const zflow_adapter_t *adapter, int role)
{
    printf ("\n%s (%s): %s\n  URL: %s\n", adapter->name, zflow_adapter_role_name (role),
            adapter->summary, adapter->url_form ? adapter->url_form : "(none)");
    for (const zflow_adapter_option_t *o = adapter->options; o->name; o++) {
        if (o->roles && !(o->roles & role))
            continue;
        char name[64];
        snprintf (name, sizeof (name), "%s", o->name);
        for (char *c = name; *c; c++)
            *c = *c == '_' ? '-' : *c;
        printf ("  --%-16s %s%s%s%s\n", name, o->help, o->fallback ? " (default " : "",
                o->fallback ? o->fallback : "", o->fallback ? ")" : "");
    }
}

//  Reads a number >= 0 (> 0 when positive). Returns -1 when bad.
static int64_t s_number (const char *text, bool positive)
{
    char *end = NULL;
    long long value = text ? strtoll (text, &end, 10) : -1;
    return text && *text && !*end && value >= (positive ? 1 : 0) ? value : -1;
}

//  Finds the adapter: --type NAME, else the first argument with a scheme.
static const zflow_adapter_t *s_adapter (int argc, char **argv, int role, const char **name_p)
{
    *name_p = NULL;
    for (int i = 0; i + 1 < argc; i++)
        if (streq (argv[i], "--type"))
            return zflow_adapter_find (*name_p = argv[i + 1]);
    for (int i = 0; i < argc; i++)
        if (strstr (argv[i], "://"))
            return zflow_adapter_find_url (*name_p = argv[i], role);
    return NULL;
}

//  True when the adapter's option --arg takes no value (a boolean alone).
static bool s_flag (const zflow_adapter_t *adapter, const char *arg, const char *next)
{
    for (const zflow_adapter_option_t *o = adapter->options; o->name; o++) {
        bool same = strlen (arg) == strlen (o->name) + 2;
        for (size_t i = 0; same && o->name[i]; i++)
            same = arg[i + 2] == o->name[i] || (arg[i + 2] == '-' && o->name[i] == '_');
        if (same && o->type == ZFLOW_ADAPTER_BOOL)
            return !next || (!streq (next, "true") && !streq (next, "false"));
    }
    return false;
}

//  Parses the command line. Returns 0, 1 (help shown) or -1 (reported).
static int s_parse (int argc, char **argv, s_args_t *args)
{
    const char *name = NULL;
    args->adapter = s_adapter (argc, argv, args->role, &name);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (streq (arg, "-h") || streq (arg, "--help")) {
            s_usage (stdout, args->command);
            if (args->adapter)
                s_options_help (args->adapter, args->role);
            return 1;
        }
        bool generic = streq (arg, "--type") || streq (arg, "--key") || streq (arg, "--timeout") ||
                       (args->role == ZFLOW_ADAPTER_SOURCE && streq (arg, "--count"));
        if (generic && !value) {
            fprintf (stderr, "zflow %s: bad argument '%s' (needs a value)\n", args->command, arg);
            return -1;
        } else if (streq (arg, "--key"))
            args->key = argv[++i];
        else if (streq (arg, "--type"))
            i++;
        else if (streq (arg, "--count") && (args->count = s_number (argv[++i], false)) < 0) {
            fprintf (stderr, "zflow %s: --count needs a non-negative number\n", args->command);
            return -1;
        } else if (streq (arg, "--timeout") &&
                   ((args->timeout_ms = s_number (argv[++i], true)) < 0 ||
                    args->timeout_ms > 3600000)) {
            fprintf (stderr, "zflow %s: bad argument '%s' (1 to 3600000 ms)\n", args->command,
                     argv[i]);
            return -1;
        } else if (generic)
            ; //  done above
        else if (args->role == ZFLOW_ADAPTER_SOURCE &&
                 (streq (arg, "-q") || streq (arg, "--quiet")))
            args->quiet = true;
        else if (arg[0] != '-' && !args->url)
            args->url = arg;
        else if (strncmp (arg, "--", 2) == 0 && args->adapter && args->argc + 2 < S_MAX_ARGS) {
            args->argv[args->argc++] = argv[i];
            if (!s_flag (args->adapter, arg, value) && value)
                args->argv[args->argc++] = argv[++i];
        } else {
            fprintf (stderr, "zflow %s: bad argument '%s'\n", args->command, arg);
            s_usage (stderr, args->command);
            return -1;
        }
    }
    if (!args->adapter) {
        if (name)
            fprintf (stderr, "zflow %s: no adapter %s '%s' (see: zflow help)\n", args->command,
                     strstr (name, "://") ? "serves" : "named", name);
        else
            fprintf (stderr, "zflow %s: which URL?\n", args->command);
        if (!name)
            s_usage (stderr, args->command);
        return -1;
    }
    if (!(zflow_adapter_roles (args->adapter) & args->role)) {
        fprintf (stderr, "zflow %s: %s has no %s (see: zflow help %s)\n", args->command,
                 args->adapter->name, zflow_adapter_role_name (args->role), args->adapter->name);
        return -1;
    }
    return 0;
}

//  Fills args->config from the URL and the adapter's options. Returns 0
//  or -1 (reported).
static int s_configure (s_args_t *args)
{
    const zflow_adapter_t *adapter = args->adapter;
    char err[600] = "";
    args->section = zconfig_new (args->command, NULL);
    args->config = zmalloc (adapter->config_size ? adapter->config_size : 1);
    //  the wait for a connection also bounds the adapter's own connect
    char timeout[32];
    snprintf (timeout, sizeof (timeout), "%" PRId64, args->timeout_ms);
    bool has_timeout = false;
    for (const zflow_adapter_option_t *o = adapter->options; o->name; o++)
        has_timeout = has_timeout || (streq (o->name, "timeout") && o->type == ZFLOW_ADAPTER_INT);
    if (has_timeout)
        zconfig_put (args->section, "timeout", timeout);
    int rc = 0;
    if (args->url && adapter->from_url)
        rc = adapter->from_url (args->url, args->role, args->section, err, sizeof (err));
    else if (args->url) {
        snprintf (err, sizeof (err), "%s takes no URL", adapter->name);
        rc = -1;
    }
    rc = rc ? rc
            : zflow_adapter_args (adapter, args->role, args->section, args->argc, args->argv, err,
                                  sizeof (err));
    rc = rc ? rc
            : zflow_adapter_parse (adapter, adapter->name, args->role, args->section, NULL,
                                   args->config, NULL, err, sizeof (err));
    if (rc)
        fprintf (stderr, "zflow %s: %s\n", args->command, err);
    return rc;
}

static void s_args_free (s_args_t *args)
{
    free (args->config);
    zconfig_destroy (&args->section);
}

//  Builds the pipeline around the adapter (the adapter stage is index 0
//  for sub, 1 for pub) and starts it. Returns it, or NULL with *exit_p set
//  (reported).
static zflow_pipeline_t *s_pipeline (s_args_t *args, const char *endpoint, int *exit_p)
{
    char err[600] = "";
    zflow_pipeline_t *p =
        zflow_pipeline_new (&(zflow_pipeline_config_t){.name = args->command}, NULL);
    int rc;
    if (args->role == ZFLOW_ADAPTER_SINK) {
        rc = zflow_pipeline_source (p, "stdin", "pull", endpoint, NULL);
        rc =
            rc ? rc : args->adapter->sink (p, args->adapter->name, args->config, err, sizeof (err));
    } else {
        rc = args->adapter->source (p, args->adapter->name, args->config, err, sizeof (err));
        rc = rc ? rc : zflow_pipeline_sink (p, "stdout", "push", endpoint, NULL);
    }
    *exit_p = ZFLOW_EXIT_USAGE;
    if (rc == 0) {
        *exit_p = ZFLOW_EXIT_RUNTIME;
        rc = zflow_pipeline_start (p);
        snprintf (err, sizeof (err), "%s", zflow_pipeline_error_text (p));
    }
    if (rc) {
        fprintf (stderr, "zflow %s: %s: %s\n", args->command, args->url ? args->url : "",
                 *err ? err : zflow_error_text (rc));
        zflow_pipeline_destroy (&p);
    }
    return p;
}

//  The far end's words in the adapter stage's STATS (its reason entry),
//  or NULL. Borrowed from stats.
static const char *s_reason (zhash_t *stats, const s_args_t *args)
{
    const char *reason = args->adapter->stats.reason;
    return reason && stats ? (const char *) zhash_lookup (stats, reason) : NULL;
}

//  True when the adapter stage's STATS say the far end refused for good
//  (a wrong secret or key, a channel the ident may not use): said on
//  stderr, with the far end's words when the adapter keeps them.
static bool s_refused (zhash_t *stats, const s_args_t *args)
{
    const char *refused = args->adapter->stats.refused;
    if (!refused || !zflow_actor_stats_get (stats, refused))
        return false;
    const char *reason = s_reason (stats, args);
    fprintf (stderr, "zflow %s: %s refused: %s\n", args->command, args->adapter->name,
             reason ? reason : "(no reason given)");
    return true;
}

//  Waits until the adapter stage says it is connected (when it can say).
//  Returns 0, or -1 (reported) after the timeout or on a refusal.
static int s_wait_connected (zflow_pipeline_t *p, size_t stage, const s_args_t *args)
{
    const char *connected = args->adapter->stats.connected;
    if (!connected) {
        zclock_sleep (300); //  no way to know: give peers time to join (PUB)
        return 0;
    }
    int64_t deadline = zclock_mono () + args->timeout_ms;
    while (!zflow_cli_signalled () && zclock_mono () < deadline) {
        zhash_t *stats = zflow_pipeline_stage_stats (p, stage, 1000);
        bool refused = s_refused (stats, args);
        bool up = !refused && zflow_actor_stats_get (stats, connected);
        zhash_destroy (&stats);
        if (refused)
            return -1;
        if (up)
            return 0;
        zclock_sleep (20);
    }
    if (zflow_cli_signalled ())
        return 0;
    fprintf (stderr, "zflow %s: cannot connect to %s within %" PRId64 " ms (no connection)\n",
             args->command, args->url ? args->url : args->adapter->name, args->timeout_ms);
    return -1;
}

//  ---------------------------------------------------------------------
//  zflow pub

//  How often pub asks the sink, while sending, whether it was refused.
#define S_CHECK_MS 50

//  True when the sink (stage 1 of p) was refused for good (reported).
static bool s_sink_refused (zflow_pipeline_t *p, const s_args_t *args)
{
    if (!args->adapter->stats.refused)
        return false;
    zhash_t *stats = zflow_pipeline_stage_stats (p, 1, 1000);
    bool refused = s_refused (stats, args);
    zhash_destroy (&stats);
    return refused;
}

//  Sends stdin's lines as envelopes to endpoint, until the end or a
//  refusal of the sink (reported; *refused_p set). Returns the line count.
static uint64_t s_send_lines (zflow_pipeline_t *p, const s_args_t *args, const char *endpoint,
                              zflow_key_t *key, bool *refused_p)
{
    char connect[70];
    snprintf (connect, sizeof (connect), ">%s", endpoint); //  the pipeline's pull binds
    zsock_t *push = zsock_new_push (connect);
    zflow_msg_t *msg = zflow_msg_new ();
    zflow_meta_t *meta = zflow_meta_new ();
    zflow_meta_set_source (meta, "zflow-pub");
    char *line = NULL;
    size_t capacity = 0;
    ssize_t size;
    uint64_t lines = 0;
    int64_t next_check = zclock_mono () + S_CHECK_MS;
    //  a far end that refuses (an ACL) must not cost every line's retries
    while (!zflow_cli_signalled () && !*refused_p &&
           (size = getline (&line, &capacity, stdin)) >= 0) {
        while (size && (line[size - 1] == '\n' || line[size - 1] == '\r'))
            size--;
        zflow_meta_set_seq (meta, ++lines);
        zflow_meta_stamp (meta);
        zflow_envelope_encode_key (msg, key, meta, line, (size_t) size);
        zmsg_t *zmsg = zflow_msg_to_zmsg (msg);
        zmsg_send (&zmsg, push);
        if (zclock_mono () >= next_check) {
            *refused_p = s_sink_refused (p, args);
            next_check = zclock_mono () + S_CHECK_MS;
        }
    }
    free (line);
    zflow_msg_destroy (&msg);
    zflow_meta_destroy (&meta);
    zsock_destroy (&push);
    return lines;
}

//  Waits until the sink has dealt with lines messages, then as long as
//  the adapter says a refusal may still come (its far end acknowledges
//  nothing). Returns how many the far end took (the adapter's
//  "delivered", else what the stage wrote); on a refusal (reported) sets
//  *refused_p; copies the far end's last words, if any, into reason.
static uint64_t s_wait_taken (zflow_pipeline_t *p, const s_args_t *args, uint64_t lines,
                              bool *refused_p, char *reason, size_t reason_size)
{
    const zflow_adapter_stats_t *names = &args->adapter->stats;
    uint64_t taken = 0;
    int64_t deadline = zclock_mono () + 30000, settled = 0;
    while (!*refused_p && zclock_mono () < deadline) {
        zhash_t *stats = zflow_pipeline_stage_stats (p, 1, 1000);
        uint64_t written = zflow_actor_stats_get (stats, "msgs_out");
        uint64_t failed =
            zflow_actor_stats_get (stats, "errors") + zflow_actor_stats_get (stats, "drops");
        uint64_t dropped = names->dropped ? zflow_actor_stats_get (stats, names->dropped) : 0;
        taken = names->delivered ? zflow_actor_stats_get (stats, names->delivered) : written;
        *refused_p = s_refused (stats, args);
        const char *words = s_reason (stats, args);
        snprintf (reason, reason_size, "%s", words ? words : "");
        zhash_destroy (&stats);
        if (!settled && written + failed >= lines && taken + dropped >= written)
            settled = zclock_mono () + names->settle_ms;
        if (settled && zclock_mono () >= settled)
            break;
        zclock_sleep (10);
    }
    return taken;
}

int zflow_cli_pub (int argc, char **argv)
{
    s_args_t args = {.command = "pub", .role = ZFLOW_ADAPTER_SINK, .timeout_ms = 5000};
    int rc = s_parse (argc, argv, &args);
    if (rc)
        return rc > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    zflow_key_t *key = zflow_key_parse (args.key ? args.key : "zflow/pub", NULL);
    if (!key) {
        fprintf (stderr, "zflow pub: bad key '%s'\n", args.key);
        return ZFLOW_EXIT_USAGE;
    }
    if (s_configure (&args)) {
        s_args_free (&args);
        zflow_key_destroy (&key);
        return ZFLOW_EXIT_USAGE;
    }
    zflow_cli_catch_signals ();
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-cli-pub-%d", (int) getpid ());
    int exit_code;
    zflow_pipeline_t *p = s_pipeline (&args, endpoint, &exit_code);
    if (p && s_wait_connected (p, 1, &args) == 0) {
        bool refused = false;
        char reason[300] = "";
        uint64_t lines = s_send_lines (p, &args, endpoint, key, &refused);
        uint64_t taken =
            refused ? 0 : s_wait_taken (p, &args, lines, &refused, reason, sizeof (reason));
        rc = zflow_pipeline_stop (p, (int) args.timeout_ms);
        exit_code = refused || taken < lines || rc ? ZFLOW_EXIT_RUNTIME : ZFLOW_EXIT_OK;
        if (refused)
            ; //  said already, in the far end's words
        else if (taken < lines)
            fprintf (stderr, "zflow pub: %s took %" PRIu64 " of %" PRIu64 " lines%s%s\n",
                     args.adapter->name, taken, lines, *reason ? ": " : "", reason);
        else if (rc)
            fprintf (stderr, "zflow pub: lines still unsent at the end: %s\n",
                     zflow_error_text (rc));
    }
    zflow_pipeline_destroy (&p);
    zflow_key_destroy (&key);
    s_args_free (&args);
    return exit_code;
}

//  ---------------------------------------------------------------------
//  zflow sub

//  True when msg's key (frame 1, wire form) is wire or below it.
static bool s_key_below (const zflow_msg_t *msg, const char *wire, size_t size)
{
    size_t key_size = 0;
    const char *key = (const char *) zflow_envelope_key (msg, &key_size);
    return key && key_size >= size && memcmp (key, wire, size) == 0 &&
           (key_size == size || key[size] == 0x1F);
}

//  True when event type with its JSON details ends the command: a type of
//  the adapter's fatal list ("type" or "type:op"), unless temporary.
static bool s_fatal (const char *fatal, const char *type, const char *details)
{
    json_t *json = json_loads (details, 0, NULL);
    const char *op = json_string_value (json_object_get (json, "op"));
    bool temporary = json_is_true (json_object_get (json, "temporary"));
    bool found = false;
    char *list = strdup (fatal ? fatal : ""), *save = NULL;
    for (char *item = strtok_r (list, "|", &save); item && !found;
         item = strtok_r (NULL, "|", &save)) {
        char *colon = strchr (item, ':');
        if (colon)
            *colon++ = 0;
        found = streq (item, type) && (!colon || (op && streq (op, colon)));
    }
    free (list);
    json_decref (json);
    return found && !temporary;
}

//  An event envelope (key "<events>", <type>) of the adapter: said on
//  stderr. Returns 1 when it is not an event, 0, or -1 when fatal.
static int s_event (const s_args_t *args, const zflow_msg_t *msg)
{
    const char *events = args->adapter->stats.events;
    size_t key_size = 0, size = 0, prefix = events ? strlen (events) : 0;
    const char *key = (const char *) zflow_envelope_key (msg, &key_size);
    if (!events || !key || key_size <= prefix + 1 || memcmp (key, events, prefix) ||
        key[prefix] != 0x1F)
        return 1;
    char *type = strndup (key + prefix + 1, key_size - prefix - 1);
    const char *payload = (const char *) zflow_envelope_payload (msg, &size);
    char *details = strndup (payload ? payload : "", size);
    bool fatal = s_fatal (args->adapter->stats.fatal, type, details);
    if (fatal || !args->quiet)
        fprintf (stderr, "zflow sub: %s %s %s\n", args->adapter->name, type, details);
    free (type);
    free (details);
    return fatal ? -1 : 0;
}

//  Asks the adapter stage (0 in p) whether it is connected (then clears
//  *connected_p) or was refused for good; clears *refusable_p when the
//  stage does not report refusals (the adapter's other role may). Returns
//  0, or the exit code (reported) on a refusal or when the deadline
//  passed unconnected.
static int s_check_source (zflow_pipeline_t *p, const s_args_t *args, const char **connected_p,
                           bool *refusable_p, int64_t deadline)
{
    zhash_t *stats = zflow_pipeline_stage_stats (p, 0, 1000);
    const char *refused = args->adapter->stats.refused;
    if (stats) //  no answer this time: ask again
        *refusable_p = refused && zhash_lookup (stats, refused);
    int rc = s_refused (stats, args) ? ZFLOW_EXIT_RUNTIME : 0;
    if (rc == 0 && *connected_p && zflow_actor_stats_get (stats, *connected_p))
        *connected_p = NULL;
    else if (rc == 0 && *connected_p && zclock_mono () > deadline) {
        fprintf (stderr, "zflow sub: no connection to %s within %" PRId64 " ms\n",
                 args->url ? args->url : args->adapter->name, args->timeout_ms);
        rc = ZFLOW_EXIT_RUNTIME;
    }
    zhash_destroy (&stats);
    return rc;
}

//  Prints what arrives on sock; asks the adapter stage (0 in p) until it
//  says it is connected, up to the timeout (events, such as a refusal, may
//  come first), and as long as it runs when it reports refusals. Returns
//  the exit code.
static int s_print (zflow_pipeline_t *p, zsock_t *sock, const s_args_t *args, zflow_key_t *key)
{
    const char *connected = args->adapter->stats.connected;
    bool refusable = args->adapter->stats.refused != NULL;
    int64_t deadline = zclock_mono () + args->timeout_ms, next_check = 0;
    size_t wire_size = 0;
    const char *wire = key ? (const char *) zflow_key_wire (key, &wire_size) : NULL;
    zflow_msg_t *msg = zflow_msg_new ();
    int64_t got = 0;
    int rc = ZFLOW_EXIT_OK;
    while (!zflow_cli_signalled () && !zflow_cli_stdout_closed () &&
           (!args->count || got < args->count)) {
        if ((connected || refusable) && zclock_mono () >= next_check) {
            if ((rc = s_check_source (p, args, &connected, &refusable, deadline)) != 0)
                break;
            next_check = zclock_mono () + S_CHECK_MS;
        }
        zmsg_t *zmsg = zmsg_recv (sock);
        if (!zmsg)
            continue;
        zflow_msg_from_zmsg (msg, &zmsg);
        if (zflow_envelope_decode (msg, NULL))
            continue;
        int event = s_event (args, msg);
        if (event < 0)
            rc = ZFLOW_EXIT_RUNTIME;
        if (event <= 0) {
            if (event < 0)
                break;
            continue;
        }
        if (key && !s_key_below (msg, wire, wire_size))
            continue;
        if (zflow__codec_write_line (stdout, msg) || fflush (stdout))
            break; //  stdout closed (| head): a quiet end
        got++;
    }
    zflow_msg_destroy (&msg);
    return rc;
}

int zflow_cli_sub (int argc, char **argv)
{
    zflow_cli_catch_signals (); //  and SIGPIPE: a closed stdout ends the loop quietly
    s_args_t args = {.command = "sub", .role = ZFLOW_ADAPTER_SOURCE, .timeout_ms = 5000};
    int rc = s_parse (argc, argv, &args);
    if (rc)
        return rc > 0 ? ZFLOW_EXIT_OK : ZFLOW_EXIT_USAGE;
    //  --key a/b: only envelopes whose key is a/b or below it
    zflow_key_t *key = args.key ? zflow_key_parse (args.key, NULL) : NULL;
    if (args.key && !key) {
        fprintf (stderr, "zflow sub: bad key '%s'\n", args.key);
        return ZFLOW_EXIT_USAGE;
    }
    if (s_configure (&args)) {
        s_args_free (&args);
        zflow_key_destroy (&key);
        return ZFLOW_EXIT_USAGE;
    }
    char endpoint[64];
    snprintf (endpoint, sizeof (endpoint), "inproc://zflow-cli-sub-%d", (int) getpid ());
    int exit_code;
    zflow_pipeline_t *p = s_pipeline (&args, endpoint, &exit_code);
    char connect[70];
    snprintf (connect, sizeof (connect), ">%s", endpoint); //  the pipeline's push binds
    zsock_t *pull = p ? zsock_new_pull (connect) : NULL;
    if (pull) {
        zsock_set_rcvtimeo (pull, 200);
        exit_code = s_print (p, pull, &args, key);
    }
    zsock_destroy (&pull);
    if (p)
        zflow_pipeline_stop (p, 2000);
    zflow_pipeline_destroy (&p);
    zflow_key_destroy (&key);
    s_args_free (&args);
    return exit_code;
}
