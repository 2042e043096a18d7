/* Brand attribution without Redis: the text matcher (Unicode word
 * boundaries, case, stems, earliest mention, ties, deployment order) and the
 * normalizer's part of the rule (named, account, replied-to account, lookup
 * left open for the worker, multi_brand all). The Redis part (parent/thread
 * record) is tested with the real worker in test_attribution_replay.sh. */
#include <stdio.h>
#include <stdlib.h>

#include "sc_ingest.h"
#include "sc_yaml.h"
#include "../sc_test.h"

#define NOW 1795500000000LL

/* Five brands; the order of the list is a parameter so that the tests can
 * check that shuffling it changes nothing. */
static const char *const brand_yaml[] = {
    "  - id: apple\n"
    "    accounts: {x: [\"AppleSupport\", \"id:100\"]}\n"
    "    keywords: [\"iphone\"]\n",
    "  - id: zabka\n"
    "    accounts: {x: [\"zabka_pl\"]}\n"
    "    keywords: [\"żabk*\", \"#żabka\"]\n",
    "  - id: biedronka\n"
    "    accounts: {x: [\"biedronka\"], facebook: [\"id:777\"]}\n"
    "    keywords: [\"Biedronka\", \"biedronce\", \"promocja\"]\n",
    "  - id: telko\n"
    "    accounts: {x: [\"telko_pl\", \"id:200\"]}\n"
    "    keywords: [\"telko\", \"telko mobile\"]\n",
    "  - id: lidl\n"
    "    accounts: {x: [\"lidlpolska\"]}\n"
    "    keywords: [\"lidl\", \"Żabka\", \"PROMOCJA\"]\n",
};
#define NB (sizeof(brand_yaml) / sizeof(brand_yaml[0]))

static sc_yaml_t *yaml;

static sc_brands_t *brands_in_order(const size_t *order)
{
        char doc[4096] = "brands:\n";
        for (size_t i = 0; i < NB; i++)
                strcat(doc, brand_yaml[order[i]]);
        char err[256];
        sc_yaml_destroy(yaml);
        yaml = sc_yaml_load_string(doc, strlen(doc), "test", err, sizeof(err));
        CHECK(yaml != NULL);
        sc_brands_t *b = sc_brands_new(sc_yaml_root(yaml), err, sizeof(err));
        if (!b)
                fprintf(stderr, "brands: %s\n", err);
        CHECK(b != NULL);
        return b;
}

static sc_brands_scan_t *scan;

/* The brand named earliest, or "-". */
static const char *first(const sc_brands_t *b, const char *text)
{
        sc_brand_hit_t h;
        size_t n = sc_brands_mentions(b, scan, text, strlen(text), &h, 1);
        return n ? h.brand->id : "-";
}

/* Every brand named, earliest first: "a,b,c" (or "-"). */
static const char *all(const sc_brands_t *b, const char *text)
{
        static char out[256];
        sc_brand_hit_t h[8];
        size_t n = sc_brands_mentions(b, scan, text, strlen(text), h, 8);
        out[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                strcat(out, i ? "," : "");
                strcat(out, h[i].brand->id);
        }
        return n ? out : "-";
}

static void check_matcher(const sc_brands_t *b)
{
        /* Handles: punctuation, symbols and emoji end a word, letters don't. */
        CHECK_STR(first(b, "@AppleSupport’s screen is broken"), "apple");
        CHECK_STR(first(b, "waiting for @AppleSupport…"), "apple");
        CHECK_STR(first(b, "@AppleSupport😡😡"), "apple");
        CHECK_STR(first(b, "@AppleSupport, hello"), "apple");
        CHECK_STR(first(b, "@AppleSupport"), "apple");
        CHECK_STR(first(b, "(@AppleSupport)"), "apple");
        CHECK_STR(first(b, "@AppleSupportX is not them"), "-");
        CHECK_STR(first(b, "@AppleSupport_ neither"), "-");
        CHECK_STR(first(b, "@AppleSupport2 neither"), "-");
        CHECK_STR(first(b, "@AppleSupporté neither (a letter)"), "-");
        /* a combining mark continues the word */
        CHECK_STR(first(b, "@AppleSupporte\xcc\x81 neither"), "-");
        /* Case-insensitive as on the platforms. */
        CHECK_STR(first(b, "hey @applesupport"), "apple");
        CHECK_STR(first(b, "HEY @APPLESUPPORT!"), "apple");
        CHECK_STR(first(b, "my IPHONE died"), "apple");
        CHECK_STR(first(b, "iphones"), "-");
        /* Polish letters: word characters, folded. "żabk*" is a stem. */
        CHECK_STR(first(b, "Do Żabki po chleb"), "zabka");
        CHECK_STR(first(b, "W Żabce nie było chleba"), "-"); /* k -> c: not the stem */
        CHECK_STR(first(b, "ŻABKĘ zamknięto"), "zabka");
        CHECK_STR(first(b, "#Żabka"), "zabka");
        CHECK_STR(first(b, "obżabka"), "-"); /* ż is a letter: no left boundary */
        CHECK_STR(first(b, "w biedronce"), "biedronka");
        CHECK_STR(first(b, "w BIEDRONCE."), "biedronka");
        CHECK_STR(first(b, "biedronką"), "-"); /* no stem: ą continues the word */
        CHECK_STR(first(b, "Biedronka»"), "biedronka");
        CHECK_STR(first(b, "„Biedronka”"), "biedronka");
        CHECK_STR(first(b, "telkomunikacja"), "-");
        CHECK_STR(first(b, "mam Telko od lat"), "telko");
        CHECK_STR(first(b, "@telko_pl"), "telko");
        CHECK_STR(first(b, "telko_pl bez @"), "-"); /* "telko" then '_': one word */
        /* Earliest wins, whatever the deployment order. */
        CHECK_STR(first(b, "@lidlpolska is better than @biedronka"), "lidl");
        CHECK_STR(first(b, "@biedronka is better than @lidlpolska"), "biedronka");
        CHECK_STR(all(b, "@biedronka is better than @lidlpolska, ask @AppleSupport"),
                  "biedronka,lidl,apple");
        CHECK_STR(all(b, "@zabka_pl @biedronka @zabka_pl"), "zabka,biedronka");
        /* Ties at one position: the longer match first... */
        CHECK_STR(all(b, "Telko Mobile"), "telko");
        /* (a stem counts by its written part: lidl's "Żabka" is longer than
         * zabka's "żabk*") */
        CHECK_STR(all(b, "Żabka"), "lidl,zabka");
        /* ...then deployment order: "promocja" is a keyword of lidl and of
         * biedronka (checked in main). */
        /* Not UTF-8: never a word character, no crash. */
        CHECK_STR(first(b, "\xff@AppleSupport\xfe"), "apple");
        CHECK_STR(first(b, ""), "-");
}

/* The deployment-order tie of check_matcher, computed directly. */
static const char *promo_tie(const sc_brands_t *b)
{
        for (size_t i = 0; i < sc_brands_count(b); i++) {
                const char *id = sc_brands_at(b, i)->id;
                if (!strcmp(id, "lidl") || !strcmp(id, "biedronka"))
                        return id;
        }
        return "-";
}

static sc_ingest_result_t res;

static int norm(sc_ingest_t *ing, const char *json)
{
        return sc_ingest_normalize(ing, json, strlen(json), NULL, NULL, NOW, &res);
}

static void check_normalizer(const sc_brands_t *b)
{
        sc_ingest_opts_t o = {.max_message_bytes = 65536,
                              .max_text_bytes = 2000,
                              .max_future_ms = 86400000};
        sc_ingest_t *ing = sc_ingest_new(b, &o);

        /* Named: the field wins over everything. */
        CHECK(norm(ing, "{\"platform\":\"x\",\"brand\":\"lidl\",\"post_id\":\"1\","
                        "\"author\":{\"id\":\"5\"},\"text\":\"@biedronka\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK_STR(res.posts[0].brand, "lidl");
        CHECK(res.attr[0].fixed == sc_brands_find(b, "lidl"));
        CHECK_INT(res.attr[0].lookup, 0);
        /* The author's own account, even when it answers another brand's
         * customer and names that brand first. */
        CHECK(norm(ing, "{\"platform\":\"x\",\"post_id\":\"2\",\"parent_id\":\"1\","
                        "\"author\":{\"id\":\"9\",\"handle\":\"LidlPolska\"},"
                        "\"text\":\"@biedronka a u nas taniej\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK_STR(res.posts[0].brand, "lidl");
        CHECK_INT(res.posts[0].is_brand, 1);
        CHECK_INT(res.attr[0].lookup, 0);
        /* A reply: the parent's record decides (worker), the earliest
         * mention is only the fallback. */
        CHECK(norm(ing, "{\"platform\":\"x\",\"post_id\":\"3\",\"parent_id\":\"1\","
                        "\"thread_id\":\"1\",\"author\":{\"id\":\"5\"},"
                        "\"text\":\"@lidlpolska a w @biedronka?\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK(res.attr[0].fixed == NULL);
        CHECK_INT(res.attr[0].lookup, 1);
        CHECK_STR(res.posts[0].brand, "lidl");
        CHECK_INT(res.attr[0].mention_cnt, 1);
        /* A reply naming no brand is kept for the lookup, brand open. */
        CHECK(norm(ing, "{\"platform\":\"x\",\"post_id\":\"4\",\"parent_id\":\"1\","
                        "\"author\":{\"id\":\"5\"},\"text\":\"still broken\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK_INT(res.post_cnt, 1);
        CHECK(res.posts[0].brand == NULL);
        CHECK_INT(res.attr[0].lookup, 1);
        /* ... but not a post that answers nothing. */
        CHECK(norm(ing, "{\"platform\":\"x\",\"post_id\":\"5\",\"author\":{\"id\":\"5\"},"
                        "\"text\":\"still broken\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == -1);
        CHECK_STR(res.error, "unknown_brand");
        /* X: a reply to a brand's own account (in_reply_to_user_id) is that
         * brand's, though it starts with another handle. */
        CHECK(norm(ing, "{\"data\":{\"id\":\"61\",\"text\":\"@biedronka @AppleSupport "
                        "again\",\"author_id\":\"5\",\"in_reply_to_user_id\":\"100\","
                        "\"conversation_id\":\"60\",\"referenced_tweets\":[{\"type\":"
                        "\"replied_to\",\"id\":\"60\"}],"
                        "\"created_at\":\"2026-11-19T07:40:00.000Z\"}}") == 0);
        CHECK_STR(res.posts[0].brand, "apple");
        CHECK(res.attr[0].fixed == sc_brands_find(b, "apple"));
        CHECK_INT(res.attr[0].lookup, 0);
        CHECK_INT(res.posts[0].is_brand, 0);
        /* Text only: the earliest mention, not the first brand listed. */
        CHECK(norm(ing, "{\"platform\":\"forum\",\"post_id\":\"7\",\"author\":{\"id\":"
                        "\"5\"},\"text\":\"Lidl or @biedronka or iPhone\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK_STR(res.posts[0].brand, "lidl");
        sc_ingest_destroy(ing);

        /* multi_brand all: every brand named, earliest first. */
        o.multi_brand_all = 1;
        ing = sc_ingest_new(b, &o);
        CHECK(norm(ing, "{\"platform\":\"forum\",\"post_id\":\"7\",\"author\":{\"id\":"
                        "\"5\"},\"text\":\"Lidl or @biedronka or iPhone\","
                        "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK_STR(res.posts[0].brand, "lidl");
        CHECK_INT(res.attr[0].mention_cnt, 3);
        CHECK_STR(res.attr[0].mentions[1].brand->id, "biedronka");
        CHECK_STR(res.attr[0].mentions[2].brand->id, "apple");
        /* a brand's own post is never copied to the brands it names */
        CHECK(norm(ing,
                   "{\"platform\":\"x\",\"post_id\":\"8\",\"author\":{\"id\":\"200\"},"
                   "\"text\":\"@biedronka @lidlpolska hi\","
                   "\"created_at\":\"2026-11-19T07:12:00Z\"}") == 0);
        CHECK_STR(res.posts[0].brand, "telko");
        CHECK_INT(res.attr[0].mention_cnt, 0);
        sc_ingest_destroy(ing);
}

int main(void)
{
        scan = sc_brands_scan_new();
        int tie_lidl = 0;
        /* Every rotation and a few shuffles of the deployment order. */
        static const size_t orders[][NB] = {
            {0, 1, 2, 3, 4}, {1, 2, 3, 4, 0}, {2, 3, 4, 0, 1}, {3, 4, 0, 1, 2},
            {4, 0, 1, 2, 3}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}, {1, 4, 0, 3, 2},
        };
        for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
                sc_brands_t *b = brands_in_order(orders[k]);
                check_matcher(b);
                CHECK_STR(first(b, "Promocja!"), promo_tie(b));
                tie_lidl += !strcmp(promo_tie(b), "lidl");
                check_normalizer(b);
                sc_brands_destroy(b);
        }
        /* The orders put either of the tied brands first. */
        CHECK(tie_lidl > 0 && tie_lidl < (int)(sizeof(orders) / sizeof(orders[0])));
        /* No brands at all. */
        sc_brands_t *none = sc_brands_new(NULL, NULL, 0);
        CHECK_STR(first(none, "@AppleSupport"), "-");
        sc_brands_destroy(none);
        sc_brands_scan_destroy(scan);
        sc_yaml_destroy(yaml);
        printf("attribution: %d checks passed\n", sc_test_checks);
        return 0;
}
