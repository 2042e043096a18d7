/* Tokenizer for social posts (Polish and English): words, URLs, @mentions,
 * #hashtags, emoji graphemes, emoticons, numbers, amounts and punctuation
 * runs, each with a normalized form (NFC + case folded) and a lexicon key
 * (Polish diacritics removed, elongations squeezed).
 *
 * One sc_text_t is reused for every post of a worker thread: it owns the
 * token array and an arena holding every norm/fold/part string, grows them
 * while warming up and then tokenizes without allocating. Not thread-safe;
 * use one per thread. Work is O(n) in the capped input. */
#ifndef SC_TEXT_H
#define SC_TEXT_H
#include <stddef.h>
#include <stdint.h>

typedef struct sc_text_s sc_text_t;

typedef enum {
        SC_TOK_WORD = 1,
        SC_TOK_URL,
        SC_TOK_MENTION,
        SC_TOK_HASHTAG,
        SC_TOK_EMOJI,
        SC_TOK_EMOTICON,
        SC_TOK_NUMBER,
        SC_TOK_AMOUNT,
        SC_TOK_PUNCT,
} sc_tok_type_t;

/* Token flags (sc_token_t.flags). */
#define SC_TOKF_ALLCAPS      0x01 /* WORD: >= 2 letters, none lowercase */
#define SC_TOKF_ELONGATED    0x02 /* a letter repeated 3+ times (squeezed in fold) */
#define SC_TOKF_PL_DIACRITIC 0x04 /* held ą ć ę ł ń ó ś ź ż: a strong Polish signal */
#define SC_TOKF_PARTS_TRUNC  0x08 /* HASHTAG: more than SC_TOK_MAX_PARTS parts */

/* Whole-text flags (sc_text_flags()). */
#define SC_TEXT_TRUNCATED     0x0001 /* input longer than max_bytes; cut at a code point */
#define SC_TEXT_HAS_URL       0x0002
#define SC_TEXT_HAS_MENTION   0x0004
#define SC_TEXT_HAS_HASHTAG   0x0008
#define SC_TEXT_HAS_EMOJI     0x0010
#define SC_TEXT_HAS_EMOTICON  0x0020
#define SC_TEXT_HAS_AMOUNT    0x0040
#define SC_TEXT_HAS_ALLCAPS   0x0080 /* at least one ALLCAPS word */
#define SC_TEXT_SHOUTING      0x0100 /* every word of >= 2 letters is ALLCAPS */
#define SC_TEXT_HAS_ELONGATED 0x0200
#define SC_TEXT_PL_DIACRITICS 0x0400
#define SC_TEXT_INVALID       0x0800 /* last call returned -1: invalid UTF-8 */

#define SC_TOK_MAX_PARTS 4

/* text points into the caller's input (valid while it is); norm, fold and
 * part[] point into the tokenizer's arena, are NUL-terminated and stay valid
 * until the next sc_text_tokenize() or sc_text_destroy().
 *
 * norm: NFC + case folded. Exceptions, because the lowercased form would
 * mean something else: a URL keeps its path as written (paths are case
 * sensitive), only scheme and host are lowercased.
 * fold: the lexicon key. WORD and HASHTAG: norm without Polish diacritics,
 * letters repeated 3+ times squeezed to one, ’ as '. MENTION and AMOUNT:
 * diacritics removed only (handles are not elongated). URL: the lowercased
 * host without "www.". EMOJI: without variation selectors and skin tones
 * ("👍🏽" -> "👍"). EMOTICON: without the nose and with the mouth squeezed
 * (":-)))" -> ":)"). PUNCT: the character once, "?!" for a mixed ?/! run.
 * Otherwise fold == norm (the same pointer). */
typedef struct sc_token_s {
        const char *text;
        size_t len;
        const char *norm;
        size_t norm_len;
        const char *fold;
        size_t fold_len;
        /* HASHTAG: camelCase / digit / '_' split parts in fold form
         * ("#NieDziałaInternet" -> "nie", "dziala", "internet"). */
        const char *part[SC_TOK_MAX_PARTS];
        size_t part_len[SC_TOK_MAX_PARTS];
        uint32_t fold_hash; /* sc_text_fold_hash(fold, fold_len), for lookups */
        uint32_t repeat;    /* PUNCT, EMOTICON: run length ("!!!" = 3); else 1 */
        uint16_t flags;     /* SC_TOKF_* */
        uint8_t type;       /* sc_tok_type_t */
        uint8_t part_cnt;
} sc_token_t;

/* max_bytes caps the input looked at per call (> 0). NULL if max_bytes is 0
 * or over INT_MAX; out of memory aborts (common/sc_alloc.h).
 * Freed with sc_text_destroy(). */
sc_text_t *sc_text_new(size_t max_bytes);
void sc_text_destroy(sc_text_t *t);

/* Tokenizes s[0..n). Input longer than max_bytes is cut to max_bytes on a
 * code point boundary and SC_TEXT_TRUNCATED is set. Returns the number of
 * tokens, or -1 if the (capped) input is not valid UTF-8 (SC_TEXT_INVALID);
 * then no tokens. Out of memory aborts (common/sc_alloc.h). */
int sc_text_tokenize(sc_text_t *t, const char *s, size_t n);

/* The hash of a fold that tokens carry (fold_hash); whoever builds a token
 * by hand sets it with this. */
uint32_t sc_text_fold_hash(const char *s, size_t n);

/* The tokens of the last call; *cnt (if not NULL) gets their number. */
const sc_token_t *sc_text_tokens(const sc_text_t *t, size_t *cnt);
/* SC_TEXT_* flags of the last call. */
unsigned sc_text_flags(const sc_text_t *t);
/* Name of a token type for logs and tests ("word", "url", ...). */
const char *sc_tok_type_name(int type);

#endif
