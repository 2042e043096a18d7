/* bench_track REDIS_URL [CONVERSATIONS]: posts/s through the tracker
 * (sc_track: record packing, one EVALSHA per brand and batch of 500 records,
 * one pipeline per batch, reply parsing) against a real
 * redis-server, and Redis commands per post from INFO commandstats (the
 * commands the Lua scripts run included) and redis-server CPU per post
 * (INFO cpu). Each conversation is an inbound
 * post that needs a reply plus its brand reply (in the next batch for one in
 * three, before the post for one in ten: early replies reconciled later).
 * Also the in-process part alone (marshalling into the pipeline buffer) in
 * ns/post and allocs/post. bench_track.sh starts the redis-server. */
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "sc_bench.h"
#include "sc_calendar.h"
#include "sc_redis.h"
#include "sc_time.h"
#include "sc_track.h"

#define BATCH 500

static long long total_calls(sc_redis_t *r, long long *evalsha)
{
        redisReply **rep;
        size_t n;
        sc_redis_appendf(r, "INFO commandstats");
        if (sc_redis_exec(r, &rep, &n) || rep[0]->type != REDIS_REPLY_STRING) {
                fprintf(stderr, "bench_track: INFO failed\n");
                exit(1);
        }
        long long total = 0;
        *evalsha = 0;
        for (const char *p = rep[0]->str; (p = strstr(p, "cmdstat_")); p++) {
                const char *c = strstr(p, "calls=");
                if (!c)
                        break;
                long long v = atoll(c + 6);
                /* INFO itself is the bench's, not the tracker's. */
                if (strncmp(p, "cmdstat_info:", 13))
                        total += v;
                if (!strncmp(p, "cmdstat_evalsha:", 16))
                        *evalsha = v;
        }
        return total;
}

/* CPU seconds redis-server used so far (user + sys, INFO cpu). */
static double redis_cpu(sc_redis_t *r)
{
        redisReply **rep;
        size_t n;
        sc_redis_appendf(r, "INFO cpu");
        if (sc_redis_exec(r, &rep, &n) || rep[0]->type != REDIS_REPLY_STRING) {
                fprintf(stderr, "bench_track: INFO failed\n");
                exit(1);
        }
        const char *u = strstr(rep[0]->str, "used_cpu_user:");
        const char *s = strstr(rep[0]->str, "used_cpu_sys:");
        return (u ? atof(u + 14) : 0) + (s ? atof(s + 13) : 0);
}

static void exec_or_die(sc_track_t *t)
{
        char err[256];
        if (sc_track_exec(t, NULL, NULL, NULL, err, sizeof(err))) {
                fprintf(stderr, "bench_track: %s\n", err);
                exit(1);
        }
}

static const char *const brands[] = {"telko", "bankowo", "burgerhub", "autofix"};
static const char *const pfs[] = {"x", "facebook", "instagram"};

/* The deferred replies (every third) of conversations [from, to): they go
 * into the batch after their posts were applied. */
static void add_deferred(sc_track_t *t, long from, long to, int64_t base)
{
        char pid[32], rid[32], reid[48];
        for (long j = from; j >= 0 && j < to; j++) {
                if (j % 3 || j % 10 == 3)
                        continue;
                snprintf(rid, sizeof(rid), "r%ld", j);
                snprintf(reid, sizeof(reid), "%s:r%ld", pfs[j % 3], j);
                snprintf(pid, sizeof(pid), "p%ld", j);
                sc_track_reply_t d = {.brand = brands[j % 4],
                                      .event_id = reid,
                                      .platform = pfs[j % 3],
                                      .post_id = rid,
                                      .parent_id = pid,
                                      .thread_id = pid,
                                      .created_at = base + j * 1000 + (j % 7) * 900000};
                sc_track_add_reply(t, &d, 0, base);
        }
}

/* Conversation i: its inbound post and, unless deferred (*pending_from
 * marks the first deferred one of the batch), its brand reply; the time and
 * allocations spent go to *marshal_ns and *marshal_allocs. */
static void add_conversation(sc_track_t *t, long i, int64_t base, long *pending_from,
                             uint64_t *marshal_ns, uint64_t *marshal_allocs)
{
        char pid[32], rid[32], peid[48], reid[48];
        const char *brand = brands[i % 4], *pf = pfs[i % 3];
        int64_t ca = base + i * 1000;
        snprintf(pid, sizeof(pid), "p%ld", i);
        snprintf(peid, sizeof(peid), "%s:p%ld", pf, i);
        snprintf(rid, sizeof(rid), "r%ld", i);
        snprintf(reid, sizeof(reid), "%s:r%ld", pf, i);
        sc_track_inbound_t in = {.brand = brand,
                                 .event_id = peid,
                                 .platform = pf,
                                 .post_id = pid,
                                 .thread_id = pid,
                                 .team = "care",
                                 .priority = "normal",
                                 .calendar = "24x7",
                                 .text = "@brand my order never came, third time",
                                 .created_at = ca,
                                 .needs_reply = i % 10 != 9,
                                 .due_at = ca + 3600000};
        sc_track_reply_t re = {.brand = brand,
                               .event_id = reid,
                               .platform = pf,
                               .post_id = rid,
                               .parent_id = pid,
                               .thread_id = pid,
                               .created_at = ca + (i % 7) * 900000};
        uint64_t m0 = sc_bench_now_ns(), a0 = sc_bench_allocs();
        if (i % 10 == 3)
                sc_track_add_reply(t, &re, 0, ca); /* before its post */
        sc_track_add_inbound(t, &in, 0);
        if (i % 3 == 0 && i % 10 != 3) {
                if (*pending_from < 0)
                        *pending_from = i;
        } else if (i % 10 != 3)
                sc_track_add_reply(t, &re, 0, ca);
        *marshal_ns += sc_bench_now_ns() - m0;
        *marshal_allocs += sc_bench_allocs() - a0;
}

/* This process's CPU (user + sys), s: the tracker's own work. */
static double self_cpu(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void report(const char *engine, uint64_t posts, long conv, uint64_t dt,
                   uint64_t allocs, long long ev, long long calls, double cpu,
                   double self, uint64_t marshal_ns, uint64_t marshal_allocs)
{
        double secs = (double)dt / 1e9;
        printf(
            "bench_track: %llu posts (%ld inbound + %ld brand replies) through sc_track "
            "(engine %s) against redis-server: %.0f posts/s, %.2f s\n",
            (unsigned long long)posts, conv, conv, engine, (double)posts / secs, secs);
        printf(
            "bench_track: redis commands per post: %.2f EVALSHA, %.2f in total (commands "
            "run by the scripts included)\n",
            (double)ev / (double)posts, (double)calls / (double)posts);
        printf("bench_track: redis-server CPU per post: %.1f us (user + sys)\n",
               cpu * 1e6 / (double)posts);
        printf("bench_track: tracker CPU per post (this process: logic, marshalling, "
               "hiredis): %.1f us (user + sys)\n",
               self * 1e6 / (double)posts);
        sc_bench_report("bench_track (whole: marshal + redis + parse)", posts, dt,
                        allocs);
        sc_bench_report("bench_track (in-process marshalling only)", posts, marshal_ns,
                        marshal_allocs);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: bench_track REDIS_URL [CONVERSATIONS [c|lua]]\n");
                return 2;
        }
        long conv = argc > 2 ? atol(argv[2]) : 50000;
        const char *engine = argc > 3 ? argv[3] : "c";
        char err[256];
        sc_redis_t *r = sc_redis_new(argv[1], 5000, err, sizeof(err));
        sc_calendars_t *cals = sc_calendars_new(NULL, err, sizeof(err));
        sc_track_conf_t conf = {.retention_s = 90 * 86400,
                                .state_ttl_s = 30 * 86400,
                                .reconcile_window_ms = 7 * 86400000LL,
                                .breach_grace_ms = 30000,
                                .scan_limit = 1000,
                                .engine = strcmp(engine, "lua") ? SC_TRACK_ENGINE_C
                                                                : SC_TRACK_ENGINE_LUA};
        sc_track_t *t =
            r && cals ? sc_track_new(r, NULL, cals, &conf, err, sizeof(err)) : NULL;
        if (!t) {
                fprintf(stderr, "bench_track: %s\n", err);
                return 1;
        }
        sc_redis_appendf(r, "FLUSHALL");
        redisReply **rep;
        size_t n;
        if (sc_redis_exec(r, &rep, &n)) {
                fprintf(stderr, "bench_track: redis %s: %s\n", argv[1],
                        sc_redis_errstr(r));
                return 1;
        }
        int64_t base;
        sc_time_parse("2026-11-20T08:00:00Z", 20, &base);
        long long ev0, calls0 = total_calls(r, &ev0);
        double cpu0 = redis_cpu(r), self0 = self_cpu();
        uint64_t marshal_ns = 0, marshal_allocs = 0, allocs0 = sc_bench_allocs(),
                 posts = 0;
        uint64_t t0 = sc_bench_now_ns();
        /* Deferred replies of the previous batch. */
        long pending_from = -1;
        for (long i = 0; i < conv; i++) {
                add_conversation(t, i, base, &pending_from, &marshal_ns, &marshal_allocs);
                posts += 2;
                if (sc_track_queued(t) >= BATCH) {
                        exec_or_die(t);
                        add_deferred(t, pending_from, i + 1, base);
                        pending_from = -1;
                }
        }
        add_deferred(t, pending_from, conv, base);
        exec_or_die(t);
        uint64_t dt = sc_bench_now_ns() - t0;
        uint64_t allocs = sc_bench_allocs() - allocs0;
        long long ev1, calls1 = total_calls(r, &ev1);
        double cpu1 = redis_cpu(r), self1 = self_cpu();
        /* Sanity: every post counted once. */
        sc_redis_appendf(r, "HGET sc:{telko}:d:u:2026-11-20 x|care|received");
        sc_redis_exec(r, &rep, &n);
        report(engine, posts, conv, dt, allocs, ev1 - ev0, calls1 - calls0, cpu1 - cpu0,
               self1 - self0, marshal_ns, marshal_allocs);
        sc_track_destroy(t);
        sc_calendars_destroy(cals);
        sc_redis_destroy(r);
        return 0;
}
