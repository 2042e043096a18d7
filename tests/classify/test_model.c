/* The shipped model: it loads, it is the one MODEL.md describes (its
 * classifier_version), it classifies the fixed posts of model_posts.txt as
 * model_golden.tsv recorded, and the behaviour the team relies on holds
 * with it (negation, the seed scenarios' purchase intent, crisis, irony).
 * A damaged model file is refused and the loaded one kept.
 *
 * After retraining: SC_GOLDEN_WRITE=1 test_model rewrites the golden file
 * (review the diff, and update the version in MODEL.md). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sc_classify.h"
#include "classify_run.h"
#include "sc_test.h"

#define SRC        SC_SOURCE_DIR "/tests/classify/"
#define MODEL_CARD SC_SOURCE_DIR "/services/classify/MODEL.md"

static void intents_str(unsigned mask, char *out, size_t size)
{
        out[0] = '\0';
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if (mask & (1u << k)) {
                        size_t len = strlen(out);
                        snprintf(out + len, size - len, "%s%s", len ? "," : "",
                                 sc_intent_name(k));
                }
        if (!out[0])
                snprintf(out, size, "-");
}

/* Compares (or with SC_GOLDEN_WRITE rewrites) the golden file. */
static void golden(void)
{
        FILE *in = fopen(SRC "model_posts.txt", "r");
        CHECK(in != NULL);
        if (!in)
                return;
        int write = getenv("SC_GOLDEN_WRITE") != NULL;
        FILE *g = fopen(SRC "model_golden.tsv", write ? "w" : "r");
        CHECK(g != NULL);
        if (!g) {
                fclose(in);
                return;
        }
        if (write)
                fprintf(g,
                        "# what %s says of model_posts.txt: lang<TAB>sentiment<TAB>"
                        "intents<TAB>text\n",
                        sc_classifier_version(cls));
        char line[2048], want[4096];
        int n = 0, bad = 0;
        while (fgets(line, sizeof(line), in)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                run(line);
                char intents[256], got[4096];
                intents_str(r.intent_mask, intents, sizeof(intents));
                snprintf(got, sizeof(got), "%s\t%s\t%s\t%s", r.lang, r.label, intents,
                         line);
                n++;
                if (write) {
                        fprintf(g, "%s\n", got);
                        continue;
                }
                do {
                        if (!fgets(want, sizeof(want), g)) {
                                want[0] = '\0';
                                break;
                        }
                        want[strcspn(want, "\r\n")] = '\0';
                } while (want[0] == '#');
                if (strcmp(want, got)) {
                        printf("golden: want '%s'\n        got  '%s'\n", want, got);
                        bad++;
                }
        }
        printf("golden: %d posts %s, %d differ\n", n, write ? "written" : "read", bad);
        CHECK(bad == 0);
        CHECK(n >= 20);
        fclose(in);
        fclose(g);
}

int main(void)
{
        char err[512];
        cls =
            sc_classifier_load(SC_SOURCE_DIR "/services/classify/data", err, sizeof(err));
        if (!cls) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        CHECK_STR(sc_classifier_version(cls), SC_CLASSIFIER_VERSION);
        if (sc_classifier_load_model(cls, SC_CLASSIFY_DEFAULT_MODEL, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        const char *version = sc_classifier_version(cls);
        printf("%s\n", sc_classifier_summary(cls));
        CHECK(!strncmp(version, "sc-lin-1+", 9) && strlen(version) == 17);

        /* the model card names this model */
        FILE *card = fopen(MODEL_CARD, "r");
        CHECK(card != NULL);
        char line[512], want[64];
        int named = 0;
        snprintf(want, sizeof(want), "classifier_version: `%s`", version);
        while (card && fgets(line, sizeof(line), card))
                named |= strstr(line, want) != NULL;
        if (card)
                fclose(card);
        if (!named)
                printf("MODEL.md does not state %s\n", want);
        cl = sc_classify_new(4096);
        golden();
        CHECK(named || getenv("SC_GOLDEN_WRITE"));

        /* behaviour that holds with the model */
        CHECK_STR(run("polecam")->label, "positive");
        CHECK_STR(run("nie polecam")->label, "negative");
        CHECK_STR(run("good")->label, "positive");
        CHECK_STR(run("not good")->label, "negative");
        CHECK_STR(run("nie dziala mi internet od rana")->label, "negative");
        CHECK(has("nie dziala mi internet od rana", SC_INTENT_COMPLAINT));
        CHECK(!has("Dzięki, działa super", SC_INTENT_COMPLAINT));
        CHECK(has("Dzięki, działa super", SC_INTENT_PRAISE));
        /* the seed scenarios: hungry, broken-down car: purchase intent */
        CHECK(has("jestem głodny, gdzie najbliższy burger?", SC_INTENT_PURCHASE));
        CHECK(has("zepsuł mi się samochód, gdzie jest najbliższy warsztat?",
                  SC_INTENT_PURCHASE));
        CHECK(has("my car broke down on the highway, need a tow", SC_INTENT_PURCHASE));
        /* crisis */
        CHECK(has("food poisoning after your burger, my kid is in hospital",
                  SC_INTENT_CRISIS));
        CHECK(has("wyciek danych klientów?!", SC_INTENT_CRISIS));
        /* irony markers, complaints without a sentiment word */
        CHECK_STR(run("Great job guys 🙄")->label, "negative");
        CHECK(!has("Great job guys 🙄", SC_INTENT_PRAISE));
        CHECK(has("aplikacja zawiesza się przy każdym przelewie", SC_INTENT_COMPLAINT));
        /* the support sets' complaint words in clear praise: the complaint
         * is withheld, and explain says why; irony and a negative term keep
         * it */
        static const char praise[] =
            "Love the new @bankowo app update, BLIK payments are instant now. Well done!";
        CHECK(!has(praise, SC_INTENT_COMPLAINT) && has(praise, SC_INTENT_PRAISE));
        CHECK(
            has("Great job @telko_pl, third outage this week 🙄", SC_INTENT_COMPLAINT));
        CHECK(has("the courier threw the parcel over the fence, phone screen cracked",
                  SC_INTENT_COMPLAINT));
        sc_buf_t wh = SC_BUF_INIT;
        CHECK(sc_classify_text(cl, cls, praise, strlen(praise), NULL, &r, &wh) == 0);
        CHECK(strstr(wh.data, "complaint ") && strstr(wh.data, "withheld: positive p="));
        sc_buf_free(&wh);
        /* explain names the model and its features */
        sc_buf_t ex = SC_BUF_INIT;
        CHECK(sc_classify_text(cl, cls, "polecam", 7, NULL, &r, &ex) == 0);
        CHECK(strstr(ex.data, "model sc-lin-1+") && strstr(ex.data, "\"positive: "));
        sc_buf_free(&ex);

        /* a damaged file is refused and the loaded model kept */
        char tmp[] = "/tmp/sc_model_testXXXXXX";
        int fd = mkstemp(tmp);
        CHECK(fd >= 0);
        FILE *src = fopen(SC_CLASSIFY_DEFAULT_MODEL, "rb"), *dst = fdopen(fd, "wb");
        char buf[65536];
        size_t got, total = 0;
        while (src && dst && (got = fread(buf, 1, sizeof(buf), src)) > 0) {
                if (total <= 70000 && total + got > 70000)
                        buf[70000 - total] ^= 0x40;
                fwrite(buf, 1, got, dst);
                total += got;
        }
        if (src)
                fclose(src);
        if (dst)
                fclose(dst);
        CHECK(sc_classifier_load_model(cls, tmp, err, sizeof(err)) == -1);
        CHECK(strstr(err, "checksum"));
        CHECK(truncate(tmp, 4096) == 0);
        CHECK(sc_classifier_load_model(cls, tmp, err, sizeof(err)) == -1);
        CHECK_STR(sc_classifier_version(cls), version);
        remove(tmp);
        CHECK(sc_classifier_load_model(cls, "/nonexistent.model", err, sizeof(err)) ==
              -1);
        CHECK_STR(sc_classifier_version(cls), version);

        sc_classify_destroy(cl);
        sc_classifier_destroy(cls);
        TEST_DONE();
}
