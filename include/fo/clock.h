/* Monotonic and wall-clock time in milliseconds and microseconds. Modules that make
 * time-based decisions take "now" as an argument so unit tests drive a simulated
 * clock instead of sleeping. */
#ifndef FO_CLOCK_H
#define FO_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
uint64_t clock_real_ms(void);

#endif
