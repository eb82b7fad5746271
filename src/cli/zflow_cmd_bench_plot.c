/*  =========================================================================
    zflow_cmd_bench_plot - SVG charts of a `zflow bench` report

    Written directly as SVG (no plotting dependency): horizontal grouped bars
    on a log scale, one row per figure, the baseline in grey and zflow in
    blue, min..max whiskers for throughput, the ratio at the end of a row.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_cmd_bench.h"
#include <czmq.h>
#include <math.h>

#define ROW_HEIGHT 40
#define LABEL_WIDTH 230
#define PLOT_WIDTH 560
#define TOP 60

typedef struct {
    char label[96];          //  row label
    double base, mine;       //  bar values
    double base_lo, base_hi; //  whiskers (0 = none)
    double mine_lo, mine_hi;
} row_t;

typedef struct {
    double lo, hi; //  log10 range of the axis
} axis_t;

static double s_x (axis_t axis, double value)
{
    if (value <= 0)
        return LABEL_WIDTH;
    double t = (log10 (value) - axis.lo) / (axis.hi - axis.lo);
    return LABEL_WIDTH + (t < 0 ? 0 : t > 1 ? 1 : t) * PLOT_WIDTH;
}

//  The axis covers every value, rounded out to whole decades.
static axis_t s_axis (const row_t *rows, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double values[] = {rows[i].base, rows[i].mine, rows[i].base_hi, rows[i].mine_hi};
        for (int v = 0; v < 4; v++)
            if (values[v] > 0) {
                lo = fmin (lo, log10 (values[v]));
                hi = fmax (hi, log10 (values[v]));
            }
    }
    if (!isfinite (lo))
        lo = 0, hi = 1;
    axis_t axis = {floor (lo) - (floor (lo) == lo ? 1 : 0), ceil (hi)};
    if (axis.hi <= axis.lo)
        axis.hi = axis.lo + 1;
    return axis;
}

static void s_bar (FILE *f, axis_t axis, double y, double value, double lo, double hi,
                   const char *color)
{
    double x = s_x (axis, value);
    fprintf (f, "<rect x='%d' y='%.1f' width='%.1f' height='14' fill='%s'/>\n", LABEL_WIDTH, y,
             x - LABEL_WIDTH, color);
    if (hi > 0)
        fprintf (f, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='black'/>\n",
                 s_x (axis, lo), s_x (axis, hi), y + 7, y + 7);
    //  3.19M, 521.4k, 36.2: what a reader takes in at a glance
    const char *suffix = value >= 1e6 ? "M" : value >= 1e4 ? "k" : "";
    double shown = value >= 1e6 ? value / 1e6 : value >= 1e4 ? value / 1e3 : value;
    fprintf (f, "<text x='%.1f' y='%.1f' font-size='10'>%.4g%s</text>\n", x + 4, y + 11, shown,
             suffix);
}

static int s_chart (const char *path, const char *title, const char *unit, const row_t *rows,
                    size_t n)
{
    FILE *f = fopen (path, "w");
    if (!f) {
        fprintf (stderr, "zflow bench: cannot write %s\n", path);
        return -1;
    }
    axis_t axis = s_axis (rows, n);
    int height = TOP + (int) n * ROW_HEIGHT + 50;
    int width = LABEL_WIDTH + PLOT_WIDTH + 140;
    fprintf (f,
             "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
             "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
             width, height);
    fprintf (f, "<text x='10' y='22' font-size='15' font-weight='bold'>%s</text>\n", title);
    fprintf (f,
             "<rect x='%d' y='32' width='12' height='10' fill='#999'/><text x='%d' y='41' "
             "font-size='11'>baseline</text><rect x='%d' y='32' width='12' height='10' "
             "fill='#2b6cb0'/><text x='%d' y='41' font-size='11'>zflow</text>\n",
             LABEL_WIDTH, LABEL_WIDTH + 16, LABEL_WIDTH + 80, LABEL_WIDTH + 96);
    for (int d = (int) axis.lo; d <= (int) axis.hi; d++) {
        double x = s_x (axis, pow (10, d));
        fprintf (f,
                 "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' stroke='#ddd'/>"
                 "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>1e%d</text>\n",
                 x, x, TOP - 6, height - 40, x, height - 26, d);
    }
    fprintf (f, "<text x='%d' y='%d' font-size='11' text-anchor='middle'>%s (log scale)</text>\n",
             LABEL_WIDTH + PLOT_WIDTH / 2, height - 8, unit);
    for (size_t i = 0; i < n; i++) {
        double y = TOP + (double) i * ROW_HEIGHT;
        fprintf (f, "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>%s</text>\n",
                 LABEL_WIDTH - 8, y + 18, rows[i].label);
        s_bar (f, axis, y, rows[i].base, rows[i].base_lo, rows[i].base_hi, "#999");
        s_bar (f, axis, y + 16, rows[i].mine, rows[i].mine_lo, rows[i].mine_hi, "#2b6cb0");
        if (rows[i].base > 0)
            fprintf (f, "<text x='%d' y='%.1f' font-size='11'>x%.2f</text>\n",
                     LABEL_WIDTH + PLOT_WIDTH + 70, y + 18, rows[i].mine / rows[i].base);
    }
    fprintf (f, "</svg>\n");
    return fclose (f) == 0 ? 0 : -1;
}

static double s_get (json_t *figure, const char *side, const char *name)
{
    return json_number_value (json_object_get (json_object_get (figure, side), name));
}

int zflow__bench_plot (json_t *report, const char *dir)
{
    if (zsys_dir_create ("%s", dir) != 0) {
        fprintf (stderr, "zflow bench: cannot create directory %s\n", dir);
        return -1;
    }
    json_t *figures = json_object_get (report, "figures");
    json_t *latency = json_object_get (report, "latency");
    int rc = 0;
    size_t i;
    json_t *f;
    if (json_array_size (figures)) {
        row_t *rows = (row_t *) calloc (json_array_size (figures), sizeof (row_t));
        json_array_foreach (figures, i, f)
        {
            rows[i] = (row_t){"",
                              s_get (f, "base", "median"),
                              s_get (f, "zflow", "median"),
                              s_get (f, "base", "min"),
                              s_get (f, "base", "max"),
                              s_get (f, "zflow", "min"),
                              s_get (f, "zflow", "max")};
            snprintf (rows[i].label, sizeof (rows[i].label), "%s (%.0f B)",
                      json_string_value (json_object_get (f, "name")),
                      json_number_value (json_object_get (f, "size")));
        }
        char *path = zsys_sprintf ("%s/throughput.svg", dir);
        rc |= s_chart (path, "zflow throughput by figure and message size (median, min..max)",
                       "messages per second", rows, json_array_size (figures));
        zstr_free (&path);
        free (rows);
    }
    if (json_array_size (latency)) {
        const char *names[] = {"p50", "p90", "p99", "p999", "max"};
        size_t n = json_array_size (latency) * 5;
        row_t *rows = (row_t *) calloc (n, sizeof (row_t));
        json_array_foreach (latency, i, f) for (int p = 0; p < 5; p++)
        {
            row_t *row = &rows[i * 5 + p];
            row->base = s_get (f, "base", names[p]);
            row->mine = s_get (f, "zflow", names[p]);
            snprintf (row->label, sizeof (row->label), "%s %s",
                      json_string_value (json_object_get (f, "name")), names[p]);
        }
        char *path = zsys_sprintf ("%s/latency.svg", dir);
        rc |= s_chart (path, "zflow end-to-end latency percentiles (from intended send time)",
                       "microseconds", rows, n);
        zstr_free (&path);
        free (rows);
    }
    return rc ? -1 : 0;
}
