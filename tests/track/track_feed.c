/* track_feed: produces a scripted conversation set for the tracker's stack
 * tests: inbound posts as framed Avro Routed records to care.routed (what
 * route writes) and brand replies as framed Avro Post records to
 * social.posts (what ingest writes), key = brand.
 *
 *   track_feed BROKERS FILE        one record per line of FILE (TSV):
 *     in  BRAND PLATFORM POST_ID PARENT THREAD CREATED NEEDS_REPLY TEAM DUE PRIORITY
 * CALENDAR re  BRAND PLATFORM POST_ID PARENT THREAD CREATED
 *   ("-" is null, '""' an empty string (a poison record: an empty POST_ID
 *   also empties the event id); CREATED/DUE are RFC 3339; '#' starts a
 *   comment line)
 *   track_feed BROKERS --gen N BASE_MS [FIRST]
 *     N generated conversations (see gen() below; the stack test computes
 *     the expected figures with the same rules).
 *   track_feed BROKERS --gen-live N BASE_MS
 *     the same conversations over 4 brands in order of arrival (gen_live). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "sc_avro.h"
#include "sc_buf.h"
#include "sc_post.h"
#include "sc_time.h"

static rd_kafka_t *rk;
static sc_avro_codec_t *c_post, *c_routed;
static sc_buf_t out;
static long produced;

static void produce(const char *topic, const char *key)
{
        for (;;) {
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(out.data, out.len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        rd_kafka_poll(rk, 50);
                        continue;
                }
                if (err) {
                        fprintf(stderr, "track_feed: produce: %s\n",
                                rd_kafka_err2str(err));
                        exit(1);
                }
                break;
        }
        produced++;
        rd_kafka_poll(rk, 0);
}

static const char *opt(const char *s)
{
        return s && strcmp(s, "-") ? s : NULL;
}

static const char *field(const char *s)
{
        return strcmp(s, "\"\"") ? s : "";
}

static void post_of(sc_post_t *p, const char *brand, const char *pf, const char *pid,
                    const char *parent, const char *thread, int64_t ca, int is_brand,
                    char *eid, size_t eid_size)
{
        brand = field(brand);
        pid = field(pid);
        snprintf(eid, eid_size, "%s:%s", pf, pid);
        if (!*pid)
                eid[0] = '\0';
        memset(p, 0, sizeof(*p));
        p->event_id = eid;
        p->brand = brand;
        p->platform = pf;
        p->post_id = pid;
        p->parent_id = opt(parent);
        p->thread_id = opt(thread);
        p->author_id = is_brand ? "brand" : "customer";
        p->author_handle = is_brand ? brand : "customer";
        p->is_brand = is_brand;
        p->text = is_brand ? "Hi, we are on it" : "@brand my order never came";
        p->text_len = strlen(p->text);
        p->url = NULL;
        p->created_at = ca;
        p->received_at = ca;
}

static void inbound(const char *brand, const char *pf, const char *pid,
                    const char *parent, const char *thread, int64_t ca, int nr,
                    const char *team, int64_t due, const char *prio, const char *cal)
{
        sc_post_t p;
        char eid[256];
        post_of(&p, brand, pf, pid, parent, thread, ca, 0, eid, sizeof(eid));
        sc_buf_reset(&out);
        int bad = sc_avro_frame_begin(c_routed, &out) || sc_post_write(&p, &out) ||
                  sc_avro_w_str(&out, "test", 4) || sc_avro_w_str(&out, "en", 2) ||
                  sc_avro_w_str(&out, "negative", 8) || sc_avro_w_double(&out, -0.5) ||
                  sc_avro_w_array_end(&out) /* intents */ ||
                  sc_avro_w_array_end(&out) /* topics */ || sc_avro_w_long(&out, 10) ||
                  sc_avro_w_str(&out, prio, strlen(prio)) ||
                  sc_avro_w_double(&out, 0.5) || sc_avro_w_bool(&out, nr) ||
                  sc_avro_w_long(&out, ca) ||
                  /* Routed */
                  sc_avro_w_str(&out, team, strlen(team)) ||
                  sc_avro_w_str(&out, prio, strlen(prio)) || sc_avro_w_array_end(&out) ||
                  sc_avro_w_bool(&out, nr) ||
                  sc_avro_w_str(&out, nr ? "queue" : "drop_spam", nr ? 5 : 9) ||
                  sc_avro_w_str(&out, "default", 7) || sc_avro_w_opt_str(&out, NULL);
        if (due > 0)
                bad = bad || sc_avro_w_long(&out, 1) || sc_avro_w_long(&out, 3600) ||
                      sc_avro_w_opt_str(&out, opt(cal)) || sc_avro_w_long(&out, 1) ||
                      sc_avro_w_long(&out, due);
        else
                bad = bad || sc_avro_w_long(&out, 0) ||
                      sc_avro_w_opt_str(&out, opt(cal)) || sc_avro_w_long(&out, 0);
        bad = bad || sc_avro_w_long(&out, ca);
        if (bad) {
                fprintf(stderr, "track_feed: encode failed\n");
                exit(1);
        }
        produce("care.routed", brand);
}

static void post_on_social(const char *brand, const char *pf, const char *pid,
                           const char *parent, const char *thread, int64_t ca,
                           int is_brand)
{
        sc_post_t p;
        char eid[256];
        post_of(&p, brand, pf, pid, parent, thread, ca, is_brand, eid, sizeof(eid));
        sc_buf_reset(&out);
        if (sc_post_encode(&p, c_post, &out)) {
                fprintf(stderr, "track_feed: encode failed\n");
                exit(1);
        }
        produce("social.posts", brand);
}

static void reply(const char *brand, const char *pf, const char *pid, const char *parent,
                  const char *thread, int64_t ca)
{
        post_on_social(brand, pf, pid, parent, thread, ca, 1);
}

static int64_t parse_time(const char *s, int line)
{
        int64_t ms;
        if (!opt(s))
                return 0;
        if (sc_time_parse(s, strlen(s), &ms)) {
                fprintf(stderr, "track_feed: line %d: bad time %s\n", line, s);
                exit(1);
        }
        return ms;
}

static void feed_file(const char *path)
{
        FILE *fp = fopen(path, "r");
        if (!fp) {
                perror(path);
                exit(1);
        }
        char buf[2048];
        int line = 0;
        while (fgets(buf, sizeof(buf), fp)) {
                line++;
                char *f[16];
                int n = 0;
                for (char *save = NULL, *t = strtok_r(buf, " \t\r\n", &save); t && n < 16;
                     t = strtok_r(NULL, " \t\r\n", &save))
                        f[n++] = t;
                if (!n || f[0][0] == '#')
                        continue;
                if (!strcmp(f[0], "in") && n == 12)
                        inbound(f[1], f[2], f[3], f[4], f[5], parse_time(f[6], line),
                                atoi(f[7]), f[8], parse_time(f[9], line), f[10], f[11]);
                else if (!strcmp(f[0], "re") && n == 7)
                        reply(f[1], f[2], f[3], f[4], f[5], parse_time(f[6], line));
                else {
                        fprintf(stderr, "track_feed: %s:%d: bad line\n", path, line);
                        exit(1);
                }
        }
        fclose(fp);
}

/* Conversation i (brand "gen", platform x, team care, created BASE + i s):
 *  - needs a reply unless i % 10 == 9; due = created + 1 h when it does;
 *  - answered unless i % 7 == 6, first reply at created + (i % 5) * 20 min
 *    (0, 20, 40, 60, 80 min: the last one is late); i % 11 == 0 gets a second
 *    reply 90 min after created. Replies name the post as parent. */
static void gen(long n, int64_t base, long first)
{
        char pid[32], rid[32];
        for (long i = first; i < first + n; i++) {
                int64_t ca = base + i * 1000;
                int nr = i % 10 != 9;
                snprintf(pid, sizeof(pid), "g%ld", i);
                inbound("gen", "x", pid, NULL, pid, ca, nr, "care", nr ? ca + 3600000 : 0,
                        "normal", "24x7");
                if (i % 7 != 6) {
                        snprintf(rid, sizeof(rid), "g%ld-r", i);
                        reply("gen", "x", rid, pid, pid, ca + (i % 5) * 1200000);
                }
                if (i % 11 == 0) {
                        snprintf(rid, sizeof(rid), "g%ld-r2", i);
                        reply("gen", "x", rid, pid, pid, ca + 5400000);
                }
        }
}

/* --gen-live: the conversations of gen() over 4 brands (live0..live3, i %
 * 4) as the pipeline delivers them, records produced in order of arrival:
 * the inbound post on social.posts (as ingest writes it) created + 0..29 s,
 * on care.routed created + 60..179 s (classify and route take longer), each
 * brand reply on social.posts its created + 0..29 s. So replies usually reach
 * track before their post, and a brand's social.posts stream is out of
 * created_at order by at most 30 s. */
typedef struct live_s {
        int64_t at;
        long i;
        int what; /* 0 inbound on social.posts, 1 Routed, 2 reply, 3 second reply */
} live_t;

static int cmp_live(const void *a, const void *b)
{
        const live_t *x = a, *y = b;
        if (x->at != y->at)
                return x->at < y->at ? -1 : 1;
        return x->i != y->i ? (x->i < y->i ? -1 : 1) : x->what - y->what;
}

static void gen_live(long n, int64_t base)
{
        live_t *v = calloc((size_t)n * 4, sizeof(*v));
        size_t k = 0;
        for (long i = 0; i < n; i++) {
                int64_t ca = base + i * 1000;
                v[k++] = (live_t){ca + (i * 7) % 30 * 1000, i, 0};
                v[k++] = (live_t){ca + 60000 + (i * 13) % 120 * 1000, i, 1};
                if (i % 7 != 6)
                        v[k++] =
                            (live_t){ca + (i % 5) * 1200000 + (i * 3) % 30 * 1000, i, 2};
                if (i % 11 == 0)
                        v[k++] = (live_t){ca + 5400000 + (i * 11) % 30 * 1000, i, 3};
        }
        qsort(v, k, sizeof(*v), cmp_live);
        for (size_t j = 0; j < k; j++) {
                long i = v[j].i;
                int64_t ca = base + i * 1000;
                int nr = i % 10 != 9;
                char brand[16], pid[32], rid[32];
                snprintf(brand, sizeof(brand), "live%ld", i % 4);
                snprintf(pid, sizeof(pid), "g%ld", i);
                switch (v[j].what) {
                case 0:
                        post_on_social(brand, "x", pid, NULL, pid, ca, 0);
                        break;
                case 1:
                        inbound(brand, "x", pid, NULL, pid, ca, nr, "care",
                                nr ? ca + 3600000 : 0, "normal", "24x7");
                        break;
                case 2:
                        snprintf(rid, sizeof(rid), "g%ld-r", i);
                        reply(brand, "x", rid, pid, pid, ca + (i % 5) * 1200000);
                        break;
                default:
                        snprintf(rid, sizeof(rid), "g%ld-r2", i);
                        reply(brand, "x", rid, pid, pid, ca + 5400000);
                }
        }
        free(v);
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr,
                        "usage: track_feed BROKERS FILE | track_feed BROKERS --gen N "
                        "BASE_MS [FIRST]\n");
                return 2;
        }
        char errstr[512];
        const char *schemas = getenv("SOCIALCARE_SCHEMAS_DIR");
        sc_avro_t *avro = sc_avro_new(schemas ? schemas : SC_SOURCE_DIR "/schemas", NULL,
                                      errstr, sizeof(errstr));
        if (!avro ||
            !(c_post = sc_avro_codec(avro, "Post", NULL, errstr, sizeof(errstr))) ||
            !(c_routed = sc_avro_codec(avro, "Routed", NULL, errstr, sizeof(errstr)))) {
                fprintf(stderr, "track_feed: %s\n", errstr);
                return 1;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) ||
            !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
                fprintf(stderr, "track_feed: %s\n", errstr);
                return 1;
        }
        if (!strcmp(argv[2], "--gen-live") && argc >= 5)
                gen_live(atol(argv[3]), strtoll(argv[4], NULL, 10));
        else if (!strcmp(argv[2], "--gen") && argc >= 5)
                gen(atol(argv[3]), strtoll(argv[4], NULL, 10),
                    argc > 5 ? atol(argv[5]) : 0);
        else
                feed_file(argv[2]);
        if (rd_kafka_flush(rk, 30000)) {
                fprintf(stderr, "track_feed: flush timed out\n");
                return 1;
        }
        rd_kafka_destroy(rk);
        sc_avro_destroy(avro);
        sc_buf_free(&out);
        fprintf(stderr, "track_feed: %ld records\n", produced);
        return 0;
}
