/* Kafka setup and rebalance of the worker runtime.
 *
 * Contract: the consumer stores offsets only through the runtime
 * (enable.auto.offset.store=false, auto-commit of what was stored); the
 * producer is idempotent; both are polled on the worker thread, where every
 * callback here runs. On revoke, batch messages of the revoked partitions
 * are dropped unprocessed, in-flight outputs are waited for (30 s at most),
 * offsets stored and committed; what is still undelivered is orphaned and
 * consumed again by the next owner. brokers_up and the consumer lag gauges
 * come from the error and statistics callbacks. */
#include "sc_worker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_json.h"
#include "sc_log.h"
#include "sc_time.h"

/* ---- consumer ------------------------------------------------------------ */

/* Batch messages of a revoked partition were never processed: they are the
 * newest entries of its ring, so they come off the tail unstored. */
static void drop_batch_of(sc_worker_t *w, part_t *p)
{
        size_t keep = 0, dropped = 0;
        for (size_t i = 0; i < w->batch_cnt; i++) {
                sc_msg_t *m = &w->batch[i];
                if (m->inflight->part == p) {
                        sc_wk_inflight_put(w, m->inflight);
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
                    sc_wk_part_find(w, parts->elems[i].topic, parts->elems[i].partition);
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
                        part_t *p = sc_wk_part_find(w, parts->elems[i].topic,
                                                    parts->elems[i].partition);
                        sc_wk_part_advance(w, p);
                        busy |= p->cnt > 0;
                }
                sc_wk_store_offsets(w);
                if (!busy || sc_mono_ms() > deadline)
                        break;
                /* Shutting down with the producer drained: what is left is
                 * held by the worker (sc_worker_hold) and gave up already. */
                if (sc_wk_stop_requested && rd_kafka_outq_len(w->producer) == 0 &&
                    !w->retries)
                        break;
                rd_kafka_poll(w->producer, 50);
                sc_wk_serve_retries(w);
                if (w->ops->pump && w->state)
                        w->ops->pump(w, w->state);
        }
        rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                sc_log(SC_LOG_WARN, "commit on revoke: %s", rd_kafka_err2str(err));
        for (int i = 0; i < parts->cnt; i++) {
                part_t *p =
                    sc_wk_part_find(w, parts->elems[i].topic, parts->elems[i].partition);
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
                sc_wk_stop_requested = 1;
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

int sc_wk_setup_kafka(sc_worker_t *w, char *errstr, size_t errstr_size)
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
        rd_kafka_conf_set_dr_msg_cb(pc, sc_wk_dr_cb);
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
        char *copy = sc_strdup(topics), *save = NULL;
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
