/* Time helpers shared by every worker. All times are UTC epoch milliseconds. */
#ifndef SC_TIME_H
#define SC_TIME_H
#include <stddef.h>
#include <stdint.h>

/* Instants and durations the arithmetic accepts (about +-142 000 years):
 * within them no sum of two values or offset can overflow int64_t. Inputs
 * decoded from records are clamped to them before any calendar math. */
#define SC_TIME_MAX_MS ((int64_t)1 << 52)
#define SC_TIME_MIN_MS (-SC_TIME_MAX_MS)
static inline int64_t sc_time_clamp(int64_t ms)
{
        return ms < SC_TIME_MIN_MS   ? SC_TIME_MIN_MS
               : ms > SC_TIME_MAX_MS ? SC_TIME_MAX_MS
                                     : ms;
}

/* Wall clock. In a build with the test hooks (cmake -DSC_TEST_HOOKS=ON, the
 * default; the Dockerfile's product build has them OFF) tests may pin it
 * with SC_FAKE_NOW_MS in the environment. */
int64_t sc_now_ms(void);
/* Monotonic clock, for timeouts and latencies. */
int64_t sc_mono_ms(void);
int64_t sc_mono_ns(void);

/* RFC 3339 / ISO 8601 ("2026-11-22T10:15:00Z", "+01:00" offsets, fractions)
 * and X's "Wed Oct 10 20:19:24 +0000 2018". Returns 0 and sets *ms, or -1. */
int sc_time_parse(const char *s, size_t len, int64_t *ms);
/* Writes "2026-11-22T10:15:00.123Z" (25 bytes incl. NUL). */
void sc_time_format(int64_t ms, char out[32]);
/* A duration as written in the deployment file: "250ms", "90s", "15m", "1h",
 * "2h30m", "1d" (24 h), or a bare number of seconds. Returns 0 and sets *ms,
 * or -1 (empty, negative, unknown unit, overflow). */
int sc_duration_parse(const char *s, int64_t *ms);
/* Days since epoch -> "YYYY-MM-DD" (11 bytes incl. NUL). */
void sc_time_format_day(int64_t ms, char out[16]);

#endif
