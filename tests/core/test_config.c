#include <stdlib.h>
#include <unistd.h>

#include "sc_brands.h"
#include "sc_config.h"
#include "sc_time.h"
#include "../sc_test.h"

static const sc_conf_def_t defs[] = {
    {"ingest.max_text_bytes", SC_CONF_INT, "10000", 16, 1048576, "cap"},
    {"ingest.ratio", SC_CONF_DOUBLE, "0.5", 0, 1, "ratio"},
    {"ingest.strict", SC_CONF_BOOL, "false", 1, 0, "flag"},
    SC_CONF_END,
};

static const char *write_tmp(const char *text)
{
        static char path[64];
        snprintf(path, sizeof(path), "/tmp/sc_test_config_%d.yaml", (int)getpid());
        FILE *fp = fopen(path, "w");
        fputs(text, fp);
        fclose(fp);
        return path;
}

int main(void)
{
        char err[512];
        sc_config_t *c = sc_config_new("ingest", defs);
        /* defaults */
        CHECK_INT(sc_config_int(c, "ingest.max_text_bytes"), 10000);
        CHECK_STR(sc_config_str(c, "redis.url"), "redis://127.0.0.1:6379/0");
        CHECK_STR(sc_config_str(c, "ingest.input_topics"), "");
        CHECK_INT(sc_config_int(c, "ingest.batch_size"), 500);

        const char *path = write_tmp(
            "kafka:\n"
            "  bootstrap.servers: 10.0.0.1:9092\n"
            "  security.protocol: SASL_SSL\n"
            "  sasl.mechanisms: PLAIN\n"
            "  sasl.username: bob\n"
            "  sasl.password: hunter2\n"
            "  consumer:\n"
            "    fetch.wait.max.ms: 50\n"
            "redis:\n"
            "  url: redis://:s3cret@127.0.0.1:7000/2\n"
            "ingest:\n"
            "  max_text_bytes: 2000\n"
            "  ratio: 0.25\n"
            "  strict: yes\n"
            "route:\n"
            "  anything: goes   # another worker's section is not ours to judge\n"
            "brands:\n"
            "  - id: telko\n"
            "    accounts: {x: [\"@Telko_PL\", \"id:42\"]}\n"
            "    keywords: [\"telko\"]\n"
            "    topics: {internet: [\"internet*\", \"router\"]}\n");
        CHECK(sc_config_load_file(c, path, err, sizeof(err)) == 0);
        CHECK_INT(sc_config_int(c, "ingest.max_text_bytes"), 2000);
        CHECK(sc_config_double(c, "ingest.ratio") == 0.25);
        CHECK_INT(sc_config_bool(c, "ingest.strict"), 1);
        CHECK_STR(sc_config_kafka_get(c, "consumer", "fetch.wait.max.ms"), "50");
        CHECK(sc_config_kafka_get(c, "producer", "fetch.wait.max.ms") == NULL);
        CHECK_STR(sc_config_kafka_get(c, "producer", "sasl.username"), "bob");

        /* environment beats the file; kafka env names map _ to . */
        setenv("SOCIALCARE_INGEST_MAX_TEXT_BYTES", "3000", 1);
        setenv("SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092", 1);
        CHECK(sc_config_load_env(c, err, sizeof(err)) == 0);
        CHECK_INT(sc_config_int(c, "ingest.max_text_bytes"), 3000);
        CHECK_STR(sc_config_kafka_get(c, NULL, "bootstrap.servers"), "127.0.0.1:19092");
        /* flags beat the environment */
        CHECK(sc_config_set(c, "ingest.max_text_bytes", "4000", err, sizeof(err)) == 0);
        CHECK_INT(sc_config_int(c, "ingest.max_text_bytes"), 4000);
        CHECK(sc_config_set(c, "ingest.nope", "1", err, sizeof(err)) == -1);
        CHECK(strstr(err, "unknown setting 'ingest.nope'"));
        CHECK(sc_config_validate(c, err, sizeof(err)) == 0);

        /* kafka.* reaches librdkafka unchanged, and bad properties are named */
        rd_kafka_conf_t *kc = sc_config_kafka_conf(c, "consumer", err, sizeof(err));
        CHECK(kc != NULL);
        char val[256];
        size_t vs = sizeof(val);
        CHECK(rd_kafka_conf_get(kc, "sasl.username", val, &vs) == RD_KAFKA_CONF_OK);
        CHECK_STR(val, "bob");
        vs = sizeof(val);
        CHECK(rd_kafka_conf_get(kc, "fetch.wait.max.ms", val, &vs) == RD_KAFKA_CONF_OK);
        CHECK_STR(val, "50");
        rd_kafka_conf_destroy(kc);
        CHECK(sc_config_set(c, "kafka.no.such.property", "1", err, sizeof(err)) == 0);
        CHECK(sc_config_kafka_conf(c, "producer", err, sizeof(err)) == NULL);
        CHECK(strstr(err, "no.such.property"));

        /* --print-config masks secrets */
        char *dump = NULL;
        size_t dump_len = 0;
        FILE *mem = open_memstream(&dump, &dump_len);
        sc_config_print(c, mem);
        fclose(mem);
        CHECK(strstr(dump, "hunter2") == NULL);
        CHECK(strstr(dump, "s3cret") == NULL);
        CHECK(strstr(dump, "kafka.sasl.password = ********"));
        CHECK(strstr(dump, "ingest.max_text_bytes = 4000  # flag"));
        free(dump);

        /* brands */
        sc_brands_t *b = sc_brands_new(sc_config_tree(c), err, sizeof(err));
        CHECK(b != NULL);
        const sc_brand_t *t = sc_brands_find(b, "telko");
        CHECK(t != NULL);
        CHECK_STR(t->timezone, "UTC");
        CHECK(sc_brands_is_own_account(b, t, "x", "@telko_pl", NULL));
        CHECK(sc_brands_is_own_account(b, t, "x", NULL, "42"));
        CHECK(!sc_brands_is_own_account(b, t, "facebook", "telko_pl", NULL));
        CHECK(!sc_brands_is_own_account(b, t, "x", "telko_pl2", NULL));
        CHECK(sc_brands_match_text(b, "mam Telko od lat", 16) == t);
        CHECK(sc_brands_match_text(b, "telkomunikacja", 14) == NULL);
        CHECK_INT(t->topic_cnt, 1);
        CHECK_STR(t->topics[0].keywords[0], "internet*");
        sc_brands_destroy(b);
        sc_config_destroy(c);

        /* out of bounds, wrong type, unknown key: errors with line numbers */
        c = sc_config_new("ingest", defs);
        path = write_tmp("ingest:\n  max_text_bytes: 5\n");
        CHECK(sc_config_load_file(c, path, err, sizeof(err)) == 0);
        CHECK(sc_config_validate(c, err, sizeof(err)) == -1);
        CHECK(strstr(err, "out of range"));
        CHECK(strstr(err, ":2"));
        sc_config_destroy(c);

        c = sc_config_new("ingest", defs);
        path = write_tmp("redis:\n  url: x\n  colour: blue\n");
        CHECK(sc_config_load_file(c, path, err, sizeof(err)) == -1);
        CHECK(strstr(err, ":3: unknown setting 'redis.colour'"));
        sc_config_destroy(c);

        c = sc_config_new("ingest", defs);
        path = write_tmp("ingest:\n  ratio: lots\n");
        CHECK(sc_config_load_file(c, path, err, sizeof(err)) == 0);
        CHECK(sc_config_validate(c, err, sizeof(err)) == -1);
        CHECK(strstr(err, "not a number"));
        sc_config_destroy(c);

        c = sc_config_new("ingest", defs);
        path = write_tmp("brands:\n  - id: a\n  - id: a\n");
        CHECK(sc_config_load_file(c, path, err, sizeof(err)) == 0);
        CHECK(sc_brands_new(sc_config_tree(c), err, sizeof(err)) == NULL);
        CHECK(strstr(err, "line 3: duplicate brand id 'a'"));
        sc_config_destroy(c);
        unlink(path);
        unsetenv("SOCIALCARE_INGEST_MAX_TEXT_BYTES");
        /* durations as the deployment file writes them */
        int64_t ms = 0;
        CHECK(sc_duration_parse("90s", &ms) == 0 && ms == 90000);
        CHECK(sc_duration_parse("15m", &ms) == 0 && ms == 900000);
        CHECK(sc_duration_parse("2h30m", &ms) == 0 && ms == 9000000);
        CHECK(sc_duration_parse("1d", &ms) == 0 && ms == 86400000);
        CHECK(sc_duration_parse("250ms", &ms) == 0 && ms == 250);
        CHECK(sc_duration_parse("45", &ms) == 0 && ms == 45000);
        CHECK(sc_duration_parse("", &ms) == -1);
        CHECK(sc_duration_parse("-5m", &ms) == -1);
        CHECK(sc_duration_parse("5w", &ms) == -1);
        CHECK(sc_duration_parse("1h30", &ms) == -1);
        CHECK(sc_duration_parse("99999999999999999999d", &ms) == -1);
        TEST_DONE();
}
