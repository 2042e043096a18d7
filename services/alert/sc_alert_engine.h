/* The alert worker's logic, behind the worker runtime (main.c wires it):
 * Enriched posts and SLA events in, Alert records out to the output topic and
 * webhook deliveries out to the targets.
 *
 * - Decision: sc_alert_decide() says once, for every caller, whether a post is a
 *   crisis, an influencer's negative post, and whether it counts toward a spike.
 * - Claims: a single-post or SLA alert is claimed in Redis (sc_redis_claim_lua,
 *   key sc:{brand}:alert:sent:<kind>:<event id>, origin "topic/partition/offset")
 *   in the same round trip as the spike commands; an alert another input claimed is
 *   a duplicate (counted, not emitted); a re-consumed input emits again.
 * - Holds: every webhook delivery holds its input (host->hold) until it is made or
 *   its parked copy was produced to park_topic (the hold released on its delivery).
 *   A park that cannot be produced keeps the hold until destroy: the input's offset
 *   stays unstored.
 * - Outbox: spike alerts stay in the brand's Redis outbox (sc_spike) until their
 *   record and deliveries are done (then HDEL); sc_alert_engine_scan_outbox() emits
 *   again what is still there a grace period after it was first seen.
 * - Targets: sc_alert_engine_set_targets() swaps the target set; a target whose
 *   delivery settings equal a current one's keeps its webhook engine slot (queue and
 *   concurrency), so what is queued or in flight completes or parks as before.
 *
 * Single-threaded: every call, and every host callback, on the worker thread. */
#ifndef SC_ALERT_ENGINE_H
#define SC_ALERT_ENGINE_H
#include <stddef.h>
#include <stdint.h>

#include "sc_alerts.h"
#include "sc_brands.h"
#include "sc_metrics.h"
#include "sc_redis.h"
#include "sc_spike.h"
#include "sc_worker.h"

typedef struct sc_alert_engine_s sc_alert_engine_t;

/* What a post is to the single-post checks and the spike counter. */
enum {
        SC_ALERT_DECIDE_CRISIS = 1,     /* crisis_post */
        SC_ALERT_DECIDE_INFLUENCER = 2, /* influencer_negative */
        SC_ALERT_DECIDE_SPIKE = 4       /* negative or crisis: counts toward a spike */
};
/* Bits above for a post (the brand's own posts are never asked about): crisis when
 * its crisis intent is present and at least crisis_min (sc_alert_is_crisis),
 * influencer when negative and its author has at least infl_min followers. */
unsigned sc_alert_decide(const sc_enriched_view_t *v, double crisis_min,
                         int64_t infl_min);

/* The runtime the engine runs in (main.c: the sc_worker_* calls). origin is the
 * input's sc_alert_in_t.origin, or NULL for output of no input (outbox). */
typedef struct sc_alert_host_s {
        void *opaque;
        /* As sc_worker_produce (headers and bytes copied): 0, or -1 on a
         * permanent error (errstr says why); on 0, on_delivered(arg) is called
         * once the record is delivered. */
        int (*produce)(void *opaque, void *origin, const char *topic, const char *key,
                       size_t key_len, const void *val, size_t len, const sc_header_t *h,
                       size_t header_cnt, void (*on_delivered)(void *arg), void *arg);
        /* As sc_worker_dead_letter. */
        int (*dead_letter)(void *opaque, void *origin, const char *reason,
                           const char *detail);
        /* As sc_worker_hold / sc_worker_release (NULL origin: NULL hold; release
         * accepts NULL). */
        void *(*hold)(void *opaque, void *origin);
        void (*release)(void *opaque, void *hold);
        const char *(*errstr)(void *opaque);
} sc_alert_host_t;

typedef struct sc_alert_opts_s {
        const char *output_topic, *park_topic; /* copied */
        double crisis_min;
        int64_t infl_min;
        int spike_on;
        sc_spike_opts_t spike;
        int64_t scan_ms, grace_ms, shutdown_ms;
} sc_alert_opts_t;

/* One input of a batch (borrowed for the call). */
typedef struct sc_alert_in_s {
        const void *data;
        size_t len;
        void *origin;      /* handed back to the host */
        const char *topic; /* with partition and offset: the claim's origin */
        int32_t partition;
        int64_t offset;
} sc_alert_in_t;

/* redis may be NULL only with spike_on off and no claims needed (tests of the
 * decision); avro gives the Enriched, SlaEvent and Alert codecs (Alert under
 * subject "<output_topic>-value"); metrics gets the alert and webhook series. All
 * borrowed, and must outlive the engine. Targets: none until set_targets. */
sc_alert_engine_t *sc_alert_engine_new(const sc_alert_host_t *host,
                                       const sc_alert_opts_t *opts, sc_redis_t *redis,
                                       sc_avro_t *avro, sc_metrics_t *metrics,
                                       char *errstr, size_t errstr_size);
/* Drops queued deliveries and releases every hold (their inputs were not stored).
 * Call it once every record produced through the host was reported delivered or
 * failed (the runtime flushes its producer first): their callbacks refer to the
 * engine. Accepts NULL. */
void sc_alert_engine_destroy(sc_alert_engine_t *e);

/* Makes t (n targets) the current set, taking them over on success (freed with the
 * engine or the next set); on error nothing changes and t stays the caller's. */
int sc_alert_engine_set_targets(sc_alert_engine_t *e, sc_alert_target_t *t, size_t n,
                                char *errstr, size_t errstr_size);
size_t sc_alert_engine_target_count(const sc_alert_engine_t *e);
/* The webhook engine slot of current target i (equal settings: equal slot). */
int sc_alert_engine_target_slot(const sc_alert_engine_t *e, size_t i);

/* Reload between batches: thresholds, durations, spike settings (when spike is on)
 * and targets (taken over on success). On error nothing changes. Changes that need
 * a restart (spike on/off, topics) are logged and ignored. */
int sc_alert_engine_reload(sc_alert_engine_t *e, const sc_alert_opts_t *opts,
                           sc_alert_target_t *t, size_t n, char *errstr,
                           size_t errstr_size);

/* One batch: SC_OK, SC_RETRY (Redis said no: nothing was produced) or SC_FATAL.
 * Bad inputs are dead-lettered (bad_avro, missing_field, unknown_brand,
 * produce_error). */
int sc_alert_engine_process(sc_alert_engine_t *e, const sc_brands_t *brands,
                            const sc_alert_in_t *in, size_t n);
/* Between batches: drives webhooks, removes finished outbox entries, scans the
 * outbox every scan_ms. */
void sc_alert_engine_tick(sc_alert_engine_t *e, const sc_brands_t *brands);
/* Drives webhooks without blocking (while the runtime waits). */
void sc_alert_engine_pump(sc_alert_engine_t *e);
/* Emits again every outbox entry of brands seen for grace_ms and not on its way;
 * returns how many. */
int sc_alert_engine_scan_outbox(sc_alert_engine_t *e, const sc_brands_t *brands);
/* Removes finished outbox entries from Redis (kept for the next call on an error). */
void sc_alert_engine_flush_outbox(sc_alert_engine_t *e);
/* At shutdown: waits up to shutdown_ms for deliveries in flight, then flushes the
 * outbox removals. */
void sc_alert_engine_flush(sc_alert_engine_t *e);

/* Alerts emitted and not yet done (record and deliveries), and webhook deliveries
 * pending (-1: every slot). */
size_t sc_alert_engine_jobs(const sc_alert_engine_t *e);
size_t sc_alert_engine_pending(const sc_alert_engine_t *e, int slot);

#endif
