/* fomctl's complaints. Each is "fomctl: why" on stderr; with --json the first one
 * is also printed at exit as one JSON object on stdout,
 * {"ok":false,"error":why,"code":exit status}, unless the command already printed
 * its JSON answer, so a script reading stdout gets JSON whatever happened. */
#ifndef FOMCTL_FAILURE_H
#define FOMCTL_FAILURE_H

void failure_json_mode(int on);
void failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The command printed its JSON answer (even one that says it failed). */
void failure_answered(void);
/* At exit: prints the JSON complaint if one is due; returns rc. */
int failure_finish(int rc);

#endif
