/* The classifier: language, sentiment (VADER-style rules over the team's
 * Polish and English lexicons), intents, and an explanation of each result.
 *
 * Two objects, so a reload never races a post in progress:
 *  - sc_classifier_t: the loaded data files (lexicons, modifiers, emoji,
 *    intent patterns, language cues), immutable once loaded; a worker loads
 *    a new one on SIGHUP and swaps it between batches.
 *  - sc_classify_t: per-thread scratch (tokenizer, explanation buffer),
 *    reused for every post: no allocation per post once warm.
 *
 * Data file formats are documented in services/classify/data/README.md. */
#ifndef SC_CLASSIFY_H
#define SC_CLASSIFY_H
#include <stddef.h>

#include <stdint.h>
#include <string.h>

#include "sc_brands.h"
#include "sc_buf.h"
#include "sc_vocab.h"

#define SC_CLASSIFIER_VERSION "sc-rules-1"
/* Where the data files are unless classify.data_dir says otherwise. */
#define SC_CLASSIFY_DEFAULT_DATA_DIR SC_SOURCE_DIR "/services/classify/data"
/* The shipped trained model (services/classify/MODEL.md). */
#define SC_CLASSIFY_DEFAULT_MODEL SC_SOURCE_DIR "/services/classify/models/sc-lin-1.model"

/* Intents are the vocabulary's (sc_vocab.h: sc_intent_t, sc_intent_name).
 * Name -> SC_INTENT_*, -1 when unknown; name NUL-terminated. */
static inline int sc_intent_from_name(const char *name)
{
        return sc_intent_parse(name, strlen(name));
}
typedef struct sc_classifier_s sc_classifier_t;

/* Loads every file of data_dir. NULL with "file:line: reason" on any error:
 * a bad file never half-loads. Caller destroys. */
sc_classifier_t *sc_classifier_load(const char *data_dir, char *errstr,
                                    size_t errstr_size);
void sc_classifier_destroy(sc_classifier_t *c);
/* Rows loaded, for logs: "pl 742, en 553, emoji 176, intents 730, ..." */
const char *sc_classifier_summary(const sc_classifier_t *c);
/* Attaches the trained model at path (sc_model.h); the rules' results then
 * become features of the model, which decides sentiment and the intents it
 * was trained for (precise crisis rules still raise crisis). Returns 0, or
 * -1 with a reason and c unchanged (still rules only, or its old model). */
int sc_classifier_load_model(sc_classifier_t *c, const char *path, char *errstr,
                             size_t errstr_size);
/* classifier_version: the model's ("sc-lin-1+<hash8>") or SC_CLASSIFIER_VERSION
 * when rules only. Owned by c. */
const char *sc_classifier_version(const sc_classifier_t *c);

typedef struct sc_classification_s {
        const char *lang;            /* "pl", "en" or "und" */
        double score;                /* sentiment in [-1, 1] */
        const char *label;           /* "positive", "neutral", "negative" */
        float intent[SC_INTENT_CNT]; /* confidence 0..1 for each */
        unsigned intent_mask;        /* bit i set when intent[i] >= threshold */
        int sarcasm;                 /* an irony marker flipped the sentiment */
        int irony;                   /* an irony marker (🙄 😒 :/) is in the text */
        int neg_cue;   /* the rules saw something wrong: a negative term (or a
                        * negated positive), an irony marker, a complaint phrase */
        int truncated; /* text longer than the cap: only its head was read */
} sc_classification_t;

typedef struct sc_classify_s sc_classify_t;

/* max_bytes caps the text looked at per post (0: 4096). NULL if it is over
 * INT_MAX; out of memory aborts (common/sc_alloc.h). */
sc_classify_t *sc_classify_new(size_t max_bytes);
void sc_classify_destroy(sc_classify_t *cl);

/* Classifies text. lang_hint ("pl", "en" or NULL) is the platform's guess.
 * When explain is not NULL, a JSON array of strings saying which tokens and
 * rules moved the result is appended to it. Returns 0, or -1 when the text
 * is not valid UTF-8. */
int sc_classify_text(sc_classify_t *cl, const sc_classifier_t *c, const char *text,
                     size_t n, const char *lang_hint, sc_classification_t *out,
                     sc_buf_t *explain);

/* The rules' reading of text and the model's features of it (hashed into
 * 2^bits buckets), for the trainer: *lang gets 0 (pl), 1 (en) or -1, *feats
 * points into cl (valid until its next call). names: collect feature names.
 * 0, or -1 when the text is not valid UTF-8 or memory ran out. */
struct sc_feats_s;
int sc_classify_features(sc_classify_t *cl, const sc_classifier_t *c, const char *text,
                         size_t n, const char *lang_hint, unsigned bits, int names,
                         int *lang, const struct sc_feats_s **feats);

/* The rules' reading (sc_classification_t) of the text of the last
 * sc_classify_features() call; owned by cl, valid until its next call. */
const sc_classification_t *sc_classify_rules_of_last(const sc_classify_t *cl);

/* The model's decision, the one place the worker, socialcarectl classify|eval
 * and the trainer's cross-validated figures share: z holds the SC_MODEL_OUT
 * calibrated, shifted log-odds (sc_model.h) of one language, bit o of present
 * says output o was trained; out holds the rules' reading (intents, irony,
 * neg_cue) and gets the label, score, intents and mask where the model was
 * trained. explain (or NULL) gets the decision's reasons. Returns the
 * sentiment label's index (0 negative, 1 neutral, 2 positive), or -1 when
 * the rules keep the sentiment (fewer than two classes trained). */
int sc_classify_decide(unsigned present, const double *z, sc_classification_t *out,
                       sc_buf_t *explain);

/* Priority from negativity (a negative post weighs about five positive
 * ones), intent severity (crisis first) and the author's reach. Returns the
 * score 0..1; *name gets "urgent", "high", "normal" or "low". */
double sc_classify_priority(const sc_classification_t *r, int64_t followers, int verified,
                            const char **name);
/* docs/ARCHITECTURE.md: inbound (not the brand's own) with an actionable intent
 * (complaint, question, purchase intent, crisis, churn risk), not spam. */
int sc_classify_needs_reply(const sc_classification_t *r, int is_brand);

/* Per-brand topic keyword groups (brands[].topics in the deployment file),
 * matched like the lexicons: folded, '*' stems, phrases. Built at start and
 * on reload; brands is only read during sc_topics_new(). */
typedef struct sc_topics_s sc_topics_t;
sc_topics_t *sc_topics_new(const sc_brands_t *brands, char *errstr, size_t errstr_size);
void sc_topics_destroy(sc_topics_t *tp);
/* The topics of brand found in the text last classified by cl, each once, in
 * the order of the file; names point into tp. Returns how many (<= max). */
size_t sc_classify_topics(const sc_classify_t *cl, const sc_topics_t *tp,
                          const char *brand, const char **out, size_t max);

#endif
