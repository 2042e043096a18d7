/* The rule engine over the shipped data files: each case here fails if the
 * mechanism it names stops working (negation, negative concord, boosters,
 * dampeners, contrast, diacritic-free and inflected Polish, caps, emoji,
 * sarcasm, intents, language). */
#include <math.h>
#include <stdlib.h>

#include "sc_classify.h"
#include "classify_run.h"
#include "sc_model.h"
#include "sc_test.h"

static double score(const char *text)
{
        return run(text)->score;
}

/* Whether the model's features of text name feature want. */
static int has_feature(const char *text, const char *want)
{
        int lang;
        const struct sc_feats_s *f;
        CHECK(sc_classify_features(cl, cls, text, strlen(text), NULL, 18, 1, &lang, &f) ==
              0);
        for (size_t i = 0; i < f->n; i++)
                if (!strcmp(sc_feats_name(f, i), want))
                        return 1;
        return 0;
}

/* The words that open a negation scope in the features (marked "n:"), and
 * words like them that do not. */
static void negation_features(void)
{
        static const char *const neg[] = {
            "no",      "nie",     "not",     "bez",     "nic",     "ani",
            "nor",     "nikt",    "brak",    "dont",    "cant",    "wont",
            "isnt",    "aint",    "none",    "never",   "nigdy",   "zaden",
            "didnt",   "wasnt",   "arent",   "hasnt",   "zadnej",  "cannot",
            "doesnt",  "havent",  "nobody",  "zadnego", "couldnt", "wouldnt",
            "without", "nothing", "neither", "nowhere", "isn't",   "Żaden"};
        static const char *const other[] = {"na",     "tak",     "bezy", "nick", "dobry",
                                            "zawsze", "knot",    "ok",   "yes",  "nowy",
                                            "niee",   "brakuje", "ever", "a"};
        char text[128];
        for (size_t i = 0; i < sizeof(neg) / sizeof(*neg); i++) {
                snprintf(text, sizeof(text), "%s dobre", neg[i]);
                if (!has_feature(text, "n:dobre")) {
                        fprintf(stderr, "'%s' should negate the next word\n", neg[i]);
                        exit(1);
                }
        }
        for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++) {
                snprintf(text, sizeof(text), "%s dobre", other[i]);
                CHECK(has_feature(text, "w:dobre") && !has_feature(text, "n:dobre"));
        }
}

int main(void)
{
        char err[512];
        CHECK(sc_classifier_load("/nonexistent", err, sizeof(err)) == NULL);
        CHECK(strstr(err, "cannot open"));
        cls =
            sc_classifier_load(SC_SOURCE_DIR "/services/classify/data", err, sizeof(err));
        if (!cls) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        printf("%s\n", sc_classifier_summary(cls));
        cl = sc_classify_new(4096);

        /* language */
        CHECK_STR(run("nie dziala mi internet od rana")->lang, "pl");
        CHECK_STR(run("my internet is down again")->lang, "en");
        CHECK_STR(run("zażółć")->lang, "pl");
        CHECK_STR(run("👍")->lang, "und");
        /* short posts without function words: the word lists decide */
        CHECK_STR(run("Masakra")->lang, "pl");
        CHECK_STR(run("awful")->lang, "en");

        /* Polish with and without diacritics, and inflected forms, alike */
        CHECK(score("obsługa beznadziejna") < -0.3);
        CHECK(fabs(score("obsługa beznadziejna") - score("obsluga beznadziejna")) < 1e-9);
        CHECK(score("beznadziejnie") < -0.3 && score("beznadziejnego") < -0.3);
        CHECK(score("dziękuję") > 0.3 && score("dziekujemy") > 0.3 &&
              score("DZIĘKI") > 0.3);
        CHECK(score("świetna obsługa") > 0.3 && score("swietnie") > 0.3);

        /* negation: flips, in both languages; negative concord counts once */
        CHECK(score("polecam") > 0.3);
        CHECK(score("nie polecam") < -0.3);
        CHECK(score("good") > 0.3 && score("not good") < 0);
        CHECK(score("dobra obsługa") > 0 && score("wcale nie jest dobra obsługa") < 0);
        CHECK(score("nikt nie pomógł") <= 0);
        /* ... and stops at sentence punctuation */
        CHECK(score("nie wiem. super") > 0.3);

        /* boosters and dampeners scale */
        CHECK(score("bardzo dobra obsługa") > score("dobra obsługa"));
        CHECK(score("very good") > score("good"));
        CHECK(score("trochę słaba") > score("słaba"));
        CHECK(score("slightly bad") > score("bad"));

        /* contrast: what follows "ale"/"but" weighs more */
        CHECK(score("Jedzenie dobre, ale obsługa tragiczna") < 0);
        CHECK(score("The food was bad but the staff were amazing") > 0);

        /* emphasis: caps, elongation, exclamation */
        CHECK(score("This is TERRIBLE") < score("This is terrible"));
        CHECK(score("suuuper") > score("super"));
        CHECK(score("great!!!") > score("great"));

        /* hashtags are read through their camelCase parts */
        CHECK(score("#NieDziałaInternet") < 0);
        CHECK(has("#NieDziałaInternet", SC_INTENT_COMPLAINT));
        CHECK(score("#SuperObsługa") > 0);

        /* emoji and sarcasm */
        CHECK(score("😡") < 0 && score("👍🏽") > 0);
        CHECK(score("Great job guys 🙄") < 0);
        CHECK(run("Great job guys 🙄")->sarcasm == 1);
        CHECK(!has("Great job guys 🙄", SC_INTENT_PRAISE));

        /* intents */
        CHECK(has("nie dziala mi internet od rana", SC_INTENT_COMPLAINT));
        CHECK(has("Kiedy naprawicie awarię?", SC_INTENT_QUESTION));
        CHECK(has("Dziękuję za szybką pomoc, polecam!", SC_INTENT_PRAISE));
        CHECK(has("jestem głodny, gdzie najbliższy burger?", SC_INTENT_PURCHASE));
        CHECK(has("my car broke down on the highway, need a tow", SC_INTENT_PURCHASE));
        CHECK(has("zmieniam operatora, mam dość", SC_INTENT_CHURN));
        CHECK(has("food poisoning after your burger, my kid is in hospital",
                  SC_INTENT_CRISIS));
        CHECK(has("wyciek danych klientów?!", SC_INTENT_CRISIS));
        CHECK(has("FREE crypto giveaway, click bit.ly/xyz", SC_INTENT_SPAM));
        CHECK(!has("Dzięki, działa super", SC_INTENT_COMPLAINT));

        /* bad input */
        CHECK(sc_classify_text(cl, cls, "\xc3\x28", 2, NULL, &r, NULL) == -1);
        CHECK(sc_classify_text(cl, cls, "", 0, NULL, &r, NULL) == 0);
        CHECK_STR(r.label, "neutral");

        negation_features();

        sc_classify_destroy(cl);
        sc_classifier_destroy(cls);
        sc_classify_destroy(NULL);
        sc_classifier_destroy(NULL);
        TEST_DONE();
}
