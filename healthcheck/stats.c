/* The detector judges each sample against the window as it was before that sample
 * (median and MAD, robust to the outliers it looks for), then adds it: a lasting step
 * is flagged after m samples and, once the window has learned the new level, the
 * flag clears again. That is the intent: an anomaly is a change, not a level. */
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(STATS_WINDOW <= 256, "an age byte must tell every sample of the window apart");

void stats_init(struct stats *st, double k, unsigned m)
{
	memset(st, 0, sizeof(*st));
	st->k = k;
	st->m = m ? m : 1;
}

static double sorted_quantile(const double *v, unsigned n, double q)
{
	unsigned rank;

	if (n == 0)
		return 0;
	if (q <= 0)
		return v[0];
	rank = (unsigned)ceil(q * n); /* nearest rank, 1-based */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

static double sorted_median(const double *v, unsigned n)
{
	if (n == 0)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double stats_quantile(const struct stats *st, double q)
{
	return sorted_quantile(st->sorted, st->n, q);
}

/* The deviations |v - median| of a sorted window, in ascending order, are a merge of
 * two sorted runs: from the median down and from the median up. The MAD is the
 * median of that merge, so it takes n/2 + 1 steps and no sort. */
void stats_baseline(const struct stats *st, double *median, double *mad)
{
	const double *v = st->sorted;
	unsigned n = st->n, lo, hi, want = n / 2;
	double m, d = 0, prev = 0;

	m = sorted_median(v, n);
	*median = m;
	*mad = 0;
	if (n == 0)
		return;
	for (hi = 0; hi < n && v[hi] < m; hi++)
		;
	lo = hi; /* v[lo - 1] is the nearest below the median, v[hi] the nearest at or above */
	for (unsigned i = 0; i <= want; i++) {
		double below = lo > 0 ? fabs(v[lo - 1] - m) : INFINITY;
		double above = hi < n ? fabs(v[hi] - m) : INFINITY;

		prev = d;
		if (below <= above) {
			d = below;
			lo--;
		} else {
			d = above;
			hi++;
		}
	}
	*mad = n % 2 ? d : (prev + d) / 2;
}

/* Drops the oldest sample once the window is full and inserts x in order. */
static void window_add(struct stats *st, double x)
{
	uint8_t arrival = (uint8_t)st->count;
	unsigned lo = 0, hi;

	if (st->n == STATS_WINDOW) {
		const uint8_t *oldest = memchr(st->age, (uint8_t)(arrival - STATS_WINDOW), st->n);
		unsigned i = oldest ? (unsigned)(oldest - st->age) : 0;

		memmove(&st->sorted[i], &st->sorted[i + 1], (st->n - i - 1) * sizeof(st->sorted[0]));
		memmove(&st->age[i], &st->age[i + 1], st->n - i - 1);
		st->n--;
	}
	hi = st->n;
	while (lo < hi) { /* first element greater than x */
		unsigned mid = (lo + hi) / 2;

		if (st->sorted[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&st->sorted[lo + 1], &st->sorted[lo], (st->n - lo) * sizeof(st->sorted[0]));
	memmove(&st->age[lo + 1], &st->age[lo], st->n - lo);
	st->sorted[lo] = x;
	st->age[lo] = arrival;
	st->n++;
}

static int judge(struct stats *st, double x, uint64_t now_ms)
{
	double median, mad, floor_mad, score;
	bool anomalous;

	if (st->n < STATS_MIN_BASELINE)
		return 0;
	stats_baseline(st, &median, &mad);
	floor_mad = fmax(STATS_MAD_FLOOR_ABS, STATS_MAD_FLOOR_REL * median);
	if (mad < floor_mad)
		mad = floor_mad;
	score = fabs(x - median) / (1.4826 * mad);
	st->last_score = score;
	st->baseline_median = median;
	anomalous = score > st->k;
	/* one signed counter, as rise/fall */
	if (anomalous)
		st->run = st->run > 0 ? st->run + 1 : 1;
	else
		st->run = st->run < 0 ? st->run - 1 : -1;
	if (st->run > (int)st->m)
		st->run = (int)st->m;
	if (st->run < -(int)st->m)
		st->run = -(int)st->m;
	if (!st->anomaly && st->run >= (int)st->m) {
		st->anomaly = true;
		st->anomaly_since_ms = now_ms;
		return 1;
	}
	if (st->anomaly && st->run <= -(int)st->m) {
		st->anomaly = false;
		st->anomaly_since_ms = now_ms;
		return 1;
	}
	return 0;
}

int stats_add(struct stats *st, double latency_s, uint64_t now_ms)
{
	int changed;

	if (!isfinite(latency_s) || latency_s < 0)
		return 0;
	changed = judge(st, latency_s, now_ms);
	window_add(st, latency_s);
	st->last = latency_s;
	st->ewma = st->count ? STATS_EWMA_ALPHA * latency_s + (1 - STATS_EWMA_ALPHA) * st->ewma : latency_s;
	st->count++;
	st->sum += latency_s;
	return changed;
}
