#include "sc_tz.h"

#include "sc_alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_time.h"

/* Footer rules are expanded into the transition table up to this year, so
 * that ordinary lookups are a plain binary search. */
#define EXPAND_UNTIL_YEAR 2200
#define MAX_TZIF_BYTES    (1 << 20)

typedef struct {
        int kind; /* 'J' (1..365, no Feb 29), 'n' (0..365), 'M' (month.week.day) */
        int n, m, w, d;
        int32_t secs; /* local time of day of the change, may be negative or > 24 h */
} rule_t;

struct sc_tz_s {
        char *name;
        size_t n;     /* transitions */
        int64_t *at;  /* transition instants, UTC seconds, ascending */
        int32_t *off; /* offset in force from at[i] on */
        int32_t off0; /* before the first transition */
        int has_footer;
        int footer_dst;           /* the footer has a DST rule */
        int32_t std_off, dst_off; /* seconds east */
        rule_t start, end;
};

static int64_t floordiv(int64_t a, int64_t b)
{
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
                q--;
        return q;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t sc_tz_days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        const int64_t era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = (unsigned)(y - era * 400);
        const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

void sc_tz_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
        z += 719468;
        const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = (unsigned)(z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        *d = doy - (153 * mp + 2) / 5 + 1;
        *m = mp < 10 ? mp + 3 : mp - 9;
        *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned sc_tz_month_days(int64_t y, unsigned m)
{
        static const unsigned md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* Local (wall-clock) seconds at which a rule fires in year y. */
static int64_t rule_local(const rule_t *r, int64_t y)
{
        int64_t day;
        int64_t jan1 = sc_tz_days_from_civil(y, 1, 1);
        if (r->kind == 'J')
                day = jan1 + r->n - 1 + (is_leap(y) && r->n >= 60 ? 1 : 0);
        else if (r->kind == 'n')
                day = jan1 + r->n;
        else {
                int64_t first = sc_tz_days_from_civil(y, (unsigned)r->m, 1);
                int wd1 = (int)((first % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
                day = first + (r->d - wd1 + 7) % 7 + (int64_t)(r->w - 1) * 7;
                unsigned len = sc_tz_month_days(y, (unsigned)r->m);
                while (day >= first + len)
                        day -= 7;
        }
        return day * 86400 + r->secs;
}

static void footer_year(const sc_tz_t *tz, int64_t y, int64_t *s, int64_t *e)
{
        /* The start is given in standard time, the end in daylight time. */
        *s = rule_local(&tz->start, y) - tz->std_off;
        *e = rule_local(&tz->end, y) - tz->dst_off;
}

static int32_t footer_offset(const sc_tz_t *tz, int64_t t)
{
        if (!tz->footer_dst)
                return tz->std_off;
        int64_t y;
        unsigned m, d;
        sc_tz_civil_from_days(floordiv(t + tz->std_off, 86400), &y, &m, &d);
        int64_t s, e;
        footer_year(tz, y, &s, &e);
        int dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
        return dst ? tz->dst_off : tz->std_off;
}

static int32_t offset_s(const sc_tz_t *tz, int64_t t)
{
        if (tz->n == 0)
                return tz->has_footer ? footer_offset(tz, t) : tz->off0;
        if (t < tz->at[0])
                return tz->off0;
        if (t >= tz->at[tz->n - 1])
                return tz->has_footer ? footer_offset(tz, t) : tz->off[tz->n - 1];
        size_t lo = 0, hi = tz->n - 1; /* at[lo] <= t < at[hi] */
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                if (tz->at[mid] <= t)
                        lo = mid;
                else
                        hi = mid;
        }
        return tz->off[lo];
}

int32_t sc_tz_offset(const sc_tz_t *tz, int64_t utc_ms)
{
        return offset_s(tz, floordiv(utc_ms, 1000));
}

int64_t sc_tz_local_day(const sc_tz_t *tz, int64_t utc_ms)
{
        utc_ms = sc_time_clamp(utc_ms);
        return floordiv(utc_ms + (int64_t)sc_tz_offset(tz, utc_ms) * 1000, 86400000);
}

int64_t sc_tz_local_to_utc(const sc_tz_t *tz, int64_t local_ms)
{
        local_ms = sc_time_clamp(local_ms);
        /* Offsets stay within +-24 h, so the answer lies within a day of the
         * wall clock read as UTC; the offsets a day before and after are the
         * two candidates (zones never change twice within two days). */
        int64_t ls = floordiv(local_ms, 1000);
        int32_t a = offset_s(tz, ls - 86400), b = offset_s(tz, ls + 86400);
        int64_t u1 = local_ms - (int64_t)a * 1000;
        if (a == b)
                return u1;
        int64_t u2 = local_ms - (int64_t)b * 1000;
        int v1 = sc_tz_offset(tz, u1) == a, v2 = sc_tz_offset(tz, u2) == b;
        if (v1 && v2)
                return u1 < u2 ? u1 : u2; /* overlap: the earlier instant */
        if (v1)
                return u1;
        if (v2)
                return u2;
        /* Gap: the offset changes from a to b between u2 and u1; find the
         * transition second by bisection. */
        int64_t lo = floordiv(u1 < u2 ? u1 : u2, 1000),
                hi = floordiv(u1 < u2 ? u2 : u1, 1000) + 1;
        if (offset_s(tz, lo) != a)
                return u1 < u2 ? u1 : u2;
        while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                if (offset_s(tz, mid) == a)
                        lo = mid;
                else
                        hi = mid;
        }
        return hi * 1000;
}

const char *sc_tz_name(const sc_tz_t *tz)
{
        return tz->name;
}

void sc_tz_destroy(sc_tz_t *tz)
{
        if (!tz)
                return;
        free(tz->name);
        free(tz->at);
        free(tz->off);
        free(tz);
}

/* --- POSIX TZ strings ---------------------------------------------------- */

static int parse_name(const char **p)
{
        const char *s = *p;
        if (*s == '<') {
                const char *e = strchr(s, '>');
                if (!e || e - s < 2)
                        return -1;
                *p = e + 1;
                return 0;
        }
        int n = 0;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')) {
                s++;
                n++;
        }
        if (n < 3)
                return -1;
        *p = s;
        return 0;
}

/* [+-]hh[:mm[:ss]] -> seconds; hours up to 167 (RFC 8536 extension). */
static int parse_hms(const char **p, int32_t *out)
{
        const char *s = *p;
        int sign = 1;
        if (*s == '+' || *s == '-')
                sign = *s++ == '-' ? -1 : 1;
        if (*s < '0' || *s > '9')
                return -1;
        long h = 0, m = 0, sec = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
                h = h * 10 + (*s++ - '0');
                digits++;
        }
        if (h > 167)
                return -1;
        for (int part = 0; part < 2 && *s == ':'; part++) {
                s++;
                if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                        return -1;
                long v = (s[0] - '0') * 10 + (s[1] - '0');
                if (v > 59)
                        return -1;
                if (part == 0)
                        m = v;
                else
                        sec = v;
                s += 2;
        }
        *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
        *p = s;
        return 0;
}

static int parse_num(const char **p, int *out, int lo, int hi)
{
        const char *s = *p;
        if (*s < '0' || *s > '9')
                return -1;
        long v = 0;
        while (*s >= '0' && *s <= '9' && v <= 1000)
                v = v * 10 + (*s++ - '0');
        if (v < lo || v > hi)
                return -1;
        *out = (int)v;
        *p = s;
        return 0;
}

static int parse_rule(const char **p, rule_t *r)
{
        const char *s = *p;
        memset(r, 0, sizeof(*r));
        if (*s == 'J') {
                s++;
                r->kind = 'J';
                if (parse_num(&s, &r->n, 1, 365))
                        return -1;
        } else if (*s == 'M') {
                s++;
                r->kind = 'M';
                if (parse_num(&s, &r->m, 1, 12) || *s++ != '.' ||
                    parse_num(&s, &r->w, 1, 5) || *s++ != '.' ||
                    parse_num(&s, &r->d, 0, 6))
                        return -1;
        } else {
                r->kind = 'n';
                if (parse_num(&s, &r->n, 0, 365))
                        return -1;
        }
        r->secs = 7200;
        if (*s == '/') {
                s++;
                if (parse_hms(&s, &r->secs))
                        return -1;
        }
        *p = s;
        return 0;
}

/* Fills the footer fields of tz from a POSIX TZ string. */
static int parse_posix(sc_tz_t *tz, const char *spec)
{
        const char *s = spec;
        int32_t v;
        if (parse_name(&s) || parse_hms(&s, &v))
                return -1;
        tz->std_off = -v; /* POSIX offsets count west */
        tz->dst_off = tz->std_off;
        tz->footer_dst = 0;
        if (*s) {
                if (parse_name(&s))
                        return -1;
                tz->footer_dst = 1;
                tz->dst_off = tz->std_off + 3600;
                if (*s && *s != ',') {
                        if (parse_hms(&s, &v))
                                return -1;
                        tz->dst_off = -v;
                }
                if (*s == ',') {
                        s++;
                        if (parse_rule(&s, &tz->start) || *s++ != ',' ||
                            parse_rule(&s, &tz->end))
                                return -1;
                } else {
                        const char *def =
                            "M3.2.0,M11.1.0"; /* POSIX leaves it open; US rules */
                        parse_rule(&def, &tz->start);
                        def++;
                        parse_rule(&def, &tz->end);
                }
                if (*s)
                        return -1;
        }
        /* Hours up to 167 are for rule times only: an offset of a day or more
         * would break what TZif offsets guarantee and lookups rely on. */
        if (tz->std_off <= -86400 || tz->std_off >= 86400 || tz->dst_off <= -86400 ||
            tz->dst_off >= 86400)
                return -1;
        tz->has_footer = 1;
        return 0;
}

/* A change at the very instant of the previous one (a rule that ends a year
 * exactly when next year's starts: DST all year) replaces it. */
static void append(sc_tz_t *tz, int64_t t, int32_t off, int64_t *last)
{
        if (tz->n && t == *last) {
                tz->off[tz->n - 1] = off;
                return;
        }
        if (t < *last)
                return;
        tz->at[tz->n] = t;
        tz->off[tz->n++] = off;
        *last = t;
}

/* Appends the footer's transitions after the last stored one, so lookups up
 * to EXPAND_UNTIL_YEAR need no rule arithmetic. */
static int expand_footer(sc_tz_t *tz)
{
        if (!tz->has_footer || !tz->footer_dst)
                return 0;
        int64_t last = tz->n ? tz->at[tz->n - 1] : INT64_MIN;
        int64_t y0 = 1800;
        if (tz->n) {
                unsigned m, d;
                sc_tz_civil_from_days(floordiv(last, 86400), &y0, &m, &d);
        }
        if (y0 >= EXPAND_UNTIL_YEAR)
                return 0;
        size_t extra = (size_t)(EXPAND_UNTIL_YEAR - y0 + 1) * 2;
        tz->at = sc_realloc(tz->at, (tz->n + extra) * sizeof(*tz->at));
        tz->off = sc_realloc(tz->off, (tz->n + extra) * sizeof(*tz->off));
        if (!tz->n)
                tz->off0 = tz->std_off;
        for (int64_t y = y0; y <= EXPAND_UNTIL_YEAR; y++) {
                int64_t s, e;
                footer_year(tz, y, &s, &e);
                int64_t t1 = s < e ? s : e, t2 = s < e ? e : s;
                int32_t o1 = s < e ? tz->dst_off : tz->std_off;
                int32_t o2 = s < e ? tz->std_off : tz->dst_off;
                append(tz, t1, o1, &last);
                append(tz, t2, o2, &last);
        }
        return 0;
}

sc_tz_t *sc_tz_load_posix(const char *spec, char *errstr, size_t errstr_size)
{
        sc_tz_t *tz = sc_calloc(1, sizeof(*tz));
        if (!tz || !(tz->name = sc_strdup(spec))) {
                snprintf(errstr, errstr_size, "out of memory");
                sc_tz_destroy(tz);
                return NULL;
        }
        if (parse_posix(tz, spec) || expand_footer(tz)) {
                snprintf(errstr, errstr_size, "bad POSIX TZ string '%s'", spec);
                sc_tz_destroy(tz);
                return NULL;
        }
        tz->off0 = tz->std_off; /* before the first expanded change */
        return tz;
}

/* --- TZif files ---------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
        return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct {
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} hdr_t;

static int read_hdr(const unsigned char *p, size_t len, hdr_t *h, int *version)
{
        if (len < 44 || memcmp(p, "TZif", 4))
                return -1;
        *version = p[4] ? p[4] - '0' : 1;
        h->isutcnt = be32(p + 20);
        h->isstdcnt = be32(p + 24);
        h->leapcnt = be32(p + 28);
        h->timecnt = be32(p + 32);
        h->typecnt = be32(p + 36);
        h->charcnt = be32(p + 40);
        if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > 100000 ||
            h->leapcnt > 10000 || h->charcnt > 100000 || h->isutcnt > 256 ||
            h->isstdcnt > 256)
                return -1;
        return 0;
}

static size_t block_len(const hdr_t *h, int tsize)
{
        return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 +
               h->charcnt + (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int parse_tzif(sc_tz_t *tz, const unsigned char *p, size_t len)
{
        hdr_t h;
        int version;
        if (read_hdr(p, len, &h, &version))
                return -1;
        int tsize = 4;
        const unsigned char *d = p + 44, *end = p + len;
        if (version >= 2) {
                size_t skip = block_len(&h, 4);
                if ((size_t)(end - d) < skip)
                        return -1;
                d += skip;
                if (read_hdr(d, (size_t)(end - d), &h, &version))
                        return -1;
                d += 44;
                tsize = 8;
        }
        size_t blen = block_len(&h, tsize);
        if ((size_t)(end - d) < blen)
                return -1;
        const unsigned char *times = d, *idx = d + (size_t)h.timecnt * tsize;
        const unsigned char *types = idx + h.timecnt;
        int32_t type_off[256];
        for (uint32_t i = 0; i < h.typecnt; i++) {
                type_off[i] = (int32_t)be32(types + i * 6);
                if (type_off[i] <= -86400 || type_off[i] >= 86400)
                        return -1;
        }
        tz->off0 = type_off[0];
        tz->at = sc_calloc(h.timecnt ? h.timecnt : 1, sizeof(*tz->at));
        tz->off = sc_calloc(h.timecnt ? h.timecnt : 1, sizeof(*tz->off));
        if (!tz->at || !tz->off)
                return -1;
        for (uint32_t i = 0; i < h.timecnt; i++) {
                int64_t t =
                    tsize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
                if (idx[i] >= h.typecnt || (tz->n && t <= tz->at[tz->n - 1]))
                        return -1;
                tz->at[tz->n] = t;
                tz->off[tz->n++] = type_off[idx[i]];
        }
        d += blen;
        if (version >= 2 && d < end && *d == '\n') {
                const unsigned char *nl = memchr(d + 1, '\n', (size_t)(end - d - 1));
                if (nl && nl > d + 1 && nl - d < 128) {
                        char footer[128];
                        memcpy(footer, d + 1, (size_t)(nl - d - 1));
                        footer[nl - d - 1] = '\0';
                        if (parse_posix(tz, footer))
                                return -1;
                }
        }
        return expand_footer(tz);
}

static int valid_name(const char *name)
{
        size_t len = strlen(name);
        if (len == 0 || len > 200 || name[0] == '/' || strstr(name, ".."))
                return 0;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '/' || *c == '_' || *c == '-' ||
                      *c == '+' || *c == '.'))
                        return 0;
        return 1;
}

sc_tz_t *sc_tz_load(const char *name, char *errstr, size_t errstr_size)
{
        if (!name || !valid_name(name)) {
                snprintf(errstr, errstr_size, "bad time zone name '%s'",
                         name ? name : "");
                return NULL;
        }
        sc_tz_t *tz = sc_calloc(1, sizeof(*tz));
        if (!tz || !(tz->name = sc_strdup(name))) {
                snprintf(errstr, errstr_size, "out of memory");
                sc_tz_destroy(tz);
                return NULL;
        }
        if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC"))
                return tz; /* no transitions, offset 0 */
        const char *dir = getenv("TZDIR");
        if (!dir || !*dir)
                dir = "/usr/share/zoneinfo";
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "rb");
        if (!f) {
                snprintf(errstr, errstr_size, "unknown time zone '%s' (%s: %s)", name,
                         path, strerror(errno));
                sc_tz_destroy(tz);
                return NULL;
        }
        unsigned char *buf = sc_malloc(MAX_TZIF_BYTES);
        size_t len = buf ? fread(buf, 1, MAX_TZIF_BYTES, f) : 0;
        fclose(f);
        if (!buf || parse_tzif(tz, buf, len)) {
                snprintf(errstr, errstr_size,
                         "time zone '%s': %s is not a valid TZif file", name, path);
                free(buf);
                sc_tz_destroy(tz);
                return NULL;
        }
        free(buf);
        return tz;
}
