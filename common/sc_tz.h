/* sc_tz.h: IANA time zones read from TZif files ($TZDIR or /usr/share/zoneinfo),
 * including the POSIX TZ footer rule for instants past the last transition.
 *
 * A loaded zone is immutable and may be shared between threads. Lookups are a
 * binary search over the transitions (the footer rule is expanded into the
 * table up to the year 2200 at load time, and evaluated directly beyond), and
 * never allocate. Leap-second ("right/") data is ignored. */
#ifndef SC_TZ_H
#define SC_TZ_H
#include <stddef.h>
#include <stdint.h>

typedef struct sc_tz_s sc_tz_t;

/* name: an IANA name ("Europe/Warsaw"); "UTC" and "Etc/UTC" always work, even
 * without tzdata. Absolute paths and names containing ".." are refused. Returns
 * NULL with a reason in errstr. The caller frees the zone with sc_tz_destroy(). */
sc_tz_t *sc_tz_load(const char *name, char *errstr, size_t errstr_size);
/* Addition: a zone from a POSIX TZ string alone ("CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0530>-5:30", Jn and n day forms, signed offsets and transition times).
 * sc_tz_name() returns the string itself. */
sc_tz_t *sc_tz_load_posix(const char *spec, char *errstr, size_t errstr_size);
void sc_tz_destroy(sc_tz_t *tz);
const char *sc_tz_name(const sc_tz_t *tz);
int32_t sc_tz_offset(const sc_tz_t *tz, int64_t utc_ms); /* seconds east of UTC */
/* local_ms: the local wall clock read as if it were UTC. In a spring-forward gap:
 * the transition instant; in an autumn overlap: the earlier instant. */
int64_t sc_tz_local_to_utc(const sc_tz_t *tz, int64_t local_ms);
int64_t sc_tz_local_day(const sc_tz_t *tz,
                        int64_t utc_ms); /* local date as days since 1970-01-01 */

/* Proleptic Gregorian date <-> days since 1970-01-01, for every date
 * computation of the project (sc_time's formatting and parsing too). */
int64_t sc_tz_days_from_civil(int64_t y, unsigned m, unsigned d);
void sc_tz_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Days in month m (1..12) of year y. */
unsigned sc_tz_month_days(int64_t y, unsigned m);

#endif
