#include <stdio.h>
#include <stdlib.h>

#include "sc_config.h"
#include "sc_ingest.h"
#include "sc_yaml.h"
#include "../sc_test.h"

#define NOW 1795500000000LL /* 2026-11-24: after every sample post */

static sc_ingest_result_t res;

static int norm(sc_ingest_t *ing, const char *json)
{
        int rc = sc_ingest_normalize(ing, json, strlen(json), NULL, NULL, NOW, &res);
        if (rc)
                fprintf(stderr, "normalize: %s: %s\n", res.error ? res.error : "?",
                        res.detail);
        return rc;
}

int main(void)
{
        char err[512];
        sc_config_t *c = sc_config_new("ingest_test", NULL);
        if (sc_config_load_file(c, SC_SOURCE_DIR "/config/socialcare.yaml", err,
                                sizeof(err))) {
                fprintf(stderr, "config: %s\n", err);
                return 1;
        }
        sc_brands_t *brands = sc_brands_new(sc_config_tree(c), err, sizeof(err));
        CHECK(brands != NULL);
        sc_ingest_opts_t o = {
            .max_message_bytes = 65536, .max_text_bytes = 280, .max_future_ms = 86400000};
        sc_ingest_t *ing = sc_ingest_new(brands, &o);

        /* X API v2 with includes.users and a brand-tagged rule */
        CHECK(
            norm(ing,
                 "{\"data\":{\"id\":\"1861000000000000002\",\"text\":\"@kasia "
                 "Przepraszamy!\","
                 "\"author_id\":\"9001\",\"created_at\":\"2026-11-19T07:40:00.000Z\","
                 "\"conversation_id\":\"1861000000000000001\",\"lang\":\"pl\","
                 "\"referenced_tweets\":[{\"type\":\"replied_to\",\"id\":"
                 "\"1861000000000000001\"}]},"
                 "\"includes\":{\"users\":[{\"id\":\"9001\",\"username\":\"Telko_Pomoc\","
                 "\"verified\":true,\"public_metrics\":{\"followers_count\":52000}}]},"
                 "\"matching_rules\":[{\"id\":\"1\",\"tag\":\"telko\"}]}") == 0);
        CHECK_INT(res.post_cnt, 1);
        sc_post_t *p = &res.posts[0];
        CHECK_STR(p->platform, "x");
        CHECK_STR(p->brand, "telko");
        CHECK_STR(p->event_id, "x:1861000000000000002");
        CHECK_STR(p->parent_id, "1861000000000000001");
        CHECK_STR(p->thread_id, "1861000000000000001");
        CHECK_STR(p->author_handle, "Telko_Pomoc");
        CHECK_INT(p->author_followers, 52000);
        CHECK_INT(p->author_verified, 1);
        CHECK_INT(p->is_brand, 1);
        CHECK_STR(p->lang_hint, "pl");
        CHECK_STR(p->url, "https://x.com/Telko_Pomoc/status/1861000000000000002");
        CHECK_INT(p->created_at, 1795074000000LL);
        CHECK_INT(p->received_at, NOW);

        /* X: a page of tweets, one invalid: the valid one is kept, the input fails */
        CHECK(norm(ing,
                   "{\"data\":[{\"id\":\"1\",\"text\":\"telko ok\",\"author_id\":\"5\","
                   "\"created_at\":\"2026-11-19T07:40:00Z\"},{\"id\":\"2\",\"author_id\":"
                   "\"5\","
                   "\"created_at\":\"2026-11-19T07:40:00Z\"}]}") == -1);
        CHECK_INT(res.post_cnt, 1);
        CHECK_STR(res.posts[0].brand, "telko"); /* by keyword */
        CHECK_INT(res.posts[0].is_brand, 0);
        CHECK_STR(res.error, "missing_field");
        CHECK(strstr(res.detail, "data[1]"));

        /* Facebook page webhook: a comment from a fan, and the page's own answer */
        CHECK(norm(ing, "{\"object\":\"page\",\"entry\":[{\"id\":\"555000111\",\"time\":"
                        "1795076000,"
                        "\"changes\":[{\"field\":\"feed\",\"value\":{\"item\":"
                        "\"comment\",\"verb\":\"add\","
                        "\"comment_id\":\"c1\",\"post_id\":\"p1\",\"parent_id\":\"p1\","
                        "\"from\":{\"id\":\"7101\","
                        "\"name\":\"Tomasz\"},\"message\":\"zatrucie!\",\"created_time\":"
                        "1795076000}},"
                        "{\"field\":\"feed\",\"value\":{\"item\":\"comment\",\"verb\":"
                        "\"add\",\"comment_id\":\"c2\","
                        "\"post_id\":\"p1\",\"parent_id\":\"c1\",\"from\":{\"id\":"
                        "\"555000111\",\"name\":\"BurgerHub\"},"
                        "\"message\":\"Przykro "
                        "nam\",\"created_time\":\"2026-11-19T08:30:00+0000\"}},"
                        "{\"field\":\"feed\",\"value\":{\"item\":\"reaction\",\"verb\":"
                        "\"add\",\"post_id\":\"p1\"}}]}]}") == 0);
        CHECK_INT(res.post_cnt, 2);
        CHECK_INT(res.ignored_cnt, 1);
        CHECK_STR(res.posts[0].brand, "burgerhub");
        CHECK_STR(res.posts[0].platform, "facebook");
        CHECK_STR(res.posts[0].post_id, "c1");
        CHECK_STR(res.posts[0].thread_id, "p1");
        CHECK_STR(res.posts[0].parent_id, "p1");
        CHECK_INT(res.posts[0].is_brand, 0);
        CHECK_INT(res.posts[0].created_at, 1795076000000LL);
        CHECK_INT(res.posts[1].is_brand, 1);
        CHECK_STR(res.posts[1].parent_id, "c1");
        CHECK_INT(res.posts[1].created_at, 1795077000000LL);

        /* An entry whose id is unusable, with only a change that is ignored:
         * nothing is kept, and nothing fails (fuzz_ingest found the input
         * failing with rc 0). The same id on a kept change fails the input. */
        CHECK(norm(ing,
                   "{\"object\":\"page\",\"entry\":[{\"id\":35400.5,\"changes\":"
                   "[{\"field\":\"ratings\",\"value\":{\"item\":\"comment\"}}]}]}") == 0);
        CHECK(res.error == NULL);
        CHECK_INT(res.post_cnt, 0);
        CHECK_INT(res.ignored_cnt, 1);
        CHECK(norm(ing,
                   "{\"object\":\"page\",\"entry\":[{\"id\":35400.5,\"time\":1795076000,"
                   "\"changes\":[{\"field\":\"feed\",\"value\":{\"item\":\"comment\","
                   "\"comment_id\":\"c9\",\"post_id\":\"p1\",\"from\":{\"id\":\"7\"},"
                   "\"message\":\"hej\"}}]}]}") == -1);
        CHECK_STR(res.error, "bad_field");
        CHECK(strstr(res.detail, "entry.id"));

        /* Instagram comment */
        CHECK(norm(ing,
                   "{\"object\":\"instagram\",\"entry\":[{\"id\":\"178\",\"time\":"
                   "1795092000,"
                   "\"changes\":[{\"field\":\"comments\",\"value\":{\"id\":\"179\","
                   "\"text\":\"gdzie "
                   "BurgerHub?\",\"from\":{\"id\":\"178000\",\"username\":\"glodny\"},"
                   "\"media\":{\"id\":\"m1\"}}}]}]}") == 0);
        CHECK_STR(res.posts[0].platform, "instagram");
        CHECK_STR(res.posts[0].brand, "burgerhub");
        CHECK_STR(res.posts[0].thread_id, "m1");
        CHECK_STR(res.posts[0].author_handle, "glodny");
        CHECK_INT(res.posts[0].created_at, 1795092000000LL);

        /* Review with a rating; a forum comment */
        CHECK(
            norm(ing,
                 "{\"type\":\"review\",\"brand\":\"burgerhub\",\"id\":\"rv1\",\"author\":"
                 "{\"name\":\"Ewa P.\"},\"rating\":5,\"text\":\"Polecam!\","
                 "\"created_at\":\"2026-11-18T18:30:00+01:00\"}") == 0);
        CHECK_STR(res.posts[0].platform, "review");
        CHECK_INT(res.posts[0].rating, 5);
        CHECK_STR(res.posts[0].author_id, "Ewa P.");
        CHECK_INT(res.posts[0].created_at, 1795023000000LL);
        CHECK(norm(ing,
                   "{\"type\":\"comment\",\"platform\":\"forum\",\"brand\":\"autofix\","
                   "\"id\":\"f1\",\"author\":{\"id\":\"9\"},\"text\":\"hej\",\"reply_"
                   "to\":\"f0\","
                   "\"created_at\":1795023000}") == 0);
        CHECK_STR(res.posts[0].platform, "forum");
        CHECK_STR(res.posts[0].parent_id, "f0");
        CHECK_STR(res.posts[0].thread_id, "f0");

        /* Canonical with numeric ids */
        CHECK(norm(ing,
                   "{\"platform\":\"x\",\"brand\":\"bankowo\",\"post_id\":123,\"author\":"
                   "{\"id\":77,\"handle\":\"@bankowo_help\"},\"text\":\"ok\","
                   "\"created_at\":\"2026-11-19T10:00:00Z\"}") == 0);
        CHECK_STR(res.posts[0].post_id, "123");
        CHECK_STR(res.posts[0].author_id, "77");
        CHECK_INT(res.posts[0].is_brand, 1);

        /* Validation: each failure has its reason code */
        struct {
                const char *json, *reason;
        } bad[] = {
            {"{\"platform\":\"x\",", "bad_json"},
            {"[1]", "bad_json"},
            {"{\"platform\":\"x\",\"text\":\"\xc3\x28\"}", "invalid_utf8"},
            {"{\"platform\":\"myspace\",\"brand\":\"telko\",\"post_id\":\"1\",\"author\":"
             "{\"id\":\"1\"},"
             "\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "unknown_platform"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"author\":{\"id\":\"1\"},\"text\":"
             "\"a\","
             "\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "missing_field"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"1\",\"text\":\"a\","
             "\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "missing_field"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"1\",\"author\":{"
             "\"id\":\"1\"},"
             "\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "missing_field"},
            {"{\"platform\":\"x\",\"brand\":\"nope\",\"post_id\":\"1\",\"author\":{"
             "\"id\":\"1\"},"
             "\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "unknown_brand"},
            {"{\"platform\":\"x\",\"post_id\":\"1\",\"author\":{\"id\":\"1\"},"
             "\"text\":\"no brand words\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "unknown_brand"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"1\",\"author\":{"
             "\"id\":\"1\"},"
             "\"text\":\"a\",\"created_at\":\"2026-13-19T10:00:00Z\"}",
             "bad_timestamp"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"1\",\"author\":{"
             "\"id\":\"1\"},"
             "\"text\":\"a\",\"created_at\":\"2030-01-01T10:00:00Z\"}",
             "bad_timestamp"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"1\",\"author\":{"
             "\"id\":\"1\"},"
             "\"text\":\"a\\u0000b\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_json"}, /* an escaped NUL would cut C strings downstream */
            {"{\"type\":\"review\",\"brand\":\"telko\",\"id\":\"1\",\"author\":{\"id\":"
             "\"1\"},"
             "\"rating\":9,\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                CHECK(norm(ing, bad[i].json) == -1);
                if (strcmp(res.error, bad[i].reason))
                        fprintf(stderr, "case %zu: %s (%s)\n", i, res.error, res.detail);
                CHECK_STR(res.error, bad[i].reason);
                CHECK(res.detail[0] != '\0');
                CHECK_INT(res.post_cnt, 0);
        }
        CHECK(sc_ingest_normalize(ing, "{}", 2, "myformat", NULL, NOW, &res) == -1);
        CHECK_STR(res.error, "unknown_format");

        /* Size caps: the text (280 here) and the whole message */
        char big[2000];
        snprintf(big, sizeof(big),
                 "{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"1\",\"author\":{"
                 "\"id\":\"1\"},"
                 "\"text\":\"%0300d\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
                 0);
        CHECK(norm(ing, big) == -1);
        CHECK_STR(res.error, "text_too_long");
        char *huge = malloc(70000);
        memset(huge, ' ', 69999);
        huge[69999] = '\0';
        CHECK(norm(ing, huge) == -1);
        CHECK_STR(res.error, "too_large");
        free(huge);

        /* Strict fields (issue 11): wrong-typed or out-of-bounds fields are
         * either refused (bad_field, naming the field) or normalized and
         * reported in res.norms - never silently. */
#define CANON(extra)                                                                     \
        "{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"v1\",\"author\":{\"id\":" \
        "\"1\"" extra "},\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\""
        struct {
                const char *json, *reason, *field;
        } refused[] = {
            {CANON("") ",\"parent_id\":{\"id\":\"1\"}}", "bad_field", "parent_id"},
            {CANON("") ",\"thread_id\":[1]}", "bad_field", "thread_id"},
            {CANON("") ",\"rating\":\"five\"}", "bad_field", "rating"},
            {CANON("") ",\"rating\":4.5}", "bad_field", "rating"},
            {CANON("") ",\"rating\":{}}", "bad_field", "rating"},
            {"{\"platform\":\"x\",\"brand\":5,\"post_id\":\"v1\",\"author\":{\"id\":"
             "\"1\"},\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field", "brand"},
            {"{\"platform\":7,\"brand\":\"telko\",\"post_id\":\"v1\",\"author\":{\"id\":"
             "\"1\"},\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field", "platform"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":true,\"author\":{"
             "\"id\":\"1\"},\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field", "post_id"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"v1\",\"author\":{"
             "\"id\":1.5},\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field", "author.id"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"v1\",\"author\":{"
             "\"id\":\"1\"},\"text\":42,\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field", "text"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"v1\",\"author\":"
             "\"kasia\",\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "bad_field", "author"},
            {"{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"\",\"author\":{"
             "\"id\":\"1\"},\"text\":\"a\",\"created_at\":\"2026-11-19T10:00:00Z\"}",
             "missing_field", "post id"},
        };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                CHECK(norm(ing, refused[i].json) == -1);
                if (strcmp(res.error, refused[i].reason) ||
                    !strstr(res.detail, refused[i].field))
                        fprintf(stderr, "refused %zu: %s (%s)\n", i, res.error,
                                res.detail);
                CHECK_STR(res.error, refused[i].reason);
                CHECK(strstr(res.detail, refused[i].field) != NULL);
                CHECK_INT(res.post_cnt, 0);
        }
        /* An id over ingest.max_id_bytes (256 by default), or with a control
         * character, is refused and named. */
        {
                char *j = malloc(2000);
                snprintf(j, 2000,
                         "{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"%0300d\","
                         "\"author\":{\"id\":\"1\"},\"text\":\"a\",\"created_at\":"
                         "\"2026-11-19T10:00:00Z\"}",
                         7);
                CHECK(norm(ing, j) == -1);
                CHECK_STR(res.error, "bad_field");
                CHECK(strstr(res.detail, "post_id of 300 bytes"));
                CHECK(norm(ing, CANON("") ",\"parent_id\":\"a\\nb\"}") == -1);
                CHECK_STR(res.error, "bad_field");
                CHECK(strstr(res.detail, "parent_id contains a control"));
                free(j);
        }
        struct {
                const char *json, *field, *action;
                long long followers;
        } normalized[] = {
            {CANON(",\"followers\":-5") "}", "author.followers", "out_of_range", 0},
            {CANON(",\"followers\":1e23") "}", "author.followers", "out_of_range", 0},
            {CANON(",\"followers\":1e400") "}", "author.followers", "out_of_range", 0},
            {CANON(",\"followers\":9223372036854775807") "}", "author.followers",
             "out_of_range", 0},
            {CANON(",\"followers\":10000000001") "}", "author.followers", "out_of_range",
             0},
            {CANON(",\"followers\":12.5") "}", "author.followers", "out_of_range", 0},
            {CANON(",\"followers\":\"many\"") "}", "author.followers", "wrong_type", 0},
            {CANON(",\"followers\":[1]") "}", "author.followers", "wrong_type", 0},
            {CANON(",\"verified\":\"yes\"") "}", "author.verified", "wrong_type", 0},
            {CANON(",\"handle\":5") "}", "author.handle", "wrong_type", 0},
            {CANON("") ",\"lang\":5}", "lang", "wrong_type", 0},
            {CANON("") ",\"lang\":\"p l\"}", "lang", "malformed", 0},
            {CANON("") ",\"url\":{}}", "url", "wrong_type", 0},
            {CANON("") ",\"url\":\"javascript:alert(1)\"}", "url", "malformed", 0},
            {CANON("") ",\"url\":\"https://a b\"}", "url", "malformed", 0},
        };
        for (size_t i = 0; i < sizeof(normalized) / sizeof(normalized[0]); i++) {
                CHECK(norm(ing, normalized[i].json) == 0);
                if (res.norm_cnt != 1 ||
                    strcmp(res.norms[0].field, normalized[i].field) ||
                    strcmp(res.norms[0].action, normalized[i].action))
                        fprintf(stderr, "normalized %zu: %zu norms, first %s %s\n", i,
                                res.norm_cnt, res.norm_cnt ? res.norms[0].field : "-",
                                res.norm_cnt ? res.norms[0].action : "-");
                CHECK_INT(res.post_cnt, 1);
                CHECK_INT(res.norm_cnt, 1);
                CHECK_STR(res.norms[0].field, normalized[i].field);
                CHECK_STR(res.norms[0].action, normalized[i].action);
                CHECK_INT(res.posts[0].author_followers, normalized[i].followers);
        }
        /* In bounds: kept as given, nothing reported. */
        CHECK(
            norm(
                ing,
                CANON(
                    ",\"followers\":10000000000,\"verified\":true") ",\"lang\":"
                                                                    "\"en-GB\",\"url\":"
                                                                    "\"https://x.com/a/"
                                                                    "status/"
                                                                    "1\",\"rating\":null,"
                                                                    "\"parent_id\":"
                                                                    "null}") == 0);
        CHECK_INT(res.norm_cnt, 0);
        CHECK_INT(res.posts[0].author_followers, 10000000000LL);
        CHECK_STR(res.posts[0].lang_hint, "en-GB");
        CHECK_STR(res.posts[0].url, "https://x.com/a/status/1");
        CHECK(res.posts[0].parent_id == NULL);
        CHECK(norm(ing, CANON(",\"followers\":\"120\"") "}") == 0);
        CHECK_INT(res.posts[0].author_followers, 120);
        CHECK_INT(res.norm_cnt, 0);
        /* A 30,000-byte handle is cut (on a character boundary), a 5,000-byte
         * lang and a 3,000-byte url dropped: the post itself goes on. */
        {
                size_t cap = 60000;
                char *j = malloc(cap), *h = malloc(30001), *l = malloc(5001),
                     *u = malloc(3001);
                for (int k = 0; k < 30000; k += 2)
                        memcpy(h + k, "\xc5\x82", 2); /* ł */
                h[30000] = '\0';
                memset(l, 'p', 5000);
                l[5000] = '\0';
                memcpy(u, "https://", 8);
                memset(u + 8, 'u', 2992);
                u[3000] = '\0';
                snprintf(j, cap,
                         "{\"platform\":\"x\",\"brand\":\"telko\",\"post_id\":\"v1\","
                         "\"author\":{\"id\":\"1\",\"handle\":\"%s\"},\"text\":\"a\","
                         "\"lang\":\"%s\",\"url\":\"%s\",\"created_at\":"
                         "\"2026-11-19T10:00:00Z\"}",
                         h, l, u);
                sc_ingest_opts_t big = o;
                big.max_message_bytes = cap;
                sc_ingest_t *ing3 = sc_ingest_new(brands, &big);
                CHECK(sc_ingest_normalize(ing3, j, strlen(j), NULL, NULL, NOW, &res) ==
                      0);
                CHECK_INT(res.norm_cnt, 3);
                CHECK_STR(res.norms[0].field, "author.handle");
                CHECK_STR(res.norms[0].action, "truncated");
                CHECK_INT(strlen(res.posts[0].author_handle), 256);
                CHECK(memcmp(res.posts[0].author_handle, h, 256) == 0);
                CHECK_STR(res.norms[1].field, "lang");
                CHECK_STR(res.norms[1].action, "too_long");
                CHECK(res.posts[0].lang_hint == NULL);
                CHECK_STR(res.norms[2].field, "url");
                CHECK_STR(res.norms[2].action, "too_long");
                CHECK(res.posts[0].url == NULL);
                sc_ingest_destroy(ing3);
                free(j);
                free(h);
                free(l);
                free(u);
        }
        /* The same rules in the platform shapes: X followers_count. */
        CHECK(norm(ing,
                   "{\"data\":{\"id\":\"5\",\"text\":\"telko\",\"author_id\":\"9\","
                   "\"created_at\":\"2026-11-19T07:40:00Z\"},\"includes\":{\"users\":"
                   "[{\"id\":\"9\",\"username\":\"k\",\"public_metrics\":{"
                   "\"followers_count\":-1}}]}}") == 0);
        CHECK_INT(res.norm_cnt, 1);
        CHECK_STR(res.norms[0].field, "author.followers");
        CHECK(norm(ing,
                   "{\"object\":\"page\",\"entry\":[{\"id\":\"555000111\",\"time\":"
                   "1795076000,\"changes\":[{\"field\":\"feed\",\"value\":{\"item\":"
                   "\"comment\",\"comment_id\":\"c1\",\"post_id\":\"p1\","
                   "\"parent_id\":{},\"from\":{\"id\":\"7\"},\"message\":\"x\"}}]}]}") ==
              -1);
        CHECK_STR(res.error, "bad_field");
        CHECK(strstr(res.detail, "entry[0].changes[0]: parent_id is an object"));

        /* The bundled samples: 25 valid posts (6 by brands), 7 malformed */
        FILE *fp = fopen(SC_SOURCE_DIR "/samples/sample-posts.jsonl", "r");
        CHECK(fp != NULL);
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int ok = 0, failed = 0, by_brand = 0;
        o.max_text_bytes = 10000;
        sc_ingest_t *ing2 = sc_ingest_new(brands, &o);
        while ((len = getline(&line, &cap, fp)) > 0) {
                if (line[len - 1] == '\n')
                        len--;
                if (sc_ingest_normalize(ing2, line, (size_t)len, NULL, NULL, NOW, &res) ==
                    0) {
                        ok += (int)res.post_cnt;
                        by_brand += res.posts[0].is_brand;
                } else {
                        failed++;
                }
        }
        free(line);
        fclose(fp);
        CHECK_INT(ok, 25);
        CHECK_INT(by_brand, 6);
        CHECK_INT(failed, 7);

        sc_ingest_destroy(ing);
        sc_ingest_destroy(ing2);
        sc_brands_destroy(brands);
        sc_config_destroy(c);
        TEST_DONE();
}
