/* Tokenizer outcomes on Polish and English posts, plus the adversarial
 * inputs the classify worker must survive in linear time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_text.h"
#include "../sc_test.h"

static sc_text_t *tx;
static const sc_token_t *tk;
static size_t cnt;

/* Tokenizes s and prints the tokens when the count is not the expected one,
 * so a failure shows what the tokenizer made of the text. */
static int run(const char *s)
{
        int r = sc_text_tokenize(tx, s, strlen(s));
        tk = sc_text_tokens(tx, &cnt);
        CHECK_INT(r, r < 0 ? -1 : (int)cnt);
        return r;
}

static void dump(void)
{
        for (size_t i = 0; i < cnt; i++)
                fprintf(stderr, "  [%zu] %s '%.*s' norm '%s' fold '%s' rep %u flags %x\n",
                        i, sc_tok_type_name(tk[i].type), (int)tk[i].len, tk[i].text,
                        tk[i].norm, tk[i].fold, tk[i].repeat, tk[i].flags);
}

static void expect(const char *s, int n)
{
        int r = run(s);
        if (r != n) {
                fprintf(stderr, "\"%s\": %d tokens, want %d\n", s, r, n);
                dump();
        }
        CHECK_INT(r, n);
}

/* The whole input is one token of this type with this fold. */
static const sc_token_t *one(const char *s, int type, const char *fold)
{
        expect(s, 1);
        CHECK_STR(sc_tok_type_name(tk[0].type), sc_tok_type_name(type));
        CHECK(tk[0].text == s);
        CHECK_INT(tk[0].len, strlen(s));
        CHECK_STR(tk[0].fold, fold);
        CHECK_INT(strlen(tk[0].fold), tk[0].fold_len);
        CHECK_INT(strlen(tk[0].norm), tk[0].norm_len);
        return &tk[0];
}

static void check_tok(size_t i, int type, const char *text, const char *norm,
                      const char *fold)
{
        CHECK(i < cnt);
        CHECK_STR(sc_tok_type_name(tk[i].type), sc_tok_type_name(type));
        char buf[256];
        snprintf(buf, sizeof(buf), "%.*s", (int)tk[i].len, tk[i].text);
        CHECK_STR(buf, text);
        if (norm)
                CHECK_STR(tk[i].norm, norm);
        if (fold)
                CHECK_STR(tk[i].fold, fold);
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_words(void)
{
        static const char *w[] = {"nie", "dziala", "mi", "internet", "od", "rana"};
        expect("nie dziala mi internet od rana", 6);
        for (int i = 0; i < 6; i++) {
                check_tok((size_t)i, SC_TOK_WORD, w[i], w[i], w[i]);
                CHECK_INT(tk[i].flags, 0);
        }
        CHECK(tk[1].fold == tk[1].norm); /* unchanged keys share the norm */
        CHECK_INT(sc_text_flags(tx), 0);

        /* One lexicon key for every way of writing it. */
        one("dziala", SC_TOK_WORD, "dziala");
        CHECK_STR(one("działa", SC_TOK_WORD, "dziala")->norm, "działa");
        CHECK(tk[0].flags & SC_TOKF_PL_DIACRITIC);
        CHECK(sc_text_flags(tx) & SC_TEXT_PL_DIACRITICS);
        CHECK_STR(one("DZIAŁA", SC_TOK_WORD, "dziala")->norm, "działa");
        CHECK(tk[0].flags & SC_TOKF_ALLCAPS);
        CHECK_STR(one("działaaa", SC_TOK_WORD, "dziala")->norm, "działaaa");
        CHECK(tk[0].flags & SC_TOKF_ELONGATED);
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_ELONGATED);
        CHECK(!(tk[0].flags & SC_TOKF_ALLCAPS));
        one("Działa", SC_TOK_WORD, "dziala");
        CHECK(!(tk[0].flags & SC_TOKF_ALLCAPS));
        one("suuuper", SC_TOK_WORD, "super");
        one("nooo", SC_TOK_WORD, "no");
        one("zajeeebiste", SC_TOK_WORD, "zajebiste");
        one("cool", SC_TOK_WORD, "cool"); /* a double letter is spelling */
        CHECK(!(tk[0].flags & SC_TOKF_ELONGATED));
        one("ZAŻÓŁĆ", SC_TOK_WORD, "zazolc");
        CHECK_STR(tk[0].norm, "zażółć");
        one("gęślą", SC_TOK_WORD, "gesla");
        one("JAŹŃ", SC_TOK_WORD, "jazn");
        one("Straße", SC_TOK_WORD, "strasse"); /* full case folding, not tolower */
        one("don't", SC_TOK_WORD, "don't");
        one("don’t", SC_TOK_WORD, "don't");
        one("wi-fi", SC_TOK_WORD, "wi-fi");
        one("5G", SC_TOK_WORD, "5g");
        one("covid19", SC_TOK_WORD, "covid19");
        one("OK", SC_TOK_WORD, "ok");
        CHECK(tk[0].flags & SC_TOKF_ALLCAPS);
        one("A", SC_TOK_WORD, "a");
        CHECK(!(tk[0].flags & SC_TOKF_ALLCAPS));

        /* NFC: a combining ogonek / acute typed separately composes. */
        CHECK_STR(one("sa\xcc\xa8", SC_TOK_WORD, "sa")->norm, "s\xc4\x85");
        CHECK_STR(one("ZA\xcc\xa8", SC_TOK_WORD, "za")->norm, "z\xc4\x85");
        CHECK(tk[0].flags & SC_TOKF_ALLCAPS);
        CHECK_STR(one("zo\xcc\x81\xc5\x82w", SC_TOK_WORD, "zolw")->norm, "zółw");
}

static void test_punct(void)
{
        expect("ZAJEBIŚCIE!!!", 2);
        check_tok(0, SC_TOK_WORD, "ZAJEBIŚCIE", "zajebiście", "zajebiscie");
        CHECK(tk[0].flags & SC_TOKF_ALLCAPS);
        check_tok(1, SC_TOK_PUNCT, "!!!", "!!!", "!");
        CHECK_INT(tk[1].repeat, 3);
        CHECK(sc_text_flags(tx) & SC_TEXT_SHOUTING);
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_ALLCAPS);

        one("?!?!", SC_TOK_PUNCT, "?!");
        CHECK_INT(tk[0].repeat, 4);
        one("!", SC_TOK_PUNCT, "!");
        CHECK_INT(tk[0].repeat, 1);
        one("...", SC_TOK_PUNCT, ".");
        CHECK_INT(tk[0].repeat, 3);
        expect("Serio?! Nie.", 4);
        check_tok(1, SC_TOK_PUNCT, "?!", NULL, "?!");
        CHECK_INT(tk[1].repeat, 2);
        check_tok(3, SC_TOK_PUNCT, ".", NULL, ".");
        CHECK(!(sc_text_flags(tx) & SC_TEXT_SHOUTING));
}

static void test_emoji(void)
{
        expect("Great job guys 🙄", 4);
        check_tok(0, SC_TOK_WORD, "Great", "great", "great");
        check_tok(3, SC_TOK_EMOJI, "🙄", "🙄", "🙄");
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_EMOJI);

        one("👍🏽", SC_TOK_EMOJI, "👍"); /* skin tone dropped from the key */
        CHECK_STR(tk[0].norm, "👍🏽");
        one("👨‍👩‍👧", SC_TOK_EMOJI, "👨‍👩‍👧");
        CHECK_INT(tk[0].len, 18);
        one("🇵🇱", SC_TOK_EMOJI, "🇵🇱");
        one("❤️", SC_TOK_EMOJI, "❤");
        one("1️⃣", SC_TOK_EMOJI, "1⃣");
        one("🏳️‍🌈", SC_TOK_EMOJI, "🏳‍🌈");
        expect("🇵🇱🇩🇪", 2);
        check_tok(0, SC_TOK_EMOJI, "🇵🇱", NULL, NULL);
        check_tok(1, SC_TOK_EMOJI, "🇩🇪", NULL, NULL);
        expect("😡😡😡", 3);
        expect("super👍", 2);
        check_tok(1, SC_TOK_EMOJI, "👍", NULL, NULL);
        /* © and ™ in running text are symbols, not emoji. */
        expect("Telko™", 2);
        check_tok(1, SC_TOK_PUNCT, "™", NULL, NULL);
}

static void test_hashtag_mention(void)
{
        const sc_token_t *k =
            one("#NieDziałaInternet", SC_TOK_HASHTAG, "#niedzialainternet");
        CHECK_STR(k->norm, "#niedziałainternet");
        CHECK_INT(k->part_cnt, 3);
        CHECK_STR(k->part[0], "nie");
        CHECK_STR(k->part[1], "dziala");
        CHECK_STR(k->part[2], "internet");
        CHECK_INT(k->part_len[1], 6);
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_HASHTAG);

        k = one("#awaria", SC_TOK_HASHTAG, "#awaria");
        CHECK_INT(k->part_cnt, 1);
        CHECK_STR(k->part[0], "awaria");
        k = one("#TELKOFail", SC_TOK_HASHTAG, "#telkofail");
        CHECK_INT(k->part_cnt, 2);
        CHECK_STR(k->part[0], "telko");
        CHECK_STR(k->part[1], "fail");
        k = one("#iPhone15Pro", SC_TOK_HASHTAG, "#iphone15pro");
        CHECK_INT(k->part_cnt, 4);
        CHECK_STR(k->part[2], "15");
        CHECK_STR(k->part[3], "pro");
        k = one("#SuuuperObsługa", SC_TOK_HASHTAG, "#superobsluga");
        CHECK_STR(k->part[0], "super");
        CHECK_STR(k->part[1], "obsluga");
        k = one("#a_b_c_d_e", SC_TOK_HASHTAG, "#a_b_c_d_e");
        CHECK_INT(k->part_cnt, 4);
        CHECK_STR(k->part[3], "d");
        CHECK(k->flags & SC_TOKF_PARTS_TRUNC);
        expect("#1", 2); /* a rank, not a hashtag */
        check_tok(0, SC_TOK_PUNCT, "#", NULL, NULL);
        check_tok(1, SC_TOK_NUMBER, "1", NULL, NULL);

        expect("@Telko_Pomoc dzięki", 2);
        check_tok(0, SC_TOK_MENTION, "@Telko_Pomoc", "@telko_pomoc", "@telko_pomoc");
        check_tok(1, SC_TOK_WORD, "dzięki", "dzięki", "dzieki");
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_MENTION);
        one("@telko.polska", SC_TOK_MENTION, "@telko.polska");
        one("@Mooonika", SC_TOK_MENTION, "@mooonika"); /* handles are not squeezed */
        expect("jan@telko.pl", 5);                     /* an address, not a mention */
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_MENTION));
}

static void test_url(void)
{
        const sc_token_t *k = one("https://telko.pl/a?b=1", SC_TOK_URL, "telko.pl");
        CHECK_STR(k->norm, "https://telko.pl/a?b=1");
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_URL);
        k = one("HTTP://WWW.Telko.PL/Oferta?ID=7", SC_TOK_URL, "telko.pl");
        CHECK_STR(k->norm,
                  "http://www.telko.pl/Oferta?ID=7"); /* the path keeps its case */
        one("www.telko.pl", SC_TOK_URL, "telko.pl");
        one("https://pl.wikipedia.org/wiki/Łódź", SC_TOK_URL, "pl.wikipedia.org");
        one("https://telko.pl:8443/x", SC_TOK_URL, "telko.pl");

        expect("Zobacz https://telko.pl/a?b=1. Nie działa:(", 6);
        check_tok(1, SC_TOK_URL, "https://telko.pl/a?b=1", NULL, NULL);
        check_tok(2, SC_TOK_PUNCT, ".", NULL, NULL);
        check_tok(5, SC_TOK_EMOTICON, ":(", NULL, ":(");
        expect("(https://pl.wikipedia.org/wiki/Foo_(bar))", 3);
        check_tok(1, SC_TOK_URL, "https://pl.wikipedia.org/wiki/Foo_(bar)", NULL, NULL);
        expect("link:https://t.co/x👍", 4);
        check_tok(2, SC_TOK_URL, "https://t.co/x", NULL, "t.co");
        check_tok(3, SC_TOK_EMOJI, "👍", NULL, NULL);
        /* A bare scheme is no URL, and its ":/" is no face. */
        expect("http://", 3);
        CHECK(!(sc_text_flags(tx) & (SC_TEXT_HAS_URL | SC_TEXT_HAS_EMOTICON)));
        expect("wwwtelko", 1);
}

static void test_numbers(void)
{
        one("50 zł", SC_TOK_AMOUNT, "50 zl");
        CHECK_STR(tk[0].norm, "50 zł");
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_AMOUNT);
        one("$20", SC_TOK_AMOUNT, "$20");
        one("100 PLN", SC_TOK_AMOUNT, "100 pln");
        one("20€", SC_TOK_AMOUNT, "20€");
        one("20 €", SC_TOK_AMOUNT, "20 €");
        one("€9,99", SC_TOK_AMOUNT, "€9,99");
        one("50zł", SC_TOK_AMOUNT, "50zl");
        one("1.299,99 ZŁ", SC_TOK_AMOUNT, "1.299,99 zl");
        one("120\xc2\xa0złotych", SC_TOK_AMOUNT, "120\xc2\xa0zlotych"); /* NBSP */
        one("£5", SC_TOK_AMOUNT, "£5");
        one("49 USD", SC_TOK_AMOUNT, "49 usd");
        expect("50 złoty?", 2);
        check_tok(0, SC_TOK_AMOUNT, "50 złoty", NULL, "50 zloty");
        expect("50 zlotówek", 2); /* no currency word: a number and a word */
        check_tok(0, SC_TOK_NUMBER, "50", NULL, NULL);
        expect("$ 20", 2);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_AMOUNT));

        one("10:30", SC_TOK_NUMBER, "10:30");
        one("3,5", SC_TOK_NUMBER, "3,5");
        one("3.5", SC_TOK_NUMBER, "3.5");
        one("1000", SC_TOK_NUMBER, "1000"); /* digits are never squeezed */
        one("12.05.2024", SC_TOK_NUMBER, "12.05.2024");
        expect("od 10:30 do 12, potem 3,5 godz.", 9);
        check_tok(1, SC_TOK_NUMBER, "10:30", NULL, NULL);
        check_tok(3, SC_TOK_NUMBER, "12", NULL, NULL);
        check_tok(4, SC_TOK_PUNCT, ",", NULL, NULL);
        check_tok(6, SC_TOK_NUMBER, "3,5", NULL, NULL);
        check_tok(8, SC_TOK_PUNCT, ".", NULL, NULL);
        expect("3,5kg", 2);
        check_tok(0, SC_TOK_NUMBER, "3,5", NULL, NULL);
        check_tok(1, SC_TOK_WORD, "kg", NULL, NULL);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_EMOTICON));
}

static void test_emoticons(void)
{
        static const struct {
                const char *s, *fold;
                unsigned rep;
        } e[] = {
            {":)", ":)", 1},   {":-)", ":)", 1},  {":(", ":(", 1},  {":-(", ":(", 1},
            {":/", ":/", 1},   {";)", ";)", 1},   {";-)", ";)", 1}, {":D", ":d", 1},
            {":-D", ":d", 1},  {"xD", "xd", 1},   {"XD", "xd", 1},  {"xDDD", "xd", 3},
            {"<3", "<3", 1},   {":P", ":p", 1},   {":p", ":p", 1},  {":)))", ":)", 3},
            {":((", ":(", 2},  {":'(", ":'(", 1}, {"^^", "^^", 1},  {"^_^", "^_^", 1},
            {"-_-", "-_-", 1}, {"</3", "</3", 1}, {"=)", "=)", 1},  {":*", ":*", 1},
        };
        for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
                one(e[i].s, SC_TOK_EMOTICON, e[i].fold);
                CHECK_INT(tk[0].repeat, e[i].rep);
        }
        CHECK(sc_text_flags(tx) & SC_TEXT_HAS_EMOTICON);
        expect("dzięki:)", 2);
        check_tok(1, SC_TOK_EMOTICON, ":)", NULL, NULL);
        expect("Great job guys :-) <3", 5);
        check_tok(3, SC_TOK_EMOTICON, ":-)", ":-)", ":)");
        check_tok(4, SC_TOK_EMOTICON, "<3", NULL, NULL);
        /* Not faces: a colon before a word, a time, a heart that is a comparison. */
        expect("Uwaga:Przelew", 3);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_EMOTICON));
        expect("x<30", 3);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_EMOTICON));
        expect("2:1", 1);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_EMOTICON));
        expect("maxDane", 1);
        expect("boxD", 1);
        expect("xDane", 1);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_HAS_EMOTICON));
}

static void test_post(void)
{
        const char *s = "@Telko_Pomoc znowu NIE DZIAŁA internet!!! 😡😡 #awaria "
                        "https://telko.pl/status, zapłaciłem 120 zł :( wtf??";
        static const int want[] = {
            SC_TOK_MENTION, SC_TOK_WORD,     SC_TOK_WORD,  SC_TOK_WORD,
            SC_TOK_WORD,    SC_TOK_PUNCT,    SC_TOK_EMOJI, SC_TOK_EMOJI,
            SC_TOK_HASHTAG, SC_TOK_URL,      SC_TOK_PUNCT, SC_TOK_WORD,
            SC_TOK_AMOUNT,  SC_TOK_EMOTICON, SC_TOK_WORD,  SC_TOK_PUNCT,
        };
        int n = (int)(sizeof(want) / sizeof(want[0]));
        expect(s, n);
        for (int i = 0; i < n; i++)
                CHECK_STR(sc_tok_type_name(tk[i].type), sc_tok_type_name(want[i]));
        CHECK(tk[2].flags & SC_TOKF_ALLCAPS);
        CHECK_STR(tk[3].fold, "dziala");
        CHECK_STR(tk[11].fold, "zaplacilem");
        CHECK_INT(tk[15].repeat, 2);
        /* text points into the caller's input */
        CHECK(tk[9].text == strstr(s, "https://"));
        unsigned want_f = SC_TEXT_HAS_URL | SC_TEXT_HAS_MENTION | SC_TEXT_HAS_HASHTAG |
                          SC_TEXT_HAS_EMOJI | SC_TEXT_HAS_EMOTICON | SC_TEXT_HAS_AMOUNT |
                          SC_TEXT_HAS_ALLCAPS | SC_TEXT_PL_DIACRITICS;
        CHECK_INT(sc_text_flags(tx), want_f);

        /* Whitespace of every kind separates; empty input has no tokens. */
        expect(" \t\n\xc2\xa0\xe2\x80\x8b ", 0);
        expect("", 0);
        CHECK_INT(sc_text_tokenize(tx, NULL, 0), 0);
}

static void test_invalid_and_cap(void)
{
        static const char *bad[] = {
            "\xff", "abc \xc3", "\xc0\xaf", "\xed\xa0\x80", "ok \xf4\x90\x80\x80",
            "\x80"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                CHECK_INT(run(bad[i]), -1);
                CHECK_INT(cnt, 0);
                CHECK(sc_text_flags(tx) & SC_TEXT_INVALID);
        }
        /* After a failure the tokenizer is fine. */
        expect("dalej działa", 2);
        CHECK(!(sc_text_flags(tx) & SC_TEXT_INVALID));

        /* "abcdź": the cap of 5 bytes falls inside ź, which is left out whole. */
        sc_text_t *c = sc_text_new(5);
        CHECK(c != NULL);
        const char *s = "abcd\xc5\xba";
        CHECK_INT(sc_text_tokenize(c, s, strlen(s)), 1);
        const sc_token_t *k = sc_text_tokens(c, &cnt);
        CHECK_INT(k[0].len, 4);
        CHECK_STR(k[0].norm, "abcd");
        CHECK(sc_text_flags(c) & SC_TEXT_TRUNCATED);
        /* Bytes beyond the cap are not even looked at. */
        CHECK_INT(sc_text_tokenize(c, "ab cd\xff\xff", 7), 2);
        CHECK(sc_text_flags(c) & SC_TEXT_TRUNCATED);
        CHECK_INT(sc_text_tokenize(c, "ab cd", 5), 2);
        CHECK(!(sc_text_flags(c) & SC_TEXT_TRUNCATED));
        /* A cap inside an emoji's bytes drops the whole code point. */
        CHECK_INT(sc_text_tokenize(c, "ab 😀", 7), 1);
        sc_text_destroy(c);
        sc_text_destroy(NULL);
        CHECK(sc_text_new(0) == NULL);
}

/* Seconds to tokenize `reps` copies of unit, checking the token count. */
static double timed(sc_text_t *t, const char *unit, size_t reps, int want)
{
        size_t ul = strlen(unit), n = ul * reps;
        char *s = malloc(n + 1);
        CHECK(s != NULL);
        for (size_t i = 0; i < reps; i++)
                memcpy(s + i * ul, unit, ul);
        s[n] = 0;
        double t0 = now_s();
        int r = sc_text_tokenize(t, s, n);
        double t1 = now_s();
        CHECK_INT(r, want);
        free(s);
        return t1 - t0;
}

static void test_adversarial(void)
{
        sc_text_t *big = sc_text_new(4 << 20);
        CHECK(big != NULL);
        /* 1 MB of "!" is one token. */
        double t1 = timed(big, "!", 1 << 20, 1);
        const sc_token_t *k = sc_text_tokens(big, &cnt);
        CHECK_INT(k[0].repeat, 1 << 20);
        CHECK_STR(k[0].fold, "!");
        double t0 = timed(big, "!", 1 << 17, 1);
        /* Linear: 8x the input must not cost anywhere near 64x. */
        CHECK(t1 < 24 * t0 + 0.05);

        /* 10,000 emoji: one token each. */
        t1 = timed(big, "😀", 10000, 10000);
        k = sc_text_tokens(big, &cnt);
        CHECK_INT(k[9999].len, 4);
        CHECK_STR(k[9999].fold, "😀");
        t0 = timed(big, "😀", 1250, 1250);
        CHECK(t1 < 24 * t0 + 0.05);
        /* With skin tones and ZWJ families, still one token per grapheme. */
        timed(big, "👍🏽👨‍👩‍👧", 5000, 10000);

        /* A 100 KB word, ASCII and Polish: one token squeezed to one letter. */
        t1 = timed(big, "a", 100000, 1);
        k = sc_text_tokens(big, &cnt);
        CHECK_STR(k[0].fold, "a");
        CHECK_INT(k[0].norm_len, 100000);
        CHECK(k[0].flags & SC_TOKF_ELONGATED);
        t0 = timed(big, "a", 12500, 1);
        CHECK(t1 < 24 * t0 + 0.05);
        timed(big, "ą", 50000, 1);
        k = sc_text_tokens(big, &cnt);
        CHECK_STR(k[0].fold, "a");
        /* Combining marks force the utf8proc path: still one linear token. */
        timed(big, "a\xcc\xa8", 33000, 1);
        k = sc_text_tokens(big, &cnt);
        CHECK_STR(k[0].fold, "a");
        CHECK_INT(k[0].norm_len, 66000);
        /* Many short tokens: "a " * 500k. */
        timed(big, "a ", 500000, 500000);
        timed(big, "#aB ", 100000, 100000);
        timed(big, ":)", 100000, 100000); /* ":):):)..." */

        /* Over the cap: processed up to it. */
        sc_text_t *small = sc_text_new(1000);
        timed(small, "😀", 10000, 250);
        CHECK(sc_text_flags(small) & SC_TEXT_TRUNCATED);
        sc_text_destroy(small);
        sc_text_destroy(big);
}

int main(void)
{
        tx = sc_text_new(4096);
        CHECK(tx != NULL);
        test_words();
        test_punct();
        test_emoji();
        test_hashtag_mention();
        test_url();
        test_numbers();
        test_emoticons();
        test_post();
        test_invalid_and_cap();
        test_adversarial();
        sc_text_destroy(tx);
        TEST_DONE();
}
