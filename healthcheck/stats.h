/* Response-time statistics of one check: last, EWMA, quantiles over a sliding
 * window, and an anomaly flag raised when latency leaves its own learned baseline.
 * Pure: no I/O, time passed in, so tests drive it with synthetic series. */
#ifndef HC_STATS_H
#define HC_STATS_H

#include <stdbool.h>
#include <stdint.h>

#define STATS_WINDOW 128     /* samples in the sliding window; at most 256 (ages are one byte) */
#define STATS_MIN_BASELINE 16 /* samples before the detector judges anything */
#define STATS_EWMA_ALPHA 0.2
/* MAD floor, so a near-constant baseline does not flag microsecond noise: the larger
 * of 100 us and 5 % of the median. */
#define STATS_MAD_FLOOR_ABS 100e-6
#define STATS_MAD_FLOOR_REL 0.05

struct stats {
	/* The window, kept sorted (ascending) as samples come and go, so judging a
	 * sample and reading a quantile sort nothing; age[i] is the low byte of the
	 * arrival number of sorted[i], which finds the oldest sample to drop. */
	double sorted[STATS_WINDOW]; /* seconds */
	uint8_t age[STATS_WINDOW];
	unsigned n;                  /* samples held */
	double last, ewma;
	uint64_t count;              /* every sample ever added */
	double sum;                  /* of every sample, seconds */
	/* anomaly detector */
	double k;                    /* robust deviations: |x - median| > k * 1.4826 * MAD */
	unsigned m;                  /* consecutive samples to raise or clear the flag */
	int run;                     /* signed: >0 anomalous in a row, <0 normal in a row */
	bool anomaly;
	uint64_t anomaly_since_ms;   /* when the flag last changed */
	double last_score;           /* |x - median| / (1.4826 * MAD) of the last sample */
	double baseline_median;      /* baseline the last sample was judged against */
};

void stats_init(struct stats *st, double k, unsigned m);

/* Adds one latency sample (seconds) at now_ms. Returns 1 when the anomaly flag
 * changed (raised or cleared), else 0. */
int stats_add(struct stats *st, double latency_s, uint64_t now_ms);

/* Quantile q (0..1) of the window, nearest-rank; 0 when empty. */
double stats_quantile(const struct stats *st, double q);

/* Median and median absolute deviation of the window (the baseline). */
void stats_baseline(const struct stats *st, double *median, double *mad);

#endif
