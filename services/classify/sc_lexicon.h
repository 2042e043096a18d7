/* A lexicon of words, stems and phrases matched against tokens of
 * sc_text, by their fold form (lowercase, Polish diacritics removed,
 * elongations squeezed): "działa", "dziala" and "DZIAŁAAA" are one key.
 *
 * Terms are added as written in the data files: words separated by spaces,
 * a trailing '*' makes a word a stem (prefix match), anywhere in a phrase.
 * Each term is tokenized with sc_text, so terms and posts fold alike.
 *
 * Matching at a token walks a byte trie along the token's fold (and on
 * across following tokens for phrases): O(bytes walked), no allocation.
 * The best match is the one covering most tokens, then an exact word over a
 * stem, then the longest stem. */
#ifndef SC_LEXICON_H
#define SC_LEXICON_H
#include <stddef.h>
#include <stdint.h>

#include "sc_text.h"

/* What a term means; interpreted by the caller (valence, modifier kind and
 * weight, intent id, tags). */
typedef struct sc_lex_val_s {
        float value;
        uint16_t kind;
        uint16_t aux;
        uint32_t tags;
} sc_lex_val_t;

typedef struct sc_lex_match_s {
        const sc_lex_val_t *val;
        const char *term; /* as written in the data file */
        size_t tokens;    /* tokens covered, >= 1 */
        int stem;         /* matched through a stem */
} sc_lex_match_t;

typedef struct sc_lexicon_s sc_lexicon_t;

sc_lexicon_t *sc_lexicon_new(void);
void sc_lexicon_destroy(sc_lexicon_t *l);

/* Adds a term (copied). A term already present is replaced. Returns 0, or -1
 * with a reason (empty term, more than SC_LEX_MAX_WORDS words, no memory). */
#define SC_LEX_MAX_WORDS 6
int sc_lexicon_add(sc_lexicon_t *l, const char *term, const sc_lex_val_t *val,
                   char *errstr, size_t errstr_size);
size_t sc_lexicon_size(const sc_lexicon_t *l);

/* Compacts the trie for matching; call once the lexicon is loaded (an add
 * afterwards un-freezes it; matching still works, only slower). 0 or -1. */
int sc_lexicon_freeze(sc_lexicon_t *l);

/* The best term starting at toks[i], or 0 when none. */
int sc_lexicon_match(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                     sc_lex_match_t *out);

/* Several frozen lexicons asked about the same tokens (the classifier asks
 * every word of a post its language, sentiment, modifier and intent
 * lexicons): one table over all their token-sized paths answers a token for
 * every lexicon with one probe, where sc_lexicon_match filters and looks up
 * per lexicon. sc_lexset_match gives exactly what sc_lexicon_match gives.
 * The set only reads the lexicons: they stay the caller's and must outlive
 * it, frozen and unchanged. */
#define SC_LEXSET_MAX 16
typedef struct sc_lexset_s sc_lexset_t;

/* What one probe found for a token: the lexicons (bit k: lex[k]) that may
 * match there and where their answers are. */
typedef struct sc_lexset_probe_s {
        uint32_t rec;
        uint32_t mask;
} sc_lexset_probe_t;

/* n (<= SC_LEXSET_MAX) frozen lexicons. NULL with a reason. */
sc_lexset_t *sc_lexset_new(sc_lexicon_t *const *lex, size_t n, char *errstr,
                           size_t errstr_size);
void sc_lexset_destroy(sc_lexset_t *s);

/* Probes every token of toks[0..cnt) into out[0..cnt). O(bytes). */
void sc_lexset_probe(const sc_lexset_t *s, const sc_token_t *toks, size_t cnt,
                     sc_lexset_probe_t *out);

int sc_lexset_match_at(const sc_lexset_t *s, unsigned k, sc_lexset_probe_t p,
                       const sc_token_t *toks, size_t cnt, size_t i, sc_lex_match_t *out);

/* sc_lexicon_match(lex[k], toks, cnt, i, out), given p = the probe of
 * toks[i]. Inline: most asks are answered by the mask alone. */
static inline int sc_lexset_match(const sc_lexset_t *s, unsigned k, sc_lexset_probe_t p,
                                  const sc_token_t *toks, size_t cnt, size_t i,
                                  sc_lex_match_t *out)
{
        if (!(p.mask >> k & 1))
                return 0;
        return sc_lexset_match_at(s, k, p, toks, cnt, i, out);
}

#endif
