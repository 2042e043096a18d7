/* sc_alert_engine against a real redis-server (started by
 * test_alert_engine.sh) and real HTTP connections on loopback: the decision,
 * a batch's alerts and dead letters, claims (a second copy of an input is a
 * duplicate, a re-consumed input emits again), holds kept until a delivery is
 * made or its park is delivered (and kept for good when the park cannot be
 * produced), the outbox scan (emitted again after the grace period, removed
 * once done), target slots across a reload, and a Redis outage deferring a
 * batch with nothing produced.
 *
 * The host is this test: it records what the engine produces and dead-letters,
 * reports deliveries when the test says so, and counts holds per input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "sc_alert_engine.h"
#include "sc_test.h"
#include "sc_yaml.h"

#define MAX_OUT 64

typedef struct out_s {
        char topic[64], key[64], park_reason[32], alert_id[128];
        sc_buf_t val;
        void (*on_delivered)(void *);
        void *arg;
        int delivered;
        void *origin;
} out_t;

typedef struct origin_s {
        int holds;
} origin_t;

static out_t outs[MAX_OUT];
static int out_cnt;
static char dlq[MAX_OUT][32];
static int dlq_cnt;
static int fail_park; /* produce to the park topic fails */

static int h_produce(void *opaque, void *origin, const char *topic, const char *key,
                     size_t key_len, const void *val, size_t len, const sc_header_t *h,
                     size_t hn, void (*on_delivered)(void *), void *arg)
{
        (void)opaque;
        if (fail_park && !strcmp(topic, "care.alerts.webhook.dlq"))
                return -1;
        CHECK(out_cnt < MAX_OUT);
        out_t *o = &outs[out_cnt++];
        memset(o, 0, sizeof(*o));
        snprintf(o->topic, sizeof(o->topic), "%s", topic);
        snprintf(o->key, sizeof(o->key), "%.*s", (int)key_len, key);
        for (size_t i = 0; i < hn; i++) {
                if (!strcmp(h[i].name, "sc-park-reason"))
                        snprintf(o->park_reason, sizeof(o->park_reason), "%.*s",
                                 (int)h[i].size, (const char *)h[i].value);
                if (!strcmp(h[i].name, "sc-alert-id"))
                        snprintf(o->alert_id, sizeof(o->alert_id), "%.*s", (int)h[i].size,
                                 (const char *)h[i].value);
        }
        sc_buf_append(&o->val, val, len);
        o->on_delivered = on_delivered;
        o->arg = arg;
        o->origin = origin;
        return 0;
}

static int h_dead_letter(void *opaque, void *origin, const char *reason,
                         const char *detail)
{
        (void)opaque;
        (void)origin;
        (void)detail;
        CHECK(dlq_cnt < MAX_OUT);
        snprintf(dlq[dlq_cnt++], sizeof(dlq[0]), "%s", reason);
        return 0;
}

static void *h_hold(void *opaque, void *origin)
{
        (void)opaque;
        if (!origin)
                return NULL;
        ((origin_t *)origin)->holds++;
        return origin;
}

static void h_release(void *opaque, void *hold)
{
        (void)opaque;
        if (hold)
                ((origin_t *)hold)->holds--;
}

static const char *h_errstr(void *opaque)
{
        (void)opaque;
        return "test host refused it";
}

static const sc_alert_host_t host = {.produce = h_produce,
                                     .dead_letter = h_dead_letter,
                                     .hold = h_hold,
                                     .release = h_release,
                                     .errstr = h_errstr};

/* The broker reports every record produced so far as delivered. */
static void deliver_all(void)
{
        for (int i = 0; i < out_cnt; i++)
                if (!outs[i].delivered) {
                        outs[i].delivered = 1;
                        outs[i].on_delivered(outs[i].arg);
                }
}

static void reset_outs(void)
{
        deliver_all();
        for (int i = 0; i < out_cnt; i++)
                sc_buf_free(&outs[i].val);
        out_cnt = dlq_cnt = 0;
}

static int count_topic(const char *topic)
{
        int n = 0;
        for (int i = 0; i < out_cnt; i++)
                n += !strcmp(outs[i].topic, topic);
        return n;
}

static sc_avro_t *avro;
static sc_avro_codec_t *enr, *sla, *alert_codec;
static sc_brands_t *brands;

/* The kind and id of produced record i (an Alert, read by Avro-C). */
static void check_alert(int i, const char *kind, const char *id)
{
        char err[256];
        avro_value_t *v;
        CHECK_STR(outs[i].topic, "care.alerts");
        CHECK(sc_avro_decode(alert_codec, outs[i].val.data, outs[i].val.len, &v, err,
                             sizeof(err)) == 0);
        CHECK_STR(sc_avro_str(v, "kind", NULL), kind);
        CHECK_STR(sc_avro_str(v, "alert_id", NULL), id);
}

static void enriched(sc_buf_t *o, const char *brand, const char *event_id,
                     const char *label, double crisis, int64_t followers, int is_brand)
{
        sc_post_t p = {.event_id = event_id,
                       .brand = brand,
                       .platform = "x",
                       .post_id = event_id,
                       .author_id = "42",
                       .author_handle = "ann",
                       .author_followers = followers,
                       .is_brand = is_brand,
                       .text = "the branch was robbed",
                       .text_len = strlen("the branch was robbed"),
                       .created_at = 1763632800000LL,
                       .received_at = 1763632801000LL};
        sc_buf_reset(o);
        CHECK(sc_avro_frame_begin(enr, o) == 0 && sc_post_write(&p, o) == 0);
        sc_avro_w_str(o, "v1", 2);
        sc_avro_w_str(o, "pl", 2);
        sc_avro_w_str(o, label, strlen(label));
        sc_avro_w_double(o, -0.7);
        sc_avro_w_array_begin(o, crisis > 0 ? 1 : 0);
        if (crisis > 0) {
                sc_avro_w_str(o, "crisis", 6);
                sc_avro_w_double(o, crisis);
        }
        sc_avro_w_array_end(o);
        sc_avro_w_array_begin(o, 1);
        sc_avro_w_str(o, "internet", 8);
        sc_avro_w_array_end(o);
        sc_avro_w_long(o, followers);
        sc_avro_w_str(o, "urgent", 6);
        sc_avro_w_double(o, 0.9);
        sc_avro_w_bool(o, 1);
        sc_avro_w_long(o, p.created_at + 5);
}

static void sla_event(sc_buf_t *o, const char *brand, const char *pe, const char *kind)
{
        char err[256], id[128];
        avro_value_t *v = sc_avro_codec_value(sla);
        snprintf(id, sizeof(id), "%s:%s", pe, kind);
        CHECK(sc_avro_set_str(v, "event_id", id) == 0);
        sc_avro_set_str(v, "kind", kind);
        sc_avro_set_str(v, "post_event_id", pe);
        sc_avro_set_str(v, "brand", brand);
        sc_avro_set_str(v, "platform", "x");
        sc_avro_set_str(v, "post_id", pe);
        sc_avro_set_str(v, "team", "care");
        sc_avro_set_str(v, "priority", "high");
        sc_avro_set_long(v, "created_at", 1763632800000LL);
        sc_avro_set_long(v, "due_at", 1763636400000LL);
        sc_avro_set_opt_long(v, "replied_at", NULL);
        sc_avro_set_opt_long(v, "frt_s", NULL);
        sc_avro_set_opt_str(v, "url", NULL);
        sc_avro_set_str(v, "text", "still waiting");
        sc_avro_set_long(v, "emitted_at", 1763636400001LL);
        sc_buf_reset(o);
        CHECK(sc_avro_encode(sla, o, err, sizeof(err)) == 0);
}

static sc_alert_in_t input(const sc_buf_t *b, origin_t *o, const char *topic,
                           int64_t offset)
{
        return (sc_alert_in_t){.data = b->data,
                               .len = b->len,
                               .origin = o,
                               .topic = topic,
                               .partition = 0,
                               .offset = offset};
}

static sc_alert_opts_t opts(int spike_on)
{
        return (sc_alert_opts_t){.output_topic = "care.alerts",
                                 .park_topic = "care.alerts.webhook.dlq",
                                 .crisis_min = 0.5,
                                 .infl_min = 50000,
                                 .spike_on = spike_on,
                                 .spike = {.window_ms = 15 * 60000,
                                           .bucket_ms = 60000,
                                           .baseline_days = 7,
                                           .k = 2,
                                           .min_count = 10,
                                           .recent_ids = 5},
                                 .scan_ms = 1,
                                 .grace_ms = 20,
                                 .shutdown_ms = 100};
}

static void targets(const char *yaml, sc_alert_target_t **t, size_t *n)
{
        char err[512];
        sc_yaml_t *y =
            sc_yaml_load_string(yaml, strlen(yaml), "t.yaml", err, sizeof(err));
        CHECK(y != NULL);
        if (sc_alert_targets_parse(sc_yaml_root(y), "t.yaml", t, n, err, sizeof(err)))
                fprintf(stderr, "%s\n", err);
        sc_yaml_destroy(y);
}

static long long redis_int(sc_redis_t *r, const char *fmt, const char *a, const char *b)
{
        CHECK(sc_redis_appendf(r, fmt, a, b) == 0);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0 && cnt == 1);
        return rep[0]->type == REDIS_REPLY_INTEGER ? rep[0]->integer : -1;
}

static void check_decide(void)
{
        sc_enriched_view_t v = {.sentiment = "negative"};
        v.post.author_followers = 50000;
        CHECK_INT(sc_alert_decide(&v, 0.5, 50000),
                  SC_ALERT_DECIDE_INFLUENCER | SC_ALERT_DECIDE_SPIKE);
        v.post.author_followers = 49999;
        CHECK_INT(sc_alert_decide(&v, 0.5, 50000), SC_ALERT_DECIDE_SPIKE);
        v.sentiment = "neutral";
        v.crisis = 0.5;
        CHECK_INT(sc_alert_decide(&v, 0.5, 50000),
                  SC_ALERT_DECIDE_CRISIS | SC_ALERT_DECIDE_SPIKE);
        v.crisis = 0.49;
        CHECK_INT(sc_alert_decide(&v, 0.5, 50000), 0);
        v.crisis = 0; /* absent: never a crisis, even with a threshold of 0 */
        CHECK_INT(sc_alert_decide(&v, 0, 50000), 0);
        v.sentiment = "positive";
        v.post.author_followers = 10000000;
        CHECK_INT(sc_alert_decide(&v, 0.5, 50000), 0);
}

/* One batch of every kind of input; claims; duplicates and replays. */
static void check_batch(sc_alert_engine_t *a, sc_alert_engine_t *b, sc_redis_t *r)
{
        sc_buf_t f[8] = {SC_BUF_INIT, SC_BUF_INIT, SC_BUF_INIT, SC_BUF_INIT,
                         SC_BUF_INIT, SC_BUF_INIT, SC_BUF_INIT, SC_BUF_INIT};
        origin_t og[8] = {{0}};
        const char *E = "social.posts.enriched", *S = "care.sla";
        enriched(&f[0], "telko", "e-c1", "neutral", 0.9, 10, 0);
        enriched(&f[1], "telko", "e-i1", "negative", 0, 90000, 0);
        enriched(&f[2], "nobody", "e-u1", "negative", 0.9, 10, 0);
        enriched(&f[3], "telko", "", "negative", 0.9, 10, 0);
        sc_buf_append(&f[4], "\0\0\0\x03\xe7garbage", 12);
        sla_event(&f[5], "telko", "e-s1", "breach");
        sla_event(&f[6], "telko", "e-s2", "hit");
        enriched(&f[7], "telko", "e-own", "negative", 0.9, 900000, 1);
        sc_alert_in_t in[8];
        for (int i = 0; i < 8; i++)
                in[i] = input(&f[i], &og[i], i == 5 || i == 6 ? S : E, 100 + i);
        CHECK_INT(sc_alert_engine_process(a, brands, in, 8), SC_OK);
        CHECK_INT(out_cnt, 3);
        check_alert(0, "crisis_post", "crisis_post:e-c1");
        check_alert(1, "influencer_negative", "influencer_negative:e-i1");
        check_alert(2, "sla_breach", "sla_breach:e-s1");
        CHECK(outs[0].origin == &og[0] && outs[2].origin == &og[5]);
        CHECK_STR(outs[0].key, "telko");
        CHECK_INT(dlq_cnt, 3);
        CHECK_STR(dlq[0], "unknown_brand");
        CHECK_STR(dlq[1], "missing_field");
        CHECK_STR(dlq[2], "bad_avro");
        CHECK_INT(sc_alert_engine_jobs(a), 3);
        deliver_all();
        CHECK_INT(sc_alert_engine_jobs(a), 0);
        /* The claim names its origin. */
        CHECK(sc_redis_appendf(r, "GET %s", "sc:{telko}:alert:sent:crisis_post:e-c1") ==
              0);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0 && rep[0]->type == REDIS_REPLY_STRING);
        CHECK_STR(rep[0]->str, "social.posts.enriched/0/100");
        reset_outs();

        /* Another copy of the same events from other inputs: duplicates. */
        sc_alert_in_t again[2] = {input(&f[0], &og[0], E, 900),
                                  input(&f[5], &og[5], S, 901)};
        CHECK_INT(sc_alert_engine_process(b, brands, again, 2), SC_OK);
        CHECK_INT(out_cnt, 0);
        CHECK_INT(dlq_cnt, 0);
        /* The same input consumed again (a restart): emitted again. */
        CHECK_INT(sc_alert_engine_process(b, brands, in, 1), SC_OK);
        CHECK_INT(out_cnt, 1);
        check_alert(0, "crisis_post", "crisis_post:e-c1");
        reset_outs();
        for (int i = 0; i < 8; i++) {
                CHECK_INT(og[i].holds, 0);
                sc_buf_free(&f[i]);
        }
}

/* A port nothing listens on. */
static int closed_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
              getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static void wait_deliveries(sc_alert_engine_t *e)
{
        for (int i = 0; i < 1000 && sc_alert_engine_pending(e, -1); i++) {
                sc_alert_engine_pump(e);
                usleep(10000);
        }
        CHECK_INT(sc_alert_engine_pending(e, -1), 0);
}

/* A delivery that fails for good holds its input until its park is
 * delivered; a park that cannot be produced holds it until destroy. */
static void check_park(sc_alert_engine_t *e, int port)
{
        char yaml[512], err[256];
        snprintf(yaml, sizeof(yaml),
                 "alert:\n  targets:\n    - id: dead\n      url: http://127.0.0.1:%d/x\n"
                 "      secret: s\n      kinds: [crisis_post]\n      max_attempts: 1\n"
                 "      timeout: 2s\n",
                 port);
        sc_alert_target_t *t;
        size_t n;
        targets(yaml, &t, &n);
        CHECK_INT(n, 1);
        CHECK(sc_alert_engine_set_targets(e, t, n, err, sizeof(err)) == 0);
        sc_buf_t f = SC_BUF_INIT;
        origin_t og = {0};
        enriched(&f, "telko", "e-p1", "neutral", 0.9, 10, 0);
        sc_alert_in_t in = input(&f, &og, "social.posts.enriched", 1);
        CHECK_INT(sc_alert_engine_process(e, brands, &in, 1), SC_OK);
        CHECK_INT(og.holds, 1);
        wait_deliveries(e);
        CHECK_INT(out_cnt, 2);
        CHECK_INT(count_topic("care.alerts.webhook.dlq"), 1);
        CHECK_STR(outs[1].topic, "care.alerts.webhook.dlq");
        CHECK_STR(outs[1].park_reason, "max_attempts");
        CHECK_STR(outs[1].alert_id, "crisis_post:e-p1");
        CHECK(strstr(outs[1].val.data, "\"id\":\"crisis_post:e-p1\"") != NULL);
        CHECK_INT(og.holds, 1); /* until the parked copy is delivered */
        deliver_all();
        CHECK_INT(og.holds, 0);
        CHECK_INT(sc_alert_engine_jobs(e), 0);
        reset_outs();

        fail_park = 1;
        enriched(&f, "telko", "e-p2", "neutral", 0.9, 10, 0);
        in = input(&f, &og, "social.posts.enriched", 2);
        CHECK_INT(sc_alert_engine_process(e, brands, &in, 1), SC_OK);
        wait_deliveries(e);
        deliver_all();
        CHECK_INT(out_cnt, 1);  /* the alert, no park */
        CHECK_INT(og.holds, 1); /* the offset stays unstored */
        fail_park = 0;
        sc_alert_engine_destroy(e);
        CHECK_INT(og.holds, 0);
        reset_outs();
        sc_buf_free(&f);
}

/* A spike alert stranded in the outbox is emitted again after the grace
 * period, once while on its way, and removed once done. */
static void check_outbox(sc_alert_engine_t *e, sc_redis_t *r)
{
        const char *key = "sc:{bankowo}:alert:outbox";
        CHECK(sc_redis_appendf(r, "HSET %s %s %s", key, "spike:bankowo:1763632800000",
                               "1\tbankowo\t\t1763632800000\t1763632000000\t"
                               "1763632900000\t11\t1.5\t0.5\te-a\x1f"
                               "e-b") == 0);
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_exec(r, &rep, &cnt) == 0);
        CHECK_INT(sc_alert_engine_scan_outbox(e, brands), 0); /* first seen */
        usleep(50000);
        CHECK_INT(sc_alert_engine_scan_outbox(e, brands), 1);
        CHECK_INT(out_cnt, 1);
        check_alert(0, "spike", "spike:bankowo:1763632800000");
        CHECK(outs[0].origin == NULL);
        avro_value_t *v;
        char err[256];
        CHECK(sc_avro_decode(alert_codec, outs[0].val.data, outs[0].val.len, &v, err,
                             sizeof(err)) == 0);
        CHECK_INT(sc_avro_long(v, "count", 0), 11);
        usleep(50000);
        CHECK_INT(sc_alert_engine_scan_outbox(e, brands), 0); /* on its way */
        sc_alert_engine_flush_outbox(e);
        CHECK_INT(redis_int(r, "HEXISTS %s %s", key, "spike:bankowo:1763632800000"), 1);
        deliver_all();
        sc_alert_engine_flush_outbox(e);
        CHECK_INT(redis_int(r, "HEXISTS %s %s", key, "spike:bankowo:1763632800000"), 0);
        reset_outs();
}

/* Slots: unchanged settings keep theirs, changed ones get a new one; a
 * rejected set changes nothing; alerts go to the current set only. */
static void check_targets(sc_alert_engine_t *e, int port)
{
        char yaml[1024], err[256];
        sc_alert_target_t *t;
        size_t n;
        const char *fmt =
            "alert:\n  targets:\n"
            "    - id: %s\n      url: http://127.0.0.1:%d/a\n"
            "      secret: s\n      backoff: 10s\n      max_attempts: 100\n"
            "    - id: %s\n      url: http://127.0.0.1:%d/b\n"
            "      secret: s\n      backoff: 10s\n      max_attempts: 100\n";
        snprintf(yaml, sizeof(yaml), fmt, "a", port, "b", port);
        targets(yaml, &t, &n);
        CHECK(sc_alert_engine_set_targets(e, t, n, err, sizeof(err)) == 0);
        CHECK_INT(sc_alert_engine_target_count(e), 2);
        CHECK_INT(sc_alert_engine_target_slot(e, 0), 0);
        CHECK_INT(sc_alert_engine_target_slot(e, 1), 1);
        snprintf(yaml, sizeof(yaml), fmt, "b", port, "c", port);
        /* b's url differs (/a): a new slot; c: a new slot. */
        targets(yaml, &t, &n);
        sc_alert_opts_t o = opts(0);
        o.crisis_min = 0.95;
        CHECK(sc_alert_engine_reload(e, &o, t, n, err, sizeof(err)) == 0);
        CHECK_INT(sc_alert_engine_target_slot(e, 0), 2);
        CHECK_INT(sc_alert_engine_target_slot(e, 1), 3);
        snprintf(yaml, sizeof(yaml), fmt, "b", port, "d", port);
        targets(yaml, &t, &n);
        CHECK(sc_alert_engine_set_targets(e, t, n, err, sizeof(err)) == 0);
        CHECK_INT(sc_alert_engine_target_slot(e, 0), 2); /* same settings */
        CHECK_INT(sc_alert_engine_target_slot(e, 1), 4);
        /* A target the webhook engine refuses: the set stays. */
        sc_alert_target_t bad = t[0];
        bad.wh.url = "ftp://nowhere";
        bad.wh.id = "ftp";
        CHECK(sc_alert_engine_set_targets(e, &bad, 1, err, sizeof(err)) == -1);
        CHECK(strstr(err, "http://") != NULL);
        CHECK_INT(sc_alert_engine_target_count(e), 2);
        /* The reloaded threshold: 0.9 is no longer a crisis. */
        sc_buf_t f = SC_BUF_INIT;
        origin_t og = {0};
        enriched(&f, "telko", "e-t1", "neutral", 0.9, 10, 0);
        sc_alert_in_t in = input(&f, &og, "social.posts.enriched", 1);
        CHECK_INT(sc_alert_engine_process(e, brands, &in, 1), SC_OK);
        CHECK_INT(out_cnt, 0);
        enriched(&f, "telko", "e-t2", "neutral", 0.99, 10, 0);
        in = input(&f, &og, "social.posts.enriched", 2);
        CHECK_INT(sc_alert_engine_process(e, brands, &in, 1), SC_OK);
        CHECK_INT(out_cnt, 1);
        CHECK_INT(og.holds, 2); /* b and d */
        for (int s = 0; s < 2; s++)
                CHECK_INT(sc_alert_engine_pending(e, s), 0);
        CHECK_INT(sc_alert_engine_pending(e, 2) + sc_alert_engine_pending(e, 4), 2);
        deliver_all(); /* the runtime flushes its producer before destroy */
        CHECK_INT(og.holds, 2);
        sc_alert_engine_destroy(e);
        CHECK_INT(og.holds, 0);
        reset_outs();
        sc_buf_free(&f);
}

static sc_alert_engine_t *engine(sc_redis_t *r, sc_metrics_t *m, int spike_on)
{
        char err[256];
        sc_alert_opts_t o = opts(spike_on);
        sc_alert_engine_t *e =
            sc_alert_engine_new(&host, &o, r, avro, m, err, sizeof(err));
        if (!e)
                fprintf(stderr, "engine: %s\n", err);
        CHECK(e != NULL);
        return e;
}

int main(int argc, char **argv)
{
        CHECK(argc == 2);
        char err[256];
        avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        CHECK(avro != NULL);
        enr = sc_avro_codec(avro, "Enriched", NULL, err, sizeof(err));
        sla = sc_avro_codec(avro, "SlaEvent", NULL, err, sizeof(err));
        alert_codec = sc_avro_codec(avro, "Alert", NULL, err, sizeof(err));
        CHECK(enr && sla && alert_codec);
        const char *by =
            "brands:\n  - id: telko\n    name: Telko\n    keywords: [telko]\n"
            "  - id: bankowo\n    name: Bankowo\n    keywords: [bankowo]\n";
        sc_yaml_t *y = sc_yaml_load_string(by, strlen(by), "b.yaml", err, sizeof(err));
        CHECK(y != NULL);
        brands = sc_brands_new(sc_yaml_root(y), err, sizeof(err));
        CHECK(brands != NULL);
        sc_redis_t *r = sc_redis_new(argv[1], 2000, err, sizeof(err));
        CHECK(r != NULL);
        sc_metrics_t *m = sc_metrics_new("alert");
        int port = closed_port();

        check_decide();
        sc_alert_engine_t *a = engine(r, m, 0), *b = engine(r, m, 0);
        check_batch(a, b, r);
        sc_alert_engine_destroy(b);
        check_park(a, port);
        sc_alert_engine_t *s = engine(r, m, 1);
        check_outbox(s, r);
        sc_alert_engine_destroy(s);
        check_targets(engine(r, m, 0), port);

        /* Redis down: the batch is deferred and nothing is produced. */
        sc_redis_t *down = sc_redis_new("redis://127.0.0.1:1", 200, err, sizeof(err));
        CHECK(down != NULL);
        sc_alert_engine_t *d = engine(down, m, 0);
        sc_buf_t f = SC_BUF_INIT;
        origin_t og = {0};
        enriched(&f, "telko", "e-d1", "neutral", 0.9, 10, 0);
        sc_alert_in_t in = input(&f, &og, "social.posts.enriched", 1);
        CHECK_INT(sc_alert_engine_process(d, brands, &in, 1), SC_RETRY);
        CHECK_INT(out_cnt + dlq_cnt, 0);
        sc_alert_engine_destroy(d);
        sc_redis_destroy(down);
        sc_buf_free(&f);

        sc_metrics_destroy(m);
        sc_redis_destroy(r);
        sc_brands_destroy(brands);
        sc_yaml_destroy(y);
        sc_avro_destroy(avro);
        TEST_DONE();
}
