/* Business-time arithmetic as route uses it: due_at = add(calendar, post
 * time, SLA target) for post times spread over a year (nights, weekends,
 * holidays, both DST switches) and targets from 15 min to 8 h, on the office
 * calendar of the deployment file; then between() over the same spans and
 * over 60-day windows (the worst case track may ask for). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_bench.h"
#include "sc_calendar.h"
#include "sc_yaml.h"

static const char *const yaml =
    "calendars:\n"
    "  office_pl:\n"
    "    timezone: Europe/Warsaw\n"
    "    hours:\n"
    "      mon-fri: \"08:00-20:00\"\n"
    "      sat: \"09:00-15:00\"\n"
    "    holidays: [\"2026-01-01\", \"2026-01-06\", \"2026-04-05\", \"2026-04-06\",\n"
    "               \"2026-05-01\", \"2026-05-03\", \"2026-05-24\", \"2026-06-04\",\n"
    "               \"2026-08-15\", \"2026-11-01\", \"2026-11-11\", \"2026-12-24\",\n"
    "               \"2026-12-25\", \"2026-12-26\", \"01-01\", \"05-01\", \"11-11\"]\n";

#define N 65536

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? atol(argv[1]) : 20;
        char err[256];
        sc_yaml_t *y = sc_yaml_load_string(yaml, strlen(yaml), "bench", err, sizeof(err));
        sc_calendars_t *cs =
            y ? sc_calendars_new(sc_yaml_root(y), err, sizeof(err)) : NULL;
        if (!cs) {
                fprintf(stderr, "bench_calendar: %s\n", err);
                return 1;
        }
        const sc_calendar_t *c = sc_calendars_find(cs, "office_pl");
        const sc_calendar_t *always = sc_calendars_find(cs, "24x7");
        static const int64_t targets[] = {15 * 60000,  30 * 60000,  3600000,
                                          2 * 3600000, 4 * 3600000, 8 * 3600000};
        static int64_t start[N], target[N], due[N];
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        const int64_t t2026 = 1767225600000LL; /* 2026-01-01T00:00:00Z */
        for (int i = 0; i < N; i++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                start[i] = t2026 + (int64_t)(seed % (365ULL * 86400000ULL));
                target[i] = targets[(seed >> 40) % 6];
        }
        int64_t sink = 0;
        for (int i = 0; i < N; i++) /* warm-up */
                sink += sc_calendar_add(c, start[i], target[i]);

        uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long r = 0; r < rounds; r++)
                for (int i = 0; i < N; i++)
                        sink += due[i] = sc_calendar_add(c, start[i], target[i]);
        uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report("calendar add (office_pl, 15m..8h)", (uint64_t)rounds * N,
                        t1 - t0, a1 - a0);

        a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long r = 0; r < rounds; r++)
                for (int i = 0; i < N; i++)
                        sink += sc_calendar_add(always, start[i], target[i]);
        t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report("calendar add (24x7)", (uint64_t)rounds * N, t1 - t0, a1 - a0);

        a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long r = 0; r < rounds; r++)
                for (int i = 0; i < N; i++) {
                        int64_t b = sc_calendar_between(c, start[i], due[i]);
                        if (b != target[i]) {
                                fprintf(stderr, "between != add target at %d\n", i);
                                return 1;
                        }
                        sink += b;
                }
        t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report("calendar between (start, due)", (uint64_t)rounds * N, t1 - t0,
                        a1 - a0);

        int n60 = N / 16;
        a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long r = 0; r < rounds; r++)
                for (int i = 0; i < n60; i++)
                        sink +=
                            sc_calendar_between(c, start[i], start[i] + 60 * 86400000LL);
        t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report("calendar between (60 days)", (uint64_t)rounds * n60, t1 - t0,
                        a1 - a0);

        sc_calendars_destroy(cs);
        sc_yaml_destroy(y);
        return sink == 42 ? 2 : 0;
}
