/*  =========================================================================
    zflow_histogram - an HDR-style latency histogram

    Bucket index: values below 128 map to themselves (exact); a larger value
    with its top bit at position m (m >= 7) maps to (m - 6) * 128 + the
    next 7 bits below the top bit. So bucket width doubles every 128
    buckets and the relative error stays under 1/128.

    Copyright (c) the zflow contributors.
    This Source Code Form is subject to the terms of the Mozilla Public
    License, v. 2.0. If a copy of the MPL was not distributed with this
    file, You can obtain one at http://mozilla.org/MPL/2.0/.
    =========================================================================
*/
#include "zflow_histogram.h"
#include <stdlib.h>
#include <string.h>

#define SUB_BITS 7
#define SUB_COUNT (1 << SUB_BITS)
#define MAX_BIT 44
#define BUCKETS ((MAX_BIT - SUB_BITS + 1) * SUB_COUNT)

struct _zflow_histogram_t {
    uint64_t counts[BUCKETS]; //  values per bucket
    uint64_t total;           //  values recorded
    uint64_t min;             //  smallest value recorded
    uint64_t max;             //  largest value recorded
};

zflow_histogram_t *zflow_histogram_new (void)
{
    zflow_histogram_t *self = (zflow_histogram_t *) calloc (1, sizeof (zflow_histogram_t));
    if (self)
        self->min = UINT64_MAX;
    return self;
}

void zflow_histogram_destroy (zflow_histogram_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static size_t s_index (uint64_t value)
{
    if (value >= ZFLOW_HISTOGRAM_MAX_VALUE)
        return BUCKETS - 1;
    if (value < SUB_COUNT)
        return (size_t) value;
    int top = 63 - __builtin_clzll (value);
    size_t sub = (size_t) (value >> (top - SUB_BITS)) & (SUB_COUNT - 1);
    return (size_t) (top - SUB_BITS + 1) * SUB_COUNT + sub;
}

//  The lowest value of bucket index, and its width.
static uint64_t s_bucket_low (size_t index, uint64_t *width)
{
    if (index < SUB_COUNT) {
        *width = 1;
        return index;
    }
    int top = (int) (index / SUB_COUNT) + SUB_BITS - 1;
    uint64_t sub = index % SUB_COUNT;
    *width = (uint64_t) 1 << (top - SUB_BITS);
    return ((uint64_t) 1 << top) + sub * *width;
}

void zflow_histogram_record (zflow_histogram_t *self, int64_t value)
{
    uint64_t v = value < 0 ? 0 : (uint64_t) value;
    self->counts[s_index (v)]++;
    self->total++;
    if (v < self->min)
        self->min = v;
    if (v > self->max)
        self->max = v;
}

void zflow_histogram_merge (zflow_histogram_t *self, const zflow_histogram_t *other)
{
    for (size_t i = 0; i < BUCKETS; i++)
        self->counts[i] += other->counts[i];
    self->total += other->total;
    if (other->total && other->min < self->min)
        self->min = other->min;
    if (other->max > self->max)
        self->max = other->max;
}

void zflow_histogram_reset (zflow_histogram_t *self)
{
    memset (self, 0, sizeof (*self));
    self->min = UINT64_MAX;
}

uint64_t zflow_histogram_count (const zflow_histogram_t *self)
{
    return self->total;
}

uint64_t zflow_histogram_min (const zflow_histogram_t *self)
{
    return self->total ? self->min : 0;
}

uint64_t zflow_histogram_max (const zflow_histogram_t *self)
{
    return self->max;
}

double zflow_histogram_mean (const zflow_histogram_t *self)
{
    if (!self->total)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < BUCKETS; i++)
        if (self->counts[i]) {
            uint64_t width;
            uint64_t low = s_bucket_low (i, &width);
            sum += (double) self->counts[i] * ((double) low + (double) (width - 1) / 2);
        }
    return sum / (double) self->total;
}

uint64_t zflow_histogram_percentile (const zflow_histogram_t *self, double percentile)
{
    if (!self->total)
        return 0;
    if (percentile < 0)
        percentile = 0;
    if (percentile > 100)
        percentile = 100;
    //  the rank of the value asked for, 1-based, at least the first
    uint64_t rank = (uint64_t) (percentile / 100.0 * (double) self->total + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank >= self->total)
        return self->max; //  the largest value is known exactly
    uint64_t seen = 0;
    for (size_t i = 0; i < BUCKETS; i++) {
        seen += self->counts[i];
        if (seen >= rank) {
            uint64_t width;
            uint64_t high = s_bucket_low (i, &width) + width - 1;
            return high < self->max ? high : self->max;
        }
    }
    return self->max;
}
