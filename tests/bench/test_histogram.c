/*  Tests for zflow_histogram: exact small values, bounded error, percentiles. */
#include "zflow_histogram.h"
#include "zflow_testing.h"
#include <math.h>

static void test_small_exact (void)
{
    zflow_histogram_t *h = zflow_histogram_new ();
    CHECK (zflow_histogram_percentile (h, 50) == 0 && zflow_histogram_count (h) == 0);
    CHECK (zflow_histogram_min (h) == 0 && zflow_histogram_mean (h) == 0);
    for (int v = 1; v <= 100; v++)
        zflow_histogram_record (h, v);
    CHECK (zflow_histogram_count (h) == 100);
    CHECK (zflow_histogram_min (h) == 1 && zflow_histogram_max (h) == 100);
    CHECK (zflow_histogram_percentile (h, 50) == 50);
    CHECK (zflow_histogram_percentile (h, 90) == 90);
    CHECK (zflow_histogram_percentile (h, 99) == 99);
    CHECK (zflow_histogram_percentile (h, 100) == 100);
    CHECK (zflow_histogram_percentile (h, 0) == 1);
    CHECK (fabs (zflow_histogram_mean (h) - 50.5) < 1e-9);
    zflow_histogram_record (h, -5); //  counts as 0
    CHECK (zflow_histogram_min (h) == 0);
    zflow_histogram_destroy (&h);
    CHECK (h == NULL);
}

//  Large values keep their percentile within 1/128 of the true value.
static void test_relative_error (void)
{
    zflow_histogram_t *h = zflow_histogram_new ();
    //  a spread over six decades, 1 us .. 1 s in ns, log-uniform
    const int n = 100000;
    for (int i = 0; i < n; i++)
        zflow_histogram_record (h, (int64_t) (1000.0 * pow (1e6, (double) i / (n - 1))));
    double percentiles[] = {50, 90, 99, 99.9};
    for (int p = 0; p < 4; p++) {
        double truth = 1000.0 * pow (1e6, percentiles[p] / 100.0);
        double got = (double) zflow_histogram_percentile (h, percentiles[p]);
        CHECK (fabs (got - truth) / truth < 2.0 / 128);
    }
    CHECK (zflow_histogram_max (h) == 1000000000);
    //  beyond the top: counted, max still exact
    zflow_histogram_record (h, (int64_t) ZFLOW_HISTOGRAM_MAX_VALUE * 4);
    CHECK (zflow_histogram_max (h) == ZFLOW_HISTOGRAM_MAX_VALUE * 4);
    CHECK (zflow_histogram_percentile (h, 100) == ZFLOW_HISTOGRAM_MAX_VALUE * 4);
    zflow_histogram_destroy (&h);
}

static void test_merge (void)
{
    zflow_histogram_t *a = zflow_histogram_new ();
    zflow_histogram_t *b = zflow_histogram_new ();
    for (int i = 0; i < 1000; i++) {
        zflow_histogram_record (a, 1000);
        zflow_histogram_record (b, 1000000);
    }
    zflow_histogram_merge (a, b);
    CHECK (zflow_histogram_count (a) == 2000);
    //  1000 lies in the bucket [1000, 1003] (width 4 between 512 and 1024)
    CHECK (zflow_histogram_percentile (a, 25) == 1003);
    CHECK (zflow_histogram_percentile (a, 75) == 1000000);
    CHECK (zflow_histogram_min (a) == 1000 && zflow_histogram_max (a) == 1000000);
    zflow_histogram_reset (a);
    CHECK (zflow_histogram_count (a) == 0 && zflow_histogram_max (a) == 0);
    zflow_histogram_destroy (&a);
    zflow_histogram_destroy (&b);
}

int main (void)
{
    printf ("test_histogram\n");
    RUN (test_small_exact);
    RUN (test_relative_error);
    RUN (test_merge);
    return 0;
}
