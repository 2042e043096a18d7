/* The worker runtime's loop, reload and main.
 *
 * Contract: sc_worker_main parses argv, loads and validates the config,
 * sets up logging, signals, metrics, the HTTP ops endpoint, Redis and Kafka,
 * calls ops->init and runs the loop: poll the producer, serve retries, store
 * offsets, apply a pending SIGHUP, run ops->tick on time, then fill a batch
 * and hand it to ops->process. Batches (and the settings they run with)
 * never straddle a reload: a reload happens between batches. Shutdown
 * finishes in-flight work within bounds, stores and commits offsets. */
#include "sc_worker_int.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_http.h"
#include "sc_log.h"
#include "sc_time.h"

volatile sig_atomic_t sc_wk_stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
        if (sig == SIGHUP)
                reload_requested = 1;
        else
                sc_wk_stop_requested = 1;
}

/* ---- metrics helpers ---------------------------------------------------- */

sc_counter_t *sc_wk_topic_counter(sc_worker_t *w, topic_counter_t **list,
                                  const char *name, const char *help, const char *topic)
{
        for (topic_counter_t *t = *list; t; t = t->next)
                if (!strcmp(t->topic, topic))
                        return t->counter;
        char labels[300];
        snprintf(labels, sizeof(labels), "topic=\"%s\"", topic);
        topic_counter_t *t = sc_calloc(1, sizeof(*t));
        t->topic = sc_strdup(topic);
        t->counter = sc_metrics_counter(w->metrics, name, help, labels);
        t->next = *list;
        *list = t;
        return t->counter;
}

sc_counter_t *sc_wk_dlq_counter(sc_worker_t *w, const char *reason)
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
        char *copy = sc_strdup(topics ? topics : ""), *save = NULL;
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                sc_wk_topic_counter(w, &w->in_counters, "socialcare_messages_in_total",
                                    "Messages consumed, by topic", t);
        free(copy);
        copy = sc_strdup(w->ops->dlq_reasons ? w->ops->dlq_reasons : "");
        save = NULL;
        for (char *r = strtok_r(copy, ", ", &save); r; r = strtok_r(NULL, ", ", &save))
                sc_wk_dlq_counter(w, r);
        free(copy);
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

/* ---- the loop ------------------------------------------------------------ */

static void finish_batch(sc_worker_t *w)
{
        for (size_t i = 0; i < w->batch_cnt; i++) {
                sc_wk_inflight_release(w, w->batch[i].inflight);
                rd_kafka_message_destroy(w->batch[i].rkm);
        }
        w->batch_cnt = 0;
        w->batch_held = 0;
}

static int fill_batch(sc_worker_t *w, size_t max, int wait_ms)
{
        int64_t deadline = sc_mono_ms() + wait_ms;
        while (w->batch_cnt < max && !sc_wk_stop_requested) {
                /* Only the first message of a batch is waited for: the clock
                 * is read for it alone, not per message. */
                int64_t left = w->batch_cnt ? 0 : deadline - sc_mono_ms();
                rd_kafka_message_t *rkm =
                    rd_kafka_consumer_poll(w->consumer, (int)(left > 0 ? left : 0));
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
                SC_GROW(w->batch, w->batch_cap, w->batch_cnt + 1);
                sc_inflight_t *f = sc_wk_inflight_get(w);
                f->pending = 1;
                f->offset = rkm->offset;
                f->part = sc_wk_part_of(w, rkm);
                sc_wk_part_push(f->part, f);
                sc_msg_t *m = &w->batch[w->batch_cnt++];
                m->rkm = rkm;
                m->inflight = f;
                sc_counter_add(sc_wk_topic_counter(w, &w->in_counters,
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
                sc_wk_stop_requested = 1;
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
        sc_histogram_observe(w->m_batch_messages, (double)w->batch_cnt);
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
                                const flag_t *flags, size_t flag_cnt, char *errstr,
                                size_t errstr_size)
{
        sc_config_t *c = sc_config_new(ops->name, ops->conf_defs);
        if ((path && sc_config_load_file(c, path, errstr, errstr_size) == -1) ||
            sc_config_load_env(c, errstr, errstr_size) == -1) {
                sc_config_destroy(c);
                return NULL;
        }
        for (size_t i = 0; i < flag_cnt; i++) {
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

/* The runtime's settings that apply from the next batch on. */
static void apply_settings(sc_worker_t *w, const sc_config_t *c)
{
        const char *name = w->ops->name;
        char key[128];
        sc_log_init(name,
                    w->verbose ? SC_LOG_DEBUG
                               : sc_log_level_parse(sc_config_str(c, "log.level")),
                    !strcmp(sc_config_str(c, "log.format"), "json"));
        snprintf(key, sizeof(key), "%s.dlq_suffix", name);
        snprintf(w->dlq_suffix, sizeof(w->dlq_suffix), "%s", sc_config_str(c, key));
        snprintf(key, sizeof(key), "%s.retry_backoff_max_ms", name);
        w->retry_backoff_max = sc_config_int(c, key);
        snprintf(key, sizeof(key), "%s.batch_size", name);
        w->batch_size = (size_t)sc_config_int(c, key);
        snprintf(key, sizeof(key), "%s.batch_wait_ms", name);
        w->batch_wait_ms = (int)sc_config_int(c, key);
        snprintf(key, sizeof(key), "%s.max_inflight", name);
        w->max_inflight = (long)sc_config_int(c, key);
        snprintf(key, sizeof(key), "%s.tick_ms", name);
        w->tick_ms = sc_config_int(c, key);
}

/* Makes (c, b) the running config; the runtime owns both from here. */
static void gen_new(sc_worker_t *w, sc_config_t *c, sc_brands_t *b)
{
        gen_t *g = sc_calloc(1, sizeof(*g));
        g->config = c;
        g->brands = b;
        g->next = w->gens;
        w->gens = g;
        w->gen = g;
        w->config = c;
        w->brands = b;
        sc_gauge_set(w->m_config_versions, (double)sc_wk_gen_count(w));
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
        char restart[512];
        size_t n = sc_config_restart_changes(w->config, c, restart, sizeof(restart));
        /* Inputs and outputs in flight may still point into the old config
         * and brands: retire them; the last reference frees them. */
        gen_t *old = w->gen;
        gen_new(w, c, b);
        old->refs++;
        sc_wk_gen_release(w, old);
        apply_settings(w, c);
        sc_counter_add(w->m_reload_ok, 1);
        if (n)
                sc_log(SC_LOG_WARN,
                       "reload done; changed but only applied by a restart: %s", restart);
        else
                sc_log(SC_LOG_INFO, "reload done");
}

static void run(sc_worker_t *w)
{
        /* The settings are read from w every time round: a reload
         * (apply_settings) changes them from the next batch on. */
        int64_t next_tick = sc_mono_ms() + w->tick_ms;

        while (!sc_wk_stop_requested) {
                publish_health(w);
                rd_kafka_poll(w->producer, 0);
                sc_wk_serve_retries(w);
                sc_wk_store_offsets(w);
                if (reload_requested) {
                        reload_requested = 0;
                        do_reload(w);
                        /* A shorter period takes effect now, not a tick later. */
                        if (next_tick > sc_mono_ms() + w->tick_ms)
                                next_tick = sc_mono_ms() + w->tick_ms;
                }
                if (w->ops->tick && sc_mono_ms() >= next_tick) {
                        int rc = w->ops->tick(w, w->state, sc_now_ms());
                        if (rc == SC_RETRY)
                                sc_counter_add(w->m_tick_retries, 1);
                        if (rc == SC_FATAL) {
                                w->fatal = 1;
                                break;
                        }
                        next_tick = sc_mono_ms() + w->tick_ms;
                }
                if (w->batch_held) {
                        if (sc_mono_ms() >= w->batch_retry_at)
                                run_batch(w);
                        else
                                rd_kafka_poll(w->producer, 20);
                        continue;
                }
                if (w->inflight_total >= w->max_inflight)
                        set_paused(w, 1);
                else if (w->paused && w->inflight_total < w->max_inflight / 2)
                        set_paused(w, 0);
                int wait = w->batch_wait_ms;
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
                if (fill_batch(w, w->batch_size, wait ? wait : (w->paused ? 0 : 1)) > 0)
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
                        sc_wk_serve_retries(w);
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
                        sc_wk_store_offsets(w);
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
                sc_wk_topics_destroy(w);
                rd_kafka_destroy(w->producer);
        }
        while (w->retries) {
                retry_t *r = w->retries;
                w->retries = r->next;
                sc_wk_retry_free(r);
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
        if (!w->gens) {
                sc_brands_destroy(w->brands);
                sc_config_destroy(w->config);
        }
        while (w->gens) {
                gen_t *g = w->gens;
                w->gens = g->next;
                sc_config_destroy(g->config);
                sc_brands_destroy(g->brands);
                free(g);
        }
        sc_metrics_destroy(w->metrics);
        for (size_t i = 0; i < w->flag_cnt; i++) {
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
            "SIGHUP reloads the deployment file (settings marked [restart] need a "
            "restart).\n\n",
            ops->name, SC_VERSION, ops->description ? ops->description : "", ops->name);
}

/* Startup modes the command line asks for. */
typedef struct {
        int check, print, help, verbose;
} opts_t;

/* argv: -1 to go on, else the exit code (w is then destroyed). */
static int parse_args(sc_worker_t *w, int argc, char **argv, opts_t *o)
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
        const sc_worker_ops_t *ops = w->ops;
        int opt;
        while ((opt = getopt_long(argc, argv, "c:o:vhV", longopts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        free(w->config_path);
                        w->config_path = sc_strdup(optarg);
                        break;
                case 'o': {
                        const char *eq = strchr(optarg, '=');
                        if (!eq) {
                                fprintf(stderr, "-o expects name=value, got '%s'\n",
                                        optarg);
                                worker_destroy(w);
                                return 2;
                        }
                        SC_GROW(w->flags, w->flag_cap, w->flag_cnt + 1);
                        w->flags[w->flag_cnt].name =
                            sc_strndup(optarg, (size_t)(eq - optarg));
                        w->flags[w->flag_cnt++].value = sc_strdup(eq + 1);
                        break;
                }
                case 'C':
                        o->check = 1;
                        break;
                case 'P':
                        o->print = 1;
                        break;
                case 'v':
                        o->verbose = 1;
                        break;
                case 'h':
                        o->help = 1;
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
        if (o->help) {
                usage(ops, stdout);
                sc_config_t *c = sc_config_new(ops->name, ops->conf_defs);
                sc_config_print_help(c, stdout);
                sc_config_destroy(c);
                worker_destroy(w);
                return 0;
        }
        return -1;
}

/* Config, brands, the worker's own checks and the codec: -1 to go on, else
 * the exit code (w is then destroyed); --print-config and --check-config
 * end here. */
static int load_startup(sc_worker_t *w, const opts_t *o, char *errstr, size_t errstr_size)
{
        const sc_worker_ops_t *ops = w->ops;
        sc_log_init(ops->name, SC_LOG_INFO, 0);
        w->config =
            load_config(ops, w->config_path, w->flags, w->flag_cnt, errstr, errstr_size);
        if (w->config)
                w->brands = sc_brands_new(sc_config_tree(w->config), errstr, errstr_size);
        int ok = w->config && w->brands;
        if (ok && ops->check_config && ops->check_config(w->config, errstr, errstr_size))
                ok = 0;
        if (ok) {
                w->avro = sc_avro_new(
                    sc_config_str(w->config, "schemas.dir"),
                    o->check ? NULL : sc_config_str(w->config, "schema_registry.url"),
                    errstr, errstr_size);
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
        /* init() may keep pointers into this one (topic names): never freed
         * before exit. */
        gen_new(w, w->config, w->brands);
        w->gen->pinned = 1;
        if (o->print) {
                sc_config_print(w->config, stdout);
                worker_destroy(w);
                return 0;
        }
        if (o->check) {
                printf("socialcare-%s: configuration OK (%s, %zu brands)\n", ops->name,
                       w->config_path ? w->config_path : "defaults",
                       sc_brands_count(w->brands));
                worker_destroy(w);
                return 0;
        }
        return -1;
}

static void install_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

/* The runtime's own series, created at start so they export 0. */
static void create_metrics(sc_worker_t *w)
{
        const sc_worker_ops_t *ops = w->ops;
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
        static const double batch_bounds[] = {1, 10, 100, 1000, 10000};
        w->m_batch_messages = sc_metrics_histogram(
            w->metrics, "socialcare_batch_messages",
            "Input messages per process call (at most <worker>.batch_size)", NULL,
            batch_bounds, sizeof(batch_bounds) / sizeof(batch_bounds[0]));
        w->m_config_versions = sc_metrics_gauge(
            w->metrics, "socialcare_config_versions",
            "Configs in memory: the running one, the one init() saw and retired ones "
            "still referenced by in-flight inputs or outputs",
            NULL);
        sc_gauge_set(w->m_config_versions, (double)sc_wk_gen_count(w));
        sc_gauge_set(w->m_up, 1);
}

/* The HTTP ops endpoint, Redis and Kafka: -1 (logged) when one fails. */
static int connect_services(sc_worker_t *w, char *errstr, size_t errstr_size)
{
        const sc_worker_ops_t *ops = w->ops;
        int port = (int)sc_config_int(w->config, "metrics.port");
        if (port > 0) {
                w->http = sc_http_new(sc_config_str(w->config, "metrics.bind"), port,
                                      w->metrics, health_live, health_ready, w, errstr,
                                      errstr_size);
                if (!w->http) {
                        sc_log(SC_LOG_ERROR, "metrics endpoint: %s", errstr);
                        return -1;
                }
                sc_log(SC_LOG_INFO, "serving /metrics /healthz /readyz on %s:%d",
                       sc_config_str(w->config, "metrics.bind"), sc_http_port(w->http));
        }
        if (ops->uses_redis) {
                w->redis = sc_redis_new(sc_config_str(w->config, "redis.url"),
                                        (int)sc_config_int(w->config, "redis.timeout_ms"),
                                        errstr, errstr_size);
                if (!w->redis) {
                        sc_log(SC_LOG_ERROR, "redis: %s", errstr);
                        return -1;
                }
        }
        if (sc_wk_setup_kafka(w, errstr, errstr_size) == -1) {
                sc_log(SC_LOG_ERROR, "kafka: %s", errstr);
                return -1;
        }
        return 0;
}

int sc_worker_main(int argc, char **argv, const sc_worker_ops_t *ops)
{
        sc_worker_t *w = sc_calloc(1, sizeof(*w));
        char errstr[1024] = "";
        opts_t o = {0};
        w->ops = ops;
        atomic_store(&w->brokers_up, 1);
        atomic_store(&w->redis_up, 1);
        atomic_store(&w->heartbeat_ms, sc_mono_ms());
        const char *env_cfg = getenv("SOCIALCARE_CONFIG");
        if (env_cfg && *env_cfg)
                w->config_path = sc_strdup(env_cfg);
        int code = parse_args(w, argc, argv, &o);
        if (code >= 0)
                return code;
        code = load_startup(w, &o, errstr, sizeof(errstr));
        if (code >= 0)
                return code;
        if (!w->config_path)
                sc_log(SC_LOG_WARN,
                       "no deployment file (-c or SOCIALCARE_CONFIG): no brands "
                       "configured");
        w->verbose = o.verbose;
        apply_settings(w, w->config);
        install_signals();
        create_metrics(w);
        if (connect_services(w, errstr, sizeof(errstr)) == -1) {
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
        code = w->fatal ? 1 : 0;
        sc_log(SC_LOG_INFO, "stopped%s", code ? " after a fatal error" : "");
        worker_destroy(w);
        return code;
}

const sc_config_t *sc_worker_config(const sc_worker_t *w)
{
        return w->config;
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

const char *sc_worker_errstr(const sc_worker_t *w)
{
        return w->errstr;
}
