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

#include "sc_avro.h"
#include "sc_buf.h"
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

static int consume_main(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"timeout", required_argument, NULL, 'T'},
            {"schemas", required_argument, NULL, 'S'},
            {"group", required_argument, NULL, 'g'},
            {"registry", required_argument, NULL, 'R'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        const char *brokers = getenv("SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS"), *topic = NULL;
        const char *registry = getenv("SOCIALCARE_SCHEMA_REGISTRY_URL");
        const char *schemas = getenv("SOCIALCARE_SCHEMAS_DIR"), *group = NULL;
        long max = -1;
        double timeout_s = 10;
        int opt;
        if (!schemas)
                schemas = SC_SOURCE_DIR "/schemas";
        while ((opt = getopt_long(argc, argv, "b:t:n:g:h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        brokers = optarg;
                        break;
                case 't':
                        topic = optarg;
                        break;
                case 'n':
                        max = strtol(optarg, NULL, 10);
                        break;
                case 'T':
                        timeout_s = strtod(optarg, NULL);
                        break;
                case 'S':
                        schemas = optarg;
                        break;
                case 'g':
                        group = optarg;
                        break;
                case 'R':
                        registry = optarg;
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
        if (!brokers || !topic) {
                fprintf(stderr, "consume: -b BROKERS and -t TOPIC are required\n");
                return 2;
        }
        char errstr[512];
        sc_avro_t *avro = sc_avro_new(schemas, registry, errstr, sizeof(errstr));
        if (!avro) {
                fprintf(stderr, "consume: %s\n", errstr);
                return 1;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char gid[128];
        snprintf(gid, sizeof(gid), "socialcarectl-%lld", (long long)sc_now_ms());
        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "group.id", group ? group : gid, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "enable.auto.commit", group ? "true" : "false",
                              errstr, sizeof(errstr))) {
                fprintf(stderr, "consume: %s\n", errstr);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "consume: %s\n", errstr);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);

        sc_buf_t out = SC_BUF_INIT;
        long n = 0;
        int64_t last = sc_mono_ms();
        while (!stop && (max < 0 || n < max) &&
               sc_mono_ms() - last < (int64_t)(timeout_s * 1000)) {
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
                sc_buf_reset(&out);
                sc_buf_printf(
                    &out, "{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"key\":",
                    rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
                if (m->key)
                        sc_buf_json_str(&out, m->key, m->key_len);
                else
                        sc_buf_puts(&out, "null");
                rd_kafka_headers_t *hdrs;
                if (rd_kafka_message_headers(m, &hdrs) == 0) {
                        const char *name;
                        const void *val;
                        size_t size;
                        sc_buf_puts(&out, ",\"headers\":{");
                        for (size_t i = 0;
                             !rd_kafka_header_get_all(hdrs, i, &name, &val, &size); i++) {
                                if (i)
                                        sc_buf_putc(&out, ',');
                                sc_buf_json_str(&out, name, strlen(name));
                                sc_buf_putc(&out, ':');
                                sc_buf_json_str(&out, val ? val : "", val ? size : 0);
                        }
                        sc_buf_putc(&out, '}');
                }
                print_value(avro, m, &out);
                sc_buf_puts(&out, "}\n");
                fwrite(out.data, 1, out.len, stdout);
                fflush(stdout);
                n++;
                rd_kafka_message_destroy(m);
        }
        sc_buf_free(&out);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        sc_avro_destroy(avro);
        return 0;
}

/* socialcarectl topics create: what deploy/kafka/create-topics.sh does with
 * kafka-topics.sh, in one admin request, for brokers that run with
 * auto.create.topics.enable=false (the tests' and the demo's real Kafka).
 * A topic that already exists is not an error. */
static int topics_main(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"partitions", required_argument, NULL, 'p'},
            {"replication-factor", required_argument, NULL, 'r'},
            {"config", required_argument, NULL, 'c'},
            {"timeout", required_argument, NULL, 'T'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0}};
        const char *brokers = getenv("SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS");
        const char *configs[32];
        int nconfigs = 0, partitions = 3, rf = 1, opt;
        double timeout_s = 30;
        while ((opt = getopt_long(argc, argv, "b:p:r:c:h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        brokers = optarg;
                        break;
                case 'p':
                        partitions = atoi(optarg);
                        break;
                case 'r':
                        rf = atoi(optarg);
                        break;
                case 'c':
                        if (nconfigs < 32 && strchr(optarg, '=')) {
                                configs[nconfigs++] = optarg;
                                break;
                        }
                        fprintf(stderr, "topics: --config NAME=VALUE (at most 32)\n");
                        return 2;
                case 'T':
                        timeout_s = strtod(optarg, NULL);
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
            !brokers || partitions < 1 || rf < 1) {
                fprintf(
                    stderr,
                    "topics: usage: topics create -b BROKERS [-p N] [-r N] TOPIC...\n");
                return 2;
        }
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                              sizeof(errstr))) {
                fprintf(stderr, "topics: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "topics: %s\n", errstr);
                return 1;
        }
        int n = argc - optind - 1, rc = 0;
        rd_kafka_NewTopic_t **nt = calloc((size_t)n, sizeof(*nt));
        for (int i = 0; i < n; i++) {
                nt[i] = rd_kafka_NewTopic_new(argv[optind + 1 + i], partitions, rf,
                                              errstr, sizeof(errstr));
                if (!nt[i]) {
                        fprintf(stderr, "topics: %s: %s\n", argv[optind + 1 + i], errstr);
                        rc = 1;
                        n = i;
                        break;
                }
                for (int k = 0; k < nconfigs; k++) {
                        char name[128];
                        const char *eq = strchr(configs[k], '=');
                        snprintf(name, sizeof(name), "%.*s", (int)(eq - configs[k]),
                                 configs[k]);
                        rd_kafka_NewTopic_set_config(nt[i], name, eq + 1);
                }
        }
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *ao =
            rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_operation_timeout(ao, (int)(timeout_s * 1000), errstr,
                                                    sizeof(errstr));
        rd_kafka_AdminOptions_set_request_timeout(ao, (int)(timeout_s * 1000), errstr,
                                                  sizeof(errstr));
        if (!rc) {
                rd_kafka_CreateTopics(rk, nt, (size_t)n, ao, q);
                rd_kafka_event_t *ev =
                    rd_kafka_queue_poll(q, (int)(timeout_s * 1000) + 5000);
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
                                rd_kafka_resp_err_t e =
                                    rd_kafka_topic_result_error(tr[i]);
                                if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                                        fprintf(
                                            stderr, "topics: %s: %s\n",
                                            rd_kafka_topic_result_name(tr[i]),
                                            rd_kafka_topic_result_error_string(tr[i]));
                                        rc = 1;
                                }
                        }
                }
                if (ev)
                        rd_kafka_event_destroy(ev);
        }
        rd_kafka_AdminOptions_destroy(ao);
        rd_kafka_queue_destroy(q);
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
