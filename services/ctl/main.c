/* socialcarectl: the operator's command line.
 *   classify   classify text or JSON posts from stdin      (services/classify)
 *   eval       score the classifier on labelled data       (services/classify)
 *   train      train the classifier's models (LIBLINEAR)   (services/classify)
 *   stats      reply rate, FRT and SLA figures from Redis  (services/track)
 *   consume    print a topic's records, Avro decoded to JSON
 *   topics     create topics on a real broker (auto-create is off there) */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "sc_alloc.h"
#include "sc_avro.h"
#include "sc_buf.h"
#include "sc_config.h"
#include "sc_time.h"

int sc_ctl_classify_main(int argc, char **argv);
int sc_ctl_eval_main(int argc, char **argv);
int sc_ctl_train_main(int argc, char **argv);
int sc_ctl_stats_main(int argc, char **argv);

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static const char *records[] = {"Post", "Enriched", "Routed", "SlaEvent", "Alert"};

static void print_value(sc_avro_t *avro, const rd_kafka_message_t *m, sc_buf_t *out)
{
        int32_t id = sc_avro_frame_id(m->payload, m->len);
        char errstr[256];
        for (size_t i = 0; id >= 0 && i < sizeof(records) / sizeof(records[0]); i++) {
                sc_avro_codec_t *c =
                    sc_avro_codec(avro, records[i], NULL, errstr, sizeof(errstr));
                avro_value_t *v;
                char *json;
                if (!c || !sc_avro_codec_accepts(c, id))
                        continue;
                if (sc_avro_decode(c, m->payload, m->len, &v, errstr, sizeof(errstr)) ==
                        0 &&
                    avro_value_to_json(v, 1, &json) == 0) {
                        sc_buf_printf(out, ",\"schema\":\"%s\",\"value\":%s", records[i],
                                      json);
                        free(json);
                        return;
                }
        }
        sc_buf_puts(out, ",\"value\":");
        sc_buf_json_str(out, m->payload ? m->payload : "", m->len);
}

/* The settings ctl shares with the workers (kafka.bootstrap.servers,
 * schema_registry.url, schemas.dir), from the SOCIALCARE_* environment
 * through the same table; flags override them. NULL (reported) on error. */
static sc_config_t *env_config(const char *cmd)
{
        char errstr[256];
        sc_config_t *c = sc_config_new("ctl", NULL);
        if (sc_config_load_env(c, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", cmd, errstr);
                sc_config_destroy(c);
                return NULL;
        }
        return c;
}

typedef struct {
        const char *brokers, *topic, *registry, *schemas, *group;
        long max;
        double timeout_s;
} consume_opts_t;

/* -1 to go on, else the exit code. */
static int consume_args(int argc, char **argv, consume_opts_t *o)
{
        static const struct option longopts[] = {
            {"timeout", required_argument, NULL, 'T'},
            {"schemas", required_argument, NULL, 'S'},
            {"group", required_argument, NULL, 'g'},
            {"registry", required_argument, NULL, 'R'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int opt;
        while ((opt = getopt_long(argc, argv, "b:t:n:g:h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        o->brokers = optarg;
                        break;
                case 't':
                        o->topic = optarg;
                        break;
                case 'n':
                        o->max = strtol(optarg, NULL, 10);
                        break;
                case 'T':
                        o->timeout_s = strtod(optarg, NULL);
                        break;
                case 'S':
                        o->schemas = optarg;
                        break;
                case 'g':
                        o->group = optarg;
                        break;
                case 'R':
                        o->registry = optarg;
                        break;
                default:
                        fprintf(
                            opt == 'h' ? stdout : stderr,
                            "Usage: socialcarectl consume -b BROKERS -t TOPIC [-n MAX] "
                            "[--timeout S] [--schemas DIR] [-g GROUP] [--registry URL]\n"
                            "Prints every record from the beginning of TOPIC as one JSON "
                            "line (Avro decoded by its schema id) and stops after MAX "
                            "records or when no record arrived for --timeout seconds.\n"
                            "--registry (SOCIALCARE_SCHEMA_REGISTRY_URL): schema ids the "
                            "workers got from that Schema Registry are looked up "
                            "there.\n");
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (!o->brokers || !o->topic) {
                fprintf(stderr, "consume: -b BROKERS and -t TOPIC are required\n");
                return 2;
        }
        return -1;
}

/* A consumer subscribed to o->topic from its beginning, or NULL (reported). */
static rd_kafka_t *consume_client(const consume_opts_t *o)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char gid[128];
        snprintf(gid, sizeof(gid), "socialcarectl-%lld", (long long)sc_now_ms());
        if (rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "group.id", o->group ? o->group : gid, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "enable.auto.commit", o->group ? "true" : "false",
                              errstr, sizeof(errstr))) {
                fprintf(stderr, "consume: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "consume: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, o->topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        return rk;
}

/* One record as one JSON line. */
static void print_record(sc_avro_t *avro, const rd_kafka_message_t *m, sc_buf_t *out)
{
        sc_buf_reset(out);
        sc_buf_printf(out, "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"key\":",
                      rd_kafka_topic_name(m->rkt), (int)m->partition,
                      (long long)m->offset);
        if (m->key)
                sc_buf_json_str(out, m->key, m->key_len);
        else
                sc_buf_puts(out, "null");
        rd_kafka_headers_t *hdrs;
        if (rd_kafka_message_headers(m, &hdrs) == 0) {
                const char *name;
                const void *val;
                size_t size;
                sc_buf_puts(out, ",\"headers\":{");
                for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &val, &size);
                     i++) {
                        if (i)
                                sc_buf_putc(out, ',');
                        sc_buf_json_str(out, name, strlen(name));
                        sc_buf_putc(out, ':');
                        sc_buf_json_str(out, val ? val : "", val ? size : 0);
                }
                sc_buf_putc(out, '}');
        }
        print_value(avro, m, out);
        sc_buf_puts(out, "}\n");
        fwrite(out->data, 1, out->len, stdout);
        fflush(stdout);
}

static int consume_main(int argc, char **argv)
{
        sc_config_t *c = env_config("consume");
        if (!c)
                return 1;
        const char *reg = sc_config_str(c, "schema_registry.url");
        consume_opts_t o = {
            .brokers = sc_config_kafka_get(c, "consumer", "bootstrap.servers"),
            .registry = *reg ? reg : NULL,
            .schemas = sc_config_str(c, "schemas.dir"),
            .max = -1,
            .timeout_s = 10,
        };
        int code = consume_args(argc, argv, &o);
        if (code >= 0) {
                sc_config_destroy(c);
                return code;
        }
        char errstr[512];
        sc_avro_t *avro = sc_avro_new(o.schemas, o.registry, errstr, sizeof(errstr));
        rd_kafka_t *rk = avro ? consume_client(&o) : NULL;
        if (!rk) {
                if (!avro)
                        fprintf(stderr, "consume: %s\n", errstr);
                sc_avro_destroy(avro);
                sc_config_destroy(c);
                return 1;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        sc_buf_t out = SC_BUF_INIT;
        long n = 0;
        int64_t last = sc_mono_ms();
        while (!stop && (o.max < 0 || n < o.max) &&
               sc_mono_ms() - last < (int64_t)(o.timeout_s * 1000)) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                if (m->err) {
                        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                fprintf(stderr, "consume: %s\n",
                                        rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        continue;
                }
                last = sc_mono_ms();
                print_record(avro, m, &out);
                n++;
                rd_kafka_message_destroy(m);
        }
        sc_buf_free(&out);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        sc_avro_destroy(avro);
        sc_config_destroy(c);
        return 0;
}

typedef struct {
        const char *brokers;
        const char *configs[32];
        int nconfigs, partitions, rf;
        double timeout_s;
} topics_opts_t;

/* -1 to go on (optind at "create"), else the exit code. */
static int topics_args(int argc, char **argv, topics_opts_t *o)
{
        static const struct option longopts[] = {
            {"partitions", required_argument, NULL, 'p'},
            {"replication-factor", required_argument, NULL, 'r'},
            {"config", required_argument, NULL, 'c'},
            {"timeout", required_argument, NULL, 'T'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        int opt;
        while ((opt = getopt_long(argc, argv, "b:p:r:c:h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        o->brokers = optarg;
                        break;
                case 'p':
                        o->partitions = atoi(optarg);
                        break;
                case 'r':
                        o->rf = atoi(optarg);
                        break;
                case 'c':
                        if (o->nconfigs < 32 && strchr(optarg, '=')) {
                                o->configs[o->nconfigs++] = optarg;
                                break;
                        }
                        fprintf(stderr, "topics: --config NAME=VALUE (at most 32)\n");
                        return 2;
                case 'T':
                        o->timeout_s = strtod(optarg, NULL);
                        break;
                default:
                        fprintf(opt == 'h' ? stdout : stderr,
                                "Usage: socialcarectl topics create -b BROKERS [-p "
                                "PARTITIONS] [-r REPLICATION] [-c NAME=VALUE]... "
                                "[--timeout S] TOPIC...\n"
                                "Creates the topics that do not exist yet (3 partitions, "
                                "replication 1 unless told).\n");
                        return opt == 'h' ? 0 : 2;
                }
        }
        if (optind >= argc || strcmp(argv[optind], "create") || optind + 1 >= argc ||
            !o->brokers || o->partitions < 1 || o->rf < 1) {
                fprintf(
                    stderr,
                    "topics: usage: topics create -b BROKERS [-p N] [-r N] TOPIC...\n");
                return 2;
        }
        return -1;
}

/* One CreateTopics request for nt[0..n) and its answer: 0, or 1 (reported)
 * unless every topic was created or existed already. */
static int create_topics(rd_kafka_t *rk, rd_kafka_NewTopic_t **nt, int n,
                         double timeout_s)
{
        char errstr[512];
        int rc = 0;
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *ao =
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_operation_timeout(ao, (int)(timeout_s * 1000), errstr,
                                                    sizeof(errstr));
        rd_kafka_AdminOptions_set_request_timeout(ao, (int)(timeout_s * 1000), errstr,
                                                  sizeof(errstr));
        rd_kafka_CreateTopics(rk, nt, (size_t)n, ao, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)(timeout_s * 1000) + 5000);
        const rd_kafka_CreateTopics_result_t *res =
            ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        if (!res) {
                fprintf(stderr, "topics: %s\n",
                        ev ? rd_kafka_event_error_string(ev) : "timed out");
                rc = 1;
        } else {
                size_t cnt;
                const rd_kafka_topic_result_t **tr =
                    rd_kafka_CreateTopics_result_topics(res, &cnt);
                for (size_t i = 0; i < cnt; i++) {
                        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
                        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                                fprintf(stderr, "topics: %s: %s\n",
                                        rd_kafka_topic_result_name(tr[i]),
                                        rd_kafka_topic_result_error_string(tr[i]));
                                rc = 1;
                        }
                }
        }
        if (ev)
                rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(ao);
        rd_kafka_queue_destroy(q);
        return rc;
}

/* socialcarectl topics create: what deploy/kafka/create-topics.sh does with
 * kafka-topics.sh, in one admin request, for brokers that run with
 * auto.create.topics.enable=false (the tests' and the demo's real Kafka).
 * A topic that already exists is not an error. */
static int topics_main(int argc, char **argv)
{
        sc_config_t *c = env_config("topics");
        if (!c)
                return 1;
        topics_opts_t o = {
            .brokers = sc_config_kafka_get(c, "producer", "bootstrap.servers"),
            .partitions = 3,
            .rf = 1,
            .timeout_s = 30,
        };
        int rc = topics_args(argc, argv, &o);
        if (rc >= 0) {
                sc_config_destroy(c);
                return rc;
        }
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", o.brokers, errstr,
                              sizeof(errstr))) {
                fprintf(stderr, "topics: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                sc_config_destroy(c);
                return 1;
        }
        sc_config_destroy(c); /* o.brokers pointed into it: set above */
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "topics: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        int n = argc - optind - 1;
        rc = 0;
        rd_kafka_NewTopic_t **nt = sc_calloc((size_t)n, sizeof(*nt));
        for (int i = 0; i < n; i++) {
                nt[i] = rd_kafka_NewTopic_new(argv[optind + 1 + i], o.partitions, o.rf,
                                              errstr, sizeof(errstr));
                if (!nt[i]) {
                        fprintf(stderr, "topics: %s: %s\n", argv[optind + 1 + i], errstr);
                        rc = 1;
                        n = i;
                        break;
                }
                for (int k = 0; k < o.nconfigs; k++) {
                        char name[128];
                        const char *eq = strchr(o.configs[k], '=');
                        snprintf(name, sizeof(name), "%.*s", (int)(eq - o.configs[k]),
                                 o.configs[k]);
                        rd_kafka_NewTopic_set_config(nt[i], name, eq + 1);
                }
        }
        if (!rc)
                rc = create_topics(rk, nt, n, o.timeout_s);
        for (int i = 0; i < n; i++)
                rd_kafka_NewTopic_destroy(nt[i]);
        free(nt);
        rd_kafka_destroy(rk);
        return rc;
}

static void usage(FILE *fp)
{
        fprintf(
            fp,
            "Usage: socialcarectl COMMAND [options]   (COMMAND --help for more)\n\n"
            "  classify   classify text lines (or --json posts) from stdin\n"
            "  eval       score the classifier on labelled data\n"
            "  train      train the classifier's models on labelled data\n"
            "  stats      reply rate, first-response time and SLA figures from Redis\n"
            "  consume    print a topic's records (Avro decoded) as JSON lines\n"
            "  topics     create topics (real brokers do not auto-create them)\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        const char *cmd = argv[1];
        argv[1] = argv[0];
        argc--;
        argv++;
        if (!strcmp(cmd, "consume"))
                return consume_main(argc, argv);
        if (!strcmp(cmd, "topics"))
                return topics_main(argc, argv);
#ifdef SC_HAVE_CLASSIFY
        if (!strcmp(cmd, "classify"))
                return sc_ctl_classify_main(argc, argv);
#endif
#ifdef SC_HAVE_EVAL
        if (!strcmp(cmd, "eval"))
                return sc_ctl_eval_main(argc, argv);
        if (!strcmp(cmd, "train"))
                return sc_ctl_train_main(argc, argv);
#endif
#ifdef SC_HAVE_TRACK
        if (!strcmp(cmd, "stats"))
                return sc_ctl_stats_main(argc, argv);
#endif
        if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
                usage(stdout);
                return 0;
        }
        fprintf(stderr, "socialcarectl: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
}
