#include "sc_worker.h"

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "sc_http.h"
#include "sc_json.h"
#include "sc_log.h"
#include "sc_time.h"

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
struct sc_inflight_s {
        int32_t pending;
        int64_t offset;
        struct part_s *part; /* NULL once orphaned by a revoke: never stored */
        sc_inflight_t *next_free;
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

static void retry_free(retry_t *r)
{
        if (r->headers)
                rd_kafka_headers_destroy(r->headers);
        free(r->topic);
        free(r->key);
        free(r->payload);
        free(r);
}

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
        sc_config_t *retired_configs[64];
        int retired_cnt;
        sc_brands_t *brands;
        sc_brands_t *retired_brands[64];
        sc_avro_t *avro;
        sc_redis_t *redis;
        sc_metrics_t *metrics;
        sc_http_t *http;
        char *config_path;
        flag_t *flags;
        int flag_cnt;

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
        sc_histogram_t *m_latency;
        topic_counter_t *in_counters, *out_counters;
        unsigned long redis_errors_seen, redis_reconnects_seen, redis_redirects_seen;
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
        if (sig == SIGHUP)
                reload_requested = 1;
        else
                stop_requested = 1;
}

/* ---- pools ------------------------------------------------------------- */

static sc_inflight_t *inflight_get(sc_worker_t *w)
{
        sc_inflight_t *f = w->free_inflight;
        if (f)
                w->free_inflight = f->next_free;
        else
                f = malloc(sizeof(*f));
        memset(f, 0, sizeof(*f));
        w->inflight_total++;
        return f;
}

static void inflight_put(sc_worker_t *w, sc_inflight_t *f)
{
        f->next_free = w->free_inflight;
        w->free_inflight = f;
        w->inflight_total--;
}

static out_ctx_t *ctx_get(sc_worker_t *w)
{
        out_ctx_t *c = w->free_ctx;
        if (c)
                w->free_ctx = c->next_free;
        else
                c = malloc(sizeof(*c));
        memset(c, 0, sizeof(*c));
        return c;
}

static void ctx_put(sc_worker_t *w, out_ctx_t *c)
{
        c->next_free = w->free_ctx;
        w->free_ctx = c;
}

/* ---- offset tracking --------------------------------------------------- */

static part_t *part_find(sc_worker_t *w, const char *topic, int32_t partition)
{
        for (part_t *p = w->parts; p; p = p->next)
                if (p->partition == partition && !strcmp(p->topic, topic))
                        return p;
        part_t *p = calloc(1, sizeof(*p));
        p->topic = strdup(topic);
        p->partition = partition;
        p->store_offset = -1;
        p->next = w->parts;
        w->parts = p;
        return p;
}

static part_t *part_of(sc_worker_t *w, const rd_kafka_message_t *rkm)
{
        /* Topic handles are stable for the consumer's life: compare them
         * first so the common case is a pointer compare. */
        for (part_t *p = w->parts; p; p = p->next)
                if (p->rkt == rkm->rkt && p->partition == rkm->partition)
                        return p;
        part_t *p = part_find(w, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        p->rkt = rkm->rkt;
        return p;
}

static void part_push(part_t *p, sc_inflight_t *f)
{
        if (p->cnt == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 1024;
                sc_inflight_t **ring = malloc(cap * sizeof(*ring));
                for (size_t i = 0; i < p->cnt; i++)
                        ring[i] = p->ring[(p->head + i) % p->cap];
                free(p->ring);
                p->ring = ring;
                p->cap = cap;
                p->head = 0;
        }
        p->ring[(p->head + p->cnt) % p->cap] = f;
        p->cnt++;
}

/* Pops every finished message at the head of the ring: its offset (and all
 * before it) may now be stored. */
static void part_advance(sc_worker_t *w, part_t *p)
{
        while (p->cnt) {
                sc_inflight_t *f = p->ring[p->head];
                if (f->pending > 0)
                        break;
                p->store_offset = f->offset + 1;
                p->dirty = 1;
                p->head = (p->head + 1) % p->cap;
                p->cnt--;
                inflight_put(w, f);
        }
}

static void inflight_release(sc_worker_t *w, sc_inflight_t *f)
{
        if (--f->pending > 0)
                return;
        if (!f->part) {
                inflight_put(w, f); /* orphaned by a revoke */
                return;
        }
        part_advance(w, f->part);
}

static void store_offsets(sc_worker_t *w)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        for (part_t *p = w->parts; p; p = p->next) {
                if (!p->dirty)
                        continue;
                if (!list)
                        list = rd_kafka_topic_partition_list_new(4);
                rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset =
                    p->store_offset;
                p->dirty = 0;
        }
        if (!list)
                return;
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(w->consumer, list);
        if (err && err != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
                sc_log(SC_LOG_WARN, "offsets_store: %s", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(list);
}

/* ---- metrics helpers ---------------------------------------------------- */

static sc_counter_t *topic_counter(sc_worker_t *w, topic_counter_t **list,
                                   const char *name, const char *help, const char *topic)
{
        for (topic_counter_t *t = *list; t; t = t->next)
                if (!strcmp(t->topic, topic))
                        return t->counter;
        char labels[300];
        snprintf(labels, sizeof(labels), "topic=\"%s\"", topic);
        topic_counter_t *t = calloc(1, sizeof(*t));
        t->topic = strdup(topic);
        t->counter = sc_metrics_counter(w->metrics, name, help, labels);
        t->next = *list;
        *list = t;
        return t->counter;
}

static sc_counter_t *dlq_counter(sc_worker_t *w, const char *reason)
{
        char labels[160];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
        return sc_metrics_counter(w->metrics, "socialcare_dlq_messages_total",
                                  "Messages dead-lettered, by reason", labels);
}

/* Series a dashboard or an alert rule reads must exist before their first
 * event: rate() over a series that appears at 1 misses that increment, and
 * an absent series cannot be told from a broken scrape. */
static void declare_series(sc_worker_t *w, const char *topics)
{
        char *copy = strdup(topics ? topics : ""), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                topic_counter(w, &w->in_counters, "socialcare_messages_in_total",
                              "Messages consumed, by topic", t);
        free(copy);
        copy = strdup(w->ops->dlq_reasons ? w->ops->dlq_reasons : "");
        save = NULL;
        for (char *r = strtok_r(copy, ", ", &save); r; r = strtok_r(NULL, ", ", &save))
                dlq_counter(w, r);
        free(copy);
}

/* ---- producing ----------------------------------------------------------- */

static int produce_raw(sc_worker_t *w, const char *topic, const void *key, size_t key_len,
                       const void *payload, size_t len, rd_kafka_headers_t *hdrs,
                       out_ctx_t *ctx)
{
        for (;;) {
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    w->producer, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_KEY((void *)key, key_len),
                    RD_KAFKA_V_VALUE((void *)payload, len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
                    RD_KAFKA_V_OPAQUE(ctx), RD_KAFKA_V_END);
                if (!err)
                        return 0;
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        /* Backpressure: wait for deliveries, never drop. */
                        rd_kafka_poll(w->producer, 50);
                        continue;
                }
                snprintf(w->errstr, sizeof(w->errstr), "produce to %s: %s", topic,
                         rd_kafka_err2str(err));
                w->last_err = err;
                return -1;
        }
}

static rd_kafka_headers_t *make_headers(const sc_produce_opts_t *opts)
{
        if (!opts || !opts->header_cnt)
                return NULL;
        rd_kafka_headers_t *h = rd_kafka_headers_new(opts->header_cnt);
        for (size_t i = 0; i < opts->header_cnt; i++)
                rd_kafka_header_add(h, opts->headers[i].name, -1, opts->headers[i].value,
                                    (ssize_t)opts->headers[i].size);
        return h;
}

int sc_worker_produce(sc_worker_t *w, sc_msg_t *origin, const char *topic,
                      const void *key, size_t key_len, const void *payload, size_t len,
                      const sc_produce_opts_t *opts)
{
        out_ctx_t *ctx = ctx_get(w);
        if (origin) {
                ctx->origin = origin->inflight;
                ctx->origin->pending++;
        }
        if (opts) {
                ctx->on_delivered = opts->on_delivered;
                ctx->arg = opts->arg;
        }
        rd_kafka_headers_t *hdrs = make_headers(opts);
        if (produce_raw(w, topic, key, key_len, payload, len, hdrs, ctx) == -1) {
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                if (ctx->origin)
                        ctx->origin->pending--;
                ctx_put(w, ctx);
                return -1;
        }
        sc_counter_add(topic_counter(w, &w->out_counters, "socialcare_messages_out_total",
                                     "Messages produced, by topic", topic),
                       1);
        return 0;
}

sc_hold_t *sc_worker_hold(sc_worker_t *w, sc_msg_t *origin)
{
        (void)w;
        if (!origin)
                return NULL;
        origin->inflight->pending++;
        return (sc_hold_t *)origin->inflight;
}

void sc_worker_release(sc_worker_t *w, sc_hold_t *h)
{
        if (h)
                inflight_release(w, (sc_inflight_t *)h);
}

const char *sc_msg_header(const sc_msg_t *m, const char *name, size_t *size)
{
        rd_kafka_headers_t *hdrs;
        const void *val;
        size_t sz;
        if (rd_kafka_message_headers(m->rkm, &hdrs) ||
            rd_kafka_header_get_last(hdrs, name, &val, &sz))
                return NULL;
        if (size)
                *size = sz;
        return val;
}

/* Errors the broker (or librdkafka, before sending) will give again however
 * often the record is produced: retrying them would stall the input for
 * ever. Everything else (timeouts, a broker down) is an outage to wait out. */
static int is_permanent(rd_kafka_resp_err_t err)
{
        switch (err) {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        case RD_KAFKA_RESP_ERR_INVALID_RECORD:
        case RD_KAFKA_RESP_ERR_INVALID_MSG:
        case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
        case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        case RD_KAFKA_RESP_ERR__INVALID_ARG:
                return 1;
        default:
                return 0;
        }
}

/* A dead letter the dead-letter topic refused for good: the input is given
 * up (its offset will be stored), loudly, never retried for ever. */
static void dlq_failed(sc_worker_t *w, const sc_inflight_t *origin, const char *reason,
                       rd_kafka_resp_err_t err, const char *why)
{
        char labels[200];
        snprintf(labels, sizeof(labels), "reason=\"%s\",error=\"%s\"", reason,
                 rd_kafka_err2name(err));
        sc_counter_add(sc_metrics_counter(w->metrics, "socialcare_dlq_failed_total",
                                          "Inputs given up because their dead letter "
                                          "was refused for good (offset stored)",
                                          labels),
                       1);
        const part_t *p = origin ? origin->part : NULL;
        sc_log(SC_LOG_ERROR,
               "dead letter of %s [%d] @%lld (%s) refused for good, input skipped: %s",
               p ? p->topic : "?", p ? (int)p->partition : -1,
               origin ? (long long)origin->offset : -1LL, reason, why);
}

static size_t headers_bytes(const rd_kafka_headers_t *h)
{
        const char *name;
        const void *val;
        size_t size, total = 0;
        for (size_t i = 0; h && !rd_kafka_header_get_all(h, i, &name, &val, &size); i++)
                total += strlen(name) + size + HEADER_OVERHEAD;
        return total;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        out[0] = '\0';
        if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
                return;
        for (unsigned int i = 0; i < n && i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int sc_worker_dead_letter(sc_worker_t *w, sc_msg_t *origin, const char *reason,
                          const char *detail)
{
        rd_kafka_message_t *rkm = origin->rkm;
        const char *src_topic = rd_kafka_topic_name(rkm->rkt);
        char topic[512], part[16], off[32];
        snprintf(topic, sizeof(topic), "%s%s", src_topic, w->dlq_suffix);
        snprintf(part, sizeof(part), "%d", (int)rkm->partition);
        snprintf(off, sizeof(off), "%lld", (long long)rkm->offset);
        if (!detail)
                detail = "";
        size_t detail_len = strlen(detail);
        if (detail_len > DLQ_MAX_DETAIL)
                detail_len = DLQ_MAX_DETAIL;

        rd_kafka_headers_t *orig = NULL, *hdrs;
        int headers_dropped = 0;
        if (rd_kafka_message_headers(rkm, &orig) == 0 && orig &&
            headers_bytes(orig) <= DLQ_MAX_HEADERS) {
                hdrs = rd_kafka_headers_copy(orig);
        } else {
                headers_dropped = orig != NULL;
                hdrs = rd_kafka_headers_new(10);
        }
        rd_kafka_header_add(hdrs, "sc-error-reason", -1, reason, -1);
        rd_kafka_header_add(hdrs, "sc-error-detail", -1, detail, (ssize_t)detail_len);
        rd_kafka_header_add(hdrs, "sc-worker", -1, w->ops->name, -1);
        rd_kafka_header_add(hdrs, "sc-source-topic", -1, src_topic, -1);
        rd_kafka_header_add(hdrs, "sc-source-partition", -1, part, -1);
        rd_kafka_header_add(hdrs, "sc-source-offset", -1, off, -1);
        if (headers_dropped)
                rd_kafka_header_add(hdrs, "sc-headers-dropped", -1, "true", -1);

        /* Cut what does not fit: the dead letter must be accepted wherever the
         * original came from, or nothing behind it would ever be processed. */
        size_t key_len = rkm->key_len > DLQ_MAX_KEY ? DLQ_MAX_KEY : rkm->key_len;
        size_t len = rkm->len;
        /* Room for the truncation headers below, whether used or not. */
        size_t fixed =
            RECORD_OVERHEAD + key_len + headers_bytes(hdrs) + 4 * HEADER_OVERHEAD + 160;
        size_t budget =
            (size_t)w->max_record_bytes > fixed ? (size_t)w->max_record_bytes - fixed : 0;
        if (len > budget || key_len < rkm->key_len) {
                char size[32], hash[65];
                snprintf(size, sizeof(size), "%zu", rkm->len);
                sha256_hex(rkm->payload ? rkm->payload : "", rkm->len, hash);
                if (len > budget)
                        len = budget;
                rd_kafka_header_add(hdrs, "sc-truncated", -1, "true", -1);
                rd_kafka_header_add(hdrs, "sc-original-size", -1, size, -1);
                rd_kafka_header_add(hdrs, "sc-original-sha256", -1, hash, -1);
                if (key_len < rkm->key_len) {
                        snprintf(size, sizeof(size), "%zu", rkm->key_len);
                        rd_kafka_header_add(hdrs, "sc-original-key-size", -1, size, -1);
                }
        }

        out_ctx_t *ctx = ctx_get(w);
        ctx->origin = origin->inflight;
        ctx->dlq = 1;
        snprintf(ctx->dlq_reason, sizeof(ctx->dlq_reason), "%s", reason);
        ctx->origin->pending++;
        if (produce_raw(w, topic, rkm->key, key_len, rkm->payload, len, hdrs, ctx) ==
            -1) {
                rd_kafka_headers_destroy(hdrs);
                ctx->origin->pending--;
                ctx_put(w, ctx);
                dlq_failed(w, origin->inflight, reason, w->last_err, w->errstr);
                return 0;
        }
        sc_counter_add(dlq_counter(w, reason), 1);
        sc_log(SC_LOG_INFO, "dead-lettered %s [%d] @%lld to %s: %s: %s%s", src_topic,
               (int)rkm->partition, (long long)rkm->offset, topic, reason, detail,
               len < rkm->len ? " (truncated)" : "");
        return 0;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        sc_worker_t *w = opaque;
        out_ctx_t *ctx = rkm->_private;
        (void)rk;
        if (!ctx)
                return;
        if (rkm->err && ctx->dlq && is_permanent(rkm->err)) {
                char why[600];
                snprintf(why, sizeof(why), "%s: %s", rd_kafka_topic_name(rkm->rkt),
                         rd_kafka_err2str(rkm->err));
                dlq_failed(w, ctx->origin, ctx->dlq_reason, rkm->err, why);
                if (ctx->origin)
                        inflight_release(w, ctx->origin);
                ctx_put(w, ctx);
                return;
        }
        if (rkm->err) {
                /* Keep the bytes and produce again later: a delivery failure is an
                 * outage to wait out, never a reason to drop. */
                ctx->attempts++;
                int64_t backoff = 100LL << (ctx->attempts < 10 ? ctx->attempts : 10);
                if (backoff > w->retry_backoff_max)
                        backoff = w->retry_backoff_max;
                retry_t *r = calloc(1, sizeof(*r));
                r->ctx = ctx;
                r->topic = strdup(rd_kafka_topic_name(rkm->rkt));
                if (rkm->key_len) {
                        r->key = malloc(rkm->key_len);
                        memcpy(r->key, rkm->key, rkm->key_len);
                        r->key_len = rkm->key_len;
                }
                if (rkm->len) {
                        r->payload = malloc(rkm->len);
                        memcpy(r->payload, rkm->payload, rkm->len);
                        r->len = rkm->len;
                }
                rd_kafka_headers_t *h = NULL;
                if (rd_kafka_message_headers(rkm, &h) == 0 && h)
                        r->headers = rd_kafka_headers_copy(h);
                r->due_ms = sc_mono_ms() + backoff;
                r->next = w->retries;
                w->retries = r;
                sc_counter_add(w->m_retries, 1);
                sc_log(SC_LOG_WARN,
                       "delivery to %s failed (attempt %d): %s; retrying in %lld ms",
                       r->topic, ctx->attempts, rd_kafka_err2str(rkm->err),
                       (long long)backoff);
                return;
        }
        atomic_fetch_or(&w->brokers_up, UP_PRODUCER);
        if (ctx->on_delivered)
                ctx->on_delivered(ctx->arg);
        if (ctx->origin)
                inflight_release(w, ctx->origin);
        ctx_put(w, ctx);
}

static void serve_retries(sc_worker_t *w)
{
        int64_t now = sc_mono_ms();
        retry_t **pp = &w->retries;
        while (*pp) {
                retry_t *r = *pp;
                if (r->due_ms > now) {
                        pp = &r->next;
                        continue;
                }
                if (produce_raw(w, r->topic, r->key, r->key_len, r->payload, r->len,
                                r->headers, r->ctx) == -1) {
                        if (r->ctx->dlq && is_permanent(w->last_err)) {
                                dlq_failed(w, r->ctx->origin, r->ctx->dlq_reason,
                                           w->last_err, w->errstr);
                                if (r->ctx->origin)
                                        inflight_release(w, r->ctx->origin);
                                ctx_put(w, r->ctx);
                                *pp = r->next;
                                retry_free(r);
                                continue;
                        }
                        /* Permanent refusal of a regular output at produce time
                         * (e.g. a broker limit lowered under it): dropping it
                         * would lose data, so stall loudly. */
                        sc_log(SC_LOG_ERROR, "retry: %s", w->errstr);
                        r->due_ms = now + 5000;
                        pp = &r->next;
                        continue;
                }
                *pp = r->next;
                free(r->topic);
                free(r->key);
                free(r->payload);
                free(r);
        }
}

/* ---- consumer ------------------------------------------------------------ */

/* Batch messages of a revoked partition were never processed: they are the
 * newest entries of its ring, so they come off the tail unstored. */
static void drop_batch_of(sc_worker_t *w, part_t *p)
{
        size_t keep = 0, dropped = 0;
        for (size_t i = 0; i < w->batch_cnt; i++) {
                sc_msg_t *m = &w->batch[i];
                if (m->inflight->part == p) {
                        inflight_put(w, m->inflight);
                        rd_kafka_message_destroy(m->rkm);
                        dropped++;
                        continue;
                }
                w->batch[keep++] = *m;
        }
        w->batch_cnt = keep;
        p->cnt -= dropped;
}

/* Revoke: wait for what is in flight for these partitions, store and commit
 * their offsets, then forget them. Bounded, so a dead broker cannot hold the
 * group hostage: what is still undelivered then is orphaned (not stored) and
 * will be consumed again by the partition's next owner. */
static void revoke_partitions(sc_worker_t *w, rd_kafka_topic_partition_list_t *parts)
{
        for (int i = 0; i < parts->cnt; i++) {
                part_t *p =
                    part_find(w, parts->elems[i].topic, parts->elems[i].partition);
                if (w->batch_cnt) {
                        drop_batch_of(w, p);
                        if (!w->batch_cnt)
                                w->batch_held = 0;
                }
        }
        int64_t deadline = sc_mono_ms() + 30000;
        for (;;) {
                int busy = 0;
                for (int i = 0; i < parts->cnt; i++) {
                        part_t *p = part_find(w, parts->elems[i].topic,
                                              parts->elems[i].partition);
                        part_advance(w, p);
                        busy |= p->cnt > 0;
                }
                store_offsets(w);
                if (!busy || sc_mono_ms() > deadline)
                        break;
                /* Shutting down with the producer drained: what is left is
                 * held by the worker (sc_worker_hold) and gave up already. */
                if (stop_requested && rd_kafka_outq_len(w->producer) == 0 && !w->retries)
                        break;
                rd_kafka_poll(w->producer, 50);
                serve_retries(w);
                if (w->ops->pump && w->state)
                        w->ops->pump(w, w->state);
        }
        rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                sc_log(SC_LOG_WARN, "commit on revoke: %s", rd_kafka_err2str(err));
        for (int i = 0; i < parts->cnt; i++) {
                part_t *p =
                    part_find(w, parts->elems[i].topic, parts->elems[i].partition);
                if (p->cnt)
                        sc_log(SC_LOG_WARN,
                               "revoke %s [%d]: %zu messages still undelivered; their "
                               "offsets "
                               "are not stored and will be consumed again",
                               p->topic, (int)p->partition, p->cnt);
                for (size_t k = 0; k < p->cnt; k++)
                        p->ring[(p->head + k) % p->cap]->part = NULL;
                p->cnt = 0;
                p->head = 0;
                p->store_offset = -1;
                p->dirty = 0;
                p->rkt = NULL;
        }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        sc_worker_t *w = opaque;
        int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                for (int i = 0; i < parts->cnt; i++)
                        sc_log(SC_LOG_INFO, "assigned %s [%d]", parts->elems[i].topic,
                               (int)parts->elems[i].partition);
                if (cooperative)
                        rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
                else
                        rd_kafka_assign(rk, parts);
                w->paused = 0;
                return;
        }
        for (int i = 0; i < parts->cnt; i++)
                sc_log(SC_LOG_INFO, "revoked %s [%d]", parts->elems[i].topic,
                       (int)parts->elems[i].partition);
        revoke_partitions(w, parts);
        if (cooperative) {
                rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
                if (e)
                        rd_kafka_error_destroy(e);
        } else {
                rd_kafka_assign(rk, NULL);
        }
}

static int client_bit(const sc_worker_t *w, const rd_kafka_t *rk)
{
        return rk == w->producer ? UP_PRODUCER : UP_CONSUMER;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        sc_worker_t *w = opaque;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                atomic_fetch_and(&w->brokers_up, ~client_bit(w, rk));
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char fatal[512];
                rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
                sc_log(SC_LOG_ERROR, "fatal kafka error: %s", fatal);
                w->fatal = 1;
                stop_requested = 1;
                return;
        }
        sc_log(SC_LOG_WARN, "kafka %s: %s: %s", rd_kafka_name(rk),
               rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int64_t stat_int(const sc_jv_t *p, const char *key)
{
        int64_t v;
        return sc_json_int64(sc_json_get(p, key), &v) ? -1 : v;
}

/* Lag of an assigned partition from its statistics, -1 when unknown. Before
 * the group's first commit (a new group, or a partition that never had a
 * message) consumer_lag is -1: then from the stored position, else from the
 * log start, where auto.offset.reset=earliest begins. */
static int64_t partition_lag(const sc_jv_t *p)
{
        int64_t lag = stat_int(p, "consumer_lag");
        if (lag >= 0)
                return lag;
        lag = stat_int(p, "consumer_lag_stored");
        if (lag >= 0)
                return lag;
        /* Only once fetching: before, the committed offset may just not be
         * known yet and the log start would overstate the lag. */
        const char *state = sc_json_str(sc_json_get(p, "fetch_state"));
        int64_t hi = stat_int(p, "hi_offset"), lo = stat_int(p, "lo_offset");
        if (hi < 0 || !state || strcmp(state, "active"))
                return -1;
        return lo >= 0 && lo <= hi ? hi - lo : hi;
}

/* librdkafka statistics: consumer lag per partition and broker state.
 * Runs on the thread that polls rk (the main loop) for both clients. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        sc_worker_t *w = opaque;
        sc_json_t *jp = sc_json_new(16);
        char err[128];
        const sc_jv_t *root = sc_json_parse(jp, json, len, err, sizeof(err));
        int any_up = 0, any_broker = 0;
        for (const sc_jv_t *b = sc_json_first(sc_json_get(root, "brokers")); b;
             b = sc_json_next(b)) {
                const char *state = sc_json_str(sc_json_get(b, "state"));
                const char *source = sc_json_str(sc_json_get(b, "source"));
                /* The group coordinator (logical) and the internal broker
                 * mirror a real connection or none: only real brokers count. */
                if (source && (!strcmp(source, "logical") || !strcmp(source, "internal")))
                        continue;
                any_broker = 1;
                any_up |= state && !strcmp(state, "UP");
        }
        if (any_broker) {
                if (any_up)
                        atomic_fetch_or(&w->brokers_up, client_bit(w, rk));
                else
                        atomic_fetch_and(&w->brokers_up, ~client_bit(w, rk));
        }
        /* The producer's statistics list the topics it writes, with no lag. */
        const char *type = sc_json_str(sc_json_get(root, "type"));
        for (const sc_jv_t *t = sc_json_first(sc_json_get(root, "topics"));
             t && type && !strcmp(type, "consumer"); t = sc_json_next(t)) {
                for (const sc_jv_t *p = sc_json_first(sc_json_get(t, "partitions")); p;
                     p = sc_json_next(p)) {
                        int64_t part, lag;
                        if (sc_json_int64(sc_json_get(p, "partition"), &part) || part < 0)
                                continue;
                        /* Not (or no longer) assigned to this copy: its lag
                         * is another consumer's to report; 0 keeps a sum over
                         * copies true after a rebalance. */
                        lag = sc_json_bool(sc_json_get(p, "desired")) == 0
                                  ? 0
                                  : partition_lag(p);
                        if (lag < 0)
                                continue;
                        char labels[300];
                        snprintf(labels, sizeof(labels),
                                 "topic=\"%s\",partition=\"%lld\"", t->key,
                                 (long long)part);
                        sc_gauge_set(
                            sc_metrics_gauge(w->metrics, "socialcare_consumer_lag",
                                             "Messages behind the partition end", labels),
                            (double)lag);
                }
        }
        sc_json_destroy(jp);
        return 0;
}

/* ---- health -------------------------------------------------------------- */

static int health_live(void *opaque, sc_buf_t *detail)
{
        sc_worker_t *w = opaque;
        int64_t age = sc_mono_ms() - atomic_load(&w->heartbeat_ms);
        if (age > 60000) {
                sc_buf_printf(detail, "main loop stalled for %lld ms", (long long)age);
                return 0;
        }
        if (!atomic_load(&w->brokers_up)) {
                sc_buf_puts(detail, "kafka: no broker reachable");
                return 0;
        }
        sc_buf_puts(detail, "ok");
        return 1;
}

static int health_ready(void *opaque, sc_buf_t *detail)
{
        sc_worker_t *w = opaque;
        if (!health_live(opaque, detail))
                return 0;
        if (!atomic_load(&w->started)) {
                sc_buf_reset(detail);
                sc_buf_puts(detail, "starting (schema registry, init)");
                return 0;
        }
        if (w->ops->uses_redis && !atomic_load(&w->redis_up)) {
                sc_buf_reset(detail);
                sc_buf_puts(detail, "redis: unreachable");
                return 0;
        }
        return 1;
}

/* ---- setup --------------------------------------------------------------- */

static int set_default(rd_kafka_conf_t *conf, const sc_config_t *c, const char *role,
                       const char *name, const char *value, char *errstr,
                       size_t errstr_size)
{
        if (sc_config_kafka_get(c, role, name))
                return 0;
        if (rd_kafka_conf_set(conf, name, value, errstr, errstr_size) != RD_KAFKA_CONF_OK)
                return -1;
        return 0;
}

static int force(rd_kafka_conf_t *conf, const sc_config_t *c, const char *role,
                 const char *name, const char *value, char *errstr, size_t errstr_size)
{
        const char *user = sc_config_kafka_get(c, role, name);
        if (user && strcmp(user, value))
                sc_log(SC_LOG_WARN,
                       "kafka.%s=%s ignored: at-least-once delivery needs %s", name, user,
                       value);
        return rd_kafka_conf_set(conf, name, value, errstr, errstr_size) ==
                       RD_KAFKA_CONF_OK
                   ? 0
                   : -1;
}

int64_t sc_worker_max_record_bytes(const sc_config_t *c, char *errstr, size_t errstr_size)
{
        int64_t max = sc_config_int(c, "messages.max_bytes");
        const char *user = sc_config_kafka_get(c, "producer", "message.max.bytes");
        if (!user)
                return max;
        int64_t kmax = strtoll(user, NULL, 10);
        if (sc_config_is_default(c, "messages.max_bytes") && kmax >= 1000)
                return kmax;
        if (kmax != max) {
                snprintf(
                    errstr, errstr_size,
                    "kafka message.max.bytes=%s contradicts messages.max_bytes=%lld: "
                    "set the record limit once, as messages.max_bytes",
                    user, (long long)max);
                return -1;
        }
        return max;
}

static int setup_kafka(sc_worker_t *w, char *errstr, size_t errstr_size)
{
        const sc_config_t *c = w->config;
        const char *name = w->ops->name;
        char key[128], group[256], client[256];
        snprintf(key, sizeof(key), "%s.group_id", name);
        snprintf(group, sizeof(group), "%s",
                 *sc_config_str(c, key) ? sc_config_str(c, key) : "");
        if (!*group)
                snprintf(group, sizeof(group), "socialcare-%s", name);
        snprintf(client, sizeof(client), "socialcare-%s", name);
        const char *stats_ms = sc_config_int(c, "metrics.port") > 0 ? "5000" : "0";

        /* One record limit: the runtime sizes dead letters by it. */
        w->max_record_bytes = sc_worker_max_record_bytes(c, errstr, errstr_size);
        if (w->max_record_bytes < 0)
                return -1;
        char max_bytes[24];
        snprintf(max_bytes, sizeof(max_bytes), "%lld", (long long)w->max_record_bytes);
        rd_kafka_conf_t *pc = sc_config_kafka_conf(c, "producer", errstr, errstr_size);
        if (!pc)
                return -1;
        if (rd_kafka_conf_set(pc, "message.max.bytes", max_bytes, errstr, errstr_size) !=
                RD_KAFKA_CONF_OK ||
            set_default(pc, c, "producer", "client.id", client, errstr, errstr_size) ||
            set_default(pc, c, "producer", "linger.ms", "5", errstr, errstr_size) ||
            set_default(pc, c, "producer", "statistics.interval.ms", stats_ms, errstr,
                        errstr_size) ||
            force(pc, c, "producer", "enable.idempotence", "true", errstr, errstr_size)) {
                rd_kafka_conf_destroy(pc);
                return -1;
        }
        rd_kafka_conf_set_opaque(pc, w);
        rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
        rd_kafka_conf_set_error_cb(pc, error_cb);
        rd_kafka_conf_set_stats_cb(pc, stats_cb);
        w->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, errstr_size);
        if (!w->producer) {
                rd_kafka_conf_destroy(pc);
                return -1;
        }

        rd_kafka_conf_t *cc = sc_config_kafka_conf(c, "consumer", errstr, errstr_size);
        if (!cc)
                return -1;
        if (set_default(cc, c, "consumer", "client.id", client, errstr, errstr_size) ||
            set_default(cc, c, "consumer", "group.id", group, errstr, errstr_size) ||
            set_default(cc, c, "consumer", "auto.offset.reset", "earliest", errstr,
                        errstr_size) ||
            set_default(cc, c, "consumer", "statistics.interval.ms", stats_ms, errstr,
                        errstr_size) ||
            force(cc, c, "consumer", "enable.auto.offset.store", "false", errstr,
                  errstr_size) ||
            force(cc, c, "consumer", "enable.auto.commit", "true", errstr, errstr_size)) {
                rd_kafka_conf_destroy(cc);
                return -1;
        }
        rd_kafka_conf_set_opaque(cc, w);
        rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
        rd_kafka_conf_set_error_cb(cc, error_cb);
        rd_kafka_conf_set_stats_cb(cc, stats_cb);
        w->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, errstr_size);
        if (!w->consumer) {
                rd_kafka_conf_destroy(cc);
                return -1;
        }
        rd_kafka_poll_set_consumer(w->consumer);

        snprintf(key, sizeof(key), "%s.input_topics", name);
        const char *topics = sc_config_str(c, key);
        if (!*topics)
                topics = w->ops->input_topics;
        if (!topics || !*topics) {
                snprintf(errstr, errstr_size, "%s: no input topics", key);
                return -1;
        }
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(4);
        char *copy = strdup(topics), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                rd_kafka_topic_partition_list_add(sub, t, RD_KAFKA_PARTITION_UA);
        free(copy);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(w->consumer, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        if (err) {
                snprintf(errstr, errstr_size, "subscribe %s: %s", topics,
                         rd_kafka_err2str(err));
                return -1;
        }
        sc_log(SC_LOG_INFO, "consuming %s as group %s", topics, group);
        return 0;
}

/* ---- the loop ------------------------------------------------------------ */

static void finish_batch(sc_worker_t *w)
{
        for (size_t i = 0; i < w->batch_cnt; i++) {
                inflight_release(w, w->batch[i].inflight);
                rd_kafka_message_destroy(w->batch[i].rkm);
        }
        w->batch_cnt = 0;
        w->batch_held = 0;
}

static int fill_batch(sc_worker_t *w, size_t max, int wait_ms)
{
        int64_t deadline = sc_mono_ms() + wait_ms;
        while (w->batch_cnt < max && !stop_requested) {
                int64_t left = deadline - sc_mono_ms();
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(
                    w->consumer, w->batch_cnt ? 0 : (int)(left > 0 ? left : 0));
                if (!rkm) {
                        if (w->batch_cnt || sc_mono_ms() >= deadline)
                                break;
                        continue;
                }
                if (rkm->err) {
                        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                sc_log(SC_LOG_WARN, "consume: %s",
                                       rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                atomic_fetch_or(&w->brokers_up, UP_CONSUMER);
                if (w->batch_cnt == w->batch_cap) {
                        w->batch_cap = w->batch_cap ? w->batch_cap * 2 : 256;
                        w->batch = realloc(w->batch, w->batch_cap * sizeof(*w->batch));
                }
                sc_inflight_t *f = inflight_get(w);
                f->pending = 1;
                f->offset = rkm->offset;
                f->part = part_of(w, rkm);
                part_push(f->part, f);
                sc_msg_t *m = &w->batch[w->batch_cnt++];
                m->rkm = rkm;
                m->inflight = f;
                m->received_mono_ns = sc_mono_ns();
                sc_counter_add(topic_counter(w, &w->in_counters,
                                             "socialcare_messages_in_total",
                                             "Messages consumed, by topic",
                                             rd_kafka_topic_name(rkm->rkt)),
                               1);
        }
        return (int)w->batch_cnt;
}

static void run_batch(sc_worker_t *w)
{
        int64_t t0 = sc_mono_ns();
        int rc = w->ops->process(w, w->state, w->batch, w->batch_cnt);
        if (rc == SC_RETRY) {
                sc_counter_add(w->m_batch_retries, 1);
                w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : 100;
                if (w->backoff_ms > w->retry_backoff_max)
                        w->backoff_ms = w->retry_backoff_max;
                w->batch_held = 1;
                w->batch_retry_at = sc_mono_ms() + w->backoff_ms;
                sc_log(SC_LOG_WARN, "batch of %zu deferred, retrying in %lld ms",
                       w->batch_cnt, (long long)w->backoff_ms);
                return;
        }
        if (rc != SC_OK) {
                sc_log(SC_LOG_ERROR,
                       "process failed fatally; shutting down without storing "
                       "this batch's offsets");
                w->fatal = 1;
                stop_requested = 1;
                /* Orphan the batch so nothing after it gets stored either. */
                for (size_t i = 0; i < w->batch_cnt; i++) {
                        rd_kafka_message_destroy(w->batch[i].rkm);
                }
                w->batch_cnt = 0;
                return;
        }
        w->backoff_ms = 0;
        double per =
            w->batch_cnt ? (double)(sc_mono_ns() - t0) / 1e9 / (double)w->batch_cnt : 0;
        for (size_t i = 0; i < w->batch_cnt; i++)
                sc_histogram_observe(w->m_latency, per);
        finish_batch(w);
}

static void publish_health(sc_worker_t *w)
{
        int64_t now = sc_mono_ms();
        atomic_store(&w->heartbeat_ms, now);
        if (w->redis) {
                /* Batches tell whether Redis answers only while posts flow: an
                 * idle worker pings, so /readyz follows an outage (and its end)
                 * without traffic. Never with a batch's commands queued. */
                if (now >= w->redis_ping_at && !sc_redis_pending(w->redis)) {
                        w->redis_ping_at = now + REDIS_PING_MS;
                        redisReply **rep;
                        size_t n;
                        if (sc_redis_appendf(w->redis, "PING") == 0)
                                sc_redis_exec(w->redis, &rep, &n);
                }
                atomic_store(&w->redis_up, sc_redis_err(w->redis) == 0);
                unsigned long e = sc_redis_error_count(w->redis);
                unsigned long r = sc_redis_reconnect_count(w->redis);
                sc_counter_add(w->m_redis_errors, (double)(e - w->redis_errors_seen));
                sc_counter_add(w->m_redis_reconnects,
                               (double)(r - w->redis_reconnects_seen));
                w->redis_errors_seen = e;
                w->redis_reconnects_seen = r;
                unsigned long d = sc_redis_redirect_count(w->redis);
                sc_counter_add(w->m_redis_redirects,
                               (double)(d - w->redis_redirects_seen));
                w->redis_redirects_seen = d;
        }
        sc_gauge_set(w->m_inflight, (double)w->inflight_total);
        sc_gauge_set(w->m_queue, (double)rd_kafka_outq_len(w->producer));
}

static void set_paused(sc_worker_t *w, int pause)
{
        rd_kafka_topic_partition_list_t *a = NULL;
        if (w->paused == pause || rd_kafka_assignment(w->consumer, &a) || !a)
                return;
        if (pause)
                rd_kafka_pause_partitions(w->consumer, a);
        else
                rd_kafka_resume_partitions(w->consumer, a);
        rd_kafka_topic_partition_list_destroy(a);
        w->paused = pause;
        sc_log(SC_LOG_INFO, "%s consumption: %ld messages in flight",
               pause ? "pausing" : "resuming", w->inflight_total);
}

static sc_config_t *load_config(const sc_worker_ops_t *ops, const char *path,
                                const flag_t *flags, int flag_cnt, char *errstr,
                                size_t errstr_size)
{
        sc_config_t *c = sc_config_new(ops->name, ops->conf_defs);
        if ((path && sc_config_load_file(c, path, errstr, errstr_size) == -1) ||
            sc_config_load_env(c, errstr, errstr_size) == -1) {
                sc_config_destroy(c);
                return NULL;
        }
        for (int i = 0; i < flag_cnt; i++) {
                if (sc_config_set(c, flags[i].name, flags[i].value, errstr,
                                  errstr_size) == -1) {
                        sc_config_destroy(c);
                        return NULL;
                }
        }
        if (sc_config_validate(c, errstr, errstr_size) == -1) {
                sc_config_destroy(c);
                return NULL;
        }
        return c;
}

static void do_reload(sc_worker_t *w)
{
        char errstr[512] = "";
        sc_log(SC_LOG_INFO, "SIGHUP: reloading %s",
               w->config_path ? w->config_path : "(no file)");
        sc_config_t *c = load_config(w->ops, w->config_path, w->flags, w->flag_cnt,
                                     errstr, sizeof(errstr));
        sc_brands_t *b =
            c ? sc_brands_new(sc_config_tree(c), errstr, sizeof(errstr)) : NULL;
        if (c && b && w->ops->check_config &&
            w->ops->check_config(c, errstr, sizeof(errstr)) == -1) {
                sc_brands_destroy(b);
                b = NULL;
        }
        if (!c || !b) {
                sc_log(SC_LOG_ERROR, "reload rejected, keeping the running config: %s",
                       errstr);
                sc_counter_add(w->m_reload_rejected, 1);
                sc_config_destroy(c);
                return;
        }
        /* Swap first so reload() sees the new brands through the accessors. */
        sc_brands_t *old_brands = w->brands;
        w->brands = b;
        if (w->ops->reload &&
            w->ops->reload(w, w->state, c, errstr, sizeof(errstr)) == -1) {
                w->brands = old_brands;
                sc_brands_destroy(b);
                sc_config_destroy(c);
                sc_log(SC_LOG_ERROR, "reload rejected, keeping the running config: %s",
                       errstr);
                sc_counter_add(w->m_reload_rejected, 1);
                return;
        }
        /* Workers may still hold pointers into the old config and brands until
         * their reload() replaced them: retire them instead of freeing. */
        if (w->retired_cnt < 64) {
                w->retired_configs[w->retired_cnt] = w->config;
                w->retired_brands[w->retired_cnt++] = old_brands;
        } else {
                sc_log(SC_LOG_WARN, "more than 64 reloads: old configs kept");
        }
        w->config = c;
        sc_log_init(w->ops->name, sc_log_level_parse(sc_config_str(c, "log.level")),
                    !strcmp(sc_config_str(c, "log.format"), "json"));
        sc_counter_add(w->m_reload_ok, 1);
        sc_log(SC_LOG_INFO, "reload done");
}

static void run(sc_worker_t *w)
{
        char key[128];
        snprintf(key, sizeof(key), "%s.batch_size", w->ops->name);
        size_t batch_size = (size_t)sc_config_int(w->config, key);
        snprintf(key, sizeof(key), "%s.batch_wait_ms", w->ops->name);
        int batch_wait = (int)sc_config_int(w->config, key);
        snprintf(key, sizeof(key), "%s.max_inflight", w->ops->name);
        long max_inflight = (long)sc_config_int(w->config, key);
        snprintf(key, sizeof(key), "%s.tick_ms", w->ops->name);
        int64_t tick_ms = sc_config_int(w->config, key);
        int64_t next_tick = sc_mono_ms() + tick_ms;

        while (!stop_requested) {
                publish_health(w);
                rd_kafka_poll(w->producer, 0);
                serve_retries(w);
                store_offsets(w);
                if (reload_requested) {
                        reload_requested = 0;
                        do_reload(w);
                }
                if (w->ops->tick && sc_mono_ms() >= next_tick) {
                        int rc = w->ops->tick(w, w->state, sc_now_ms());
                        if (rc == SC_RETRY)
                                sc_counter_add(w->m_tick_retries, 1);
                        if (rc == SC_FATAL) {
                                w->fatal = 1;
                                break;
                        }
                        next_tick = sc_mono_ms() + tick_ms;
                }
                if (w->batch_held) {
                        if (sc_mono_ms() >= w->batch_retry_at)
                                run_batch(w);
                        else
                                rd_kafka_poll(w->producer, 20);
                        continue;
                }
                if (w->inflight_total >= max_inflight)
                        set_paused(w, 1);
                else if (w->paused && w->inflight_total < max_inflight / 2)
                        set_paused(w, 0);
                int wait = batch_wait;
                if (w->ops->tick) {
                        int64_t until_tick = next_tick - sc_mono_ms();
                        if (until_tick < wait)
                                wait = until_tick > 0 ? (int)until_tick : 0;
                }
                if (w->paused) {
                        /* Keep group membership alive while deliveries catch up;
                         * anything the fetcher still hands out is processed. */
                        rd_kafka_poll(w->producer, 50);
                        wait = 0;
                }
                if (fill_batch(w, batch_size, wait ? wait : (w->paused ? 0 : 1)) > 0)
                        run_batch(w);
        }
}

static void shutdown_worker(sc_worker_t *w)
{
        sc_log(SC_LOG_INFO, "shutting down: %ld messages in flight", w->inflight_total);
        if (w->batch_cnt) {
                /* A deferred batch was never processed: leave it unstored. */
                for (size_t i = 0; i < w->batch_cnt; i++) {
                        w->batch[i].inflight->part = NULL;
                        rd_kafka_message_destroy(w->batch[i].rkm);
                }
                w->batch_cnt = 0;
        }
        if (w->ops->flush && w->state && !w->fatal)
                w->ops->flush(w, w->state);
        if (w->producer) {
                int64_t deadline = sc_mono_ms() + 30000;
                while ((rd_kafka_outq_len(w->producer) > 0 || w->retries) &&
                       sc_mono_ms() < deadline) {
                        rd_kafka_poll(w->producer, 100);
                        serve_retries(w);
                }
                if (rd_kafka_outq_len(w->producer) > 0 || w->retries)
                        sc_log(
                            SC_LOG_WARN,
                            "%d messages undelivered at shutdown; their inputs will be "
                            "consumed again",
                            rd_kafka_outq_len(w->producer));
        }
        if (w->consumer) {
                if (!w->fatal) {
                        store_offsets(w);
                        rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, NULL, 0);
                        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                                sc_log(SC_LOG_WARN, "final commit: %s",
                                       rd_kafka_err2str(err));
                }
                rd_kafka_consumer_close(w->consumer);
        }
}

static void worker_destroy(sc_worker_t *w)
{
        if (w->ops->destroy && w->state)
                w->ops->destroy(w->state);
        sc_http_destroy(w->http);
        if (w->consumer)
                rd_kafka_destroy(w->consumer);
        if (w->producer) {
                /* Anything left was reported above; purge so destroy won't block. */
                rd_kafka_purge(w->producer,
                               RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                rd_kafka_poll(w->producer, 0);
                rd_kafka_destroy(w->producer);
        }
        while (w->retries) {
                retry_t *r = w->retries;
                w->retries = r->next;
                retry_free(r);
        }
        while (w->parts) {
                part_t *p = w->parts;
                w->parts = p->next;
                for (size_t k = 0; k < p->cnt; k++)
                        free(p->ring[(p->head + k) % p->cap]);
                free(p->ring);
                free(p->topic);
                free(p);
        }
        /* In-flight entries still referenced by orphaned outputs are leaked on
         * purpose only if the producer could not deliver them; free the pools. */
        while (w->free_inflight) {
                sc_inflight_t *f = w->free_inflight;
                w->free_inflight = f->next_free;
                free(f);
        }
        while (w->free_ctx) {
                out_ctx_t *c = w->free_ctx;
                w->free_ctx = c->next_free;
                free(c);
        }
        for (topic_counter_t *lists[] = {w->in_counters, w->out_counters}, **l = lists;
             l < lists + 2; l++) {
                while (*l) {
                        topic_counter_t *t = *l;
                        *l = t->next;
                        free(t->topic);
                        free(t);
                }
        }
        free(w->batch);
        sc_redis_destroy(w->redis);
        sc_avro_destroy(w->avro);
        sc_brands_destroy(w->brands);
        sc_config_destroy(w->config);
        for (int i = 0; i < w->retired_cnt; i++) {
                sc_config_destroy(w->retired_configs[i]);
                sc_brands_destroy(w->retired_brands[i]);
        }
        sc_metrics_destroy(w->metrics);
        for (int i = 0; i < w->flag_cnt; i++) {
                free(w->flags[i].name);
                free(w->flags[i].value);
        }
        free(w->flags);
        free(w->config_path);
        free(w);
}

static void usage(const sc_worker_ops_t *ops, FILE *fp)
{
        fprintf(
            fp,
            "socialcare-%s %s - %s\n\n"
            "Usage: socialcare-%s [-c socialcare.yaml] [-o name=value ...] [options]\n\n"
            "  -c, --config FILE   deployment file (default: $SOCIALCARE_CONFIG)\n"
            "  -o name=value       override a setting (kafka.* goes to librdkafka)\n"
            "  --check-config      validate the configuration and exit\n"
            "  --print-config      print the effective configuration and exit\n"
            "  -v, --verbose       log.level=debug\n"
            "  -h, --help          this help, with every setting\n"
            "  -V, --version\n\n"
            "Signals: SIGTERM/SIGINT stop cleanly (finish in-flight work, store "
            "offsets); "
            "SIGHUP reloads the deployment file.\n\n",
            ops->name, SC_VERSION, ops->description ? ops->description : "", ops->name);
}

int sc_worker_main(int argc, char **argv, const sc_worker_ops_t *ops)
{
        static const struct option longopts[] = {
            {"config", required_argument, NULL, 'c'},
            {"check-config", no_argument, NULL, 'C'},
            {"print-config", no_argument, NULL, 'P'},
            {"verbose", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {NULL, 0, NULL, 0},
        };
        sc_worker_t *w = calloc(1, sizeof(*w));
        char errstr[1024] = "";
        int opt, check = 0, print = 0, help = 0, verbose = 0;
        w->ops = ops;
        atomic_store(&w->brokers_up, 1);
        atomic_store(&w->redis_up, 1);
        atomic_store(&w->heartbeat_ms, sc_mono_ms());
        const char *env_cfg = getenv("SOCIALCARE_CONFIG");
        if (env_cfg && *env_cfg)
                w->config_path = strdup(env_cfg);

        while ((opt = getopt_long(argc, argv, "c:o:vhV", longopts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        free(w->config_path);
                        w->config_path = strdup(optarg);
                        break;
                case 'o': {
                        const char *eq = strchr(optarg, '=');
                        if (!eq) {
                                fprintf(stderr, "-o expects name=value, got '%s'\n",
                                        optarg);
                                worker_destroy(w);
                                return 2;
                        }
                        w->flags =
                            realloc(w->flags, (size_t)(w->flag_cnt + 1) * sizeof(flag_t));
                        w->flags[w->flag_cnt].name =
                            strndup(optarg, (size_t)(eq - optarg));
                        w->flags[w->flag_cnt++].value = strdup(eq + 1);
                        break;
                }
                case 'C':
                        check = 1;
                        break;
                case 'P':
                        print = 1;
                        break;
                case 'v':
                        verbose = 1;
                        break;
                case 'h':
                        help = 1;
                        break;
                case 'V':
                        printf("socialcare-%s %s (librdkafka %s)\n", ops->name,
                               SC_VERSION, rd_kafka_version_str());
                        worker_destroy(w);
                        return 0;
                default:
                        usage(ops, stderr);
                        worker_destroy(w);
                        return 2;
                }
        }
        if (help) {
                usage(ops, stdout);
                sc_config_t *c = sc_config_new(ops->name, ops->conf_defs);
                sc_config_print_help(c, stdout);
                sc_config_destroy(c);
                worker_destroy(w);
                return 0;
        }

        sc_log_init(ops->name, SC_LOG_INFO, 0);
        w->config = load_config(ops, w->config_path, w->flags, w->flag_cnt, errstr,
                                sizeof(errstr));
        if (w->config)
                w->brands =
                    sc_brands_new(sc_config_tree(w->config), errstr, sizeof(errstr));
        int ok = w->config && w->brands;
        if (ok && ops->check_config &&
            ops->check_config(w->config, errstr, sizeof(errstr)))
                ok = 0;
        if (ok) {
                w->avro = sc_avro_new(
                    sc_config_str(w->config, "schemas.dir"),
                    check ? NULL : sc_config_str(w->config, "schema_registry.url"),
                    errstr, sizeof(errstr));
                ok = w->avro != NULL;
                if (ok)
                        sc_avro_set_registry_timeouts(
                            w->avro,
                            sc_config_int(w->config, "schema_registry.timeout_ms"),
                            sc_config_int(w->config, "schema_registry.wait_ms"));
        }
        if (!ok) {
                fprintf(stderr, "socialcare-%s: configuration error: %s\n", ops->name,
                        errstr);
                worker_destroy(w);
                return 1;
        }
        if (print) {
                sc_config_print(w->config, stdout);
                worker_destroy(w);
                return 0;
        }
        if (check) {
                printf("socialcare-%s: configuration OK (%s, %zu brands)\n", ops->name,
                       w->config_path ? w->config_path : "defaults",
                       sc_brands_count(w->brands));
                worker_destroy(w);
                return 0;
        }
        if (!w->config_path)
                sc_log(SC_LOG_WARN,
                       "no deployment file (-c or SOCIALCARE_CONFIG): no brands "
                       "configured");

        sc_log_init(ops->name,
                    verbose ? SC_LOG_DEBUG
                            : sc_log_level_parse(sc_config_str(w->config, "log.level")),
                    !strcmp(sc_config_str(w->config, "log.format"), "json"));
        snprintf(w->dlq_suffix, sizeof(w->dlq_suffix), "%s",
                 sc_config_str(w->config, (snprintf(errstr, sizeof(errstr),
                                                    "%s.dlq_suffix", ops->name),
                                           errstr)));
        snprintf(errstr, sizeof(errstr), "%s.retry_backoff_max_ms", ops->name);
        w->retry_backoff_max = sc_config_int(w->config, errstr);
        errstr[0] = '\0';

        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        w->metrics = sc_metrics_new(ops->name);
        w->m_reload_ok =
            sc_metrics_counter(w->metrics, "socialcare_config_reloads_total",
                               "SIGHUP reloads of the deployment file", "result=\"ok\"");
        w->m_reload_rejected = sc_metrics_counter(
            w->metrics, "socialcare_config_reloads_total",
            "SIGHUP reloads of the deployment file", "result=\"rejected\"");
        w->m_retries =
            sc_metrics_counter(w->metrics, "socialcare_delivery_retries_total",
                               "Outputs produced again after a failed delivery", NULL);
        w->m_batch_retries = sc_metrics_counter(
            w->metrics, "socialcare_batch_retries_total",
            "Input batches deferred by the worker (an outage such as Redis down) and "
            "offered again after a backoff",
            NULL);
        w->m_tick_retries =
            sc_metrics_counter(w->metrics, "socialcare_tick_retries_total",
                               "Timer runs deferred to the next tick (an outage)", NULL);
        w->m_redis_errors = sc_metrics_counter(
            w->metrics, "socialcare_redis_errors_total",
            "Failed Redis round trips (connects, commands, pings)", NULL);
        w->m_redis_reconnects = sc_metrics_counter(
            w->metrics, "socialcare_redis_reconnects_total", "Redis reconnects", NULL);
        w->m_redis_redirects = sc_metrics_counter(
            w->metrics, "socialcare_redis_redirects_total",
            "Redis Cluster MOVED and ASK redirections followed (0 on one node)", NULL);
        w->m_inflight =
            sc_metrics_gauge(w->metrics, "socialcare_inflight_messages",
                             "Input messages whose outputs are not yet delivered", NULL);
        w->m_queue = sc_metrics_gauge(w->metrics, "socialcare_producer_queue_messages",
                                      "Messages in the producer queue", NULL);
        w->m_up = sc_metrics_gauge(w->metrics, "socialcare_up", "1 while the worker runs",
                                   NULL);
        static const double latency_bounds[] = {1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4,
                                                1e-3, 5e-3, 1e-2, 5e-2, 0.1,  1};
        w->m_latency = sc_metrics_histogram(
            w->metrics, "socialcare_processing_seconds",
            "Processing time per input message (its batch's time / batch size)", NULL,
            latency_bounds, sizeof(latency_bounds) / sizeof(latency_bounds[0]));
        sc_gauge_set(w->m_up, 1);
        int port = (int)sc_config_int(w->config, "metrics.port");
        if (port > 0) {
                w->http = sc_http_new(sc_config_str(w->config, "metrics.bind"), port,
                                      w->metrics, health_live, health_ready, w, errstr,
                                      sizeof(errstr));
                if (!w->http) {
                        sc_log(SC_LOG_ERROR, "metrics endpoint: %s", errstr);
                        worker_destroy(w);
                        return 1;
                }
                sc_log(SC_LOG_INFO, "serving /metrics /healthz /readyz on %s:%d",
                       sc_config_str(w->config, "metrics.bind"), sc_http_port(w->http));
        }
        if (ops->uses_redis) {
                w->redis = sc_redis_new(sc_config_str(w->config, "redis.url"),
                                        (int)sc_config_int(w->config, "redis.timeout_ms"),
                                        errstr, sizeof(errstr));
                if (!w->redis) {
                        sc_log(SC_LOG_ERROR, "redis: %s", errstr);
                        worker_destroy(w);
                        return 1;
                }
        }
        if (setup_kafka(w, errstr, sizeof(errstr)) == -1) {
                sc_log(SC_LOG_ERROR, "kafka: %s", errstr);
                worker_destroy(w);
                return 1;
        }
        snprintf(errstr, sizeof(errstr), "%s.input_topics", ops->name);
        declare_series(w, *sc_config_str(w->config, errstr)
                              ? sc_config_str(w->config, errstr)
                              : ops->input_topics);
        errstr[0] = '\0';
        if (ops->init && ops->init(w, &w->state, errstr, sizeof(errstr)) == -1) {
                sc_log(SC_LOG_ERROR, "init: %s", errstr);
                shutdown_worker(w);
                worker_destroy(w);
                return 1;
        }
        atomic_store(&w->started, 1);
        sc_log(SC_LOG_INFO, "socialcare-%s %s started", ops->name, SC_VERSION);
        run(w);
        shutdown_worker(w);
        int code = w->fatal ? 1 : 0;
        sc_log(SC_LOG_INFO, "stopped%s", code ? " after a fatal error" : "");
        worker_destroy(w);
        return code;
}

const sc_config_t *sc_worker_config(const sc_worker_t *w)
{
        return w->config;
}

const char *sc_worker_name(const sc_worker_t *w)
{
        return w->ops->name;
}

sc_avro_t *sc_worker_avro(sc_worker_t *w)
{
        return w->avro;
}

const sc_brands_t *sc_worker_brands(const sc_worker_t *w)
{
        return w->brands;
}

sc_redis_t *sc_worker_redis(sc_worker_t *w)
{
        return w->redis;
}

sc_metrics_t *sc_worker_metrics(sc_worker_t *w)
{
        return w->metrics;
}

int sc_worker_stopping(const sc_worker_t *w)
{
        (void)w;
        return stop_requested != 0;
}

const char *sc_worker_errstr(const sc_worker_t *w)
{
        return w->errstr;
}
