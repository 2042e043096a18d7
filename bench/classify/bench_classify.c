/* Classification alone (tokenize, language, rules, model features and
 * scores: everything classify does per post), per post,
 * on real-length Polish and English posts, then on adversarial inputs that
 * must stay linear: 10,000 emoji, 1 MB of "!", a 100 KB word. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_bench.h"
#include "sc_classify.h"

static const char *posts[] = {
    "@telko_pl trzeci dzień bez internetu, zgłoszenie nr 4471 i nikt nie oddzwania. "
    "Płacę "
    "za światłowód 1 Gb/s a mam zero. Jeśli do jutra nie naprawicie, zmieniam "
    "operatora!!! "
    "#awaria #NieDziałaInternet",
    "nie dziala mi internet od rana, router miga na czerwono, restart nic nie dal. co "
    "robic? dzwonilem na infolinie ale czekam juz 40 minut... masakra",
    "Great job guys 🙄 third outage this week and your support chat just says 'we are "
    "experiencing high volumes'. Seriously considering switching to another provider.",
    "Dziękuję za szybką pomoc w oddziale na Piotrkowskiej! Pani Ania wszystko wyjaśniła, "
    "karta odblokowana w 10 minut. Polecam @bankowo 👍👍",
    "My car broke down on the A4 near Katowice, does @autofix_pl do roadside assistance "
    "on "
    "Sundays? Need a tow asap, kids in the car, it's freezing 🥶",
    "Jedzenie w @burgerhub dobre, ale obsługa tragiczna: 45 minut czekania na "
    "zamówienie, "
    "zimne frytki i nikt nawet nie przeprosił. Nie polecam w weekendy.",
};

static void run(sc_classify_t *cl, const sc_classifier_t *c, const char *name,
                const char **texts, size_t n, long rounds)
{
        sc_classification_t r;
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++) /* warm up */
                sc_classify_text(cl, c, texts[i], strlen(texts[i]), NULL, &r, NULL);
        uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long k = 0; k < rounds; k++)
                for (size_t i = 0; i < n; i++) {
                        size_t len = strlen(texts[i]);
                        sc_classify_text(cl, c, texts[i], len, NULL, &r, NULL);
                        bytes += len;
                }
        uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report(name, (uint64_t)rounds * n, t1 - t0, a1 - a0);
        printf("(%.0f bytes/post)\n", (double)bytes / (double)(rounds * (long)n));
}

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
        char err[512];
        sc_classifier_t *c =
            sc_classifier_load(SC_SOURCE_DIR "/services/classify/data", err, sizeof(err));
        if (!c) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        /* the shipped model, as the worker runs it; "rules" as the second
         * argument measures the rule engine alone */
        if (!(argc > 2 && !strcmp(argv[2], "rules")) &&
            sc_classifier_load_model(c, SC_CLASSIFY_DEFAULT_MODEL, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        printf("classifier %s\n", sc_classifier_version(c));
        size_t big = 1 << 20;
        sc_classify_t *cl = sc_classify_new(big);
        run(cl, c, "classify real posts (pl+en)", posts, sizeof(posts) / sizeof(*posts),
            rounds);

        char *emoji = malloc(40001), *bang = malloc(big + 1), *word = malloc(102401);
        for (int i = 0; i < 10000; i++)
                memcpy(emoji + i * 4, "\xf0\x9f\x98\xa1", 4);
        emoji[40000] = '\0';
        memset(bang, '!', big);
        bang[big] = '\0';
        memset(word, 'a', 102400);
        word[102400] = '\0';
        const char *e[] = {emoji}, *b[] = {bang}, *w[] = {word};
        run(cl, c, "classify 10,000 emoji", e, 1, 20);
        run(cl, c, "classify 1 MB of '!'", b, 1, 20);
        run(cl, c, "classify a 100 KB word", w, 1, 20);
        free(emoji);
        free(bang);
        free(word);
        sc_classify_destroy(cl);
        sc_classifier_destroy(c);
        return 0;
}
