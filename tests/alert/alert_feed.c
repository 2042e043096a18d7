/* Test feeder: produces Avro Enriched and SlaEvent records (as classify and
 * track write them) described one per line on stdin:
 *   E brand event_id created_ms sentiment crisis_conf followers topic|- text...
 *   S brand post_event_id created_ms due_ms
 *   X raw-text                (not Avro: for dead-letter checks)
 * Usage: alert_feed BOOTSTRAP SCHEMAS_DIR < lines */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_avro.h"
#include "sc_post.h"
#include "sc_time.h"

static rd_kafka_t *rk;

static void produce(const char *topic, const char *key, const void *p, size_t n)
{
        for (;;) {
                rd_kafka_resp_err_t e = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY((void *)key, strlen(key)),
                    RD_KAFKA_V_VALUE((void *)p, n),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (!e)
                        return;
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                        exit(1);
                }
                rd_kafka_poll(rk, 50);
        }
}

static void dr(rd_kafka_t *k, const rd_kafka_message_t *m, void *o)
{
        (void)k;
        (void)o;
        if (m->err) {
                fprintf(stderr, "delivery: %s\n", rd_kafka_err2str(m->err));
                exit(1);
        }
}

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: alert_feed BOOTSTRAP SCHEMAS_DIR < lines\n");
                return 2;
        }
        char err[512];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_conf_set(c, "bootstrap.servers", argv[1], err, sizeof(err));
        rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof(err));
        rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof(err));
        rd_kafka_conf_set_dr_msg_cb(c, dr);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
        sc_avro_t *av = sc_avro_new(argv[2], NULL, err, sizeof(err));
        if (!rk || !av) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        sc_avro_codec_t *enr = sc_avro_codec(av, "Enriched", NULL, err, sizeof(err));
        sc_avro_codec_t *sla = sc_avro_codec(av, "SlaEvent", NULL, err, sizeof(err));
        if (!enr || !sla) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        sc_buf_t o = SC_BUF_INIT;
        int n = 0;
        while ((len = getline(&line, &cap, stdin)) > 0) {
                if (line[len - 1] == '\n')
                        line[--len] = '\0';
                if (!len || line[0] == '#')
                        continue;
                sc_buf_reset(&o);
                if (line[0] == 'X') {
                        produce("social.posts.enriched", "x", line + 2, strlen(line + 2));
                        n++;
                        continue;
                }
                char brand[64], id[128], label[16], topic[64];
                long long created, followers, due;
                double crisis;
                int off = 0;
                if (line[0] == 'S' || line[0] == 'R') {
                        /* R: the retraction of that breach (kind recovered). */
                        const char *kind = line[0] == 'R' ? "recovered" : "breach";
                        if (sscanf(line + 1, " %63s %127s %lld %lld", brand, id, &created,
                                   &due) != 4) {
                                fprintf(stderr, "bad line: %s\n", line);
                                return 2;
                        }
                        avro_value_t *v = sc_avro_codec_value(sla);
                        char eid[160];
                        snprintf(eid, sizeof(eid), "%s:%s", id, kind);
                        int64_t now = sc_now_ms();
                        sc_avro_set_str(v, "event_id", eid);
                        sc_avro_set_str(v, "kind", kind);
                        sc_avro_set_str(v, "post_event_id", id);
                        sc_avro_set_str(v, "brand", brand);
                        sc_avro_set_str(v, "platform", "x");
                        sc_avro_set_str(v, "post_id", id);
                        sc_avro_set_str(v, "team", "care");
                        sc_avro_set_str(v, "priority", "high");
                        sc_avro_set_long(v, "created_at", created);
                        sc_avro_set_long(v, "due_at", due);
                        sc_avro_set_opt_long(v, "replied_at", NULL);
                        sc_avro_set_opt_long(v, "frt_s", NULL);
                        sc_avro_set_opt_str(v, "url", "https://x.com/i/status/1");
                        sc_avro_set_str(v, "text", "still waiting for an answer");
                        sc_avro_set_long(v, "emitted_at", now);
                        if (sc_avro_encode(sla, &o, err, sizeof(err))) {
                                fprintf(stderr, "%s\n", err);
                                return 1;
                        }
                        produce("care.sla", brand, o.data, o.len);
                        n++;
                        continue;
                }
                if (sscanf(line, "E %63s %127s %lld %15s %lf %lld %63s %n", brand, id,
                           &created, label, &crisis, &followers, topic, &off) < 7 ||
                    !off) {
                        fprintf(stderr, "bad line: %s\n", line);
                        return 2;
                }
                const char *text = line + off;
                char url[200], handle[160];
                snprintf(url, sizeof(url), "https://x.com/u/status/%s", id);
                snprintf(handle, sizeof(handle), "user_%s", id);
                sc_post_t p = {.event_id = id,
                               .brand = brand,
                               .platform = "x",
                               .post_id = id,
                               .author_id = "42",
                               .author_handle = handle,
                               .author_followers = followers,
                               .text = text,
                               .text_len = strlen(text),
                               .url = url,
                               .created_at = created,
                               .received_at = created + 1000};
                int has_topic = strcmp(topic, "-") != 0;
                int bad = sc_avro_frame_begin(enr, &o) || sc_post_write(&p, &o) ||
                          sc_avro_w_str(&o, "test", 4) || sc_avro_w_str(&o, "en", 2) ||
                          sc_avro_w_str(&o, label, strlen(label)) ||
                          sc_avro_w_double(&o, !strcmp(label, "negative") ? -0.8 : 0.1) ||
                          sc_avro_w_array_begin(&o, crisis > 0 ? 1 : 0);
                if (crisis > 0)
                        bad = bad || sc_avro_w_str(&o, "crisis", 6) ||
                              sc_avro_w_double(&o, crisis);
                bad = bad || sc_avro_w_array_end(&o) ||
                      sc_avro_w_array_begin(&o, has_topic ? 1 : 0);
                if (has_topic)
                        bad = bad || sc_avro_w_str(&o, topic, strlen(topic));
                bad = bad || sc_avro_w_array_end(&o) || sc_avro_w_long(&o, followers) ||
                      sc_avro_w_str(&o, "high", 4) || sc_avro_w_double(&o, 0.5) ||
                      sc_avro_w_bool(&o, 1) || sc_avro_w_long(&o, created + 2000);
                if (bad) {
                        fprintf(stderr, "encode failed\n");
                        return 1;
                }
                produce("social.posts.enriched", brand, o.data, o.len);
                n++;
        }
        free(line);
        rd_kafka_flush(rk, 30000);
        fprintf(stderr, "alert_feed: %d records\n", n);
        sc_buf_free(&o);
        sc_avro_destroy(av);
        rd_kafka_destroy(rk);
        return 0;
}
