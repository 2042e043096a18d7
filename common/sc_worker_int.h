/* The worker runtime's private parts, shared by its four files and by
 * nothing else (services include sc_worker.h only):
 *
 *  - sc_worker_offsets.c: the in-flight and output-context pools and offset
 *    tracking (a ring of inputs per partition, stored in offset order);
 *  - sc_worker_produce.c: producing, delivery reports, retries of failed
 *    deliveries and dead letters;
 *  - sc_worker_kafka.c: the Kafka clients' setup, rebalance (revoke waits
 *    for in-flight outputs), error and statistics callbacks;
 *  - sc_worker.c: the loop, batches, SIGHUP reload, health, shutdown, main.
 *
 * Everything here runs on the worker thread (the one that calls
 * sc_worker_main and polls both clients), except the atomics read by the
 * HTTP thread. */
#ifndef SC_WORKER_INT_H
#define SC_WORKER_INT_H
#include <signal.h>
#include <stdatomic.h>

#include "sc_alloc.h"
#include "sc_http.h"
#include "sc_worker.h"

/* Bits of brokers_up. */
#define UP_CONSUMER 1
#define UP_PRODUCER 2

/* How often an idle worker checks that Redis still answers, for /readyz. */
#define REDIS_PING_MS 5000

/* What a record costs beyond its key, value and header bytes against
 * message.max.bytes (record batch header, record framing, varints), with a
 * margin: librdkafka and the broker both count it. */
#define RECORD_OVERHEAD 1024
/* Per header: name and value length varints. */
#define HEADER_OVERHEAD 12
/* A dead letter keeps at most this much of the original key, and the
 * original headers only while they stay under the header budget: the
 * payload prefix is what an operator needs. */
#define DLQ_MAX_KEY     1024
#define DLQ_MAX_HEADERS 16384
#define DLQ_MAX_DETAIL  1024

/* An input message from consumption until its offset may be stored. pending
 * counts one reference for "process() has not returned yet" plus one per
 * undelivered output. */
/* A config and its brands, from a start or a SIGHUP until nothing uses it
 * (the rule is in sc_worker.h). refs: in-flight inputs and output contexts
 * taken while it was the running one. */
typedef struct gen_s {
        sc_config_t *config;
        sc_brands_t *brands;
        long refs;
        int pinned; /* the one init() saw: kept until exit */
        struct gen_s *next;
} gen_t;

struct sc_inflight_s {
        int32_t pending;
        int64_t offset;
        struct part_s *part; /* NULL once orphaned by a revoke: never stored */
        sc_inflight_t *next_free;
        gen_t *gen;
};

/* Input messages of one assigned partition, in offset order. */
typedef struct part_s {
        rd_kafka_topic_t *rkt; /* identity: the consumer's topic handle */
        char *topic;
        int32_t partition;
        sc_inflight_t **ring;
        size_t head, cnt, cap;
        int64_t store_offset; /* next offset to store, -1 none */
        int dirty;
        struct part_s *next;
} part_t;

/* One produced output until delivered. */
typedef struct out_ctx_s {
        sc_inflight_t *origin;
        void (*on_delivered)(void *arg);
        void *arg;
        int attempts;
        /* A dead letter: given up (counted, logged) on a permanent refusal
         * instead of retried, so no input can stall its partition. */
        int dlq;
        char dlq_reason[48];
        struct out_ctx_s *next_free;
        gen_t *gen;
} out_ctx_t;

/* An output whose delivery failed, waiting to be produced again. */
typedef struct retry_s {
        out_ctx_t *ctx;
        char *topic;
        void *key, *payload;
        size_t key_len, len;
        rd_kafka_headers_t *headers;
        int64_t due_ms;
        struct retry_s *next;
} retry_t;

/* A producer topic handle, kept for the producer's life: producing by
 * handle skips librdkafka's lookup of the name (a lock and a refcount per
 * message). */
typedef struct topic_handle_s {
        char *name;
        rd_kafka_topic_t *rkt;
        sc_counter_t *produced; /* socialcare_messages_out_total{topic} */
        struct topic_handle_s *next;
} topic_handle_t;

typedef struct topic_counter_s {
        char *topic;
        sc_counter_t *counter;
        struct topic_counter_s *next;
} topic_counter_t;

typedef struct flag_s {
        char *name, *value;
} flag_t;

struct sc_worker_s {
        const sc_worker_ops_t *ops;
        void *state;
        sc_config_t *config;
        sc_brands_t *brands;
        gen_t *gen;  /* the running config and brands (= config, brands) */
        gen_t *gens; /* every one alive, the running one included */
        sc_avro_t *avro;
        sc_redis_t *redis;
        sc_metrics_t *metrics;
        sc_http_t *http;
        char *config_path;
        flag_t *flags;
        size_t flag_cnt, flag_cap;
        int verbose; /* -v: log.level=debug whatever the file says */

        rd_kafka_t *consumer, *producer;
        part_t *parts;
        sc_inflight_t *free_inflight;
        out_ctx_t *free_ctx;
        retry_t *retries;
        long inflight_total;
        int paused;

        sc_msg_t *batch;
        size_t batch_cnt, batch_cap;
        int batch_held; /* SC_RETRY: offer the same batch again */
        int64_t batch_retry_at;
        int64_t backoff_ms;
        int64_t retry_backoff_max;
        /* The loop's settings, applied again by every reload. */
        size_t batch_size;
        int batch_wait_ms;
        long max_inflight;
        int64_t tick_ms;

        int fatal;
        char errstr[512];
        char dlq_suffix[64];
        int64_t max_record_bytes;     /* messages.max_bytes */
        rd_kafka_resp_err_t last_err; /* of the last failed produce_raw */

        /* Published for the HTTP thread. brokers_up: one bit per client
         * (UP_CONSUMER, UP_PRODUCER) that last saw a broker up; healthy while
         * any bit is set, so an idle client never masks a working one. */
        atomic_int brokers_up;
        atomic_int redis_up;
        atomic_int started; /* ops->init done: codecs (schema registry) ready */
        atomic_llong heartbeat_ms;

        sc_counter_t *m_reload_ok, *m_reload_rejected;
        sc_counter_t *m_dlq_total, *m_retries, *m_redis_errors, *m_redis_reconnects;
        sc_counter_t *m_redis_redirects;
        sc_counter_t *m_batch_retries, *m_tick_retries;
        int64_t redis_ping_at;
        sc_gauge_t *m_inflight, *m_queue, *m_up;
        sc_histogram_t *m_latency, *m_batch_messages;
        sc_gauge_t *m_config_versions;
        topic_counter_t *in_counters, *out_counters;
        topic_handle_t *out_topics; /* destroyed before the producer */
        unsigned long redis_errors_seen, redis_reconnects_seen, redis_redirects_seen;
};

/* Set by SIGTERM/SIGINT (and by a fatal error): the loop stops. */
extern volatile sig_atomic_t sc_wk_stop_requested;

/* sc_worker_offsets.c */
sc_inflight_t *sc_wk_inflight_get(sc_worker_t *w);
void sc_wk_inflight_put(sc_worker_t *w, sc_inflight_t *f);
out_ctx_t *sc_wk_ctx_get(sc_worker_t *w);
void sc_wk_ctx_put(sc_worker_t *w, out_ctx_t *c);
/* The partition's tracking entry, created on first use. */
part_t *sc_wk_part_find(sc_worker_t *w, const char *topic, int32_t partition);
part_t *sc_wk_part_of(sc_worker_t *w, const rd_kafka_message_t *rkm);
void sc_wk_part_push(part_t *p, sc_inflight_t *f);
void sc_wk_part_advance(sc_worker_t *w, part_t *p);
/* Drops one pending reference; the last one lets its offset be stored. */
void sc_wk_inflight_release(sc_worker_t *w, sc_inflight_t *f);
void sc_wk_store_offsets(sc_worker_t *w);
/* A reference on the running config for an input or output; the last
 * release of a retired one frees it. */
gen_t *sc_wk_gen_ref(sc_worker_t *w);
void sc_wk_gen_release(sc_worker_t *w, gen_t *g);
size_t sc_wk_gen_count(const sc_worker_t *w);

/* sc_worker_produce.c */
void sc_wk_retry_free(retry_t *r);
void sc_wk_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque);
void sc_wk_serve_retries(sc_worker_t *w);
void sc_wk_topics_destroy(sc_worker_t *w);

/* sc_worker_kafka.c */
int sc_wk_setup_kafka(sc_worker_t *w, char *errstr, size_t errstr_size);

/* sc_worker.c */
sc_counter_t *sc_wk_topic_counter(sc_worker_t *w, topic_counter_t **list,
                                  const char *name, const char *help, const char *topic);
sc_counter_t *sc_wk_dlq_counter(sc_worker_t *w, const char *reason);

#endif
