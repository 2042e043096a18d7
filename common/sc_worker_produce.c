/* Producing, retries and dead letters of the worker runtime.
 *
 * Contract: sc_worker_produce and sc_worker_dead_letter take one pending
 * reference on their origin per output, released by the delivery report
 * (sc_wk_dr_cb). A failed delivery is never dropped: its bytes are kept and
 * produced again after a backoff (sc_wk_serve_retries), except a dead
 * letter the dead-letter topic refuses for good, which is given up loudly
 * (counted and logged) so no input stalls its partition. A full producer
 * queue blocks, serving delivery reports. Dead letters are cut to fit
 * messages.max_bytes (sc_worker.h). */
#include "sc_worker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"
#include "sc_time.h"

#include <openssl/evp.h>

void sc_wk_retry_free(retry_t *r)
{
        if (r->headers)
                rd_kafka_headers_destroy(r->headers);
        free(r->topic);
        free(r->key);
        free(r->payload);
        free(r);
}

/* ---- producing ----------------------------------------------------------- */

/* The handle of topic, made on first use; NULL (w->errstr, w->last_err)
 * when librdkafka refuses one (an invalid topic name), as producing by name
 * would have failed. */
static topic_handle_t *out_topic(sc_worker_t *w, const char *topic)
{
        for (topic_handle_t *t = w->out_topics; t; t = t->next)
                if (!strcmp(t->name, topic))
                        return t;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(w->producer, topic, NULL);
        if (!rkt) {
                w->last_err = rd_kafka_last_error();
                snprintf(w->errstr, sizeof(w->errstr), "produce to %s: %s", topic,
                         rd_kafka_err2str(w->last_err));
                return NULL;
        }
        topic_handle_t *t = sc_calloc(1, sizeof(*t));
        t->name = sc_strdup(topic);
        t->rkt = rkt;
        t->next = w->out_topics;
        w->out_topics = t;
        return t;
}

void sc_wk_topics_destroy(sc_worker_t *w)
{
        while (w->out_topics) {
                topic_handle_t *t = w->out_topics;
                w->out_topics = t->next;
                rd_kafka_topic_destroy(t->rkt);
                free(t->name);
                free(t);
        }
}

/* 0 (*used: the topic's entry, when not NULL) or -1 (w->errstr). */
static int produce_raw(sc_worker_t *w, const char *topic, const void *key, size_t key_len,
                       const void *payload, size_t len, rd_kafka_headers_t *hdrs,
                       out_ctx_t *ctx, topic_handle_t **used)
{
        topic_handle_t *t = out_topic(w, topic);
        if (!t)
                return -1;
        for (;;) {
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    w->producer, RD_KAFKA_V_RKT(t->rkt),
                    RD_KAFKA_V_KEY((void *)key, key_len),
                    RD_KAFKA_V_VALUE((void *)payload, len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
                    RD_KAFKA_V_OPAQUE(ctx), RD_KAFKA_V_END);
                if (!err) {
                        if (used)
                                *used = t;
                        return 0;
                }
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
        out_ctx_t *ctx = sc_wk_ctx_get(w);
        if (origin) {
                ctx->origin = origin->inflight;
                ctx->origin->pending++;
        }
        if (opts) {
                ctx->on_delivered = opts->on_delivered;
                ctx->arg = opts->arg;
        }
        rd_kafka_headers_t *hdrs = make_headers(opts);
        topic_handle_t *t;
        if (produce_raw(w, topic, key, key_len, payload, len, hdrs, ctx, &t) == -1) {
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                if (ctx->origin)
                        ctx->origin->pending--;
                sc_wk_ctx_put(w, ctx);
                return -1;
        }
        /* found once per topic, then kept with its handle */
        if (!t->produced)
                t->produced = sc_wk_topic_counter(w, &w->out_counters,
                                                  "socialcare_messages_out_total",
                                                  "Messages produced, by topic", topic);
        sc_counter_add(t->produced, 1);
        return 0;
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

        out_ctx_t *ctx = sc_wk_ctx_get(w);
        ctx->origin = origin->inflight;
        ctx->dlq = 1;
        snprintf(ctx->dlq_reason, sizeof(ctx->dlq_reason), "%s", reason);
        ctx->origin->pending++;
        if (produce_raw(w, topic, rkm->key, key_len, rkm->payload, len, hdrs, ctx,
                        NULL) == -1) {
                rd_kafka_headers_destroy(hdrs);
                ctx->origin->pending--;
                sc_wk_ctx_put(w, ctx);
                dlq_failed(w, origin->inflight, reason, w->last_err, w->errstr);
                return 0;
        }
        sc_counter_add(sc_wk_dlq_counter(w, reason), 1);
        sc_log(SC_LOG_INFO, "dead-lettered %s [%d] @%lld to %s: %s: %s%s", src_topic,
               (int)rkm->partition, (long long)rkm->offset, topic, reason, detail,
               len < rkm->len ? " (truncated)" : "");
        return 0;
}

void sc_wk_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
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
                        sc_wk_inflight_release(w, ctx->origin);
                sc_wk_ctx_put(w, ctx);
                return;
        }
        if (rkm->err) {
                /* Keep the bytes and produce again later: a delivery failure is an
                 * outage to wait out, never a reason to drop. */
                ctx->attempts++;
                int64_t backoff = 100LL << (ctx->attempts < 10 ? ctx->attempts : 10);
                if (backoff > w->retry_backoff_max)
                        backoff = w->retry_backoff_max;
                retry_t *r = sc_calloc(1, sizeof(*r));
                r->ctx = ctx;
                r->topic = sc_strdup(rd_kafka_topic_name(rkm->rkt));
                if (rkm->key_len) {
                        r->key = sc_malloc(rkm->key_len);
                        memcpy(r->key, rkm->key, rkm->key_len);
                        r->key_len = rkm->key_len;
                }
                if (rkm->len) {
                        r->payload = sc_malloc(rkm->len);
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
                sc_wk_inflight_release(w, ctx->origin);
        sc_wk_ctx_put(w, ctx);
}

void sc_wk_serve_retries(sc_worker_t *w)
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
                                r->headers, r->ctx, NULL) == -1) {
                        if (r->ctx->dlq && is_permanent(w->last_err)) {
                                dlq_failed(w, r->ctx->origin, r->ctx->dlq_reason,
                                           w->last_err, w->errstr);
                                if (r->ctx->origin)
                                        sc_wk_inflight_release(w, r->ctx->origin);
                                sc_wk_ctx_put(w, r->ctx);
                                *pp = r->next;
                                sc_wk_retry_free(r);
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
