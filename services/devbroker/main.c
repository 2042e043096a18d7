/* socialcare-devbroker: librdkafka's mock cluster as a standalone process, so
 * the demo and the tests run the real Kafka protocol with no JVM.
 *
 * It is a development tool only: everything is in memory, each partition
 * keeps about 5 MiB, topics auto-create, transactions are not honoured and
 * listener ports are random (hence --bootstrap-file). Production points the
 * same workers at a real Kafka cluster.
 *
 * Faults for tests (--control FILE): the file, once it appears (write it
 * elsewhere and rename it into place), is read, executed line by line and
 * removed; its removal is the acknowledgement. Commands:
 *   down                 every broker down (connections cut, none accepted)
 *   up                   every broker up again
 *   produce_errors N E   the next N Produce requests fail with Kafka error
 *                        code E (e.g. 10 MSG_SIZE_TOO_LARGE, 29
 *                        TOPIC_AUTHORIZATION_FAILED) */
#include <errno.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_alloc.h"

static const char *default_topics =
    "social.posts.raw,social.posts.raw.dlq,social.posts,social.posts.dlq,"
    "social.posts.enriched,social.posts.enriched.dlq,care.routed,care.routed.dlq,"
    "care.sla,care.sla.dlq,care.alerts";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: socialcare-devbroker [options]\n"
                "Runs an in-memory Kafka-protocol broker (librdkafka mock cluster) for\n"
                "development and tests. Stops on SIGTERM or SIGINT.\n\n"
                "  -p, --partitions N       partitions per created topic (default 3)\n"
                "  -n, --brokers N          brokers in the cluster (default 1)\n"
                "  -t, --topics LIST        comma-separated topics to create\n"
                "                           (default: the project's topics)\n"
                "  -f, --bootstrap-file P   write the bootstrap address to P once the\n"
                "                           topics exist (written atomically)\n"
                "  -c, --control FILE       fault injection: when FILE appears, run its\n"
                "                           lines (down | up | produce_errors N CODE),\n"
                "                           then remove it\n"
                "  -h, --help\n\n"
                "Limits: in memory only, ~5 MiB kept per partition, topics auto-create,\n"
                "no transactional guarantees, random ports.\n");
}

static int write_atomic(const char *path, const char *text)
{
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
        FILE *f = fopen(tmp, "w");
        if (!f)
                return -1;
        int bad = fprintf(f, "%s\n", text) < 0;
        bad |= fclose(f) != 0;
        if (bad || rename(tmp, path)) {
                unlink(tmp);
                return -1;
        }
        return 0;
}

static void run_control(rd_kafka_mock_cluster_t *mc, int brokers, const char *path)
{
        FILE *f = fopen(path, "r");
        if (!f)
                return;
        char line[256];
        while (fgets(line, sizeof(line), f)) {
                int n, code;
                if (!strncmp(line, "down", 4) || !strncmp(line, "up", 2)) {
                        int down = line[0] == 'd';
                        for (int b = 1; b <= brokers; b++) {
                                if (down)
                                        rd_kafka_mock_broker_set_down(mc, b);
                                else
                                        rd_kafka_mock_broker_set_up(mc, b);
                        }
                        fprintf(stderr, "devbroker: brokers %s\n", down ? "down" : "up");
                } else if (sscanf(line, "produce_errors %d %d", &n, &code) == 2 &&
                           n > 0 && n <= 100000) {
                        rd_kafka_resp_err_t *errs = sc_calloc((size_t)n, sizeof(*errs));
                        for (int i = 0; i < n; i++)
                                errs[i] = (rd_kafka_resp_err_t)code;
                        rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */,
                                                                (size_t)n, errs);
                        free(errs);
                        fprintf(stderr,
                                "devbroker: next %d Produce requests fail with %s\n", n,
                                rd_kafka_err2name((rd_kafka_resp_err_t)code));
                } else if (line[0] != '\n' && line[0] != '#') {
                        fprintf(stderr, "devbroker: control: unknown command: %s", line);
                }
        }
        fclose(f);
        unlink(path);
}

int main(int argc, char **argv)
{
        int partitions = 3, brokers = 1;
        const char *topics = default_topics, *bootstrap_file = NULL, *control = NULL;
        static const struct option opts[] = {
            {"partitions", required_argument, 0, 'p'},
            {"brokers", required_argument, 0, 'n'},
            {"topics", required_argument, 0, 't'},
            {"bootstrap-file", required_argument, 0, 'f'},
            {"control", required_argument, 0, 'c'},
            {"help", no_argument, 0, 'h'},
            {0, 0, 0, 0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "p:n:t:f:c:h", opts, NULL)) != -1) {
                switch (c) {
                case 'p':
                        partitions = atoi(optarg);
                        break;
                case 'n':
                        brokers = atoi(optarg);
                        break;
                case 't':
                        topics = optarg;
                        break;
                case 'f':
                        bootstrap_file = optarg;
                        break;
                case 'c':
                        control = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (partitions < 1 || partitions > 1000 || brokers < 1 || brokers > 16) {
                fprintf(stderr,
                        "devbroker: --partitions must be 1..1000, --brokers 1..16\n");
                return 2;
        }

        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "devbroker: %s\n", errstr);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) {
                fprintf(stderr, "devbroker: cannot create mock cluster\n");
                rd_kafka_destroy(rk);
                return 1;
        }

        char *list = sc_strdup(topics);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
                rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                    mc, t, partitions, brokers < 3 ? brokers : 3);
                if (err) {
                        fprintf(stderr, "devbroker: create topic %s: %s\n", t,
                                rd_kafka_err2str(err));
                        free(list);
                        rd_kafka_mock_cluster_destroy(mc);
                        rd_kafka_destroy(rk);
                        return 1;
                }
        }
        free(list);

        const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
        if (bootstrap_file && write_atomic(bootstrap_file, bootstrap)) {
                fprintf(stderr, "devbroker: cannot write %s: %s\n", bootstrap_file,
                        strerror(errno));
                rd_kafka_mock_cluster_destroy(mc);
                rd_kafka_destroy(rk);
                return 1;
        }
        printf("%s\n", bootstrap);
        fflush(stdout);

        struct sigaction sa = {0};
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        while (!stop) {
                rd_kafka_poll(rk, 200);
                if (control)
                        run_control(mc, brokers, control);
        }

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        if (bootstrap_file)
                unlink(bootstrap_file);
        return 0;
}
