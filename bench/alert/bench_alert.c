/* alert per-post detection path: Avro Enriched decode + the single-post
 * checks (crisis, influencer) + the spike counting (the post added to its
 * brand's counting call; batches of 500 are prepared, which queues one call
 * per brand and the evaluations on the Redis pipeline, and then discarded, so
 * the figure excludes the Redis round trip, which is one per batch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alert_engine.h"
#include "sc_alerts.h"
#include "sc_bench.h"
#include "sc_redis.h"
#include "sc_spike.h"

#define POSTS 64

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
        char err[512];
        sc_avro_t *avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        sc_avro_codec_t *codec =
            avro ? sc_avro_codec(avro, "Enriched", NULL, err, sizeof(err)) : NULL;
        sc_redis_t *r = sc_redis_new("redis://127.0.0.1:1", 100, err, sizeof(err));
        sc_spike_opts_t so = {.window_ms = 900000,
                              .bucket_ms = 60000,
                              .baseline_days = 7,
                              .k = 2,
                              .min_count = 10,
                              .recent_ids = 10,
                              .per_topic = 1};
        sc_spike_t *sp = r ? sc_spike_new(r, &so, err, sizeof(err)) : NULL;
        if (!codec || !sp) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        static const char *brands[] = {"telko", "bankowo", "burgerhub", "autofix"};
        static const char *labels[] = {"negative", "neutral", "positive", "negative"};
        static const char *topics[] = {"internet", "billing", "app", "food"};
        sc_buf_t frames[POSTS];
        for (int i = 0; i < POSTS; i++) {
                char id[64], url[96], text[160];
                snprintf(id, sizeof(id), "x:%d", 1000 + i);
                snprintf(url, sizeof(url), "https://x.com/u/status/%d", 1000 + i);
                snprintf(text, sizeof(text),
                         "post %d: @telko_pl internet down again since this morning, "
                         "third time this week",
                         i);
                sc_post_t p = {.event_id = id,
                               .brand = brands[i % 4],
                               .platform = "x",
                               .post_id = id + 2,
                               .author_id = "42",
                               .author_handle = "someone",
                               .author_followers = i % 16 == 0 ? 120000 : 300,
                               .text = text,
                               .text_len = strlen(text),
                               .url = url,
                               .created_at = 1763632800000LL + i * 7000,
                               .received_at = 1763632801000LL + i * 7000};
                sc_buf_t *o = &frames[i];
                memset(o, 0, sizeof(*o));
                int crisis = i % 32 == 5;
                int bad = sc_avro_frame_begin(codec, o) || sc_post_write(&p, o) ||
                          sc_avro_w_str(o, "v", 1) || sc_avro_w_str(o, "pl", 2) ||
                          sc_avro_w_str(o, labels[i % 4], strlen(labels[i % 4])) ||
                          sc_avro_w_double(o, -0.5) ||
                          sc_avro_w_array_begin(o, crisis ? 2 : 1) ||
                          sc_avro_w_str(o, "complaint", 9) || sc_avro_w_double(o, 0.8);
                if (crisis)
                        bad = bad || sc_avro_w_str(o, "crisis", 6) ||
                              sc_avro_w_double(o, 0.9);
                bad = bad || sc_avro_w_array_end(o) || sc_avro_w_array_begin(o, 1) ||
                      sc_avro_w_str(o, topics[i % 4], strlen(topics[i % 4])) ||
                      sc_avro_w_array_end(o) || sc_avro_w_long(o, p.author_followers) ||
                      sc_avro_w_str(o, "high", 4) || sc_avro_w_double(o, 0.5) ||
                      sc_avro_w_bool(o, 1) || sc_avro_w_long(o, p.created_at + 10);
                if (bad)
                        return 1;
        }
        sc_buf_t scratch = SC_BUF_INIT;
        size_t alerts = 0, in_batch = 0;
        uint64_t n = 0, a0 = 0, t0 = 0;
        for (long round = -1; round < rounds; round++) {
                if (round == 0) { /* warm: measure from here */
                        a0 = sc_bench_allocs();
                        t0 = sc_bench_now_ns();
                }
                for (int i = 0; i < POSTS; i++) {
                        if (!in_batch)
                                sc_spike_begin(sp, 1763632800000LL +
                                                       3600000); /* the posts' hour */
                        sc_enriched_view_t ev;
                        if (sc_enriched_read(frames[i].data, frames[i].len, &scratch,
                                             &ev)) {
                                fprintf(stderr, "decode: %s\n", err);
                                return 1;
                        }
                        unsigned d = sc_alert_decide(&ev, 0.5, 50000);
                        alerts += (d & SC_ALERT_DECIDE_CRISIS) != 0;
                        alerts += (d & SC_ALERT_DECIDE_INFLUENCER) != 0;
                        if (sc_spike_add(sp, ev.post.brand, ev.topics, ev.topic_cnt,
                                         ev.post.event_id, ev.post.created_at,
                                         (d & SC_ALERT_DECIDE_SPIKE) != 0, (size_t)i))
                                return 1;
                        if (++in_batch == 500) {
                                sc_spike_prepare(sp);
                                sc_redis_discard(r);
                                in_batch = 0;
                        }
                        if (round >= 0)
                                n++;
                }
        }
        uint64_t ns = sc_bench_now_ns() - t0;
        uint64_t allocs = sc_bench_allocs() - a0;
        sc_bench_report("alert detection path", n, ns, allocs);
        fprintf(stderr, "(%zu single-post alerts decided)\n", alerts);
        for (int i = 0; i < POSTS; i++)
                sc_buf_free(&frames[i]);
        sc_buf_free(&scratch);
        sc_spike_destroy(sp);
        sc_redis_destroy(r);
        sc_avro_destroy(avro);
        return 0;
}
