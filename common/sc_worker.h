/* The worker runtime: flags, config, logging, signals, and the
 * consume -> process -> produce loop with at-least-once delivery.
 *
 * Delivery contract:
 *  - the consumer runs with enable.auto.offset.store=false; the producer is
 *    idempotent (enable.idempotence=true);
 *  - every input message is tracked until the worker's process() returned
 *    for its batch AND every output produced for it (sc_worker_produce,
 *    sc_worker_dead_letter) was delivered; only then, and only in offset
 *    order per partition, is its offset stored (and auto-committed);
 *  - a failed delivery is produced again after a backoff, never dropped;
 *  - a full producer queue blocks (serving delivery reports) rather than
 *    dropping; too many undelivered messages pauses consumption;
 *  - on revoke and on shutdown the runtime waits for every in-flight output,
 *    stores and commits offsets, then gives the partitions up.
 *
 * Shutdown (SIGTERM/SIGINT set a flag): stop consuming, finish the batch,
 * ops->flush(), flush the producer, commit, close.
 *
 * SIGHUP, between batches: the file is read again (then the environment and
 * the -o flags), validated, brands built, ops->check_config and ops->reload
 * run; any failure keeps the running config. Taken: every runtime setting
 * applies from the next batch on (log.*, <worker>.batch_size,
 * .batch_wait_ms, .max_inflight, .tick_ms, .retry_backoff_max_ms,
 * .dlq_suffix); settings marked SC_CONF_RESTART in the tables (the clients
 * and connections made at start) and kafka.* keep their running values and
 * the log names the ones that changed ("reload done; changed but only
 * applied by a restart: ...").
 *
 * Config lifetime (what sc_worker_config() and sc_worker_brands() return):
 *  - the config and brands init() saw live until the worker exits, so a
 *    worker's state may keep pointers into them (topic names);
 *  - a config installed by a reload is retired when the next reload
 *    replaces it and freed as soon as no input consumed while it ran is in
 *    flight (batch not processed, outputs undelivered, holds open) and no
 *    output produced while it ran awaits delivery. So what a worker's
 *    reload() keeps from new_config must be replaced by its next reload()
 *    (or copied); work tied to an input or output may use the config of
 *    its time until that input or output is done. */
#ifndef SC_WORKER_H
#define SC_WORKER_H
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_avro.h"
#include "sc_brands.h"
#include "sc_config.h"
#include "sc_metrics.h"
#include "sc_redis.h"

typedef struct sc_worker_s sc_worker_t;
typedef struct sc_inflight_s sc_inflight_t;

/* One input message of a batch. rkm is owned by the runtime. */
typedef struct sc_msg_s {
        rd_kafka_message_t *rkm;
        sc_inflight_t *inflight;
} sc_msg_t;

/* Status a worker's process() returns. */
#define SC_OK    0
#define SC_FATAL (-1) /* log, shut down cleanly without storing this batch */
#define SC_RETRY                                                                         \
        (-2) /* an outage (e.g. Redis): offer the same batch again after                 \
              * a backoff. Only valid before anything was produced                       \
              * for the batch. */

typedef struct sc_header_s {
        const char *name;
        const void *value;
        size_t size;
} sc_header_t;

typedef struct sc_produce_opts_s {
        const sc_header_t *headers;
        size_t header_cnt;
        /* Called on the worker thread once the message is delivered (a failed
         * delivery is retried, so this is called exactly once per produce). */
        void (*on_delivered)(void *arg);
        void *arg;
} sc_produce_opts_t;

typedef struct sc_worker_ops_s {
        const char *name;         /* config section, group.id and client.id default */
        const char *description;  /* one line for --help */
        const char *input_topics; /* default for <name>.input_topics (comma separated) */
        const sc_conf_def_t *conf_defs; /* <name>.* settings; may be NULL */
        int uses_redis;                 /* connect sc_worker_redis() */

        /* Called once after config is loaded, before consuming. */
        int (*init)(sc_worker_t *w, void **state, char *errstr, size_t errstr_size);
        /* Process msgs[0..n) in order; produce outputs for each. */
        int (*process)(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n);
        /* Optional: called about every tick_ms (timers: SLA scans, flushes). May
         * produce with origin NULL. Returns SC_OK or SC_RETRY (called again next
         * tick) or SC_FATAL. */
        int (*tick)(sc_worker_t *w, void *state, int64_t now_ms);
        /* Optional: SIGHUP. Return 0 to take the new config, -1 to keep the old
         * (the runtime logs errstr). The runtime re-reads the file first. */
        int (*reload)(sc_worker_t *w, void *state, const sc_config_t *new_config,
                      char *errstr, size_t errstr_size);
        /* Optional: at shutdown, before the producer flush (flush Redis etc.). */
        int (*flush)(sc_worker_t *w, void *state);
        void (*destroy)(void *state);
        /* Optional: extra --check-config validation (rules, calendars...). */
        int (*check_config)(const sc_config_t *c, char *errstr, size_t errstr_size);
        /* Optional: the reason codes this worker dead-letters with (comma
         * separated), exported as socialcare_dlq_messages_total{reason} = 0
         * from the start. Other reasons still count from their first use. */
        const char *dlq_reasons;
        /* Optional: called while the runtime waits for in-flight inputs to
         * finish (on revoke), so work behind sc_worker_hold() (e.g. webhook
         * deliveries) can progress. Must not block. */
        void (*pump)(sc_worker_t *w, void *state);
} sc_worker_ops_t;

/* Parses argv (-c FILE, -o name=value, --help, --check-config,
 * --print-config, --version), runs the worker and returns the exit code. */
int sc_worker_main(int argc, char **argv, const sc_worker_ops_t *ops);

/* Produce one output for origin (NULL for timer-driven output). Copies key,
 * payload and headers. Blocks while the producer queue is full. Returns 0,
 * or -1 on a permanent error (unknown topic, message too large): the worker
 * should then dead-letter origin with the reason from sc_worker_errstr(). */
int sc_worker_produce(sc_worker_t *w, sc_msg_t *origin, const char *topic,
                      const void *key, size_t key_len, const void *payload, size_t len,
                      const sc_produce_opts_t *opts);

/* Dead-letters origin to "<its topic>.dlq" with its original key, bytes and
 * headers plus sc-error-reason (a short code, also the metric label),
 * sc-error-detail, sc-worker, sc-source-topic, sc-source-partition,
 * sc-source-offset. Counted in socialcare_dlq_messages_total{reason}.
 *
 * A dead letter always fits messages.max_bytes: a larger original keeps a
 * prefix of its value (and of a key over 1 KiB; original headers over
 * 16 KiB are dropped, sc-headers-dropped) with sc-truncated: true,
 * sc-original-size and sc-original-sha256 (hex, of the whole value). When
 * the dead-letter topic still refuses it for good (too large for the
 * broker, unknown topic, not authorized), the input is given up: counted in
 * socialcare_dlq_failed_total{reason,error}, logged with its coordinates,
 * its offset stored. An outage is retried as for any output. Returns 0 (-1
 * is kept for callers written against the old contract: never returned). */
int sc_worker_dead_letter(sc_worker_t *w, sc_msg_t *origin, const char *reason,
                          const char *detail);

/* Bytes a dead letter needs beyond its original value (key up to 1 KiB,
 * headers, detail, record framing): an input up to messages.max_bytes minus
 * this is dead-lettered whole. */
#define SC_DLQ_HEADROOM 20480

/* The record limit of c: messages.max_bytes, or, when only the deployment's
 * kafka.[producer.]message.max.bytes is set, that. -1 (errstr says why) when
 * both are set and differ: the runtime refuses to start. */
int64_t sc_worker_max_record_bytes(const sc_config_t *c, char *errstr,
                                   size_t errstr_size);

const sc_config_t *sc_worker_config(const sc_worker_t *w);
sc_avro_t *sc_worker_avro(sc_worker_t *w);
const sc_brands_t *sc_worker_brands(const sc_worker_t *w);
/* NULL unless ops->uses_redis. */
sc_redis_t *sc_worker_redis(sc_worker_t *w);
sc_metrics_t *sc_worker_metrics(sc_worker_t *w);
const char *sc_worker_errstr(const sc_worker_t *w);

/* One more pending reference on origin's in-flight record, for work that
 * is not a Kafka output (e.g. a webhook delivery): origin's offset is not
 * stored until every hold is released. Release on the worker thread, exactly
 * once. origin NULL returns NULL, which release accepts. Holds still open at
 * shutdown leave the offset unstored (the input is consumed again). */
typedef struct sc_hold_s sc_hold_t;
sc_hold_t *sc_worker_hold(sc_worker_t *w, sc_msg_t *origin);
void sc_worker_release(sc_worker_t *w, sc_hold_t *h);

/* Header value of an input message, or NULL. */
const char *sc_msg_header(const sc_msg_t *m, const char *name, size_t *size);

#endif
