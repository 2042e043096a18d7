/* sc_spike on a scripted per-minute series against a real redis-server
 * (started by test_spike.sh): one alert per storm, cool-down during the
 * storm, resolved once when it subsides, no alert on a steady high baseline,
 * two copies agree (one emits), a replay changes nothing, and the outbox
 * holds what was emitted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_redis.h"
#include "sc_spike.h"
#include "sc_test.h"

#define MIN 60000LL
#define DAY 86400000LL

static sc_redis_t *ra, *rb;
static sc_spike_t *a, *b, *seed;
static int64_t T;     /* test day, 12:00 UTC */
static int64_t g_now; /* wall clock of a batch; 0: the end of its minute */

typedef struct got_s {
        int kind;
        char id[160];
        int64_t minute, count;
        double mean, sd;
        size_t ids;
} got_t;

static got_t got[64];
static int got_cnt;

/* One batch of n negative posts (and one neutral) in minute m of the test
 * hour, on brand, through spike instance s with Redis r. */
static int batch(sc_spike_t *s, sc_redis_t *r, const char *brand, int64_t day_ms, int m,
                 int n, int offset)
{
        char id[96];
        sc_spike_begin(s, g_now ? g_now : day_ms + m * MIN + 59000);
        for (int i = 0; i < n; i++) {
                snprintf(id, sizeof(id), "x:%s:%lld:%d:%d", brand, (long long)day_ms, m,
                         i + offset);
                const char *topics[] = {"internet"};
                CHECK(sc_spike_add(s, brand, topics, 1, id,
                                   day_ms + m * MIN + (i * 1000) % MIN, 1,
                                   (size_t)i) == 0);
        }
        snprintf(id, sizeof(id), "x:%s:%lld:%d:neutral", brand, (long long)day_ms, m);
        CHECK(sc_spike_add(s, brand, NULL, 0, id, day_ms + m * MIN + 59000, 0, 999) == 0);
        size_t cmds = sc_spike_prepare(s);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0);
        char err[256];
        int ev = sc_spike_collect(s, rep, cnt, err, sizeof(err));
        if (ev < 0)
                fprintf(stderr, "%s\n", err);
        CHECK(ev >= 0);
        CHECK_INT(cnt, cmds);
        for (int i = 0; i < ev; i++) {
                const sc_spike_event_t *e = sc_spike_event(s, (size_t)i);
                CHECK(got_cnt < 64);
                got_t *g = &got[got_cnt++];
                g->kind = e->kind;
                snprintf(g->id, sizeof(g->id), "%s", e->alert_id);
                g->minute = m;
                g->count = e->count;
                g->mean = e->mean;
                g->sd = e->stddev;
                g->ids = e->id_cnt;
                CHECK_STR(e->brand, brand);
                CHECK(e->window_end - e->window_start == 15 * MIN);
        }
        return ev;
}

static long long redis_int(sc_redis_t *r, const char *fmt, const char *arg)
{
        CHECK(sc_redis_appendf(r, fmt, arg) == 0);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0);
        if (rep[0]->type == REDIS_REPLY_INTEGER)
                return rep[0]->integer;
        if (rep[0]->type == REDIS_REPLY_STRING)
                return atoll(rep[0]->str);
        return -1;
}

int main(int argc, char **argv)
{
        CHECK(argc == 2);
        char err[256];
        ra = sc_redis_new(argv[1], 2000, err, sizeof(err));
        rb = sc_redis_new(argv[1], 2000, err, sizeof(err));
        CHECK(ra && rb);
        sc_spike_opts_t o = {.window_ms = 15 * MIN,
                             .bucket_ms = MIN,
                             .baseline_days = 7,
                             .k = 2,
                             .min_count = 10,
                             .recent_ids = 5,
                             .per_topic = 1};
        a = sc_spike_new(ra, &o, err, sizeof(err));
        b = sc_spike_new(rb, &o, err, sizeof(err));
        sc_spike_opts_t so = o;
        so.min_count = 1000000000; /* history: counts only, never alerts */
        seed = sc_spike_new(ra, &so, err, sizeof(err));
        CHECK(a && b && seed);
        o.window_ms = 7 * MIN + 1;
        CHECK(sc_spike_new(ra, &o, err, sizeof(err)) == NULL);

        T = 1763208000000LL / DAY * DAY + 12 * 3600000LL + 14 * DAY;

        /* History: 7 days, 1 negative/min on telko and 8/min on bankowo, from
         * 11:30 to 13:00. */
        for (int d = 1; d <= 7; d++)
                for (int m = -30; m < 60; m++) {
                        batch(seed, ra, "telko", T - d * DAY, m, 1, 0);
                        batch(seed, ra, "bankowo", T - d * DAY, m, 8, 0);
                }
        CHECK_INT(got_cnt, 0);

        /* Test day, telko: 1/min (as usual), a storm of 6/min in minutes
         * 15..24, back to 1/min. Each batch goes through both copies. */
        for (int m = -15; m < 50; m++) {
                int n = m >= 15 && m < 25 ? 6 : 1;
                batch(a, ra, "telko", T, m, n, 0);
                batch(b, rb, "telko", T, m, n, 0);
        }
        for (int i = 0; i < got_cnt; i++)
                printf("  %s at minute %lld: count %lld, mean %.2f, sd %.2f, %zu ids\n",
                       got[i].id, (long long)got[i].minute, (long long)got[i].count,
                       got[i].mean, got[i].sd, got[i].ids);
        /* Brand series and the internet topic series (every post has it, so
         * they agree): one open and one resolve each. */
        CHECK_INT(got_cnt, 4);
        char want[160];
        snprintf(want, sizeof(want), "spike:telko:%lld", (long long)(T + 2 * MIN));
        int brand_open = -1, brand_res = -1, topic_open = -1, topic_res = -1;
        for (int i = 0; i < got_cnt; i++) {
                if (!strncmp(got[i].id, "spike:telko:internet:", 21))
                        topic_open = i;
                else if (!strncmp(got[i].id, "spike_resolved:telko:internet:", 30))
                        topic_res = i;
                else if (!strncmp(got[i].id, "spike:telko:", 12))
                        brand_open = i;
                else if (!strncmp(got[i].id, "spike_resolved:telko:", 21))
                        brand_res = i;
        }
        CHECK(brand_open >= 0 && brand_res >= 0 && topic_open >= 0 && topic_res >= 0);
        got_t *op = &got[brand_open], *rs = &got[brand_res];
        CHECK_INT(op->kind, SC_SPIKE_OPENED);
        CHECK_STR(op->id, want); /* window [12:02, 12:17) */
        CHECK_INT(op->minute, 16);
        CHECK_INT(op->count, 13 + 12);
        CHECK(op->mean > 14.99 && op->mean < 15.01);
        CHECK(op->sd > 3.87 && op->sd < 3.88); /* √15: the Poisson floor */
        CHECK_INT(op->ids, 5);
        CHECK_INT(rs->kind, SC_SPIKE_RESOLVED);
        snprintf(want, sizeof(want), "spike_resolved:telko:%lld",
                 (long long)(T + 2 * MIN));
        CHECK_STR(rs->id, want);
        CHECK_INT(rs->minute, 39);
        CHECK_INT(rs->count, 15);
        CHECK_INT(got[topic_open].minute, 16);
        CHECK_INT(got[topic_res].minute, 39);

        /* Steady high baseline: bankowo at 8/min, then 9/min: no alert. */
        got_cnt = 0;
        for (int m = -15; m < 50; m++)
                batch(a, ra, "bankowo", T, m, m < 10 ? 8 : 9, 0);
        CHECK_INT(got_cnt, 0);

        /* No history, under min_count: nothing; over it: one alert. */
        for (int m = 0; m < 3; m++)
                batch(a, ra, "autofix", T, m, 3, 0);
        CHECK_INT(got_cnt, 0);
        batch(a, ra, "autofix", T, 3, 5, 0);
        CHECK_INT(got_cnt, 2); /* brand + topic: 14 >= 10 over a zero baseline */

        /* Replay of every telko event of the test day, through a third batch
         * order: nothing counted twice, no alert. */
        char bucket[128];
        snprintf(bucket, sizeof(bucket), "sc:{telko}:alert:neg:-:%lld",
                 (long long)(T + 20 * MIN));
        CHECK_INT(redis_int(ra, "GET %s", bucket), 6);
        got_cnt = 0;
        g_now = T + 60 * MIN;
        for (int m = -15; m < 50; m++)
                batch(b, rb, "telko", T, m, m >= 15 && m < 25 ? 6 : 1, 0);
        CHECK_INT(got_cnt, 0);
        CHECK_INT(redis_int(ra, "GET %s", bucket), 6);
        /* Late posts from the storm's past minutes count, but decide nothing. */
        batch(a, ra, "telko", T, 20, 30, 100);
        CHECK_INT(redis_int(ra, "GET %s", bucket), 36);
        CHECK_INT(got_cnt, 0);
        g_now = 0;

        /* A post created 20 h ahead (a skewed producer) counts in the current
         * minute and must not move the series clock into the future: the
         * storm that follows still alerts. */
        got_cnt = 0;
        sc_spike_begin(a, T + 30000);
        CHECK(sc_spike_add(a, "futuro", NULL, 0, "fut:1", T + 20 * 3600000LL, 1, 0) == 0);
        size_t fc = sc_spike_prepare(a);
        redisReply **frep;
        size_t fcnt;
        CHECK(sc_redis_exec(ra, &frep, &fcnt) == 0 && fcnt == fc);
        CHECK_INT(sc_spike_collect(a, frep, fcnt, err, sizeof(err)), 0);
        snprintf(bucket, sizeof(bucket), "sc:{futuro}:alert:neg:-:%lld", (long long)T);
        CHECK_INT(redis_int(ra, "GET %s", bucket), 1);
        for (int m = 1; m < 4; m++)
                batch(a, ra, "futuro", T, m, 5, 0);
        CHECK_INT(got_cnt, 2); /* brand + topic, at minute 2 */
        CHECK_INT(got[0].minute, 2);
        /* A clock already set in the future (before the clamp) is ignored. */
        got_cnt = 0;
        char fut[32];
        snprintf(fut, sizeof(fut), "%lld", (long long)(T + 20 * 3600000LL));
        CHECK(sc_redis_appendf(ra, "SET sc:{futuro2}:alert:clock:- %s", fut) == 0);
        CHECK(sc_redis_exec(ra, &frep, &fcnt) == 0);
        for (int m = 1; m < 4; m++)
                batch(a, ra, "futuro2", T, m, 5, 0);
        CHECK_INT(got_cnt, 2);
        /* Older than window + baseline days: not counted at all. */
        g_now = T + 60 * MIN;
        batch(a, ra, "ancient", T - 8 * DAY, 0, 3, 0);
        snprintf(bucket, sizeof(bucket), "sc:{ancient}:alert:neg:-:%lld",
                 (long long)(T - 8 * DAY));
        CHECK_INT(redis_int(ra, "GET %s", bucket), -1);
        g_now = 0;

        /* Long event ids sharing a long prefix are two events (the seen key
         * is never truncated). */
        char l1[420], l2[420];
        memset(l1, 'a', 400);
        l1[400] = '\0';
        memcpy(l2, l1, sizeof(l1));
        l1[399] = '1';
        l2[399] = '2';
        sc_spike_begin(a, T + 30000);
        CHECK(sc_spike_add(a, "longid", NULL, 0, l1, T, 1, 0) == 0);
        CHECK(sc_spike_add(a, "longid", NULL, 0, l2, T, 1, 1) == 0);
        fc = sc_spike_prepare(a);
        CHECK(sc_redis_exec(ra, &frep, &fcnt) == 0 && fcnt == fc);
        CHECK(sc_spike_collect(a, frep, fcnt, err, sizeof(err)) >= 0);
        snprintf(bucket, sizeof(bucket), "sc:{longid}:alert:neg:-:%lld", (long long)T);
        CHECK_INT(redis_int(ra, "GET %s", bucket), 2);

        /* The outbox holds the emitted alerts, parseable. */
        CHECK_INT(redis_int(ra, "HLEN %s", "sc:{telko}:alert:outbox"), 4);
        snprintf(want, sizeof(want), "spike:telko:%lld", (long long)(T + 2 * MIN));
        CHECK(sc_redis_appendf(ra, "HGET sc:{telko}:alert:outbox %s", want) == 0);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(ra, &rep, &cnt) == 0 && rep[0]->type == REDIS_REPLY_STRING);
        char *val = strdup(rep[0]->str);
        const char *ids[16];
        sc_spike_event_t ev;
        CHECK(sc_spike_outbox_parse(val, want, &ev, ids, 16) == 0);
        CHECK_INT(ev.kind, SC_SPIKE_OPENED);
        CHECK_STR(ev.brand, "telko");
        CHECK(ev.topic == NULL);
        CHECK_INT(ev.count, 25);
        CHECK_INT(ev.storm_start, T + 2 * MIN);
        CHECK_INT(ev.id_cnt, 5);
        CHECK(!strncmp(ev.ids[0], "x:telko:", 8));
        free(val);

        sc_spike_destroy(a);
        sc_spike_destroy(b);
        sc_spike_destroy(seed);
        sc_redis_destroy(ra);
        sc_redis_destroy(rb);
        TEST_DONE();
}
