/*  =========================================================================
    bench_figure - the machine-readable lines every zflow benchmark prints

        FIGURE {json}    one throughput figure: suite, name, size, unit,
                         baseline name, base/zflow {median,min,max}, ratio
        LATENCY {json}   one latency figure: suite, name, rate, count,
                         base/zflow {p50,p90,p99,p999,max,mean} in us
        RESULT name k=v  the summary lines named in each issue

    `zflow bench` reads them to build its table, JSON, CSV and plots.
    Header-only; JSON written by hand (names are plain identifiers).
    =========================================================================
*/
#ifndef ZFLOW_BENCH_FIGURE_H_INCLUDED
#define ZFLOW_BENCH_FIGURE_H_INCLUDED

#include "zflow_histogram.h"
#include <stdio.h>

typedef struct {
    double median, min, max; //  msgs/s over the runs
} bench_spread_t;

static inline void bench_figure_print (const char *suite, const char *name, size_t size,
                                       const char *baseline, bench_spread_t base,
                                       bench_spread_t mine)
{
    printf ("FIGURE {\"suite\":\"%s\",\"name\":\"%s\",\"size\":%zu,\"unit\":\"msgs/s\","
            "\"baseline\":\"%s\",\"base\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f},"
            "\"zflow\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f},\"ratio\":%.4f}\n",
            suite, name, size, baseline, base.median, base.min, base.max, mine.median, mine.min,
            mine.max, base.median > 0 ? mine.median / base.median : 0);
}

static inline void bench_latency_json (const zflow_histogram_t *h)
{
    printf ("{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f,\"mean\":%.2f,"
            "\"count\":%llu}",
            zflow_histogram_percentile (h, 50) / 1e3, zflow_histogram_percentile (h, 90) / 1e3,
            zflow_histogram_percentile (h, 99) / 1e3, zflow_histogram_percentile (h, 99.9) / 1e3,
            zflow_histogram_max (h) / 1e3, zflow_histogram_mean (h) / 1e3,
            (unsigned long long) zflow_histogram_count (h));
}

//  Latency histograms hold nanoseconds; the line gives microseconds.
static inline void bench_latency_print (const char *suite, const char *name, double rate,
                                        const char *baseline, const zflow_histogram_t *base,
                                        const zflow_histogram_t *mine)
{
    printf ("LATENCY {\"suite\":\"%s\",\"name\":\"%s\",\"rate\":%.0f,\"unit\":\"us\","
            "\"baseline\":\"%s\",\"base\":",
            suite, name, rate, baseline);
    bench_latency_json (base);
    printf (",\"zflow\":");
    bench_latency_json (mine);
    printf ("}\n");
}

#endif
