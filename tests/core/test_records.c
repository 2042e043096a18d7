/* The record modules (sc_post's direct reader, sc_enriched, sc_routed,
 * sc_sla_event) against Avro-C and the schemas (schemas/<record>.avsc), both
 * ways: the direct writer's bytes are Avro-C's encoding of the same record and
 * Avro-C's generic reader finds every field; a record Avro-C wrote is read back
 * whole by the direct reader. Then bad frames: every truncation, a trailing
 * byte, a foreign schema id, and mutated frames, which the direct reader must
 * accept exactly when Avro-C does. */
#include <stdlib.h>

#include "sc_avro.h"
#include "sc_enriched.h"
#include "sc_routed.h"
#include "sc_sla_event.h"
#include "../sc_test.h"

#define CHECK_OPT_STR(a, b)                                                              \
        do {                                                                             \
                const char *x_ = (a), *y_ = (b);                                         \
                CHECK((x_ == NULL) == (y_ == NULL));                                     \
                if (x_)                                                                  \
                        CHECK_STR(x_, y_);                                               \
        } while (0)

static char err[512];

/* ---- the records' samples; variant v flips the optional parts ------------- */

static sc_post_t post_sample(int v)
{
        sc_post_t p = {0};
        p.event_id = "x:1861";
        p.brand = "telko";
        p.platform = v & 1 ? "facebook" : "x";
        p.post_id = "1861";
        p.parent_id = v & 2 ? "1700" : NULL;
        p.thread_id = v & 4 ? NULL : "1800";
        p.author_id = "501";
        p.author_handle = v & 8 ? NULL : "kasia_wro";
        p.author_followers = v & 16 ? -3 : 15400;
        p.author_verified = v & 1;
        p.is_brand = (v >> 1) & 1;
        p.text = v & 16 ? "" : "nie działa mi internet 😡";
        p.text_len = strlen(p.text);
        p.lang_hint = v & 8 ? "pl" : NULL;
        p.url = v & 4 ? "https://x.com/kasia_wro/status/1861" : NULL;
        p.rating = v & 32 ? 4 : 0;
        p.created_at = 1763536320000;
        p.received_at = 1763536321000 + v;
        return p;
}

static const char *const topic_names[] = {"internet", "billing", "outage", "tv"};

static sc_enriched_t enriched_sample(int v)
{
        sc_enriched_t e;
        memset(&e, 0, sizeof(e));
        e.post = post_sample(v);
        e.classifier_version = "sc-lin-1+0123abcd";
        e.language = v & 1 ? "en" : "pl";
        e.label = v & 2 ? "positive" : "negative";
        e.score = v & 2 ? 0.25 : -0.75;
        /* none, one, several, every intent */
        e.intent_mask = (unsigned[]){0, 1u << SC_INTENT_CRISIS, 0x15,
                                     (1u << SC_INTENT_CNT) - 1}[v % 4];
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if ((e.intent_mask >> k) & 1)
                        e.intent[k] = 0.5 + k / 16.0;
        e.topic_cnt = (size_t)(v % 5);
        for (size_t i = 0; i < e.topic_cnt; i++) {
                e.topics[i] = topic_names[i];
                e.topic_lens[i] = strlen(topic_names[i]);
        }
        e.reach = e.post.author_followers;
        e.priority = v & 4 ? "urgent" : "normal";
        e.priority_score = 0.125 * (v % 8);
        e.needs_reply = !(v & 8);
        e.classified_at = 1763536322000 + v;
        return e;
}

static const char *const tag_names[] = {"vip", "churn", "escalate"};

static sc_routed_t routed_sample(int v)
{
        sc_routed_t r;
        memset(&r, 0, sizeof(r));
        r.enriched = enriched_sample(v);
        r.team = v & 1 ? "sales" : "care";
        r.priority = v & 2 ? "high" : "low";
        r.tags = tag_names;
        r.tag_cnt = (size_t)(v % 4);
        r.needs_reply = v & 4 ? 0 : 1;
        r.decision = v & 8 ? "drop_spam" : "queue";
        r.rule_id = v & 8 ? "spam" : "default";
        int sla = !(v & 16);
        r.sla_policy = sla ? "care/high" : NULL;
        r.sla_target_s = sla ? SC_OPT_LONG(v & 32 ? 0 : 1800) : SC_OPT_NONE;
        r.calendar = sla ? "pl-office" : NULL;
        r.due_at = sla ? SC_OPT_LONG(1763538120000) : SC_OPT_NONE;
        r.routed_at = 1763536323000;
        return r;
}

static sc_sla_record_t sla_sample(int v)
{
        static const char *const kinds[] = {"breach", "hit", "late", "recovered"};
        sc_sla_record_t e = {
            .event_id = "x:1861:breach",
            .kind = kinds[v % 4],
            .post_event_id = "x:1861",
            .brand = "telko",
            .platform = "x",
            .post_id = "1861",
            .team = "care",
            .priority = "high",
            .created_at = 1763536320000,
            .due_at = 1763538120000,
            .replied_at = v & 4 ? SC_OPT_LONG(1763537000000) : SC_OPT_NONE,
            /* 0 s is a first-response time, not "none" */
            .frt_s = v & 4 ? SC_OPT_LONG(v & 8 ? 0 : 680) : SC_OPT_NONE,
            .url = v & 16 ? "https://x.com/kasia_wro/status/1861" : NULL,
            .text = v & 32 ? "" : "nie działa mi internet 😡",
            .emitted_at = 1763538150000,
        };
        return e;
}

/* ---- Avro-C side: fill a generic value, compare a generic value ----------- */

static void opt_long_to_avro(avro_value_t *rec, const char *field, sc_opt_long_t v)
{
        CHECK(sc_avro_set_opt_long(rec, field, v.present ? &v.v : NULL) == 0);
}

static void check_opt_long(avro_value_t *rec, const char *field, sc_opt_long_t want)
{
        avro_value_t b;
        int present = sc_avro_opt(rec, field, &b);
        CHECK_INT(present, want.present);
        int64_t got = 0;
        if (present)
                CHECK(avro_value_get_long(&b, &got) == 0);
        CHECK_INT(got, want.v);
}

static void check_post_eq(const sc_post_t *a, const sc_post_t *b)
{
        CHECK_STR(a->event_id, b->event_id);
        CHECK_STR(a->brand, b->brand);
        CHECK_STR(a->platform, b->platform);
        CHECK_STR(a->post_id, b->post_id);
        CHECK_OPT_STR(a->parent_id, b->parent_id);
        CHECK_OPT_STR(a->thread_id, b->thread_id);
        CHECK_STR(a->author_id, b->author_id);
        CHECK_OPT_STR(a->author_handle, b->author_handle);
        CHECK_INT(a->author_followers, b->author_followers);
        CHECK_INT(a->author_verified, b->author_verified);
        CHECK_INT(a->is_brand, b->is_brand);
        CHECK_INT(a->text_len, b->text_len);
        CHECK(memcmp(a->text, b->text, a->text_len) == 0 && a->text[a->text_len] == '\0');
        CHECK_OPT_STR(a->lang_hint, b->lang_hint);
        CHECK_OPT_STR(a->url, b->url);
        CHECK_INT(a->rating, b->rating);
        CHECK_INT(a->created_at, b->created_at);
        CHECK_INT(a->received_at, b->received_at);
}

static void enriched_to_avro(const sc_enriched_t *e, avro_value_t *v)
{
        avro_value_t post, sent, arr, item;
        CHECK(sc_avro_get(v, "post", &post) == 0 &&
              sc_post_to_avro(&e->post, &post) == 0);
        CHECK(sc_avro_set_str(v, "classifier_version", e->classifier_version) == 0);
        CHECK(sc_avro_set_str(v, "language", e->language) == 0);
        CHECK(sc_avro_get(v, "sentiment", &sent) == 0);
        CHECK(sc_avro_set_str(&sent, "label", e->label) == 0);
        CHECK(sc_avro_set_double(&sent, "score", e->score) == 0);
        CHECK(sc_avro_get(v, "intents", &arr) == 0);
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if ((e->intent_mask >> k) & 1) {
                        CHECK(avro_value_append(&arr, &item, NULL) == 0);
                        CHECK(sc_avro_set_str(&item, "name", sc_intent_name(k)) == 0);
                        CHECK(sc_avro_set_double(&item, "confidence", e->intent[k]) == 0);
                }
        CHECK(sc_avro_get(v, "topics", &arr) == 0);
        for (size_t i = 0; i < e->topic_cnt; i++) {
                CHECK(avro_value_append(&arr, &item, NULL) == 0);
                CHECK(avro_value_set_string(&item, e->topics[i]) == 0);
        }
        CHECK(sc_avro_set_long(v, "reach", e->reach) == 0);
        CHECK(sc_avro_set_str(v, "priority", e->priority) == 0);
        CHECK(sc_avro_set_double(v, "priority_score", e->priority_score) == 0);
        CHECK(sc_avro_set_bool(v, "needs_reply", e->needs_reply) == 0);
        CHECK(sc_avro_set_long(v, "classified_at", e->classified_at) == 0);
}

static void check_enriched_value(avro_value_t *v, const sc_enriched_t *e)
{
        avro_value_t post, sent, arr, item;
        sc_post_t p;
        CHECK(sc_avro_get(v, "post", &post) == 0 && sc_post_from_avro(&post, &p) == 0);
        check_post_eq(&p, &e->post);
        CHECK_STR(sc_avro_str(v, "classifier_version", NULL), e->classifier_version);
        CHECK_STR(sc_avro_str(v, "language", NULL), e->language);
        CHECK(sc_avro_get(v, "sentiment", &sent) == 0);
        CHECK_STR(sc_avro_str(&sent, "label", NULL), e->label);
        CHECK(sc_avro_double(&sent, "score", 9) == e->score);
        size_t n;
        CHECK(sc_avro_get(v, "intents", &arr) == 0 && avro_value_get_size(&arr, &n) == 0);
        unsigned mask = 0;
        for (size_t i = 0; i < n; i++) {
                CHECK(avro_value_get_by_index(&arr, i, &item, NULL) == 0);
                const char *name = sc_avro_str(&item, "name", NULL);
                int k = sc_intent_parse(name, strlen(name));
                CHECK(k >= 0 && !((mask >> k) & 1));
                mask |= 1u << k;
                CHECK(sc_avro_double(&item, "confidence", 9) == e->intent[k]);
        }
        CHECK_INT(mask, e->intent_mask);
        CHECK(sc_avro_get(v, "topics", &arr) == 0 && avro_value_get_size(&arr, &n) == 0);
        CHECK_INT(n, e->topic_cnt);
        for (size_t i = 0; i < n; i++) {
                const char *s;
                size_t len;
                CHECK(avro_value_get_by_index(&arr, i, &item, NULL) == 0);
                CHECK(avro_value_get_string(&item, &s, &len) == 0);
                CHECK_STR(s, e->topics[i]);
        }
        CHECK_INT(sc_avro_long(v, "reach", -9), e->reach);
        CHECK_STR(sc_avro_str(v, "priority", NULL), e->priority);
        CHECK(sc_avro_double(v, "priority_score", 9) == e->priority_score);
        CHECK_INT(sc_avro_bool(v, "needs_reply", 9), e->needs_reply);
        CHECK_INT(sc_avro_long(v, "classified_at", -9), e->classified_at);
}

static void check_enriched_eq(const sc_enriched_t *a, const sc_enriched_t *b)
{
        check_post_eq(&a->post, &b->post);
        CHECK_STR(a->classifier_version, b->classifier_version);
        CHECK_STR(a->language, b->language);
        CHECK_STR(a->label, b->label);
        CHECK(a->score == b->score);
        CHECK_INT(a->intent_mask, b->intent_mask);
        for (int k = 0; k < SC_INTENT_CNT; k++)
                CHECK(a->intent[k] == b->intent[k]);
        CHECK_INT(a->topic_cnt, b->topic_cnt);
        for (size_t i = 0; i < a->topic_cnt; i++) {
                CHECK_STR(a->topics[i], b->topics[i]);
                CHECK_INT(a->topic_lens[i], b->topic_lens[i]);
        }
        CHECK_INT(a->reach, b->reach);
        CHECK_STR(a->priority, b->priority);
        CHECK(a->priority_score == b->priority_score);
        CHECK_INT(a->needs_reply, b->needs_reply);
        CHECK_INT(a->classified_at, b->classified_at);
}

static void routed_to_avro(const sc_routed_t *r, avro_value_t *v)
{
        avro_value_t enr, arr, item;
        CHECK(sc_avro_get(v, "enriched", &enr) == 0);
        enriched_to_avro(&r->enriched, &enr);
        CHECK(sc_avro_set_str(v, "team", r->team) == 0);
        CHECK(sc_avro_set_str(v, "priority", r->priority) == 0);
        CHECK(sc_avro_get(v, "tags", &arr) == 0);
        for (size_t i = 0; i < r->tag_cnt; i++) {
                CHECK(avro_value_append(&arr, &item, NULL) == 0);
                CHECK(avro_value_set_string(&item, r->tags[i]) == 0);
        }
        CHECK(sc_avro_set_bool(v, "needs_reply", r->needs_reply) == 0);
        CHECK(sc_avro_set_str(v, "decision", r->decision) == 0);
        CHECK(sc_avro_set_str(v, "rule_id", r->rule_id) == 0);
        CHECK(sc_avro_set_opt_str(v, "sla_policy", r->sla_policy) == 0);
        opt_long_to_avro(v, "sla_target_s", r->sla_target_s);
        CHECK(sc_avro_set_opt_str(v, "calendar", r->calendar) == 0);
        opt_long_to_avro(v, "due_at", r->due_at);
        CHECK(sc_avro_set_long(v, "routed_at", r->routed_at) == 0);
}

static void check_routed_value(avro_value_t *v, const sc_routed_t *r)
{
        avro_value_t enr, arr, item;
        CHECK(sc_avro_get(v, "enriched", &enr) == 0);
        check_enriched_value(&enr, &r->enriched);
        CHECK_STR(sc_avro_str(v, "team", NULL), r->team);
        CHECK_STR(sc_avro_str(v, "priority", NULL), r->priority);
        size_t n;
        CHECK(sc_avro_get(v, "tags", &arr) == 0 && avro_value_get_size(&arr, &n) == 0);
        CHECK_INT(n, r->tag_cnt);
        for (size_t i = 0; i < n; i++) {
                const char *s;
                size_t len;
                CHECK(avro_value_get_by_index(&arr, i, &item, NULL) == 0);
                CHECK(avro_value_get_string(&item, &s, &len) == 0);
                CHECK_STR(s, r->tags[i]);
        }
        CHECK_INT(sc_avro_bool(v, "needs_reply", 9), r->needs_reply);
        CHECK_STR(sc_avro_str(v, "decision", NULL), r->decision);
        CHECK_STR(sc_avro_str(v, "rule_id", NULL), r->rule_id);
        CHECK_OPT_STR(sc_avro_str(v, "sla_policy", NULL), r->sla_policy);
        check_opt_long(v, "sla_target_s", r->sla_target_s);
        CHECK_OPT_STR(sc_avro_str(v, "calendar", NULL), r->calendar);
        check_opt_long(v, "due_at", r->due_at);
        CHECK_INT(sc_avro_long(v, "routed_at", -9), r->routed_at);
}

static void check_routed_eq(const sc_routed_t *a, const sc_routed_t *b)
{
        check_enriched_eq(&a->enriched, &b->enriched);
        CHECK_STR(a->team, b->team);
        CHECK_STR(a->priority, b->priority);
        CHECK_INT(a->tag_cnt, b->tag_cnt);
        for (size_t i = 0; i < a->tag_cnt; i++)
                CHECK_STR(a->tags[i], b->tags[i]);
        CHECK_INT(a->needs_reply, b->needs_reply);
        CHECK_STR(a->decision, b->decision);
        CHECK_STR(a->rule_id, b->rule_id);
        CHECK_OPT_STR(a->sla_policy, b->sla_policy);
        CHECK_INT(a->sla_target_s.present, b->sla_target_s.present);
        CHECK_INT(a->sla_target_s.v, b->sla_target_s.v);
        CHECK_OPT_STR(a->calendar, b->calendar);
        CHECK_INT(a->due_at.present, b->due_at.present);
        CHECK_INT(a->due_at.v, b->due_at.v);
        CHECK_INT(a->routed_at, b->routed_at);
}

static void sla_to_avro(const sc_sla_record_t *e, avro_value_t *v)
{
        CHECK(sc_avro_set_str(v, "event_id", e->event_id) == 0);
        CHECK(sc_avro_set_str(v, "kind", e->kind) == 0);
        CHECK(sc_avro_set_str(v, "post_event_id", e->post_event_id) == 0);
        CHECK(sc_avro_set_str(v, "brand", e->brand) == 0);
        CHECK(sc_avro_set_str(v, "platform", e->platform) == 0);
        CHECK(sc_avro_set_str(v, "post_id", e->post_id) == 0);
        CHECK(sc_avro_set_str(v, "team", e->team) == 0);
        CHECK(sc_avro_set_str(v, "priority", e->priority) == 0);
        CHECK(sc_avro_set_long(v, "created_at", e->created_at) == 0);
        CHECK(sc_avro_set_long(v, "due_at", e->due_at) == 0);
        opt_long_to_avro(v, "replied_at", e->replied_at);
        opt_long_to_avro(v, "frt_s", e->frt_s);
        CHECK(sc_avro_set_opt_str(v, "url", e->url) == 0);
        CHECK(sc_avro_set_str(v, "text", e->text) == 0);
        CHECK(sc_avro_set_long(v, "emitted_at", e->emitted_at) == 0);
}

static void check_sla_value(avro_value_t *v, const sc_sla_record_t *e)
{
        CHECK_STR(sc_avro_str(v, "event_id", NULL), e->event_id);
        CHECK_STR(sc_avro_str(v, "kind", NULL), e->kind);
        CHECK_STR(sc_avro_str(v, "post_event_id", NULL), e->post_event_id);
        CHECK_STR(sc_avro_str(v, "brand", NULL), e->brand);
        CHECK_STR(sc_avro_str(v, "platform", NULL), e->platform);
        CHECK_STR(sc_avro_str(v, "post_id", NULL), e->post_id);
        CHECK_STR(sc_avro_str(v, "team", NULL), e->team);
        CHECK_STR(sc_avro_str(v, "priority", NULL), e->priority);
        CHECK_INT(sc_avro_long(v, "created_at", -9), e->created_at);
        CHECK_INT(sc_avro_long(v, "due_at", -9), e->due_at);
        check_opt_long(v, "replied_at", e->replied_at);
        check_opt_long(v, "frt_s", e->frt_s);
        CHECK_OPT_STR(sc_avro_str(v, "url", NULL), e->url);
        CHECK_STR(sc_avro_str(v, "text", NULL), e->text);
        CHECK_INT(sc_avro_long(v, "emitted_at", -9), e->emitted_at);
}

static void check_sla_eq(const sc_sla_record_t *a, const sc_sla_record_t *b)
{
        CHECK_STR(a->event_id, b->event_id);
        CHECK_STR(a->kind, b->kind);
        CHECK_STR(a->post_event_id, b->post_event_id);
        CHECK_STR(a->brand, b->brand);
        CHECK_STR(a->platform, b->platform);
        CHECK_STR(a->post_id, b->post_id);
        CHECK_STR(a->team, b->team);
        CHECK_STR(a->priority, b->priority);
        CHECK_INT(a->created_at, b->created_at);
        CHECK_INT(a->due_at, b->due_at);
        CHECK_INT(a->replied_at.present, b->replied_at.present);
        CHECK_INT(a->replied_at.v, b->replied_at.v);
        CHECK_INT(a->frt_s.present, b->frt_s.present);
        CHECK_INT(a->frt_s.v, b->frt_s.v);
        CHECK_OPT_STR(a->url, b->url);
        CHECK_STR(a->text, b->text);
        CHECK_INT(a->emitted_at, b->emitted_at);
}

/* ---- bad frames ------------------------------------------------------------- */

typedef int (*decode_fn)(sc_avro_codec_t *c, const void *frame, size_t len,
                         sc_buf_t *scratch, void *out);

static int dec_post(sc_avro_codec_t *c, const void *f, size_t n, sc_buf_t *s, void *o)
{
        return sc_post_decode(c, f, n, s, o, err, sizeof(err));
}
static int dec_enriched(sc_avro_codec_t *c, const void *f, size_t n, sc_buf_t *s, void *o)
{
        return sc_enriched_decode(c, f, n, s, o, err, sizeof(err));
}
static int dec_routed(sc_avro_codec_t *c, const void *f, size_t n, sc_buf_t *s, void *o)
{
        return sc_routed_decode(c, f, n, s, o, err, sizeof(err));
}
static int dec_sla(sc_avro_codec_t *c, const void *f, size_t n, sc_buf_t *s, void *o)
{
        return sc_sla_event_decode(c, f, n, s, o, err, sizeof(err));
}

/* frame: a valid record of codec c. Every shorter prefix, a trailing byte and
 * another record's schema id are SC_REC_BAD with a reason; garbage after the
 * header never crashes (ASan watches the reads). */
static void check_bad_frames(sc_avro_codec_t *c, sc_avro_codec_t *other,
                             const sc_buf_t *frame, decode_fn dec, void *out)
{
        sc_buf_t b = SC_BUF_INIT, scratch = SC_BUF_INIT;
        for (size_t cut = 0; cut < frame->len; cut++) {
                sc_buf_reset(&b);
                sc_buf_append(&b, frame->data, cut);
                err[0] = '\0';
                CHECK_INT(dec(c, b.data, cut, &scratch, out), SC_REC_BAD);
                CHECK(err[0] != '\0');
        }
        sc_buf_reset(&b);
        sc_buf_append(&b, frame->data, frame->len);
        sc_buf_putc(&b, 'X');
        CHECK_INT(dec(c, b.data, b.len, &scratch, out), SC_REC_BAD);
        CHECK(strstr(err, "trailing"));
        b.data[0] = 1;
        CHECK_INT(dec(c, b.data, frame->len, &scratch, out), SC_REC_BAD);
        CHECK(strstr(err, "magic"));
        sc_buf_reset(&b);
        CHECK(sc_avro_frame_begin(other, &b) == 0);
        sc_buf_append(&b, frame->data + SC_AVRO_FRAME_HEADER,
                      frame->len - SC_AVRO_FRAME_HEADER);
        CHECK_INT(dec(c, b.data, b.len, &scratch, out), SC_REC_BAD);
        CHECK(strstr(err, "schema id"));
        /* Without a codec the id is not checked: the same body reads. */
        CHECK_INT(dec(NULL, b.data, b.len, &scratch, out), 0);
        srand(15);
        for (int i = 0; i < 3000; i++) {
                size_t len = SC_AVRO_FRAME_HEADER + (size_t)(rand() % 200);
                sc_buf_reset(&b);
                sc_buf_append(&b, frame->data, len < frame->len ? len : frame->len);
                while (b.len < len)
                        sc_buf_putc(&b, (char)rand());
                if (len > SC_AVRO_FRAME_HEADER)
                        b.data[SC_AVRO_FRAME_HEADER +
                               (size_t)rand() % (len - SC_AVRO_FRAME_HEADER)] ^=
                            (char)(1 + rand() % 255);
                int rc = dec(c, b.data, b.len, &scratch, out);
                CHECK(rc == 0 || rc == SC_REC_BAD || rc == SC_REC_MISSING);
                /* The direct reader accepts exactly what Avro-C accepts. */
                avro_value_t *v;
                char e2[256];
                CHECK_INT(rc == SC_REC_BAD,
                          sc_avro_decode(c, b.data, b.len, &v, e2, sizeof(e2)) != 0);
        }
        sc_buf_free(&b);
        sc_buf_free(&scratch);
}

/* ---- the round trips ---------------------------------------------------------- */

static void test_post(sc_avro_codec_t *pc, sc_avro_codec_t *other)
{
        sc_buf_t buf = SC_BUF_INIT, scratch = SC_BUF_INIT;
        sc_post_t out;
        for (int v = 0; v < 64; v++) {
                sc_post_t p = post_sample(v);
                CHECK(sc_post_to_avro(&p, sc_avro_codec_value(pc)) == 0);
                sc_buf_reset(&buf);
                CHECK(sc_avro_encode(pc, &buf, err, sizeof(err)) == 0);
                CHECK_INT(sc_post_decode(pc, buf.data, buf.len, &scratch, &out, err,
                                         sizeof(err)),
                          0);
                check_post_eq(&out, &p);
        }
        sc_post_t p = post_sample(0);
        p.author_id = "";
        sc_buf_reset(&buf);
        CHECK(sc_post_encode(&p, pc, &buf) == 0);
        CHECK_INT(sc_post_decode(pc, buf.data, buf.len, &scratch, &out, err, sizeof(err)),
                  SC_REC_MISSING);
        p = post_sample(63);
        sc_buf_reset(&buf);
        CHECK(sc_post_encode(&p, pc, &buf) == 0);
        check_bad_frames(pc, other, &buf, dec_post, &out);
        sc_buf_free(&buf);
        sc_buf_free(&scratch);
}

static void test_enriched(sc_avro_codec_t *ec, sc_avro_codec_t *other)
{
        sc_buf_t direct = SC_BUF_INIT, viac = SC_BUF_INIT, scratch = SC_BUF_INIT;
        sc_enriched_t out;
        for (int v = 0; v < 64; v++) {
                sc_enriched_t e = enriched_sample(v);
                /* direct writer -> Avro-C generic reader */
                sc_buf_reset(&direct);
                CHECK(sc_enriched_encode(&e, ec, &direct) == 0);
                avro_value_t *d;
                CHECK(sc_avro_decode(ec, direct.data, direct.len, &d, err, sizeof(err)) ==
                      0);
                check_enriched_value(d, &e);
                /* Avro-C writer -> direct reader; and the same bytes */
                enriched_to_avro(&e, sc_avro_codec_value(ec));
                sc_buf_reset(&viac);
                CHECK(sc_avro_encode(ec, &viac, err, sizeof(err)) == 0);
                CHECK_INT(viac.len, direct.len);
                CHECK(memcmp(viac.data, direct.data, direct.len) == 0);
                CHECK_INT(sc_enriched_decode(ec, viac.data, viac.len, &scratch, &out, err,
                                             sizeof(err)),
                          0);
                check_enriched_eq(&out, &e);
        }
        /* A name outside the vocabulary is skipped, more topics than kept too;
         * a post without a brand is SC_REC_MISSING. */
        sc_enriched_t e = enriched_sample(3);
        avro_value_t *v = sc_avro_codec_value(ec), arr, item;
        enriched_to_avro(&e, v);
        CHECK(sc_avro_get(v, "intents", &arr) == 0);
        CHECK(avro_value_append(&arr, &item, NULL) == 0);
        CHECK(sc_avro_set_str(&item, "name", "gratitude") == 0);
        CHECK(sc_avro_set_double(&item, "confidence", 1) == 0);
        CHECK(sc_avro_get(v, "topics", &arr) == 0);
        for (int i = 0; i < SC_MAX_TOPICS + 5; i++) {
                CHECK(avro_value_append(&arr, &item, NULL) == 0);
                CHECK(avro_value_set_string(&item, "t") == 0);
        }
        sc_buf_reset(&viac);
        CHECK(sc_avro_encode(ec, &viac, err, sizeof(err)) == 0);
        CHECK_INT(
            sc_enriched_decode(ec, viac.data, viac.len, &scratch, &out, err, sizeof(err)),
            0);
        CHECK_INT(out.intent_mask, e.intent_mask);
        CHECK_INT(out.topic_cnt, SC_MAX_TOPICS);
        CHECK_STR(out.topics[SC_MAX_TOPICS - 1], "t");
        e.post.brand = "";
        sc_buf_reset(&direct);
        CHECK(sc_enriched_encode(&e, ec, &direct) == 0);
        CHECK_INT(sc_enriched_decode(ec, direct.data, direct.len, &scratch, &out, err,
                                     sizeof(err)),
                  SC_REC_MISSING);
        CHECK(strstr(err, "post"));
        /* A warm scratch does not move: no allocation per record. */
        e = enriched_sample(5);
        sc_buf_reset(&direct);
        CHECK(sc_enriched_encode(&e, ec, &direct) == 0);
        CHECK(sc_enriched_decode(ec, direct.data, direct.len, &scratch, &out, err,
                                 sizeof(err)) == 0);
        const char *before = scratch.data;
        for (int i = 0; i < 100; i++)
                CHECK(sc_enriched_decode(ec, direct.data, direct.len, &scratch, &out, err,
                                         sizeof(err)) == 0);
        CHECK(scratch.data == before);
        check_bad_frames(ec, other, &direct, dec_enriched, &out);
        sc_buf_free(&direct);
        sc_buf_free(&viac);
        sc_buf_free(&scratch);
}

static void test_routed(sc_avro_codec_t *rc, sc_avro_codec_t *ec, sc_avro_codec_t *other)
{
        sc_buf_t direct = SC_BUF_INIT, viac = SC_BUF_INIT, scratch = SC_BUF_INIT;
        sc_routed_t out;
        for (int v = 0; v < 64; v++) {
                sc_routed_t r = routed_sample(v);
                sc_buf_reset(&direct);
                CHECK(sc_routed_encode(&r, rc, &direct) == 0);
                avro_value_t *d;
                CHECK(sc_avro_decode(rc, direct.data, direct.len, &d, err, sizeof(err)) ==
                      0);
                check_routed_value(d, &r);
                routed_to_avro(&r, sc_avro_codec_value(rc));
                sc_buf_reset(&viac);
                CHECK(sc_avro_encode(rc, &viac, err, sizeof(err)) == 0);
                CHECK_INT(viac.len, direct.len);
                CHECK(memcmp(viac.data, direct.data, direct.len) == 0);
                CHECK_INT(sc_routed_decode(rc, viac.data, viac.len, &scratch, &out, err,
                                           sizeof(err)),
                          0);
                check_routed_eq(&out, &r);
                /* route's way: an Enriched frame's body verbatim + the decision */
                sc_buf_t enr = SC_BUF_INIT;
                CHECK(sc_enriched_encode(&r.enriched, ec, &enr) == 0);
                sc_buf_reset(&viac);
                CHECK(sc_avro_frame_begin(rc, &viac) == 0);
                CHECK(sc_buf_append(&viac, enr.data + SC_AVRO_FRAME_HEADER,
                                    enr.len - SC_AVRO_FRAME_HEADER) == 0);
                CHECK(sc_routed_write_decision(&r, &viac) == 0);
                CHECK_INT(viac.len, direct.len);
                CHECK(memcmp(viac.data, direct.data, direct.len) == 0);
                sc_buf_free(&enr);
        }
        check_bad_frames(rc, other, &direct, dec_routed, &out);
        sc_buf_free(&direct);
        sc_buf_free(&viac);
        sc_buf_free(&scratch);
}

static void test_sla(sc_avro_codec_t *sc, sc_avro_codec_t *other)
{
        sc_buf_t direct = SC_BUF_INIT, viac = SC_BUF_INIT, scratch = SC_BUF_INIT;
        sc_sla_record_t out;
        for (int v = 0; v < 64; v++) {
                sc_sla_record_t e = sla_sample(v);
                sc_buf_reset(&direct);
                CHECK(sc_sla_event_encode(&e, sc, &direct) == 0);
                avro_value_t *d;
                CHECK(sc_avro_decode(sc, direct.data, direct.len, &d, err, sizeof(err)) ==
                      0);
                check_sla_value(d, &e);
                sla_to_avro(&e, sc_avro_codec_value(sc));
                sc_buf_reset(&viac);
                CHECK(sc_avro_encode(sc, &viac, err, sizeof(err)) == 0);
                CHECK_INT(viac.len, direct.len);
                CHECK(memcmp(viac.data, direct.data, direct.len) == 0);
                CHECK_INT(sc_sla_event_decode(sc, viac.data, viac.len, &scratch, &out,
                                              err, sizeof(err)),
                          0);
                check_sla_eq(&out, &e);
        }
        sc_sla_record_t e = sla_sample(0);
        e.brand = "";
        sc_buf_reset(&direct);
        CHECK(sc_sla_event_encode(&e, sc, &direct) == 0);
        CHECK_INT(sc_sla_event_decode(sc, direct.data, direct.len, &scratch, &out, err,
                                      sizeof(err)),
                  SC_REC_MISSING);
        e = sla_sample(4);
        sc_buf_reset(&direct);
        CHECK(sc_sla_event_encode(&e, sc, &direct) == 0);
        check_bad_frames(sc, other, &direct, dec_sla, &out);
        sc_buf_free(&direct);
        sc_buf_free(&viac);
        sc_buf_free(&scratch);
}

int main(void)
{
        sc_avro_t *a = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        CHECK(a != NULL);
        sc_avro_codec_t *pc = sc_avro_codec(a, "Post", NULL, err, sizeof(err));
        sc_avro_codec_t *ec = sc_avro_codec(a, "Enriched", NULL, err, sizeof(err));
        sc_avro_codec_t *rc = sc_avro_codec(a, "Routed", NULL, err, sizeof(err));
        sc_avro_codec_t *sc = sc_avro_codec(a, "SlaEvent", NULL, err, sizeof(err));
        CHECK(pc && ec && rc && sc);
        test_post(pc, sc);
        test_enriched(ec, pc);
        test_routed(rc, ec, ec);
        test_sla(sc, rc);
        sc_avro_destroy(a);
        TEST_DONE();
}
