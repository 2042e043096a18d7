/* sc_track against a real redis-server (test_track.sh starts it): the exact
 * counters of a scripted conversation set driven through the Lua scripts,
 * idempotent replays, SLA events, the timer (breach, outbox, orphans). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_redis.h"
#include "sc_test.h"
#include "sc_time.h"
#include "sc_track.h"

#define MIN  60000LL
#define HOUR (60 * MIN)

static int64_t T0;
static sc_redis_t *R;
static sc_track_t *T;

typedef struct evlog_s {
        char lines[64][160];
        int n;
} evlog_t;
static evlog_t EV;

static void on_ev(void *opaque, size_t tag, const sc_sla_event_t *e)
{
        (void)opaque;
        if (EV.n < 64)
                snprintf(EV.lines[EV.n++], 160, "%zu %s %s frt=%lld", tag, e->kind,
                         e->post_id, (long long)e->frt_ms);
}

static int has_ev(const char *line)
{
        for (int i = 0; i < EV.n; i++)
                if (!strcmp(EV.lines[i], line))
                        return 1;
        return 0;
}

static int err_cnt;
static size_t err_tag = 99;

static void on_err(void *opaque, size_t tag, const char *msg)
{
        (void)opaque;
        fprintf(stderr, "script error (expected): %s\n", msg);
        err_cnt++;
        err_tag = tag;
}

static void in(const char *pid, const char *thread, int64_t ca, int nr, int64_t due)
{
        char eid[64];
        snprintf(eid, sizeof(eid), "x:%s", pid);
        sc_track_inbound_t p = {.brand = "t",
                                .event_id = eid,
                                .platform = "x",
                                .post_id = pid,
                                .thread_id = thread,
                                .team = "care",
                                .priority = "normal",
                                .calendar = "24x7",
                                .text = "help",
                                .created_at = ca,
                                .needs_reply = nr,
                                .due_at = due};
        CHECK(sc_track_add_inbound(T, &p, 1) == 0);
}

static void re(const char *pid, const char *parent, const char *thread, int64_t ca)
{
        char eid[64];
        snprintf(eid, sizeof(eid), "x:%s", pid);
        sc_track_reply_t r = {.brand = "t",
                              .event_id = eid,
                              .platform = "x",
                              .post_id = pid,
                              .parent_id = parent,
                              .thread_id = thread,
                              .created_at = ca};
        CHECK(sc_track_add_reply(T, &r, 2, sc_now_ms()) == 0);
}

/* The commit hook of the conflict case: the first time, tracker opaque
 * applies an earlier reply to the same post. */
static int hook_calls;
static void other_reply(void *opaque)
{
        sc_track_t *t2 = opaque;
        char err[256];
        if (hook_calls++)
                return;
        sc_track_reply_t r = {.brand = "t",
                              .event_id = "x:rq0",
                              .platform = "x",
                              .post_id = "rq0",
                              .parent_id = "cq1",
                              .thread_id = "cq1",
                              .created_at = T0 + 5 * MIN};
        CHECK(sc_track_add_reply(t2, &r, 0, sc_now_ms()) == 0);
        CHECK(sc_track_exec(t2, NULL, NULL, NULL, err, sizeof(err)) == 0);
}

static void run(void)
{
        char err[256];
        EV.n = 0;
        int rc = sc_track_exec(T, on_ev, NULL, NULL, err, sizeof(err));
        if (rc)
                fprintf(stderr, "exec: %s\n", err);
        CHECK(rc == 0);
        if (getenv("TRACK_DEBUG"))
                for (int i = 0; i < EV.n; i++)
                        fprintf(stderr, "ev: %s\n", EV.lines[i]);
}

static long long ctr(const char *name)
{
        char key[64], field[64];
        redisReply **rep;
        size_t n;
        snprintf(key, sizeof(key), "sc:{t}:d:u:2026-11-20");
        snprintf(field, sizeof(field), "x|care|%s", name);
        sc_redis_append(R, 3, (const char *[]){"HGET", key, field}, NULL);
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        return rep[0]->type == REDIS_REPLY_STRING ? atoll(rep[0]->str) : 0;
}

/* A counter of brand's UTC day 2026-11-20, platform x, team care. */
static long long bctr(const char *brand, const char *name)
{
        char key[64], field[64];
        redisReply **rep;
        size_t n;
        snprintf(key, sizeof(key), "sc:{%s}:d:u:2026-11-20", brand);
        snprintf(field, sizeof(field), "x|care|%s", name);
        sc_redis_append(R, 3, (const char *[]){"HGET", key, field}, NULL);
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        return rep[0]->type == REDIS_REPLY_STRING ? atoll(rep[0]->str) : 0;
}

/* EVALSHA calls so far (INFO commandstats). */
static long long evalsha_calls(void)
{
        redisReply **rep;
        size_t n;
        sc_redis_appendf(R, "INFO commandstats");
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        const char *p = rep[0]->type == REDIS_REPLY_STRING
                            ? strstr(rep[0]->str, "cmdstat_evalsha:calls=")
                            : NULL;
        return p ? atoll(p + strlen("cmdstat_evalsha:calls=")) : 0;
}

/* The integer that lua (run with KEYS[1] the post's key, v its record
 * unpacked, nil without one, ARGV[1] = arg) returns about post pid's record
 * (a msgpack map, docs/TRACKING.md). */
static int on_record(const char *pid, const char *lua, const char *arg)
{
        char key[64], script[512];
        redisReply **rep;
        size_t n;
        snprintf(key, sizeof(key), "sc:{t}:p:x:%s", pid);
        snprintf(script, sizeof(script),
                 "local v = redis.call('GET', KEYS[1]) "
                 "if v then v = cmsgpack.unpack(v) end %s",
                 lua);
        sc_redis_append(R, 5, (const char *[]){"EVAL", script, "1", key, arg}, NULL);
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        return (int)rep[0]->integer;
}

static int post_has(const char *pid, const char *field)
{
        return on_record(pid, "return v and v[ARGV[1]] and 1 or 0", field);
}

/* Entries of the rb list (brand replies kept in a root's record). */
static int rb_len(const char *pid)
{
        return on_record(
            pid, "if not v then return -1 end return v.rb and #v.rb / 4 or 0", "");
}

static char *dump(void)
{
        /* Everything that defines the figures, as one string. */
        redisReply **rep;
        size_t n;
        sc_redis_append(R, 2, (const char *[]){"HGETALL", "sc:{t}:d:u:2026-11-20"}, NULL);
        sc_redis_append(R, 2, (const char *[]){"HGETALL", "sc:{t}:f:u:2026-11-20"}, NULL);
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        size_t cap = 65536, len = 0;
        char *s = calloc(1, cap);
        for (size_t k = 0; k < n; k++) {
                /* HGETALL order is not stable across rehashing: sort lines. */
                char *lines[256];
                size_t m = 0;
                for (size_t i = 0; i + 1 < rep[k]->elements && m < 256; i += 2) {
                        lines[m] = calloc(1, 256);
                        snprintf(lines[m++], 256, "%s=%s", rep[k]->element[i]->str,
                                 rep[k]->element[i + 1]->str);
                }
                for (size_t i = 0; i < m; i++)
                        for (size_t j = i + 1; j < m; j++)
                                if (strcmp(lines[i], lines[j]) > 0) {
                                        char *x = lines[i];
                                        lines[i] = lines[j];
                                        lines[j] = x;
                                }
                for (size_t i = 0; i < m; i++) {
                        len += (size_t)snprintf(s + len, cap - len, "%s\n", lines[i]);
                        free(lines[i]);
                }
        }
        return s;
}

int main(int argc, char **argv)
{
        if (argc != 2 && argc != 3) {
                fprintf(stderr, "usage: test_track REDIS_URL [c|lua]\n");
                return 2;
        }
        /* the per-record logic: in C (the default) or the Lua reference */
        int lua = argc == 3 && !strcmp(argv[2], "lua");
        fprintf(stderr, "engine: %s\n", lua ? "lua" : "c");
        char err[256];
        CHECK(sc_time_parse("2026-11-20T10:00:00Z", 20, &T0) == 0);
        R = sc_redis_new(argv[1], 2000, err, sizeof(err));
        CHECK(R);
        sc_track_conf_t conf = {.retention_s = 90 * 86400,
                                .state_ttl_s = 30 * 86400,
                                .reconcile_window_ms = 7 * 24 * HOUR,
                                .breach_grace_ms = 30000,
                                .scan_limit = 1000,
                                .engine = lua ? SC_TRACK_ENGINE_LUA : SC_TRACK_ENGINE_C};
        T = sc_track_new(R, NULL, NULL, &conf, err, sizeof(err));
        CHECK(T);
        sc_redis_appendf(R, "FLUSHALL");
        redisReply **rep;
        size_t n;
        CHECK(sc_redis_exec(R, &rep, &n) == 0);

        CHECK(sc_track_median((double[]){3, 1, 2}, 3) == 2);
        CHECK(sc_track_median((double[]){4, 1, 3, 2}, 4) == 2.5);
        CHECK(sc_track_median(NULL, 0) == 0);

        /* Batch 1: posts and replies in one pipeline. */
        int64_t due = T0 + HOUR;
        in("p1", "p1", T0, 1, due); /* answered at +10m: hit */
        re("r1", "p1", "p1", T0 + 10 * MIN);
        re("r1b", "p1", "p1", T0 + 20 * MIN); /* a second reply: extra */
        re("r2", "p2", "p2", T0 + 30 * MIN);  /* before its post: held */
        in("p3", "p3", T0, 1, due);
        re("r3a", "p3", "p3", T0 + 2 * HOUR); /* late, then an earlier one arrives */
        in("p4", "p4", T0, 1, due);
        in("p5", "p5", T0, 1, due);
        in("p6", "p6", T0, 0, 0); /* needed no reply */
        re("r6", "p6", "p6", T0 + 5 * MIN);
        re("r7", "zzz", NULL, T0 + 5 * MIN); /* parent never comes: orphan */
        in("p8", "t8", T0, 1, 0);
        CHECK(sc_track_add_brand_post(T, "t", "x", "b8") == 0);
        re("r8", "b8", "t8", T0 + 5 * MIN); /* parent is a brand post: thread rule */
        in("q1", "q", T0, 1, 0);
        re("rq", "q2", "q", T0 + 7 * MIN); /* unknown parent: waits for it, not q1 */
        in("z1", "z", T0, 1, T0 + 3 * HOUR);
        re("rz", "zz", "z", T0 + 4 * HOUR); /* parent never comes: thread at the end */
        in("p9", "p9", T0, 1, 0);
        re("r9a", "p9", "p9", T0 + 1 * MIN);
        in("p9b", "p9", T0 + 2 * MIN, 1, 0); /* customer answers the brand */
        re("r9c", "p9b", "p9", T0 + 4 * MIN);
        in("p10", "p10", T0, 1, T0 + 100000 * HOUR); /* never answered, not yet due */
        run();
        CHECK(has_ev("2 hit p1 frt=600000"));
        CHECK(has_ev("2 breach p3 frt=-1"));
        CHECK(has_ev("2 late p3 frt=7200000"));
        CHECK_INT(ctr("extra_replies"), 1);
        CHECK_INT(ctr("replied_no_need"), 1);
        CHECK_INT(ctr("pending"), 4); /* p2 unknown yet; p4 p5 p10 z1 */

        /* Batch 2: p2 arrives (reconciled), p3's earlier reply retracts the miss. */
        in("p2", "p2", T0, 1, due);
        re("r3b", "p3", "p3", T0 + 20 * MIN);
        in("q2", "q", T0 + 1 * MIN, 1, 0);
        run();
        CHECK_INT(post_has("q1", "rca"), 0);
        CHECK_INT(post_has("q2", "rca"), 1);
        CHECK(has_ev("1 hit p2 frt=1800000"));
        CHECK(has_ev("2 hit p3 frt=1200000"));
        /* p3's breach went out with its late reply: retracted. */
        CHECK(has_ev("2 recovered p3 frt=1200000"));
        CHECK_INT(EV.n, 3);

        /* The timer at +2h: p4 and p5 breach once, into the outbox. */
        EV.n = 0;
        const char *brands[] = {"t"};
        sc_track_counts_t cnt = {0};
        CHECK(sc_track_scan(T, brands, 1, T0 + 2 * HOUR, on_ev, NULL, &cnt, err,
                            sizeof(err)) == 0);
        CHECK_INT(cnt.n[SC_TRACK_K_BREACH], 2);
        CHECK_INT(EV.n, 2);
        CHECK(has_ev("0 breach p4 frt=-1") && has_ev("0 breach p5 frt=-1"));
        CHECK_INT(sc_track_outbox_inflight(T), 2);
        /* Not delivered yet: a second scan hands out nothing new. */
        EV.n = 0;
        CHECK(sc_track_scan(T, brands, 1, T0 + 2 * HOUR, on_ev, NULL, NULL, err,
                            sizeof(err)) == 0);
        CHECK_INT(EV.n, 0);
        sc_track_outbox_done(T, "t", "breach|x:p4");
        CHECK(sc_track_scan(T, brands, 1, T0 + 2 * HOUR, on_ev, NULL, NULL, err,
                            sizeof(err)) == 0);
        CHECK_INT(EV.n, 0);
        sc_redis_appendf(R, "ZRANGE sc:{t}:outbox 0 -1");
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        CHECK_INT(rep[0]->elements, 1);
        CHECK_STR(rep[0]->element[0]->str, "breach|x:p5");
        CHECK_INT(ctr("sla_missed"), 2);

        /* p4 answered late; p5's reply was written before due (pipeline delay). */
        re("r4", "p4", "p4", T0 + 3 * HOUR);
        re("r5", "p5", "p5", T0 + 50 * MIN);
        run();
        CHECK(has_ev("2 late p4 frt=10800000"));
        CHECK(has_ev("2 hit p5 frt=3000000"));
        /* The timer's breach of p5 is retracted. */
        CHECK(has_ev("2 recovered p5 frt=3000000"));
        CHECK_INT(EV.n, 3);

        /* After the reconcile window: r7 (no thread) is an orphan; rz answers
         * z1 by the thread rule (z1 was breached by the same scan: late). */
        EV.n = 0;
        memset(&cnt, 0, sizeof(cnt));
        CHECK(sc_track_scan(T, brands, 1, sc_now_ms() + 8 * 24 * HOUR, on_ev, NULL, &cnt,
                            err, sizeof(err)) == 0);
        CHECK_INT(cnt.n[SC_TRACK_K_ORPHAN], 1);
        CHECK_INT(cnt.n[SC_TRACK_K_RECONCILED], 1);
        CHECK(has_ev("0 breach z1 frt=-1"));
        CHECK(has_ev("0 late z1 frt=14400000"));

        CHECK_INT(ctr("received"), 13);
        CHECK_INT(ctr("needs_reply"), 12);
        CHECK_INT(ctr("replied"), 10);
        CHECK_INT(ctr("with_due"), 7);
        CHECK_INT(ctr("sla_hit"), 4);
        CHECK_INT(ctr("sla_missed"), 2);
        CHECK_INT(ctr("late"), 2);
        CHECK_INT(ctr("pending"), 1);
        CHECK_INT(ctr("extra_replies"), 2);
        CHECK_INT(ctr("replied_no_need"), 1);
        CHECK_INT(ctr("frt_sum_ms"),
                  (60 + 120 + 300 + 360 + 600 + 1200 + 1800 + 3000 + 10800 + 14400) *
                      1000LL);
        CHECK_INT(ctr("bfrt_sum_ms"), ctr("frt_sum_ms")); /* 24x7 */
        CHECK_INT(ctr("bfrt_n"), 10);
        CHECK_INT(ctr("frt_b0"), 5);
        CHECK_INT(ctr("frt_b1"), 3);
        CHECK_INT(ctr("frt_b2"), 1);
        CHECK_INT(ctr("frt_b3"), 1);
        CHECK_INT(ctr("frt_b4") + ctr("frt_b5"), 0);
        {
                char f[64];
                redisReply **r2;
                size_t n2;
                snprintf(f, sizeof(f), "x|-|orphan_replies");
                sc_redis_append(
                    R, 3, (const char *[]){"HGET", "sc:{t}:d:u:2026-11-20", f}, NULL);
                CHECK(sc_redis_exec(R, &r2, &n2) == 0);
                CHECK_STR(r2[0]->str, "1");
        }
        sc_track_totals_t tot;
        (void)tot;

        /* Replaying everything changes nothing and returns the same events. */
        char *before = dump();
        in("p1", "p1", T0, 1, due);
        re("r1", "p1", "p1", T0 + 10 * MIN);
        re("r1b", "p1", "p1", T0 + 20 * MIN);
        re("r2", "p2", "p2", T0 + 30 * MIN);
        in("p2", "p2", T0, 1, due);
        in("p3", "p3", T0, 1, due);
        re("r3a", "p3", "p3", T0 + 2 * HOUR);
        re("r3b", "p3", "p3", T0 + 20 * MIN);
        in("p4", "p4", T0, 1, due);
        re("r4", "p4", "p4", T0 + 3 * HOUR);
        re("r7", "zzz", NULL, T0 + 5 * MIN);
        in("p9b", "p9", T0 + 2 * MIN, 1, 0);
        sc_track_counts_t c2 = {0};
        EV.n = 0;
        CHECK(sc_track_exec(T, on_ev, NULL, &c2, err, sizeof(err)) == 0);
        CHECK_INT(c2.n[SC_TRACK_K_DUPLICATE], 12);
        CHECK(has_ev("2 hit p1 frt=600000"));
        CHECK(has_ev("2 late p4 frt=10800000"));
        char *after = dump();
        CHECK_STR(after, before);
        free(before);
        free(after);

        /* A record whose script fails (its post key holds another type) is
         * reported through the error callback; the rest of the batch is
         * applied and the exec succeeds. Without a callback it fails. */
        sc_redis_appendf(R, "SET sc:{t}:p:x:bad oops");
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        in("bad", "bad", T0, 1, 0);
        CHECK(sc_track_exec(T, NULL, NULL, NULL, err, sizeof(err)) == -1);
        sc_track_set_error_cb(T, on_err, NULL);
        in("ok1", "ok1", T0, 1, 0);
        in("bad", "bad", T0, 1, 0);
        CHECK(sc_track_exec(T, NULL, NULL, NULL, err, sizeof(err)) == 0);
        CHECK_INT(err_cnt, 1);
        CHECK_INT(err_tag, 1);
        CHECK_INT(ctr("received"), 14);

        /* A brand whose day hash holds another type fails at its commit
         * (a command's error inside the transaction, or the script's): its
         * records are reported, the other brand of the batch is applied, and
         * once the key is repaired its posts count again, once. (What the
         * commit wrote before the failing command stays, as a script's
         * writes do: the failed post is remembered, docs/TRACKING.md.) */
        sc_redis_appendf(R, "SET sc:{cz}:d:u:2026-11-20 oops");
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        sc_track_inbound_t cz = {.brand = "cz",
                                 .event_id = "x:cz1",
                                 .platform = "x",
                                 .post_id = "cz1",
                                 .thread_id = "cz1",
                                 .team = "care",
                                 .calendar = "24x7",
                                 .text = "help",
                                 .created_at = T0,
                                 .needs_reply = 1,
                                 .due_at = T0 + HOUR};
        err_cnt = 0;
        CHECK(sc_track_add_inbound(T, &cz, 7) == 0);
        in("ok2", "ok2", T0, 1, 0);
        CHECK(sc_track_exec(T, NULL, NULL, NULL, err, sizeof(err)) == 0);
        CHECK_INT(err_cnt, 1);
        CHECK_INT(err_tag, 7);
        CHECK_INT(ctr("received"), 15);
        sc_redis_appendf(R, "DEL sc:{cz}:d:u:2026-11-20");
        CHECK(sc_redis_exec(R, &rep, &n) == 0);
        cz.event_id = "x:cz2";
        cz.post_id = cz.thread_id = "cz2";
        CHECK(sc_track_add_inbound(T, &cz, 7) == 0);
        CHECK(sc_track_exec(T, NULL, NULL, NULL, err, sizeof(err)) == 0);
        CHECK_INT(err_cnt, 1);
        CHECK_INT(bctr("cz", "received"), 1);
        CHECK(sc_track_add_inbound(T, &cz, 7) == 0);
        CHECK(sc_track_exec(T, NULL, NULL, NULL, err, sizeof(err)) == 0);
        CHECK_INT(bctr("cz", "received"), 1);

        /* A batch bigger than one script call (records per brand are split
         * into calls of at most 200), two brands interleaved: every record
         * applied once, in order (each reply after its post), and replayed
         * as duplicates. */
        long long ev0 = evalsha_calls();
        for (int i = 0; i < 450; i++) {
                const char *brand = i % 3 ? "big" : "small";
                char pid[32], rid[32], peid[48], reid[48];
                snprintf(pid, sizeof(pid), "bp%d", i);
                snprintf(rid, sizeof(rid), "br%d", i);
                snprintf(peid, sizeof(peid), "x:bp%d", i);
                snprintf(reid, sizeof(reid), "x:br%d", i);
                sc_track_inbound_t p = {.brand = brand,
                                        .event_id = peid,
                                        .platform = "x",
                                        .post_id = pid,
                                        .thread_id = pid,
                                        .team = "care",
                                        .calendar = "24x7",
                                        .text = "help",
                                        .created_at = T0,
                                        .needs_reply = 1,
                                        .due_at = T0 + HOUR};
                sc_track_reply_t r = {.brand = brand,
                                      .event_id = reid,
                                      .platform = "x",
                                      .post_id = rid,
                                      .parent_id = pid,
                                      .thread_id = pid,
                                      .created_at = T0 + (i % 2 ? 10 : 90) * MIN};
                CHECK(sc_track_add_inbound(T, &p, 1) == 0);
                CHECK(sc_track_add_reply(T, &r, 2, sc_now_ms()) == 0);
        }
        sc_track_counts_t c3 = {0};
        EV.n = 0;
        CHECK(sc_track_exec(T, NULL, NULL, &c3, err, sizeof(err)) == 0);
        CHECK_INT(c3.n[SC_TRACK_K_INBOUND], 450);
        CHECK_INT(c3.n[SC_TRACK_K_REPLY], 450);
        CHECK_INT(c3.n[SC_TRACK_K_EARLY], 0);
        /* Lua: 600 records of "big" in 3 calls, 300 of "small" in 2; C:
         * one commit per brand. */
        CHECK_INT(evalsha_calls() - ev0, lua ? 5 : 2);
        CHECK_INT(bctr("big", "received"), 300);
        CHECK_INT(bctr("big", "replied"), 300);
        CHECK_INT(bctr("big", "sla_hit"), 150);
        CHECK_INT(bctr("big", "late"), 150);
        CHECK_INT(bctr("big", "pending"), 0);
        CHECK_INT(bctr("big", "bfrt_n"), 300);
        CHECK_INT(bctr("big", "frt_sum_ms"), 150 * (10 + 90) * MIN);
        CHECK_INT(bctr("big", "bfrt_sum_ms"), 150 * (10 + 90) * MIN);
        CHECK_INT(bctr("small", "received"), 150);
        CHECK_INT(bctr("small", "replied"), 150);
        CHECK_INT(bctr("small", "frt_sum_ms"), 75 * (10 + 90) * MIN);
        for (int i = 0; i < 450; i++) {
                const char *brand = i % 3 ? "big" : "small";
                char pid[32], peid[48];
                snprintf(pid, sizeof(pid), "bp%d", i);
                snprintf(peid, sizeof(peid), "x:bp%d", i);
                sc_track_inbound_t p = {.brand = brand,
                                        .event_id = peid,
                                        .platform = "x",
                                        .post_id = pid,
                                        .thread_id = pid,
                                        .team = "care",
                                        .created_at = T0,
                                        .needs_reply = 1,
                                        .due_at = T0 + HOUR};
                CHECK(sc_track_add_inbound(T, &p, 1) == 0);
        }
        sc_track_counts_t c4 = {0};
        CHECK(sc_track_exec(T, NULL, NULL, &c4, err, sizeof(err)) == 0);
        CHECK_INT(c4.n[SC_TRACK_K_DUPLICATE], 450);
        CHECK_INT(bctr("big", "received"), 300);

        /* Event time: breaches wait for the brand's watermark (the latest
         * created_at of its social.posts records, now T0 + 4h) minus the
         * lateness (2h), i.e. T0 + 2h here. */
        {
                sc_track_conf_t ec = conf;
                ec.lateness_ms = 2 * HOUR;
                ec.watermark_idle_ms = 1000LL * 24 * HOUR;
                sc_track_t *T1 = T;
                /* The earlier timer events were never marked delivered: a
                 * new tracker would hand them out again. */
                sc_redis_appendf(R, "DEL sc:{t}:outbox");
                CHECK(sc_redis_exec(R, &rep, &n) == 0);
                T = sc_track_new(R, NULL, NULL, &ec, err, sizeof(err));
                CHECK(T);
                long long hit0 = ctr("sla_hit"), miss0 = ctr("sla_missed"),
                          late0 = ctr("late"), pend0 = ctr("pending");
                int64_t edue = T0 + 3 * HOUR;
                in("e1", "e1", T0, 1, edue);
                re("re1", "e1", "e1", T0 + 210 * MIN); /* late: its breach waits */
                in("e2", "e2", T0, 1, edue);           /* unanswered */
                in("e3", "e3", T0, 1, edue);
                re("re3", "e3", "e3", T0 + 216 * MIN); /* late, nothing earlier comes */
                run();
                CHECK_INT(EV.n, 0);
                re("re1b", "e1", "e1", T0 + 150 * MIN); /* earlier, in time: a hit */
                run();
                CHECK(has_ev("2 hit e1 frt=9000000"));
                CHECK_INT(EV.n, 1); /* no breach ever went out: nothing to retract */
                const char *tb[] = {"t"};
                EV.n = 0;
                CHECK(sc_track_scan(T, tb, 1, sc_now_ms(), on_ev, NULL, NULL, err,
                                    sizeof(err)) == 0);
                CHECK_INT(EV.n, 0); /* event time T0 + 2h: not due yet */
                /* The watermark moves to T0 + 6h (a post of the brand on
                 * social.posts): e2 breaches, e3's breach and late go out. */
                CHECK(sc_track_add_event_time(T, "t", T0 + 6 * HOUR) == 0);
                run();
                EV.n = 0;
                CHECK(sc_track_scan(T, tb, 1, sc_now_ms(), on_ev, NULL, NULL, err,
                                    sizeof(err)) == 0);
                CHECK(has_ev("0 breach e2 frt=-1"));
                CHECK(has_ev("0 breach e3 frt=-1"));
                CHECK(has_ev("0 late e3 frt=12960000"));
                CHECK_INT(EV.n, 3);
                /* A reply to e2 written before its due arrives after the
                 * breach: hit, and the breach is retracted. */
                re("re2", "e2", "e2", T0 + 170 * MIN);
                run();
                CHECK(has_ev("2 hit e2 frt=10200000"));
                CHECK(has_ev("2 recovered e2 frt=10200000"));
                CHECK_INT(EV.n, 2);
                CHECK_INT(ctr("sla_hit") - hit0, 2);
                CHECK_INT(ctr("sla_missed") - miss0, 1);
                CHECK_INT(ctr("late") - late0, 1);
                CHECK_INT(ctr("pending") - pend0, 0);
                sc_track_destroy(T);
                T = T1;
        }

        /* Replies held by their thread before any post of it arrived (the
         * thread root's record carries the flag that sends an arriving post
         * to et:): a reply to a brand post, then a post of the thread that
         * is not its root; a reply without a parent, then the root itself. */
        {
                CHECK(sc_track_add_brand_post(T, "t", "x", "hb") == 0);
                re("rh1", "hb", "ht", T0 + 30 * MIN);
                re("rh2", NULL, "hr", T0 + 20 * MIN);
                sc_track_counts_t h1 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &h1, err, sizeof(err)) == 0);
                CHECK_INT(h1.n[SC_TRACK_K_EARLY], 2);
                long long rep0 = ctr("replied");
                in("hp0", "hz", T0, 1, 0); /* a thread with nothing held */
                in("hp1", "ht", T0 + 10 * MIN, 1, 0);
                in("hr", "hr", T0, 1, 0);
                sc_track_counts_t h2 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &h2, err, sizeof(err)) == 0);
                CHECK_INT(h2.n[SC_TRACK_K_RECONCILED], 2);
                CHECK_INT(post_has("hp0", "rca"), 0);
                CHECK_INT(post_has("hp1", "rca"), 1);
                CHECK_INT(post_has("hr", "rca"), 1);
                CHECK_INT(ctr("replied") - rep0, 2);
                in("hp1", "ht", T0 + 10 * MIN, 1, 0); /* a replay */
                sc_track_counts_t h3 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &h3, err, sizeof(err)) == 0);
                CHECK_INT(h3.n[SC_TRACK_K_DUPLICATE], 1);
                CHECK_INT(ctr("replied") - rep0, 2);
        }

        /* A reply to its thread's root keeps its seen marker in the root's
         * record (rb), no record of its own: replayed it is a duplicate, and
         * a reply to it finds its parent a brand post (the thread rule at
         * once, not held). */
        {
                in("g", "g", T0, 1, 0);
                in("g2", "g", T0 + MIN, 1, 0);
                re("rg", "g", "g", T0 + 5 * MIN);
                run();
                sc_redis_appendf(R, "EXISTS sc:{t}:p:x:rg");
                CHECK(sc_redis_exec(R, &rep, &n) == 0);
                CHECK_INT(rep[0]->integer, 0);
                CHECK_INT(post_has("g", "rb"), 1);
                long long rep0 = ctr("replied"), ex0 = ctr("extra_replies");
                re("rg2", "rg", "g", T0 + 6 * MIN);
                sc_track_counts_t g1 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &g1, err, sizeof(err)) == 0);
                CHECK_INT(g1.n[SC_TRACK_K_REPLY], 1);
                CHECK_INT(g1.n[SC_TRACK_K_EARLY], 0);
                CHECK_INT(post_has("g2", "rca"), 1);
                CHECK_INT(ctr("replied") - rep0, 1);
                re("rg", "g", "g", T0 + 5 * MIN); /* replays */
                re("rg2", "rg", "g", T0 + 6 * MIN);
                sc_track_counts_t g2 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &g2, err, sizeof(err)) == 0);
                CHECK_INT(g2.n[SC_TRACK_K_DUPLICATE], 2);
                CHECK_INT(ctr("replied") - rep0, 1);
                CHECK_INT(ctr("extra_replies") - ex0, 0);
        }

        /* Upgrade: a reply to its root tracked by the release before has
         * its own record (b, be) and no entry in the root's rb. Its state is
         * made so here (the root's rb entry moved to an own record): replayed
         * it is still a duplicate, and a reply to it still finds a brand
         * post (the thread rule, not held). */
        {
                in("u", "u", T0, 1, 0);
                in("u2", "u", T0 + MIN, 1, 0);
                re("ru", "u", "u", T0 + 5 * MIN);
                run();
                sc_redis_append(
                    R, 5,
                    (const char *[]){
                        "EVAL",
                        "local r = cmsgpack.unpack(redis.call('GET', KEYS[1])) "
                        "local eid = r.rb[2] r.rb = nil "
                        "redis.call('SET', KEYS[1], cmsgpack.pack(r), 'KEEPTTL') "
                        "return redis.call('SET', KEYS[2], "
                        "cmsgpack.pack({k = 'b', be = eid}), 'EX', 86400)",
                        "2", "sc:{t}:p:x:u", "sc:{t}:p:x:ru"},
                    NULL);
                CHECK(sc_redis_exec(R, &rep, &n) == 0);
                CHECK(rep[0]->type == REDIS_REPLY_STATUS);
                CHECK_INT(post_has("u", "rb"), 0);
                long long rep0 = ctr("replied"), ex0 = ctr("extra_replies");
                re("ru", "u", "u", T0 + 5 * MIN); /* a replay */
                re("ru2", "ru", "u", T0 + 6 * MIN);
                sc_track_counts_t u1 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &u1, err, sizeof(err)) == 0);
                CHECK_INT(u1.n[SC_TRACK_K_DUPLICATE], 1);
                CHECK_INT(u1.n[SC_TRACK_K_REPLY], 1);
                CHECK_INT(u1.n[SC_TRACK_K_EARLY], 0);
                CHECK_INT(post_has("u2", "rca"), 1);
                CHECK_INT(ctr("replied") - rep0, 1);
                CHECK_INT(ctr("extra_replies") - ex0, 0);
        }

        /* A reply to a root-kept reply (rb) with no thread id waits for its
         * parent: a placeholder (w) at that parent's key. The parent replayed
         * meanwhile is still a duplicate (its marker is the root's rb entry,
         * not the placeholder). */
        {
                in("hh", "hh", T0, 1, 0);
                re("rhh", "hh", "hh", T0 + 5 * MIN);
                run();
                long long rep0 = ctr("replied"), ex0 = ctr("extra_replies");
                re("rhh2", "rhh", NULL, T0 + 6 * MIN);
                run();
                CHECK_INT(post_has("rhh", "w"), 1);
                re("rhh", "hh", "hh", T0 + 5 * MIN); /* a replay */
                sc_track_counts_t h1 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &h1, err, sizeof(err)) == 0);
                CHECK_INT(h1.n[SC_TRACK_K_DUPLICATE], 1);
                CHECK_INT(h1.n[SC_TRACK_K_EXTRA], 0);
                CHECK_INT(ctr("replied") - rep0, 0);
                CHECK_INT(ctr("extra_replies") - ex0, 0);
        }

        /* Many brand replies to one root: its record keeps a bounded number
         * in rb (each SET rewrites the whole record), the others get records
         * of their own; every one replayed is a duplicate, and a reply to
         * any of them takes the thread rule. */
        {
                char id[32];
                in("v", "v", T0, 1, 0);
                in("v2", "v", T0 + MIN, 1, 0);
                in("v3", "v", T0 + MIN, 1, 0);
                run();
                long long rep0 = ctr("replied"), ex0 = ctr("extra_replies");
                for (int k = 0; k < 2; k++) {
                        for (int j = 0; j < 30; j++) {
                                snprintf(id, sizeof(id), "rv%d", k * 30 + j);
                                re(id, "v", "v", T0 + 2 * MIN + k * 30 + j);
                        }
                        run();
                }
                CHECK_INT(ctr("replied") - rep0, 1);
                CHECK_INT(ctr("extra_replies") - ex0, 59);
                CHECK(rb_len("v") > 0);
                CHECK(rb_len("v") <= 16);
                for (int j = 0; j < 60; j++) {
                        snprintf(id, sizeof(id), "rv%d", j);
                        re(id, "v", "v", T0 + 2 * MIN + j);
                }
                re("rv3x", "rv3", "v", T0 + 5 * MIN);
                re("rv50x", "rv50", "v", T0 + 5 * MIN);
                sc_track_counts_t v1 = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &v1, err, sizeof(err)) == 0);
                CHECK_INT(v1.n[SC_TRACK_K_DUPLICATE], 60);
                CHECK_INT(v1.n[SC_TRACK_K_REPLY], 2);
                CHECK_INT(v1.n[SC_TRACK_K_EARLY], 0);
                CHECK_INT(post_has("v2", "rca"), 1);
                CHECK_INT(post_has("v3", "rca"), 1);
                CHECK_INT(ctr("replied") - rep0, 3);
                CHECK_INT(ctr("extra_replies") - ex0, 59);
        }

        /* A batch of nothing but a brand to register: sent with the batch
         * (not left in the pipeline for the next one). */
        {
                CHECK(sc_track_add_brand(T, "lonely") == 0);
                CHECK(sc_track_exec(T, NULL, NULL, NULL, err, sizeof(err)) == 0);
                in("lb1", "lb1", T0, 1, 0);
                run();
                redisReply **rb;
                size_t nb;
                sc_redis_append(
                    R, 3, (const char *[]){"SISMEMBER", "sc:brands", "lonely"}, NULL);
                CHECK(sc_redis_exec(R, &rb, &nb) == 0);
                CHECK_INT(rb[0]->integer, 1);
        }

        /* The C logic's commit is refused when the brand changed after it
         * was read: here another tracker (its own connection) answers the
         * post with an earlier reply between T's read and T's commit. T
         * reads again and applies its reply on that state: an extra reply,
         * the other one's FRT kept. Without the version check T would
         * write its stale record over the other's: two first replies. */
        if (!lua) {
                sc_redis_t *r2 = sc_redis_new(argv[1], 2000, err, sizeof(err));
                CHECK(r2);
                sc_track_t *t2 = sc_track_new(r2, NULL, NULL, &conf, err, sizeof(err));
                CHECK(t2);
                in("cq1", "cq1", T0, 1, T0 + HOUR);
                run();
                long long rep0 = ctr("replied"), ex0 = ctr("extra_replies");
                long long frt0 = ctr("frt_sum_ms");
                re("rq1", "cq1", "cq1", T0 + 10 * MIN);
                sc_track_set_commit_hook(T, other_reply, t2);
                sc_track_counts_t q = {0};
                CHECK(sc_track_exec(T, NULL, NULL, &q, err, sizeof(err)) == 0);
                sc_track_set_commit_hook(T, NULL, NULL);
                CHECK_INT(hook_calls, 2); /* refused once, then applied */
                CHECK_INT(q.conflicts, 1);
                CHECK_INT(q.n[SC_TRACK_K_EXTRA], 1);
                CHECK_INT(ctr("replied") - rep0, 1);
                CHECK_INT(ctr("extra_replies") - ex0, 1);
                CHECK_INT(ctr("frt_sum_ms") - frt0, 5 * MIN);
                sc_track_destroy(t2);
                sc_redis_destroy(r2);
        }

        sc_track_destroy(T);
        sc_redis_destroy(R);
        TEST_DONE();
}
