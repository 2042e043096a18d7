/* Linear models over hashed features: the trained half of the classifier.
 *
 * One model file holds, per language (pl, en), ten binary logistic
 * regressions that share one hashed feature space: three one-vs-rest
 * sentiment models (negative, neutral, positive) and one per intent. The
 * weights of a bucket for all ten outputs sit next to each other (int8, one
 * scale per output), so a post costs one cache line per feature.
 *
 * Features (sc_feats_extract, shared by the trainer and the worker so both
 * see the same thing): folded word unigrams (marked when inside a negation
 * scope), word bigrams, word prefixes of 4-6 and suffixes of 3 bytes (Polish
 * inflection), hashtags and their parts, emoji and emoticons, URL hosts and
 * the classes URL / mention / number / amount, ? and ! runs, caps,
 * elongation, shouting, length; plus dense features that the caller fills
 * from the rule engine (its sentiment score and intent confidences).
 *
 * File format (little-endian), version 1:
 *   "SCLINMOD", u32 version, u32 hash_bits, u32 feature_conf, u32 langs (2),
 *   u32 outputs (10), u32 dense (16);
 *   per language and output: u32 present, u32 n_train, f32 scale, f32 bias,
 *   f32 platt_a, f32 platt_b, f32 dense[16];
 *   per language: int8 weights[2^hash_bits][10];
 *   u64 FNV-1a of every byte before it.
 * A file with another magic, version, feature configuration, size or
 * checksum is refused. */
#ifndef SC_MODEL_H
#define SC_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "sc_buf.h"
#include "sc_text.h"

#define SC_MODEL_NAME      "sc-lin-1"
#define SC_MODEL_FILE_VER  1
#define SC_MODEL_FEAT_CONF 1 /* the feature set sc_feats_extract implements */
#define SC_MODEL_LANGS     2 /* 0 pl, 1 en */
#define SC_MODEL_OUT       10
#define SC_MODEL_DENSE     16
#define SC_MODEL_BITS      18

/* Outputs: sentiment one-vs-rest, then the intents in sc_intent_t order. */
enum { SC_OUT_NEG, SC_OUT_NEU, SC_OUT_POS, SC_OUT_INTENT };

/* Dense features from the rule engine (sc_feats_t.dense). */
enum {
        SC_DENSE_SCORE,  /* rule sentiment score, -1..1 */
        SC_DENSE_POS,    /* max(score, 0) */
        SC_DENSE_NEG,    /* max(-score, 0) */
        SC_DENSE_INTENT, /* 7 rule intent confidences */
        SC_DENSE_SARCASM = SC_DENSE_INTENT + 7,
        SC_DENSE_LABEL_POS, /* the rules said positive */
        SC_DENSE_LABEL_NEG, /* the rules said negative */
        SC_DENSE_USED
};

/* Per-thread feature scratch: grows while warming up, then reused without
 * allocating. Names are only collected when want_names is set (explain and
 * the trainer's debugging); they live in names, offsets in name_off. */
typedef struct sc_feats_s {
        uint32_t *idx; /* buckets of the hashed features, duplicates kept */
        size_t n, cap;
        float dense[SC_MODEL_DENSE];
        unsigned bits;
        int want_names;
        sc_buf_t names;
        uint32_t *name_off;
        size_t name_cap;
} sc_feats_t;

void sc_feats_init(sc_feats_t *f, unsigned bits);
void sc_feats_free(sc_feats_t *f);
/* Hashed features of a tokenized text (f->dense is left as it is). Returns 0
 * (out of memory aborts: common/sc_alloc.h). O(tokens + bytes). */
int sc_feats_extract(sc_feats_t *f, const sc_token_t *t, size_t cnt, unsigned text_flags);
/* Name of hashed feature i, when names were collected ("" otherwise). */
const char *sc_feats_name(const sc_feats_t *f, size_t i);
/* Fills the dense rule features. */
void sc_feats_set_rules(sc_feats_t *f, double score, const float intent[7], int sarcasm,
                        const char *label);
const char *sc_dense_name(int k);

typedef struct sc_model_s sc_model_t;

/* Loads and checks a model file. NULL with a reason on any defect. */
sc_model_t *sc_model_load(const char *path, char *errstr, size_t errstr_size);
void sc_model_destroy(sc_model_t *m);
/* "sc-lin-1+<first 8 hex digits of the checksum>"; owned by m. */
const char *sc_model_version(const sc_model_t *m);
uint64_t sc_model_checksum(const sc_model_t *m);
unsigned sc_model_bits(const sc_model_t *m);
/* Whether output o of language lang was trained (else the rules decide). */
int sc_model_present(const sc_model_t *m, int lang, int o);
/* Calibrated decision values (log-odds) of every output for f. */
void sc_model_scores(const sc_model_t *m, int lang, const sc_feats_t *f,
                     double z[SC_MODEL_OUT]);
/* Contribution of hashed feature i of f, and of dense feature k, to the
 * log-odds of output o (for explanations). */
double sc_model_contrib(const sc_model_t *m, int lang, int o, const sc_feats_t *f,
                        size_t i);
double sc_model_dense_contrib(const sc_model_t *m, int lang, int o, const sc_feats_t *f,
                              int k);

/* What the trainer writes: float weights, quantized by sc_model_write. */
typedef struct sc_model_out_s {
        int present;
        uint32_t n_train;
        float bias, platt_a, platt_b;
        float dense[SC_MODEL_DENSE];
        const float *w; /* 2^bits weights, or NULL when not present */
} sc_model_out_t;

typedef struct sc_model_spec_s {
        unsigned bits;
        sc_model_out_t out[SC_MODEL_LANGS][SC_MODEL_OUT];
} sc_model_spec_t;

/* Writes spec to path (through path.tmp and a rename). Same spec, same
 * bytes. 0, or -1 with a reason. */
int sc_model_write(const sc_model_spec_t *spec, const char *path, char *errstr,
                   size_t errstr_size);

#endif
