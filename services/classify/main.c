/* socialcare-classify: Avro Post (social.posts) -> Avro Enriched
 * (social.posts.enriched): language, sentiment, intents, brand topics,
 * reach, priority and needs_reply. Stateless: no Redis. SIGHUP reloads the
 * data files, the model and the brands' topics; a bad file keeps the
 * running set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_avro.h"
#include "sc_classify.h"
#include "sc_enriched.h"
#include "sc_log.h"
#include "sc_post.h"
#include "sc_time.h"
#include "sc_worker.h"

static const sc_conf_def_t classify_defs[] = {
    {"classify.output_topic", SC_CONF_STR, "social.posts.enriched", 1, 0,
     "topic of Avro Enriched records"},
    {"classify.data_dir", SC_CONF_STR, SC_CLASSIFY_DEFAULT_DATA_DIR, 1, 0,
     "folder of the lexicon and rule files (reloaded on SIGHUP)"},
    {"classify.model", SC_CONF_STR, SC_CLASSIFY_DEFAULT_MODEL, 1, 0,
     "trained model file (services/classify/MODEL.md), reloaded on SIGHUP; empty: "
     "rules only"},
    {"classify.max_text_bytes", SC_CONF_INT, "10000", 64, 1048576,
     "longest text looked at; a longer text is classified on its head"},
    SC_CONF_END,
};

typedef struct classify_s {
        const char *output_topic;
        sc_avro_codec_t *in, *out;
        sc_classifier_t *classifier;
        sc_topics_t *topics;
        sc_classify_t *cl;
        sc_buf_t payload;
        sc_buf_t scratch_in;    /* the input Post's strings, valid for its message */
        sc_enriched_t enriched; /* the record being written, reused */
        sc_counter_t *posts_total, *intent_total[SC_INTENT_CNT];
        sc_counter_t *lang_total[SC_LANG_CNT];
        sc_counter_t *sentiment_total[SC_LABEL_CNT];
} classify_t;

/* The rules of classify.data_dir plus the model of classify.model (when
 * set): both load or nothing does, so a reload keeps the running pair. */
static sc_classifier_t *load_classifier(const sc_config_t *c, char *errstr,
                                        size_t errstr_size)
{
        sc_classifier_t *cls = sc_classifier_load(sc_config_str(c, "classify.data_dir"),
                                                  errstr, errstr_size);
        const char *model = sc_config_str(c, "classify.model");
        if (cls && model && *model &&
            sc_classifier_load_model(cls, model, errstr, errstr_size)) {
                sc_classifier_destroy(cls);
                return NULL;
        }
        return cls;
}

static int classify_init(sc_worker_t *w, void **statep, char *errstr, size_t errstr_size)
{
        const sc_config_t *c = sc_worker_config(w);
        classify_t *s = sc_calloc(1, sizeof(*s));
        *statep = s;
        s->output_topic = sc_config_str(c, "classify.output_topic");
        char subject[300];
        snprintf(subject, sizeof(subject), "%s-value", s->output_topic);
        s->in = sc_avro_codec(sc_worker_avro(w), "Post", NULL, errstr, errstr_size);
        s->out = s->in ? sc_avro_codec(sc_worker_avro(w), "Enriched", subject, errstr,
                                       errstr_size)
                       : NULL;
        if (!s->out)
                return -1;
        s->classifier = load_classifier(c, errstr, errstr_size);
        if (!s->classifier)
                return -1;
        s->topics = sc_topics_new(sc_worker_brands(w), errstr, errstr_size);
        if (!s->topics)
                return -1;
        s->cl = sc_classify_new((size_t)sc_config_int(c, "classify.max_text_bytes"));
        if (!s->cl)
                return -1;
        sc_log(SC_LOG_INFO, "classifier %s: %s", sc_classifier_version(s->classifier),
               sc_classifier_summary(s->classifier));
        sc_metrics_t *m = sc_worker_metrics(w);
        s->posts_total = sc_metrics_counter(m, "socialcare_classify_posts_total",
                                            "Posts classified", NULL);
        for (int i = 0; i < SC_LANG_CNT; i++) {
                char labels[64];
                snprintf(labels, sizeof(labels), "language=\"%s\"", sc_lang_name(i));
                s->lang_total[i] =
                    sc_metrics_counter(m, "socialcare_classify_language_total",
                                       "Posts by detected language", labels);
        }
        for (int i = 0; i < SC_LABEL_CNT; i++) {
                char labels[64];
                snprintf(labels, sizeof(labels), "label=\"%s\"", sc_label_name(i));
                s->sentiment_total[i] =
                    sc_metrics_counter(m, "socialcare_classify_sentiment_total",
                                       "Posts by sentiment label", labels);
        }
        for (int k = 0; k < SC_INTENT_CNT; k++) {
                char labels[64];
                snprintf(labels, sizeof(labels), "intent=\"%s\"", sc_intent_name(k));
                s->intent_total[k] = sc_metrics_counter(
                    m, "socialcare_classify_intents_total", "Posts by intent", labels);
        }
        return 0;
}

/* The Enriched record of p and its classification. */
static int encode(classify_t *s, const sc_post_t *p, const sc_classification_t *r,
                  const char **topics, size_t topic_cnt, int64_t now)
{
        sc_enriched_t *e = &s->enriched;
        e->post = *p;
        e->classifier_version = sc_classifier_version(s->classifier);
        e->language = r->lang;
        e->label = r->label;
        e->score = r->score;
        e->intent_mask = r->intent_mask;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                e->intent[k] = r->intent[k];
        e->topic_cnt = topic_cnt;
        for (size_t i = 0; i < topic_cnt; i++) {
                e->topics[i] = topics[i];
                e->topic_lens[i] = strlen(topics[i]);
        }
        e->reach = p->author_followers;
        e->priority_score = sc_classify_priority(r, p->author_followers,
                                                 p->author_verified, &e->priority);
        e->needs_reply = sc_classify_needs_reply(r, p->is_brand);
        e->classified_at = now;
        return sc_enriched_encode(e, s->out, &s->payload);
}

static int classify_process(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n)
{
        classify_t *s = state;
        int64_t now = sc_now_ms();
        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = msgs[i].rkm;
                char err[256];
                sc_post_t p;
                int rc = sc_post_decode(s->in, rkm->payload, rkm->len, &s->scratch_in, &p,
                                        err, sizeof(err));
                if (rc && rc != SC_REC_MISSING) {
                        if (sc_worker_dead_letter(w, &msgs[i], "bad_avro", err))
                                return SC_FATAL;
                        continue;
                }
                if (rc) {
                        if (sc_worker_dead_letter(
                                w, &msgs[i], "missing_field",
                                "Post without event_id, brand, platform, "
                                "post_id or text"))
                                return SC_FATAL;
                        continue;
                }
                sc_classification_t r;
                if (sc_classify_text(s->cl, s->classifier, p.text, p.text_len,
                                     p.lang_hint, &r, NULL)) {
                        if (sc_worker_dead_letter(w, &msgs[i], "invalid_utf8",
                                                  "post text is not valid UTF-8"))
                                return SC_FATAL;
                        continue;
                }
                const char *topics[SC_MAX_TOPICS];
                size_t topic_cnt =
                    sc_classify_topics(s->cl, s->topics, p.brand, topics, SC_MAX_TOPICS);
                sc_buf_reset(&s->payload);
                if (encode(s, &p, &r, topics, topic_cnt, now)) {
                        if (sc_worker_dead_letter(w, &msgs[i], "encode_error",
                                                  "out of memory encoding Enriched"))
                                return SC_FATAL;
                        continue;
                }
                if (sc_worker_produce(w, &msgs[i], s->output_topic, p.brand,
                                      strlen(p.brand), s->payload.data, s->payload.len,
                                      NULL) == -1) {
                        if (sc_worker_dead_letter(w, &msgs[i], "produce_error",
                                                  sc_worker_errstr(w)))
                                return SC_FATAL;
                        continue;
                }
                sc_counter_add(s->posts_total, 1);
                int lang = sc_lang_parse(r.lang, strlen(r.lang));
                sc_counter_add(s->lang_total[lang < 0 ? SC_LANG_UND : lang], 1);
                for (int k = 0; k < SC_INTENT_CNT; k++)
                        if ((r.intent_mask >> k) & 1)
                                sc_counter_add(s->intent_total[k], 1);
                int label = sc_label_parse(r.label, strlen(r.label));
                if (label >= 0)
                        sc_counter_add(s->sentiment_total[label], 1);
        }
        return SC_OK;
}

static int classify_reload(sc_worker_t *w, void *state, const sc_config_t *c,
                           char *errstr, size_t errstr_size)
{
        classify_t *s = state;
        sc_classifier_t *nc = load_classifier(c, errstr, errstr_size);
        if (!nc)
                return -1;
        sc_topics_t *nt = sc_topics_new(sc_worker_brands(w), errstr, errstr_size);
        if (!nt) {
                sc_classifier_destroy(nc);
                return -1;
        }
        sc_classifier_destroy(s->classifier);
        sc_topics_destroy(s->topics);
        s->classifier = nc;
        s->topics = nt;
        sc_log(SC_LOG_INFO, "classifier reloaded: %s: %s", sc_classifier_version(nc),
               sc_classifier_summary(nc));
        return 0;
}

static int classify_check(const sc_config_t *c, char *errstr, size_t errstr_size)
{
        sc_classifier_t *cls = load_classifier(c, errstr, errstr_size);
        sc_classifier_destroy(cls);
        return cls ? 0 : -1;
}

static void classify_destroy(void *state)
{
        classify_t *s = state;
        if (!s)
                return;
        sc_classifier_destroy(s->classifier);
        sc_topics_destroy(s->topics);
        sc_classify_destroy(s->cl);
        sc_buf_free(&s->payload);
        sc_buf_free(&s->scratch_in);
        free(s);
}

static const sc_worker_ops_t ops = {
    .name = "classify",
    .description = "Avro posts -> language, sentiment, intents, topics, priority",
    .input_topics = "social.posts",
    .conf_defs = classify_defs,
    .init = classify_init,
    .process = classify_process,
    .reload = classify_reload,
    .destroy = classify_destroy,
    .check_config = classify_check,
    .dlq_reasons = "bad_avro,missing_field,invalid_utf8,encode_error,produce_error",
};

int main(int argc, char **argv)
{
        return sc_worker_main(argc, argv, &ops);
}
