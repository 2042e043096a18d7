/* sc_lexicon: words, stems, phrases (with stems inside), folding, and the
 * shipped data files: every row loads, and the lookups the classifier relies
 * on (inflected Polish, no diacritics, elongation) hit. */
#include <stdio.h>
#include <stdlib.h>

#include "sc_lexicon.h"
#include "sc_test.h"

static sc_text_t *tx;

/* The best match at the first token of text, or NULL. */
static const char *best(const sc_lexicon_t *l, const char *text, size_t *tokens, float *v)
{
        static sc_lex_match_t m;
        int n = sc_text_tokenize(tx, text, strlen(text));
        size_t cnt;
        const sc_token_t *t = sc_text_tokens(tx, &cnt);
        if (n <= 0 || !sc_lexicon_match(l, t, cnt, 0, &m))
                return NULL;
        if (tokens)
                *tokens = m.tokens;
        if (v)
                *v = m.val->value;
        return m.term;
}

static size_t load_tsv(sc_lexicon_t *l, const char *path, int value_col)
{
        FILE *f = fopen(path, "r");
        CHECK(f);
        char line[1024], err[256];
        size_t rows = 0;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                char *cols[4] = {0};
                int nc = 0;
                for (char *save = NULL, *c = strtok_r(line, "\t", &save); c && nc < 4;
                     c = strtok_r(NULL, "\t", &save))
                        cols[nc++] = c;
                CHECK(nc > value_col);
                sc_lex_val_t v = {.value = strtof(cols[value_col], NULL)};
                if (sc_lexicon_add(l, cols[0], &v, err, sizeof(err))) {
                        fprintf(stderr, "%s: %s\n", path, err);
                        exit(1);
                }
                rows++;
        }
        fclose(f);
        return rows;
}

int main(void)
{
        char err[256];
        tx = sc_text_new(4096);
        sc_lexicon_t *l = sc_lexicon_new();
        sc_lex_val_t neg = {.value = -2}, pos = {.value = 2}, phr = {.value = -3};
        CHECK(sc_lexicon_add(l, "awari*", &neg, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "dziękuj*", &pos, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "dzięki", &pos, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "nie polecam", &phr, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "wypowiedzeni* umow*", &phr, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "dno i wodorosty", &phr, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "dno", &neg, err, sizeof(err)) == 0);
        CHECK(sc_lexicon_add(l, "   ", &neg, err, sizeof(err)) == -1);
        CHECK_INT(sc_lexicon_size(l), 7);

        size_t tk = 0;
        float v = 0;
        CHECK_STR(best(l, "AWARIA od rana", &tk, &v), "awari*");
        CHECK(tk == 1 && v == -2);
        CHECK_STR(best(l, "awarii", NULL, NULL), "awari*");
        CHECK_STR(best(l, "Dziękujemy!", NULL, NULL), "dziękuj*");
        CHECK_STR(best(l, "dziekuje", NULL, NULL), "dziękuj*");
        CHECK_STR(best(l, "dziękiii", NULL, NULL), "dzięki");
        CHECK(best(l, "dziek", NULL, NULL) == NULL);
        CHECK(best(l, "awar", NULL, NULL) == NULL);
        CHECK_STR(best(l, "NIE POLECAM nikomu", &tk, NULL), "nie polecam");
        CHECK_INT(tk, 2);
        CHECK(best(l, "nie wiem", NULL, NULL) == NULL);
        CHECK_STR(best(l, "wypowiedzenie umowy dziś", &tk, NULL), "wypowiedzeni* umow*");
        CHECK_INT(tk, 2);
        CHECK_STR(best(l, "dno i wodorosty", &tk, NULL), "dno i wodorosty");
        CHECK_INT(tk, 3);
        CHECK_STR(best(l, "dno i tyle", &tk, NULL), "dno");
        CHECK_INT(tk, 1);
        /* the frozen trie gives the same answers */
        CHECK(sc_lexicon_freeze(l) == 0);
        CHECK_STR(best(l, "awarii", NULL, NULL), "awari*");
        CHECK_STR(best(l, "dziękiii", NULL, NULL), "dzięki");
        CHECK(best(l, "dziek", NULL, NULL) == NULL);
        CHECK_STR(best(l, "wypowiedzenie umowy dziś", &tk, NULL), "wypowiedzeni* umow*");
        CHECK_INT(tk, 2);
        CHECK_STR(best(l, "dno i wodorosty", &tk, NULL), "dno i wodorosty");
        CHECK_INT(tk, 3);
        CHECK_STR(best(l, "dno i tyle", &tk, NULL), "dno");
        /* replacing keeps one entry */
        CHECK(sc_lexicon_add(l, "dno", &pos, err, sizeof(err)) == 0);
        CHECK_INT(sc_lexicon_size(l), 7);
        sc_lexicon_destroy(l);

        /* The shipped data: every row loads; the cases the data exists for. */
        sc_lexicon_t *pl = sc_lexicon_new(), *en = sc_lexicon_new(),
                     *emo = sc_lexicon_new();
        size_t n_pl =
            load_tsv(pl, SC_SOURCE_DIR "/services/classify/data/sentiment.pl.tsv", 1);
        size_t n_en =
            load_tsv(en, SC_SOURCE_DIR "/services/classify/data/sentiment.en.tsv", 1);
        size_t n_emo =
            load_tsv(emo, SC_SOURCE_DIR "/services/classify/data/emoji.tsv", 1);
        printf("loaded: %zu pl, %zu en, %zu emoji rows\n", n_pl, n_en, n_emo);
        CHECK(sc_lexicon_freeze(pl) == 0 && sc_lexicon_freeze(en) == 0 &&
              sc_lexicon_freeze(emo) == 0);
        CHECK(n_pl >= 400 && n_en >= 400 && n_emo >= 60);
        const char *pl_neg[] = {"masakra",      "masakryczna",   "porażka", "porazka",
                                "beznadziejny", "beznadziejnie", "żenada",  "zenujace",
                                "oszuści",      "oszusci"};
        for (size_t i = 0; i < sizeof(pl_neg) / sizeof(*pl_neg); i++) {
                v = 0;
                if (!best(pl, pl_neg[i], NULL, &v) || v >= 0) {
                        fprintf(stderr, "pl '%s' should be negative (%.1f)\n", pl_neg[i],
                                v);
                        exit(1);
                }
        }
        const char *pl_pos[] = {"polecam",    "świetna", "swietnie", "dziękuję",
                                "dziekujemy", "super",   "suuuper",  "rewelacyjny"};
        for (size_t i = 0; i < sizeof(pl_pos) / sizeof(*pl_pos); i++) {
                v = 0;
                if (!best(pl, pl_pos[i], NULL, &v) || v <= 0) {
                        fprintf(stderr, "pl '%s' should be positive (%.1f)\n", pl_pos[i],
                                v);
                        exit(1);
                }
        }
        CHECK(best(en, "terrible", NULL, &v) && v < 0);
        CHECK(best(en, "AWESOME", NULL, &v) && v > 0);
        CHECK(best(emo, "😡", NULL, &v) && v < 0);
        CHECK(best(emo, "👍🏽", NULL, &v) && v > 0);
        sc_lexicon_destroy(pl);
        sc_lexicon_destroy(en);
        sc_lexicon_destroy(emo);
        sc_lexicon_destroy(NULL);
        sc_text_destroy(tx);
        TEST_DONE();
}
