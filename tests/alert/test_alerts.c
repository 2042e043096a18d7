/* sc_alerts: the direct Enriched reader against Avro-C's decoder (and every
 * truncation of a frame), Alert Avro/JSON/Slack encodings, and the targets
 * of the alert: section (errors with line numbers, matching). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alerts.h"
#include "sc_json.h"
#include "sc_test.h"
#include "sc_utf8.h"
#include "sc_yaml.h"

static sc_avro_codec_t *enr;

static void frame(sc_buf_t *o, const sc_post_t *p, const char *label, int nintents,
                  double crisis, int ntopics)
{
        static const char *topics[] = {"internet", "billing", "mobile"};
        sc_buf_reset(o);
        CHECK(sc_avro_frame_begin(enr, o) == 0 && sc_post_write(p, o) == 0);
        sc_avro_w_str(o, "v1", 2);
        sc_avro_w_str(o, "pl", 2);
        sc_avro_w_str(o, label, strlen(label));
        sc_avro_w_double(o, -0.7);
        sc_avro_w_array_begin(o, (size_t)nintents);
        for (int i = 0; i < nintents; i++) {
                const char *n = i == 1 ? "crisis" : "complaint";
                sc_avro_w_str(o, n, strlen(n));
                sc_avro_w_double(o, i == 1 ? crisis : 0.4);
        }
        sc_avro_w_array_end(o);
        sc_avro_w_array_begin(o, (size_t)ntopics);
        for (int i = 0; i < ntopics; i++)
                sc_avro_w_str(o, topics[i], strlen(topics[i]));
        sc_avro_w_array_end(o);
        sc_avro_w_long(o, p->author_followers);
        sc_avro_w_str(o, "urgent", 6);
        sc_avro_w_double(o, 0.9);
        sc_avro_w_bool(o, 1);
        sc_avro_w_long(o, p->created_at + 5);
}

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_reader(void)
{
        char err[256];
        sc_buf_t o = SC_BUF_INIT, scratch = SC_BUF_INIT;
        sc_post_t posts[] = {
            {.event_id = "x:1",
             .brand = "telko",
             .platform = "x",
             .post_id = "1",
             .author_id = "42",
             .author_followers = 123456,
             .text = "zażółć gęślą jaźń",
             .text_len = strlen("zażółć gęślą jaźń"),
             .created_at = 1763632800000LL,
             .received_at = 1763632801000LL},
            {.event_id = "fb:9",
             .brand = "bankowo",
             .platform = "facebook",
             .post_id = "9",
             .parent_id = "8",
             .thread_id = "7",
             .author_id = "5",
             .author_handle = "ann",
             .author_verified = 1,
             .is_brand = 1,
             .text = "",
             .text_len = 0,
             .lang_hint = "en",
             .url = "https://fb.com/9",
             .rating = 2,
             .created_at = -5,
             .received_at = 0},
        };
        for (int k = 0; k < 2; k++) {
                for (int shape = 0; shape < 3; shape++) {
                        const sc_post_t *p = &posts[k];
                        frame(&o, p, shape ? "negative" : "neutral", shape, 0.75, shape);
                        avro_value_t *v;
                        sc_enriched_view_t a, b;
                        CHECK(sc_avro_decode(enr, o.data, o.len, &v, err, sizeof(err)) ==
                              0);
                        CHECK(sc_enriched_view(v, &a) == 0);
                        CHECK(sc_enriched_read(o.data, o.len, &scratch, &b) == 0);
                        CHECK(same(a.post.event_id, b.post.event_id));
                        CHECK(same(a.post.brand, b.post.brand));
                        CHECK(same(a.post.platform, b.post.platform));
                        CHECK(same(a.post.post_id, b.post.post_id));
                        CHECK(same(a.post.parent_id, b.post.parent_id));
                        CHECK(same(a.post.thread_id, b.post.thread_id));
                        CHECK(same(a.post.author_id, b.post.author_id));
                        CHECK(same(a.post.author_handle, b.post.author_handle));
                        CHECK(same(a.post.lang_hint, b.post.lang_hint));
                        CHECK(same(a.post.url, b.post.url));
                        CHECK(same(a.post.text, b.post.text));
                        CHECK_INT(a.post.text_len, b.post.text_len);
                        CHECK_INT(a.post.author_followers, b.post.author_followers);
                        CHECK_INT(a.post.author_verified, b.post.author_verified);
                        CHECK_INT(a.post.is_brand, b.post.is_brand);
                        CHECK_INT(a.post.rating, b.post.rating);
                        CHECK_INT(a.post.created_at, b.post.created_at);
                        CHECK_INT(a.post.received_at, b.post.received_at);
                        CHECK(same(a.sentiment, b.sentiment));
                        CHECK(a.crisis == b.crisis);
                        CHECK(b.crisis == (shape >= 2 ? 0.75 : 0));
                        CHECK_INT(a.topic_cnt, b.topic_cnt);
                        CHECK_INT(b.topic_cnt, shape);
                        for (size_t t = 0; t < a.topic_cnt; t++)
                                CHECK(same(a.topics[t], b.topics[t]));
                        /* Every truncation and any trailing byte is refused. */
                        for (size_t n = 0; n < o.len; n++)
                                CHECK(sc_enriched_read(o.data, n, &scratch, &b) == -1);
                        sc_buf_putc(&o, 0);
                        CHECK(sc_enriched_read(o.data, o.len, &scratch, &b) == -1);
                }
        }
        sc_buf_free(&o);
        sc_buf_free(&scratch);
}

static void check_encodings(sc_avro_t *avro)
{
        char err[256];
        sc_avro_codec_t *ac = sc_avro_codec(avro, "Alert", NULL, err, sizeof(err));
        CHECK(ac != NULL);
        const char *ids[] = {"x:1", "x:\"2\""};
        sc_alert_t a = {.kind = SC_ALERT_SPIKE,
                        .severity = SC_SEV_CRITICAL,
                        .id = "spike:telko:internet:1763631960000",
                        .brand = "telko",
                        .topic = "internet",
                        .title = "Negative spike for telko / internet",
                        .summary = "12 posts \"in\" 15 min\nnew line",
                        .window_start = 1763631960000LL,
                        .window_end = 1763632860000LL,
                        .count = 12,
                        .baseline_mean = 1.5,
                        .baseline_stddev = 1.25,
                        .post_ids = ids,
                        .post_id_cnt = 2,
                        .created_at = 1763632900000LL};
        sc_buf_t o = SC_BUF_INIT;
        CHECK(sc_alert_encode(&a, ac, &o) == 0);
        avro_value_t *v;
        CHECK(sc_avro_decode(ac, o.data, o.len, &v, err, sizeof(err)) == 0);
        CHECK_STR(sc_avro_str(v, "alert_id", NULL), a.id);
        CHECK_STR(sc_avro_str(v, "kind", NULL), "spike");
        CHECK_STR(sc_avro_str(v, "severity", NULL), "critical");
        CHECK_STR(sc_avro_str(v, "topic", NULL), "internet");
        CHECK_INT(sc_avro_long(v, "window_start", 0), a.window_start);
        CHECK_INT(sc_avro_long(v, "count", 0), 12);
        CHECK(sc_avro_double(v, "baseline_stddev", 0) == 1.25);
        CHECK(sc_avro_str(v, "url", NULL) == NULL);
        CHECK_INT(sc_avro_long(v, "created_at", 0), a.created_at);

        sc_json_t *jp = sc_json_new(16);
        sc_buf_reset(&o);
        CHECK(sc_alert_json(&a, &o) == 0);
        const sc_jv_t *j = sc_json_parse(jp, o.data, o.len, err, sizeof(err));
        CHECK(j != NULL);
        CHECK_STR(sc_json_str(sc_json_get(j, "id")), a.id);
        CHECK_STR(sc_json_str(sc_json_get(j, "summary")), a.summary);
        CHECK_STR(sc_json_str(sc_json_get(sc_json_get(j, "window"), "start")),
                  "2025-11-20T09:46:00.000Z");
        CHECK_STR(sc_json_str(sc_json_at(sc_json_get(j, "post_event_ids"), 1)),
                  "x:\"2\"");
        CHECK(sc_json_get(j, "url")->type == SC_JSON_NULL);
        sc_buf_reset(&o);
        CHECK(sc_alert_slack(&a, &o) == 0);
        j = sc_json_parse(jp, o.data, o.len, err, sizeof(err));
        CHECK(j != NULL);
        CHECK(strstr(sc_json_str(sc_json_get(j, "text")), a.title) != NULL);
        CHECK_STR(
            sc_json_str(sc_json_get(sc_json_at(sc_json_get(j, "blocks"), 0), "type")),
            "header");
        CHECK_STR(sc_json_str(sc_json_get(sc_json_get(j, "socialcare"), "kind")),
                  "spike");
        sc_json_destroy(jp);
        sc_buf_free(&o);
}

static int parse(const char *yaml, sc_alert_target_t **t, size_t *n, char *err, size_t es)
{
        sc_yaml_t *y = sc_yaml_load_string(yaml, strlen(yaml), "t.yaml", err, es);
        CHECK(y != NULL);
        int rc = sc_alert_targets_parse(sc_yaml_root(y), "t.yaml", t, n, err, es);
        sc_yaml_destroy(y);
        return rc;
}

static void check_targets(void)
{
        char err[512];
        sc_alert_target_t *t;
        size_t n;
        setenv("SC_TEST_HOOK_SECRET", "from-env", 1);
        CHECK(parse("alert:\n"
                    "  targets:\n"
                    "    - id: a\n"
                    "      url: https://example.com/a\n"
                    "      secret_env: SC_TEST_HOOK_SECRET\n"
                    "      format: slack\n"
                    "      kinds: [spike, crisis_post]\n"
                    "      brands: [telko]\n"
                    "      min_severity: critical\n"
                    "      timeout: 2s\n"
                    "      max_attempts: 3\n"
                    "      max_age: 10m\n"
                    "      backoff: 250ms\n"
                    "      concurrency: 2\n"
                    "    - id: b\n"
                    "      url: http://127.0.0.1:9/b\n",
                    &t, &n, err, sizeof(err)) == 0);
        CHECK_INT(n, 2);
        CHECK_STR(t[0].secret, "from-env");
        CHECK_INT(t[0].format, SC_FORMAT_SLACK);
        CHECK_INT(t[0].wh.timeout_ms, 2000);
        CHECK_INT(t[0].wh.max_attempts, 3);
        CHECK_INT(t[0].wh.max_age_ms, 600000);
        CHECK_INT(t[0].wh.backoff_base_ms, 250);
        CHECK_INT(t[0].wh.concurrency, 2);
        CHECK_STR(t[1].secret, "");
        CHECK_INT(t[1].format, SC_FORMAT_JSON);
        sc_alert_t a = {
            .kind = SC_ALERT_SPIKE, .severity = SC_SEV_CRITICAL, .brand = "telko"};
        CHECK(sc_alert_target_matches(&t[0], &a) && sc_alert_target_matches(&t[1], &a));
        a.brand = "bankowo";
        CHECK(!sc_alert_target_matches(&t[0], &a) && sc_alert_target_matches(&t[1], &a));
        a.brand = "telko";
        a.kind = SC_ALERT_SLA_BREACH;
        a.severity = SC_SEV_WARNING;
        CHECK(!sc_alert_target_matches(&t[0], &a));
        a.kind = SC_ALERT_CRISIS_POST;
        CHECK(!sc_alert_target_matches(&t[0], &a)); /* below min_severity */
        sc_alert_targets_free(t, n);

        CHECK(parse("alert: {tick_ms: 50}\n", &t, &n, err, sizeof(err)) == 0 && n == 0);
        static const struct {
                const char *yaml, *want;
        } bad[] = {
            {"alert:\n  targets:\n    - id: a\n      url: http://x/\n      colour: red\n",
             "t.yaml:5: alert.targets: unknown key 'colour'"},
            {"alert:\n  targets:\n    - id: a\n      url: http://x/\n      kinds: "
             "[spik]\n",
             "t.yaml:5: alert.targets: unknown alert kind 'spik'"},
            {"alert:\n  targets:\n    - id: a\n      url: ftp://x/\n",
             "t.yaml:3: alert.targets: target a needs an http:// or https:// url"},
            {"alert:\n  targets:\n    - id: a\n      url: http://x/\n      secret_env: "
             "SC_NOT_SET_ANYWHERE\n",
             "t.yaml:3: alert.targets: secret_env SC_NOT_SET_ANYWHERE is not set in the "
             "environment"},
            {"alert:\n  targets:\n    - id: a\n      url: http://x/\n    - id: a\n      "
             "url: http://y/\n",
             "t.yaml:5: alert.targets: duplicate target id 'a'"},
            {"alert:\n  targets:\n    - id: a\n      url: http://x/\n      timeout: "
             "soon\n",
             "t.yaml:5: alert.targets: bad timeout 'soon'"},
            {"alert:\n  targets: yes\n", "t.yaml:2: alert.targets: must be a list"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                CHECK(parse(bad[i].yaml, &t, &n, err, sizeof(err)) == -1);
                CHECK_STR(err, bad[i].want);
        }
}

/* A hostile intents block: count = INT64_MIN (zigzag varint FF x9 01),
 * whose negation is UB; a negative block size. The rest of the record is
 * well-formed, so only the block header can make the reader refuse it (the
 * worker dead-letters what the reader refuses). */
static void check_hostile_blocks(void)
{
        sc_post_t p = {.event_id = "x:h",
                       .brand = "telko",
                       .platform = "x",
                       .post_id = "h",
                       .author_id = "1",
                       .text = "t",
                       .text_len = 1,
                       .created_at = 1763632800000LL};
        sc_buf_t o = SC_BUF_INIT, scratch = SC_BUF_INIT;
        for (int shape = 0; shape < 2; shape++) {
                sc_buf_reset(&o);
                CHECK(sc_avro_frame_begin(enr, &o) == 0 && sc_post_write(&p, &o) == 0);
                sc_avro_w_str(&o, "v1", 2);
                sc_avro_w_str(&o, "pl", 2);
                sc_avro_w_str(&o, "negative", 8);
                sc_avro_w_double(&o, -0.7);
                if (shape == 0) {
                        static const unsigned char min[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                                            0xff, 0xff, 0xff, 0xff, 0x01};
                        sc_buf_append(&o, min, sizeof(min));
                        sc_avro_w_long(&o, 0); /* block size */
                } else {
                        sc_avro_w_long(&o, -1); /* one item, */
                        sc_avro_w_long(&o, -1); /* of -1 bytes */
                        sc_avro_w_str(&o, "crisis", 6);
                        sc_avro_w_double(&o, 0.9);
                        sc_avro_w_long(&o, 0);
                }
                sc_avro_w_array_begin(&o, 0); /* topics */
                sc_avro_w_array_end(&o);
                sc_avro_w_long(&o, 0);
                sc_avro_w_str(&o, "low", 3);
                sc_avro_w_double(&o, 0.1);
                sc_avro_w_bool(&o, 0);
                sc_avro_w_long(&o, p.created_at);
                sc_enriched_view_t v;
                CHECK_INT(sc_enriched_read(o.data, o.len, &scratch, &v), -1);
        }
        sc_buf_free(&o);
        sc_buf_free(&scratch);
}

/* What the engine relies on: a post without its ids is read (missing_field,
 * not bad_avro), an empty parent id is none, and a post counts toward at
 * most SC_ALERT_MAX_TOPICS topics. */
static void check_missing_and_topics(void)
{
        sc_post_t p = {.event_id = "x:m",
                       .brand = "telko",
                       .platform = "x",
                       .post_id = "m",
                       .parent_id = "",
                       .author_id = "",
                       .text = "t",
                       .text_len = 1,
                       .created_at = 1763632800000LL};
        sc_buf_t o = SC_BUF_INIT, scratch = SC_BUF_INIT;
        CHECK(sc_avro_frame_begin(enr, &o) == 0 && sc_post_write(&p, &o) == 0);
        sc_avro_w_str(&o, "v1", 2);
        sc_avro_w_str(&o, "pl", 2);
        sc_avro_w_str(&o, "negative", 8);
        sc_avro_w_double(&o, -0.7);
        sc_avro_w_array_begin(&o, 0); /* intents */
        sc_avro_w_array_end(&o);
        sc_avro_w_array_begin(&o, SC_ALERT_MAX_TOPICS + 4);
        char t[8];
        for (int i = 0; i < SC_ALERT_MAX_TOPICS + 4; i++) {
                int n = snprintf(t, sizeof(t), "t%d", i);
                sc_avro_w_str(&o, t, (size_t)n);
        }
        sc_avro_w_array_end(&o);
        sc_avro_w_long(&o, 0);
        sc_avro_w_str(&o, "low", 3);
        sc_avro_w_double(&o, 0.1);
        sc_avro_w_bool(&o, 0);
        sc_avro_w_long(&o, p.created_at);
        sc_enriched_view_t v;
        CHECK_INT(sc_enriched_read(o.data, o.len, &scratch, &v), 0);
        CHECK(same(sc_post_missing(&v.post), "author.id"));
        CHECK(v.post.parent_id == NULL);
        CHECK(same(v.sentiment, "negative"));
        CHECK(v.crisis == 0);
        CHECK_INT(v.topic_cnt, SC_ALERT_MAX_TOPICS);
        CHECK(same(v.topics[0], "t0"));
        snprintf(t, sizeof(t), "t%d", SC_ALERT_MAX_TOPICS - 1);
        CHECK(same(v.topics[SC_ALERT_MAX_TOPICS - 1], t));
        sc_buf_free(&o);
        sc_buf_free(&scratch);
}

/* Slack header text cut on a UTF-8 boundary; the crisis predicate. */
static void check_cuts(void)
{
        char title[200];
        memset(title, 'a', 139);
        snprintf(title + 139, sizeof(title) - 139, "żółw and more text");
        sc_alert_t a = {.kind = SC_ALERT_CRISIS_POST,
                        .severity = SC_SEV_CRITICAL,
                        .id = "crisis_post:x:1",
                        .brand = "telko",
                        .title = title,
                        .summary = "s",
                        .count = 1};
        sc_buf_t o = SC_BUF_INIT;
        CHECK(sc_alert_slack(&a, &o) == 0);
        const char *h = strstr(o.data, "\"plain_text\",\"text\":\"");
        CHECK(h != NULL);
        h += strlen("\"plain_text\",\"text\":\"");
        CHECK(strncmp(h, title, 139) == 0);
        CHECK(h[139] == '"'); /* not the first byte of 'ż' */
        sc_buf_free(&o);
        CHECK_INT(sc_utf8_truncate("aż", 3, 2), 1);
        CHECK_INT(sc_utf8_truncate("aż", 3, 3), 3);
        CHECK_INT(sc_utf8_truncate("ab", 2, 1), 1);
        CHECK(!sc_alert_is_crisis(0, 0)); /* min_confidence 0: not every post */
        CHECK(sc_alert_is_crisis(0.5, 0.5));
        CHECK(!sc_alert_is_crisis(0.4, 0.5));
        CHECK(sc_alert_is_crisis(0.01, 0));
}

int main(void)
{
        char err[256];
        sc_avro_t *avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        CHECK(avro != NULL);
        enr = sc_avro_codec(avro, "Enriched", NULL, err, sizeof(err));
        CHECK(enr != NULL);
        check_reader();
        check_hostile_blocks();
        check_missing_and_topics();
        check_cuts();
        check_encodings(avro);
        check_targets();
        sc_avro_destroy(avro);
        TEST_DONE();
}
