/* sc_tz against glibc's own TZ handling (an independent reader of the same
 * tzdata), and business-hours arithmetic with instants worked out by hand. */
#include "sc_calendar.h"
#include "sc_test.h"
#include "sc_time.h"
#include "sc_tz.h"
#include "sc_yaml.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DAY_MS_T 86400000ULL

static int64_t T(const char *s)
{
        int64_t ms;
        if (sc_time_parse(s, strlen(s), &ms)) {
                fprintf(stderr, "bad time %s\n", s);
                exit(1);
        }
        return ms;
}

#define CHECK_TIME(got, want)                                                            \
        do {                                                                             \
                int64_t g_ = (got), w_ = T(want);                                        \
                sc_test_checks++;                                                        \
                if (g_ != w_) {                                                          \
                        char gs_[32];                                                    \
                        sc_time_format(g_, gs_);                                         \
                        fprintf(stderr, "%s:%d: %s = %s (%lld), want %s\n", __FILE__,    \
                                __LINE__, #got, gs_, (long long)g_, want);               \
                        exit(1);                                                         \
                }                                                                        \
        } while (0)

static long glibc_offset(const char *tzspec, int64_t t)
{
        setenv("TZ", tzspec, 1);
        tzset();
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm)) {
                fprintf(stderr, "localtime_r failed\n");
                exit(1);
        }
        return tm.tm_gmtoff;
}

/* Compares offsets at many instants 1970..2100 (and a few far beyond, where
 * the footer rule is evaluated directly), plus both sides of every
 * transition glibc reports. */
static void check_against_glibc(const sc_tz_t *tz, const char *tzspec)
{
        int64_t from = 0, to = T("2100-12-31T00:00:00Z") / 1000;
        int mismatches = 0;
        long prev = glibc_offset(tzspec, from);
        for (int64_t t = from; t < to; t += 86400 * 5 + 3607) {
                long g = glibc_offset(tzspec, t);
                if (g != prev) {
                        /* bisect glibc's transition and check both sides exactly */
                        int64_t lo = t - 86400 * 5 - 3607, hi = t;
                        while (hi - lo > 1) {
                                int64_t mid = lo + (hi - lo) / 2;
                                if (glibc_offset(tzspec, mid) == prev)
                                        lo = mid;
                                else
                                        hi = mid;
                        }
                        if (sc_tz_offset(tz, lo * 1000 + 999) != prev ||
                            sc_tz_offset(tz, hi * 1000) != g)
                                mismatches++;
                        prev = g;
                }
                if (sc_tz_offset(tz, t * 1000) != g) {
                        if (mismatches++ < 5)
                                fprintf(stderr, "%s: t=%lld sc_tz=%d glibc=%ld\n", tzspec,
                                        (long long)t, sc_tz_offset(tz, t * 1000), g);
                }
        }
        for (int64_t t = T("2190-01-01T00:00:00Z") / 1000;
             t < T("2420-01-01T00:00:00Z") / 1000; t += 86400 * 11 + 7) {
                long g = glibc_offset(tzspec, t);
                if (sc_tz_offset(tz, t * 1000) != g && mismatches++ < 5)
                        fprintf(stderr, "%s: t=%lld sc_tz=%d glibc=%ld\n", tzspec,
                                (long long)t, sc_tz_offset(tz, t * 1000), g);
        }
        CHECK_INT(mismatches, 0);
}

static void test_tz_oracle(void)
{
        const char *zones[] = {
            "Europe/Warsaw", "America/New_York",  "Australia/Sydney", "Asia/Kolkata",
            "UTC",           "America/Sao_Paulo", "America/Nuuk",     "Pacific/Apia",
            "Europe/London"};
        char err[256];
        for (size_t i = 0; i < sizeof(zones) / sizeof(*zones); i++) {
                sc_tz_t *tz = sc_tz_load(zones[i], err, sizeof(err));
                if (!tz)
                        fprintf(stderr, "%s\n", err);
                CHECK(tz != NULL);
                CHECK_STR(sc_tz_name(tz), zones[i]);
                char spec[128];
                snprintf(spec, sizeof(spec), ":%s", zones[i]);
                check_against_glibc(tz, spec);
                sc_tz_destroy(tz);
        }
        /* POSIX strings alone: M, J and n forms, signed offsets and times, the
         * "DST all year" idiom, southern hemisphere. */
        const char *posix[] = {"CET-1CEST,M3.5.0,M10.5.0/3",
                               "EST5EDT,M3.2.0,M11.1.0",
                               "AEST-10AEDT,M10.1.0,M4.1.0/3",
                               "<+0330>-3:30<+0430>,J79/24,J263/24",
                               "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
                               "XXX-2YYY-3:15,40/1:30,250/-0:30",
                               "IST-5:30",
                               "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45"};
        for (size_t i = 0; i < sizeof(posix) / sizeof(*posix); i++) {
                sc_tz_t *tz = sc_tz_load_posix(posix[i], err, sizeof(err));
                if (!tz)
                        fprintf(stderr, "%s\n", err);
                CHECK(tz != NULL);
                check_against_glibc(tz, posix[i]);
                sc_tz_destroy(tz);
        }
        /* "DST all year" (day 0 00:00 to Dec 31 25:00): glibc picks the rule
         * year by the UTC date and shows standard time for a few hours after
         * each UTC new year, so it is checked by hand: always -4 h. */
        sc_tz_t *dst = sc_tz_load_posix("EST5EDT,0/0,J365/25", err, sizeof(err));
        CHECK(dst != NULL);
        for (int64_t t = 0; t < T("2400-01-01T00:00:00Z"); t += 86400000LL * 3 + 3600000)
                CHECK_INT(sc_tz_offset(dst, t), -4 * 3600);
        CHECK_INT(sc_tz_offset(dst, T("2015-01-01T02:20:20Z")), -4 * 3600);
        sc_tz_destroy(dst);
        CHECK(sc_tz_load_posix("CET-1CEST,M13.5.0,M10.5.0", err, sizeof(err)) == NULL);
        CHECK(sc_tz_load_posix("C-1", err, sizeof(err)) == NULL);
        CHECK(sc_tz_load_posix("CET-1CEST,M3.5.0", err, sizeof(err)) == NULL);
        unsetenv("TZ");
}

static void test_tz_names(void)
{
        char err[256];
        CHECK(sc_tz_load("../etc/passwd", err, sizeof(err)) == NULL);
        CHECK(sc_tz_load("Europe/../../etc/passwd", err, sizeof(err)) == NULL);
        CHECK(sc_tz_load("/usr/share/zoneinfo/Europe/Warsaw", err, sizeof(err)) == NULL);
        CHECK(sc_tz_load("", err, sizeof(err)) == NULL);
        CHECK(sc_tz_load("Nowhere/Atlantis", err, sizeof(err)) == NULL);
        CHECK(strstr(err, "Nowhere/Atlantis") != NULL);
        /* Not a TZif file. */
        CHECK(sc_tz_load("zone.tab", err, sizeof(err)) == NULL ||
              sc_tz_load("iso3166.tab", err, sizeof(err)) == NULL);
        /* UTC works without tzdata. */
        const char *old = getenv("TZDIR");
        char *saved = old ? strdup(old) : NULL;
        setenv("TZDIR", "/nonexistent-tzdir", 1);
        CHECK(sc_tz_load("Europe/Warsaw", err, sizeof(err)) == NULL);
        sc_tz_t *u = sc_tz_load("UTC", err, sizeof(err));
        CHECK(u != NULL);
        CHECK_INT(sc_tz_offset(u, T("2026-07-01T00:00:00Z")), 0);
        CHECK_INT(sc_tz_local_to_utc(u, 12345), 12345);
        CHECK_INT(sc_tz_local_day(u, T("2026-07-01T23:59:59Z")), 20635);
        sc_tz_destroy(u);
        u = sc_tz_load("Etc/UTC", err, sizeof(err));
        CHECK(u != NULL);
        sc_tz_destroy(u);
        if (saved) {
                setenv("TZDIR", saved, 1);
                free(saved);
        } else
                unsetenv("TZDIR");
        sc_tz_destroy(NULL);
}

/* Synthetic TZif files: version 1 (32-bit data only, no footer), version 2
 * whose 32-bit block disagrees with its 64-bit block (the 64-bit one must be
 * used), a file with no transitions at all (the footer decides everything),
 * version 3, and broken files. */
typedef struct {
        unsigned char b[4096];
        size_t n;
} bytes_t;

static void put(bytes_t *o, const void *p, size_t n)
{
        memcpy(o->b + o->n, p, n);
        o->n += n;
}

static void put32(bytes_t *o, int64_t v)
{
        unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                              (unsigned char)(v >> 8), (unsigned char)v};
        put(o, c, 4);
}

static void put64(bytes_t *o, int64_t v)
{
        put32(o, (int64_t)((uint64_t)v >> 32));
        put32(o, v);
}

static void tzif_block(bytes_t *o, char version, int tsize, int nt, const int64_t *at,
                       const unsigned char *idx, int ntypes, const int32_t *offs)
{
        put(o, "TZif", 4);
        put(o, &version, 1);
        unsigned char zero[15] = {0};
        put(o, zero, 15);
        put32(o, 0);      /* isutcnt */
        put32(o, 0);      /* isstdcnt */
        put32(o, 0);      /* leapcnt */
        put32(o, nt);     /* timecnt */
        put32(o, ntypes); /* typecnt */
        put32(o, 4);      /* charcnt */
        for (int i = 0; i < nt; i++)
                tsize == 8 ? put64(o, at[i]) : put32(o, at[i]);
        put(o, idx, (size_t)nt);
        for (int i = 0; i < ntypes; i++) {
                put32(o, offs[i]);
                unsigned char dst_abbr[2] = {(unsigned char)(i > 0), 0};
                put(o, dst_abbr, 2);
        }
        put(o, "XYZ", 4);
}

static void write_file(const char *dir, const char *name, const bytes_t *o, size_t n)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        CHECK(fwrite(o->b, 1, n, f) == n);
        fclose(f);
}

static void test_tzif_files(void)
{
        char dir[] = "/tmp/sc_tz_test_XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        const char *old = getenv("TZDIR");
        char *saved = old ? strdup(old) : NULL;
        setenv("TZDIR", dir, 1);
        char err[256];
        const int32_t offs[2] = {3600, 7200};
        const unsigned char idx[2] = {1, 0};

        /* v1: +1 h, +2 h from 1e9 s, +1 h again from 1.1e9 s; no footer. */
        bytes_t v1 = {.n = 0};
        const int64_t at1[2] = {1000000000, 1100000000};
        tzif_block(&v1, '\0', 4, 2, at1, idx, 2, offs);
        write_file(dir, "V1", &v1, v1.n);
        sc_tz_t *tz = sc_tz_load("V1", err, sizeof(err));
        if (!tz)
                fprintf(stderr, "%s\n", err);
        CHECK(tz != NULL);
        CHECK_INT(sc_tz_offset(tz, 999999999999LL), 3600);
        CHECK_INT(sc_tz_offset(tz, 1000000000000LL), 7200);
        CHECK_INT(sc_tz_offset(tz, 1099999999999LL), 7200);
        CHECK_INT(sc_tz_offset(tz, 1100000000000LL), 3600);
        CHECK_INT(sc_tz_offset(tz, T("2300-01-01T00:00:00Z")), 3600);
        CHECK_INT(sc_tz_offset(tz, -T("2300-01-01T00:00:00Z")), 3600);
        sc_tz_destroy(tz);
        /* Truncated and foreign files are refused. */
        write_file(dir, "Trunc", &v1, v1.n - 10);
        CHECK(sc_tz_load("Trunc", err, sizeof(err)) == NULL);
        bytes_t junk = {.n = 0};
        put(&junk, "TZxf this is not a zone file at all, no no no",
            strlen("TZxf this is not a zone file at all, no no no"));
        write_file(dir, "Junk", &junk, junk.n);
        CHECK(sc_tz_load("Junk", err, sizeof(err)) == NULL);

        /* v2: the 32-bit block says the change is at 1e9 s, the 64-bit block
         * at 1.2e9 s, and before 1901 (beyond 32 bits); footer: fixed +2 h. */
        bytes_t v2 = {.n = 0};
        tzif_block(&v2, '2', 4, 1, at1, idx, 2, offs);
        const int64_t at2[2] = {-5000000000LL, 1200000000};
        const unsigned char idx2[2] = {0, 1};
        tzif_block(&v2, '2', 8, 2, at2, idx2, 2, offs);
        put(&v2, "\n<+02>-2\n", strlen("\n<+02>-2\n"));
        write_file(dir, "V2", &v2, v2.n);
        tz = sc_tz_load("V2", err, sizeof(err));
        if (!tz)
                fprintf(stderr, "%s\n", err);
        CHECK(tz != NULL);
        CHECK_INT(sc_tz_offset(tz, 1100000000000LL), 3600);
        CHECK_INT(sc_tz_offset(tz, 1200000000000LL), 7200);
        CHECK_INT(sc_tz_offset(tz, T("2300-01-01T00:00:00Z")), 7200);
        sc_tz_destroy(tz);

        /* v2 without transitions: the footer (Warsaw's rule) holds at all
         * times; compared with the same rule loaded as a string. */
        const char *rule = "CET-1CEST,M3.5.0,M10.5.0/3";
        bytes_t v2e = {.n = 0};
        tzif_block(&v2e, '2', 4, 0, NULL, idx, 1, offs);
        tzif_block(&v2e, '2', 8, 0, NULL, idx, 1, offs);
        char footer[64];
        int fl = snprintf(footer, sizeof(footer), "\n%s\n", rule);
        put(&v2e, footer, (size_t)fl);
        write_file(dir, "V2empty", &v2e, v2e.n);
        tz = sc_tz_load("V2empty", err, sizeof(err));
        sc_tz_t *ref = sc_tz_load_posix(rule, err, sizeof(err));
        CHECK(tz != NULL && ref != NULL);
        CHECK_INT(sc_tz_offset(tz, T("1975-07-01T00:00:00Z")), 7200);
        CHECK_INT(sc_tz_offset(tz, T("2026-01-01T00:00:00Z")), 3600);
        CHECK_INT(sc_tz_offset(tz, T("2026-07-01T00:00:00Z")), 7200);
        CHECK_TIME(sc_tz_local_to_utc(tz, T("2026-03-29T02:30:00Z")),
                   "2026-03-29T01:00:00Z");
        for (int64_t t = T("1960-01-01T00:00:00Z"); t < T("2500-01-01T00:00:00Z");
             t += 86400000LL * 13 + 3599999)
                CHECK_INT(sc_tz_offset(tz, t), sc_tz_offset(ref, t));
        sc_tz_destroy(tz);
        sc_tz_destroy(ref);

        /* v3: a footer with negative transition times (America/Nuuk's). */
        bytes_t v3 = {.n = 0};
        const int32_t offs3[2] = {-10800, -7200};
        const int64_t at3[1] = {0};
        const unsigned char idx3[1] = {0};
        tzif_block(&v3, '3', 4, 1, at3, idx3, 2, offs3);
        tzif_block(&v3, '3', 8, 1, at3, idx3, 2, offs3);
        const char *f3 = "\n<-03>3<-02>,M3.5.0/-2,M10.5.0/-1\n";
        put(&v3, f3, strlen(f3));
        write_file(dir, "V3", &v3, v3.n);
        tz = sc_tz_load("V3", err, sizeof(err));
        if (!tz)
                fprintf(stderr, "%s\n", err);
        CHECK(tz != NULL);
        /* last Sunday of March 2026 is the 29th: -2:00 local std on Sun =
         * Sat 28th 22:00 -03 = 2026-03-29T01:00Z; last Sunday of October
         * (25th) -1:00 local DST = Sat 24th 23:00 -02 = 2026-10-25T01:00Z */
        CHECK_INT(sc_tz_offset(tz, T("2026-03-29T00:59:59Z")), -10800);
        CHECK_INT(sc_tz_offset(tz, T("2026-03-29T01:00:00Z")), -7200);
        CHECK_INT(sc_tz_offset(tz, T("2026-10-25T00:59:59Z")), -7200);
        CHECK_INT(sc_tz_offset(tz, T("2026-10-25T01:00:00Z")), -10800);
        sc_tz_destroy(tz);

        const char *names[] = {"V1", "Trunc", "Junk", "V2", "V2empty", "V3"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                char path[512];
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                unlink(path);
        }
        rmdir(dir);
        if (saved) {
                setenv("TZDIR", saved, 1);
                free(saved);
        } else
                unsetenv("TZDIR");
}

static void test_local_to_utc(void)
{
        char err[256];
        sc_tz_t *w = sc_tz_load("Europe/Warsaw", err, sizeof(err));
        sc_tz_t *ny = sc_tz_load("America/New_York", err, sizeof(err));
        sc_tz_t *syd = sc_tz_load("Australia/Sydney", err, sizeof(err));
        sc_tz_t *kol = sc_tz_load("Asia/Kolkata", err, sizeof(err));
        CHECK(w && ny && syd && kol);
        /* Warsaw spring 2026-03-29: at 01:00Z 02:00 CET jumps to 03:00 CEST, so
         * 02:30 local does not exist -> the transition instant 01:00Z. */
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-03-29T02:30:00Z")),
                   "2026-03-29T01:00:00Z");
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-03-29T02:00:00Z")),
                   "2026-03-29T01:00:00Z");
        /* 01:59 CET = 00:59Z; 03:00 CEST = 01:00Z. */
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-03-29T01:59:00Z")),
                   "2026-03-29T00:59:00Z");
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-03-29T03:00:00Z")),
                   "2026-03-29T01:00:00Z");
        /* Warsaw autumn 2026-10-25: at 01:00Z 03:00 CEST goes back to 02:00 CET;
         * 02:30 local happens at 00:30Z (CEST) and 01:30Z (CET) -> earlier. */
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-10-25T02:30:00Z")),
                   "2026-10-25T00:30:00Z");
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-10-25T03:00:00Z")),
                   "2026-10-25T02:00:00Z");
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-10-25T01:59:00Z")),
                   "2026-10-24T23:59:00Z");
        /* Plain days: winter +1, summer +2. */
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-11-23T08:00:00Z")),
                   "2026-11-23T07:00:00Z");
        CHECK_TIME(sc_tz_local_to_utc(w, T("2026-07-01T08:00:00Z")),
                   "2026-07-01T06:00:00Z");
        /* New York 2026-03-08 02:00 EST (07:00Z) -> 03:00 EDT; 2026-11-01 02:00 EDT
         * (06:00Z) -> 01:00 EST: 01:30 is 05:30Z (EDT) or 06:30Z (EST). */
        CHECK_TIME(sc_tz_local_to_utc(ny, T("2026-03-08T02:30:00Z")),
                   "2026-03-08T07:00:00Z");
        CHECK_TIME(sc_tz_local_to_utc(ny, T("2026-11-01T01:30:00Z")),
                   "2026-11-01T05:30:00Z");
        /* Sydney: 2026-04-05 03:00 AEDT (16:00Z on the 4th) -> 02:00 AEST, so
         * 02:30 is 15:30Z (AEDT, earlier) or 16:30Z; 2026-10-04 02:00 AEST
         * (16:00Z on the 3rd) -> 03:00 AEDT. */
        CHECK_TIME(sc_tz_local_to_utc(syd, T("2026-04-05T02:30:00Z")),
                   "2026-04-04T15:30:00Z");
        CHECK_TIME(sc_tz_local_to_utc(syd, T("2026-10-04T02:30:00Z")),
                   "2026-10-03T16:00:00Z");
        CHECK_INT(sc_tz_offset(syd, T("2026-01-15T00:00:00Z")), 11 * 3600);
        CHECK_INT(sc_tz_offset(syd, T("2026-07-15T00:00:00Z")), 10 * 3600);
        /* Kolkata +5:30, no DST. */
        CHECK_INT(sc_tz_offset(kol, T("2026-07-15T00:00:00Z")), 5 * 3600 + 1800);
        CHECK_TIME(sc_tz_local_to_utc(kol, T("2026-07-15T09:00:00Z")),
                   "2026-07-15T03:30:00Z");
        /* Local days: 2026-11-22T23:30Z is 00:30 on the 23rd in Warsaw (day
         * 20780), still the 22nd in New York (20779). */
        CHECK_INT(sc_tz_local_day(w, T("2026-11-22T23:30:00Z")), 20780);
        CHECK_INT(sc_tz_local_day(ny, T("2026-11-22T23:30:00Z")), 20779);
        CHECK_INT(sc_tz_days_from_civil(2026, 11, 23), 20780);
        CHECK_INT(sc_tz_local_day(kol, T("2026-11-22T18:29:59Z")), 20779);
        CHECK_INT(sc_tz_local_day(kol, T("2026-11-22T18:30:00Z")), 20780);
        /* Round trip at every quarter hour over two years for instants not in
         * an overlap: local_to_utc(utc + offset) == utc. */
        for (int64_t t = T("2026-01-01T00:00:00Z"); t < T("2028-01-01T00:00:00Z");
             t += 900000) {
                const sc_tz_t *zs[] = {w, ny, syd, kol};
                for (int z = 0; z < 4; z++) {
                        int64_t l = t + (int64_t)sc_tz_offset(zs[z], t) * 1000;
                        int64_t back = sc_tz_local_to_utc(zs[z], l);
                        /* in an overlap the earlier instant is returned */
                        CHECK(back == t ||
                              (back == t - 3600000 &&
                               sc_tz_offset(zs[z], back) != sc_tz_offset(zs[z], t)));
                }
        }
        sc_tz_destroy(w);
        sc_tz_destroy(ny);
        sc_tz_destroy(syd);
        sc_tz_destroy(kol);
}

static const char *yaml_text =
    "metrics:\n"
    "  port: 0\n"
    "calendars:\n"
    "  office:\n"
    "    timezone: Europe/Warsaw\n"
    "    hours:\n"
    "      mon-fri: \"08:00-20:00\"\n"
    "      sat: \"09:00-15:00\"\n"
    "    holidays: [\"2026-12-24\", \"12-25\", \"12-26\", \"2027-04-05\"]\n"
    "  lunch:\n"
    "    timezone: Europe/Warsaw\n"
    "    hours:\n"
    "      mon-fri: \"08:00-12:00, 13:00-17:00\"\n"
    "  sunday:\n"
    "    timezone: Europe/Warsaw\n"
    "    hours:\n"
    "      sun: \"00:00-24:00\"\n"
    "  night:\n"
    "    timezone: Europe/Warsaw\n"
    "    hours:\n"
    "      sat,sun: \"01:00-04:00\"\n"
    "  nyc:\n"
    "    timezone: America/New_York\n"
    "    hours:\n"
    "      fri-mon: [\"09:00-12:00\", \"12:00-17:00\"]\n"
    "  always:\n"
    "    hours: 24/7\n";

static sc_calendars_t *load(const char *text, char *err, size_t errlen)
{
        sc_yaml_t *y = sc_yaml_load_string(text, strlen(text), "test", err, errlen);
        CHECK(y != NULL);
        sc_calendars_t *cs = sc_calendars_new(sc_yaml_root(y), err, errlen);
        sc_yaml_destroy(y);
        return cs;
}

static void test_business_hours(void)
{
        char err[256];
        sc_calendars_t *cs = load(yaml_text, err, sizeof(err));
        if (!cs)
                fprintf(stderr, "%s\n", err);
        CHECK(cs != NULL);
        CHECK_INT(sc_calendars_count(cs), 7);
        CHECK_STR(sc_calendar_id(sc_calendars_at(cs, 0)), "24x7");
        CHECK_STR(sc_calendar_id(sc_calendars_at(cs, 1)), "office");
        CHECK(sc_calendars_at(cs, 7) == NULL);
        CHECK(sc_calendars_find(cs, "nope") == NULL);
        const sc_calendar_t *o = sc_calendars_find(cs, "office");
        const sc_calendar_t *lunch = sc_calendars_find(cs, "lunch");
        const sc_calendar_t *sun = sc_calendars_find(cs, "sunday");
        const sc_calendar_t *night = sc_calendars_find(cs, "night");
        const sc_calendar_t *nyc = sc_calendars_find(cs, "nyc");
        const sc_calendar_t *al = sc_calendars_find(cs, "always");
        const sc_calendar_t *b247 = sc_calendars_find(cs, "24x7");
        CHECK(o && lunch && sun && night && nyc && al && b247);
        CHECK_STR(sc_tz_name(sc_calendar_tz(o)), "Europe/Warsaw");
        CHECK_STR(sc_tz_name(sc_calendar_tz(al)), "UTC");
        const int64_t H = 3600000, M = 60000;

        /* November: Warsaw is CET (+1). 2026-11-23 is a Monday. */
        /* within a day: Mon 10:00 local + 2h = 12:00 local = 11:00Z */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-23T09:00:00Z"), 2 * H),
                   "2026-11-23T11:00:00Z");
        /* across a night: Mon 19:30 + 1h = 30m Mon + 30m Tue from 08:00 */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-23T18:30:00Z"), 1 * H),
                   "2026-11-24T07:30:00Z");
        /* Friday evening -> Monday: Fri 19:00 + 8h = 1h Fri, 6h Sat (09-15),
         * 1h Mon -> Mon 2026-11-30 09:00 local = 08:00Z */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-27T18:00:00Z"), 8 * H),
                   "2026-11-30T08:00:00Z");
        /* holidays: Wed 2026-12-23 19:00 + 2h: 1h Wed; Thu 24th (explicit),
         * Fri 25th and Sat 26th (yearly) closed; Sun closed; Mon 28th 09:00 */
        CHECK_TIME(sc_calendar_add(o, T("2026-12-23T18:00:00Z"), 2 * H),
                   "2026-12-28T08:00:00Z");
        /* yearly only: Fri 2027-12-24 is open (explicit date was 2026), Sat
         * 2027-12-25 is closed every year -> Mon 27th 09:00 local */
        CHECK_TIME(sc_calendar_add(o, T("2027-12-24T18:00:00Z"), 2 * H),
                   "2027-12-27T08:00:00Z");
        /* explicit 2027-04-05 (Easter Monday): Sat 2027-04-03 14:00 CEST + 2h =
         * 1h Sat, Mon closed, Tue 2027-04-06 09:00 CEST = 07:00Z */
        CHECK_TIME(sc_calendar_add(o, T("2027-04-03T12:00:00Z"), 2 * H),
                   "2027-04-06T07:00:00Z");
        /* starting on a closed day: Sun 12:00 + 30m -> Mon 08:30 local */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-29T11:00:00Z"), 30 * M),
                   "2026-11-30T07:30:00Z");
        CHECK_TIME(sc_calendar_add(o, T("2026-11-29T11:00:00Z"), 0),
                   "2026-11-30T07:00:00Z");
        /* zero while open: start itself */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-23T09:17:00Z"), 0),
                   "2026-11-23T09:17:00Z");
        /* exactly at closing: Mon 19:00 local + 1h = 20:00 local (closing) */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-23T18:00:00Z"), 1 * H),
                   "2026-11-23T19:00:00Z");
        /* starting before opening: Tue 06:00 local + 1h = 09:00 local */
        CHECK_TIME(sc_calendar_add(o, T("2026-11-24T05:00:00Z"), 1 * H),
                   "2026-11-24T08:00:00Z");
        /* lunch break: Mon 11:00 local + 2h = 11-12, 13-14 -> 14:00 local */
        CHECK_TIME(sc_calendar_add(lunch, T("2026-11-23T10:00:00Z"), 2 * H),
                   "2026-11-23T13:00:00Z");
        CHECK_TIME(sc_calendar_add(lunch, T("2026-11-23T11:30:00Z"), 0),
                   "2026-11-23T12:00:00Z");
        CHECK_INT(sc_calendar_between(lunch, T("2026-11-23T00:00:00Z"),
                                      T("2026-11-24T00:00:00Z")),
                  8 * H);
        CHECK(!sc_calendar_is_open(lunch, T("2026-11-23T11:30:00Z")));
        CHECK(sc_calendar_is_open(lunch, T("2026-11-23T12:00:00Z")));
        CHECK(!sc_calendar_is_open(o, T("2026-12-24T10:00:00Z")));
        CHECK(
            !sc_calendar_is_open(o, T("2026-11-23T19:00:00Z"))); /* 20:00 local: closed */
        CHECK(sc_calendar_is_open(o, T("2026-11-23T18:59:59Z")));

        /* DST, spring: Sun 2026-03-29 is 23 h long (local 00:00 = 03-28T23:00Z
         * CET, 24:00 = 03-29T22:00Z CEST). */
        CHECK_INT(sc_calendar_between(sun, T("2026-03-28T00:00:00Z"),
                                      T("2026-03-31T00:00:00Z")),
                  23 * H);
        CHECK_TIME(sc_calendar_add(sun, T("2026-03-28T12:00:00Z"), 0),
                   "2026-03-28T23:00:00Z");
        CHECK_TIME(sc_calendar_add(sun, T("2026-03-28T12:00:00Z"), 23 * H),
                   "2026-03-29T22:00:00Z");
        /* one minute more: next Sunday 2026-04-05 00:01 CEST = 04-04T22:01Z */
        CHECK_TIME(sc_calendar_add(sun, T("2026-03-28T12:00:00Z"), 23 * H + M),
                   "2026-04-04T22:01:00Z");
        /* 3 h into that Sunday: 03-28T23:00Z + 3 h = 03-29T02:00Z (04:00 CEST) */
        CHECK_TIME(sc_calendar_add(sun, T("2026-03-28T12:00:00Z"), 3 * H),
                   "2026-03-29T02:00:00Z");
        /* DST, autumn: Sun 2026-10-25 is 25 h (22:00Z on the 24th to 23:00Z). */
        CHECK_INT(sc_calendar_between(sun, T("2026-10-24T00:00:00Z"),
                                      T("2026-10-27T00:00:00Z")),
                  25 * H);
        CHECK_TIME(sc_calendar_add(sun, T("2026-10-24T12:00:00Z"), 25 * H),
                   "2026-10-25T23:00:00Z");
        /* 01:00-04:00 on weekend nights: 2 h on 03-29 (01:00 CET=00:00Z to 04:00
         * CEST=02:00Z), 3 h on Sat 03-28, 4 h on 10-25 (23:00Z to 03:00Z). */
        CHECK_INT(sc_calendar_between(night, T("2026-03-29T00:00:00Z"),
                                      T("2026-03-30T00:00:00Z")),
                  2 * H);
        CHECK_INT(sc_calendar_between(night, T("2026-03-28T00:00:00Z"),
                                      T("2026-03-28T12:00:00Z")),
                  3 * H);
        CHECK_INT(sc_calendar_between(night, T("2026-10-24T22:00:00Z"),
                                      T("2026-10-25T22:00:00Z")),
                  4 * H);
        CHECK_TIME(sc_calendar_add(night, T("2026-03-29T00:30:00Z"), H),
                   "2026-03-29T01:30:00Z");
        CHECK_TIME(sc_calendar_add(night, T("2026-10-24T23:00:00Z"), 4 * H),
                   "2026-10-25T03:00:00Z");
        /* Ordinary hours across the switches: the opening stays 08:00 local.
         * Spring: Fri 2026-03-27 19:00 CET (18:00Z) + 8h = 1h Fri, 6h Sat (CET),
         * Mon 03-30 08:00-09:00 CEST -> 07:00Z. */
        CHECK_TIME(sc_calendar_add(o, T("2026-03-27T18:00:00Z"), 8 * H),
                   "2026-03-30T07:00:00Z");
        CHECK_TIME(sc_calendar_add(o, T("2026-03-28T14:00:00Z"), 0),
                   "2026-03-30T06:00:00Z");
        CHECK_INT(
            sc_calendar_between(o, T("2026-03-27T17:00:00Z"), T("2026-03-30T07:00:00Z")),
            9 * H);
        /* Autumn: Fri 2026-10-23 19:00 CEST (17:00Z) + 8h -> Mon 10-26 09:00 CET =
         * 08:00Z; Sat 10-24 still CEST: opens 07:00Z. */
        CHECK_TIME(sc_calendar_add(o, T("2026-10-23T17:00:00Z"), 8 * H),
                   "2026-10-26T08:00:00Z");
        CHECK_TIME(sc_calendar_add(o, T("2026-10-23T18:30:00Z"), 0),
                   "2026-10-24T07:00:00Z");
        CHECK_TIME(sc_calendar_add(o, T("2026-10-24T13:00:00Z"), 0),
                   "2026-10-26T07:00:00Z");
        /* New York, fri-mon with two adjacent ranges (merged): Sun 2026-03-08
         * 09:00 EDT = 13:00Z; 2026-11-01 09:00 EST = 14:00Z. */
        CHECK_TIME(sc_calendar_add(nyc, T("2026-03-08T05:00:00Z"), 8 * H),
                   "2026-03-08T21:00:00Z");
        CHECK_TIME(sc_calendar_add(nyc, T("2026-11-01T05:00:00Z"), 0),
                   "2026-11-01T14:00:00Z");
        /* Mon 2026-11-02 17:00 EST (22:00Z) + 1h -> Fri 11-06 10:00 EST */
        CHECK_TIME(sc_calendar_add(nyc, T("2026-11-02T22:00:00Z"), H),
                   "2026-11-06T15:00:00Z");

        /* 24/7: plain arithmetic. */
        CHECK(sc_calendar_is_24x7(al) && sc_calendar_is_24x7(b247) &&
              !sc_calendar_is_24x7(o));
        CHECK_INT(sc_calendar_add(al, T("2026-03-29T00:30:00Z"), 90 * M),
                  T("2026-03-29T02:00:00Z"));
        CHECK_INT(sc_calendar_add(b247, 123456789, 1000), 123457789);
        CHECK_INT(sc_calendar_add(b247, 5, -10), 5);
        CHECK_INT(sc_calendar_between(al, 1000, 5000), 4000);
        CHECK_INT(sc_calendar_between(al, 5000, 1000), 0);
        CHECK_INT(
            sc_calendar_between(o, T("2026-11-24T00:00:00Z"), T("2026-11-23T00:00:00Z")),
            0);
        CHECK(sc_calendar_is_open(b247, 0));

        /* between over 60 days in November/December 2026: weeks of 66 h
         * (5 x 12 + 6), minus the holidays. 2026-11-02 (Mon) .. 2027-01-04
         * (Mon) = 9 weeks = 594 h, minus Thu 24th (12), Fri 25th (12), Sat
         * 26th (6) = 564 h. */
        CHECK_INT(
            sc_calendar_between(o, T("2026-11-01T23:00:00Z"), T("2027-01-03T23:00:00Z")),
            564 * H);

        /* between() inverts add() on many pseudo-random inputs. */
        uint64_t seed = 88172645463325252ULL;
        const sc_calendar_t *cals[] = {o, lunch, sun, night, nyc, al};
        for (int i = 0; i < 20000; i++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                const sc_calendar_t *c = cals[i % 6];
                int64_t start =
                    T("2026-01-01T00:00:00Z") + (int64_t)(seed % (730ULL * DAY_MS_T));
                int64_t b = (int64_t)((seed >> 20) % (40ULL * 3600000));
                if (i % 5 == 0)
                        b = (b / 900000) * 900000; /* round targets */
                int64_t due = sc_calendar_add(c, start, b);
                CHECK(due >= start);
                CHECK_INT(sc_calendar_between(c, start, due), b);
                /* due is not later than needed: a minute earlier is short */
                if (b > 0)
                        CHECK(sc_calendar_between(c, start, due - 1) < b);
                CHECK_INT(sc_calendar_is_open(c, sc_calendar_add(c, start, 0)), 1);
        }
        sc_calendars_destroy(cs);
}

static void expect_error(const char *text, const char *want)
{
        char err[256] = "";
        sc_calendars_t *cs = load(text, err, sizeof(err));
        if (cs || !strstr(err, want))
                fprintf(stderr, "want error \"%s\", got \"%s\"\n", want,
                        cs ? "(none)" : err);
        CHECK(cs == NULL);
        CHECK(strstr(err, want) != NULL);
}

static void test_errors(void)
{
        expect_error("calendars:\n"
                     "  office_pl:\n"
                     "    timezone: Europe/Warsaw\n"
                     "    hours:\n"
                     "      mon: \"25:00-26:00\"\n",
                     "line 5: calendar office_pl: bad hours '25:00-26:00'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: Mars/Olympus\n"
                     "    hours: {mon: \"08:00-10:00\"}\n",
                     "line 3: calendar a: unknown timezone 'Mars/Olympus'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: ../../etc/passwd\n"
                     "    hours: {mon: \"08:00-10:00\"}\n",
                     "line 3: calendar a: unknown timezone");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours:\n"
                     "      mon: \"20:00-08:00\"\n",
                     "line 5: calendar a: bad hours '20:00-08:00'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours:\n"
                     "      mon-fri: \"08:00-12:00\"\n"
                     "      wed: \"11:00-13:00\"\n",
                     "line 6: calendar a: overlapping hours on wed");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours:\n"
                     "      mon: \"08:00-12:00,11:00-13:00\"\n",
                     "line 5: calendar a: overlapping hours on mon");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours:\n"
                     "      mon: \"08:00-12:00\"\n"
                     "      funday: \"08:00-12:00\"\n",
                     "line 6: calendar a: unknown day 'funday'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    opening: 9\n"
                     "    hours: {mon: \"08:00-10:00\"}\n",
                     "line 4: calendar a: unknown key 'opening'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours:\n"
                     "      mon: closed\n",
                     "line 4: calendar a: no open hours");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n",
                     "line 2: calendar a: no open hours");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours: {mon: \"08:00-10:00\"}\n"
                     "    holidays: [\"2026-02-30\"]\n",
                     "line 5: calendar a: bad holiday '2026-02-30'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours: {mon: \"08:00-10:00\"}\n"
                     "    holidays: [\"13-01\"]\n",
                     "line 5: calendar a: bad holiday '13-01'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    hours: {mon: \"08:00-10:00\"}\n",
                     "line 2: calendar a: timezone missing");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    hours: 24/5\n",
                     "line 3: calendar a: bad hours '24/5'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours: {mon: \"8-10\"}\n",
                     "line 4: calendar a: bad hours '8-10'");
        expect_error("calendars:\n"
                     "  a:\n"
                     "    timezone: UTC\n"
                     "    hours: {mon: \"08:00-24:30\"}\n",
                     "bad hours '08:00-24:30'");
        expect_error("calendars:\n"
                     "  24x7:\n"
                     "    hours: 24/7\n",
                     "line 2: calendar 24x7 is built in");
        expect_error("calendars: [a, b]\n", "line 1: calendars must be a map");

        /* No section at all: only the built-in. */
        char err[256];
        sc_calendars_t *cs = sc_calendars_new(NULL, err, sizeof(err));
        CHECK(cs != NULL);
        CHECK_INT(sc_calendars_count(cs), 1);
        CHECK(sc_calendar_is_24x7(sc_calendars_find(cs, "24x7")));
        sc_calendars_destroy(cs);
        sc_calendars_destroy(NULL);
        cs = load("metrics:\n  port: 0\ncalendars:\n", err, sizeof(err));
        CHECK(cs != NULL);
        CHECK_INT(sc_calendars_count(cs), 1);
        sc_calendars_destroy(cs);

        /* Mondays 08:00-09:00 only, and every Monday of 2026-2027 a holiday:
         * no open time within a year -> -1; between is 0. */
        char text[8192];
        size_t n =
            (size_t)snprintf(text, sizeof(text),
                             "calendars:\n  mondays:\n    timezone: Europe/Warsaw\n"
                             "    hours: {monday: \"08:00-09:00\"}\n    holidays: [");
        for (int64_t d = sc_tz_days_from_civil(2026, 1, 5);
             d < sc_tz_days_from_civil(2028, 1, 1); d += 7) {
                int64_t y;
                unsigned m, dd;
                sc_tz_civil_from_days(d, &y, &m, &dd);
                n += (size_t)snprintf(text + n, sizeof(text) - n, "\"%04d-%02u-%02u\", ",
                                      (int)y, m, dd);
        }
        snprintf(text + n, sizeof(text) - n, "\"01-01\"]\n");
        cs = load(text, err, sizeof(err));
        if (!cs)
                fprintf(stderr, "%s\n", err);
        CHECK(cs != NULL);
        const sc_calendar_t *c = sc_calendars_find(cs, "mondays");
        CHECK_INT(sc_calendar_add(c, T("2026-01-01T00:00:00Z"), 0), -1);
        CHECK_INT(sc_calendar_add(c, T("2026-01-01T00:00:00Z"), 3600000), -1);
        CHECK_INT(
            sc_calendar_between(c, T("2026-01-01T00:00:00Z"), T("2027-12-31T00:00:00Z")),
            0);
        /* after the listed years Mondays open again: Mon 2028-01-03 08:00 CET */
        CHECK_TIME(sc_calendar_add(c, T("2027-06-01T00:00:00Z"), 0),
                   "2028-01-03T07:00:00Z");
        sc_calendars_destroy(cs);
}

/* The deployment file's calendars parse and mean what they say. */
static void test_deployment_file(void)
{
        char err[256];
        sc_yaml_t *y =
            sc_yaml_load_file(SC_SOURCE_DIR "/config/socialcare.yaml", err, sizeof(err));
        if (!y)
                fprintf(stderr, "%s\n", err);
        CHECK(y != NULL);
        sc_calendars_t *cs = sc_calendars_new(sc_yaml_root(y), err, sizeof(err));
        if (!cs)
                fprintf(stderr, "%s\n", err);
        CHECK(cs != NULL);
        const sc_calendar_t *o = sc_calendars_find(cs, "office_pl");
        CHECK(o != NULL);
        CHECK(sc_calendar_is_24x7(sc_calendars_find(cs, "always")));
        /* Corpus Christi Thu 2026-06-04 closed; Wed 2026-06-03 18:00 CEST + 3h ->
         * 2h Wed, Fri 06-05 08:00-09:00 CEST -> 07:00Z */
        CHECK(!sc_calendar_is_open(o, T("2026-06-04T10:00:00Z")));
        CHECK_TIME(sc_calendar_add(o, T("2026-06-03T16:00:00Z"), 3 * 3600000LL),
                   "2026-06-05T07:00:00Z");
        /* Sat 2027-01-02 is open 09-15 CET; Fri 2027-01-01 (yearly) closed. */
        CHECK_TIME(sc_calendar_add(o, T("2026-12-31T18:30:00Z"), 2 * 3600000LL),
                   "2027-01-02T09:30:00Z");
        sc_calendars_destroy(cs);
        sc_yaml_destroy(y);
}

/* Instants decoded from records can be anything: the arithmetic must stay
 * defined (UBSan checks) and answer "no time" rather than wrap around. */
static void test_extreme_instants(void)
{
        char err[256];
        sc_calendars_t *cs = load(yaml_text, err, sizeof(err));
        CHECK(cs != NULL);
        for (size_t i = 0; i < sc_calendars_count(cs); i++) {
                const sc_calendar_t *c = sc_calendars_at(cs, i);
                CHECK_INT(sc_calendar_add(c, INT64_MAX, 3600000), -1);
                CHECK_INT(sc_calendar_add(c, INT64_MIN, 3600000), -1);
                CHECK_INT(sc_calendar_add(c, 1795000000000, INT64_MAX), -1);
                CHECK_INT(sc_calendar_between(c, INT64_MAX - 5, INT64_MAX), 0);
                CHECK(sc_calendar_between(c, INT64_MIN, INT64_MIN + 1000) >= 0);
                CHECK(sc_calendar_between(c, 1795000000000, INT64_MAX) >= 0);
                (void)sc_calendar_is_open(c, INT64_MAX);
                (void)sc_calendar_is_open(c, INT64_MIN);
                (void)sc_tz_local_day(sc_calendar_tz(c), INT64_MIN);
                (void)sc_tz_local_to_utc(sc_calendar_tz(c), INT64_MAX);
        }
        sc_calendars_destroy(cs);
}

int main(void)
{
        test_deployment_file();
        test_tz_names();
        test_tzif_files();
        test_local_to_utc();
        test_tz_oracle();
        test_business_hours();
        test_errors();
        test_extreme_instants();
        TEST_DONE();
}
