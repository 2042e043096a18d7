/* socialcare-alert: Enriched posts (social.posts.enriched) and SLA events
 * (care.sla) -> Alert records on care.alerts and webhook deliveries.
 *
 * Alerts: crisis_post and influencer_negative (single posts), sla_breach
 * (every care.sla breach) and sla_recovered (its retraction), spike and spike_resolved
 * (sc_spike, Redis). At-least-once end to end: an input's offset is stored only once each
 * alert it caused was produced to care.alerts AND delivered to every
 * matching target or parked on alert.park_topic (sc_worker_hold()). Spike
 * alerts also sit in the brand's Redis outbox until fully delivered, and
 * are emitted again from there after a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alerts.h"
#include "sc_log.h"
#include "sc_spike.h"
#include "sc_time.h"
#include "sc_webhook.h"
#include "sc_worker.h"

static const sc_conf_def_t alert_defs[] = {
    {"alert.output_topic", SC_CONF_STR, "care.alerts", 1, 0,
     "topic of Avro Alert records"},
    {"alert.park_topic", SC_CONF_STR, "care.alerts.webhook.dlq", 1, 0,
     "webhook deliveries that failed for good (the JSON body, headers name target, "
     "reason, attempts)"},
    {"alert.crisis.min_confidence", SC_CONF_DOUBLE, "0.5", 0, 1,
     "crisis intent confidence that alerts on a single post"},
    {"alert.influencer.min_followers", SC_CONF_INT, "50000", 0, 1e12,
     "followers from which a negative post alerts on its own"},
    {"alert.spike.enabled", SC_CONF_BOOL, "true", 1, 0, "spike detection on/off"},
    {"alert.spike.window", SC_CONF_STR, "15m", 1, 0,
     "sliding window (whole minutes, at most 24h)"},
    {"alert.spike.baseline_days", SC_CONF_INT, "7", 0, 60,
     "days of history: the same window at the same time of day"},
    {"alert.spike.k", SC_CONF_DOUBLE, "2", 0, 100, "alert when count > mean + k*sigma"},
    {"alert.spike.min_count", SC_CONF_INT, "10", 1, 1e9,
     "and count >= this many negative or crisis posts"},
    {"alert.spike.per_topic", SC_CONF_BOOL, "false", 1, 0,
     "also detect per (brand, topic)"},
    {"alert.spike.recent_ids", SC_CONF_INT, "10", 1, 100,
     "newest post event ids listed in a spike alert"},
    {"alert.outbox.scan_interval", SC_CONF_STR, "30s", 1, 0,
     "how often the Redis outbox of spike alerts is checked"},
    {"alert.outbox.grace", SC_CONF_STR, "2m", 1, 0,
     "an outbox entry seen this long without being delivered is emitted again"},
    {"alert.shutdown_wait", SC_CONF_STR, "10s", 1, 0,
     "at shutdown, time given to webhook deliveries in flight"},
    SC_CONF_END,
};

#define CLAIM_TTL_S "604800" /* 7 days: longer than any replay of care.sla */

typedef struct claim_s {
        size_t msg;
        int kind;
        size_t key_off, origin_off; /* into state.claim_strs */
} claim_t;

typedef struct job_s job_t;

/* One webhook delivery of a job; the webhook engine's cookie. */
typedef struct dctx_s {
        job_t *job;
        sc_hold_t *hold;
        int target;
        struct dctx_s *next;
} dctx_t;

/* One emitted alert until its care.alerts record and all its webhook
 * deliveries are done. */
struct job_s {
        char *alert_id, *brand;
        int outbox; /* remove from the brand's outbox when done */
        int refs;
        dctx_t *dels;
        job_t *prev, *next;
};

typedef struct seen_s {
        char *brand, *alert_id;
        int64_t first_ms;
        int live; /* still in the outbox at the last scan */
        struct seen_s *next;
} seen_t;

typedef struct state_s state_t;

typedef struct target_rt_s {
        sc_counter_t *deliveries, *parked, *fail[4];
        sc_gauge_t *pending;
} target_rt_t;

/* Per input message of a batch. */
enum { M_OK, M_BAD_AVRO, M_ENRICHED, M_SLA, M_UNKNOWN_BRAND, M_MISSING };

struct state_s {
        sc_worker_t *w;
        const char *output_topic, *park_topic;
        double crisis_min;
        int64_t infl_min;
        int spike_on;
        int64_t scan_ms, grace_ms, shutdown_ms, next_scan;
        sc_avro_codec_t *in_enriched, *in_sla, *out;
        int32_t id_enriched, id_sla;
        sc_spike_t *spike;
        sc_webhook_t *wh;
        /* The current alert.targets (matching and body format) and, per
         * current target, its engine index. Engine targets are never removed:
         * a target dropped or changed by a reload keeps its engine slot, so
         * what is queued or in flight for it completes or parks as before. */
        sc_alert_target_t *targets;
        size_t target_cnt;
        int *live_wh;
        target_rt_t *trt; /* per engine target index */
        size_t trt_cnt;
        job_t *jobs;
        seen_t *seen;
        char **hdel; /* pending outbox removals: "brand\0id" pairs */
        size_t hdel_cnt, hdel_cap;
        unsigned char *mstat, *mdup; /* mdup: bit per alert kind claimed elsewhere */
        size_t mstat_cap;
        sc_redis_script_t *claim;
        claim_t *claims;
        size_t claim_cnt, claim_cap;
        sc_buf_t claim_strs, alert_id;
        sc_hold_t **stuck; /* holds of deliveries neither made nor parked */
        size_t stuck_cnt, stuck_cap;
        sc_counter_t *m_dups;
        sc_buf_t avro, body, title, summary, scratch;
        sc_counter_t *m_alerts[SC_ALERT_KIND_CNT];
};

static const char *const fail_names[4] = {"timeout", "5xx", "4xx", "connect"};

static int64_t dur_setting(const sc_config_t *c, const char *name, char *errstr,
                           size_t es, int *bad)
{
        int64_t ms = 0;
        if (sc_duration_parse(sc_config_str(c, name), &ms) || ms <= 0) {
                snprintf(errstr, es, "%s: bad duration '%s'", name,
                         sc_config_str(c, name));
                *bad = 1;
        }
        return ms;
}

/* ---- jobs ----------------------------------------------------------------- */

static void job_unref(state_t *s, job_t *j)
{
        if (--j->refs > 0)
                return;
        if (j->outbox) {
                if (s->hdel_cnt == s->hdel_cap) {
                        s->hdel_cap = s->hdel_cap ? s->hdel_cap * 2 : 16;
                        s->hdel = realloc(s->hdel, s->hdel_cap * 2 * sizeof(char *));
                }
                s->hdel[2 * s->hdel_cnt] = j->brand;
                s->hdel[2 * s->hdel_cnt + 1] = j->alert_id;
                s->hdel_cnt++;
                j->brand = j->alert_id = NULL;
        }
        if (j->prev)
                j->prev->next = j->next;
        else
                s->jobs = j->next;
        if (j->next)
                j->next->prev = j->prev;
        while (j->dels) {
                dctx_t *d = j->dels;
                j->dels = d->next;
                free(d);
        }
        free(j->alert_id);
        free(j->brand);
        free(j);
}

static job_t *job_find(state_t *s, const char *alert_id)
{
        for (job_t *j = s->jobs; j; j = j->next)
                if (!strcmp(j->alert_id, alert_id))
                        return j;
        return NULL;
}

/* ---- webhook callbacks ------------------------------------------------------ */

static void on_attempt(void *opaque, int target, const char *fail)
{
        state_t *s = opaque;
        target_rt_t *t = &s->trt[target];
        if (!fail) {
                sc_counter_add(t->deliveries, 1);
                return;
        }
        for (int i = 0; i < 4; i++)
                if (!strcmp(fail, fail_names[i]))
                        sc_counter_add(t->fail[i], 1);
}

typedef struct park_s {
        state_t *s;
        sc_hold_t *hold;
        job_t *job; /* a reference: the job is done once its park is delivered */
} park_t;

static void on_park_delivered(void *arg)
{
        park_t *p = arg;
        sc_worker_release(p->s->w, p->hold);
        job_unref(p->s, p->job);
        free(p);
}

/* The input's offset must not be stored: the hold stays taken until
 * shutdown (alert_destroy), so the input is consumed again after a restart
 * or a rebalance. */
static void keep_hold(state_t *s, sc_hold_t *h)
{
        if (!h)
                return;
        if (s->stuck_cnt == s->stuck_cap) {
                size_t cap = s->stuck_cap ? s->stuck_cap * 2 : 8;
                sc_hold_t **n = realloc(s->stuck, cap * sizeof(*n));
                if (!n)
                        return; /* never released: the offset stays unstored */
                s->stuck = n;
                s->stuck_cap = cap;
        }
        s->stuck[s->stuck_cnt++] = h;
}

static void on_done(void *opaque, int target, void *cookie, const sc_webhook_result_t *r)
{
        state_t *s = opaque;
        dctx_t *d = cookie;
        if (!r->delivered) {
                char attempts[16], status[16];
                snprintf(attempts, sizeof(attempts), "%d", r->attempts);
                snprintf(status, sizeof(status), "%ld", r->http_status);
                const char *tid = sc_webhook_target_id(s->wh, target);
                sc_header_t h[] = {
                    {"sc-webhook-target", tid, strlen(tid)},
                    {"sc-park-reason", r->reason, strlen(r->reason)},
                    {"sc-attempts", attempts, strlen(attempts)},
                    {"sc-last-error", r->last_error, strlen(r->last_error)},
                    {"sc-http-status", status, strlen(status)},
                    {"sc-alert-id", r->alert_id, strlen(r->alert_id)},
                    {"sc-worker", "alert", 5},
                };
                park_t *p = malloc(sizeof(*p));
                p->s = s;
                p->hold = d->hold;
                p->job = d->job;
                d->job->refs++;
                sc_produce_opts_t o = {.headers = h,
                                       .header_cnt = sizeof(h) / sizeof(h[0]),
                                       .on_delivered = on_park_delivered,
                                       .arg = p};
                /* The parked record's delivery releases the input's hold, so
                 * the offset waits for it. */
                if (sc_worker_produce(s->w, NULL, s->park_topic, r->alert_id,
                                      strlen(r->alert_id), r->body, r->body_len,
                                      &o) == 0) {
                        d->hold = NULL;
                } else {
                        sc_log(SC_LOG_ERROR,
                               "park of %s for %s failed: %s (input kept unstored, "
                               "consumed again after a restart or rebalance)",
                               r->alert_id, tid, sc_worker_errstr(s->w));
                        d->job->refs--;
                        free(p);
                        keep_hold(s, d->hold);
                        d->hold = NULL;
                        /* An outbox alert stays in the outbox: emitted again. */
                        d->job->outbox = 0;
                }
                sc_counter_add(s->trt[target].parked, 1);
        }
        sc_worker_release(s->w, d->hold);
        d->hold = NULL;
        job_unref(s, d->job);
}

/* ---- emitting ------------------------------------------------------------- */

typedef struct kafka_arg_s {
        state_t *s;
        job_t *j;
} kafka_arg_t;

static void on_alert_delivered(void *arg)
{
        kafka_arg_t *k = arg;
        job_unref(k->s, k->j);
        free(k);
}

/* Produces the Alert to care.alerts and queues it for every matching
 * target. origin may be NULL (outbox re-emission). Returns 0 or -1 (a
 * permanent produce error). */
static int emit(state_t *s, sc_msg_t *origin, const sc_alert_t *a, int outbox)
{
        /* A spike alert is emitted once by the script, then only again from
         * the outbox: skip it while it is still on its way from here. A
         * single-post alert of a re-consumed input is always emitted again
         * (its hold must guard the new offset). */
        if (outbox && job_find(s, a->id))
                return 0;
        sc_buf_reset(&s->avro);
        if (sc_alert_encode(a, s->out, &s->avro))
                return -1;
        job_t *j = calloc(1, sizeof(*j));
        j->alert_id = strdup(a->id);
        j->brand = strdup(a->brand);
        j->outbox = outbox;
        j->refs = 1;
        j->next = s->jobs;
        if (s->jobs)
                s->jobs->prev = j;
        s->jobs = j;
        kafka_arg_t *ka = malloc(sizeof(*ka));
        ka->s = s;
        ka->j = j;
        sc_produce_opts_t o = {.on_delivered = on_alert_delivered, .arg = ka};
        if (sc_worker_produce(s->w, origin, s->output_topic, a->brand, strlen(a->brand),
                              s->avro.data, s->avro.len, &o) == -1) {
                free(ka);
                j->outbox = 0;
                job_unref(s, j);
                return -1;
        }
        sc_counter_add(s->m_alerts[a->kind], 1);
        sc_log(SC_LOG_INFO, "alert %s (%s, %s): %s", a->id, sc_alert_kind_name(a->kind),
               sc_alert_severity_name(a->severity), a->title);
        for (size_t t = 0; t < s->target_cnt; t++) {
                if (!sc_alert_target_matches(&s->targets[t], a))
                        continue;
                sc_buf_reset(&s->body);
                if (s->targets[t].format == SC_FORMAT_SLACK)
                        sc_alert_slack(a, &s->body);
                else
                        sc_alert_json(a, &s->body);
                dctx_t *d = calloc(1, sizeof(*d));
                d->job = j;
                d->target = s->live_wh[t];
                d->hold = sc_worker_hold(s->w, origin);
                if (sc_webhook_submit(s->wh, d->target, a->id, s->body.data, s->body.len,
                                      d)) {
                        sc_worker_release(s->w, d->hold);
                        free(d);
                        continue;
                }
                d->next = j->dels;
                j->dels = d;
                j->refs++;
        }
        return 0;
}

static void text_snippet(sc_buf_t *b, const char *text, size_t len, size_t max)
{
        /* Cut on a UTF-8 boundary. */
        size_t n = len < max ? len : max;
        while (n < len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
                n--;
        sc_buf_putc(b, '"');
        sc_buf_append(b, text, n);
        sc_buf_puts(b, n < len ? "…\"" : "\"");
}

/* "<kind>:<post event id>" into s->alert_id, sized from the id (never
 * truncated, so two events never share an alert id). */
static const char *post_alert_id(state_t *s, int kind, const char *event_id)
{
        sc_buf_reset(&s->alert_id);
        sc_buf_printf(&s->alert_id, "%s:%s", sc_alert_kind_name(kind), event_id);
        return s->alert_id.data ? s->alert_id.data : "";
}

/* 1 if another input already emitted this single-post alert (counted). */
static int duplicate(state_t *s, size_t msg, int kind, const char *id)
{
        if (!(s->mdup[msg] & (1u << kind)))
                return 0;
        sc_counter_add(s->m_dups, 1);
        sc_log(SC_LOG_INFO, "alert %s: already emitted for another input, skipped", id);
        return 1;
}

static int emit_post_alert(state_t *s, sc_msg_t *m, size_t msg, int kind,
                           const sc_enriched_view_t *v)
{
        const sc_post_t *p = &v->post;
        const char *id = post_alert_id(s, kind, p->event_id);
        if (duplicate(s, msg, kind, id))
                return 0;
        sc_buf_reset(&s->title);
        sc_buf_reset(&s->summary);
        if (kind == SC_ALERT_CRISIS_POST)
                sc_buf_printf(&s->title, "Crisis post about %s on %s", p->brand,
                              p->platform);
        else
                sc_buf_printf(&s->title,
                              "Negative post about %s by %s%s (%lld followers)", p->brand,
                              p->author_handle ? "@" : "",
                              p->author_handle ? p->author_handle : p->author_id,
                              (long long)p->author_followers);
        sc_buf_printf(&s->summary,
                      "%s%s (%lld followers) on %s: ", p->author_handle ? "@" : "",
                      p->author_handle ? p->author_handle : p->author_id,
                      (long long)p->author_followers, p->platform);
        text_snippet(&s->summary, p->text, p->text_len, 280);
        if (kind == SC_ALERT_CRISIS_POST)
                sc_buf_printf(&s->summary, " (crisis confidence %.2f, sentiment %s)",
                              v->crisis, v->sentiment);
        const char *ids[] = {p->event_id};
        sc_alert_t a = {.kind = kind,
                        .severity = sc_alert_kind_severity(kind),
                        .id = id,
                        .brand = p->brand,
                        .topic = v->topic_cnt ? v->topics[0] : NULL,
                        .title = s->title.data,
                        .summary = s->summary.data,
                        .url = p->url,
                        .count = 1,
                        .post_ids = ids,
                        .post_id_cnt = 1,
                        .created_at = sc_now_ms()};
        return emit(s, m, &a, 0);
}

static int emit_sla(state_t *s, sc_msg_t *m, size_t msg, avro_value_t *v)
{
        const char *kind = sc_avro_str(v, "kind", NULL);
        int ak = kind && !strcmp(kind, "breach")      ? SC_ALERT_SLA_BREACH
                 : kind && !strcmp(kind, "recovered") ? SC_ALERT_SLA_RECOVERED
                                                      : -1;
        if (ak < 0)
                return 0;
        const char *pe = sc_avro_str(v, "post_event_id", NULL);
        const char *brand = sc_avro_str(v, "brand", NULL);
        if (!pe || !brand)
                return 1;
        const char *team = sc_avro_str(v, "team", NULL);
        const char *prio = sc_avro_str(v, "priority", NULL);
        const char *platform = sc_avro_str(v, "platform", NULL);
        size_t tlen = 0;
        const char *text = sc_avro_str(v, "text", &tlen);
        int64_t created = sc_avro_long(v, "created_at", 0),
                due = sc_avro_long(v, "due_at", 0);
        char due_s[32];
        const char *id = post_alert_id(s, ak, pe);
        if (duplicate(s, msg, ak, id))
                return 0;
        sc_time_format(due, due_s);
        sc_buf_reset(&s->title);
        sc_buf_reset(&s->summary);
        if (ak == SC_ALERT_SLA_RECOVERED) {
                sc_buf_printf(&s->title,
                              "SLA breach retracted: %s post for %s was answered in time "
                              "(team %s)",
                              prio ? prio : "?", brand, team ? team : "?");
                sc_buf_printf(&s->summary,
                              "Due %s, a reply written before it arrived late. %s: ",
                              due_s, platform ? platform : "?");
        } else {
                sc_buf_printf(&s->title,
                              "SLA breached: %s post for %s unanswered (team %s)",
                              prio ? prio : "?", brand, team ? team : "?");
                sc_buf_printf(&s->summary, "Due %s, still no reply. %s: ", due_s,
                              platform ? platform : "?");
        }
        text_snippet(&s->summary, text ? text : "", tlen, 280);
        const char *ids[] = {pe};
        sc_alert_t a = {.kind = ak,
                        .severity = sc_alert_kind_severity(ak),
                        .id = id,
                        .brand = brand,
                        .title = s->title.data,
                        .summary = s->summary.data,
                        .url = sc_avro_str(v, "url", NULL),
                        .window_start = created,
                        .window_end = due,
                        .count = 1,
                        .post_ids = ids,
                        .post_id_cnt = 1,
                        .created_at = sc_now_ms()};
        return emit(s, m, &a, 0) ? -1 : 0;
}

static int emit_spike(state_t *s, sc_msg_t *m, const sc_spike_event_t *e)
{
        int kind = e->kind == SC_SPIKE_OPENED ? SC_ALERT_SPIKE : SC_ALERT_SPIKE_RESOLVED;
        int64_t mins = (e->window_end - e->window_start) / 60000;
        sc_buf_reset(&s->title);
        sc_buf_reset(&s->summary);
        sc_buf_printf(&s->title, "%s %s%s%s",
                      kind == SC_ALERT_SPIKE ? "Negative spike for"
                                             : "Negative spike over for",
                      e->brand, e->topic ? " / " : "", e->topic ? e->topic : "");
        sc_buf_printf(
            &s->summary,
            "%lld negative or crisis posts in %lld min (baseline %.1f ± %.1f for "
            "this time of day)",
            (long long)e->count, (long long)mins, e->mean, e->stddev);
        sc_alert_t a = {.kind = kind,
                        .severity = sc_alert_kind_severity(kind),
                        .id = e->alert_id,
                        .brand = e->brand,
                        .topic = e->topic,
                        .title = s->title.data,
                        .summary = s->summary.data,
                        .window_start = e->window_start,
                        .window_end = e->window_end,
                        .count = e->count,
                        .baseline_mean = e->mean,
                        .baseline_stddev = e->stddev,
                        .post_ids = e->ids,
                        .post_id_cnt = e->id_cnt,
                        .created_at = sc_now_ms()};
        return emit(s, m, &a, 1);
}

/* ---- outbox --------------------------------------------------------------- */

static void flush_hdel(state_t *s)
{
        sc_redis_t *r = sc_worker_redis(s->w);
        if (!s->hdel_cnt || !r)
                return;
        char key[256];
        for (size_t i = 0; i < s->hdel_cnt; i++) {
                sc_spike_outbox_key(s->hdel[2 * i], key, sizeof(key));
                const char *argv[] = {"HDEL", key, s->hdel[2 * i + 1]};
                sc_redis_append(r, 3, argv, NULL);
        }
        redisReply **rep;
        size_t cnt;
        if (sc_redis_exec(r, &rep, &cnt))
                return; /* kept; tried again next tick */
        for (size_t i = 0; i < 2 * s->hdel_cnt; i++)
                free(s->hdel[i]);
        s->hdel_cnt = 0;
}

/* Entries still in an outbox a grace period after first seen, and not on
 * their way here, are emitted again (origin NULL: the outbox is their
 * at-least-once record). */
static void scan_outbox(state_t *s)
{
        sc_redis_t *r = sc_worker_redis(s->w);
        const sc_brands_t *bs = sc_worker_brands(s->w);
        size_t nb = sc_brands_count(bs);
        if (!r || !nb)
                return;
        char key[256];
        for (size_t i = 0; i < nb; i++) {
                sc_spike_outbox_key(sc_brands_at(bs, i)->id, key, sizeof(key));
                const char *argv[] = {"HGETALL", key};
                sc_redis_append(r, 2, argv, NULL);
        }
        redisReply **rep;
        size_t cnt;
        if (sc_redis_exec(r, &rep, &cnt) || cnt != nb)
                return;
        int64_t now = sc_mono_ms();
        for (seen_t *x = s->seen; x; x = x->next)
                x->live = 0;
        for (size_t i = 0; i < nb; i++) {
                const char *brand = sc_brands_at(bs, i)->id;
                redisReply *h = rep[i];
                if (h->type != REDIS_REPLY_ARRAY)
                        continue;
                for (size_t k = 0; k + 1 < h->elements; k += 2) {
                        const char *id = h->element[k]->str;
                        if (!id || job_find(s, id))
                                continue;
                        seen_t *x = s->seen;
                        while (x && (strcmp(x->alert_id, id) || strcmp(x->brand, brand)))
                                x = x->next;
                        if (!x) {
                                x = calloc(1, sizeof(*x));
                                x->brand = strdup(brand);
                                x->alert_id = strdup(id);
                                x->first_ms = now;
                                x->next = s->seen;
                                s->seen = x;
                        }
                        x->live = 1;
                        if (now - x->first_ms < s->grace_ms)
                                continue;
                        char *val =
                            strdup(h->element[k + 1]->str ? h->element[k + 1]->str : "");
                        const char *ids[100];
                        sc_spike_event_t ev;
                        if (sc_spike_outbox_parse(val, id, &ev, ids, 100) == 0) {
                                sc_log(SC_LOG_WARN, "outbox: emitting %s again", id);
                                emit_spike(s, NULL, &ev);
                        }
                        free(val);
                        x->first_ms = now;
                }
        }
        for (seen_t **pp = &s->seen; *pp;) {
                seen_t *x = *pp;
                if (x->live) {
                        pp = &x->next;
                        continue;
                }
                *pp = x->next;
                free(x->brand);
                free(x->alert_id);
                free(x);
        }
}

/* ---- worker ops ----------------------------------------------------------- */

static void update_gauges(state_t *s)
{
        /* Engine slots of one target id (before and after a reload) share
         * their series: the gauge is their sum. */
        for (size_t t = 0; t < s->trt_cnt; t++) {
                int first = 1;
                for (size_t u = 0; u < t && first; u++)
                        first = s->trt[u].pending != s->trt[t].pending;
                if (!first)
                        continue;
                size_t n = 0;
                for (size_t u = t; u < s->trt_cnt; u++)
                        if (s->trt[u].pending == s->trt[t].pending)
                                n += sc_webhook_pending(s->wh, (int)u);
                sc_gauge_set(s->trt[t].pending, (double)n);
        }
}

static int alert_tick(sc_worker_t *w, void *state, int64_t now_ms)
{
        state_t *s = state;
        (void)w;
        (void)now_ms;
        sc_webhook_poll(s->wh, 0);
        update_gauges(s);
        flush_hdel(s);
        if (s->spike_on && sc_mono_ms() >= s->next_scan) {
                s->next_scan = sc_mono_ms() + s->scan_ms;
                scan_outbox(s);
        }
        return SC_OK;
}

static void alert_pump(sc_worker_t *w, void *state)
{
        (void)w;
        sc_webhook_poll(((state_t *)state)->wh, 0);
}

/* Queues the claim of a single-post alert (appended after the spike
 * commands, in the same round trip). Returns 0 or -1 (no memory). */
static int add_claim(state_t *s, sc_msg_t *m, size_t msg, int kind, const char *brand,
                     const char *event_id)
{
        if (s->claim_cnt == s->claim_cap) {
                size_t cap = s->claim_cap ? s->claim_cap * 2 : 64;
                claim_t *c = realloc(s->claims, cap * sizeof(*c));
                if (!c)
                        return -1;
                s->claims = c;
                s->claim_cap = cap;
        }
        claim_t *c = &s->claims[s->claim_cnt++];
        c->msg = msg;
        c->kind = kind;
        c->key_off = s->claim_strs.len;
        int bad = sc_buf_printf(&s->claim_strs, "sc:{%s}:alert:sent:%s:%s", brand,
                                sc_alert_kind_name(kind), event_id) ||
                  sc_buf_putc(&s->claim_strs, '\0');
        c->origin_off = s->claim_strs.len;
        bad =
            bad ||
            sc_buf_printf(&s->claim_strs, "%s/%d/%lld", rd_kafka_topic_name(m->rkm->rkt),
                          (int)m->rkm->partition, (long long)m->rkm->offset) ||
            sc_buf_putc(&s->claim_strs, '\0');
        return bad ? -1 : 0;
}

static int alert_process(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n)
{
        state_t *s = state;
        sc_webhook_poll(s->wh, 0);
        if (n > s->mstat_cap) {
                free(s->mstat);
                free(s->mdup);
                s->mstat = malloc(n);
                s->mdup = malloc(n);
                s->mstat_cap = n;
        }
        if (n)
                memset(s->mdup, 0, n);
        s->claim_cnt = 0;
        sc_buf_reset(&s->claim_strs);
        const sc_brands_t *brands = sc_worker_brands(w);
        /* Pass 1: decode, spike counting; nothing produced before Redis said
         * yes, so an outage can still defer the whole batch. */
        if (s->spike_on)
                sc_spike_begin(s->spike, sc_now_ms());
        char err[256];
        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = msgs[i].rkm;
                int32_t id = sc_avro_frame_id(rkm->payload, rkm->len);
                avro_value_t *v;
                s->mstat[i] = M_BAD_AVRO;
                if (id == s->id_enriched || sc_avro_codec_accepts(s->in_enriched, id)) {
                        sc_enriched_view_t ev;
                        if (sc_enriched_read(rkm->payload, rkm->len, &s->scratch, &ev))
                                continue;
                        if (sc_post_missing(&ev.post)) {
                                s->mstat[i] = M_MISSING;
                                continue;
                        }
                        if (!sc_brands_find(brands, ev.post.brand)) {
                                s->mstat[i] = M_UNKNOWN_BRAND;
                                continue;
                        }
                        s->mstat[i] = M_OK;
                        if (ev.post.is_brand)
                                continue;
                        int neg = !strcmp(ev.sentiment, "negative");
                        int crisis = sc_alert_is_crisis(ev.crisis, s->crisis_min);
                        int infl = neg && ev.post.author_followers >= s->infl_min;
                        if (crisis || infl)
                                s->mstat[i] = M_ENRICHED;
                        if ((crisis && add_claim(s, &msgs[i], i, SC_ALERT_CRISIS_POST,
                                                 ev.post.brand, ev.post.event_id)) ||
                            (infl &&
                             add_claim(s, &msgs[i], i, SC_ALERT_INFLUENCER_NEGATIVE,
                                       ev.post.brand, ev.post.event_id)))
                                return SC_FATAL;
                        if (s->spike_on &&
                            sc_spike_add(s->spike, ev.post.brand, ev.topics, ev.topic_cnt,
                                         ev.post.event_id, ev.post.created_at,
                                         neg || crisis, i))
                                return SC_FATAL;
                } else if (id == s->id_sla || sc_avro_codec_accepts(s->in_sla, id)) {
                        if (sc_avro_decode(s->in_sla, rkm->payload, rkm->len, &v, err,
                                           sizeof(err)))
                                continue;
                        const char *kind = sc_avro_str(v, "kind", NULL);
                        const char *brand = sc_avro_str(v, "brand", NULL);
                        const char *pe = sc_avro_str(v, "post_event_id", NULL);
                        if (!brand || !*brand || !pe || !*pe) {
                                s->mstat[i] = M_MISSING;
                                continue;
                        }
                        if (!sc_brands_find(brands, brand)) {
                                s->mstat[i] = M_UNKNOWN_BRAND;
                                continue;
                        }
                        int rec = kind && !strcmp(kind, "recovered");
                        s->mstat[i] =
                            kind && (rec || !strcmp(kind, "breach")) ? M_SLA : M_OK;
                        if (s->mstat[i] == M_SLA && brand && pe &&
                            add_claim(s, &msgs[i], i,
                                      rec ? SC_ALERT_SLA_RECOVERED : SC_ALERT_SLA_BREACH,
                                      brand, pe))
                                return SC_FATAL;
                }
        }
        int ev_cnt = 0;
        size_t cmds = s->spike_on ? sc_spike_prepare(s->spike) : 0;
        sc_redis_t *r = sc_worker_redis(w);
        for (size_t c = 0; c < s->claim_cnt; c++) {
                const char *argv[3] = {s->claim_strs.data + s->claims[c].key_off,
                                       s->claim_strs.data + s->claims[c].origin_off,
                                       CLAIM_TTL_S};
                sc_redis_append_script(r, s->claim, 1, 3, argv, NULL);
        }
        if (cmds + s->claim_cnt) {
                redisReply **rep;
                size_t cnt;
                if (sc_redis_exec(r, &rep, &cnt) || cnt != cmds + s->claim_cnt) {
                        sc_log(SC_LOG_WARN, "redis: %s", sc_redis_errstr(r));
                        return SC_RETRY;
                }
                if (cmds) {
                        ev_cnt = sc_spike_collect(s->spike, rep, cnt, err, sizeof(err));
                        if (ev_cnt < 0) {
                                sc_log(SC_LOG_ERROR, "%s", err);
                                return SC_RETRY;
                        }
                }
                for (size_t c = 0; c < s->claim_cnt; c++) {
                        const redisReply *x = rep[cmds + c];
                        if (x->type != REDIS_REPLY_INTEGER) {
                                sc_log(SC_LOG_WARN, "alert claim: %s",
                                       x->type == REDIS_REPLY_ERROR ? x->str
                                                                    : "unexpected reply");
                                return SC_RETRY;
                        }
                        if (x->integer == 0)
                                s->mdup[s->claims[c].msg] |=
                                    (unsigned char)(1u << s->claims[c].kind);
                }
        }
        /* Pass 2: dead letters and alerts (only the few messages that have
         * one are decoded again). */
        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = msgs[i].rkm;
                avro_value_t *v;
                int rc = 0;
                switch (s->mstat[i]) {
                case M_BAD_AVRO:
                        rc = sc_worker_dead_letter(w, &msgs[i], "bad_avro",
                                                   "not a whole Enriched or SlaEvent "
                                                   "record with its required fields");
                        break;
                case M_UNKNOWN_BRAND:
                        rc = sc_worker_dead_letter(w, &msgs[i], "unknown_brand",
                                                   "brand is not in the deployment file");
                        break;
                case M_MISSING:
                        rc = sc_worker_dead_letter(w, &msgs[i], "missing_field",
                                                   "empty or absent brand or event id");
                        break;
                case M_ENRICHED: {
                        sc_enriched_view_t ev;
                        if (sc_enriched_read(rkm->payload, rkm->len, &s->scratch, &ev))
                                break;
                        int neg = !strcmp(ev.sentiment, "negative");
                        if (sc_alert_is_crisis(ev.crisis, s->crisis_min))
                                rc = emit_post_alert(s, &msgs[i], i, SC_ALERT_CRISIS_POST,
                                                     &ev);
                        if (!rc && neg && ev.post.author_followers >= s->infl_min)
                                rc = emit_post_alert(s, &msgs[i], i,
                                                     SC_ALERT_INFLUENCER_NEGATIVE, &ev);
                        if (rc)
                                rc = sc_worker_dead_letter(w, &msgs[i], "produce_error",
                                                           sc_worker_errstr(w));
                        break;
                }
                case M_SLA:
                        if (sc_avro_decode(s->in_sla, rkm->payload, rkm->len, &v, err,
                                           sizeof(err)))
                                break;
                        rc = emit_sla(s, &msgs[i], i, v);
                        if (rc > 0)
                                rc = sc_worker_dead_letter(
                                    w, &msgs[i], "missing_field",
                                    "SlaEvent without brand or post");
                        else if (rc < 0)
                                rc = sc_worker_dead_letter(w, &msgs[i], "produce_error",
                                                           sc_worker_errstr(w));
                        break;
                default:
                        break;
                }
                if (rc)
                        return SC_FATAL;
        }
        for (int i = 0; i < ev_cnt; i++) {
                const sc_spike_event_t *e = sc_spike_event(s->spike, (size_t)i);
                if (emit_spike(s, &msgs[e->tag < n ? e->tag : n - 1], e))
                        sc_log(SC_LOG_ERROR, "alert %s: %s (kept in the outbox)",
                               e->alert_id, sc_worker_errstr(w));
        }
        sc_webhook_poll(s->wh, 0);
        update_gauges(s);
        return SC_OK;
}

static int alert_flush(sc_worker_t *w, void *state)
{
        state_t *s = state;
        (void)w;
        int64_t deadline = sc_mono_ms() + s->shutdown_ms;
        while (sc_webhook_pending(s->wh, -1) && sc_mono_ms() < deadline)
                sc_webhook_poll(s->wh, 50);
        if (sc_webhook_pending(s->wh, -1))
                sc_log(
                    SC_LOG_WARN,
                    "%zu webhook deliveries unfinished at shutdown; their inputs will be "
                    "consumed again",
                    sc_webhook_pending(s->wh, -1));
        flush_hdel(s);
        return 0;
}

static int same_wh(const sc_webhook_target_conf_t *a, const sc_webhook_target_conf_t *b)
{
        return !strcmp(a->id, b->id) && !strcmp(a->url, b->url) &&
               !strcmp(a->secret, b->secret) && a->timeout_ms == b->timeout_ms &&
               a->max_attempts == b->max_attempts && a->max_age_ms == b->max_age_ms &&
               a->concurrency == b->concurrency &&
               a->backoff_base_ms == b->backoff_base_ms &&
               a->backoff_max_ms == b->backoff_max_ms;
}

/* Makes t (n targets, taken over on success) the current set. A target whose
 * delivery settings equal a current one's reuses its engine slot (same queue
 * and concurrency); any other gets a new slot with its metric series. On
 * error nothing changes (a slot added before the error stays unused). */
static int apply_targets(state_t *s, sc_alert_target_t *t, size_t n, char *errstr,
                         size_t es)
{
        int *live = calloc(n ? n : 1, sizeof(*live));
        if (!live) {
                snprintf(errstr, es, "out of memory");
                return -1;
        }
        sc_metrics_t *m = sc_worker_metrics(s->w);
        for (size_t i = 0; i < n; i++) {
                live[i] = -1;
                for (size_t k = 0; k < s->target_cnt && live[i] < 0; k++)
                        if (same_wh(&t[i].wh, &s->targets[k].wh))
                                live[i] = s->live_wh[k];
                if (live[i] >= 0)
                        continue;
                int idx = sc_webhook_add_target(s->wh, &t[i].wh, errstr, es);
                if (idx < 0) {
                        free(live);
                        return -1;
                }
                target_rt_t *nt = realloc(s->trt, ((size_t)idx + 1) * sizeof(*nt));
                if (!nt) {
                        snprintf(errstr, es, "out of memory");
                        free(live);
                        return -1;
                }
                s->trt = nt;
                for (size_t k = s->trt_cnt; k <= (size_t)idx; k++)
                        memset(&s->trt[k], 0, sizeof(s->trt[k]));
                s->trt_cnt = (size_t)idx + 1;
                live[i] = idx;
                char labels[256];
                const char *id = t[i].id;
                snprintf(labels, sizeof(labels), "target=\"%s\"", id);
                target_rt_t *r = &s->trt[idx];
                r->deliveries =
                    sc_metrics_counter(m, "socialcare_webhook_deliveries_total",
                                       "Webhook deliveries answered 2xx", labels);
                r->parked =
                    sc_metrics_counter(m, "socialcare_webhook_parked_total",
                                       "Webhook deliveries parked for good", labels);
                r->pending = sc_metrics_gauge(m, "socialcare_webhook_pending",
                                              "Webhook deliveries not yet done", labels);
                for (int f = 0; f < 4; f++) {
                        snprintf(labels, sizeof(labels), "target=\"%s\",reason=\"%s\"",
                                 id, fail_names[f]);
                        r->fail[f] =
                            sc_metrics_counter(m, "socialcare_webhook_failures_total",
                                               "Failed webhook attempts", labels);
                }
        }
        for (size_t i = 0; i < n; i++)
                sc_log(SC_LOG_INFO, "webhook target %s: %s (%s)", t[i].id, t[i].url,
                       t[i].format == SC_FORMAT_SLACK ? "slack" : "json");
        sc_alert_targets_free(s->targets, s->target_cnt);
        free(s->live_wh);
        s->targets = t;
        s->target_cnt = n;
        s->live_wh = live;
        return 0;
}

static int load_targets(state_t *s, const sc_config_t *c, char *errstr, size_t es)
{
        sc_alert_target_t *t = NULL;
        size_t n = 0;
        if (sc_alert_targets_parse(sc_config_tree(c), sc_config_file(c), &t, &n, errstr,
                                   es))
                return -1;
        if (apply_targets(s, t, n, errstr, es)) {
                sc_alert_targets_free(t, n);
                return -1;
        }
        return 0;
}

static sc_spike_t *spike_from(sc_worker_t *w, const sc_config_t *c, int64_t window,
                              char *errstr, size_t es)
{
        sc_spike_opts_t o = {
            .window_ms = window,
            .bucket_ms = 60000,
            .baseline_days = (int)sc_config_int(c, "alert.spike.baseline_days"),
            .k = sc_config_double(c, "alert.spike.k"),
            .min_count = sc_config_int(c, "alert.spike.min_count"),
            .recent_ids = (int)sc_config_int(c, "alert.spike.recent_ids"),
            .per_topic = sc_config_bool(c, "alert.spike.per_topic"),
        };
        return sc_spike_new(sc_worker_redis(w), &o, errstr, es);
}

static int alert_init(sc_worker_t *w, void **statep, char *errstr, size_t es)
{
        const sc_config_t *c = sc_worker_config(w);
        state_t *s = calloc(1, sizeof(*s));
        if (!s)
                return -1;
        *statep = s;
        s->w = w;
        s->output_topic = sc_config_str(c, "alert.output_topic");
        s->park_topic = sc_config_str(c, "alert.park_topic");
        s->crisis_min = sc_config_double(c, "alert.crisis.min_confidence");
        s->infl_min = sc_config_int(c, "alert.influencer.min_followers");
        s->spike_on = sc_config_bool(c, "alert.spike.enabled");
        int bad = 0;
        int64_t window = dur_setting(c, "alert.spike.window", errstr, es, &bad);
        s->scan_ms = dur_setting(c, "alert.outbox.scan_interval", errstr, es, &bad);
        s->grace_ms = dur_setting(c, "alert.outbox.grace", errstr, es, &bad);
        s->shutdown_ms = dur_setting(c, "alert.shutdown_wait", errstr, es, &bad);
        if (bad)
                return -1;
        char subject[300];
        snprintf(subject, sizeof(subject), "%s-value", s->output_topic);
        sc_avro_t *av = sc_worker_avro(w);
        s->in_enriched = sc_avro_codec(av, "Enriched", NULL, errstr, es);
        s->in_sla =
            s->in_enriched ? sc_avro_codec(av, "SlaEvent", NULL, errstr, es) : NULL;
        s->out = s->in_sla ? sc_avro_codec(av, "Alert", subject, errstr, es) : NULL;
        if (!s->out)
                return -1;
        s->id_enriched = sc_avro_codec_id(s->in_enriched);
        s->id_sla = sc_avro_codec_id(s->in_sla);
        if (s->spike_on) {
                s->spike = spike_from(w, c, window, errstr, es);
                if (!s->spike)
                        return -1;
        }
        s->claim = sc_redis_script(sc_worker_redis(w), sc_redis_claim_lua);
        if (!s->claim) {
                snprintf(errstr, es, "cannot register the alert claim script");
                return -1;
        }
        s->wh = sc_webhook_new(on_done, on_attempt, s, errstr, es);
        if (!s->wh)
                return -1;
        if (load_targets(s, c, errstr, es))
                return -1;
        sc_metrics_t *m = sc_worker_metrics(w);
        for (int k = 0; k < SC_ALERT_KIND_CNT; k++) {
                char labels[128];
                snprintf(labels, sizeof(labels), "kind=\"%s\",severity=\"%s\"",
                         sc_alert_kind_name(k),
                         sc_alert_severity_name(sc_alert_kind_severity(k)));
                s->m_alerts[k] = sc_metrics_counter(m, "socialcare_alerts_total",
                                                    "Alerts emitted", labels);
        }
        s->m_dups = sc_metrics_counter(
            m, "socialcare_alert_duplicates_total",
            "Single-post alerts not emitted again: another input (a second copy of "
            "the same event) already emitted them",
            NULL);
        if (sc_config_int(c, "alert.tick_ms") > 200)
                sc_log(SC_LOG_WARN,
                       "alert.tick_ms=%lld: webhooks are driven from the tick; 50 is "
                       "recommended",
                       (long long)sc_config_int(c, "alert.tick_ms"));
        s->next_scan = sc_mono_ms() + s->scan_ms;
        return 0;
}

static int alert_check(const sc_config_t *c, char *errstr, size_t es)
{
        sc_alert_target_t *t;
        size_t n;
        if (sc_alert_targets_parse(sc_config_tree(c), sc_config_file(c), &t, &n, errstr,
                                   es))
                return -1;
        sc_alert_targets_free(t, n);
        int bad = 0;
        int64_t window = dur_setting(c, "alert.spike.window", errstr, es, &bad);
        dur_setting(c, "alert.outbox.scan_interval", errstr, es, &bad);
        dur_setting(c, "alert.outbox.grace", errstr, es, &bad);
        dur_setting(c, "alert.shutdown_wait", errstr, es, &bad);
        if (!bad && (window % 60000 || window > 86400000)) {
                snprintf(errstr, es,
                         "alert.spike.window must be whole minutes, at most 24h");
                bad = 1;
        }
        return bad ? -1 : 0;
}

/* Between batches. Everything is built first; on any error the running
 * targets and thresholds stay. New alerts use the new set; deliveries already
 * queued keep their engine slot (see apply_targets). */
static int alert_reload(sc_worker_t *w, void *state, const sc_config_t *c, char *errstr,
                        size_t es)
{
        state_t *s = state;
        if (alert_check(c, errstr, es))
                return -1;
        int bad = 0;
        int64_t window = dur_setting(c, "alert.spike.window", errstr, es, &bad);
        int64_t scan = dur_setting(c, "alert.outbox.scan_interval", errstr, es, &bad);
        int64_t grace = dur_setting(c, "alert.outbox.grace", errstr, es, &bad);
        int64_t shut = dur_setting(c, "alert.shutdown_wait", errstr, es, &bad);
        if (bad)
                return -1;
        sc_spike_t *sp = NULL;
        if (s->spike_on) {
                sp = spike_from(w, c, window, errstr, es);
                if (!sp)
                        return -1;
        }
        if (load_targets(s, c, errstr, es)) {
                sc_spike_destroy(sp);
                return -1;
        }
        if (sp) {
                sc_spike_destroy(s->spike);
                s->spike = sp;
        }
        if (sc_config_bool(c, "alert.spike.enabled") != s->spike_on)
                sc_log(SC_LOG_WARN, "alert.spike.enabled: a change needs a restart");
        if (strcmp(sc_config_str(c, "alert.output_topic"), s->output_topic) ||
            strcmp(sc_config_str(c, "alert.park_topic"), s->park_topic))
                sc_log(SC_LOG_WARN,
                       "alert.output_topic / alert.park_topic: a change needs a restart");
        s->crisis_min = sc_config_double(c, "alert.crisis.min_confidence");
        s->infl_min = sc_config_int(c, "alert.influencer.min_followers");
        s->scan_ms = scan;
        s->grace_ms = grace;
        s->shutdown_ms = shut;
        sc_log(SC_LOG_INFO, "alert reloaded: %zu webhook targets", s->target_cnt);
        return 0;
}

static void alert_destroy(void *state)
{
        state_t *s = state;
        if (!s)
                return;
        /* Deliveries still queued are dropped: their inputs were not stored.
         * The runtime committed and closed the consumer before destroy, so
         * releasing the holds now only returns the in-flight records. */
        sc_webhook_destroy(s->wh);
        while (s->jobs) {
                job_t *j = s->jobs;
                s->jobs = j->next;
                while (j->dels) {
                        dctx_t *d = j->dels;
                        j->dels = d->next;
                        sc_worker_release(s->w, d->hold);
                        free(d);
                }
                free(j->alert_id);
                free(j->brand);
                free(j);
        }
        while (s->seen) {
                seen_t *x = s->seen;
                s->seen = x->next;
                free(x->brand);
                free(x->alert_id);
                free(x);
        }
        for (size_t i = 0; i < 2 * s->hdel_cnt; i++)
                free(s->hdel[i]);
        free(s->hdel);
        for (size_t i = 0; i < s->stuck_cnt; i++)
                sc_worker_release(s->w, s->stuck[i]);
        free(s->stuck);
        free(s->claims);
        free(s->mdup);
        sc_buf_free(&s->claim_strs);
        sc_buf_free(&s->alert_id);
        sc_spike_destroy(s->spike);
        sc_alert_targets_free(s->targets, s->target_cnt);
        free(s->live_wh);
        free(s->trt);
        free(s->mstat);
        sc_buf_free(&s->avro);
        sc_buf_free(&s->body);
        sc_buf_free(&s->title);
        sc_buf_free(&s->summary);
        sc_buf_free(&s->scratch);
        free(s);
}

static const sc_worker_ops_t ops = {
    .name = "alert",
    .description =
        "negative spikes, crisis posts and SLA breaches -> care.alerts + webhooks",
    .input_topics = "social.posts.enriched,care.sla",
    .conf_defs = alert_defs,
    .uses_redis = 1,
    .dlq_reasons = "bad_avro,missing_field,produce_error,unknown_brand",
    .init = alert_init,
    .process = alert_process,
    .tick = alert_tick,
    .reload = alert_reload,
    .flush = alert_flush,
    .destroy = alert_destroy,
    .check_config = alert_check,
    .pump = alert_pump,
};

int main(int argc, char **argv)
{
        return sc_worker_main(argc, argv, &ops);
}
