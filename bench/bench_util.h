/*  =========================================================================
    bench_util - shared helpers for zflow's benchmark programs: timing,
    CPU pinning, run statistics, a progress line on stderr, host details.
    Header-only (static functions) so each benchmark stays one program.
    =========================================================================
*/
#ifndef ZFLOW_BENCH_UTIL_H_INCLUDED
#define ZFLOW_BENCH_UTIL_H_INCLUDED

#include <czmq.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

//  Monotonic time in nanoseconds.
static inline int64_t bench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

//  Pins the calling thread to one CPU (modulo the CPUs there are); cpu < 0
//  leaves it unpinned. Thread placement moves inproc figures several-fold
//  on small machines, so both sides of a comparison are placed alike.
static inline void bench_pin (int cpu)
{
    if (cpu < 0)
        return;
    long cpus = sysconf (_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO (&set);
    CPU_SET (cpu % (cpus > 0 ? cpus : 1), &set);
    pthread_setaffinity_np (pthread_self (), sizeof (set), &set);
}

static int bench_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  Sorts values[0..n) and returns the median.
static inline double bench_median (double *values, int n)
{
    qsort (values, (size_t) n, sizeof (double), bench_cmp_double);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

//  Draws a progress bar on stderr: label, done out of total.
static inline void bench_progress (const char *label, int done, int total)
{
    if (!isatty (STDERR_FILENO) && done != total)
        return; //  not a terminal: only the final line, no carriage returns
    int width = 30, filled = total ? done * width / total : width;
    fprintf (stderr, "\r%-24s [", label);
    for (int i = 0; i < width; i++)
        fputc (i < filled ? '#' : '.', stderr);
    fprintf (stderr, "] %d/%d%s", done, total, done == total ? "\n" : "");
    fflush (stderr);
}

//  Prints the host: cores, CPU model, library versions, pinning.
static inline void bench_print_host (bool pinned)
{
    char model[256] = "unknown";
    FILE *file = fopen ("/proc/cpuinfo", "r");
    char line[512];
    while (file && fgets (line, sizeof (line), file))
        if (strncmp (line, "model name", 10) == 0) {
            char *colon = strchr (line, ':');
            if (colon) {
                snprintf (model, sizeof (model), "%s", colon + 2);
                model[strcspn (model, "\n")] = 0;
            }
            break;
        }
    if (file)
        fclose (file);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    printf ("host: %ld cores, %s\n", sysconf (_SC_NPROCESSORS_ONLN), model);
    printf ("versions: libzmq %d.%d.%d, czmq %d.%d.%d, msgpack-c %s\n", major, minor, patch,
            CZMQ_VERSION_MAJOR, CZMQ_VERSION_MINOR, CZMQ_VERSION_PATCH, ZFLOW_MSGPACK_VERSION);
    printf ("affinity: %s\n", pinned ? "sender on CPU 0, receiver on CPU 1" : "not pinned");
}

#endif
