/* Sentiment follows VADER (Hutto & Gilbert, 2014) in spirit: term valences
 * from a lexicon, scaled by boosters and dampeners, flipped by negators in
 * a short scope, reweighted around contrast words, emphasised by caps,
 * elongation and exclamation marks, then normalised with x / sqrt(x^2 + 15).
 * Everything language-specific is in the data files. */
#include "sc_classify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_lexicon.h"
#include "sc_model.h"
#include "sc_text.h"

enum { LANG_PL, LANG_EN, LANG_CNT };
enum { MOD_NEGATOR = 1, MOD_BOOSTER, MOD_DAMPENER, MOD_CONTRAST };
/* The lexicons' places in the classifier's sc_lexset (+ LANG_* where per
 * language). */
enum {
        LX_SENTIMENT = 0,
        LX_MODIFIERS = 2,
        LX_INTENTS = 4,
        LX_EMOJI = 6,
        LX_LANGID,
        LX_CNT
};

#define TAG_SARCASM 0x01
#define TAG_CRISIS  0x02
#define TAG_SICK    0x04
#define TAG_ANGER   0x08

#define NEG_SCOPE           3 /* words after a negator that it reaches */
#define BOOST_SCOPE         2 /* words after a booster that it reaches */
#define CAPS_EMPHASIS       0.733
#define ELONGATION_EMPHASIS 0.3
#define EXCLAIM_STEP        0.292
#define EXCLAIM_MAX         4
#define ALPHA               15.0
#define LABEL_THRESHOLD     0.05
#define INTENT_THRESHOLD    0.5
#define CRISIS_RULE_SURE    0.8 /* a rule crisis this sure overrides the model */

/* p(positive) from which the model's complaint is withheld when the rules saw
 * nothing wrong (MODEL.md: chosen on the training sets' out-of-fold scores) */
#define COMPLAINT_POS_WITHHOLD 0.75

#define MAX_INTENT_ROWS 2048
#define MAX_MATCHED     64

struct sc_classifier_s {
        sc_lexicon_t *sentiment[LANG_CNT];
        sc_lexicon_t *modifiers[LANG_CNT];
        sc_lexicon_t *emoji;
        sc_lexicon_t *intents[LANG_CNT]; /* rows of that language plus "any" */
        sc_lexicon_t *langid;
        sc_lexset_t *set; /* all of the above: one probe per token */
        /* An intent pattern may serve several intents: its entry's aux indexes
         * a row of weights here. */
        float (*intent_w)[SC_INTENT_CNT];
        size_t intent_w_cnt;
        char summary[256];
        sc_model_t *model; /* NULL: rules only */
};

struct sc_classify_s {
        sc_text_t *tx;
        size_t max_bytes;
        sc_feats_t feats;
        sc_lexset_probe_t *probe; /* per token of the post */
        size_t probe_cap;
        sc_classification_t rules; /* the rules' reading of the last features */
};

/* ---- loading -------------------------------------------------------------- */

/* Per-load state: the classifier being built, the language of the file in
 * progress, and the intent rows gathered before they are grouped. */
typedef struct intent_row_s {
        char *pattern;
        int lang; /* LANG_*, or -1 for any */
        int intent;
        float weight;
} intent_row_t;

typedef struct loader_s {
        sc_classifier_t *c;
        int lang;
        intent_row_t *irows;
        size_t irow_cnt;
} loader_t;

typedef int(row_cb)(loader_t *ld, char **cols, int ncols, char *err, size_t errsz);

static int load_file(loader_t *ld, const char *dir, const char *name, int min_cols,
                     row_cb *cb, size_t *rows, char *errstr, size_t errstr_size)
{
        char path[4096], line[2048], err[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "r");
        if (!f) {
                snprintf(errstr, errstr_size, "%s: cannot open", path);
                return -1;
        }
        int lineno = 0, rc = 0;
        *rows = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                line[strcspn(line, "\r\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                char *cols[6] = {0};
                int nc = 0;
                for (char *p = line; p && nc < 6; nc++) {
                        cols[nc] = p;
                        p = strchr(p, '\t');
                        if (p)
                                *p++ = '\0';
                }
                err[0] = '\0';
                if (nc < min_cols)
                        snprintf(err, sizeof(err), "want %d TAB-separated fields, got %d",
                                 min_cols, nc);
                else if (cb(ld, cols, nc, err, sizeof(err)) && !err[0])
                        snprintf(err, sizeof(err), "bad row");
                if (err[0]) {
                        snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno, err);
                        rc = -1;
                        break;
                }
                (*rows)++;
        }
        fclose(f);
        return rc;
}

static int num(const char *s, double lo, double hi, float *out, char *err, size_t errsz)
{
        char *end;
        double v = strtod(s, &end);
        if (end == s || *end || v < lo || v > hi) {
                snprintf(err, errsz, "'%s' is not a number in %g..%g", s, lo, hi);
                return -1;
        }
        *out = (float)v;
        return 0;
}

static int lang_of(const char *s)
{
        return !strcmp(s, "pl") ? LANG_PL : !strcmp(s, "en") ? LANG_EN : -1;
}

static int sentiment_row(loader_t *ld, char **cols, int nc, char *err, size_t errsz)
{
        (void)nc;
        sc_lex_val_t v = {0};
        if (num(cols[1], -4, 4, &v.value, err, errsz))
                return -1;
        return sc_lexicon_add(ld->c->sentiment[ld->lang], cols[0], &v, err, errsz);
}

static int modifier_row(loader_t *ld, char **cols, int nc, char *err, size_t errsz)
{
        (void)nc;
        static const char *const kinds[] = {NULL, "negator", "booster", "dampener",
                                            "contrast"};
        sc_lex_val_t v = {0};
        for (int k = 1; k <= MOD_CONTRAST; k++)
                if (!strcmp(cols[1], kinds[k]))
                        v.kind = (uint16_t)k;
        if (!v.kind) {
                snprintf(err, errsz, "unknown modifier kind '%s'", cols[1]);
                return -1;
        }
        if (num(cols[2], -1, 2, &v.value, err, errsz))
                return -1;
        return sc_lexicon_add(ld->c->modifiers[ld->lang], cols[0], &v, err, errsz);
}

static int emoji_row(loader_t *ld, char **cols, int nc, char *err, size_t errsz)
{
        sc_lex_val_t v = {0};
        if (num(cols[1], -4, 4, &v.value, err, errsz))
                return -1;
        if (nc > 2) {
                v.tags |= strstr(cols[2], "sarcasm") ? TAG_SARCASM : 0;
                v.tags |= strstr(cols[2], "crisis") ? TAG_CRISIS : 0;
                v.tags |= strstr(cols[2], "sick") ? TAG_SICK : 0;
                v.tags |= strstr(cols[2], "anger") ? TAG_ANGER : 0;
        }
        return sc_lexicon_add(ld->c->emoji, cols[0], &v, err, errsz);
}

static int langid_row(loader_t *ld, char **cols, int nc, char *err, size_t errsz)
{
        (void)nc;
        sc_lex_val_t v = {0};
        int l = lang_of(cols[1]);
        if (l < 0) {
                snprintf(err, errsz, "language must be pl or en, not '%s'", cols[1]);
                return -1;
        }
        v.kind = (uint16_t)l;
        if (num(cols[2], 0, 5, &v.value, err, errsz))
                return -1;
        return sc_lexicon_add(ld->c->langid, cols[0], &v, err, errsz);
}

/* Intent rows are gathered first: one pattern may carry several intents,
 * and "any" rows go to both languages. */
static int intent_row(loader_t *ld, char **cols, int nc, char *err, size_t errsz)
{
        (void)nc;
        intent_row_t r = {0};
        r.intent = sc_intent_from_name(cols[0]);
        if (r.intent < 0) {
                snprintf(err, errsz, "unknown intent '%s'", cols[0]);
                return -1;
        }
        r.lang = !strcmp(cols[1], "any") ? -1 : lang_of(cols[1]);
        if (r.lang < 0 && strcmp(cols[1], "any")) {
                snprintf(err, errsz, "language must be pl, en or any, not '%s'", cols[1]);
                return -1;
        }
        if (num(cols[3], 0, 1, &r.weight, err, errsz))
                return -1;
        if (ld->irow_cnt == MAX_INTENT_ROWS) {
                snprintf(err, errsz, "more than %d intent rows", MAX_INTENT_ROWS);
                return -1;
        }
        r.pattern = sc_strdup(cols[2]);
        ld->irows[ld->irow_cnt++] = r;
        return 0;
}

static int build_intents(loader_t *ld, char *errstr, size_t errstr_size)
{
        sc_classifier_t *c = ld->c;
        const intent_row_t *irows = ld->irows;
        size_t irow_cnt = ld->irow_cnt;
        c->intent_w = sc_calloc(irow_cnt * LANG_CNT + 1, sizeof(*c->intent_w));
        for (int lang = 0; lang < LANG_CNT; lang++) {
                for (size_t i = 0; i < irow_cnt; i++) {
                        if (irows[i].lang != -1 && irows[i].lang != lang)
                                continue;
                        /* first row of this pattern for this language owns the entry */
                        size_t first = i;
                        for (size_t j = 0; j < i; j++)
                                if ((irows[j].lang == -1 || irows[j].lang == lang) &&
                                    !strcmp(irows[j].pattern, irows[i].pattern)) {
                                        first = j;
                                        break;
                                }
                        if (first != i)
                                continue;
                        size_t w = c->intent_w_cnt++;
                        for (size_t j = i; j < irow_cnt; j++)
                                if ((irows[j].lang == -1 || irows[j].lang == lang) &&
                                    !strcmp(irows[j].pattern, irows[i].pattern) &&
                                    irows[j].weight > c->intent_w[w][irows[j].intent])
                                        c->intent_w[w][irows[j].intent] = irows[j].weight;
                        sc_lex_val_t v = {.aux = (uint16_t)w};
                        char err[256];
                        if (sc_lexicon_add(c->intents[lang], irows[i].pattern, &v, err,
                                           sizeof(err))) {
                                snprintf(errstr, errstr_size, "intents.tsv: %s", err);
                                return -1;
                        }
                }
        }
        return 0;
}

static void loader_free(loader_t *ld)
{
        for (size_t i = 0; i < ld->irow_cnt; i++)
                free(ld->irows[i].pattern);
        free(ld->irows);
}

sc_classifier_t *sc_classifier_load(const char *dir, char *errstr, size_t errstr_size)
{
        sc_classifier_t *c = sc_calloc(1, sizeof(*c));
        loader_t ld = {.c = c, .irows = sc_calloc(MAX_INTENT_ROWS, sizeof(intent_row_t))};
        for (int l = 0; l < LANG_CNT; l++) {
                c->sentiment[l] = sc_lexicon_new();
                c->modifiers[l] = sc_lexicon_new();
                c->intents[l] = sc_lexicon_new();
                if (!c->sentiment[l] || !c->modifiers[l] || !c->intents[l])
                        goto fail;
        }
        c->emoji = sc_lexicon_new();
        c->langid = sc_lexicon_new();
        if (!c->emoji || !c->langid)
                goto fail;
        size_t n[8] = {0};
        ld.lang = LANG_PL;
        if (load_file(&ld, dir, "sentiment.pl.tsv", 2, sentiment_row, &n[0], errstr,
                      errstr_size) ||
            load_file(&ld, dir, "modifiers.pl.tsv", 3, modifier_row, &n[1], errstr,
                      errstr_size))
                goto fail;
        ld.lang = LANG_EN;
        if (load_file(&ld, dir, "sentiment.en.tsv", 2, sentiment_row, &n[2], errstr,
                      errstr_size) ||
            load_file(&ld, dir, "modifiers.en.tsv", 3, modifier_row, &n[3], errstr,
                      errstr_size) ||
            load_file(&ld, dir, "emoji.tsv", 2, emoji_row, &n[4], errstr, errstr_size) ||
            load_file(&ld, dir, "langid.tsv", 3, langid_row, &n[5], errstr,
                      errstr_size) ||
            load_file(&ld, dir, "intents.tsv", 4, intent_row, &n[6], errstr,
                      errstr_size) ||
            build_intents(&ld, errstr, errstr_size))
                goto fail;
        for (int l = 0; l < LANG_CNT; l++)
                if (sc_lexicon_freeze(c->sentiment[l]) ||
                    sc_lexicon_freeze(c->modifiers[l]) ||
                    sc_lexicon_freeze(c->intents[l]))
                        goto fail;
        if (sc_lexicon_freeze(c->emoji) || sc_lexicon_freeze(c->langid))
                goto fail;
        sc_lexicon_t *lx[LX_CNT];
        for (int l = 0; l < LANG_CNT; l++) {
                lx[LX_SENTIMENT + l] = c->sentiment[l];
                lx[LX_MODIFIERS + l] = c->modifiers[l];
                lx[LX_INTENTS + l] = c->intents[l];
        }
        lx[LX_EMOJI] = c->emoji;
        lx[LX_LANGID] = c->langid;
        if (!(c->set = sc_lexset_new(lx, LX_CNT, errstr, errstr_size)))
                goto fail;
        snprintf(
            c->summary, sizeof(c->summary),
            "sentiment pl %zu en %zu, modifiers pl %zu en %zu, emoji %zu, langid %zu, "
            "intent rows %zu",
            n[0], n[2], n[1], n[3], n[4], n[5], n[6]);
        loader_free(&ld);
        return c;
fail:
        loader_free(&ld);
        sc_classifier_destroy(c);
        return NULL;
}

void sc_classifier_destroy(sc_classifier_t *c)
{
        if (!c)
                return;
        for (int l = 0; l < LANG_CNT; l++) {
                sc_lexicon_destroy(c->sentiment[l]);
                sc_lexicon_destroy(c->modifiers[l]);
                sc_lexicon_destroy(c->intents[l]);
        }
        sc_lexset_destroy(c->set);
        sc_lexicon_destroy(c->emoji);
        sc_lexicon_destroy(c->langid);
        free(c->intent_w);
        sc_model_destroy(c->model);
        free(c);
}

const char *sc_classifier_summary(const sc_classifier_t *c)
{
        return c->summary;
}

int sc_classifier_load_model(sc_classifier_t *c, const char *path, char *errstr,
                             size_t errstr_size)
{
        sc_model_t *m = sc_model_load(path, errstr, errstr_size);
        if (!m)
                return -1;
        sc_model_destroy(c->model);
        c->model = m;
        size_t len = strlen(c->summary);
        snprintf(c->summary + len, sizeof(c->summary) - len, ", model %s",
                 sc_model_version(m));
        return 0;
}

const char *sc_classifier_version(const sc_classifier_t *c)
{
        return c->model ? sc_model_version(c->model) : SC_CLASSIFIER_VERSION;
}

/* ---- classification ----------------------------------------------------- */

sc_classify_t *sc_classify_new(size_t max_bytes)
{
        sc_classify_t *cl = sc_calloc(1, sizeof(*cl));
        cl->max_bytes = max_bytes ? max_bytes : 4096;
        cl->tx = sc_text_new(cl->max_bytes);
        if (!cl->tx) {
                free(cl);
                return NULL;
        }
        sc_feats_init(&cl->feats, SC_MODEL_BITS);
        return cl;
}

void sc_classify_destroy(sc_classify_t *cl)
{
        if (!cl)
                return;
        sc_text_destroy(cl->tx);
        sc_feats_free(&cl->feats);
        free(cl->probe);
        free(cl);
}

static void explain_add(sc_buf_t *ex, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void explain_add(sc_buf_t *ex, const char *fmt, ...)
{
        if (!ex)
                return;
        char tmp[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof(tmp))
                n = sizeof(tmp) - 1;
        if (ex->len && ex->data[ex->len - 1] != '[')
                sc_buf_putc(ex, ',');
        sc_buf_json_str(ex, tmp, (size_t)n);
}
/* The arguments are not even evaluated without an explanation to write:
 * the worker's path passes NULL, and a varargs call per match costs. */
#define explain_add(ex, ...) ((ex) ? explain_add(ex, __VA_ARGS__) : (void)0)

static int is_word(const sc_token_t *t)
{
        return t->type == SC_TOK_WORD || t->type == SC_TOK_HASHTAG;
}

/* Ends a negation or boost scope: sentence punctuation (as strchr of
 * ".,;!?:" would say, its NUL included: several calls a token). */
static int is_clause_end(const sc_token_t *t)
{
        if (t->type != SC_TOK_PUNCT)
                return 0;
        char f = t->fold[0];
        return f == '.' || f == ',' || f == ';' || f == '!' || f == '?' || f == ':' || !f;
}

/* Whether a fold holds byte b (folds hold no NUL). */
static int has_byte(const sc_token_t *t, char b)
{
        for (size_t i = 0; i < t->fold_len; i++)
                if (t->fold[i] == b)
                        return 1;
        return 0;
}

/* sc_lexicon_match(lexicon lx, t, cnt, i, m), from the token's probe. */
static inline int match(const sc_classifier_t *c, unsigned lx,
                        const sc_lexset_probe_t *pr, const sc_token_t *t, size_t cnt,
                        size_t i, sc_lex_match_t *m)
{
        return sc_lexset_match(c->set, lx, pr[i], t, cnt, i, m);
}

static int detect_lang(const sc_classifier_t *c, const sc_token_t *t,
                       const sc_lexset_probe_t *pr, size_t cnt, unsigned flags,
                       const char *hint, sc_buf_t *ex)
{
        double score[LANG_CNT] = {0};
        sc_lex_match_t m;
        for (size_t i = 0; i < cnt; i++)
                if (is_word(&t[i]) && match(c, LX_LANGID, pr, t, cnt, i, &m))
                        score[m.val->kind] += m.val->value;
        if (score[LANG_PL] == 0 && score[LANG_EN] == 0) {
                /* A short post without function words ("Masakra", "awful"):
                 * which language's word lists know its words. */
                for (size_t i = 0; i < cnt; i++) {
                        if (!is_word(&t[i]))
                                continue;
                        int pl = match(c, LX_SENTIMENT + LANG_PL, pr, t, cnt, i, &m);
                        int en = match(c, LX_SENTIMENT + LANG_EN, pr, t, cnt, i, &m);
                        if (pl != en)
                                score[pl ? LANG_PL : LANG_EN] += 0.5;
                }
        }
        if (flags & SC_TEXT_PL_DIACRITICS)
                score[LANG_PL] += 3;
        if (hint && !strcmp(hint, "pl"))
                score[LANG_PL] += 1.5;
        else if (hint && !strcmp(hint, "en"))
                score[LANG_EN] += 1.5;
        int lang = -1;
        if (score[LANG_PL] > score[LANG_EN])
                lang = LANG_PL;
        else if (score[LANG_EN] > score[LANG_PL])
                lang = LANG_EN;
        explain_add(ex, "lang pl %.1f en %.1f%s", score[LANG_PL], score[LANG_EN],
                    flags & SC_TEXT_PL_DIACRITICS ? " (Polish letters)" : "");
        return lang;
}

/* The sentiment entry at toks[i] for the post's language; English terms are
 * also looked up in Polish posts (loanwords: "super", "sorry", "fail"). */
static int sentiment_at(const sc_classifier_t *c, int lang, const sc_token_t *t,
                        const sc_lexset_probe_t *pr, size_t cnt, size_t i,
                        sc_lex_match_t *m)
{
        if (t[i].type == SC_TOK_EMOJI || t[i].type == SC_TOK_EMOTICON)
                return match(c, LX_EMOJI, pr, t, cnt, i, m);
        if (!is_word(&t[i]))
                return 0;
        if (lang == LANG_EN)
                return match(c, LX_SENTIMENT + LANG_EN, pr, t, cnt, i, m);
        if (lang == LANG_PL)
                return match(c, LX_SENTIMENT + LANG_PL, pr, t, cnt, i, m) ||
                       match(c, LX_SENTIMENT + LANG_EN, pr, t, cnt, i, m);
        return match(c, LX_SENTIMENT + LANG_EN, pr, t, cnt, i, m) ||
               match(c, LX_SENTIMENT + LANG_PL, pr, t, cnt, i, m);
}

static int modifier_at(const sc_classifier_t *c, int lang, const sc_token_t *t,
                       const sc_lexset_probe_t *pr, size_t cnt, size_t i,
                       sc_lex_match_t *m)
{
        if (!is_word(&t[i]))
                return 0;
        if (lang >= 0)
                return match(c, LX_MODIFIERS + (unsigned)lang, pr, t, cnt, i, m);
        return match(c, LX_MODIFIERS + LANG_EN, pr, t, cnt, i, m) ||
               match(c, LX_MODIFIERS + LANG_PL, pr, t, cnt, i, m);
}

static void intents_at(const sc_classifier_t *c, int lang, const sc_token_t *t,
                       const sc_lexset_probe_t *pr, size_t cnt, size_t i,
                       const char **seen, size_t *seen_cnt, double miss[SC_INTENT_CNT],
                       sc_buf_t *ex)
{
        sc_lex_match_t m;
        for (int l = 0; l < LANG_CNT; l++) {
                if (lang >= 0 && l != lang)
                        continue;
                if (!match(c, LX_INTENTS + (unsigned)l, pr, t, cnt, i, &m))
                        continue;
                size_t k;
                /* by term: an "any" row sits in both languages' lexicons */
                for (k = 0; k < *seen_cnt && seen[k] != m.term &&
                            (seen[k][0] != m.term[0] || strcmp(seen[k], m.term));
                     k++)
                        ;
                if (k < *seen_cnt || *seen_cnt == MAX_MATCHED)
                        continue; /* each row counts once per post */
                seen[(*seen_cnt)++] = m.term;
                const float *w = c->intent_w[m.val->aux];
                for (int n = 0; n < SC_INTENT_CNT; n++)
                        if (w[n] > 0) {
                                miss[n] *= 1.0 - w[n];
                                explain_add(ex, "%s: '%s' %.2f", sc_intent_name(n),
                                            m.term, w[n]);
                        }
        }
}

typedef struct run_s {
        double before, after, contrast_w;
        int contrast_seen, sarcasm, crisis_emoji, neg_term;
        double neg_w, boost;
        int neg_left, boost_left;
        size_t exclaim, questions;
        const char *seen[MAX_MATCHED];
        size_t seen_cnt;
        double miss[SC_INTENT_CNT];
} run_t;

static void score_run(const sc_classifier_t *c, int lang, const sc_token_t *t,
                      const sc_lexset_probe_t *pr, size_t cnt, unsigned flags, run_t *st,
                      sc_buf_t *ex, int depth);

/* A hashtag of several parts is scored as its parts, in a scope of its own. */
static void score_hashtag(const sc_classifier_t *c, int lang, const sc_token_t *tk,
                          unsigned flags, run_t *st, sc_buf_t *ex)
{
        /* "#NieDziałaInternet" reads as "nie działa internet" */
        sc_token_t parts[SC_TOK_MAX_PARTS];
        for (unsigned k = 0; k < tk->part_cnt; k++) {
                memset(&parts[k], 0, sizeof(parts[k]));
                parts[k].type = SC_TOK_WORD;
                parts[k].text = parts[k].norm = parts[k].fold = tk->part[k];
                parts[k].len = parts[k].norm_len = parts[k].fold_len = tk->part_len[k];
                parts[k].repeat = 1;
                parts[k].fold_hash = sc_text_fold_hash(tk->part[k], tk->part_len[k]);
        }
        sc_lexset_probe_t ppr[SC_TOK_MAX_PARTS];
        sc_lexset_probe(c->set, parts, tk->part_cnt, ppr);
        st->neg_left = st->boost_left = 0;
        score_run(c, lang, parts, ppr, tk->part_cnt, flags, st, ex, 1);
        st->neg_left = st->boost_left = 0;
}

/* A negator, booster, dampener or contrast word: it changes the scope. */
static inline void apply_modifier(run_t *st, const sc_lex_match_t *m, sc_buf_t *ex)
{
        switch (m->val->kind) {
        case MOD_NEGATOR:
                /* negative concord: "nikt nie pomógł" negates once */
                if (!st->neg_left || m->val->value < st->neg_w)
                        st->neg_w = m->val->value;
                st->neg_left = NEG_SCOPE;
                explain_add(ex, "negator '%s'", m->term);
                break;
        case MOD_BOOSTER:
        case MOD_DAMPENER:
                st->boost += m->val->value;
                st->boost_left = BOOST_SCOPE;
                explain_add(ex, "%s '%s' %+.2f",
                            m->val->kind == MOD_BOOSTER ? "booster" : "dampener", m->term,
                            m->val->value);
                break;
        case MOD_CONTRAST:
                if (!st->contrast_seen) {
                        st->contrast_seen = 1;
                        st->contrast_w = m->val->value;
                        explain_add(ex, "contrast '%s' x%.2f st->after", m->term,
                                    st->contrast_w);
                }
                st->neg_left = st->boost_left = 0;
                break;
        }
}

/* A sentiment term: its value, emphasised, boosted and negated, summed. */
static inline void apply_sentiment(run_t *st, const sc_token_t *tk,
                                   const sc_lex_match_t *m, unsigned flags,
                                   int negator_phrase, sc_buf_t *ex)
{
        double v = m->val->value;
        int emoji = tk->type == SC_TOK_EMOJI || tk->type == SC_TOK_EMOTICON;
        if (emoji) {
                if (m->val->tags & TAG_SARCASM)
                        st->sarcasm = 1;
                if (m->val->tags & (TAG_CRISIS | TAG_SICK))
                        st->crisis_emoji = 1;
                if (tk->repeat > 1)
                        v *= 1.0 + 0.2 * (tk->repeat > 3 ? 3 : tk->repeat - 1);
        }
        if (st->boost_left && st->boost != 0)
                v *= 1.0 + st->boost;
        if ((tk->flags & SC_TOKF_ALLCAPS) && !(flags & SC_TEXT_SHOUTING))
                v += v > 0 ? CAPS_EMPHASIS : -CAPS_EMPHASIS;
        if (tk->flags & SC_TOKF_ELONGATED)
                v += v > 0 ? ELONGATION_EMPHASIS : -ELONGATION_EMPHASIS;
        int negated = 0;
        if (st->neg_left && !emoji && !negator_phrase) {
                v *= st->neg_w;
                negated = 1;
        }
        if (v < 0)
                st->neg_term = 1;
        explain_add(ex, "'%s' %+.2f%s%s", m->term, v, negated ? " (negated)" : "",
                    st->boost_left && st->boost != 0 ? " (boosted)" : "");
        if (st->contrast_seen)
                st->after += v;
        else
                st->before += v;
        st->boost = 0;
        st->boost_left = 0;
}

/* One pass over tokens, accumulating into st. depth 1 is a hashtag's parts. */
static void score_run(const sc_classifier_t *c, int lang, const sc_token_t *t,
                      const sc_lexset_probe_t *pr, size_t cnt, unsigned flags, run_t *st,
                      sc_buf_t *ex, int depth)
{
        for (size_t i = 0; i < cnt; i++) {
                const sc_token_t *tk = &t[i];
                intents_at(c, lang, t, pr, cnt, i, st->seen, &st->seen_cnt, st->miss, ex);
                if (tk->type == SC_TOK_HASHTAG && tk->part_cnt > 1 && depth == 0) {
                        score_hashtag(c, lang, tk, flags, st, ex);
                        continue;
                }
                if (tk->type == SC_TOK_PUNCT) {
                        if (has_byte(tk, '!'))
                                st->exclaim += tk->repeat;
                        if (has_byte(tk, '?'))
                                st->questions += tk->repeat;
                }
                if (is_clause_end(tk)) {
                        st->neg_left = st->boost_left = 0;
                        continue;
                }
                sc_lex_match_t mod, sen;
                int has_mod = modifier_at(c, lang, t, pr, cnt, i, &mod);
                int has_sen = sentiment_at(c, lang, t, pr, cnt, i, &sen);
                /* "nie polecam" the phrase, not "nie" the negator; such a phrase
                 * carries its own negation and is not negated again */
                int negator_phrase = 0;
                if (has_mod && has_sen && sen.tokens > mod.tokens) {
                        negator_phrase = mod.val->kind == MOD_NEGATOR;
                        has_mod = 0;
                }
                if (has_mod && has_sen && mod.val->kind == MOD_BOOSTER) {
                        /* "super szybko" boosts; "super!" scores on its own */
                        int follows = 0;
                        sc_lex_match_t nx;
                        for (size_t j = i + mod.tokens;
                             j < cnt && j < i + mod.tokens + BOOST_SCOPE &&
                             !is_clause_end(&t[j]);
                             j++)
                                if (sentiment_at(c, lang, t, pr, cnt, j, &nx))
                                        follows = 1;
                        if (!follows)
                                has_mod = 0;
                }
                if (has_mod) {
                        apply_modifier(st, &mod, ex);
                        i += mod.tokens - 1;
                        continue;
                }
                if (has_sen) {
                        apply_sentiment(st, tk, &sen, flags, negator_phrase, ex);
                        i += sen.tokens - 1;
                        if (st->neg_left)
                                st->neg_left--;
                        continue;
                }
                if (is_word(tk)) {
                        if (st->neg_left)
                                st->neg_left--;
                        if (st->boost_left && !--st->boost_left)
                                st->boost = 0;
                }
        }
}

static void probe_grow(sc_classify_t *cl, size_t cnt) __attribute__((noinline, cold));
static void probe_grow(sc_classify_t *cl, size_t cnt)
{
        SC_GROW(cl->probe, cl->probe_cap, cnt);
}

/* The rule engine alone; *lang_out gets LANG_* or -1. */
static int classify_rules(sc_classify_t *cl, const sc_classifier_t *c, const char *text,
                          size_t n, const char *lang_hint, sc_classification_t *out,
                          sc_buf_t *ex, int *lang_out)
{
        memset(out, 0, sizeof(*out));
        out->lang = "und";
        out->label = "neutral";
        *lang_out = -1;
        int cnt_i = sc_text_tokenize(cl->tx, text, n);
        if (cnt_i < 0)
                return -1;
        size_t cnt;
        const sc_token_t *t = sc_text_tokens(cl->tx, &cnt);
        unsigned flags = sc_text_flags(cl->tx);
        out->truncated = (flags & SC_TEXT_TRUNCATED) != 0;
        if (cnt > cl->probe_cap)
                probe_grow(cl, cnt);
        sc_lexset_probe(c->set, t, cnt, cl->probe);
        const sc_lexset_probe_t *pr = cl->probe;

        int lang = detect_lang(c, t, pr, cnt, flags, lang_hint, ex);
        if (lang >= 0)
                out->lang = lang == LANG_PL ? "pl" : "en";

        run_t run = {.contrast_w = 1}, *st = &run;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                st->miss[k] = 1.0;
        score_run(c, lang, t, pr, cnt, flags, st, ex, 0);

        double sum = st->contrast_seen ? st->before * (2.0 - st->contrast_w) +
                                             st->after * st->contrast_w
                                       : st->before;
        if (sum != 0 && st->exclaim) {
                double e =
                    EXCLAIM_STEP *
                    (double)(st->exclaim > EXCLAIM_MAX ? EXCLAIM_MAX : st->exclaim);
                sum += sum > 0 ? e : -e;
        }
        out->irony = st->sarcasm;
        if (st->sarcasm && sum >= 0) {
                explain_add(ex, "st->sarcasm marker: %+.2f -> %+.2f", sum,
                            -sum * 0.5 - 1.0);
                sum = -sum * 0.5 - 1.0;
                out->sarcasm = 1;
        }
        out->score = sum / sqrt(sum * sum + ALPHA);
        out->label = out->score >= LABEL_THRESHOLD    ? "positive"
                     : out->score <= -LABEL_THRESHOLD ? "negative"
                                                      : "neutral";

        if (st->questions)
                st->miss[SC_INTENT_QUESTION] *= 1.0 - 0.6;
        if (st->crisis_emoji)
                st->miss[SC_INTENT_CRISIS] *= 1.0 - 0.3;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                out->intent[k] = (float)(1.0 - st->miss[k]);
        /* A strongly negative post is a complaint even without a pattern
         * ("third outage this week"); praise needs a positive post. */
        if (out->score <= -0.5 && out->intent[SC_INTENT_COMPLAINT] < INTENT_THRESHOLD) {
                out->intent[SC_INTENT_COMPLAINT] =
                    (float)(1.0 - (1.0 - out->intent[SC_INTENT_COMPLAINT]) * 0.4);
                explain_add(ex, "complaint: strongly negative");
        }
        if ((out->score < 0 || out->sarcasm) && out->intent[SC_INTENT_PRAISE] > 0) {
                out->intent[SC_INTENT_PRAISE] = 0;
                explain_add(ex, "praise dropped: negative or ironic");
        }
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if (out->intent[k] >= INTENT_THRESHOLD)
                        out->intent_mask |= 1u << k;
        out->neg_cue = st->neg_term || st->sarcasm ||
                       (out->intent_mask & (1u << SC_INTENT_COMPLAINT)) != 0;
        *lang_out = lang;
        return 0;
}

static int rules_and_features(sc_classify_t *cl, const sc_classifier_t *c,
                              const char *text, size_t n, const char *hint, unsigned bits,
                              int names, sc_classification_t *out, sc_buf_t *ex,
                              int *lang)
{
        if (classify_rules(cl, c, text, n, hint, out, ex, lang))
                return -1;
        size_t cnt;
        const sc_token_t *t = sc_text_tokens(cl->tx, &cnt);
        cl->feats.bits = bits;
        cl->feats.want_names = names;
        if (sc_feats_extract(&cl->feats, t, cnt, sc_text_flags(cl->tx)))
                return -1;
        sc_feats_set_rules(&cl->feats, out->score, out->intent, out->sarcasm, out->label);
        return 0;
}

int sc_classify_features(sc_classify_t *cl, const sc_classifier_t *c, const char *text,
                         size_t n, const char *lang_hint, unsigned bits, int names,
                         int *lang, const struct sc_feats_s **feats)
{
        if (rules_and_features(cl, c, text, n, lang_hint, bits, names, &cl->rules, NULL,
                               lang))
                return -1;
        *feats = &cl->feats;
        return 0;
}

const sc_classification_t *sc_classify_rules_of_last(const sc_classify_t *cl)
{
        return &cl->rules;
}

static double sigmoid(double z)
{
        return 1.0 / (1.0 + exp(-z));
}

/* Lists the features that moved output o most toward its decision. */
static void explain_top(sc_buf_t *ex, const sc_model_t *m, int lang, int o,
                        const char *what, const sc_feats_t *f, int sign)
{
        enum { TOP = 4 };
        double best[TOP] = {0};
        int which[TOP];
        size_t at[TOP];
        int found = 0;
        for (size_t i = 0; i < f->n + SC_DENSE_USED; i++) {
                int dense = i >= f->n;
                double v = dense ? sc_model_dense_contrib(m, lang, o, f, (int)(i - f->n))
                                 : sc_model_contrib(m, lang, o, f, i);
                v *= sign;
                if (v <= 0 || (found == TOP && v <= best[TOP - 1]))
                        continue;
                int k = found < TOP ? found++ : TOP - 1;
                while (k > 0 && best[k - 1] < v) {
                        best[k] = best[k - 1];
                        which[k] = which[k - 1];
                        at[k] = at[k - 1];
                        k--;
                }
                best[k] = v;
                which[k] = dense;
                at[k] = dense ? i - f->n : i;
        }
        for (int k = 0; k < found; k++)
                explain_add(ex, "%s: %s %+.2f", what,
                            which[k] ? sc_dense_name((int)at[k])
                                     : sc_feats_name(f, at[k]),
                            sign * best[k]);
}

/* The sentiment from the classes trained (at least two of three): the
 * label's index, or -1 when too few were trained. */
static int decide_sentiment(unsigned present, const double *z, sc_classification_t *out,
                            sc_buf_t *ex, double *p_pos)
{
        double p[3], sum = 0;
        int best = -1, trained = 0;
        for (int k = 0; k < 3; k++) {
                trained += (present >> k) & 1;
                p[k] = (present >> k) & 1 ? sigmoid(z[k]) : 0;
                sum += p[k];
                if (best < 0 || p[k] > p[best])
                        best = k;
        }
        *p_pos = 0;
        if (trained < 2)
                return -1;
        static const char *const labels[3] = {"negative", "neutral", "positive"};
        /* an irony marker (🙄) is precise where the training sets
         * are thin: a positive-looking post with one is negative */
        if (out->irony && best == SC_OUT_POS) {
                explain_add(ex, "sarcasm marker: positive -> negative");
                double t = p[SC_OUT_NEG];
                p[SC_OUT_NEG] = p[SC_OUT_POS];
                p[SC_OUT_POS] = t;
                best = SC_OUT_NEG;
        }
        out->label = labels[best];
        out->score = (p[SC_OUT_POS] - p[SC_OUT_NEG]) / sum;
        /* docs/ROUTING.md: negative only below 0, positive only above */
        if (best == SC_OUT_NEG && out->score >= 0)
                out->score = -1e-3;
        else if (best == SC_OUT_POS && out->score <= 0)
                out->score = 1e-3;
        explain_add(ex, "sentiment %s p=%.2f", out->label, p[best] / sum);
        *p_pos = best == SC_OUT_POS ? p[best] / sum : 0;
        return best;
}

int sc_classify_decide(unsigned present, const double *z, sc_classification_t *out,
                       sc_buf_t *ex)
{
        double p_pos;
        int best = decide_sentiment(present, z, out, ex, &p_pos);
        out->intent_mask = 0;
        for (int k = 0; k < SC_INTENT_CNT; k++) {
                int o = SC_OUT_INTENT + k;
                if ((present >> o) & 1) {
                        float rule = out->intent[k];
                        out->intent[k] = (float)sigmoid(z[o]);
                        /* crisis phrases are precise: a sure rule hit stands */
                        if (k == SC_INTENT_CRISIS && rule >= CRISIS_RULE_SURE &&
                            rule > out->intent[k]) {
                                out->intent[k] = rule;
                                explain_add(ex, "crisis: rule %.2f kept", rule);
                        }
                        /* an ironic post is read by the rules that caught
                         * it: "Great job, third outage 🙄" is a complaint */
                        if (k == SC_INTENT_COMPLAINT && out->irony &&
                            !strcmp(out->label, "negative") && rule > out->intent[k]) {
                                out->intent[k] = rule;
                                explain_add(ex, "complaint: rule %.2f kept (irony)",
                                            rule);
                        }
                        /* the complaint words of the support sets (payments,
                         * "love how ...") also name what fans praise: a
                         * surely positive post in which the rules saw nothing
                         * wrong is not a complaint */
                        if (k == SC_INTENT_COMPLAINT && p_pos >= COMPLAINT_POS_WITHHOLD &&
                            !out->neg_cue && out->intent[k] >= INTENT_THRESHOLD) {
                                explain_add(ex,
                                            "complaint %.2f withheld: positive p=%.2f, "
                                            "no negative cue",
                                            out->intent[k], p_pos);
                                out->intent[k] = 0;
                        }
                }
                if (k == SC_INTENT_PRAISE && out->irony)
                        out->intent[k] = 0;
                if (out->intent[k] >= INTENT_THRESHOLD)
                        out->intent_mask |= 1u << k;
        }
        return best;
}

/* The model's reading replaces the rules' where it was trained. */
static void apply_model(sc_classify_t *cl, const sc_classifier_t *c, int lang,
                        sc_classification_t *out, sc_buf_t *ex)
{
        const sc_model_t *m = c->model;
        const sc_feats_t *f = &cl->feats;
        int ml = lang;
        if (ml < 0) /* no language spoke: the models are per language */
                return;
        double z[SC_MODEL_OUT];
        sc_model_scores(m, ml, f, z);
        explain_add(ex, "model %s (%s)", sc_model_version(m),
                    ml == LANG_PL ? "pl" : "en");
        unsigned present = 0;
        for (int o = 0; o < SC_MODEL_OUT; o++)
                present |= sc_model_present(m, ml, o) ? 1u << o : 0;
        int best = sc_classify_decide(present, z, out, ex);
        if (!ex)
                return;
        if (best >= 0)
                explain_top(ex, m, ml, best, out->label, f, 1);
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if ((out->intent_mask >> k & 1) && (present >> (SC_OUT_INTENT + k) & 1))
                        explain_top(ex, m, ml, SC_OUT_INTENT + k, sc_intent_name(k), f,
                                    1);
}

int sc_classify_text(sc_classify_t *cl, const sc_classifier_t *c, const char *text,
                     size_t n, const char *lang_hint, sc_classification_t *out,
                     sc_buf_t *ex)
{
        int lang, rc;
        if (ex)
                sc_buf_putc(ex, '[');
        if (!c->model)
                rc = classify_rules(cl, c, text, n, lang_hint, out, ex, &lang);
        else {
                rc =
                    rules_and_features(cl, c, text, n, lang_hint, sc_model_bits(c->model),
                                       ex != NULL, out, ex, &lang);
                if (!rc)
                        apply_model(cl, c, lang, out, ex);
        }
        if (ex)
                sc_buf_putc(ex, ']');
        return rc;
}

/* ---- priority, needs_reply, topics ------------------------------------- */

double sc_classify_priority(const sc_classification_t *r, int64_t followers, int verified,
                            const char **name)
{
        static const double severity[SC_INTENT_CNT] = {
            [SC_INTENT_COMPLAINT] = 0.55, [SC_INTENT_QUESTION] = 0.35,
            [SC_INTENT_PRAISE] = 0.1,     [SC_INTENT_PURCHASE] = 0.5,
            [SC_INTENT_CHURN] = 0.7,      [SC_INTENT_CRISIS] = 1.0,
            [SC_INTENT_SPAM] = 0.0};
        double sev = 0;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if ((r->intent_mask & (1u << k)) && severity[k] > sev)
                        sev = severity[k];
        double mood = r->score < 0 ? -r->score : r->score * 0.2;
        double reach = followers > 0 ? log10((double)followers + 1) / 6.0 : 0;
        if (reach > 1)
                reach = 1;
        if (verified && reach < 0.5)
                reach = 0.5;
        double p = 0.5 * sev + 0.35 * mood + 0.15 * reach;
        if ((r->intent_mask & (1u << SC_INTENT_CRISIS)) && p < 0.9)
                p = 0.9;
        if (r->intent_mask & (1u << SC_INTENT_SPAM))
                p = 0;
        if (p > 1)
                p = 1;
        if (name)
                *name = p >= 0.7    ? "urgent"
                        : p >= 0.45 ? "high"
                        : p >= 0.2  ? "normal"
                                    : "low";
        return p;
}

int sc_classify_needs_reply(const sc_classification_t *r, int is_brand)
{
        unsigned actionable = 1u << SC_INTENT_COMPLAINT | 1u << SC_INTENT_QUESTION |
                              1u << SC_INTENT_PURCHASE | 1u << SC_INTENT_CRISIS |
                              1u << SC_INTENT_CHURN;
        return !is_brand && (r->intent_mask & actionable) &&
               !(r->intent_mask & (1u << SC_INTENT_SPAM));
}

typedef struct topic_brand_s {
        char *id;
        sc_lexicon_t *lex;
        char **names;
        size_t name_cnt;
} topic_brand_t;

struct sc_topics_s {
        topic_brand_t *brands;
        size_t cnt;
};

void sc_topics_destroy(sc_topics_t *tp)
{
        if (!tp)
                return;
        for (size_t i = 0; i < tp->cnt; i++) {
                free(tp->brands[i].id);
                sc_lexicon_destroy(tp->brands[i].lex);
                for (size_t k = 0; k < tp->brands[i].name_cnt; k++)
                        free(tp->brands[i].names[k]);
                free(tp->brands[i].names);
        }
        free(tp->brands);
        free(tp);
}

sc_topics_t *sc_topics_new(const sc_brands_t *brands, char *errstr, size_t errstr_size)
{
        sc_topics_t *tp = sc_calloc(1, sizeof(*tp));
        size_t n = 0;
        while (brands && sc_brands_at(brands, n))
                n++;
        tp->brands = sc_calloc(n + 1, sizeof(*tp->brands));
        for (size_t i = 0; i < n; i++) {
                const sc_brand_t *b = sc_brands_at(brands, i);
                topic_brand_t *tb = &tp->brands[tp->cnt++];
                tb->id = sc_strdup(b->id);
                tb->lex = sc_lexicon_new();
                tb->names = sc_calloc(b->topic_cnt + 1, sizeof(*tb->names));
                if (!tb->lex)
                        goto nomem;
                for (size_t k = 0; k < b->topic_cnt; k++) {
                        tb->names[tb->name_cnt++] = sc_strdup(b->topics[k].name);
                        for (size_t j = 0; j < b->topics[k].keyword_cnt; j++) {
                                sc_lex_val_t v = {.kind = (uint16_t)k};
                                char err[256];
                                if (sc_lexicon_add(tb->lex, b->topics[k].keywords[j], &v,
                                                   err, sizeof(err))) {
                                        snprintf(errstr, errstr_size,
                                                 "brand %s topic %s: %s", b->id,
                                                 b->topics[k].name, err);
                                        sc_topics_destroy(tp);
                                        return NULL;
                                }
                        }
                }
        }
        for (size_t i = 0; i < tp->cnt; i++)
                if (sc_lexicon_freeze(tp->brands[i].lex))
                        goto nomem;
        return tp;
nomem:
        snprintf(errstr, errstr_size, "out of memory");
        sc_topics_destroy(tp);
        return NULL;
}

size_t sc_classify_topics(const sc_classify_t *cl, const sc_topics_t *tp,
                          const char *brand, const char **out, size_t max)
{
        const topic_brand_t *tb = NULL;
        for (size_t i = 0; tp && brand && i < tp->cnt && !tb; i++)
                if (!strcmp(tp->brands[i].id, brand))
                        tb = &tp->brands[i];
        if (!tb)
                return 0;
        size_t cnt, found = 0;
        uint64_t seen = 0;
        const sc_token_t *t = sc_text_tokens(cl->tx, &cnt);
        sc_lex_match_t m;
        for (size_t i = 0; i < cnt; i++)
                if (sc_lexicon_match(tb->lex, t, cnt, i, &m) && m.val->kind < 64)
                        seen |= 1ull << m.val->kind;
        for (size_t k = 0; k < tb->name_cnt && k < 64 && found < max; k++)
                if (seen & (1ull << k))
                        out[found++] = tb->names[k];
        return found;
}
