#include <stdlib.h>

#include "sc_avro.h"
#include "sc_post.h"
#include "../sc_test.h"

static sc_post_t sample(void)
{
        sc_post_t p = {0};
        p.event_id = "x:1861";
        p.brand = "telko";
        p.platform = "x";
        p.post_id = "1861";
        p.parent_id = NULL;
        p.thread_id = "1800";
        p.author_id = "501";
        p.author_handle = "kasia_wro";
        p.author_followers = 15400;
        p.author_verified = 1;
        p.text = "nie działa mi internet 😡";
        p.text_len = strlen(p.text);
        p.lang_hint = "pl";
        p.rating = 0;
        p.created_at = 1763536320000;
        p.received_at = 1763536321000;
        return p;
}

int main(void)
{
        char err[512];
        const char *registry = getenv("SC_REGISTRY_URL");
        sc_avro_t *a = sc_avro_new(SC_SOURCE_DIR "/schemas", registry, err, sizeof(err));
        CHECK(a != NULL);
        sc_avro_codec_t *pc =
            sc_avro_codec(a, "Post", "social.posts-value", err, sizeof(err));
        if (!pc)
                fprintf(stderr, "%s\n", err);
        CHECK(pc != NULL);
        CHECK(sc_avro_codec(a, "Post", "social.posts-value", err, sizeof(err)) == pc);
        if (!registry)
                CHECK_INT(sc_avro_codec_id(pc), 1);
        else /* test_avro_registry.sh checks it against the registry's answer */
                printf("registry id social.posts-value %d\n", (int)sc_avro_codec_id(pc));

        /* Post round trip */
        sc_post_t in = sample(), out;
        sc_buf_t buf = SC_BUF_INIT;
        CHECK(sc_post_to_avro(&in, sc_avro_codec_value(pc)) == 0);
        CHECK(sc_avro_encode(pc, &buf, err, sizeof(err)) == 0);
        CHECK((unsigned char)buf.data[0] == 0);
        CHECK_INT(sc_avro_frame_id(buf.data, buf.len), sc_avro_codec_id(pc));
        avro_value_t *v;
        CHECK(sc_avro_decode(pc, buf.data, buf.len, &v, err, sizeof(err)) == 0);
        CHECK(sc_post_from_avro(v, &out) == 0);
        CHECK_STR(out.event_id, "x:1861");
        CHECK_STR(out.text, in.text);
        CHECK_INT(out.text_len, in.text_len);
        CHECK(out.parent_id == NULL);
        CHECK_STR(out.thread_id, "1800");
        CHECK_STR(out.author_handle, "kasia_wro");
        CHECK_INT(out.author_followers, 15400);
        CHECK_INT(out.author_verified, 1);
        CHECK_INT(out.rating, 0);
        CHECK_INT(out.created_at, 1763536320000);
        CHECK_STR(out.lang_hint, "pl");

        /* The direct writer produces Avro-C's bytes exactly, for every
         * combination of the optional fields. */
        sc_buf_t direct = SC_BUF_INIT;
        for (int mask = 0; mask < 64; mask++) {
                sc_post_t q = sample();
                if (mask & 1)
                        q.parent_id = "p-1";
                if (mask & 2)
                        q.thread_id = NULL;
                if (mask & 4)
                        q.author_handle = NULL;
                if (mask & 8)
                        q.lang_hint = NULL;
                if (mask & 16)
                        q.url = "https://x.com/a/status/1";
                if (mask & 32) {
                        q.rating = 1 + mask % 5;
                        q.author_followers = -1LL - mask * 1000003LL;
                        q.is_brand = 1;
                }
                sc_buf_reset(&buf);
                sc_buf_reset(&direct);
                CHECK(sc_post_to_avro(&q, sc_avro_codec_value(pc)) == 0);
                CHECK(sc_avro_encode(pc, &buf, err, sizeof(err)) == 0);
                CHECK(sc_post_encode(&q, pc, &direct) == 0);
                CHECK_INT(direct.len, buf.len);
                CHECK(memcmp(direct.data, buf.data, buf.len) == 0);
        }
        sc_buf_free(&direct);

        /* A review with a rating and no optional strings */
        in.rating = 4;
        in.thread_id = in.lang_hint = in.author_handle = NULL;
        sc_buf_reset(&buf);
        CHECK(sc_post_to_avro(&in, sc_avro_codec_value(pc)) == 0);
        CHECK(sc_avro_encode(pc, &buf, err, sizeof(err)) == 0);
        CHECK(sc_avro_decode(pc, buf.data, buf.len, &v, err, sizeof(err)) == 0);
        CHECK(sc_post_from_avro(v, &out) == 0);
        CHECK_INT(out.rating, 4);
        CHECK(out.thread_id == NULL && out.author_handle == NULL);

        /* Enriched embeds the Post defined in post.avsc */
        sc_avro_codec_t *ec =
            sc_avro_codec(a, "Enriched", "social.posts.enriched-value", err, sizeof(err));
        CHECK(ec != NULL);
        CHECK(strstr(sc_avro_codec_schema_json(ec), "\"Author\"") != NULL);
        avro_value_t *e = sc_avro_codec_value(ec), post, sent, intents, item;
        CHECK(sc_avro_get(e, "post", &post) == 0);
        CHECK(avro_value_copy(&post, v) == 0);
        CHECK(sc_avro_set_str(e, "classifier_version", "test") == 0);
        CHECK(sc_avro_set_str(e, "language", "pl") == 0);
        CHECK(sc_avro_get(e, "sentiment", &sent) == 0);
        CHECK(sc_avro_set_str(&sent, "label", "negative") == 0);
        CHECK(sc_avro_set_double(&sent, "score", -0.7) == 0);
        CHECK(sc_avro_get(e, "intents", &intents) == 0);
        CHECK(avro_value_append(&intents, &item, NULL) == 0);
        CHECK(sc_avro_set_str(&item, "name", "complaint") == 0);
        CHECK(sc_avro_set_double(&item, "confidence", 0.9) == 0);
        CHECK(sc_avro_set_long(e, "reach", 15400) == 0);
        CHECK(sc_avro_set_str(e, "priority", "high") == 0);
        CHECK(sc_avro_set_double(e, "priority_score", 0.8) == 0);
        CHECK(sc_avro_set_bool(e, "needs_reply", 1) == 0);
        CHECK(sc_avro_set_long(e, "classified_at", 1763536322000) == 0);
        sc_buf_reset(&buf);
        CHECK(sc_avro_encode(ec, &buf, err, sizeof(err)) == 0);
        avro_value_t *d;
        CHECK(sc_avro_decode(ec, buf.data, buf.len, &d, err, sizeof(err)) == 0);
        CHECK(sc_avro_get(d, "post", &post) == 0);
        CHECK_STR(sc_avro_str(&post, "text", NULL), "nie działa mi internet 😡");
        CHECK(sc_avro_get(d, "intents", &intents) == 0);
        size_t n;
        CHECK(avro_value_get_size(&intents, &n) == 0 && n == 1);
        /* reusing the value must not accumulate array items */
        CHECK(sc_avro_decode(ec, buf.data, buf.len, &d, err, sizeof(err)) == 0);
        CHECK(sc_avro_get(d, "intents", &intents) == 0);
        CHECK(avro_value_get_size(&intents, &n) == 0 && n == 1);

        /* Every other record parses too */
        CHECK(sc_avro_codec(a, "Routed", NULL, err, sizeof(err)) != NULL);
        CHECK(sc_avro_codec(a, "SlaEvent", NULL, err, sizeof(err)) != NULL);
        CHECK(sc_avro_codec(a, "Alert", NULL, err, sizeof(err)) != NULL);
        CHECK(sc_avro_codec(a, "Nope", NULL, err, sizeof(err)) == NULL);

        /* Bad frames are errors with reasons, never crashes */
        CHECK(sc_avro_decode(pc, "\x01\0\0\0\x01xyz", 8, &v, err, sizeof(err)) == -1);
        CHECK(strstr(err, "magic"));
        CHECK(sc_avro_decode(pc, buf.data, buf.len, &v, err, sizeof(err)) == -1);
        CHECK(strstr(err, "schema id"));
        sc_buf_reset(&buf);
        in = sample();
        CHECK(sc_post_to_avro(&in, sc_avro_codec_value(pc)) == 0);
        CHECK(sc_avro_encode(pc, &buf, err, sizeof(err)) == 0);
        for (size_t cut = 0; cut < buf.len; cut++)
                CHECK(sc_avro_decode(pc, buf.data, cut, &v, err, sizeof(err)) == -1);
        sc_buf_putc(&buf, 'X');
        CHECK(sc_avro_decode(pc, buf.data, buf.len, &v, err, sizeof(err)) == -1);
        CHECK(strstr(err, "trailing"));
        /* A string length of 2^62: rejected before any allocation. */
        unsigned char huge[] = {
            0,    0,    0,    0,    (unsigned char)sc_avro_codec_id(pc),
            0xfe, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0x7f};
        CHECK(sc_avro_decode(pc, huge, sizeof(huge), &v, err, sizeof(err)) == -1);
        /* Random garbage after a valid header never crashes. */
        srand(7);
        for (int i = 0; i < 2000; i++) {
                unsigned char g[64] = {0, 0, 0, 0, (unsigned char)sc_avro_codec_id(pc)};
                size_t len = 5 + (size_t)(rand() % 59);
                for (size_t k = 5; k < len; k++)
                        g[k] = (unsigned char)rand();
                sc_avro_decode(pc, g, len, &v, err, sizeof(err));
        }
        sc_buf_free(&buf);
        sc_avro_destroy(a);
        TEST_DONE();
}
