#include "sc_alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
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

typedef struct rd_s {
        const unsigned char *p, *end;
        sc_buf_t *scratch;
        const char **fix[16 + SC_ALERT_MAX_TOPICS];
        size_t fix_off[16 + SC_ALERT_MAX_TOPICS];
        int nfix;
        int bad;
} rd_t;

static int64_t rd_long(rd_t *r)
{
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end) {
                        r->bad = 1;
                        return 0;
                }
                unsigned char b = *r->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        }
        r->bad = 1;
        return 0;
}

static double rd_double(rd_t *r)
{
        double d = 0;
        if (r->end - r->p < 8) {
                r->bad = 1;
                return 0;
        }
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
                u = (u << 8) | r->p[i];
        memcpy(&d, &u, sizeof(d));
        r->p += 8;
        return d;
}

static int rd_bool(rd_t *r)
{
        if (r->p >= r->end) {
                r->bad = 1;
                return 0;
        }
        return *r->p++ != 0;
}

/* A string: into scratch when dst is set (pointer fixed at the end, since
 * scratch may move), skipped otherwise. */
static void rd_str(rd_t *r, const char **dst, size_t *len_out)
{
        int64_t n = rd_long(r);
        if (r->bad || n < 0 || n > r->end - r->p) {
                r->bad = 1;
                return;
        }
        if (dst && r->nfix < (int)(sizeof(r->fix) / sizeof(r->fix[0]))) {
                r->fix[r->nfix] = dst;
                r->fix_off[r->nfix++] = r->scratch->len;
                sc_buf_append(r->scratch, r->p, (size_t)n);
                sc_buf_putc(r->scratch, '\0');
        }
        if (len_out)
                *len_out = (size_t)n;
        r->p += n;
}

static void rd_opt_str(rd_t *r, const char **dst)
{
        int64_t b = rd_long(r);
        if (b == 1)
                rd_str(r, dst, NULL);
        else if (b != 0)
                r->bad = 1;
}

/* Array block header: item count of the next block (0 = end). */
static int64_t rd_block(rd_t *r)
{
        int64_t n = rd_long(r);
        if (n < 0) {
                /* INT64_MIN has no positive count (and -n is UB). */
                if (n == INT64_MIN) {
                        r->bad = 1;
                        return 0;
                }
                n = -n;
                if (rd_long(r) < 0) /* block size in bytes */
                        r->bad = 1;
        }
        if (n > r->end - r->p)
                r->bad = 1;
        return r->bad ? 0 : n;
}

int sc_enriched_read(const void *frame, size_t len, sc_buf_t *scratch,
                     sc_enriched_view_t *out)
{
        memset(out, 0, sizeof(*out));
        if (len < 5)
                return -1;
        sc_buf_reset(scratch);
        rd_t r = {.p = (const unsigned char *)frame + 5,
                  .end = (const unsigned char *)frame + len,
                  .scratch = scratch};
        sc_post_t *p = &out->post;
        rd_str(&r, &p->event_id, NULL);
        rd_str(&r, &p->brand, NULL);
        rd_str(&r, &p->platform, NULL);
        rd_str(&r, &p->post_id, NULL);
        rd_opt_str(&r, &p->parent_id);
        rd_opt_str(&r, &p->thread_id);
        rd_str(&r, &p->author_id, NULL);
        rd_opt_str(&r, &p->author_handle);
        p->author_followers = rd_long(&r);
        p->author_verified = rd_bool(&r);
        p->is_brand = rd_bool(&r);
        rd_str(&r, &p->text, &p->text_len);
        rd_opt_str(&r, &p->lang_hint);
        rd_opt_str(&r, &p->url);
        int64_t b = rd_long(&r);
        if (b == 1) {
                int64_t rating = rd_long(&r);
                if (rating < INT32_MIN || rating > INT32_MAX) /* an Avro int */
                        r.bad = 1;
                p->rating = (int)rating;
        } else if (b != 0) {
                r.bad = 1;
        }
        p->created_at = rd_long(&r);
        p->received_at = rd_long(&r);
        rd_str(&r, NULL, NULL); /* classifier_version */
        rd_str(&r, NULL, NULL); /* language */
        rd_str(&r, &out->sentiment, NULL);
        rd_double(&r);
        for (int64_t n; !r.bad && (n = rd_block(&r)) > 0;) {
                for (int64_t i = 0; i < n && !r.bad; i++) {
                        int64_t nl = rd_long(&r);
                        if (r.bad || nl < 0 || nl > r.end - r.p) {
                                r.bad = 1;
                                break;
                        }
                        int crisis = sc_intent_parse((const char *)r.p, (size_t)nl) ==
                                     SC_INTENT_CRISIS;
                        r.p += nl;
                        double c = rd_double(&r);
                        if (crisis)
                                out->crisis = c;
                }
        }
        for (int64_t n; !r.bad && (n = rd_block(&r)) > 0;)
                for (int64_t i = 0; i < n && !r.bad; i++)
                        rd_str(&r,
                               out->topic_cnt < SC_ALERT_MAX_TOPICS
                                   ? &out->topics[out->topic_cnt++]
                                   : NULL,
                               NULL);
        if (r.bad)
                return -1;
        /* reach, priority, priority_score, needs_reply, classified_at: not
         * needed here, but the record must be whole. */
        rd_long(&r);
        rd_str(&r, NULL, NULL);
        rd_double(&r);
        rd_bool(&r);
        rd_long(&r);
        if (r.bad || r.p != r.end)
                return -1;
        for (int i = 0; i < r.nfix; i++)
                *r.fix[i] = scratch->data + r.fix_off[i];
        /* As sc_post_from_avro: an empty optional id is none. */
        if (p->parent_id && !*p->parent_id)
                p->parent_id = NULL;
        if (p->thread_id && !*p->thread_id)
                p->thread_id = NULL;
        if (!p->event_id || !p->brand || !p->platform || !p->post_id || !p->text ||
            !out->sentiment)
                return -1;
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
