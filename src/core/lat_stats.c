/* lat_stats.c: see lat_stats.h. */
#include "lat_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void lat_stats_add(struct lat_stats *s, uint64_t us)
{
	s->samples[s->next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	s->next = (s->next + 1) % LAT_STATS_WINDOW;
	if (s->n < LAT_STATS_WINDOW)
		s->n++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

uint32_t lat_stats_percentile(const struct lat_stats *s, double p)
{
	if (!s->n)
		return 0;
	uint32_t tmp[LAT_STATS_WINDOW];
	memcpy(tmp, s->samples, s->n * sizeof(tmp[0]));
	qsort(tmp, s->n, sizeof(tmp[0]), cmp_u32);
	double rank = ceil(p / 100.0 * (double)s->n);
	size_t idx = rank < 1 ? 0 : (size_t)rank - 1;
	if (idx >= s->n)
		idx = s->n - 1;
	return tmp[idx];
}
