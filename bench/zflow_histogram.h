/*  =========================================================================
    zflow_histogram - an HDR-style latency histogram

    Log-linear buckets: each power of two is split into 128 linear
    sub-buckets, so every recorded value is kept within 1/128 (0.8 %) of
    itself from 1 up to 2^44 (about 4.9 hours in nanoseconds), in a fixed
    45 KiB whatever the count. Recording is a few instructions and never
    allocates. Values are unitless; zflow records nanoseconds.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#ifndef ZFLOW_HISTOGRAM_H_INCLUDED
#define ZFLOW_HISTOGRAM_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _zflow_histogram_t zflow_histogram_t;

//  Largest value kept exactly in its bucket; larger values are counted in
//  the top bucket and still seen by zflow_histogram_max.
#define ZFLOW_HISTOGRAM_MAX_VALUE ((uint64_t) 1 << 44)

//  Creates an empty histogram. Returns NULL only when out of memory. The
//  caller owns it (zflow_histogram_destroy).
zflow_histogram_t *zflow_histogram_new (void);

//  Destroys the histogram and sets *self_p to NULL. Idempotent.
void zflow_histogram_destroy (zflow_histogram_t **self_p);

//  Records one value (negative values count as 0).
void zflow_histogram_record (zflow_histogram_t *self, int64_t value);

//  Adds every count of other into self.
void zflow_histogram_merge (zflow_histogram_t *self, const zflow_histogram_t *other);

//  Forgets every value.
void zflow_histogram_reset (zflow_histogram_t *self);

//  Returns the number of values recorded.
uint64_t zflow_histogram_count (const zflow_histogram_t *self);

//  Returns the smallest / largest value recorded exactly (0 when empty).
uint64_t zflow_histogram_min (const zflow_histogram_t *self);
uint64_t zflow_histogram_max (const zflow_histogram_t *self);

//  Returns the mean of the values (bucket midpoints), 0 when empty.
double zflow_histogram_mean (const zflow_histogram_t *self);

//  Returns the value at percentile (0..100, e.g. 99.9): the upper edge of
//  the bucket holding that rank, never above max. 0 when empty.
uint64_t zflow_histogram_percentile (const zflow_histogram_t *self, double percentile);

#ifdef __cplusplus
}
#endif

#endif
