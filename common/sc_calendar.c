#include "sc_calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_time.h"
#include <strings.h>

#define DAY_MS     86400000LL
#define MAX_RANGES 8
/* add(): give up after this many consecutive local days without open time
 * ("no open time within a year"), or after this many days in all. */
#define MAX_IDLE_DAYS 400
#define MAX_ADD_DAYS  4000
/* between(): longest interval walked (about 270 years). */
#define MAX_BETWEEN_DAYS 100000

typedef struct {
        int n;
        uint16_t s[MAX_RANGES], e[MAX_RANGES]; /* local minutes, e <= 1440 */
} day_hours_t;

struct sc_calendar_s {
        char *id;
        sc_tz_t *tz;
        int always;          /* open all the time: plain arithmetic */
        day_hours_t week[7]; /* 0 = Monday */
        int64_t *hol;        /* explicit holidays, local days since epoch, sorted */
        size_t hol_n;
        int has_yearly;
        uint8_t yearly[13][32]; /* [month][day] closes every year */
};

struct sc_calendars_s {
        sc_calendar_t **c;
        size_t n;
};

/* UTC intervals of one local day. */
typedef struct {
        int n;
        int64_t s[MAX_RANGES], e[MAX_RANGES];
} spans_t;

static int weekday(int64_t day) /* 0 = Monday; 1970-01-01 was a Thursday */
{
        return (int)(((day % 7) + 7 + 3) % 7);
}

static int is_holiday(const sc_calendar_t *c, int64_t day)
{
        if (c->hol_n) {
                size_t lo = 0, hi = c->hol_n;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (c->hol[mid] < day)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                if (lo < c->hol_n && c->hol[lo] == day)
                        return 1;
        }
        if (c->has_yearly) {
                int64_t y;
                unsigned m, d;
                sc_tz_civil_from_days(day, &y, &m, &d);
                return c->yearly[m][d];
        }
        return 0;
}

/* u0, u1: UTC instants of this local day's 00:00 and the next day's 00:00. */
static void day_spans(const sc_calendar_t *c, int64_t day, int64_t u0, int64_t u1,
                      spans_t *out)
{
        out->n = 0;
        const day_hours_t *h = &c->week[weekday(day)];
        if (!h->n || is_holiday(c, day))
                return;
        int linear = u1 - u0 == DAY_MS; /* no offset change within the day */
        int64_t l0 = day * DAY_MS;
        for (int i = 0; i < h->n; i++) {
                int64_t s, e;
                if (linear) {
                        s = u0 + (int64_t)h->s[i] * 60000;
                        e = u0 + (int64_t)h->e[i] * 60000;
                } else {
                        s = h->s[i] == 0
                                ? u0
                                : sc_tz_local_to_utc(c->tz, l0 + h->s[i] * 60000LL);
                        e = h->e[i] == 1440
                                ? u1
                                : sc_tz_local_to_utc(c->tz, l0 + h->e[i] * 60000LL);
                }
                if (e > s) {
                        out->s[out->n] = s;
                        out->e[out->n++] = e;
                }
        }
}

int64_t sc_calendar_add(const sc_calendar_t *c, int64_t start_ms, int64_t business_ms)
{
        int64_t rem = business_ms > 0 ? business_ms : 0;
        if (start_ms < SC_TIME_MIN_MS || start_ms > SC_TIME_MAX_MS ||
            rem > SC_TIME_MAX_MS)
                return -1;
        if (c->always)
                return start_ms + rem;
        int64_t day = sc_tz_local_day(c->tz, start_ms);
        int64_t u0 = sc_tz_local_to_utc(c->tz, day * DAY_MS);
        int idle = 0;
        for (int k = 0; k < MAX_ADD_DAYS && idle < MAX_IDLE_DAYS; k++, day++) {
                int64_t u1 = sc_tz_local_to_utc(c->tz, (day + 1) * DAY_MS);
                spans_t sp;
                day_spans(c, day, u0, u1, &sp);
                idle = sp.n ? 0 : idle + 1;
                for (int i = 0; i < sp.n; i++) {
                        if (sp.e[i] <= start_ms)
                                continue;
                        int64_t s = sp.s[i] > start_ms ? sp.s[i] : start_ms;
                        int64_t avail = sp.e[i] - s;
                        if (rem <= avail)
                                return s + rem;
                        rem -= avail;
                }
                u0 = u1;
        }
        return -1;
}

int64_t sc_calendar_between(const sc_calendar_t *c, int64_t a_ms, int64_t b_ms)
{
        a_ms = sc_time_clamp(a_ms);
        b_ms = sc_time_clamp(b_ms);
        if (b_ms <= a_ms)
                return 0;
        if (c->always)
                return b_ms - a_ms;
        int64_t day = sc_tz_local_day(c->tz, a_ms);
        int64_t u0 = sc_tz_local_to_utc(c->tz, day * DAY_MS);
        int64_t sum = 0;
        for (int k = 0; k < MAX_BETWEEN_DAYS && u0 < b_ms; k++, day++) {
                int64_t u1 = sc_tz_local_to_utc(c->tz, (day + 1) * DAY_MS);
                spans_t sp;
                day_spans(c, day, u0, u1, &sp);
                for (int i = 0; i < sp.n; i++) {
                        int64_t s = sp.s[i] > a_ms ? sp.s[i] : a_ms;
                        int64_t e = sp.e[i] < b_ms ? sp.e[i] : b_ms;
                        if (e > s)
                                sum += e - s;
                }
                u0 = u1;
        }
        return sum;
}

int sc_calendar_is_open(const sc_calendar_t *c, int64_t t_ms)
{
        t_ms = sc_time_clamp(t_ms);
        return sc_calendar_between(c, t_ms, t_ms + 1) > 0;
}

int sc_calendar_is_24x7(const sc_calendar_t *c)
{
        return c->always;
}

const char *sc_calendar_id(const sc_calendar_t *c)
{
        return c->id;
}

const sc_tz_t *sc_calendar_tz(const sc_calendar_t *c)
{
        return c->tz;
}

size_t sc_calendars_count(const sc_calendars_t *cs)
{
        return cs->n;
}

const sc_calendar_t *sc_calendars_at(const sc_calendars_t *cs, size_t i)
{
        return i < cs->n ? cs->c[i] : NULL;
}

const sc_calendar_t *sc_calendars_find(const sc_calendars_t *cs, const char *id)
{
        if (!id)
                return NULL;
        for (size_t i = 0; i < cs->n; i++)
                if (!strcmp(cs->c[i]->id, id))
                        return cs->c[i];
        return NULL;
}

static void calendar_free(sc_calendar_t *c)
{
        if (!c)
                return;
        free(c->id);
        sc_tz_destroy(c->tz);
        free(c->hol);
        free(c);
}

void sc_calendars_destroy(sc_calendars_t *cs)
{
        if (!cs)
                return;
        for (size_t i = 0; i < cs->n; i++)
                calendar_free(cs->c[i]);
        free(cs->c);
        free(cs);
}

/* --- parsing ------------------------------------------------------------- */

#define FAIL(line, ...)                                                                  \
        do {                                                                             \
                int off_ = snprintf(errstr, errstr_size,                                 \
                                    "line %d: calendar %s: ", (line), c->id);            \
                if (off_ >= 0 && (size_t)off_ < errstr_size)                             \
                        snprintf(errstr + off_, errstr_size - (size_t)off_,              \
                                 __VA_ARGS__);                                           \
                return -1;                                                               \
        } while (0)

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const day_full[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};

static int day_of(const char *s, size_t len)
{
        for (int i = 0; i < 7; i++)
                if ((len == 3 && !strncasecmp(s, day_names[i], 3)) ||
                    (len == strlen(day_full[i]) && !strncasecmp(s, day_full[i], len)))
                        return i;
        return -1;
}

static void trim(const char **s, const char **e)
{
        while (*s < *e && isspace((unsigned char)**s))
                (*s)++;
        while (*e > *s && isspace((unsigned char)(*e)[-1]))
                (*e)--;
}

/* "mon-fri", "sat,sun", "fri-mon" (wraps) -> mask of days. */
static int parse_days(const char *spec, unsigned *mask)
{
        *mask = 0;
        const char *p = spec;
        while (*p) {
                const char *comma = strchr(p, ',');
                const char *end = comma ? comma : p + strlen(p);
                const char *s = p, *e = end;
                trim(&s, &e);
                const char *dash = memchr(s, '-', (size_t)(e - s));
                int a, b;
                if (dash) {
                        const char *as = s, *ae = dash, *bs = dash + 1, *be = e;
                        trim(&as, &ae);
                        trim(&bs, &be);
                        a = day_of(as, (size_t)(ae - as));
                        b = day_of(bs, (size_t)(be - bs));
                } else {
                        a = b = day_of(s, (size_t)(e - s));
                }
                if (a < 0 || b < 0)
                        return -1;
                for (int d = a;; d = (d + 1) % 7) {
                        *mask |= 1u << d;
                        if (d == b)
                                break;
                }
                p = comma ? comma + 1 : end;
        }
        return *mask ? 0 : -1;
}

static int parse_hhmm(const char *s, const char *e, int *min)
{
        if (e - s != 5 || !isdigit((unsigned char)s[0]) ||
            !isdigit((unsigned char)s[1]) || s[2] != ':' ||
            !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
                return -1;
        int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
        if (m > 59 || h > 24 || (h == 24 && m != 0))
                return -1;
        *min = h * 60 + m;
        return 0;
}

/* Adds "08:00-12:00,13:00-17:00" to the days in mask. */
static int add_ranges(sc_calendar_t *c, unsigned mask, const char *text, int line,
                      const char *daykey, char *errstr, size_t errstr_size)
{
        if (!strcasecmp(text, "closed"))
                return 0;
        const char *p = text;
        for (;;) {
                const char *comma = strchr(p, ',');
                const char *end = comma ? comma : p + strlen(p);
                const char *s = p, *e = end;
                trim(&s, &e);
                const char *dash = memchr(s, '-', (size_t)(e - s));
                int a, b;
                if (!dash)
                        FAIL(line, "bad hours '%s'", text);
                const char *as = s, *ae = dash, *bs = dash + 1, *be = e;
                trim(&as, &ae);
                trim(&bs, &be);
                if (parse_hhmm(as, ae, &a) || parse_hhmm(bs, be, &b) || a >= 1440)
                        FAIL(line, "bad hours '%s'", text);
                if (b <= a)
                        FAIL(line, "bad hours '%s' (a range must end after it starts)",
                             text);
                for (int d = 0; d < 7; d++) {
                        if (!(mask & (1u << d)))
                                continue;
                        day_hours_t *h = &c->week[d];
                        for (int i = 0; i < h->n; i++)
                                if (a < h->e[i] && h->s[i] < b)
                                        FAIL(line, "overlapping hours on %s in '%s: %s'",
                                             day_names[d], daykey, text);
                        if (h->n == MAX_RANGES)
                                FAIL(line, "more than %d ranges on %s", MAX_RANGES,
                                     day_names[d]);
                        int i = h->n++;
                        while (i > 0 && h->s[i - 1] > a) {
                                h->s[i] = h->s[i - 1];
                                h->e[i] = h->e[i - 1];
                                i--;
                        }
                        h->s[i] = (uint16_t)a;
                        h->e[i] = (uint16_t)b;
                }
                if (!comma)
                        break;
                p = comma + 1;
        }
        return 0;
}

static void merge_adjacent(day_hours_t *h)
{
        int o = 0;
        for (int i = 0; i < h->n; i++) {
                if (o && h->e[o - 1] == h->s[i])
                        h->e[o - 1] = h->e[i];
                else {
                        h->s[o] = h->s[i];
                        h->e[o++] = h->e[i];
                }
        }
        h->n = o;
}

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

static int parse_holidays(sc_calendar_t *c, const sc_yaml_node_t *seq, char *errstr,
                          size_t errstr_size)
{
        if (seq->type != SC_YAML_SEQ)
                FAIL(seq->line, "holidays must be a list of \"YYYY-MM-DD\" or \"MM-DD\"");
        c->hol = sc_calloc(seq->count ? seq->count : 1, sizeof(*c->hol));
        for (const sc_yaml_node_t *n = seq->child; n; n = n->next) {
                const char *v = n->type == SC_YAML_SCALAR && n->value ? n->value : "";
                int y = 0, m = 0, d = 0, used = 0;
                size_t len = strlen(v);
                if (len == 10 && sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &used) == 3 &&
                    used == 10 && v[4] == '-' && v[7] == '-' && y >= 1900 && m >= 1 &&
                    m <= 12 && d >= 1 && d <= 31) {
                        int64_t first = sc_tz_days_from_civil(y, (unsigned)m, 1);
                        int64_t next = sc_tz_days_from_civil(
                            m == 12 ? y + 1 : y, m == 12 ? 1u : (unsigned)m + 1, 1);
                        if (d <= next - first) {
                                c->hol[c->hol_n++] = first + d - 1;
                                continue;
                        }
                }
                static const int maxd[13] = {0,  31, 29, 31, 30, 31, 30,
                                             31, 31, 30, 31, 30, 31};
                if (len == 5 && sscanf(v, "%2d-%2d%n", &m, &d, &used) == 2 && used == 5 &&
                    v[2] == '-' && isdigit((unsigned char)v[0]) && m >= 1 && m <= 12 &&
                    d >= 1 && d <= maxd[m]) {
                        c->yearly[m][d] = 1;
                        c->has_yearly = 1;
                        continue;
                }
                FAIL(n->line, "bad holiday '%s' (want \"YYYY-MM-DD\" or \"MM-DD\")", v);
        }
        qsort(c->hol, c->hol_n, sizeof(*c->hol), cmp_i64);
        return 0;
}

static int valid_id(const char *id)
{
        if (!id || !*id)
                return 0;
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
                        return 0;
        return 1;
}

static int parse_calendar(sc_calendar_t *c, const sc_yaml_node_t *node, char *errstr,
                          size_t errstr_size)
{
        if (node->type != SC_YAML_MAP)
                FAIL(node->line, "must be a map (timezone, hours, holidays)");
        const sc_yaml_node_t *tzn = NULL, *hours = NULL, *hol = NULL;
        for (const sc_yaml_node_t *n = node->child; n; n = n->next) {
                if (!strcmp(n->key, "timezone"))
                        tzn = n;
                else if (!strcmp(n->key, "hours"))
                        hours = n;
                else if (!strcmp(n->key, "holidays"))
                        hol = n;
                else
                        FAIL(n->line, "unknown key '%s' (timezone, hours, holidays)",
                             n->key);
        }
        if (!hours)
                FAIL(node->line, "no open hours (add 'hours:')");
        int all_week = 0;
        if (hours->type == SC_YAML_SCALAR) {
                if (!hours->value || strcmp(hours->value, "24/7"))
                        FAIL(hours->line, "bad hours '%s' (a map of days, or 24/7)",
                             hours->value ? hours->value : "");
                all_week = 1;
                for (int d = 0; d < 7; d++) {
                        c->week[d].n = 1;
                        c->week[d].s[0] = 0;
                        c->week[d].e[0] = 1440;
                }
        } else if (hours->type == SC_YAML_MAP) {
                for (const sc_yaml_node_t *n = hours->child; n; n = n->next) {
                        unsigned mask;
                        if (parse_days(n->key, &mask))
                                FAIL(n->line,
                                     "unknown day '%s' (mon..sun, \"mon-fri\", "
                                     "\"sat,sun\")",
                                     n->key);
                        if (n->type == SC_YAML_SCALAR) {
                                if (add_ranges(c, mask, n->value ? n->value : "", n->line,
                                               n->key, errstr, errstr_size))
                                        return -1;
                        } else if (n->type == SC_YAML_SEQ) {
                                for (const sc_yaml_node_t *r = n->child; r; r = r->next) {
                                        if (r->type != SC_YAML_SCALAR)
                                                FAIL(r->line, "bad hours for '%s'",
                                                     n->key);
                                        if (add_ranges(c, mask, r->value ? r->value : "",
                                                       r->line, n->key, errstr,
                                                       errstr_size))
                                                return -1;
                                }
                        } else
                                FAIL(n->line, "bad hours for '%s'", n->key);
                }
        } else
                FAIL(hours->line, "bad hours (a map of days, or 24/7)");
        int open = 0;
        for (int d = 0; d < 7; d++) {
                merge_adjacent(&c->week[d]);
                open += c->week[d].n;
        }
        if (!open)
                FAIL(hours->line, "no open hours");
        if (hol && parse_holidays(c, hol, errstr, errstr_size))
                return -1;
        const char *tzname = NULL;
        if (tzn) {
                if (tzn->type != SC_YAML_SCALAR || !tzn->value || !*tzn->value)
                        FAIL(tzn->line,
                             "timezone must be a zone name like Europe/Warsaw");
                tzname = tzn->value;
        } else if (all_week)
                tzname = "UTC";
        else
                FAIL(node->line, "timezone missing (e.g. timezone: Europe/Warsaw)");
        char tzerr[256];
        c->tz = sc_tz_load(tzname, tzerr, sizeof(tzerr));
        if (!c->tz)
                FAIL(tzn ? tzn->line : node->line, "unknown timezone '%s' (%s)", tzname,
                     tzerr);
        c->always = all_week && !c->hol_n && !c->has_yearly;
        return 0;
}

static sc_calendar_t *calendar_new(const char *id)
{
        sc_calendar_t *c = sc_calloc(1, sizeof(*c));
        c->id = sc_strdup(id);
        return c;
}

sc_calendars_t *sc_calendars_new(const sc_yaml_node_t *root, char *errstr,
                                 size_t errstr_size)
{
        const sc_yaml_node_t *sec = root ? sc_yaml_get(root, "calendars") : NULL;
        size_t want = 1 + (sec && sec->type == SC_YAML_MAP ? sec->count : 0);
        sc_calendars_t *cs = sc_calloc(1, sizeof(*cs));
        cs->c = sc_calloc(want, sizeof(*cs->c));
        sc_calendar_t *always = calendar_new("24x7");
        char tzerr[128];
        if (!(always->tz = sc_tz_load("UTC", tzerr, sizeof(tzerr)))) {
                snprintf(errstr, errstr_size, "UTC: %s", tzerr);
                calendar_free(always);
                sc_calendars_destroy(cs);
                return NULL;
        }
        always->always = 1;
        for (int d = 0; d < 7; d++) {
                always->week[d].n = 1;
                always->week[d].e[0] = 1440;
        }
        cs->c[cs->n++] = always;
        if (!sec || (sec->type == SC_YAML_SCALAR && (!sec->value || !*sec->value)))
                return cs; /* absent, or "calendars:" with nothing under it */
        if (sec->type != SC_YAML_MAP) {
                snprintf(errstr, errstr_size,
                         "line %d: calendars must be a map of calendar ids", sec->line);
                sc_calendars_destroy(cs);
                return NULL;
        }
        for (const sc_yaml_node_t *n = sec->child; n; n = n->next) {
                if (!valid_id(n->key)) {
                        snprintf(errstr, errstr_size,
                                 "line %d: bad calendar id '%s' (letters, digits, _ - .)",
                                 n->line, n->key ? n->key : "");
                        sc_calendars_destroy(cs);
                        return NULL;
                }
                if (sc_calendars_find(cs, n->key)) {
                        snprintf(errstr, errstr_size,
                                 !strcmp(n->key, "24x7")
                                     ? "line %d: calendar %s is built in and cannot be "
                                       "redefined"
                                     : "line %d: calendar %s defined twice",
                                 n->line, n->key);
                        sc_calendars_destroy(cs);
                        return NULL;
                }
                sc_calendar_t *c = calendar_new(n->key);
                cs->c[cs->n++] = c;
                if (parse_calendar(c, n, errstr, errstr_size)) {
                        sc_calendars_destroy(cs);
                        return NULL;
                }
        }
        return cs;
}
