/*  =========================================================================
    zflow_cmd_bench - `zflow bench [SUITE...]`: run the benchmark suites and
    put their figures side by side with their baselines

    Each suite is a program in bench/ that measures zflow and its baseline
    in the same run and prints machine-readable lines (bench/bench_figure.h):
    FIGURE {json}, LATENCY {json} and RESULT name k=v. This command runs
    the suites one after the other (their own progress bars show on stderr),
    collects those lines into one report
        {"host": {...}, "figures": [...], "latency": [...], "results": [...]}
    prints it as tables, and writes it as JSON (--json), CSV (--csv) and SVG
    charts (--plot DIR). Options are mapped to each suite's own flags.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cmd_bench.h"
#include <czmq.h>
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

//  One suite: the program that runs it and the flags it understands.
typedef struct {
    const char *name;       //  suite name on the command line
    const char *program;    //  program in bench/
    const char *fixed;      //  flags always passed (may be "")
    const char *count_flag; //  flag for --count, or NULL
    const char *runs_flag;  //  flag for --runs, or NULL
    const char *sizes_flag; //  flag for --sizes, or NULL
    const char *rate_flag;  //  flag for --rate, or NULL
    const char *about;      //  one line for --list
} suite_t;

static const suite_t s_suites[] = {
    {"stream", "zflow_bench_stream", "--no-envelope", "-n", "-r", "-s", NULL,
     "zflow streams vs raw libzmq inproc PUSH/PULL, by message size"},
    {"envelope", "zflow_bench_stream", "--envelope-only", "-n", "-r", NULL, NULL,
     "key + msgpack meta + payload hop vs a raw 3-frame send"},
    {"latency", "zflow_bench_latency", "", "-n", NULL, NULL, "--rate",
     "end-to-end latency (HDR percentiles) at a set rate, stream and pipeline stage"},
    {"hub", "zflow_bench_hub", "", NULL, NULL, NULL, NULL,
     "hub publish -> deliver with 1 .. 100,000 subscriptions"},
    {"hpfeeds", "zflow_bench_hpfeeds", "", NULL, NULL, NULL, NULL,
     "hpfeeds client -> broker -> client vs a raw TCP relay"},
    {"websocket", "zflow_bench_ws", "", NULL, NULL, NULL, NULL,
     "WebSocket receive vs a Node ws client"},
    {"centrifugo", "zflow_bench_centrifugo", "", NULL, NULL, NULL, NULL,
     "Centrifugo sink with batching vs one HTTP request per message"},
    {"redis", "zflow_bench_redis", "", "-n", "-r", "-s", NULL,
     "Redis sink PUBLISH / XADD vs redis-benchmark -c 1 -P 16 on the same server"},
    {"pipeline", "zflow_bench_pipeline", "", "-n", "-r", NULL, NULL,
     "three pipeline stages vs three raw libzmq relay threads"},
    {"pipeline-latency", "zflow_bench_latency", "--only pipeline", "-n", NULL, NULL, "--rate",
     "latency through a pipeline stage, from the envelope timestamps"},
    {"seeds", "zflow_bench_seeds", "", "-n", "-r", NULL, NULL,
     "vs aiozmq, aiopubsub, cent, hpfeeds broker (needs the real peers)"},
    {"mqtt", "zflow_bench_mqtt", "", "-n", "-r", NULL, NULL,
     "MQTT sink -> mosquitto -> source vs mosquitto_pub -> mosquitto_sub"},
};
#define SUITES (sizeof (s_suites) / sizeof (s_suites[0]))

typedef struct {
    const char *count;          //  --count, or NULL
    const char *runs;           //  --runs
    const char *sizes;          //  --sizes
    const char *rate;           //  --rate
    const char *json;           //  --json FILE
    const char *csv;            //  --csv FILE
    const char *plot;           //  --plot DIR
    const char *config;         //  --config FILE
    const char *duration;       //  --duration S (with --config)
    bool quiet;                 //  no tables
    bool list;                  //  --list
    const char *chosen[SUITES]; //  suites named on the command line
    size_t nchosen;
} options_t;

static void s_usage (FILE *out)
{
    fprintf (out,
             "usage: zflow bench [SUITE...] [options]\n"
             "Runs benchmark suites; each figure is shown beside its baseline measured in the\n"
             "same run, with the ratio zflow/baseline. With no SUITE, runs every suite whose\n"
             "program is built.\n\n"
             "options:\n"
             "  -n, --count N     messages per run (suites that take it)\n"
             "  -r, --runs N      runs per figure (median, min, max over the runs)\n"
             "  -s, --sizes LIST  message sizes in bytes, e.g. 16,256,4096 (stream)\n"
             "      --rate R      messages per second for latency (intended-time pacing)\n"
             "      --json FILE   write the report as JSON\n"
             "      --csv FILE    write the figures as CSV\n"
             "      --plot DIR    write SVG charts (throughput.svg, latency.svg) into DIR\n"
             "      --config FILE measure a pipeline config of your own: runs `zflow run FILE`\n"
             "                    and reports each stage's rates (no baseline)\n"
             "      --duration S  how long to measure --config (default 5 s)\n"
             "      --list        list the suites and whether their program is built\n"
             "  -q, --quiet       no tables (files only); progress still on stderr\n"
             "  -h, --help        this text\n\n"
             "exit codes: 0 every suite ran, 1 a suite failed or is not built, 2 bad usage\n");
}

static const suite_t *s_suite (const char *name)
{
    for (size_t i = 0; i < SUITES; i++)
        if (streq (s_suites[i].name, name))
            return &s_suites[i];
    return NULL;
}

//  Takes the value of an option that needs one. Returns NULL (and says so)
//  when it is missing.
static const char *s_value (int argc, char *argv[], int *i)
{
    if (*i + 1 >= argc) {
        fprintf (stderr, "zflow bench: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

//  True when text is a whole number in [low, high].
static bool s_number (const char *text, long low, long high)
{
    char *end;
    long value = strtol (text, &end, 10);
    return *text && !*end && value >= low && value <= high;
}

static int s_parse (int argc, char *argv[], options_t *opt)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **target = NULL;
        if (streq (arg, "-h") || streq (arg, "--help")) {
            s_usage (stdout);
            exit (0);
        } else if (streq (arg, "-q") || streq (arg, "--quiet"))
            opt->quiet = true;
        else if (streq (arg, "--list"))
            opt->list = true;
        else if (streq (arg, "-n") || streq (arg, "--count"))
            target = &opt->count;
        else if (streq (arg, "-r") || streq (arg, "--runs"))
            target = &opt->runs;
        else if (streq (arg, "-s") || streq (arg, "--sizes"))
            target = &opt->sizes;
        else if (streq (arg, "--rate"))
            target = &opt->rate;
        else if (streq (arg, "--json"))
            target = &opt->json;
        else if (streq (arg, "--csv"))
            target = &opt->csv;
        else if (streq (arg, "--plot"))
            target = &opt->plot;
        else if (streq (arg, "--config"))
            target = &opt->config;
        else if (streq (arg, "--duration"))
            target = &opt->duration;
        else if (*arg == '-') {
            fprintf (stderr, "zflow bench: unknown option '%s' (see zflow bench --help)\n", arg);
            return 2;
        } else if (!s_suite (arg)) {
            fprintf (stderr, "zflow bench: unknown suite '%s' (see zflow bench --list)\n", arg);
            return 2;
        } else if (opt->nchosen < SUITES)
            opt->chosen[opt->nchosen++] = arg;
        if (target && !(*target = s_value (argc, argv, &i)))
            return 2;
    }
    if ((opt->count && !s_number (opt->count, 1, 1000000000)) ||
        (opt->runs && !s_number (opt->runs, 1, 100)) ||
        (opt->rate && !s_number (opt->rate, 1, 10000000))) {
        fprintf (stderr, "zflow bench: --count must be 1..1e9, --runs 1..100, "
                         "--rate 1..1e7\n");
        return 2;
    }
    if (opt->sizes && strspn (opt->sizes, "0123456789,") != strlen (opt->sizes)) {
        fprintf (stderr, "zflow bench: --sizes takes numbers separated by commas\n");
        return 2;
    }
    if (opt->duration && !s_number (opt->duration, 1, 3600)) {
        fprintf (stderr, "zflow bench: --duration must be 1..3600 seconds\n");
        return 2;
    }
    if (opt->config && access (opt->config, R_OK) != 0) {
        fprintf (stderr, "zflow bench: cannot read config %s\n", opt->config);
        return 2;
    }
    return 0;
}

//  Finds a suite's program: $ZFLOW_BENCH_DIR, then bench/ beside this
//  program, then beside it. Returns a new path the caller frees, or NULL.
static char *s_find_program (const char *program, const char *self_path)
{
    char self[PATH_MAX];
    if (!realpath (self_path, self))
        snprintf (self, sizeof (self), "%s", self_path);
    char *slash = strrchr (self, '/');
    const char *self_dir = slash ? (*slash = 0, self) : ".";
    const char *env = getenv ("ZFLOW_BENCH_DIR");
    char *candidates[3] = {
        env ? zsys_sprintf ("%s/%s", env, program) : NULL,
        zsys_sprintf ("%s/bench/%s", self_dir, program),
        zsys_sprintf ("%s/%s", self_dir, program),
    };
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
        if (!found && candidates[i] && access (candidates[i], X_OK) == 0)
            found = candidates[i];
        else
            zstr_free (&candidates[i]);
    }
    return found;
}

//  Adds "flag value" to the command line when both are set.
static void s_add_flag (char *command, size_t size, const char *flag, const char *value)
{
    if (flag && value)
        snprintf (command + strlen (command), size - strlen (command), " %s '%s'", flag, value);
}

//  Takes one line of a suite's output into the report.
static void s_take_line (json_t *report, const char *suite, char *line)
{
    line[strcspn (line, "\n")] = 0;
    const char *kinds[] = {"FIGURE ", "LATENCY "};
    const char *lists[] = {"figures", "latency"};
    for (int k = 0; k < 2; k++)
        if (strncmp (line, kinds[k], strlen (kinds[k])) == 0) {
            json_error_t error;
            json_t *figure = json_loads (line + strlen (kinds[k]), 0, &error);
            if (json_is_object (figure)) {
                json_object_set_new (figure, "suite", json_string (suite));
                json_array_append_new (json_object_get (report, lists[k]), figure);
            } else {
                fprintf (stderr, "zflow bench: %s printed a bad %sline: %s\n", suite, kinds[k],
                         error.text);
                json_decref (figure);
            }
            return;
        }
    if (strncmp (line, "RESULT ", 7) == 0)
        json_array_append_new (json_object_get (report, "results"), json_string (line));
    else if (strncmp (line, "host: ", 6) == 0 || strncmp (line, "versions: ", 10) == 0 ||
             strncmp (line, "affinity: ", 10) == 0 || strncmp (line, "seeds: ", 7) == 0) {
        char *colon = strchr (line, ':');
        *colon = 0;
        //  the first suite's words stand; affinity is per suite, so keep
        //  each suite's own under its name
        json_t *host = json_object_get (report, "host");
        if (streq (line, "affinity")) {
            char *key = zsys_sprintf ("affinity %s", suite);
            json_object_set_new (host, key, json_string (colon + 2));
            zstr_free (&key);
        } else if (!json_object_get (host, line))
            json_object_set_new (host, line, json_string (colon + 2));
    }
}

//  Runs one suite and takes its lines. Returns 0, or 1 when it failed.
static int s_run_suite (const suite_t *suite, const options_t *opt, const char *self_path,
                        json_t *report)
{
    char *program = s_find_program (suite->program, self_path);
    if (!program) {
        fprintf (stderr, "zflow bench: suite %s: program %s is not built (skipped)\n", suite->name,
                 suite->program);
        return 1;
    }
    //  the path goes into a shell command between single quotes
    if (strchr (program, '\'')) {
        fprintf (stderr, "zflow bench: suite %s: refusing a program path with a quote: %s\n",
                 suite->name, program);
        zstr_free (&program);
        return 1;
    }
    char command[PATH_MAX + 512];
    snprintf (command, sizeof (command), "'%s' %s", program, suite->fixed);
    s_add_flag (command, sizeof (command), suite->count_flag, opt->count);
    s_add_flag (command, sizeof (command), suite->runs_flag, opt->runs);
    s_add_flag (command, sizeof (command), suite->sizes_flag, opt->sizes);
    s_add_flag (command, sizeof (command), suite->rate_flag, opt->rate);
    zstr_free (&program);
    fflush (stdout);
    FILE *out = popen (command, "r");
    if (!out) {
        fprintf (stderr, "zflow bench: suite %s: cannot run %s\n", suite->name, command);
        return 1;
    }
    char line[8192];
    while (fgets (line, sizeof (line), out))
        s_take_line (report, suite->name, line);
    int status = pclose (out);
    if (status == -1 || !WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "zflow bench: suite %s failed (%s)\n", suite->name, command);
        return 1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

static double s_num (json_t *object, const char *path_a, const char *path_b)
{
    json_t *value = json_object_get (object, path_a);
    if (path_b)
        value = json_object_get (value, path_b);
    return json_number_value (value);
}

static void s_print_tables (json_t *report)
{
    json_t *host = json_object_get (report, "host");
    const char *key;
    json_t *value;
    json_object_foreach (host, key, value) printf ("%-9s %s\n", key, json_string_value (value));
    size_t i;
    json_t *figure;
    json_t *figures = json_object_get (report, "figures");
    if (json_array_size (figures)) {
        printf ("\n%-10s %-22s %7s  %-24s %16s %16s %9s %6s\n", "suite", "figure", "size",
                "baseline", "baseline msgs/s", "zflow msgs/s", "MB/s", "ratio");
        json_array_foreach (figures, i, figure)
        {
            double mine = s_num (figure, "zflow", "median");
            printf ("%-10s %-22s %7.0f  %-24.24s %16.0f %16.0f %9.1f %6.2f\n",
                    json_string_value (json_object_get (figure, "suite")),
                    json_string_value (json_object_get (figure, "name")),
                    s_num (figure, "size", NULL),
                    json_string_value (json_object_get (figure, "baseline")),
                    s_num (figure, "base", "median"), mine,
                    mine * s_num (figure, "size", NULL) / 1e6, s_num (figure, "ratio", NULL));
            printf ("%-10s %-22s %7s  %-24s %7.0f..%-8.0f %7.0f..%-8.0f\n", "", "  min..max", "",
                    "", s_num (figure, "base", "min"), s_num (figure, "base", "max"),
                    s_num (figure, "zflow", "min"), s_num (figure, "zflow", "max"));
        }
    }
    json_t *latency = json_object_get (report, "latency");
    if (json_array_size (latency)) {
        printf ("\n%-10s %-10s %8s  %-8s %9s %9s %9s %9s %9s  (microseconds)\n", "suite", "figure",
                "rate", "side", "p50", "p90", "p99", "p99.9", "max");
        json_array_foreach (latency, i, figure)
        {
            const char *sides[] = {"base", "zflow"};
            for (int s = 0; s < 2; s++)
                printf ("%-10s %-10s %8.0f  %-8s %9.1f %9.1f %9.1f %9.1f %9.1f\n",
                        s ? "" : json_string_value (json_object_get (figure, "suite")),
                        s ? "" : json_string_value (json_object_get (figure, "name")),
                        s_num (figure, "rate", NULL), s ? "zflow" : "baseline",
                        s_num (figure, sides[s], "p50"), s_num (figure, sides[s], "p90"),
                        s_num (figure, sides[s], "p99"), s_num (figure, sides[s], "p999"),
                        s_num (figure, sides[s], "max"));
        }
    }
    json_t *config = json_object_get (report, "config");
    if (config) {
        printf ("\npipeline %s: each stage's rates over the measured window\n",
                json_string_value (json_object_get (config, "file")));
        printf ("%-20s %-14s %14s %14s %12s %12s\n", "stage", "kind", "msgs in/s", "msgs out/s",
                "MB out/s", "drops/s");
        json_array_foreach (json_object_get (config, "stages"), i, figure) printf (
            "%-20s %-14s %14.0f %14.0f %12.2f %12.1f\n",
            json_string_value (json_object_get (figure, "stage")),
            json_string_value (json_object_get (figure, "kind")),
            s_num (figure, "msgs_in_per_s", NULL), s_num (figure, "msgs_out_per_s", NULL),
            s_num (figure, "bytes_out_per_s", NULL) / 1e6, s_num (figure, "drops_per_s", NULL));
    }
    json_t *line;
    printf ("\n");
    json_array_foreach (json_object_get (report, "results"), i, line)
        printf ("%s\n", json_string_value (line));
}

//  CSV in long form: one row per figure and measure, so throughput and
//  latency figures share the same columns.
static int s_write_csv (json_t *report, const char *path)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "zflow bench: cannot write %s\n", path);
        return -1;
    }
    fprintf (file, "kind,suite,figure,size_or_rate,baseline,measure,baseline_value,"
                   "zflow_value,ratio\n");
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get (report, "figures"), i, f)
    {
        const char *measures[] = {"median", "min", "max"};
        for (int m = 0; m < 3; m++) {
            double base = s_num (f, "base", measures[m]), mine = s_num (f, "zflow", measures[m]);
            fprintf (file, "throughput,%s,%s,%.0f,\"%s\",msgs_per_s_%s,%.0f,%.0f,%.4f\n",
                     json_string_value (json_object_get (f, "suite")),
                     json_string_value (json_object_get (f, "name")), s_num (f, "size", NULL),
                     json_string_value (json_object_get (f, "baseline")), measures[m], base, mine,
                     base > 0 ? mine / base : 0);
        }
    }
    json_array_foreach (json_object_get (report, "latency"), i, f)
    {
        const char *measures[] = {"p50", "p90", "p99", "p999", "max", "mean"};
        for (int m = 0; m < 6; m++) {
            double base = s_num (f, "base", measures[m]), mine = s_num (f, "zflow", measures[m]);
            fprintf (file, "latency,%s,%s,%.0f,\"%s\",%s_us,%.2f,%.2f,%.4f\n",
                     json_string_value (json_object_get (f, "suite")),
                     json_string_value (json_object_get (f, "name")), s_num (f, "rate", NULL),
                     json_string_value (json_object_get (f, "baseline")), measures[m], base, mine,
                     base > 0 ? mine / base : 0);
        }
    }
    json_array_foreach (json_object_get (json_object_get (report, "config"), "stages"), i, f)
        fprintf (file, "config,%s,%s,0,\"none\",msgs_out_per_s,0,%.1f,0\n",
                 json_string_value (json_object_get (f, "kind")),
                 json_string_value (json_object_get (f, "stage")),
                 s_num (f, "msgs_out_per_s", NULL));
    return fclose (file) == 0 ? 0 : -1;
}

static void s_list (const char *self_path)
{
    for (size_t i = 0; i < SUITES; i++) {
        char *program = s_find_program (s_suites[i].program, self_path);
        printf ("%-17s %-9s %s\n", s_suites[i].name, program ? "built" : "not built",
                s_suites[i].about);
        zstr_free (&program);
    }
}

int zflow__cmd_bench (int argc, char *argv[], const char *self_path)
{
    options_t opt = {0};
    int rc = s_parse (argc, argv, &opt);
    if (rc)
        return rc;
    if (opt.list) {
        s_list (self_path);
        return 0;
    }
    //  no suite named: every suite whose program is built (with --config,
    //  only the user's pipeline)
    if (opt.nchosen == 0 && !opt.config)
        for (size_t i = 0; i < SUITES; i++) {
            char *program = s_find_program (s_suites[i].program, self_path);
            //  pipeline-latency repeats a figure of the latency suite
            if (program && !streq (s_suites[i].name, "pipeline-latency"))
                opt.chosen[opt.nchosen++] = s_suites[i].name;
            zstr_free (&program);
        }
    json_t *report = json_pack ("{s:{},s:[],s:[],s:[]}", "host", "figures", "latency", "results");
    int failed = 0;
    for (size_t i = 0; i < opt.nchosen; i++) {
        fprintf (stderr, "zflow bench: [%zu/%zu] %s\n", i + 1, opt.nchosen, opt.chosen[i]);
        failed |= s_run_suite (s_suite (opt.chosen[i]), &opt, self_path, report);
    }
    if (opt.config)
        failed |= zflow__bench_config (self_path, opt.config,
                                       opt.duration ? atoi (opt.duration) : 5, report);
    if (!opt.quiet)
        s_print_tables (report);
    if (opt.json && json_dump_file (report, opt.json, JSON_INDENT (2)) != 0) {
        fprintf (stderr, "zflow bench: cannot write %s\n", opt.json);
        failed = 1;
    }
    if (opt.csv && s_write_csv (report, opt.csv))
        failed = 1;
    if (opt.plot && zflow__bench_plot (report, opt.plot))
        failed = 1;
    json_decref (report);
    return failed ? 1 : 0;
}
