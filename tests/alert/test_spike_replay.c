/* Spike counting is idempotent per event id, through sc_alert_engine against
 * a real redis-server (started by test_spike.sh): a batch with an id twice
 * counts it once, the same records consumed again at new offsets (another
 * copy, another batch split and order) count nothing and write nothing, a
 * brand's batch larger than one counting call (several calls, duplicates
 * across them) counts each id once, and one batch costs one counting call per
 * brand whose Redis commands do not grow with its posts (INFO
 * commandstats). Through sc_spike directly: a key lookup in a counting
 * call's table that meets a shorter key (ASan), created_at at the ends of
 * int64, a batch retried after its second counting call failed, and a
 * post naming a topic twice. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alert_engine.h"
#include "sc_spike.h"
#include "sc_test.h"
#include "sc_time.h"
#include "sc_yaml.h"

#define MIN       60000LL
#define MAX_POSTS 3000

static int produced, dead;

static int h_produce(void *opaque, void *origin, const char *topic, const char *key,
                     size_t key_len, const void *val, size_t len, const sc_header_t *h,
                     size_t hn, void (*on_delivered)(void *), void *arg)
{
        (void)opaque, (void)origin, (void)topic, (void)key, (void)key_len, (void)val;
        (void)len, (void)h, (void)hn;
        produced++;
        on_delivered(arg);
        return 0;
}

static int h_dead_letter(void *opaque, void *origin, const char *reason,
                         const char *detail)
{
        (void)opaque, (void)origin, (void)reason, (void)detail;
        dead++;
        return 0;
}

static void *h_hold(void *opaque, void *origin)
{
        (void)opaque;
        return origin;
}

static void h_release(void *opaque, void *hold)
{
        (void)opaque, (void)hold;
}

static const char *h_errstr(void *opaque)
{
        (void)opaque;
        return "test host";
}

static const sc_alert_host_t host = {.produce = h_produce,
                                     .dead_letter = h_dead_letter,
                                     .hold = h_hold,
                                     .release = h_release,
                                     .errstr = h_errstr};

static sc_avro_codec_t *enr;
static sc_redis_t *r;
static int64_t base; /* the posts' minute: two minutes ago */

static sc_buf_t frames[MAX_POSTS];
static char ids[MAX_POSTS][32];
static int nframes;

/* An Enriched record of brand, topic internet, created in minute base. */
static int post(const char *brand, const char *event_id, const char *label)
{
        CHECK(nframes < MAX_POSTS);
        sc_buf_t *o = &frames[nframes];
        snprintf(ids[nframes], sizeof(ids[0]), "%s", event_id);
        sc_post_t p = {.event_id = event_id,
                       .brand = brand,
                       .platform = "x",
                       .post_id = event_id,
                       .author_id = "42",
                       .author_handle = "ann",
                       .author_followers = 10,
                       .text = "no internet again",
                       .text_len = strlen("no internet again"),
                       .created_at = base + nframes % 50 * 1000,
                       .received_at = base + 59000};
        sc_buf_reset(o);
        CHECK(sc_avro_frame_begin(enr, o) == 0 && sc_post_write(&p, o) == 0);
        int bad = sc_avro_w_str(o, "v1", 2) || sc_avro_w_str(o, "pl", 2) ||
                  sc_avro_w_str(o, label, strlen(label)) || sc_avro_w_double(o, -0.7) ||
                  sc_avro_w_array_begin(o, 0) || sc_avro_w_array_end(o) ||
                  sc_avro_w_array_begin(o, 1) || sc_avro_w_str(o, "internet", 8) ||
                  sc_avro_w_array_end(o) || sc_avro_w_long(o, 10) ||
                  sc_avro_w_str(o, "normal", 6) || sc_avro_w_double(o, 0.5) ||
                  sc_avro_w_bool(o, 1) || sc_avro_w_long(o, p.created_at + 5);
        CHECK(!bad);
        return nframes++;
}

/* Frames [from, to) (to < from: backwards) at offsets offset.., one batch. */
static void run(sc_alert_engine_t *e, const sc_brands_t *b, int from, int to,
                int64_t offset)
{
        static sc_alert_in_t in[MAX_POSTS];
        size_t n = 0;
        for (int i = from; i != to; i += from < to ? 1 : -1) {
                int f = from < to ? i : i - 1;
                in[n] = (sc_alert_in_t){.data = frames[f].data,
                                        .len = frames[f].len,
                                        .origin = NULL,
                                        .topic = "social.posts.enriched",
                                        .partition = 3,
                                        .offset = offset + (int64_t)n};
                n++;
        }
        CHECK_INT(sc_alert_engine_process(e, b, in, n), SC_OK);
}

static redisReply *cmd(const char *fmt, const char *a)
{
        CHECK(sc_redis_appendf(r, fmt, a) == 0);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0 && cnt == 1);
        CHECK(rep[0]->type != REDIS_REPLY_ERROR);
        return rep[0];
}

static long long get_int(const char *fmt, const char *a)
{
        redisReply *x = cmd(fmt, a);
        if (x->type == REDIS_REPLY_INTEGER)
                return x->integer;
        return x->type == REDIS_REPLY_STRING ? atoll(x->str) : -1;
}

static long long bucket(const char *brand, const char *series)
{
        char k[128];
        snprintf(k, sizeof(k), "sc:{%s}:alert:neg:%s:%lld", brand, series,
                 (long long)base);
        return get_int("GET %s", k);
}

/* The recent list of brand's brand series, ids joined by ','. */
static void recent(const char *brand, char *out, size_t n)
{
        char k[128];
        snprintf(k, sizeof(k), "sc:{%s}:alert:recent:-", brand);
        redisReply *x = cmd("LRANGE %s 0 -1", k);
        CHECK(x->type == REDIS_REPLY_ARRAY);
        size_t at = 0;
        out[0] = '\0';
        for (size_t i = 0; i < x->elements; i++)
                at += (size_t)snprintf(out + at, n - at, "%s%s", i ? "," : "",
                                       x->element[i]->str);
}

/* Calls of cmd ("incrby", "evalsha"...) since the last CONFIG RESETSTAT. */
static long long calls(const char *name)
{
        redisReply *x = cmd("INFO %s", "commandstats");
        char want[64];
        snprintf(want, sizeof(want), "cmdstat_%s:calls=", name);
        const char *p = strstr(x->str, want);
        return p ? atoll(p + strlen(want)) : 0;
}

static void resetstat(void)
{
        CHECK(cmd("CONFIG %s", "RESETSTAT")->type == REDIS_REPLY_STATUS);
}

/* FNV-1a, as sc_spike's key table hashes a counting call's KEYS. */
static uint32_t fnv(const char *p)
{
        uint32_t h = 2166136261u;
        for (; *p; p++)
                h = (h ^ (unsigned char)*p) * 16777619u;
        return h;
}

/* A spike detector that never alerts (min_count out of reach): the cases
 * below look at the counting alone. */
static sc_spike_t *quiet_spike(int per_topic)
{
        char err[256];
        sc_spike_opts_t so = {.window_ms = 15 * MIN,
                              .bucket_ms = MIN,
                              .baseline_days = 7,
                              .k = 2,
                              .min_count = 1000000,
                              .recent_ids = 5,
                              .per_topic = per_topic};
        sc_spike_t *s = sc_spike_new(r, &so, err, sizeof(err));
        CHECK(s != NULL);
        return s;
}

/* Sends the counting calls queued in s, one pipeline; collect's result. */
static int count_calls(sc_spike_t *s)
{
        char err[256];
        size_t n = sc_spike_prepare(s);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0 && cnt == n);
        return sc_spike_collect(s, rep, cnt, err, sizeof(err));
}

/* A key looked up in a counting call's table is compared with the shorter
 * key that holds its slot: the comparison must stop at that key's end, not
 * read the lookup's length from it (past the keys buffer when it is the last
 * key: ASan). Post 1 gives the call keys seen, bucket and recent of the
 * brand series and of topic "t"; post 2's topic is chosen (127 bytes) so that
 * its bucket key hashes to the slot of the last key, recent:t:t. */
static void key_probe(void)
{
        sc_spike_t *s = quiet_spike(1);
        long long m = (long long)base;
        char k[5][128];
        snprintf(k[0], sizeof(k[0]), "sc:{p}:alert:ids:%lld", m);
        snprintf(k[1], sizeof(k[1]), "sc:{p}:alert:neg:-:%lld", m);
        snprintf(k[2], sizeof(k[2]), "sc:{p}:alert:recent:-");
        snprintf(k[3], sizeof(k[3]), "sc:{p}:alert:neg:t:t:%lld", m);
        snprintf(k[4], sizeof(k[4]), "sc:{p}:alert:recent:t:t");
        /* The call's table (64 slots, linear probing) and keys buffer (each
         * key with its NUL; capacity doubling from 16) after post 1. */
        int tab[64] = {0}, slot = -1;
        size_t len = 0, cap = 0, off = 0;
        for (int i = 0; i < 5; i++) {
                unsigned h = fnv(k[i]) & 63;
                while (tab[h])
                        h = (h + 1) & 63;
                tab[h] = i + 1;
                slot = (int)h;
                off = len;
                len += strlen(k[i]) + 1;
                if (!cap)
                        cap = 16;
                while (cap < len + 1)
                        cap *= 2;
        }
        char topic[128], probe[256];
        int found = 0;
        for (unsigned v = 0; v < 100000 && !found; v++) {
                snprintf(topic, sizeof(topic), "%0127u", v);
                snprintf(probe, sizeof(probe), "sc:{p}:alert:neg:t:%s:%lld", topic, m);
                found = (fnv(probe) & 63) == (unsigned)slot;
        }
        CHECK(found);
        CHECK(off + strlen(probe) > cap); /* the over-read would leave the buffer */
        sc_spike_begin(s, sc_now_ms());
        const char *t1[] = {"t"}, *t2[] = {topic};
        CHECK(sc_spike_add(s, "p", t1, 1, "p-1", base, 1, 0) == 0);
        CHECK(sc_spike_add(s, "p", t2, 1, "p-2", base, 1, 1) == 0);
        CHECK(count_calls(s) >= 0);
        CHECK_INT(bucket("p", "-"), 2);
        CHECK_INT(bucket("p", "t:t"), 1);
        snprintf(probe, sizeof(probe), "sc:{p}:alert:neg:t:%s:%lld", topic, m);
        CHECK_INT(get_int("GET %s", probe), 1);
        sc_spike_destroy(s);
}

/* created_at at the ends of int64 (a raw producer's sentinel): the oldest
 * is skipped like any post older than the window plus baseline, not wrapped
 * into the far future and counted now; the newest counts in the current
 * minute, as any post from the future. */
static void created_edges(void)
{
        sc_spike_t *s = quiet_spike(0);
        int64_t now = sc_now_ms();
        sc_spike_begin(s, now);
        CHECK(sc_spike_add(s, "q", NULL, 0, "q-1", INT64_MIN, 1, 0) == 0);
        CHECK(sc_spike_add(s, "q", NULL, 0, "q-2", INT64_MIN + 1, 1, 0) == 0);
        CHECK(sc_spike_add(s, "q", NULL, 0, "q-3", -1, 1, 0) == 0);
        CHECK(sc_spike_add(s, "q", NULL, 0, "q-4", INT64_MAX, 1, 0) == 0);
        CHECK(count_calls(s) >= 0);
        char k[128];
        snprintf(k, sizeof(k), "sc:{q}:alert:neg:-:%lld", (long long)(now / MIN * MIN));
        CHECK_INT(get_int("GET %s", k), 1);
        snprintf(k, sizeof(k), "sc:{q}:alert:recent:-");
        CHECK_INT(get_int("LLEN %s", k), 1);
        sc_spike_destroy(s);
}

/* One batch of 1500 posts of a brand: the first counting call (1000 posts,
 * minute base) succeeds, the second (minute base - 1 min, whose seen set a
 * foreign string occupies) fails before writing anything. The batch is
 * retried as it is: the first call's posts count nothing again, the second's
 * once. */
static void chunk_retry(void)
{
        char k[128], ev[32];
        sc_spike_t *s = quiet_spike(0);
        snprintf(k, sizeof(k), "sc:{c}:alert:ids:%lld", (long long)(base - MIN));
        CHECK(cmd("SET %s x", k)->type == REDIS_REPLY_STATUS);
        for (int round = 0; round < 2; round++) {
                sc_spike_begin(s, sc_now_ms());
                for (int i = 0; i < 1500; i++) {
                        snprintf(ev, sizeof(ev), "c-%d", i);
                        CHECK(sc_spike_add(s, "c", NULL, 0, ev,
                                           i < 1000 ? base : base - MIN, 1, 0) == 0);
                }
                int got = count_calls(s);
                CHECK(round ? got >= 0 : got < 0);
                if (!round)
                        CHECK(get_int("DEL %s", k) == 1);
        }
        CHECK_INT(bucket("c", "-"), 1000);
        snprintf(k, sizeof(k), "sc:{c}:alert:neg:-:%lld", (long long)(base - MIN));
        CHECK_INT(get_int("GET %s", k), 500);
        sc_spike_destroy(s);
}

/* A post that names a topic twice (a raw producer's Enriched record may):
 * that topic's bucket counts the post once, like the brand's. */
static void repeated_topics(void)
{
        sc_spike_t *s = quiet_spike(1);
        sc_spike_begin(s, sc_now_ms());
        const char *t[] = {"app", "fees", "app", "app"};
        CHECK(sc_spike_add(s, "d", t, 4, "d-1", base, 1, 0) == 0);
        CHECK(sc_spike_add(s, "d", t + 2, 1, "d-2", base, 1, 1) == 0);
        CHECK(count_calls(s) >= 0);
        CHECK_INT(bucket("d", "-"), 2);
        CHECK_INT(bucket("d", "t:app"), 2);
        CHECK_INT(bucket("d", "t:fees"), 1);
        char k[128];
        snprintf(k, sizeof(k), "sc:{d}:alert:recent:t:app");
        CHECK_INT(get_int("LLEN %s", k), 2);
        sc_spike_destroy(s);
}

int main(int argc, char **argv)
{
        CHECK(argc == 2);
        char err[256];
        sc_avro_t *avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        CHECK(avro != NULL);
        enr = sc_avro_codec(avro, "Enriched", NULL, err, sizeof(err));
        CHECK(enr != NULL);
        const char *by =
            "brands:\n  - id: telko\n    name: Telko\n    keywords: [telko]\n"
            "  - id: bankowo\n    name: Bankowo\n    keywords: [bankowo]\n"
            "  - id: autofix\n    name: Autofix\n    keywords: [autofix]\n";
        sc_yaml_t *y = sc_yaml_load_string(by, strlen(by), "b.yaml", err, sizeof(err));
        CHECK(y != NULL);
        sc_brands_t *brands = sc_brands_new(sc_yaml_root(y), err, sizeof(err));
        CHECK(brands != NULL);
        r = sc_redis_new(argv[1], 5000, err, sizeof(err));
        CHECK(r != NULL);
        sc_metrics_t *m = sc_metrics_new("alert");
        sc_alert_opts_t o = {.output_topic = "care.alerts",
                             .park_topic = "care.alerts.webhook.dlq",
                             .crisis_min = 0.5,
                             .infl_min = 50000,
                             .spike_on = 1,
                             .spike = {.window_ms = 15 * MIN,
                                       .bucket_ms = MIN,
                                       .baseline_days = 7,
                                       .k = 2,
                                       .min_count = 1000000, /* counts, never alerts */
                                       .recent_ids = 5,
                                       .per_topic = 1},
                             .scan_ms = 60000,
                             .grace_ms = 60000,
                             .shutdown_ms = 100};
        sc_alert_engine_t *a =
            sc_alert_engine_new(&host, &o, r, avro, m, err, sizeof(err));
        sc_alert_engine_t *b =
            sc_alert_engine_new(&host, &o, r, avro, m, err, sizeof(err));
        CHECK(a && b);
        base = sc_now_ms() / MIN * MIN - 2 * MIN;
        char id[32], want[256], got[256];

        /* One batch: telko t-0..t-29 with t-7 twice, bankowo b-0..b-8, one
         * neutral post (not counted). */
        for (int i = 0; i < 30; i++) {
                snprintf(id, sizeof(id), "t-%d", i);
                post("telko", id, "negative");
                if (i == 7)
                        post("telko", id, "negative");
        }
        for (int i = 0; i < 9; i++) {
                snprintf(id, sizeof(id), "b-%d", i);
                post("bankowo", id, "negative");
        }
        post("telko", "t-neutral", "neutral");
        int first = nframes;
        resetstat();
        run(a, brands, 0, first, 100);
        CHECK_INT(bucket("telko", "-"), 30);
        CHECK_INT(bucket("telko", "t:internet"), 30);
        CHECK_INT(bucket("bankowo", "-"), 9);
        CHECK_INT(bucket("bankowo", "t:internet"), 9);
        recent("telko", want, sizeof(want));
        CHECK_STR(want, "t-29,t-28,t-27,t-26,t-25");
        /* Per brand one set check and add, one INCRBY per bucket, one LPUSH
         * per recent list: 40 posts, 2 brands, 2 series each. */
        CHECK_INT(calls("smismember"), 2);
        CHECK_INT(calls("sadd"), 2);
        CHECK_INT(calls("incrby"), 4);
        CHECK_INT(calls("lpush"), 4);
        CHECK_INT(calls("ltrim"), 4);
        CHECK_INT(calls("incr"), 0);
        char seen[128];
        snprintf(seen, sizeof(seen), "sc:{telko}:alert:ids:%lld", (long long)base);
        CHECK_INT(get_int("SCARD %s", seen), 30);
        CHECK(get_int("PTTL %s", seen) > 8 * 86400000LL);

        /* The same records again at new offsets, through another copy, in two
         * batches split elsewhere and backwards: nothing counted, nothing
         * written but the evaluations' clocks. */
        resetstat();
        run(b, brands, first, 20, 5000);
        run(b, brands, 20, 0, 6000);
        CHECK_INT(bucket("telko", "-"), 30);
        CHECK_INT(bucket("telko", "t:internet"), 30);
        CHECK_INT(bucket("bankowo", "-"), 9);
        recent("telko", got, sizeof(got));
        CHECK_STR(got, want);
        CHECK_INT(calls("sadd") + calls("incrby") + calls("lpush") + calls("pexpire"), 0);
        CHECK(calls("smismember") >= 2);
        CHECK_INT(produced + dead, 0);

        /* One id alone in a batch (SADD without SMISMEMBER), twice. */
        int one = post("telko", "t-30", "negative");
        run(a, brands, one, one + 1, 7000);
        run(b, brands, one, one + 1, 7001);
        CHECK_INT(bucket("telko", "-"), 31);
        recent("telko", got, sizeof(got));
        CHECK_STR(got, "t-30,t-29,t-28,t-27,t-26");

        /* A batch of 2500 posts of one brand (three counting calls), 2200 ids:
         * the last 300 repeat ids of the first call. */
        int big = nframes;
        for (int i = 0; i < 2200; i++) {
                snprintf(id, sizeof(id), "a-%d", i);
                post("autofix", id, "negative");
        }
        for (int i = 0; i < 300; i++)
                post("autofix", ids[big + i * 3], "negative");
        resetstat();
        run(a, brands, big, nframes, 10000);
        CHECK_INT(bucket("autofix", "-"), 2200);
        CHECK_INT(bucket("autofix", "t:internet"), 2200);
        CHECK_INT(calls("incrby"), 3 * 2);
        recent("autofix", got, sizeof(got));
        CHECK_STR(got, "a-2199,a-2198,a-2197,a-2196,a-2195");
        run(b, brands, nframes, big, 20000); /* replayed backwards */
        CHECK_INT(bucket("autofix", "-"), 2200);
        recent("autofix", got, sizeof(got));
        CHECK_STR(got, "a-2199,a-2198,a-2197,a-2196,a-2195");

        key_probe();
        created_edges();
        repeated_topics();
        chunk_retry();

        for (int i = 0; i < nframes; i++)
                sc_buf_free(&frames[i]);
        sc_alert_engine_destroy(a);
        sc_alert_engine_destroy(b);
        sc_metrics_destroy(m);
        sc_redis_destroy(r);
        sc_brands_destroy(brands);
        sc_yaml_destroy(y);
        sc_avro_destroy(avro);
        TEST_DONE();
}
