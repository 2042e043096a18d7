/* The direct Enriched reader (common/sc_enriched_decode) as alert uses it on
 * its hot path (sc_enriched_read), against the reference: Avro-C via
 * sc_avro_decode + sc_enriched_view. Both must accept the same frames and
 * read the same fields from them. The input is the record body; the frame
 * header (Enriched's id) is added here, as the worker checks it first. */
#include <math.h>

#include "fuzz.h"
#include "sc_alerts.h"
#include "sc_avro.h"

static sc_avro_t *avro;
static sc_avro_codec_t *codec;
static sc_buf_t frame, scratch;

/* Avro-C keeps pointers where LeakSanitizer does not see them: codecs alive
 * at exit would be reported as leaks, so free them first. */
static void fini(void)
{
        sc_avro_destroy(avro);
        sc_buf_free(&frame);
        sc_buf_free(&scratch);
}

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static int same_double(double a, double b)
{
        return a == b || (isnan(a) && isnan(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512];
        if (!codec) {
                avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
                codec =
                    avro ? sc_avro_codec(avro, "Enriched", NULL, err, sizeof(err)) : NULL;
                if (!codec) {
                        fprintf(stderr, "init: %s\n", err);
                        abort();
                }
                atexit(fini);
        }
        sc_buf_reset(&frame);
        sc_avro_frame_begin(codec, &frame);
        sc_buf_append(&frame, data, size);
        uint8_t *msg = malloc(frame.len);
        memcpy(msg, frame.data, frame.len);

        sc_enriched_view_t fast, ref;
        int fast_rc = sc_enriched_read(msg, frame.len, &scratch, &fast);
        /* alert dead-letters a record with an empty id (missing_field) as
         * sc_post_from_avro refuses it. */
        if (fast_rc == 0 && sc_post_missing(&fast.post))
                fast_rc = -1;
        avro_value_t *v;
        int ref_rc = sc_avro_decode(codec, msg, frame.len, &v, err, sizeof(err));
        if (ref_rc == 0)
                ref_rc = sc_enriched_view(v, &ref);
        if (fast_rc != ref_rc) {
                fprintf(stderr, "sc_enriched_read %d, Avro-C %d (%s)\n", fast_rc, ref_rc,
                        ref_rc ? err : "ok");
                abort();
        }
        if (fast_rc == 0) {
                const sc_post_t *p = &fast.post, *q = &ref.post;
                FUZZ_CHECK(same(p->event_id, q->event_id) && same(p->brand, q->brand) &&
                           same(p->platform, q->platform) &&
                           same(p->post_id, q->post_id) &&
                           same(p->parent_id, q->parent_id) &&
                           same(p->thread_id, q->thread_id) &&
                           same(p->author_id, q->author_id) &&
                           same(p->author_handle, q->author_handle) &&
                           same(p->lang_hint, q->lang_hint) && same(p->url, q->url));
                FUZZ_CHECK(p->text_len == q->text_len &&
                           !memcmp(p->text, q->text, p->text_len));
                FUZZ_CHECK(p->author_followers == q->author_followers &&
                           !p->author_verified == !q->author_verified &&
                           !p->is_brand == !q->is_brand && p->rating == q->rating &&
                           p->created_at == q->created_at &&
                           p->received_at == q->received_at);
                FUZZ_CHECK(same(fast.sentiment, ref.sentiment));
                FUZZ_CHECK(same_double(fast.crisis, ref.crisis));
                FUZZ_CHECK(fast.topic_cnt == ref.topic_cnt);
                for (size_t i = 0; i < fast.topic_cnt; i++)
                        FUZZ_CHECK(same(fast.topics[i], ref.topics[i]));
        }
        free(msg);
        return 0;
}
