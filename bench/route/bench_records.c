/* Reading and writing the records between workers (common/sc_enriched,
 * sc_routed, sc_sla_event): a typical Enriched record (a Polish post of 120
 * bytes, 2 intents, 2 topics) read by route's way before the record modules
 * (sc_avro_decode into Avro-C's generic value, then field getters) and by
 * the direct reader; a Routed record read the same two ways (track); the
 * direct writers. */
#include <stdio.h>
#include <string.h>

#include "sc_avro.h"
#include "sc_bench.h"
#include "sc_enriched.h"
#include "sc_routed.h"
#include "sc_sla_event.h"

#define ROUNDS 200000

static const char *const topics[] = {"internet", "billing"};
static const char *const tags[] = {"vip"};

static sc_enriched_t sample(void)
{
        sc_enriched_t e;
        memset(&e, 0, sizeof(e));
        e.post = (sc_post_t){.event_id = "x:1861",
                             .brand = "telko",
                             .platform = "x",
                             .post_id = "1861",
                             .thread_id = "1800",
                             .author_id = "501",
                             .author_handle = "kasia_wro",
                             .author_followers = 15400,
                             .text = "@telko od rana nie działa mi internet, trzecia "
                                     "awaria w tym tygodniu 😡 kiedy to naprawicie? "
                                     "płacę za światłowód",
                             .lang_hint = "pl",
                             .created_at = 1763536320000,
                             .received_at = 1763536321000};
        e.post.text_len = strlen(e.post.text);
        e.classifier_version = "sc-lin-1+0123abcd";
        e.language = "pl";
        e.label = "negative";
        e.score = -0.81;
        e.intent_mask = (1u << SC_INTENT_COMPLAINT) | (1u << SC_INTENT_CHURN);
        e.intent[SC_INTENT_COMPLAINT] = 0.93;
        e.intent[SC_INTENT_CHURN] = 0.61;
        e.topic_cnt = 2;
        for (size_t i = 0; i < 2; i++) {
                e.topics[i] = topics[i];
                e.topic_lens[i] = strlen(topics[i]);
        }
        e.reach = 15400;
        e.priority = "high";
        e.priority_score = 0.74;
        e.needs_reply = 1;
        e.classified_at = 1763536322000;
        return e;
}

/* What route read with Avro-C's generic value before sc_enriched. */
static double via_avro_c(avro_value_t *v)
{
        avro_value_t post, f, item;
        sc_post_t p;
        double sum = 0;
        size_t n, len;
        if (sc_avro_get(v, "post", &post) || sc_post_from_avro(&post, &p))
                return -1;
        sum += (double)p.text_len + (double)sc_avro_long(v, "reach", 0);
        (void)sc_avro_str(v, "language", &len);
        sc_avro_get(v, "sentiment", &f);
        (void)sc_avro_str(&f, "label", &len);
        sum += sc_avro_double(&f, "score", 0);
        sc_avro_get(v, "intents", &f);
        avro_value_get_size(&f, &n);
        for (size_t i = 0; i < n; i++) {
                avro_value_get_by_index(&f, i, &item, NULL);
                (void)sc_avro_str(&item, "name", &len);
                sum += sc_avro_double(&item, "confidence", 0);
        }
        sc_avro_get(v, "topics", &f);
        avro_value_get_size(&f, &n);
        sum += (double)n;
        (void)sc_avro_str(v, "priority", &len);
        sum += sc_avro_bool(v, "needs_reply", 0);
        return sum;
}

#define TIMED(name, body)                                                                \
        do {                                                                             \
                for (int r_ = 0; r_ < 1000; r_++) /* warm */                             \
                        body;                                                            \
                uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();                 \
                for (int r_ = 0; r_ < ROUNDS; r_++)                                      \
                        body;                                                            \
                uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();                 \
                sc_bench_report(name, ROUNDS, t1 - t0, a1 - a0);                         \
        } while (0)

int main(void)
{
        char err[512];
        sc_avro_t *a = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        sc_avro_codec_t *ec =
            a ? sc_avro_codec(a, "Enriched", NULL, err, sizeof(err)) : NULL;
        sc_avro_codec_t *rc =
            ec ? sc_avro_codec(a, "Routed", NULL, err, sizeof(err)) : NULL;
        sc_avro_codec_t *sc =
            rc ? sc_avro_codec(a, "SlaEvent", NULL, err, sizeof(err)) : NULL;
        if (!sc) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        sc_enriched_t e = sample(), eo;
        sc_routed_t r, ro;
        memset(&r, 0, sizeof(r));
        r.enriched = e;
        r.team = "care";
        r.priority = "high";
        r.tags = tags;
        r.tag_cnt = 1;
        r.needs_reply = 1;
        r.decision = "queue";
        r.rule_id = "complaint-vip";
        r.sla_policy = "care/high";
        r.sla_target_s = SC_OPT_LONG(1800);
        r.calendar = "office_pl";
        r.due_at = SC_OPT_LONG(1763538120000);
        r.routed_at = 1763536323000;
        sc_sla_record_t s = {"x:1861:hit",
                             "hit",
                             "x:1861",
                             "telko",
                             "x",
                             "1861",
                             "care",
                             "high",
                             1763536320000,
                             1763538120000,
                             SC_OPT_LONG(1763537000000),
                             SC_OPT_LONG(680),
                             NULL,
                             e.post.text,
                             1763538150000};
        sc_buf_t ebuf = SC_BUF_INIT, rbuf = SC_BUF_INIT, out = SC_BUF_INIT,
                 scratch = SC_BUF_INIT;
        sc_enriched_encode(&e, ec, &ebuf);
        sc_routed_encode(&r, rc, &rbuf);
        printf("Enriched %zu bytes, Routed %zu bytes\n", ebuf.len, rbuf.len);
        volatile double sink = 0;
        avro_value_t *v;
        TIMED("Enriched read, Avro-C value + getters", {
                if (sc_avro_decode(ec, ebuf.data, ebuf.len, &v, err, sizeof(err)) == 0)
                        sink += via_avro_c(v);
        });
        TIMED("Enriched read, sc_enriched_decode", {
                if (sc_enriched_decode(ec, ebuf.data, ebuf.len, &scratch, &eo, err,
                                       sizeof(err)) == 0)
                        sink += eo.score;
        });
        TIMED("Routed read, Avro-C value + getters", {
                avro_value_t enr;
                if (sc_avro_decode(rc, rbuf.data, rbuf.len, &v, err, sizeof(err)) == 0 &&
                    sc_avro_get(v, "enriched", &enr) == 0)
                        sink += via_avro_c(&enr) + (double)sc_avro_long(v, "due_at", 0) +
                                (sc_avro_str(v, "team", NULL) != NULL);
        });
        TIMED("Routed read, sc_routed_decode", {
                if (sc_routed_decode(rc, rbuf.data, rbuf.len, &scratch, &ro, err,
                                     sizeof(err)) == 0)
                        sink += (double)ro.due_at.v;
        });
        TIMED("Enriched write, sc_enriched_encode", {
                sc_buf_reset(&out);
                sink += sc_enriched_encode(&e, ec, &out);
        });
        TIMED("Routed write, sc_routed_encode", {
                sc_buf_reset(&out);
                sink += sc_routed_encode(&r, rc, &out);
        });
        TIMED("SlaEvent write, sc_sla_event_encode", {
                sc_buf_reset(&out);
                sink += sc_sla_event_encode(&s, sc, &out);
        });
        (void)sink;
        sc_buf_free(&ebuf);
        sc_buf_free(&rbuf);
        sc_buf_free(&out);
        sc_buf_free(&scratch);
        sc_avro_destroy(a);
        return 0;
}
