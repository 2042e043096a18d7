/* classify tokenizer: ns/post and allocs/post on ~280-character Polish and
 * English care posts, then on the adversarial inputs (1 MB of "!", 10,000
 * emoji, a 100 KB word) that must stay linear. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_bench.h"
#include "sc_text.h"

static const char *const posts[] = {
    "@Telko_Pomoc od wczoraj NIE DZIAŁA mi internet, router miga na czerwono, "
    "restart nic nie daje. Dzwoniłem na infolinię 3 razy, czekałem 40 minut i "
    "nikt nie odebrał!!! Płacę 89,99 zł miesięcznie za to? #NieDziałaInternet "
    "https://telko.pl/status 😡😡",
    "Great job guys 🙄 my fibre has been down since 10:30 this morning and your "
    "status page says everything is fine. I work from home, this costs me real "
    "money. Can someone from @TelkoUK please DM me? Ticket #48213, paid $20 extra "
    "for the 'priority' line :/ #fail",
    "Dziękuję za szybką pomoc!! Pan Tomek z infolinii był suuuper, wszystko "
    "działa jak należy :) Polecam Telko każdemu, kto szuka stabilnego łącza "
    "👍🏽 "
    "Prędkość 300 Mb/s zgodna z umową, ping 12 ms. Tak trzymać! #dobraRobota "
    "www.telko.pl/opinie <3",
    "Zajeeebiste 'promocje' - obiecali 50 zł rabatu na 3 miesiące, a na fakturze "
    "dalej 120 PLN. Reklamację złożyłem 12.05, odpowiedzi brak. Czy ktoś tu w "
    "ogóle czyta wiadomości?! Rozważam przejście do konkurencji, bo to już "
    "przesada xD @Telko_Pomoc",
    "Switched to Telko last month and honestly couldn't be happier 😍 install "
    "took 20 minutes, the engineer was lovely and speeds are 3,5x what I had "
    "before. Only gripe: the app logs me out every day. Fix that and it's "
    "10/10 from me! 🇬🇧👨‍👩‍👧 #happycustomer :-)",
    "ZNOWU BRAK ZASIĘGU W CENTRUM KRAKOWA!!! Trzeci raz w tym tygodniu. Jak "
    "mam pracować bez telefonu? Zapłaciłem 20€ za roaming w zeszłym miesiącu i "
    "tam przynajmniej działało. Oddajcie kasę albo naprawcie maszty 🤬🤬🤬 "
    "#TelkoFail https://downdetector.pl/telko",
};

/* Runs text through t `rounds` times after a warm-up and prints one report. */
static void bench(sc_text_t *t, const char *name, const char *const *texts, size_t n,
                  long rounds)
{
        size_t lens[16], tokens = 0, bytes = 0;
        for (size_t i = 0; i < n; i++)
                bytes += lens[i] = strlen(texts[i]);
        /* Warm up: the token array, arena and utf8proc buffer reach size. */
        for (size_t i = 0; i < n; i++)
                sc_text_tokenize(t, texts[i], lens[i]);
        uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long r = 0; r < rounds; r++)
                for (size_t i = 0; i < n; i++) {
                        int c = sc_text_tokenize(t, texts[i], lens[i]);
                        if (c < 0) {
                                fprintf(stderr, "%s: input %zu rejected\n", name, i);
                                exit(1);
                        }
                        tokens += (size_t)c;
                }
        uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report(name, (uint64_t)rounds * n, t1 - t0, a1 - a0);
        printf("(%zu tokens/post, %zu bytes/post)\n", tokens / ((size_t)rounds * n),
               bytes / n);
}

static char *repeat(const char *unit, size_t reps)
{
        size_t ul = strlen(unit);
        char *s = malloc(ul * reps + 1);
        if (!s)
                exit(1);
        for (size_t i = 0; i < reps; i++)
                memcpy(s + i * ul, unit, ul);
        s[ul * reps] = 0;
        return s;
}

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
        size_t n = sizeof(posts) / sizeof(posts[0]);
        size_t bytes = 0;
        for (size_t i = 0; i < n; i++)
                bytes += strlen(posts[i]);
        sc_text_t *t = sc_text_new(4 << 20);
        if (!t)
                return 1;
        printf("(%zu posts, %zu bytes on average)\n", n, bytes / n);
        bench(t, "classify tokenize 280-char posts", posts, n, rounds);

        char *bang = repeat("!", 1 << 20), *emoji = repeat("😀", 10000),
             *word = repeat("a", 100 * 1024);
        const char *one[1];
        one[0] = bang;
        bench(t, "classify tokenize 1 MB of '!'", one, 1, 20);
        one[0] = emoji;
        bench(t, "classify tokenize 10,000 emoji", one, 1, 20);
        one[0] = word;
        bench(t, "classify tokenize 100 KB word", one, 1, 20);
        free(bang);
        free(emoji);
        free(word);
        sc_text_destroy(t);
        return 0;
}
