/* The detector judges each sample against the window as it was before that sample
 * (median and MAD, robust to the outliers it looks for), then adds it: a lasting step
 * is flagged after m samples and, once the window has learned the new level, the
 * flag clears again. That is the intent: an anomaly is a change, not a level. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void stats_init(struct stats *st, double k, unsigned m)
{
	memset(st, 0, sizeof(*st));
	st->k = k;
	st->m = m ? m : 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
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
	double sorted[STATS_WINDOW];

	memcpy(sorted, st->window, st->n * sizeof(double));
	qsort(sorted, st->n, sizeof(double), cmp_double);
	return sorted_quantile(sorted, st->n, q);
}

void stats_baseline(const struct stats *st, double *median, double *mad)
{
	double v[STATS_WINDOW];

	memcpy(v, st->window, st->n * sizeof(double));
	qsort(v, st->n, sizeof(double), cmp_double);
	*median = sorted_median(v, st->n);
	for (unsigned i = 0; i < st->n; i++)
		v[i] = fabs(v[i] - *median);
	qsort(v, st->n, sizeof(double), cmp_double);
	*mad = sorted_median(v, st->n);
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
	st->window[st->head] = latency_s;
	st->head = (st->head + 1) % STATS_WINDOW;
	if (st->n < STATS_WINDOW)
		st->n++;
	st->last = latency_s;
	st->ewma = st->count ? STATS_EWMA_ALPHA * latency_s + (1 - STATS_EWMA_ALPHA) * st->ewma : latency_s;
	st->count++;
	st->sum += latency_s;
	return changed;
}
