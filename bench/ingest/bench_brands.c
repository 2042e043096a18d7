/* The brand matcher alone (sc_brands_mentions): 76 brands, each with two
 * keywords and an own account (so "@handle"), against post-sized texts in
 * Polish and English with emoji, curly quotes and one to three mentions at
 * various places, or none. Prints ns/post for the earliest mention (what
 * multi_brand first needs) and for every mention (multi_brand all), and the
 * same texts four times longer (the cost must grow linearly). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_bench.h"
#include "sc_brands.h"
#include "sc_yaml.h"

#define BRANDS 76

static const char *const texts[] = {
    "Trzeci dzień bez internetu, to skandal, zmieniam operatora! 😡😡 Ile można "
    "czekać na technika?",
    "Dzięki @brand12_pl za szybką wymianę routera, działa super 👍",
    "@brand40_pl’s app keeps crashing since the update… anyone else? #fail",
    "W Żabce koło mnie znowu nie ma chleba, a @brand7_pl i @brand70_pl mają, "
    "serio?",
    "Is the store on Main St open late tonight? Starving 🍔🍔 asking for a friend",
    "„Promocja” w keyword33 to żart, cena wyższa niż u keyword65 — zgłaszam do "
    "UOKiK",
    "@brand75_pl @brand3_pl zablokowaliście mi kartę bez powodu, nikt nie odbiera "
    "infolinii!!!",
    "Ordered on Monday, still nothing. Tracking says delivered. It was not. "
    "Thanks for nothing.",
};
#define NT (sizeof(texts) / sizeof(texts[0]))

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
        static char doc[1 << 16];
        size_t dl = (size_t)snprintf(doc, sizeof(doc), "brands:\n");
        for (int i = 0; i < BRANDS; i++)
                dl += (size_t)snprintf(doc + dl, sizeof(doc) - dl,
                                       "  - id: brand%d\n"
                                       "    accounts: {x: [\"brand%d_pl\"]}\n"
                                       "    keywords: [\"keyword%d\", \"marka%d*\"]\n",
                                       i, i, i, i);
        char err[256];
        sc_yaml_t *y = sc_yaml_load_string(doc, dl, "bench", err, sizeof(err));
        sc_brands_t *b = y ? sc_brands_new(sc_yaml_root(y), err, sizeof(err)) : NULL;
        if (!b) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        static char longer[NT][2048];
        size_t lens[NT], llens[NT], bytes = 0;
        for (size_t i = 0; i < NT; i++) {
                lens[i] = strlen(texts[i]);
                bytes += lens[i];
                longer[i][0] = '\0';
                for (int k = 0; k < 4; k++) {
                        strcat(longer[i], texts[i]);
                        strcat(longer[i], " ");
                }
                llens[i] = strlen(longer[i]);
        }
        sc_brands_scan_t *s = sc_brands_scan_new();
        sc_brand_hit_t hits[8];
        size_t found = 0;
        static const struct {
                const char *name;
                size_t cap;
                int longer;
        } runs[] = {
            {"brands: earliest mention (multi_brand first)", 1, 0},
            {"brands: every mention (multi_brand all)", 8, 0},
            {"brands: every mention, texts 4x longer", 8, 1},
        };
        for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
                for (int pass = 0; pass < 2; pass++) {
                        uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
                        long posts = 0;
                        for (long k = 0; k < (pass ? rounds : 100); k++)
                                for (size_t i = 0; i < NT; i++, posts++)
                                        found += sc_brands_mentions(
                                            b, s, runs[r].longer ? longer[i] : texts[i],
                                            runs[r].longer ? llens[i] : lens[i], hits,
                                            runs[r].cap);
                        uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
                        if (pass)
                                sc_bench_report(runs[r].name, (uint64_t)posts, t1 - t0,
                                                a1 - a0);
                }
        }
        printf("(%d brands, %zu texts of %zu bytes on average; %zu hits)\n", BRANDS, NT,
               bytes / NT, found);
        sc_brands_scan_destroy(s);
        sc_brands_destroy(b);
        sc_yaml_destroy(y);
        return 0;
}
