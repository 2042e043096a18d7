#include "sc_alert_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_log.h"
#include "sc_rkey.h"
#include "sc_sla_event.h"
#include "sc_time.h"
#include "sc_utf8.h"
#include "sc_vocab.h"
#include "sc_webhook.h"

#define CLAIM_TTL_S "604800" /* 7 days: longer than any replay of care.sla */

typedef struct claim_s {
        size_t msg;
        int kind;
        size_t key_off, origin_off; /* into claim_strs */
} claim_t;

typedef struct job_s job_t;

/* One webhook delivery of a job; the webhook engine's cookie. */
typedef struct dctx_s {
        job_t *job;
        void *hold;
        int target;
        struct dctx_s *next;
} dctx_t;

/* One emitted alert until its output record and all its webhook deliveries
 * are done. */
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

typedef struct target_rt_s {
        sc_counter_t *deliveries, *parked, *fail[4];
        sc_gauge_t *pending;
} target_rt_t;

typedef struct hdel_s {
        char *brand, *alert_id;
} hdel_t;

/* Per input of a batch. */
enum { M_OK, M_BAD_AVRO, M_ENRICHED, M_SLA, M_UNKNOWN_BRAND, M_MISSING };

struct sc_alert_engine_s {
        sc_alert_host_t host;
        char *output_topic, *park_topic;
        double crisis_min;
        int64_t infl_min;
        int spike_on;
        int64_t scan_ms, grace_ms, shutdown_ms, next_scan;
        sc_redis_t *redis;
        sc_metrics_t *metrics;
        sc_avro_codec_t *in_enriched, *in_sla, *out;
        int32_t id_enriched, id_sla;
        sc_spike_t *spike;
        sc_webhook_t *wh;
        /* The current targets (matching and body format) and, per current
         * target, its engine slot. Slots are never removed. */
        sc_alert_target_t *targets;
        size_t target_cnt;
        int *live_wh;
        target_rt_t *trt; /* per engine slot */
        size_t trt_cnt, trt_cap;
        job_t *jobs;
        size_t job_cnt;
        seen_t *seen;
        hdel_t *hdel; /* pending outbox removals */
        size_t hdel_cnt, hdel_cap;
        unsigned char *mstat, *mdup; /* mdup: bit per alert kind claimed elsewhere */
        size_t mstat_cap, mdup_cap;
        sc_redis_script_t *claim;
        claim_t *claims;
        size_t claim_cnt, claim_cap;
        sc_buf_t claim_strs, alert_id;
        void **stuck; /* holds of deliveries neither made nor parked */
        size_t stuck_cnt, stuck_cap;
        sc_counter_t *m_dups;
        sc_buf_t avro, body, title, summary, scratch;
        sc_counter_t *m_alerts[SC_ALERT_KIND_CNT];
};

static const char *const fail_names[4] = {"timeout", "5xx", "4xx", "connect"};

unsigned sc_alert_decide(const sc_enriched_view_t *v, double crisis_min, int64_t infl_min)
{
        const char *s = v->sentiment ? v->sentiment : "";
        int neg = sc_label_parse(s, strlen(s)) == SC_LABEL_NEGATIVE;
        int crisis = sc_alert_is_crisis(v->crisis, crisis_min);
        unsigned d = 0;
        if (crisis)
                d |= SC_ALERT_DECIDE_CRISIS;
        if (neg && v->post.author_followers >= infl_min)
                d |= SC_ALERT_DECIDE_INFLUENCER;
        if (neg || crisis)
                d |= SC_ALERT_DECIDE_SPIKE;
        return d;
}

/* ---- jobs ----------------------------------------------------------------- */

static void job_unref(sc_alert_engine_t *e, job_t *j)
{
        if (--j->refs > 0)
                return;
        if (j->outbox) {
                hdel_t h = {j->brand, j->alert_id};
                SC_PUSH(e->hdel, e->hdel_cnt, e->hdel_cap, h);
                j->brand = j->alert_id = NULL;
        }
        if (j->prev)
                j->prev->next = j->next;
        else
                e->jobs = j->next;
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
        e->job_cnt--;
}

static job_t *job_find(sc_alert_engine_t *e, const char *alert_id)
{
        for (job_t *j = e->jobs; j; j = j->next)
                if (!strcmp(j->alert_id, alert_id))
                        return j;
        return NULL;
}

static job_t *job_new(sc_alert_engine_t *e, const char *alert_id, const char *brand,
                      int outbox)
{
        job_t *j = sc_calloc(1, sizeof(*j));
        j->alert_id = sc_strdup(alert_id);
        j->brand = sc_strdup(brand);
        j->outbox = outbox;
        j->refs = 1;
        j->next = e->jobs;
        if (e->jobs)
                e->jobs->prev = j;
        e->jobs = j;
        e->job_cnt++;
        return j;
}

/* ---- webhook callbacks ------------------------------------------------------ */

static void on_attempt(void *opaque, int target, const char *fail)
{
        sc_alert_engine_t *e = opaque;
        target_rt_t *t = &e->trt[target];
        if (!fail) {
                sc_counter_add(t->deliveries, 1);
                return;
        }
        for (int i = 0; i < 4; i++)
                if (!strcmp(fail, fail_names[i]))
                        sc_counter_add(t->fail[i], 1);
}

typedef struct park_s {
        sc_alert_engine_t *e;
        void *hold;
        job_t *job; /* a reference: the job is done once its park is delivered */
} park_t;

static void on_park_delivered(void *arg)
{
        park_t *p = arg;
        p->e->host.release(p->e->host.opaque, p->hold);
        job_unref(p->e, p->job);
        free(p);
}

/* The input's offset must not be stored: the hold stays taken until destroy,
 * so the input is consumed again after a restart or a rebalance. */
static void keep_hold(sc_alert_engine_t *e, void *h)
{
        if (h)
                SC_PUSH(e->stuck, e->stuck_cnt, e->stuck_cap, h);
}

/* Produces the parked copy of a delivery that failed for good; its delivery
 * releases the input's hold, so the offset waits for it. */
static void park(sc_alert_engine_t *e, int target, dctx_t *d,
                 const sc_webhook_result_t *r)
{
        char attempts[16], status[16];
        snprintf(attempts, sizeof(attempts), "%d", r->attempts);
        snprintf(status, sizeof(status), "%ld", r->http_status);
        const char *tid = sc_webhook_target_id(e->wh, target);
        sc_header_t h[] = {
            {"sc-webhook-target", tid, strlen(tid)},
            {"sc-park-reason", r->reason, strlen(r->reason)},
            {"sc-attempts", attempts, strlen(attempts)},
            {"sc-last-error", r->last_error, strlen(r->last_error)},
            {"sc-http-status", status, strlen(status)},
            {"sc-alert-id", r->alert_id, strlen(r->alert_id)},
            {"sc-worker", "alert", 5},
        };
        park_t *p = sc_malloc(sizeof(*p));
        p->e = e;
        p->hold = d->hold;
        p->job = d->job;
        d->job->refs++;
        if (e->host.produce(e->host.opaque, NULL, e->park_topic, r->alert_id,
                            strlen(r->alert_id), r->body, r->body_len, h,
                            sizeof(h) / sizeof(h[0]), on_park_delivered, p) == 0) {
                d->hold = NULL;
        } else {
                sc_log(SC_LOG_ERROR,
                       "park of %s for %s failed: %s (input kept unstored, "
                       "consumed again after a restart or rebalance)",
                       r->alert_id, tid, e->host.errstr(e->host.opaque));
                d->job->refs--;
                free(p);
                keep_hold(e, d->hold);
                d->hold = NULL;
                /* An outbox alert stays in the outbox: emitted again. */
                d->job->outbox = 0;
        }
        sc_counter_add(e->trt[target].parked, 1);
}

static void on_done(void *opaque, int target, void *cookie, const sc_webhook_result_t *r)
{
        sc_alert_engine_t *e = opaque;
        dctx_t *d = cookie;
        if (!r->delivered)
                park(e, target, d, r);
        e->host.release(e->host.opaque, d->hold);
        d->hold = NULL;
        job_unref(e, d->job);
}

/* ---- emitting ------------------------------------------------------------- */

typedef struct kafka_arg_s {
        sc_alert_engine_t *e;
        job_t *j;
} kafka_arg_t;

static void on_alert_delivered(void *arg)
{
        kafka_arg_t *k = arg;
        job_unref(k->e, k->j);
        free(k);
}

/* Queues a for every matching target, each delivery holding origin. */
static void submit_all(sc_alert_engine_t *e, void *origin, const sc_alert_t *a, job_t *j)
{
        for (size_t t = 0; t < e->target_cnt; t++) {
                if (!sc_alert_target_matches(&e->targets[t], a))
                        continue;
                sc_buf_reset(&e->body);
                if (e->targets[t].format == SC_FORMAT_SLACK)
                        sc_alert_slack(a, &e->body);
                else
                        sc_alert_json(a, &e->body);
                dctx_t *d = sc_calloc(1, sizeof(*d));
                d->job = j;
                d->target = e->live_wh[t];
                d->hold = e->host.hold(e->host.opaque, origin);
                if (sc_webhook_submit(e->wh, d->target, a->id, e->body.data, e->body.len,
                                      d)) {
                        e->host.release(e->host.opaque, d->hold);
                        free(d);
                        continue;
                }
                d->next = j->dels;
                j->dels = d;
                j->refs++;
        }
}

/* Produces the Alert to the output topic and queues it for every matching
 * target. origin may be NULL (outbox re-emission). Returns 0 or -1 (a
 * permanent produce error). */
static int emit(sc_alert_engine_t *e, void *origin, const sc_alert_t *a, int outbox)
{
        /* A spike alert is emitted once by the script, then only again from
         * the outbox: skip it while it is still on its way from here. A
         * single-post alert of a re-consumed input is always emitted again
         * (its hold must guard the new offset). */
        if (outbox && job_find(e, a->id))
                return 0;
        sc_buf_reset(&e->avro);
        if (sc_alert_encode(a, e->out, &e->avro))
                return -1;
        job_t *j = job_new(e, a->id, a->brand, outbox);
        kafka_arg_t *ka = sc_malloc(sizeof(*ka));
        ka->e = e;
        ka->j = j;
        if (e->host.produce(e->host.opaque, origin, e->output_topic, a->brand,
                            strlen(a->brand), e->avro.data, e->avro.len, NULL, 0,
                            on_alert_delivered, ka) == -1) {
                free(ka);
                j->outbox = 0;
                job_unref(e, j);
                return -1;
        }
        sc_counter_add(e->m_alerts[a->kind], 1);
        sc_log(SC_LOG_INFO, "alert %s (%s, %s): %s", a->id, sc_alert_kind_name(a->kind),
               sc_alert_severity_name(a->severity), a->title);
        submit_all(e, origin, a, j);
        return 0;
}

static void text_snippet(sc_buf_t *b, const char *text, size_t len, size_t max)
{
        size_t n = sc_utf8_truncate(text, len, max);
        sc_buf_putc(b, '"');
        sc_buf_append(b, text, n);
        sc_buf_puts(b, n < len ? "…\"" : "\"");
}

/* "<kind>:<post event id>" into alert_id, sized from the id (never truncated,
 * so two events never share an alert id). */
static const char *post_alert_id(sc_alert_engine_t *e, int kind, const char *event_id)
{
        sc_buf_reset(&e->alert_id);
        sc_buf_printf(&e->alert_id, "%s:%s", sc_alert_kind_name(kind), event_id);
        return e->alert_id.data ? e->alert_id.data : "";
}

/* 1 if another input already emitted this single-post alert (counted). */
static int duplicate(sc_alert_engine_t *e, size_t msg, int kind, const char *id)
{
        if (!(e->mdup[msg] & (1u << kind)))
                return 0;
        sc_counter_add(e->m_dups, 1);
        sc_log(SC_LOG_INFO, "alert %s: already emitted for another input, skipped", id);
        return 1;
}

static int emit_post_alert(sc_alert_engine_t *e, void *origin, size_t msg, int kind,
                           const sc_enriched_view_t *v)
{
        const sc_post_t *p = &v->post;
        const char *id = post_alert_id(e, kind, p->event_id);
        if (duplicate(e, msg, kind, id))
                return 0;
        sc_buf_reset(&e->title);
        sc_buf_reset(&e->summary);
        if (kind == SC_ALERT_CRISIS_POST)
                sc_buf_printf(&e->title, "Crisis post about %s on %s", p->brand,
                              p->platform);
        else
                sc_buf_printf(&e->title,
                              "Negative post about %s by %s%s (%lld followers)", p->brand,
                              p->author_handle ? "@" : "",
                              p->author_handle ? p->author_handle : p->author_id,
                              (long long)p->author_followers);
        sc_buf_printf(&e->summary,
                      "%s%s (%lld followers) on %s: ", p->author_handle ? "@" : "",
                      p->author_handle ? p->author_handle : p->author_id,
                      (long long)p->author_followers, p->platform);
        text_snippet(&e->summary, p->text, p->text_len, 280);
        if (kind == SC_ALERT_CRISIS_POST)
                sc_buf_printf(&e->summary, " (crisis confidence %.2f, sentiment %s)",
                              v->crisis, v->sentiment);
        const char *ids[] = {p->event_id};
        sc_alert_t a = {.kind = kind,
                        .severity = sc_alert_kind_severity(kind),
                        .id = id,
                        .brand = p->brand,
                        .topic = v->topic_cnt ? v->topics[0] : NULL,
                        .title = e->title.data,
                        .summary = e->summary.data,
                        .url = p->url,
                        .count = 1,
                        .post_ids = ids,
                        .post_id_cnt = 1,
                        .created_at = sc_now_ms()};
        return emit(e, origin, &a, 0);
}

/* The alert kind of an SLA event kind, or -1 (hit, late: no alert). */
static int sla_alert_kind(const char *kind)
{
        return kind && !strcmp(kind, "breach")      ? SC_ALERT_SLA_BREACH
               : kind && !strcmp(kind, "recovered") ? SC_ALERT_SLA_RECOVERED
                                                    : -1;
}

/* A framed SlaEvent (the caller checked the schema id) into out, strings in
 * e->scratch: 0, or -1 when malformed. Whether brand and post are there is
 * the caller's check (an empty event_id or kind is not missing_field here). */
static int read_sla(sc_alert_engine_t *e, const sc_alert_in_t *in, sc_sla_record_t *out)
{
        char err[256];
        return sc_sla_event_decode(NULL, in->data, in->len, &e->scratch, out, err,
                                   sizeof(err)) == SC_REC_BAD
                   ? -1
                   : 0;
}

/* 0, 1 (brand or post missing) or -1 (produce error). */
static int emit_sla(sc_alert_engine_t *e, void *origin, size_t msg,
                    const sc_sla_record_t *v)
{
        int ak = sla_alert_kind(v->kind);
        if (ak < 0)
                return 0;
        const char *pe = v->post_event_id;
        const char *brand = v->brand;
        if (!pe || !brand)
                return 1;
        const char *team = v->team;
        const char *prio = v->priority;
        const char *platform = v->platform;
        const char *text = v->text;
        size_t tlen = text ? strlen(text) : 0;
        int64_t created = v->created_at, due = v->due_at;
        char due_s[32];
        const char *id = post_alert_id(e, ak, pe);
        if (duplicate(e, msg, ak, id))
                return 0;
        sc_time_format(due, due_s);
        sc_buf_reset(&e->title);
        sc_buf_reset(&e->summary);
        if (ak == SC_ALERT_SLA_RECOVERED) {
                sc_buf_printf(&e->title,
                              "SLA breach retracted: %s post for %s was answered in time "
                              "(team %s)",
                              prio ? prio : "?", brand, team ? team : "?");
                sc_buf_printf(&e->summary,
                              "Due %s, a reply written before it arrived late. %s: ",
                              due_s, platform ? platform : "?");
        } else {
                sc_buf_printf(&e->title,
                              "SLA breached: %s post for %s unanswered (team %s)",
                              prio ? prio : "?", brand, team ? team : "?");
                sc_buf_printf(&e->summary, "Due %s, still no reply. %s: ", due_s,
                              platform ? platform : "?");
        }
        text_snippet(&e->summary, text ? text : "", tlen, 280);
        const char *ids[] = {pe};
        sc_alert_t a = {.kind = ak,
                        .severity = sc_alert_kind_severity(ak),
                        .id = id,
                        .brand = brand,
                        .title = e->title.data,
                        .summary = e->summary.data,
                        .url = v->url,
                        .window_start = created,
                        .window_end = due,
                        .count = 1,
                        .post_ids = ids,
                        .post_id_cnt = 1,
                        .created_at = sc_now_ms()};
        return emit(e, origin, &a, 0) ? -1 : 0;
}

static int emit_spike(sc_alert_engine_t *e, void *origin, const sc_spike_event_t *ev)
{
        int kind = ev->kind == SC_SPIKE_OPENED ? SC_ALERT_SPIKE : SC_ALERT_SPIKE_RESOLVED;
        int64_t mins = (ev->window_end - ev->window_start) / 60000;
        sc_buf_reset(&e->title);
        sc_buf_reset(&e->summary);
        sc_buf_printf(&e->title, "%s %s%s%s",
                      kind == SC_ALERT_SPIKE ? "Negative spike for"
                                             : "Negative spike over for",
                      ev->brand, ev->topic ? " / " : "", ev->topic ? ev->topic : "");
        sc_buf_printf(
            &e->summary,
            "%lld negative or crisis posts in %lld min (baseline %.1f ± %.1f for "
            "this time of day)",
            (long long)ev->count, (long long)mins, ev->mean, ev->stddev);
        sc_alert_t a = {.kind = kind,
                        .severity = sc_alert_kind_severity(kind),
                        .id = ev->alert_id,
                        .brand = ev->brand,
                        .topic = ev->topic,
                        .title = e->title.data,
                        .summary = e->summary.data,
                        .window_start = ev->window_start,
                        .window_end = ev->window_end,
                        .count = ev->count,
                        .baseline_mean = ev->mean,
                        .baseline_stddev = ev->stddev,
                        .post_ids = ev->ids,
                        .post_id_cnt = ev->id_cnt,
                        .created_at = sc_now_ms()};
        return emit(e, origin, &a, 1);
}

/* ---- outbox --------------------------------------------------------------- */

void sc_alert_engine_flush_outbox(sc_alert_engine_t *e)
{
        sc_redis_t *r = e->redis;
        if (!e->hdel_cnt || !r)
                return;
        char key[256];
        for (size_t i = 0; i < e->hdel_cnt; i++) {
                sc_spike_outbox_key(e->hdel[i].brand, key, sizeof(key));
                const char *argv[] = {"HDEL", key, e->hdel[i].alert_id};
                sc_redis_append(r, 3, argv, NULL);
        }
        redisReply **rep;
        size_t cnt;
        if (sc_redis_exec(r, &rep, &cnt))
                return; /* kept; tried again next tick */
        for (size_t i = 0; i < e->hdel_cnt; i++) {
                free(e->hdel[i].brand);
                free(e->hdel[i].alert_id);
        }
        e->hdel_cnt = 0;
}

static seen_t *seen_mark(sc_alert_engine_t *e, const char *brand, const char *id,
                         int64_t now)
{
        seen_t *x = e->seen;
        while (x && (strcmp(x->alert_id, id) || strcmp(x->brand, brand)))
                x = x->next;
        if (!x) {
                x = sc_calloc(1, sizeof(*x));
                x->brand = sc_strdup(brand);
                x->alert_id = sc_strdup(id);
                x->first_ms = now;
                x->next = e->seen;
                e->seen = x;
        }
        x->live = 1;
        return x;
}

/* Forgets what the last scan did not find (delivered or removed). */
static void seen_prune(sc_alert_engine_t *e)
{
        for (seen_t **pp = &e->seen; *pp;) {
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

/* One brand's HGETALL reply: emits what has waited a grace period. */
static int scan_brand(sc_alert_engine_t *e, const char *brand, const redisReply *h,
                      int64_t now)
{
        int again = 0;
        for (size_t k = 0; k + 1 < h->elements; k += 2) {
                const char *id = h->element[k]->str;
                if (!id || job_find(e, id))
                        continue;
                seen_t *x = seen_mark(e, brand, id, now);
                if (now - x->first_ms < e->grace_ms)
                        continue;
                char *val =
                    sc_strdup(h->element[k + 1]->str ? h->element[k + 1]->str : "");
                const char *ids[100];
                sc_spike_event_t ev;
                if (sc_spike_outbox_parse(val, id, &ev, ids, 100) == 0) {
                        sc_log(SC_LOG_WARN, "outbox: emitting %s again", id);
                        if (emit_spike(e, NULL, &ev) == 0)
                                again++;
                }
                free(val);
                x->first_ms = now;
        }
        return again;
}

/* Entries still in an outbox a grace period after first seen, and not on
 * their way here, are emitted again (origin NULL: the outbox is their
 * at-least-once record). */
int sc_alert_engine_scan_outbox(sc_alert_engine_t *e, const sc_brands_t *bs)
{
        sc_redis_t *r = e->redis;
        size_t nb = bs ? sc_brands_count(bs) : 0;
        if (!r || !nb)
                return 0;
        char key[256];
        for (size_t i = 0; i < nb; i++) {
                sc_spike_outbox_key(sc_brands_at(bs, i)->id, key, sizeof(key));
                const char *argv[] = {"HGETALL", key};
                sc_redis_append(r, 2, argv, NULL);
        }
        redisReply **rep;
        size_t cnt;
        if (sc_redis_exec(r, &rep, &cnt) || cnt != nb)
                return 0;
        int64_t now = sc_mono_ms();
        int again = 0;
        for (seen_t *x = e->seen; x; x = x->next)
                x->live = 0;
        for (size_t i = 0; i < nb; i++)
                if (rep[i]->type == REDIS_REPLY_ARRAY)
                        again += scan_brand(e, sc_brands_at(bs, i)->id, rep[i], now);
        seen_prune(e);
        return again;
}

/* ---- batches -------------------------------------------------------------- */

static void update_gauges(sc_alert_engine_t *e)
{
        /* Engine slots of one target id (before and after a reload) share
         * their series: the gauge is their sum. */
        for (size_t t = 0; t < e->trt_cnt; t++) {
                int first = 1;
                for (size_t u = 0; u < t && first; u++)
                        first = e->trt[u].pending != e->trt[t].pending;
                if (!first)
                        continue;
                size_t n = 0;
                for (size_t u = t; u < e->trt_cnt; u++)
                        if (e->trt[u].pending == e->trt[t].pending)
                                n += sc_webhook_pending(e->wh, (int)u);
                sc_gauge_set(e->trt[t].pending, (double)n);
        }
}

void sc_alert_engine_tick(sc_alert_engine_t *e, const sc_brands_t *brands)
{
        sc_webhook_poll(e->wh, 0);
        update_gauges(e);
        sc_alert_engine_flush_outbox(e);
        if (e->spike_on && sc_mono_ms() >= e->next_scan) {
                e->next_scan = sc_mono_ms() + e->scan_ms;
                sc_alert_engine_scan_outbox(e, brands);
        }
}

void sc_alert_engine_pump(sc_alert_engine_t *e)
{
        sc_webhook_poll(e->wh, 0);
}

/* Queues the claim of a single-post alert (appended after the spike
 * commands, in the same round trip). */
static void add_claim(sc_alert_engine_t *e, const sc_alert_in_t *in, size_t msg, int kind,
                      const char *brand, const char *event_id)
{
        SC_GROW(e->claims, e->claim_cap, e->claim_cnt + 1);
        claim_t *c = &e->claims[e->claim_cnt++];
        c->msg = msg;
        c->kind = kind;
        c->key_off = e->claim_strs.len;
        sc_rkey_brand(&e->claim_strs, brand, "alert:sent:%s:%s", sc_alert_kind_name(kind),
                      event_id);
        sc_buf_putc(&e->claim_strs, '\0');
        c->origin_off = e->claim_strs.len;
        sc_buf_printf(&e->claim_strs, "%s/%d/%lld", in->topic ? in->topic : "",
                      (int)in->partition, (long long)in->offset);
        sc_buf_putc(&e->claim_strs, '\0');
}

/* Pass 1 for an Enriched input: status, claims, spike counting. */
static int scan_enriched(sc_alert_engine_t *e, const sc_brands_t *brands,
                         const sc_alert_in_t *in, size_t i)
{
        sc_enriched_view_t ev;
        if (sc_enriched_read(in->data, in->len, &e->scratch, &ev))
                return 0;
        if (sc_post_missing(&ev.post)) {
                e->mstat[i] = M_MISSING;
                return 0;
        }
        if (!sc_brands_find(brands, ev.post.brand)) {
                e->mstat[i] = M_UNKNOWN_BRAND;
                return 0;
        }
        e->mstat[i] = M_OK;
        if (ev.post.is_brand)
                return 0;
        unsigned d = sc_alert_decide(&ev, e->crisis_min, e->infl_min);
        if (d & (SC_ALERT_DECIDE_CRISIS | SC_ALERT_DECIDE_INFLUENCER))
                e->mstat[i] = M_ENRICHED;
        if (d & SC_ALERT_DECIDE_CRISIS)
                add_claim(e, in, i, SC_ALERT_CRISIS_POST, ev.post.brand,
                          ev.post.event_id);
        if (d & SC_ALERT_DECIDE_INFLUENCER)
                add_claim(e, in, i, SC_ALERT_INFLUENCER_NEGATIVE, ev.post.brand,
                          ev.post.event_id);
        if (e->spike_on && sc_spike_add(e->spike, ev.post.brand, ev.topics, ev.topic_cnt,
                                        ev.post.event_id, ev.post.created_at,
                                        (d & SC_ALERT_DECIDE_SPIKE) != 0, i))
                return -1;
        return 0;
}

/* Pass 1 for an SlaEvent input: status and claim. */
static void scan_sla(sc_alert_engine_t *e, const sc_brands_t *brands,
                     const sc_alert_in_t *in, size_t i)
{
        sc_sla_record_t v;
        if (read_sla(e, in, &v))
                return;
        const char *brand = v.brand;
        const char *pe = v.post_event_id;
        if (!brand || !*brand || !pe || !*pe) {
                e->mstat[i] = M_MISSING;
                return;
        }
        if (!sc_brands_find(brands, brand)) {
                e->mstat[i] = M_UNKNOWN_BRAND;
                return;
        }
        int ak = sla_alert_kind(v.kind);
        e->mstat[i] = ak >= 0 ? M_SLA : M_OK;
        if (ak >= 0)
                add_claim(e, in, i, ak, brand, pe);
}

/* The spike commands and the claims in one round trip. Returns the number of
 * spike events, or -1 (retry the batch). */
static int run_redis(sc_alert_engine_t *e)
{
        char err[256];
        int ev_cnt = 0;
        size_t cmds = e->spike_on ? sc_spike_prepare(e->spike) : 0;
        sc_redis_t *r = e->redis;
        if (!(cmds + e->claim_cnt))
                return 0;
        for (size_t c = 0; c < e->claim_cnt; c++) {
                const char *argv[3] = {e->claim_strs.data + e->claims[c].key_off,
                                       e->claim_strs.data + e->claims[c].origin_off,
                                       CLAIM_TTL_S};
                sc_redis_append_script(r, e->claim, 1, 3, argv, NULL);
        }
        redisReply **rep;
        size_t cnt;
        if (sc_redis_exec(r, &rep, &cnt) || cnt != cmds + e->claim_cnt) {
                sc_log(SC_LOG_WARN, "redis: %s", sc_redis_errstr(r));
                return -1;
        }
        if (cmds) {
                ev_cnt = sc_spike_collect(e->spike, rep, cnt, err, sizeof(err));
                if (ev_cnt < 0) {
                        sc_log(SC_LOG_ERROR, "%s", err);
                        return -1;
                }
        }
        for (size_t c = 0; c < e->claim_cnt; c++) {
                const redisReply *x = rep[cmds + c];
                if (x->type != REDIS_REPLY_INTEGER) {
                        sc_log(SC_LOG_WARN, "alert claim: %s",
                               x->type == REDIS_REPLY_ERROR ? x->str
                                                            : "unexpected reply");
                        return -1;
                }
                if (x->integer == 0)
                        e->mdup[e->claims[c].msg] |=
                            (unsigned char)(1u << e->claims[c].kind);
        }
        return ev_cnt;
}

/* Pass 2 for an input with an alert: decoded again (only the few that have one). */
static int emit_input(sc_alert_engine_t *e, const sc_alert_in_t *in, size_t i)
{
        void *o = in->origin;
        int rc = 0;
        if (e->mstat[i] == M_ENRICHED) {
                sc_enriched_view_t ev;
                if (sc_enriched_read(in->data, in->len, &e->scratch, &ev))
                        return 0;
                unsigned d = sc_alert_decide(&ev, e->crisis_min, e->infl_min);
                if (d & SC_ALERT_DECIDE_CRISIS)
                        rc = emit_post_alert(e, o, i, SC_ALERT_CRISIS_POST, &ev);
                if (!rc && (d & SC_ALERT_DECIDE_INFLUENCER))
                        rc = emit_post_alert(e, o, i, SC_ALERT_INFLUENCER_NEGATIVE, &ev);
                if (rc)
                        rc = e->host.dead_letter(e->host.opaque, o, "produce_error",
                                                 e->host.errstr(e->host.opaque));
                return rc;
        }
        sc_sla_record_t v;
        if (read_sla(e, in, &v))
                return 0;
        rc = emit_sla(e, o, i, &v);
        if (rc > 0)
                rc = e->host.dead_letter(e->host.opaque, o, "missing_field",
                                         "SlaEvent without brand or post");
        else if (rc < 0)
                rc = e->host.dead_letter(e->host.opaque, o, "produce_error",
                                         e->host.errstr(e->host.opaque));
        return rc;
}

/* Pass 2: dead letters and alerts. */
static int emit_batch(sc_alert_engine_t *e, const sc_alert_in_t *in, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                void *o = in[i].origin;
                int rc = 0;
                switch (e->mstat[i]) {
                case M_BAD_AVRO:
                        rc = e->host.dead_letter(e->host.opaque, o, "bad_avro",
                                                 "not a whole Enriched or SlaEvent "
                                                 "record with its required fields");
                        break;
                case M_UNKNOWN_BRAND:
                        rc = e->host.dead_letter(e->host.opaque, o, "unknown_brand",
                                                 "brand is not in the deployment file");
                        break;
                case M_MISSING:
                        rc = e->host.dead_letter(e->host.opaque, o, "missing_field",
                                                 "empty or absent brand or event id");
                        break;
                case M_ENRICHED:
                case M_SLA:
                        rc = emit_input(e, &in[i], i);
                        break;
                default:
                        break;
                }
                if (rc)
                        return -1;
        }
        return 0;
}

int sc_alert_engine_process(sc_alert_engine_t *e, const sc_brands_t *brands,
                            const sc_alert_in_t *in, size_t n)
{
        sc_webhook_poll(e->wh, 0);
        SC_GROW(e->mstat, e->mstat_cap, n);
        SC_GROW(e->mdup, e->mdup_cap, n);
        if (n)
                memset(e->mdup, 0, n);
        e->claim_cnt = 0;
        sc_buf_reset(&e->claim_strs);
        /* Pass 1: decode, spike counting; nothing produced before Redis said
         * yes, so an outage can still defer the whole batch. */
        if (e->spike_on)
                sc_spike_begin(e->spike, sc_now_ms());
        for (size_t i = 0; i < n; i++) {
                int32_t id = sc_avro_frame_id(in[i].data, in[i].len);
                e->mstat[i] = M_BAD_AVRO;
                if (id == e->id_enriched || sc_avro_codec_accepts(e->in_enriched, id)) {
                        if (scan_enriched(e, brands, &in[i], i))
                                return SC_FATAL;
                } else if (id == e->id_sla || sc_avro_codec_accepts(e->in_sla, id)) {
                        scan_sla(e, brands, &in[i], i);
                }
        }
        int ev_cnt = run_redis(e);
        if (ev_cnt < 0)
                return SC_RETRY;
        if (emit_batch(e, in, n))
                return SC_FATAL;
        for (int i = 0; i < ev_cnt; i++) {
                const sc_spike_event_t *ev = sc_spike_event(e->spike, (size_t)i);
                if (emit_spike(e, in[ev->tag < n ? ev->tag : n - 1].origin, ev))
                        sc_log(SC_LOG_ERROR, "alert %s: %s (kept in the outbox)",
                               ev->alert_id, e->host.errstr(e->host.opaque));
        }
        sc_webhook_poll(e->wh, 0);
        update_gauges(e);
        return SC_OK;
}

void sc_alert_engine_flush(sc_alert_engine_t *e)
{
        int64_t deadline = sc_mono_ms() + e->shutdown_ms;
        while (sc_webhook_pending(e->wh, -1) && sc_mono_ms() < deadline)
                sc_webhook_poll(e->wh, 50);
        if (sc_webhook_pending(e->wh, -1))
                sc_log(
                    SC_LOG_WARN,
                    "%zu webhook deliveries unfinished at shutdown; their inputs will be "
                    "consumed again",
                    sc_webhook_pending(e->wh, -1));
        sc_alert_engine_flush_outbox(e);
}

/* ---- targets -------------------------------------------------------------- */

static int same_wh(const sc_webhook_target_conf_t *a, const sc_webhook_target_conf_t *b)
{
        return !strcmp(a->id, b->id) && !strcmp(a->url, b->url) &&
               !strcmp(a->secret, b->secret) && a->timeout_ms == b->timeout_ms &&
               a->max_attempts == b->max_attempts && a->max_age_ms == b->max_age_ms &&
               a->concurrency == b->concurrency &&
               a->backoff_base_ms == b->backoff_base_ms &&
               a->backoff_max_ms == b->backoff_max_ms;
}

/* The metric series of a new engine slot. */
static void slot_metrics(sc_alert_engine_t *e, int idx, const char *id)
{
        SC_GROW(e->trt, e->trt_cap, (size_t)idx + 1);
        for (size_t k = e->trt_cnt; k <= (size_t)idx; k++)
                memset(&e->trt[k], 0, sizeof(e->trt[k]));
        if (e->trt_cnt < (size_t)idx + 1)
                e->trt_cnt = (size_t)idx + 1;
        char labels[256];
        sc_metrics_t *m = e->metrics;
        snprintf(labels, sizeof(labels), "target=\"%s\"", id);
        target_rt_t *r = &e->trt[idx];
        r->deliveries = sc_metrics_counter(m, "socialcare_webhook_deliveries_total",
                                           "Webhook deliveries answered 2xx", labels);
        r->parked = sc_metrics_counter(m, "socialcare_webhook_parked_total",
                                       "Webhook deliveries parked for good", labels);
        r->pending = sc_metrics_gauge(m, "socialcare_webhook_pending",
                                      "Webhook deliveries not yet done", labels);
        for (int f = 0; f < 4; f++) {
                snprintf(labels, sizeof(labels), "target=\"%s\",reason=\"%s\"", id,
                         fail_names[f]);
                r->fail[f] = sc_metrics_counter(m, "socialcare_webhook_failures_total",
                                                "Failed webhook attempts", labels);
        }
}

/* A target whose delivery settings equal a current one's reuses its engine
 * slot (same queue and concurrency); any other gets a new slot with its metric
 * series. On error nothing changes (a slot added before the error stays
 * unused). */
int sc_alert_engine_set_targets(sc_alert_engine_t *e, sc_alert_target_t *t, size_t n,
                                char *errstr, size_t es)
{
        int *live = sc_calloc(n ? n : 1, sizeof(*live));
        for (size_t i = 0; i < n; i++) {
                live[i] = -1;
                for (size_t k = 0; k < e->target_cnt && live[i] < 0; k++)
                        if (same_wh(&t[i].wh, &e->targets[k].wh))
                                live[i] = e->live_wh[k];
                if (live[i] >= 0)
                        continue;
                int idx = sc_webhook_add_target(e->wh, &t[i].wh, errstr, es);
                if (idx < 0) {
                        free(live);
                        return -1;
                }
                slot_metrics(e, idx, t[i].id);
                live[i] = idx;
        }
        for (size_t i = 0; i < n; i++)
                sc_log(SC_LOG_INFO, "webhook target %s: %s (%s)", t[i].id, t[i].url,
                       t[i].format == SC_FORMAT_SLACK ? "slack" : "json");
        sc_alert_targets_free(e->targets, e->target_cnt);
        free(e->live_wh);
        e->targets = t;
        e->target_cnt = n;
        e->live_wh = live;
        return 0;
}

size_t sc_alert_engine_target_count(const sc_alert_engine_t *e)
{
        return e->target_cnt;
}

int sc_alert_engine_target_slot(const sc_alert_engine_t *e, size_t i)
{
        return i < e->target_cnt ? e->live_wh[i] : -1;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void take_opts(sc_alert_engine_t *e, const sc_alert_opts_t *o)
{
        e->crisis_min = o->crisis_min;
        e->infl_min = o->infl_min;
        e->scan_ms = o->scan_ms;
        e->grace_ms = o->grace_ms;
        e->shutdown_ms = o->shutdown_ms;
}

static int open_codecs(sc_alert_engine_t *e, sc_avro_t *av, char *errstr, size_t es)
{
        char subject[300];
        snprintf(subject, sizeof(subject), "%s-value", e->output_topic);
        e->in_enriched = sc_avro_codec(av, "Enriched", NULL, errstr, es);
        e->in_sla =
            e->in_enriched ? sc_avro_codec(av, "SlaEvent", NULL, errstr, es) : NULL;
        e->out = e->in_sla ? sc_avro_codec(av, "Alert", subject, errstr, es) : NULL;
        if (!e->out)
                return -1;
        e->id_enriched = sc_avro_codec_id(e->in_enriched);
        e->id_sla = sc_avro_codec_id(e->in_sla);
        return 0;
}

static void alert_metrics(sc_alert_engine_t *e)
{
        for (int k = 0; k < SC_ALERT_KIND_CNT; k++) {
                char labels[128];
                snprintf(labels, sizeof(labels), "kind=\"%s\",severity=\"%s\"",
                         sc_alert_kind_name(k),
                         sc_alert_severity_name(sc_alert_kind_severity(k)));
                e->m_alerts[k] = sc_metrics_counter(e->metrics, "socialcare_alerts_total",
                                                    "Alerts emitted", labels);
        }
        e->m_dups = sc_metrics_counter(
            e->metrics, "socialcare_alert_duplicates_total",
            "Single-post alerts not emitted again: another input (a second copy of "
            "the same event) already emitted them",
            NULL);
}

sc_alert_engine_t *sc_alert_engine_new(const sc_alert_host_t *host,
                                       const sc_alert_opts_t *o, sc_redis_t *redis,
                                       sc_avro_t *avro, sc_metrics_t *metrics,
                                       char *errstr, size_t es)
{
        sc_alert_engine_t *e = sc_calloc(1, sizeof(*e));
        e->host = *host;
        e->output_topic = sc_strdup(o->output_topic);
        e->park_topic = sc_strdup(o->park_topic);
        e->spike_on = o->spike_on;
        e->redis = redis;
        e->metrics = metrics;
        take_opts(e, o);
        if (open_codecs(e, avro, errstr, es))
                goto fail;
        if (e->spike_on) {
                e->spike = sc_spike_new(redis, &o->spike, errstr, es);
                if (!e->spike)
                        goto fail;
        }
        e->claim = redis ? sc_redis_script(redis, sc_redis_claim_lua) : NULL;
        if (redis && !e->claim) {
                snprintf(errstr, es, "cannot register the alert claim script");
                goto fail;
        }
        e->wh = sc_webhook_new(on_done, on_attempt, e, errstr, es);
        if (!e->wh)
                goto fail;
        alert_metrics(e);
        e->next_scan = sc_mono_ms() + e->scan_ms;
        return e;
fail:
        sc_alert_engine_destroy(e);
        return NULL;
}

int sc_alert_engine_reload(sc_alert_engine_t *e, const sc_alert_opts_t *o,
                           sc_alert_target_t *t, size_t n, char *errstr, size_t es)
{
        sc_spike_t *sp = NULL;
        if (e->spike_on) {
                sp = sc_spike_new(e->redis, &o->spike, errstr, es);
                if (!sp)
                        return -1;
        }
        if (sc_alert_engine_set_targets(e, t, n, errstr, es)) {
                sc_spike_destroy(sp);
                return -1;
        }
        if (sp) {
                sc_spike_destroy(e->spike);
                e->spike = sp;
        }
        if (o->spike_on != e->spike_on)
                sc_log(SC_LOG_WARN, "alert.spike.enabled: a change needs a restart");
        if (strcmp(o->output_topic, e->output_topic) ||
            strcmp(o->park_topic, e->park_topic))
                sc_log(SC_LOG_WARN,
                       "alert.output_topic / alert.park_topic: a change needs a restart");
        take_opts(e, o);
        sc_log(SC_LOG_INFO, "alert reloaded: %zu webhook targets", e->target_cnt);
        return 0;
}

size_t sc_alert_engine_jobs(const sc_alert_engine_t *e)
{
        return e->job_cnt;
}

size_t sc_alert_engine_pending(const sc_alert_engine_t *e, int slot)
{
        return sc_webhook_pending(e->wh, slot);
}

void sc_alert_engine_destroy(sc_alert_engine_t *e)
{
        if (!e)
                return;
        /* Deliveries still queued are dropped: their inputs were not stored.
         * The runtime committed and closed the consumer before destroy, so
         * releasing the holds now only returns the in-flight records. */
        sc_webhook_destroy(e->wh);
        while (e->jobs) {
                job_t *j = e->jobs;
                e->jobs = j->next;
                while (j->dels) {
                        dctx_t *d = j->dels;
                        j->dels = d->next;
                        e->host.release(e->host.opaque, d->hold);
                        free(d);
                }
                free(j->alert_id);
                free(j->brand);
                free(j);
        }
        while (e->seen) {
                seen_t *x = e->seen;
                e->seen = x->next;
                free(x->brand);
                free(x->alert_id);
                free(x);
        }
        for (size_t i = 0; i < e->hdel_cnt; i++) {
                free(e->hdel[i].brand);
                free(e->hdel[i].alert_id);
        }
        free(e->hdel);
        for (size_t i = 0; i < e->stuck_cnt; i++)
                e->host.release(e->host.opaque, e->stuck[i]);
        free(e->stuck);
        free(e->claims);
        free(e->mdup);
        free(e->mstat);
        sc_buf_free(&e->claim_strs);
        sc_buf_free(&e->alert_id);
        sc_spike_destroy(e->spike);
        sc_alert_targets_free(e->targets, e->target_cnt);
        free(e->live_wh);
        free(e->trt);
        sc_buf_free(&e->avro);
        sc_buf_free(&e->body);
        sc_buf_free(&e->title);
        sc_buf_free(&e->summary);
        sc_buf_free(&e->scratch);
        free(e->output_topic);
        free(e->park_topic);
        free(e);
}
