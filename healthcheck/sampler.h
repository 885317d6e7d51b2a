/* Periodic sampling of node resources and connection volume (resources.c reads and
 * judges them; this module owns the timer, the previous sample the next one needs,
 * the per-port connection counts, and the capacity warnings, logged when they appear
 * and clear). Served in /metrics and /status. */
#ifndef HC_SAMPLER_H
#define HC_SAMPLER_H

#include "hcconfig.h"

#include <ev.h>
#include <jansson.h>

struct sampler;

/* Samples at once, then every conf->interval_ms. NULL when out of memory. */
struct sampler *sampler_new(struct ev_loop *loop, const struct hc_resources_conf *conf);
void sampler_free(struct sampler *sampler);

/* A reload: new thresholds and interval, samples kept. */
void sampler_configure(struct sampler *sampler, const struct hc_resources_conf *conf);

/* Prometheus text of the last sample; malloc'd, the caller frees it (NULL: no memory). */
char *sampler_render_metrics(const struct sampler *sampler);
/* JSON object of the last sample and the warnings (a new reference). */
json_t *sampler_status_json(const struct sampler *sampler);

#endif
