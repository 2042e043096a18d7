/* TEMPORARY: UTC-only time zones and a 24x7-only calendar set, until the
 * calendar branch is merged (then CMake stops compiling this file). */
#include <stdlib.h>
#include <string.h>

#include "sc_calendar.h"
#include "sc_tz.h"

struct sc_tz_s {
        int unused;
};
struct sc_calendar_s {
        int unused;
};
struct sc_calendars_s {
        int unused;
};
static sc_tz_t utc;
static sc_calendar_t always;
static sc_calendars_t cals;

sc_tz_t *sc_tz_load(const char *name, char *errstr, size_t errstr_size)
{
        (void)name, (void)errstr, (void)errstr_size;
        return &utc;
}
void sc_tz_destroy(sc_tz_t *tz)
{
        (void)tz;
}
const char *sc_tz_name(const sc_tz_t *tz)
{
        (void)tz;
        return "UTC";
}
int32_t sc_tz_offset(const sc_tz_t *tz, int64_t utc_ms)
{
        (void)tz, (void)utc_ms;
        return 0;
}
int64_t sc_tz_local_to_utc(const sc_tz_t *tz, int64_t local_ms)
{
        (void)tz;
        return local_ms;
}
int64_t sc_tz_local_day(const sc_tz_t *tz, int64_t utc_ms)
{
        (void)tz;
        return utc_ms >= 0 ? utc_ms / 86400000 : (utc_ms - 86399999) / 86400000;
}
sc_calendars_t *sc_calendars_new(const sc_yaml_node_t *root, char *errstr,
                                 size_t errstr_size)
{
        (void)root, (void)errstr, (void)errstr_size;
        return &cals;
}
void sc_calendars_destroy(sc_calendars_t *cs)
{
        (void)cs;
}
const sc_calendar_t *sc_calendars_find(const sc_calendars_t *cs, const char *id)
{
        (void)cs;
        return id && !strcmp(id, "24x7") ? &always : NULL;
}
size_t sc_calendars_count(const sc_calendars_t *cs)
{
        (void)cs;
        return 1;
}
const sc_calendar_t *sc_calendars_at(const sc_calendars_t *cs, size_t i)
{
        (void)cs;
        return i == 0 ? &always : NULL;
}
const char *sc_calendar_id(const sc_calendar_t *c)
{
        (void)c;
        return "24x7";
}
const sc_tz_t *sc_calendar_tz(const sc_calendar_t *c)
{
        (void)c;
        return &utc;
}
int sc_calendar_is_open(const sc_calendar_t *c, int64_t t_ms)
{
        (void)c, (void)t_ms;
        return 1;
}
int64_t sc_calendar_add(const sc_calendar_t *c, int64_t start_ms, int64_t business_ms)
{
        (void)c;
        return start_ms + business_ms;
}
int64_t sc_calendar_between(const sc_calendar_t *c, int64_t a_ms, int64_t b_ms)
{
        (void)c;
        return b_ms > a_ms ? b_ms - a_ms : 0;
}
