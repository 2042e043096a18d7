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

#include "sc_alert_engine.h"
#include "sc_alloc.h"
#include "sc_log.h"
#include "sc_time.h"
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

typedef struct alert_s {
        sc_worker_t *w;
        sc_alert_engine_t *e;
        sc_alert_in_t *in; /* the batch, reused */
        size_t in_cap;
} alert_t;

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

/* The engine's settings from c; -1 (errstr says why) on a bad duration. */
static int opts_from(const sc_config_t *c, sc_alert_opts_t *o, char *errstr, size_t es)
{
        int bad = 0;
        int64_t window = dur_setting(c, "alert.spike.window", errstr, es, &bad);
        *o = (sc_alert_opts_t){
            .output_topic = sc_config_str(c, "alert.output_topic"),
            .park_topic = sc_config_str(c, "alert.park_topic"),
            .crisis_min = sc_config_double(c, "alert.crisis.min_confidence"),
            .infl_min = sc_config_int(c, "alert.influencer.min_followers"),
            .spike_on = sc_config_bool(c, "alert.spike.enabled"),
            .spike =
                {
                    .window_ms = window,
                    .bucket_ms = 60000,
                    .baseline_days = (int)sc_config_int(c, "alert.spike.baseline_days"),
                    .k = sc_config_double(c, "alert.spike.k"),
                    .min_count = sc_config_int(c, "alert.spike.min_count"),
                    .recent_ids = (int)sc_config_int(c, "alert.spike.recent_ids"),
                    .per_topic = sc_config_bool(c, "alert.spike.per_topic"),
                },
            .scan_ms = dur_setting(c, "alert.outbox.scan_interval", errstr, es, &bad),
            .grace_ms = dur_setting(c, "alert.outbox.grace", errstr, es, &bad),
            .shutdown_ms = dur_setting(c, "alert.shutdown_wait", errstr, es, &bad),
        };
        return bad ? -1 : 0;
}

/* ---- the host: the worker runtime's calls ---------------------------------- */

static int host_produce(void *opaque, void *origin, const char *topic, const char *key,
                        size_t key_len, const void *val, size_t len, const sc_header_t *h,
                        size_t header_cnt, void (*on_delivered)(void *), void *arg)
{
        sc_produce_opts_t o = {.headers = h,
                               .header_cnt = header_cnt,
                               .on_delivered = on_delivered,
                               .arg = arg};
        return sc_worker_produce(opaque, origin, topic, key, key_len, val, len, &o);
}

static int host_dead_letter(void *opaque, void *origin, const char *reason,
                            const char *detail)
{
        return sc_worker_dead_letter(opaque, origin, reason, detail);
}

static void *host_hold(void *opaque, void *origin)
{
        return sc_worker_hold(opaque, origin);
}

static void host_release(void *opaque, void *hold)
{
        sc_worker_release(opaque, hold);
}

static const char *host_errstr(void *opaque)
{
        return sc_worker_errstr(opaque);
}

/* ---- worker ops ----------------------------------------------------------- */

static int alert_process(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n)
{
        alert_t *a = state;
        SC_GROW(a->in, a->in_cap, n);
        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = msgs[i].rkm;
                a->in[i] = (sc_alert_in_t){.data = rkm->payload,
                                           .len = rkm->len,
                                           .origin = &msgs[i],
                                           .topic = rd_kafka_topic_name(rkm->rkt),
                                           .partition = rkm->partition,
                                           .offset = rkm->offset};
        }
        return sc_alert_engine_process(a->e, sc_worker_brands(w), a->in, n);
}

static int alert_tick(sc_worker_t *w, void *state, int64_t now_ms)
{
        (void)now_ms;
        sc_alert_engine_tick(((alert_t *)state)->e, sc_worker_brands(w));
        return SC_OK;
}

static void alert_pump(sc_worker_t *w, void *state)
{
        (void)w;
        sc_alert_engine_pump(((alert_t *)state)->e);
}

static int alert_flush(sc_worker_t *w, void *state)
{
        (void)w;
        sc_alert_engine_flush(((alert_t *)state)->e);
        return 0;
}

/* Parses alert.targets into the engine (taken over, or freed on error). */
static int load_targets(const sc_config_t *c, sc_alert_target_t **t, size_t *n,
                        char *errstr, size_t es)
{
        *t = NULL;
        *n = 0;
        return sc_alert_targets_parse(sc_config_tree(c), sc_config_file(c), t, n, errstr,
                                      es);
}

static int alert_init(sc_worker_t *w, void **statep, char *errstr, size_t es)
{
        const sc_config_t *c = sc_worker_config(w);
        alert_t *a = sc_calloc(1, sizeof(*a));
        *statep = a;
        a->w = w;
        sc_alert_opts_t o;
        if (opts_from(c, &o, errstr, es))
                return -1;
        sc_alert_host_t host = {.opaque = w,
                                .produce = host_produce,
                                .dead_letter = host_dead_letter,
                                .hold = host_hold,
                                .release = host_release,
                                .errstr = host_errstr};
        a->e = sc_alert_engine_new(&host, &o, sc_worker_redis(w), sc_worker_avro(w),
                                   sc_worker_metrics(w), errstr, es);
        if (!a->e)
                return -1;
        sc_alert_target_t *t;
        size_t n;
        if (load_targets(c, &t, &n, errstr, es))
                return -1;
        if (sc_alert_engine_set_targets(a->e, t, n, errstr, es)) {
                sc_alert_targets_free(t, n);
                return -1;
        }
        if (sc_config_int(c, "alert.tick_ms") > 200)
                sc_log(SC_LOG_WARN,
                       "alert.tick_ms=%lld: webhooks are driven from the tick; 50 is "
                       "recommended",
                       (long long)sc_config_int(c, "alert.tick_ms"));
        return 0;
}

static int alert_check(const sc_config_t *c, char *errstr, size_t es)
{
        sc_alert_target_t *t;
        size_t n;
        if (load_targets(c, &t, &n, errstr, es))
                return -1;
        sc_alert_targets_free(t, n);
        sc_alert_opts_t o;
        if (opts_from(c, &o, errstr, es))
                return -1;
        if (o.spike.window_ms % 60000 || o.spike.window_ms > 86400000) {
                snprintf(errstr, es,
                         "alert.spike.window must be whole minutes, at most 24h");
                return -1;
        }
        return 0;
}

/* Between batches. Everything is built first; on any error the running
 * targets and thresholds stay. New alerts use the new set; deliveries already
 * queued keep their engine slot. */
static int alert_reload(sc_worker_t *w, void *state, const sc_config_t *c, char *errstr,
                        size_t es)
{
        alert_t *a = state;
        (void)w;
        sc_alert_opts_t o;
        sc_alert_target_t *t;
        size_t n;
        if (alert_check(c, errstr, es) || opts_from(c, &o, errstr, es) ||
            load_targets(c, &t, &n, errstr, es))
                return -1;
        if (sc_alert_engine_reload(a->e, &o, t, n, errstr, es)) {
                sc_alert_targets_free(t, n);
                return -1;
        }
        return 0;
}

static void alert_destroy(void *state)
{
        alert_t *a = state;
        if (!a)
                return;
        sc_alert_engine_destroy(a->e);
        free(a->in);
        free(a);
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
