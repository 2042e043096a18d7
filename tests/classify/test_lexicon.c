/* sc_lexicon: words, stems, phrases (with stems inside), folding, and the
 * shipped data files: every row loads, and the lookups the classifier relies
 * on (inflected Polish, no diacritics, elongation) hit. sc_lexset answers
 * every token of many texts exactly as each of its lexicons does. */
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

/* Terms loaded, for texts made of them (sc_lexset's check). */
static char *terms[8192];
static size_t term_cnt;

static size_t load_col(sc_lexicon_t *l, const char *path, int term_col, int value_col)
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
                CHECK(nc > value_col && nc > term_col);
                sc_lex_val_t v = {.value = strtof(cols[value_col], NULL)};
                if (sc_lexicon_add(l, cols[term_col], &v, err, sizeof(err))) {
                        fprintf(stderr, "%s: %s\n", path, err);
                        exit(1);
                }
                if (term_cnt < sizeof(terms) / sizeof(*terms))
                        CHECK((terms[term_cnt++] = strdup(cols[term_col])));
                rows++;
        }
        fclose(f);
        return rows;
}

static size_t load_tsv(sc_lexicon_t *l, const char *path, int value_col)
{
        return load_col(l, path, 0, value_col);
}

/* Every token of text, every lexicon: the set's answer is the lexicon's. */
static size_t set_agrees(const sc_lexset_t *set, sc_lexicon_t *const *lex, size_t n,
                         const char *text)
{
        static sc_lexset_probe_t pr[4096];
        int c = sc_text_tokenize(tx, text, strlen(text));
        size_t cnt, hits = 0;
        const sc_token_t *t = sc_text_tokens(tx, &cnt);
        if (c <= 0)
                return 0;
        CHECK(cnt <= sizeof(pr) / sizeof(*pr));
        sc_lexset_probe(set, t, cnt, pr);
        for (size_t i = 0; i < cnt; i++)
                for (size_t k = 0; k < n; k++) {
                        sc_lex_match_t a = {0}, b = {0};
                        int ra = sc_lexicon_match(lex[k], t, cnt, i, &a);
                        int rb = sc_lexset_match(set, (unsigned)k, pr[i], t, cnt, i, &b);
                        if (ra != rb ||
                            (ra && (a.val != b.val || a.term != b.term ||
                                    a.tokens != b.tokens || a.stem != b.stem))) {
                                fprintf(stderr,
                                        "lexicon %zu, token %zu of '%s': lexicon %d '%s' "
                                        "%zu, set %d '%s' %zu\n",
                                        k, i, text, ra, ra ? a.term : "", a.tokens, rb,
                                        rb ? b.term : "", b.tokens);
                                exit(1);
                        }
                        hits += (size_t)ra;
                }
        return hits;
}

/* The shipped lexicons in one set, asked about the test posts and about
 * texts made of their own terms: inflected (a stem's longer words), cut
 * short (a path that is no term), run together (phrases across the terms
 * next to each other), shouted, elongated, as hashtags. */
static void check_set(void)
{
        static const char *const files[][3] = {
            {"sentiment.pl.tsv", "0", "1"}, {"sentiment.en.tsv", "0", "1"},
            {"modifiers.pl.tsv", "0", "2"}, {"modifiers.en.tsv", "0", "2"},
            {"intents.tsv", "2", "3"},      {"emoji.tsv", "0", "1"},
            {"langid.tsv", "0", "2"}};
        enum { FILES = sizeof(files) / sizeof(*files) };
        sc_lexicon_t *lex[FILES + 1];
        char path[1024], err[256], text[2048];
        for (size_t q = 0; q < term_cnt; q++) /* the earlier loads' */
                free(terms[q]);
        term_cnt = 0;
        for (size_t k = 0; k < FILES; k++) {
                CHECK((lex[k] = sc_lexicon_new()));
                snprintf(path, sizeof(path), "%s/services/classify/data/%s",
                         SC_SOURCE_DIR, files[k][0]);
                load_col(lex[k], path, atoi(files[k][1]), atoi(files[k][2]));
        }
        /* phrases that share words and stems with each other */
        CHECK((lex[FILES] = sc_lexicon_new()));
        static const char *const mine[] = {
            "nie",   "nie dzia*", "nie dziala", "nie dzia* internet*",
            "dzia*", "d*",        "internet",   "a b c d e f",
            "a b*",  "x* y* z*",  "ok",         "ok ok"};
        sc_lex_val_t v = {.value = 1};
        for (size_t q = 0; q < sizeof(mine) / sizeof(*mine); q++)
                CHECK(sc_lexicon_add(lex[FILES], mine[q], &v, err, sizeof(err)) == 0);
        for (size_t k = 0; k <= FILES; k++)
                CHECK(sc_lexicon_freeze(lex[k]) == 0);
        sc_lexset_t *set = sc_lexset_new(lex, FILES + 1, err, sizeof(err));
        CHECK(set);
        CHECK(sc_lexset_new(lex, SC_LEXSET_MAX + 1, err, sizeof(err)) == NULL);

        size_t hits = 0, texts = 0;
        FILE *f = fopen(SC_SOURCE_DIR "/tests/classify/posts.tsv", "r");
        CHECK(f);
        while (fgets(text, sizeof(text), f)) {
                text[strcspn(text, "\r\n")] = '\0';
                const char *body = strrchr(text, '\t');
                if (text[0] != '#' && body) {
                        hits += set_agrees(set, lex, FILES + 1, body + 1);
                        texts++;
                }
        }
        fclose(f);
        static const char *const made[] = {"%s",   "%sami",  "%.3s",       "%.5s",
                                           "%.*s", "%s %s",  "%s %s %s",   "#%s%s",
                                           "%s!!", "nie %s", "%s internet"};
        for (size_t q = 0; q < term_cnt; q++) {
                const char *a = terms[q], *b = terms[(q + 7) % term_cnt],
                           *c = terms[(q + 31) % term_cnt];
                char term[512];
                size_t tl = strlen(a);
                snprintf(term, sizeof(term), "%s", a);
                for (char *star; (star = strchr(term, '*'));)
                        memmove(star, star + 1, strlen(star));
                for (size_t m = 0; m < sizeof(made) / sizeof(*made); m++) {
                        if (m == 4)
                                snprintf(text, sizeof(text), made[m], (int)(tl / 2),
                                         term);
                        else
                                snprintf(text, sizeof(text), made[m], term, b, c);
                        hits += set_agrees(set, lex, FILES + 1, text);
                        texts++;
                }
                /* shouted and elongated */
                for (char *p = term; *p; p++)
                        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
                snprintf(text, sizeof(text), "%s%c%c %s", term, term[0], term[0], b);
                hits += set_agrees(set, lex, FILES + 1, text);
                texts++;
        }
        printf("lexset: %zu texts, %zu matches, all as the lexicons\n", texts, hits);
        CHECK(texts > 10000 && hits > 10000);
        sc_lexset_destroy(set);
        sc_lexset_destroy(NULL);
        for (size_t k = 0; k <= FILES; k++)
                sc_lexicon_destroy(lex[k]);
        for (size_t q = 0; q < term_cnt; q++)
                free(terms[q]);
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
        check_set();
        sc_text_destroy(tx);
        TEST_DONE();
}
