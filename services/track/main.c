/* socialcare-track: reply rate, first-response time and SLA outcomes in
 * Redis (docs/TRACKING.md). Consumes care.routed (inbound posts: team,
 * needs_reply, due_at) and social.posts (the brand's own replies), keeps the
 * counters with one Lua call per brand of a batch (each record idempotent),
 * all in one pipeline,
 * and writes SlaEvent records (breach, hit, late) to care.sla. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_avro.h"
#include "sc_calendar.h"
#include "sc_log.h"
#include "sc_post.h"
#include "sc_routed.h"
#include "sc_sla_event.h"
#include "sc_time.h"
#include "sc_track.h"
#include "sc_worker.h"

static const sc_conf_def_t track_defs[] = {
    {"track.output_topic", SC_CONF_STR, "care.sla", 1, 0,
     "topic of Avro SlaEvent records"},
    {"track.retention_days", SC_CONF_INT, "90", 1, 3650,
     "days a day bucket's counters are kept after its last update"},
    {"track.reconcile_window", SC_CONF_STR, "7d", 1, 0,
     "how long a reply whose post is unknown waits for it (then: orphan reply)"},
    {"track.breach_grace", SC_CONF_STR, "30s", 1, 0,
     "a post unanswered at due_at + grace is breached"},
    {"track.state_ttl", SC_CONF_STR, "30d", 1, 0,
     "how long post state and event-id markers are kept (replies later than this "
     "count as orphans)"},
    {"track.gauge_interval", SC_CONF_STR, "10s", 1, 0,
     "period of the per-brand business gauges refresh"},
    {"track.scan_limit", SC_CONF_INT, "1000", 1, 100000,
     "breaches and orphans handled per brand per tick"},
    {"track.watermark_lateness", SC_CONF_STR, "1m", 1, 0,
     "how far behind its brand's latest social.posts created_at a record may arrive: "
     "a breach waits for watermark - lateness > due_at + grace"},
    {"track.watermark_idle", SC_CONF_STR, "10m", 1, 0,
     "a brand without social.posts records for this long is breached on the wall "
     "clock (0: always, i.e. processing-time breaches)"},
    {"track.engine", SC_CONF_STR, "c", 1, 0,
     "where the per-record logic runs: c (in the worker, Redis stores) or lua (the "
     "reference scripts inside Redis)"},
    SC_CONF_END,
};

typedef struct seen_brand_s {
        char **v;
        size_t n, cap;
} brand_list_t;

typedef struct brand_gauges_s {
        sc_gauge_t *received, *needs_reply, *replied, *reply_rate, *frt_median, *frt_avg,
            *missed, *pending;
} brand_gauges_t;

/* A record of the batch to dead-letter once the batch's Redis writes are in. */
typedef struct bad_s {
        size_t i;
        const char *reason;
        char detail[300];
} bad_t;

typedef struct track_s {
        sc_worker_t *w;
        const char *output_topic;
        sc_avro_codec_t *post_in, *routed_in, *sla_out;
        sc_track_t *tr;
        sc_calendars_t *cals;
        sc_track_conf_t conf;
        int64_t gauge_interval_ms, next_gauge_ms;
        brand_list_t brands;     /* configured + seen: scanned by the timer */
        brand_list_t registered; /* in sc:brands (SADD went through) */
        brand_list_t batch_new;  /* SADD queued in this batch */
        size_t configured;
        brand_gauges_t *gauges; /* one per configured brand */
        sc_buf_t payload;
        sc_buf_t scratch_in; /* the input record's strings (Routed or Post) */
        sc_routed_t routed;
        sc_msg_t *msgs; /* the batch in process() */
        bad_t *bad;
        size_t bad_cnt, bad_cap;
        int produce_failed;
        sc_counter_t *events_total[SC_TRACK_K_CNT], *ignored_own, *ignored_inbound;
        sc_counter_t *conflicts;
        sc_counter_t *sla_total[4];
} track_t;

typedef struct outbox_ref_s {
        track_t *s;
        char *brand, *member;
} outbox_ref_t;

static int parse_conf(const sc_config_t *c, sc_track_conf_t *conf, int64_t *gauge_ms,
                      char *errstr, size_t errstr_size)
{
        static const char *const names[] = {
            "track.reconcile_window", "track.breach_grace",       "track.state_ttl",
            "track.gauge_interval",   "track.watermark_lateness", "track.watermark_idle"};
        int64_t v[6];
        for (int i = 0; i < 6; i++)
                if (sc_duration_parse(sc_config_str(c, names[i]), &v[i])) {
                        snprintf(errstr, errstr_size, "%s: not a duration: %s", names[i],
                                 sc_config_str(c, names[i]));
                        return -1;
                }
        conf->retention_s = sc_config_int(c, "track.retention_days") * 86400;
        conf->reconcile_window_ms = v[0];
        conf->breach_grace_ms = v[1];
        conf->state_ttl_s = v[2] / 1000;
        if (conf->state_ttl_s < v[0] / 1000 + 86400)
                conf->state_ttl_s = v[0] / 1000 + 86400;
        *gauge_ms = v[3] > 1000 ? v[3] : 1000;
        conf->scan_limit = (int)sc_config_int(c, "track.scan_limit");
        conf->lateness_ms = v[4];
        conf->watermark_idle_ms = v[5];
        const char *engine = sc_config_str(c, "track.engine");
        if (!strcmp(engine, "c")) {
                conf->engine = SC_TRACK_ENGINE_C;
        } else if (!strcmp(engine, "lua")) {
                conf->engine = SC_TRACK_ENGINE_LUA;
        } else {
                snprintf(errstr, errstr_size, "track.engine: c or lua, not %s", engine);
                return -1;
        }
        return 0;
}

static int has_brand(const brand_list_t *l, const char *b)
{
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->v[i], b))
                        return 1;
        return 0;
}

static void add_brand(brand_list_t *l, const char *b)
{
        SC_PUSH(l->v, l->n, l->cap, sc_strdup(b));
}

static void set_brand_gauges(track_t *s)
{
        sc_metrics_t *m = sc_worker_metrics(s->w);
        const sc_brands_t *bs = sc_worker_brands(s->w);
        free(s->gauges);
        s->configured = sc_brands_count(bs);
        s->gauges = sc_calloc(s->configured ? s->configured : 1, sizeof(*s->gauges));
        for (size_t i = 0; i < s->configured; i++) {
                const char *id = sc_brands_at(bs, i)->id;
                char l[256];
                brand_gauges_t *g = &s->gauges[i];
                snprintf(l, sizeof(l), "brand=\"%s\"", id);
                g->received =
                    sc_metrics_gauge(m, "socialcare_brand_received",
                                     "Inbound posts today (brand's local day)", l);
                g->needs_reply = sc_metrics_gauge(m, "socialcare_brand_needs_reply",
                                                  "Posts needing a reply today", l);
                g->replied = sc_metrics_gauge(m, "socialcare_brand_replied",
                                              "Posts needing a reply answered, today", l);
                g->reply_rate = sc_metrics_gauge(m, "socialcare_brand_reply_rate",
                                                 "replied / needs_reply today (0..1)", l);
                g->frt_median = sc_metrics_gauge(m, "socialcare_brand_frt_median_seconds",
                                                 "Median first-response time today", l);
                g->frt_avg = sc_metrics_gauge(m, "socialcare_brand_frt_avg_seconds",
                                              "Average first-response time today", l);
                g->missed = sc_metrics_gauge(m, "socialcare_brand_sla_missed",
                                             "Posts that missed their SLA today", l);
                g->pending = sc_metrics_gauge(m, "socialcare_brand_pending",
                                              "Posts awaiting a reply within SLA now", l);
                if (!has_brand(&s->brands, id))
                        add_brand(&s->brands, id);
        }
}

static void on_script_error(void *opaque, size_t tag, const char *msg);

static int track_init(sc_worker_t *w, void **statep, char *errstr, size_t errstr_size)
{
        const sc_config_t *c = sc_worker_config(w);
        track_t *s = sc_calloc(1, sizeof(*s));
        *statep = s;
        s->w = w;
        s->output_topic = sc_config_str(c, "track.output_topic");
        if (parse_conf(c, &s->conf, &s->gauge_interval_ms, errstr, errstr_size))
                return -1;
        char subject[300];
        snprintf(subject, sizeof(subject), "%s-value", s->output_topic);
        s->post_in = sc_avro_codec(sc_worker_avro(w), "Post", NULL, errstr, errstr_size);
        s->routed_in = s->post_in ? sc_avro_codec(sc_worker_avro(w), "Routed", NULL,
                                                  errstr, errstr_size)
                                  : NULL;
        s->sla_out = s->routed_in ? sc_avro_codec(sc_worker_avro(w), "SlaEvent", subject,
                                                  errstr, errstr_size)
                                  : NULL;
        if (!s->sla_out)
                return -1;
        s->cals = sc_calendars_new(sc_config_tree(c), errstr, errstr_size);
        if (!s->cals)
                return -1;
        s->tr = sc_track_new(sc_worker_redis(w), sc_worker_brands(w), s->cals, &s->conf,
                             errstr, errstr_size);
        if (!s->tr)
                return -1;
        sc_track_set_error_cb(s->tr, on_script_error, s);
        sc_metrics_t *m = sc_worker_metrics(w);
        for (int k = 0; k < SC_TRACK_K_CNT; k++) {
                char l[64];
                snprintf(l, sizeof(l), "kind=\"%s\"", sc_track_kind_name(k));
                s->events_total[k] = sc_metrics_counter(
                    m, "socialcare_track_events_total", "Tracker events by kind", l);
        }
        s->ignored_own =
            sc_metrics_counter(m, "socialcare_track_events_total",
                               "Tracker events by kind", "kind=\"brand_post\"");
        s->ignored_inbound =
            sc_metrics_counter(m, "socialcare_track_events_total",
                               "Tracker events by kind", "kind=\"inbound_post_ignored\"");
        s->conflicts = sc_metrics_counter(
            m, "socialcare_track_conflicts_total",
            "Brand commits refused because the brand changed since it was read (applied "
            "again)",
            NULL);
        static const char *const sk[] = {"breach", "hit", "late", "recovered"};
        for (int k = 0; k < 4; k++) {
                char l[64];
                snprintf(l, sizeof(l), "kind=\"%s\"", sk[k]);
                s->sla_total[k] = sc_metrics_counter(m, "socialcare_sla_events_total",
                                                     "SLA events produced", l);
        }
        set_brand_gauges(s);
        sc_log(SC_LOG_INFO,
               "tracking %zu brands; retention %lld days, breach grace %lld ms, "
               "reconcile window %lld ms",
               s->configured, (long long)(s->conf.retention_s / 86400),
               (long long)s->conf.breach_grace_ms,
               (long long)s->conf.reconcile_window_ms);
        return 0;
}

/* The SlaEvent record of e. */
static int encode_sla(track_t *s, const sc_sla_event_t *e, int64_t now)
{
        char eid[512];
        snprintf(eid, sizeof(eid), "%s:%s", e->post_event_id, e->kind);
        sc_sla_record_t r = {
            .event_id = eid,
            .kind = e->kind,
            .post_event_id = e->post_event_id,
            .brand = e->brand,
            .platform = e->platform,
            .post_id = e->post_id,
            .team = e->team,
            .priority = e->priority,
            .created_at = e->created_at,
            .due_at = e->due_at,
            .replied_at = e->replied_at >= 0 ? SC_OPT_LONG(e->replied_at) : SC_OPT_NONE,
            .frt_s = e->frt_ms >= 0 ? SC_OPT_LONG(e->frt_ms / 1000) : SC_OPT_NONE,
            .url = e->url,
            .text = e->text,
            .emitted_at = now,
        };
        sc_buf_reset(&s->payload);
        return sc_sla_event_encode(&r, s->sla_out, &s->payload);
}

static void count_sla(track_t *s, const char *kind)
{
        int k = !strcmp(kind, "breach") ? 0
                : !strcmp(kind, "hit")  ? 1
                : !strcmp(kind, "late") ? 2
                                        : 3;
        sc_counter_add(s->sla_total[k], 1);
}

/* Events of a batch: produced with their input message as origin, so the
 * input offset is stored only once the event is delivered. */
static void on_batch_event(void *opaque, size_t tag, const sc_sla_event_t *e)
{
        track_t *s = opaque;
        if (s->produce_failed)
                return;
        if (encode_sla(s, e, sc_now_ms()) ||
            sc_worker_produce(s->w, &s->msgs[tag], s->output_topic, e->brand,
                              strlen(e->brand), s->payload.data, s->payload.len,
                              NULL) == -1) {
                sc_log(SC_LOG_ERROR, "producing SLA event for %s: %s", e->post_event_id,
                       sc_worker_errstr(s->w));
                s->produce_failed = 1;
                return;
        }
        count_sla(s, e->kind);
}

static void outbox_delivered(void *arg)
{
        outbox_ref_t *ref = arg;
        sc_track_outbox_done(ref->s->tr, ref->brand, ref->member);
        free(ref->brand);
        free(ref->member);
        free(ref);
}

/* Timer events (origin NULL: breaches, and the outcome of a reply matched
 * by its thread when its wait ended): at least once through the Redis
 * outbox, cleared only from on_delivered. */
static void on_timer_event(void *opaque, size_t tag, const sc_sla_event_t *e)
{
        track_t *s = opaque;
        (void)tag;
        outbox_ref_t *ref = sc_calloc(1, sizeof(*ref));
        ref->s = s;
        ref->brand = sc_strdup(e->brand);
        ref->member = sc_strdup(e->outbox_member);
        sc_produce_opts_t opts = {.on_delivered = outbox_delivered, .arg = ref};
        if (encode_sla(s, e, sc_now_ms()) ||
            sc_worker_produce(s->w, NULL, s->output_topic, e->brand, strlen(e->brand),
                              s->payload.data, s->payload.len, &opts) == -1) {
                sc_log(SC_LOG_ERROR, "producing %s for %s: %s", e->kind, e->post_event_id,
                       sc_worker_errstr(s->w));
                /* Still in the Redis outbox: handed out again by a later scan. */
                sc_track_outbox_release(s->tr, e->brand, e->outbox_member);
                free(ref->brand);
                free(ref->member);
                free(ref);
                return;
        }
        count_sla(s, e->kind);
}

static int is_reply(const sc_post_t *p)
{
        return (p->parent_id && p->parent_id[0] && strcmp(p->parent_id, p->post_id)) ||
               (p->thread_id && p->thread_id[0] && strcmp(p->thread_id, p->post_id));
}

static void free_list(brand_list_t *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        l->n = 0;
}

/* A brand seen in a record: scanned by the timer from now on, and put in
 * sc:brands (for socialcarectl stats) with this batch unless it is there. */
static int note_brand(track_t *s, const char *brand)
{
        if (!has_brand(&s->brands, brand))
                add_brand(&s->brands, brand);
        if (has_brand(&s->registered, brand) || has_brand(&s->batch_new, brand))
                return 0;
        add_brand(&s->batch_new, brand);
        return sc_track_add_brand(s->tr, brand);
}

static void add_bad(track_t *s, size_t i, const char *reason, const char *detail)
{
        SC_GROW(s->bad, s->bad_cap, s->bad_cnt + 1);
        bad_t *b = &s->bad[s->bad_cnt++];
        b->i = i;
        b->reason = reason;
        snprintf(b->detail, sizeof(b->detail), "%s", detail);
}

/* A script failed for this record (not a Redis outage): dead-letter it
 * rather than retrying the batch forever. */
static void on_script_error(void *opaque, size_t tag, const char *msg)
{
        track_t *s = opaque;
        sc_log(SC_LOG_ERROR, "redis script failed for a record: %s", msg);
        add_bad(s, tag, "redis_script", msg);
}

/* Records reach track from topics anything could write to: a brand that is
 * not configured would grow the timer's scan list and Redis without bound,
 * and an instant no post can have would overflow the FRT sums in Redis. */
static const char *check_post(sc_worker_t *w, const sc_post_t *p, int64_t due,
                              int64_t now, char *err, size_t err_size)
{
        if (!sc_brands_find(sc_worker_brands(w), p->brand)) {
                snprintf(err, err_size, "brand '%.100s' is not configured", p->brand);
                return "unknown_brand";
        }
        if (!sc_post_created_plausible(p, now) || due < 0 || due > SC_TIME_MAX_MS) {
                snprintf(err, err_size,
                         "created_at or due_at before 1970 or too far ahead");
                return "bad_timestamp";
        }
        return NULL;
}

/* A care.routed record: queued for the batch, or *reason to dead-letter it
 * (err: the detail, "" for the default one). -1: fatal. */
static int add_routed(track_t *s, sc_worker_t *w, const rd_kafka_message_t *rkm, size_t i,
                      int64_t now, const char **reason, char *err, size_t err_size,
                      unsigned long *own)
{
        sc_routed_t *r = &s->routed;
        const sc_post_t *p = &r->enriched.post;
        int rc = sc_routed_decode(s->routed_in, rkm->payload, rkm->len, &s->scratch_in, r,
                                  err, err_size);
        /* due_at null: no SLA (0 for sc_track and the check) */
        int64_t due = r->due_at.present ? r->due_at.v : 0;
        if (rc) {
                *reason = rc == SC_REC_MISSING ? "missing_field" : "bad_avro";
                if (rc == SC_REC_MISSING)
                        err[0] = '\0';
                return 0;
        }
        if ((*reason = check_post(w, p, due, now, err, err_size)))
                return 0;
        if (p->is_brand) {
                (*own)++;
                return 0;
        }
        sc_track_inbound_t in = {
            .brand = p->brand,
            .event_id = p->event_id,
            .platform = p->platform,
            .post_id = p->post_id,
            .thread_id = p->thread_id,
            .team = r->team,
            .priority = r->priority,
            .calendar = r->calendar,
            .url = p->url,
            .text = p->text,
            .text_len = p->text_len,
            .created_at = p->created_at,
            .needs_reply = r->needs_reply,
            .due_at = due,
        };
        return note_brand(s, p->brand) || sc_track_add_inbound(s->tr, &in, i) ? -1 : 0;
}

/* A social.posts record (a brand reply or post; inbound ones give the
 * brand's event time) into the batch, as add_routed. */
static int add_post(track_t *s, const rd_kafka_message_t *m, size_t i, int64_t now,
                    const char **reason, char *err, size_t err_size, unsigned long *own,
                    unsigned long *inbound_ignored)
{
        sc_worker_t *w = s->w;
        sc_post_t p;
        int rc = sc_post_decode(s->post_in, m->payload, m->len, &s->scratch_in, &p, err,
                                err_size);
        if (rc) {
                *reason = rc == SC_REC_MISSING ? "missing_field" : "bad_avro";
                if (rc == SC_REC_MISSING)
                        err[0] = '\0';
        } else if (!p.is_brand) {
                /* Counted through care.routed, but its
                 * created_at is the brand's event time. */
                (*inbound_ignored)++;
                if (!check_post(w, &p, 0, now, err, err_size) &&
                    (note_brand(s, p.brand) ||
                     sc_track_add_event_time(s->tr, p.brand, p.created_at)))
                        return -1;
                err[0] = '\0';
        } else if ((*reason = check_post(w, &p, 0, now, err, err_size)))
                ;
        else if (!is_reply(&p)) {
                /* Kept so a reply to it is known to answer a
                 * brand post (the thread rule). */
                (*own)++;
                if (sc_track_add_brand_post(s->tr, p.brand, p.platform, p.post_id) ||
                    sc_track_add_event_time(s->tr, p.brand, p.created_at))
                        return -1;
        } else {
                sc_track_reply_t re = {
                    .brand = p.brand,
                    .event_id = p.event_id,
                    .platform = p.platform,
                    .post_id = p.post_id,
                    .parent_id = p.parent_id,
                    .thread_id = p.thread_id,
                    .created_at = p.created_at,
                };
                if (note_brand(s, p.brand) || sc_track_add_reply(s->tr, &re, i, now))
                        return -1;
        }
        return 0;
}

static int track_process(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n)
{
        track_t *s = state;
        int64_t now = sc_now_ms();
        char err[256];
        unsigned long own = 0, inbound_ignored = 0;
        s->bad_cnt = 0;
        free_list(&s->batch_new);
        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = msgs[i].rkm;
                int32_t id = sc_avro_frame_id(rkm->payload, rkm->len);
                const char *reason = NULL;
                err[0] = '\0';
                if (id >= 0 && sc_avro_codec_accepts(s->routed_in, id)) {
                        if (add_routed(s, w, rkm, i, now, &reason, err, sizeof(err),
                                       &own))
                                return SC_FATAL;
                } else if (id >= 0 && sc_avro_codec_accepts(s->post_in, id)) {
                        if (add_post(s, rkm, i, now, &reason, err, sizeof(err), &own,
                                     &inbound_ignored))
                                return SC_FATAL;
                } else {
                        reason = "bad_avro";
                        snprintf(err, sizeof(err), "not a framed Post or Routed record");
                }
                if (reason)
                        add_bad(s, i, reason,
                                err[0] ? err
                                       : "Post without event_id, brand, platform, "
                                         "post_id or text");
        }
        /* Nothing is produced before every Redis write of the batch went
         * through: a Redis outage is a clean SC_RETRY of the whole batch. */
        sc_track_counts_t counts = {0};
        s->msgs = msgs;
        s->produce_failed = 0;
        int failed = sc_track_queued(s->tr) &&
                     sc_track_exec(s->tr, on_batch_event, s, &counts, err, sizeof(err));
        sc_counter_add(s->conflicts, (double)counts.conflicts);
        if (failed) {
                sc_log(SC_LOG_WARN, "batch of %zu not applied: %s", n, err);
                return SC_RETRY;
        }
        for (int k = 0; k < SC_TRACK_K_CNT; k++)
                sc_counter_add(s->events_total[k], (double)counts.n[k]);
        sc_counter_add(s->ignored_own, (double)own);
        sc_counter_add(s->ignored_inbound, (double)inbound_ignored);
        for (size_t j = 0; j < s->batch_new.n; j++)
                if (!has_brand(&s->registered, s->batch_new.v[j]))
                        add_brand(&s->registered, s->batch_new.v[j]);
        int rc = s->produce_failed ? SC_FATAL : SC_OK;
        for (size_t j = 0; j < s->bad_cnt && rc == SC_OK; j++)
                if (sc_worker_dead_letter(w, &msgs[s->bad[j].i], s->bad[j].reason,
                                          s->bad[j].detail))
                        rc = SC_FATAL;
        return rc;
}

static void refresh_gauges(track_t *s, int64_t now)
{
        if (!s->configured)
                return;
        const sc_brands_t *bs = sc_worker_brands(s->w);
        const char **ids = sc_calloc(s->configured, sizeof(*ids));
        sc_track_totals_t *t = sc_calloc(s->configured, sizeof(*t));
        char err[256];
        for (size_t i = 0; i < s->configured; i++)
                ids[i] = sc_brands_at(bs, i)->id;
        if (sc_track_today(s->tr, ids, s->configured, now, t, err, sizeof(err)) == 0) {
                for (size_t i = 0; i < s->configured; i++) {
                        brand_gauges_t *g = &s->gauges[i];
                        const int64_t *c = t[i].c;
                        sc_gauge_set(g->received, (double)c[SC_TRACK_RECEIVED]);
                        sc_gauge_set(g->needs_reply, (double)c[SC_TRACK_NEEDS_REPLY]);
                        sc_gauge_set(g->replied, (double)c[SC_TRACK_REPLIED]);
                        sc_gauge_set(g->reply_rate,
                                     c[SC_TRACK_NEEDS_REPLY]
                                         ? (double)c[SC_TRACK_REPLIED] /
                                               (double)c[SC_TRACK_NEEDS_REPLY]
                                         : 0);
                        sc_gauge_set(g->frt_median, t[i].frt_median_s);
                        sc_gauge_set(g->frt_avg, t[i].frt_avg_s);
                        sc_gauge_set(g->missed, (double)c[SC_TRACK_SLA_MISSED]);
                        sc_gauge_set(g->pending, (double)c[SC_TRACK_PENDING]);
                }
        }
        free(ids);
        free(t);
}

static int track_tick(sc_worker_t *w, void *state, int64_t now_ms)
{
        track_t *s = state;
        (void)w;
        char err[256];
        sc_track_counts_t counts = {0};
        if (s->brands.n &&
            sc_track_scan(s->tr, (const char *const *)s->brands.v, s->brands.n, now_ms,
                          on_timer_event, s, &counts, err, sizeof(err))) {
                sc_log(SC_LOG_WARN, "SLA scan: %s", err);
                return SC_RETRY;
        }
        sc_counter_add(s->events_total[SC_TRACK_K_BREACH],
                       (double)counts.n[SC_TRACK_K_BREACH]);
        sc_counter_add(s->events_total[SC_TRACK_K_ORPHAN],
                       (double)counts.n[SC_TRACK_K_ORPHAN]);
        int64_t mono = sc_mono_ms();
        if (mono >= s->next_gauge_ms) {
                refresh_gauges(s, now_ms);
                s->next_gauge_ms = mono + s->gauge_interval_ms;
        }
        return SC_OK;
}

static int track_reload(sc_worker_t *w, void *state, const sc_config_t *c, char *errstr,
                        size_t errstr_size)
{
        track_t *s = state;
        sc_track_conf_t conf;
        int64_t gauge_ms;
        if (parse_conf(c, &conf, &gauge_ms, errstr, errstr_size))
                return -1;
        sc_calendars_t *cals = sc_calendars_new(sc_config_tree(c), errstr, errstr_size);
        if (!cals)
                return -1;
        if (sc_track_set_config(s->tr, sc_worker_brands(w), cals, &conf, errstr,
                                errstr_size)) {
                sc_calendars_destroy(cals);
                return -1;
        }
        sc_calendars_destroy(s->cals);
        s->cals = cals;
        s->conf = conf;
        s->gauge_interval_ms = gauge_ms;
        set_brand_gauges(s);
        sc_log(SC_LOG_INFO, "track: reloaded (%zu brands)", s->configured);
        return 0;
}

static int track_check(const sc_config_t *c, char *errstr, size_t errstr_size)
{
        sc_track_conf_t conf;
        int64_t g;
        if (parse_conf(c, &conf, &g, errstr, errstr_size))
                return -1;
        sc_calendars_t *cals = sc_calendars_new(sc_config_tree(c), errstr, errstr_size);
        sc_calendars_destroy(cals);
        return cals ? 0 : -1;
}

static void track_destroy(void *state)
{
        track_t *s = state;
        if (!s)
                return;
        sc_track_destroy(s->tr);
        sc_calendars_destroy(s->cals);
        free_list(&s->brands);
        free(s->brands.v);
        free_list(&s->registered);
        free(s->registered.v);
        free_list(&s->batch_new);
        free(s->batch_new.v);
        free(s->gauges);
        free(s->bad);
        sc_buf_free(&s->payload);
        sc_buf_free(&s->scratch_in);
        free(s);
}

static const sc_worker_ops_t ops = {
    .name = "track",
    .description = "reply rate, first-response time and SLA outcomes in Redis",
    .input_topics = "care.routed,social.posts",
    .conf_defs = track_defs,
    .uses_redis = 1,
    .dlq_reasons = "bad_avro,missing_field,unknown_brand,bad_timestamp,redis_script",
    .init = track_init,
    .process = track_process,
    .tick = track_tick,
    .reload = track_reload,
    .destroy = track_destroy,
    .check_config = track_check,
};

int main(int argc, char **argv)
{
        return sc_worker_main(argc, argv, &ops);
}
