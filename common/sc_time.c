#include "sc_time.h"

#include "sc_tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t sc_now_ms(void)
{
#ifdef SC_TEST_HOOKS
        static int checked;
        static int64_t fake;
        if (!checked) {
                const char *f = getenv("SC_FAKE_NOW_MS");
                fake = f ? strtoll(f, NULL, 10) : 0;
                checked = 1;
        }
        if (fake)
                return fake;
#endif
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sc_mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sc_mono_ms(void)
{
        return sc_mono_ns() / 1000000;
}

static int digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (*pos >= len || s[*pos] < '0' || s[*pos] > '9')
                        return -1;
                v = v * 10 + (s[(*pos)++] - '0');
        }
        *out = v;
        return 0;
}

static int expect(const char *s, size_t len, size_t *pos, char c)
{
        if (*pos >= len || s[*pos] != c)
                return -1;
        (*pos)++;
        return 0;
}

static int64_t compose(int y, int mo, int d, int h, int mi, int s, int ms, int off_min)
{
        return ((sc_tz_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 +
                 mi * 60 + s) -
                (int64_t)off_min * 60) *
                   1000 +
               ms;
}

static int parse_iso(const char *s, size_t len, int64_t *out)
{
        size_t p = 0;
        int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
        if (digits(s, len, &p, 4, &y) || expect(s, len, &p, '-') ||
            digits(s, len, &p, 2, &mo) || expect(s, len, &p, '-') ||
            digits(s, len, &p, 2, &d))
                return -1;
        if (mo < 1 || mo > 12 || d < 1 || d > (int)sc_tz_month_days(y, (unsigned)mo))
                return -1;
        if (p < len && (s[p] == 'T' || s[p] == 't' || s[p] == ' ')) {
                p++;
                if (digits(s, len, &p, 2, &h) || expect(s, len, &p, ':') ||
                    digits(s, len, &p, 2, &mi))
                        return -1;
                if (p < len && s[p] == ':') {
                        p++;
                        if (digits(s, len, &p, 2, &sec))
                                return -1;
                }
                if (p < len && (s[p] == '.' || s[p] == ',')) {
                        int scale = 100, any = 0;
                        p++;
                        while (p < len && s[p] >= '0' && s[p] <= '9') {
                                ms += (s[p++] - '0') * scale;
                                scale /= 10;
                                any = 1;
                        }
                        if (!any)
                                return -1;
                }
                if (h > 23 || mi > 59 || sec > 60)
                        return -1;
                if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
                        p++;
                } else if (p < len && (s[p] == '+' || s[p] == '-')) {
                        int sign = s[p++] == '-' ? -1 : 1, oh, om = 0;
                        if (digits(s, len, &p, 2, &oh))
                                return -1;
                        if (p < len && s[p] == ':')
                                p++;
                        if (p < len && digits(s, len, &p, 2, &om))
                                return -1;
                        if (oh > 18 || om > 59)
                                return -1;
                        off = sign * (oh * 60 + om);
                } else {
                        return -1; /* a time without a zone is ambiguous */
                }
        }
        if (p != len)
                return -1;
        *out = compose(y, mo, d, h, mi, sec, ms, off);
        return 0;
}

/* X (Twitter v1): "Wed Oct 10 20:19:24 +0000 2018" */
static int parse_x(const char *s, size_t len, int64_t *out)
{
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        if (len != 30 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ' ||
            s[25] != ' ')
                return -1;
        int mo = 0;
        for (int i = 0; i < 12; i++)
                if (!memcmp(s + 4, months + i * 3, 3))
                        mo = i + 1;
        if (!mo)
                return -1;
        size_t p = 8;
        int d, h, mi, sec, y, oh, om;
        if (digits(s, len, &p, 2, &d) || (p = 11, digits(s, len, &p, 2, &h)) ||
            expect(s, len, &p, ':') || digits(s, len, &p, 2, &mi) ||
            expect(s, len, &p, ':') || digits(s, len, &p, 2, &sec))
                return -1;
        if (s[20] != '+' && s[20] != '-')
                return -1;
        p = 21;
        if (digits(s, len, &p, 2, &oh) || digits(s, len, &p, 2, &om))
                return -1;
        p = 26;
        if (digits(s, len, &p, 4, &y))
                return -1;
        if (d < 1 || d > (int)sc_tz_month_days(y, (unsigned)mo) || h > 23 || mi > 59 ||
            sec > 60)
                return -1;
        *out = compose(y, mo, d, h, mi, sec, 0, (s[20] == '-' ? -1 : 1) * (oh * 60 + om));
        return 0;
}

int sc_time_parse(const char *s, size_t len, int64_t *ms)
{
        if (!s || len < 10 || len > 40)
                return -1;
        if (s[0] >= '0' && s[0] <= '9')
                return parse_iso(s, len, ms);
        return parse_x(s, len, ms);
}

void sc_time_format(int64_t ms, char out[32])
{
        int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
        int64_t rem = secs - days * 86400;
        int64_t y;
        unsigned m, d;
        sc_tz_civil_from_days(days, &y, &m, &d);
        snprintf(out, 32, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                 (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60),
                 (int)(ms - secs * 1000));
}

void sc_time_format_day(int64_t ms, char out[16])
{
        int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
        int64_t y;
        unsigned m, d;
        sc_tz_civil_from_days(days, &y, &m, &d);
        if (y < 0 || y > 9999) {
                snprintf(out, 16, "%04d-%02u-%02u", (int)y, m, d);
                return;
        }
        /* per post on the hot path: without printf */
        unsigned yy = (unsigned)y;
        out[0] = (char)('0' + yy / 1000);
        out[1] = (char)('0' + yy / 100 % 10);
        out[2] = (char)('0' + yy / 10 % 10);
        out[3] = (char)('0' + yy % 10);
        out[4] = '-';
        out[5] = (char)('0' + m / 10);
        out[6] = (char)('0' + m % 10);
        out[7] = '-';
        out[8] = (char)('0' + d / 10);
        out[9] = (char)('0' + d % 10);
        out[10] = '\0';
}

int sc_duration_parse(const char *s, int64_t *ms)
{
        int64_t total = 0;
        int parts = 0;
        if (!s || !*s)
                return -1;
        while (*s) {
                if (*s < '0' || *s > '9')
                        return -1;
                int64_t n = 0;
                while (*s >= '0' && *s <= '9') {
                        if (n > INT64_MAX / 10 / 1000)
                                return -1;
                        n = n * 10 + (*s++ - '0');
                }
                int64_t unit;
                if (!strncmp(s, "ms", 2)) {
                        unit = 1;
                        s += 2;
                } else if (*s == 's' || (!*s && !parts)) {
                        unit = 1000;
                        s += *s ? 1 : 0;
                } else if (*s == 'm') {
                        unit = 60000;
                        s++;
                } else if (*s == 'h') {
                        unit = 3600000;
                        s++;
                } else if (*s == 'd') {
                        unit = 86400000;
                        s++;
                } else {
                        return -1;
                }
                if (n > (INT64_MAX - total) / unit)
                        return -1;
                total += n * unit;
                parts++;
        }
        *ms = total;
        return 0;
}
