/* lat_stats.h: a bounded window of latency samples with percentiles (pure). */
#ifndef RUTH_CORE_LAT_STATS_H
#define RUTH_CORE_LAT_STATS_H

#include <stddef.h>
#include <stdint.h>

#define LAT_STATS_WINDOW 512

struct lat_stats {
	uint32_t samples[LAT_STATS_WINDOW]; /* microseconds */
	size_t n, next;
};

void lat_stats_add(struct lat_stats *s, uint64_t us);
/* p in [0,100]; 0 when empty. Nearest-rank over the window. */
uint32_t lat_stats_percentile(const struct lat_stats *s, double p);

#endif
