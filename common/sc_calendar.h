/* sc_calendar.h: business calendars (the `calendars:` section of the
 * deployment file, see docs/CALENDARS.md).
 *
 * Opening hours are local wall-clock times in the calendar's zone; each local
 * day's ranges are converted to UTC with sc_tz_local_to_utc(), so a range
 * that spans a DST change is an hour shorter (spring) or longer (autumn).
 * Calendars are immutable once built and may be shared between threads; the
 * arithmetic walks day by day and never allocates. */
#ifndef SC_CALENDAR_H
#define SC_CALENDAR_H
#include <stddef.h>
#include <stdint.h>

#include "sc_tz.h"
#include "sc_yaml.h"

typedef struct sc_calendar_s sc_calendar_t;
typedef struct sc_calendars_s sc_calendars_t;

/* root: the whole deployment tree (may be NULL). Always contains a built-in
 * "24x7" (always open, UTC); a user calendar named "24x7" is an error. Returns
 * NULL with "line N: calendar ID: reason" in errstr. The caller frees the set
 * with sc_calendars_destroy(); calendars and zones belong to the set. */
sc_calendars_t *sc_calendars_new(const sc_yaml_node_t *root, char *errstr,
                                 size_t errstr_size);
void sc_calendars_destroy(sc_calendars_t *cs);
/* NULL when unknown. */
const sc_calendar_t *sc_calendars_find(const sc_calendars_t *cs, const char *id);
/* Built-in "24x7" first, then the file's calendars in file order. */
size_t sc_calendars_count(const sc_calendars_t *cs);
const sc_calendar_t *sc_calendars_at(const sc_calendars_t *cs, size_t i);
const char *sc_calendar_id(const sc_calendar_t *c);
const sc_tz_t *sc_calendar_tz(const sc_calendar_t *c);
int sc_calendar_is_open(const sc_calendar_t *c, int64_t t_ms);
/* The instant at which business_ms of open time has elapsed since start_ms
 * (counting starts at the next opening when start is outside hours). -1 when the
 * calendar has no open time within a year. No allocation.
 * add(start, 0) is start when open, else the next opening; a negative
 * business_ms counts as 0. When the target ends exactly at a closing time the
 * closing instant is returned. */
int64_t sc_calendar_add(const sc_calendar_t *c, int64_t start_ms, int64_t business_ms);
/* Open time in [a_ms, b_ms), in ms; 0 when b_ms <= a_ms. No allocation;
 * O(days between a and b). */
int64_t sc_calendar_between(const sc_calendar_t *c, int64_t a_ms, int64_t b_ms);
/* Addition: 1 when the calendar is open all the time (plain arithmetic). */
int sc_calendar_is_24x7(const sc_calendar_t *c);

#endif
