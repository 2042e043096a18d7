/* TEMPORARY stand-in for common/sc_calendar.h (branch `calendar`): only the
 * built-in "24x7" calendar. Same API as the brief. */
#ifndef SC_CALENDAR_H
#define SC_CALENDAR_H
#include <stddef.h>
#include <stdint.h>

#include "sc_tz.h"
#include "sc_yaml.h"

typedef struct sc_calendar_s sc_calendar_t;
typedef struct sc_calendars_s sc_calendars_t;
sc_calendars_t *sc_calendars_new(const sc_yaml_node_t *root, char *errstr,
                                 size_t errstr_size);
void sc_calendars_destroy(sc_calendars_t *cs);
const sc_calendar_t *sc_calendars_find(const sc_calendars_t *cs, const char *id);
size_t sc_calendars_count(const sc_calendars_t *cs);
const sc_calendar_t *sc_calendars_at(const sc_calendars_t *cs, size_t i);
const char *sc_calendar_id(const sc_calendar_t *c);
const sc_tz_t *sc_calendar_tz(const sc_calendar_t *c);
int sc_calendar_is_open(const sc_calendar_t *c, int64_t t_ms);
int64_t sc_calendar_add(const sc_calendar_t *c, int64_t start_ms, int64_t business_ms);
int64_t sc_calendar_between(const sc_calendar_t *c, int64_t a_ms, int64_t b_ms);

#endif
