/* fomctl's human output: the status document as tables, events as one line each.
 * Scripts use --json instead; nothing here is meant to be parsed. */
#ifndef FOMCTL_RENDER_H
#define FOMCTL_RENDER_H

#include <jansson.h>
#include <stdio.h>

void render_status(FILE *out, const json_t *status);
void render_event(FILE *out, const json_t *event);
/* `fomctl simulate`: per group, owner now -> owner after, and why. */
void render_simulate(FILE *out, const json_t *result);
/* `fomctl history`: its entries, one line each, with their dates. */
void render_history(FILE *out, const json_t *entries);
/* `fomctl log report`: the review of an audit log (logreport.h's document). */
void render_log_report(FILE *out, const json_t *report);

#endif
