#include "sc_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_enriched.h"
#include "sc_time.h"
#include "sc_utf8.h"
#include "sc_vocab.h"

static void j_str(sc_buf_t *o, const char *s)
{
        if (s)
                sc_buf_json_str(o, s, strlen(s));
        else
                sc_buf_puts(o, "null");
}

static void j_time(sc_buf_t *o, int64_t ms)
{
        char t[32];
        if (!ms) {
                sc_buf_puts(o, "null");
                return;
        }
        sc_time_format(ms, t);
        j_str(o, t);
}

int sc_alert_json(const sc_alert_t *a, sc_buf_t *o)
{
        sc_buf_puts(o, "{\"id\":");
        j_str(o, a->id);
        sc_buf_puts(o, ",\"kind\":");
        j_str(o, sc_alert_kind_name(a->kind));
        sc_buf_puts(o, ",\"severity\":");
        j_str(o, sc_alert_severity_name(a->severity));
        sc_buf_puts(o, ",\"brand\":");
        j_str(o, a->brand);
        sc_buf_puts(o, ",\"topic\":");
        j_str(o, a->topic);
        sc_buf_puts(o, ",\"title\":");
        j_str(o, a->title);
        sc_buf_puts(o, ",\"summary\":");
        j_str(o, a->summary);
        sc_buf_puts(o, ",\"window\":");
        if (a->window_start) {
                sc_buf_puts(o, "{\"start\":");
                j_time(o, a->window_start);
                sc_buf_puts(o, ",\"end\":");
                j_time(o, a->window_end);
                sc_buf_puts(o, "}");
        } else {
                sc_buf_puts(o, "null");
        }
        sc_buf_printf(o, ",\"count\":%lld,\"baseline\":{\"mean\":%.3f,\"stddev\":%.3f}",
                      (long long)a->count, a->baseline_mean, a->baseline_stddev);
        sc_buf_puts(o, ",\"post_event_ids\":[");
        for (size_t i = 0; i < a->post_id_cnt; i++) {
                if (i)
                        sc_buf_putc(o, ',');
                j_str(o, a->post_ids[i]);
        }
        sc_buf_puts(o, "],\"url\":");
        j_str(o, a->url);
        sc_buf_puts(o, ",\"created_at\":");
        j_time(o, a->created_at);
        return sc_buf_puts(o, "}");
}

int sc_alert_is_crisis(double confidence, double min_confidence)
{
        return confidence > 0 && confidence >= min_confidence;
}

int sc_alert_slack(const sc_alert_t *a, sc_buf_t *o)
{
        static const char *const icon[SC_SEV_CNT] = {
            ":information_source:", ":warning:", ":rotating_light:"};
        int sev = a->severity >= 0 && a->severity < SC_SEV_CNT ? a->severity : 0;
        sc_buf_t t = SC_BUF_INIT;
        sc_buf_printf(&t, "%s [%s] %s", icon[sev], sc_alert_severity_name(sev),
                      a->title ? a->title : "");
        sc_buf_puts(o, "{\"text\":");
        j_str(o, t.data);
        sc_buf_puts(o,
                    ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
                    "\"text\":");
        /* Slack caps header text at 150 characters; cut on a UTF-8 boundary
         * (invalid UTF-8 is a 4xx, parked for good). */
        sc_buf_reset(&t);
        const char *title = a->title ? a->title : "";
        sc_buf_append(&t, title, sc_utf8_truncate(title, strlen(title), 140));
        sc_buf_putc(&t, '\0');
        j_str(o, t.data);
        sc_buf_puts(o,
                    "}},{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
        sc_buf_reset(&t);
        sc_buf_printf(&t, "%s", a->summary ? a->summary : "");
        if (a->url)
                sc_buf_printf(&t, "\n<%s|Open the post>", a->url);
        j_str(o, t.data);
        sc_buf_puts(o, "}},{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\","
                       "\"text\":");
        sc_buf_reset(&t);
        sc_buf_printf(&t, "%s · brand *%s*%s%s · alert `%s`", sc_alert_kind_name(a->kind),
                      a->brand ? a->brand : "", a->topic ? " · topic " : "",
                      a->topic ? a->topic : "", a->id ? a->id : "");
        j_str(o, t.data);
        sc_buf_free(&t);
        sc_buf_puts(o, "}]}],\"socialcare\":");
        return sc_alert_json(a, o) || sc_buf_puts(o, "}");
}

int sc_enriched_view(avro_value_t *v, sc_enriched_view_t *out)
{
        avro_value_t post, sent, arr, item;
        memset(out, 0, sizeof(*out));
        if (sc_avro_get(v, "post", &post) || sc_post_from_avro(&post, &out->post) ||
            sc_avro_get(v, "sentiment", &sent))
                return -1;
        out->sentiment = sc_avro_str(&sent, "label", NULL);
        if (!out->sentiment)
                return -1;
        size_t n = 0;
        if (sc_avro_get(v, "intents", &arr) == 0 && avro_value_get_size(&arr, &n) == 0) {
                for (size_t i = 0; i < n; i++) {
                        if (avro_value_get_by_index(&arr, i, &item, NULL))
                                continue;
                        const char *name = sc_avro_str(&item, "name", NULL);
                        if (name && !strcmp(name, sc_intent_name(SC_INTENT_CRISIS)))
                                out->crisis = sc_avro_double(&item, "confidence", 0);
                }
        }
        if (sc_avro_get(v, "topics", &arr) == 0 && avro_value_get_size(&arr, &n) == 0) {
                for (size_t i = 0; i < n && out->topic_cnt < SC_ALERT_MAX_TOPICS; i++) {
                        const char *s = NULL;
                        size_t len;
                        if (avro_value_get_by_index(&arr, i, &item, NULL) == 0 &&
                            avro_value_get_string(&item, &s, &len) == 0 && s)
                                out->topics[out->topic_cnt++] = s;
                }
        }
        return 0;
}

/* ---- direct Enriched reader ---------------------------------------------- */

int sc_enriched_read(const void *frame, size_t len, sc_buf_t *scratch,
                     sc_enriched_view_t *out)
{
        sc_enriched_t e;
        char err[128];
        memset(out, 0, sizeof(*out));
        /* The caller checked the schema id. A post without its ids is still
         * read: the caller tells missing_field from the view (sc_post_missing). */
        if (sc_enriched_decode(NULL, frame, len, scratch, &e, err, sizeof(err)) ==
            SC_REC_BAD)
                return -1;
        out->post = e.post;
        out->sentiment = e.label;
        out->crisis = e.intent[SC_INTENT_CRISIS]; /* 0 when absent */
        /* A post counts toward at most SC_ALERT_MAX_TOPICS topic spikes. */
        out->topic_cnt =
            e.topic_cnt < SC_ALERT_MAX_TOPICS ? e.topic_cnt : SC_ALERT_MAX_TOPICS;
        memcpy(out->topics, e.topics, out->topic_cnt * sizeof(out->topics[0]));
        return 0;
}

/* ---- targets --------------------------------------------------------------- */

static int fail(char *errstr, size_t n, const char *file, int line, const char *fmt,
                const char *a)
{
        char msg[256];
        snprintf(msg, sizeof(msg), fmt, a);
        snprintf(errstr, n, "%s:%d: alert.targets: %s", file ? file : "config", line,
                 msg);
        return -1;
}

static int dur(const sc_yaml_node_t *n, int64_t *out)
{
        return n->type == SC_YAML_SCALAR && n->value &&
                       sc_duration_parse(n->value, out) == 0
                   ? 0
                   : -1;
}

/* kinds: or brands: of a target. */
static int parse_list(const sc_yaml_node_t *n, const char *file, sc_alert_target_t *t,
                      char *errstr, size_t es)
{
        const char *k = n->key;
        if (n->type != SC_YAML_SEQ)
                return fail(errstr, es, file, n->line, "'%s' must be a list", k);
        int kinds = !strcmp(k, "kinds");
        if (kinds)
                t->kinds = 0;
        size_t cap = 0;
        for (const sc_yaml_node_t *x = n->child; x; x = x->next) {
                if (x->type != SC_YAML_SCALAR || !x->value)
                        return fail(errstr, es, file, x->line, "'%s' items must be names",
                                    k);
                if (kinds) {
                        int kind = sc_alert_kind_parse(x->value);
                        if (kind < 0)
                                return fail(errstr, es, file, x->line,
                                            "unknown alert kind '%s'", x->value);
                        t->kinds |= 1u << kind;
                } else {
                        SC_PUSH(t->brands, t->brand_cnt, cap, sc_strdup(x->value));
                }
        }
        return 0;
}

static void set_str(char **dst, const char *v)
{
        free(*dst);
        *dst = sc_strdup(v);
}

/* A duration key of a target: 0, 1 (not one of them) or -1. */
static int parse_duration_key(const sc_yaml_node_t *n, const char *file,
                              sc_alert_target_t *t, char *errstr, size_t es)
{
        static const char *const keys[] = {"timeout", "max_age", "backoff",
                                           "backoff_max"};
        int64_t *dst[] = {&t->wh.timeout_ms, &t->wh.max_age_ms, &t->wh.backoff_base_ms,
                          &t->wh.backoff_max_ms};
        for (int i = 0; i < 4; i++) {
                if (strcmp(n->key, keys[i]))
                        continue;
                if (dur(n, dst[i]) || *dst[i] <= 0) {
                        char what[64];
                        snprintf(what, sizeof(what), "bad %s '%%s'", keys[i]);
                        return fail(errstr, es, file, n->line, what, n->value);
                }
                return 0;
        }
        return 1;
}

/* One single-value key of a target. */
static int parse_scalar(const sc_yaml_node_t *n, const char *file, sc_alert_target_t *t,
                        const char **secret_env, char *errstr, size_t es)
{
        const char *k = n->key, *v = n->value;
        long long ll;
        int rc = parse_duration_key(n, file, t, errstr, es);
        if (rc <= 0)
                return rc;
        if (!strcmp(k, "id")) {
                set_str(&t->id, v);
        } else if (!strcmp(k, "url")) {
                set_str(&t->url, v);
        } else if (!strcmp(k, "secret")) {
                set_str(&t->secret, v);
        } else if (!strcmp(k, "secret_env")) {
                *secret_env = v;
        } else if (!strcmp(k, "format")) {
                if (!strcmp(v, "json"))
                        t->format = SC_FORMAT_JSON;
                else if (!strcmp(v, "slack"))
                        t->format = SC_FORMAT_SLACK;
                else
                        return fail(errstr, es, file, n->line,
                                    "format '%s': json or slack", v);
        } else if (!strcmp(k, "min_severity")) {
                t->min_severity = sc_alert_severity_parse(v);
                if (t->min_severity < 0)
                        return fail(errstr, es, file, n->line,
                                    "min_severity '%s': info, warning or critical", v);
        } else if (!strcmp(k, "max_attempts") || !strcmp(k, "concurrency")) {
                if (sc_yaml_int(n, &ll) || ll < 1 || ll > 1000)
                        return fail(errstr, es, file, n->line, "'%s' must be 1..1000", k);
                if (k[0] == 'm')
                        t->wh.max_attempts = (int)ll;
                else
                        t->wh.concurrency = (int)ll;
        } else {
                return fail(errstr, es, file, n->line, "unknown key '%s'", k);
        }
        return 0;
}

/* The checks and defaults once every key of a target is read. */
static int finish_target(const sc_yaml_node_t *m, const char *file, sc_alert_target_t *t,
                         const char *secret_env, char *errstr, size_t es)
{
        if (!t->id || !*t->id)
                return fail(errstr, es, file, m->line, "a target needs an id%s", "");
        if (!t->url || (strncmp(t->url, "http://", 7) && strncmp(t->url, "https://", 8)))
                return fail(errstr, es, file, m->line,
                            "target %s needs an http:// or https:// url", t->id);
        if (secret_env) {
                const char *e = getenv(secret_env);
                if (!e || !*e)
                        return fail(errstr, es, file, m->line,
                                    "secret_env %s is not set in the environment",
                                    secret_env);
                set_str(&t->secret, e);
        }
        if (!t->secret)
                t->secret = sc_strdup("");
        if (t->wh.backoff_max_ms < t->wh.backoff_base_ms)
                t->wh.backoff_max_ms = t->wh.backoff_base_ms;
        t->wh.id = t->id;
        t->wh.url = t->url;
        t->wh.secret = t->secret;
        return 0;
}

static int parse_target(const sc_yaml_node_t *m, const char *file, sc_alert_target_t *t,
                        char *errstr, size_t es)
{
        if (m->type != SC_YAML_MAP)
                return fail(errstr, es, file, m->line, "each target must be a map%s", "");
        t->kinds = (1u << SC_ALERT_KIND_CNT) - 1;
        t->min_severity = SC_SEV_INFO;
        t->format = SC_FORMAT_JSON;
        t->wh.timeout_ms = 5000;
        t->wh.max_attempts = 8;
        t->wh.max_age_ms = 3600000;
        t->wh.concurrency = 4;
        t->wh.backoff_base_ms = 1000;
        t->wh.backoff_max_ms = 300000;
        const char *secret_env = NULL;
        for (const sc_yaml_node_t *n = m->child; n; n = n->next) {
                int rc;
                if (!strcmp(n->key, "kinds") || !strcmp(n->key, "brands"))
                        rc = parse_list(n, file, t, errstr, es);
                else if (n->type != SC_YAML_SCALAR || !n->value)
                        rc = fail(errstr, es, file, n->line,
                                  "'%s' must be a single value", n->key);
                else
                        rc = parse_scalar(n, file, t, &secret_env, errstr, es);
                if (rc)
                        return -1;
        }
        return finish_target(m, file, t, secret_env, errstr, es);
}

int sc_alert_targets_parse(const sc_yaml_node_t *root, const char *file,
                           sc_alert_target_t **out, size_t *cnt, char *errstr,
                           size_t errstr_size)
{
        *out = NULL;
        *cnt = 0;
        const sc_yaml_node_t *sec = sc_yaml_get(root, "alert");
        const sc_yaml_node_t *seq = sc_yaml_get(sec, "targets");
        if (!seq)
                return 0;
        if (seq->type != SC_YAML_SEQ)
                return fail(errstr, errstr_size, file, seq->line, "must be a list%s", "");
        sc_alert_target_t *ts = sc_calloc(seq->count ? seq->count : 1, sizeof(*ts));
        size_t n = 0;
        for (const sc_yaml_node_t *m = seq->child; m; m = m->next) {
                sc_alert_target_t *t = &ts[n++];
                if (parse_target(m, file, t, errstr, errstr_size)) {
                        sc_alert_targets_free(ts, n);
                        return -1;
                }
                for (size_t i = 0; i + 1 < n; i++)
                        if (!strcmp(ts[i].id, t->id)) {
                                fail(errstr, errstr_size, file, m->line,
                                     "duplicate target id '%s'", t->id);
                                sc_alert_targets_free(ts, n);
                                return -1;
                        }
        }
        *out = ts;
        *cnt = n;
        return 0;
}

void sc_alert_targets_free(sc_alert_target_t *ts, size_t cnt)
{
        if (!ts)
                return;
        for (size_t i = 0; i < cnt; i++) {
                sc_alert_target_t *t = &ts[i];
                free(t->id);
                free(t->url);
                if (t->secret) /* do not leave the key in freed memory */
                        memset(t->secret, 0, strlen(t->secret));
                free(t->secret);
                for (size_t b = 0; b < t->brand_cnt; b++)
                        free(t->brands[b]);
                free(t->brands);
        }
        free(ts);
}

int sc_alert_target_matches(const sc_alert_target_t *t, const sc_alert_t *a)
{
        /* A target of sla_breach also gets the retraction of a breach. */
        unsigned bit = 1u << a->kind;
        if (a->kind == SC_ALERT_SLA_RECOVERED)
                bit |= 1u << SC_ALERT_SLA_BREACH;
        if (!(t->kinds & bit) || a->severity < t->min_severity)
                return 0;
        if (!t->brand_cnt)
                return 1;
        for (size_t i = 0; i < t->brand_cnt; i++)
                if (a->brand && !strcmp(t->brands[i], a->brand))
                        return 1;
        return 0;
}
