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

#endif
