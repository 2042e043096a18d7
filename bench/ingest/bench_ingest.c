/* ingest hot path: JSON parse + normalize + Avro encode, per post, on the
 * bundled samples (X v2, Facebook/Instagram webhooks, reviews, canonical). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_avro.h"
#include "sc_bench.h"
#include "sc_config.h"
#include "sc_ingest.h"

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
        char err[512];
        sc_config_t *c = sc_config_new("ingest_bench", NULL);
        if (sc_config_load_file(c, SC_SOURCE_DIR "/config/socialcare.yaml", err,
                                sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        sc_brands_t *brands = sc_brands_new(sc_config_tree(c), err, sizeof(err));
        sc_avro_t *avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        sc_avro_codec_t *codec =
            avro ? sc_avro_codec(avro, "Post", NULL, err, sizeof(err)) : NULL;
        if (!brands || !codec) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        sc_ingest_opts_t o = {.max_message_bytes = 1 << 20,
                              .max_text_bytes = 10000,
                              .max_future_ms = 86400000};
        sc_ingest_t *ing = sc_ingest_new(brands, &o);
        static sc_ingest_result_t res;

        /* Only the lines that normalize: the hot path is valid posts. */
        FILE *fp = fopen(SC_SOURCE_DIR "/samples/sample-posts.jsonl", "r");
        char *lines[64];
        size_t lens[64], n = 0, cap = 0;
        char *line = NULL;
        ssize_t len;
        while (n < 64 && (len = getline(&line, &cap, fp)) > 0) {
                if (line[len - 1] == '\n')
                        len--;
                if (sc_ingest_normalize(ing, line, (size_t)len, NULL, NULL,
                                        1795500000000LL, &res) == 0) {
                        lines[n] = strndup(line, (size_t)len);
                        lens[n++] = (size_t)len;
                }
        }
        free(line);
        fclose(fp);

        sc_buf_t out = SC_BUF_INIT;
        size_t bytes = 0;
        /* Warm up: buffers, the parser arena and the Avro value reach size. */
        for (int pass = 0; pass < 2; pass++) {
                uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
                long posts = 0;
                for (long r = 0; r < (pass ? rounds : 200); r++) {
                        for (size_t i = 0; i < n; i++) {
                                sc_ingest_normalize(ing, lines[i], lens[i], NULL, NULL,
                                                    1795500000000LL, &res);
                                for (size_t j = 0; j < res.post_cnt; j++) {
                                        sc_buf_reset(&out);
                                        sc_post_encode(&res.posts[j], codec, &out);
                                        bytes += out.len;
                                        posts++;
                                }
                        }
                }
                uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
                if (pass)
                        sc_bench_report("ingest parse+normalize+encode", posts, t1 - t0,
                                        a1 - a0);
        }
        printf("(%zu sample inputs, %zu bytes of Avro written)\n", n, bytes);
        for (size_t i = 0; i < n; i++)
                free(lines[i]);
        sc_buf_free(&out);
        sc_ingest_destroy(ing);
        sc_avro_destroy(avro);
        sc_brands_destroy(brands);
        sc_config_destroy(c);
        return 0;
}
