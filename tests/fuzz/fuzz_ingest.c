/* ingest's platform adapters (sc_ingest_normalize): canonical, X API v2,
 * Facebook and Instagram webhooks, reviews/comments, detected or named by
 * the sc-format header. The first input byte picks the header and the brand
 * hint, the rest is the message. Every post that comes out must be
 * well-formed and must survive the trip through Avro that ingest gives it
 * (sc_post_encode, then Avro-C's decoder and sc_post_from_avro). */
#include "fuzz.h"
#include "sc_avro.h"
#include "sc_config.h"
#include "sc_ingest.h"
#include "sc_utf8.h"

#define NOW 1795500000000LL /* 2026-11-24 */

static const sc_ingest_opts_t opts = {
    .max_message_bytes = 1 << 20, .max_text_bytes = 10000, .max_future_ms = 300000};
static sc_ingest_t *ing;
static sc_avro_t *avro;
static sc_avro_codec_t *codec;
static sc_ingest_result_t res;
static sc_buf_t frame;
static sc_brands_t *brands;

/* Avro-C keeps pointers where LeakSanitizer does not see them: codecs alive
 * at exit would be reported as leaks, so free them first. */
static void fini(void)
{
        sc_ingest_destroy(ing);
        sc_brands_destroy(brands);
        sc_avro_destroy(avro);
        sc_buf_free(&frame);
}

static void init(void)
{
        char err[512];
        sc_config_t *c = sc_config_new("fuzz", NULL);
        if (sc_config_load_file(c, SC_SOURCE_DIR "/config/socialcare.yaml", err,
                                sizeof(err))) {
                fprintf(stderr, "config: %s\n", err);
                abort();
        }
        brands = sc_brands_new(sc_config_tree(c), err, sizeof(err));
        avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        codec = avro ? sc_avro_codec(avro, "Post", NULL, err, sizeof(err)) : NULL;
        if (!brands || !codec) {
                fprintf(stderr, "init: %s\n", err);
                abort();
        }
        ing = sc_ingest_new(brands, &opts);
        sc_config_destroy(c);
        atexit(fini);
}

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_post(const sc_post_t *p, const sc_ingest_attr_t *at)
{
        size_t bad;
        /* A reply whose brand its parent's record decides has none yet. */
        FUZZ_CHECK(p->event_id && (p->brand || at->lookup) && p->platform && p->post_id &&
                   p->author_id);
        if (!p->brand)
                return;
        FUZZ_CHECK(p->text && strlen(p->text) == p->text_len);
        FUZZ_CHECK(p->text_len <= opts.max_text_bytes);
        FUZZ_CHECK(sc_utf8_valid(p->text, p->text_len, &bad));
        FUZZ_CHECK(p->rating >= 0 && p->rating <= 5);
        FUZZ_CHECK(p->created_at <= NOW + opts.max_future_ms);

        sc_buf_reset(&frame);
        FUZZ_CHECK(sc_post_encode(p, codec, &frame) == 0);
        avro_value_t *v;
        char err[256];
        if (sc_avro_decode(codec, frame.data, frame.len, &v, err, sizeof(err))) {
                fprintf(stderr, "encoded post does not decode: %s\n", err);
                abort();
        }
        sc_post_t q;
        FUZZ_CHECK(sc_post_from_avro(v, &q) == 0);
        FUZZ_CHECK(same(p->event_id, q.event_id) && same(p->brand, q.brand) &&
                   same(p->platform, q.platform) && same(p->post_id, q.post_id) &&
                   same(p->parent_id, q.parent_id) && same(p->thread_id, q.thread_id) &&
                   same(p->author_id, q.author_id) &&
                   same(p->author_handle, q.author_handle) &&
                   same(p->lang_hint, q.lang_hint) && same(p->url, q.url));
        FUZZ_CHECK(q.text_len == p->text_len && !memcmp(q.text, p->text, p->text_len));
        FUZZ_CHECK(q.author_followers == p->author_followers &&
                   q.author_verified == p->author_verified && q.is_brand == p->is_brand &&
                   q.rating == p->rating && q.created_at == p->created_at &&
                   q.received_at == p->received_at);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *formats[] = {NULL,        "canonical", "x",       "facebook",
                                        "instagram", "review",    "comment", "bogus"};
        static const char *hints[] = {NULL, "telko", "bankowo", "nobrand"};
        if (!ing)
                init();
        if (size < 1)
                return 0;
        const char *format = formats[data[0] & 7];
        const char *hint = hints[(data[0] >> 3) & 3];
        int rc = sc_ingest_normalize(ing, (const char *)data + 1, size - 1, format, hint,
                                     NOW, &res);
        FUZZ_CHECK((rc == 0) == (res.error == NULL));
        FUZZ_CHECK(res.post_cnt <= SC_INGEST_MAX_POSTS);
        for (size_t i = 0; i < res.post_cnt; i++)
                check_post(&res.posts[i], &res.attr[i]);
        return 0;
}
