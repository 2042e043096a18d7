#include "sc_text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "sc_alloc.h"
#include "sc_utf8.h"

/* Character classes. Code points below SC_TEXT_TABLE come from a table
 * built once per tokenizer from utf8proc, because Latin (ASCII, Latin-1,
 * Latin Extended-A/B: all of Polish) is nearly every code point we see and a
 * utf8proc property lookup per character would dominate the profile. */
#define K_SPACE  0x01
#define K_LETTER 0x02
#define K_UPPER  0x04
#define K_LOWER  0x08
#define K_DIGIT  0x10
#define K_MARK   0x20
#define K_EMOJI  0x40
#define K_FAST   0x80  /* table only: case folds to the single code point lower[] */
#define K_EMOTE  0x100 /* table only: may start an emoticon */
#define K_PLAIN  0x200 /* table only: ASCII letter that starts no URL or emoticon */
#define K_WORD   (K_LETTER | K_DIGIT | K_MARK)

#define SC_TEXT_TABLE 0x250
/* Pictographs below this (© ® ™ ‼ ↔ ...) are ordinary symbols in running text
 * unless an emoji variation selector follows them. */
#define SC_TEXT_EMOJI_MIN 0x2300
#define SC_NORM_OPTS      (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD)

/* Offsets into the arena while tokenizing: the arena may move when it grows,
 * so pointers are only filled in once the whole text is done. */
struct sc_tok_off {
        size_t norm, fold, part[SC_TOK_MAX_PARTS];
};

struct sc_text_s {
        size_t max_bytes;
        sc_token_t *tok;
        struct sc_tok_off *off;
        size_t cnt, cap;
        char *arena;
        size_t alen, acap;
        utf8proc_int32_t *scr; /* utf8proc work buffer, in code points */
        size_t scap;
        unsigned flags;
        uint16_t cls[SC_TEXT_TABLE];
        uint32_t lower[SC_TEXT_TABLE];
        /* ASCII: letter, upper and lower counts of a byte packed in one
         * word (ACNT_BITS each), so the word scan adds once per byte. */
        uint64_t acnt[0x80];
        unsigned char alow[0x80];
};

#define ACNT_BITS 21
#define ACNT_MASK ((1u << ACNT_BITS) - 1)

static const char *const sc_tok_names[] = {
    "?",     "word",     "url",    "mention", "hashtag",
    "emoji", "emoticon", "number", "amount",  "punct",
};

const char *sc_tok_type_name(int type)
{
        if (type < SC_TOK_WORD || type > SC_TOK_PUNCT)
                return "?";
        return sc_tok_names[type];
}

/* Decodes one code point of input already validated as UTF-8. */
static inline uint32_t dec(const unsigned char *p, size_t *len)
{
        unsigned char c = p[0];
        if (c < 0x80) {
                *len = 1;
                return c;
        }
        if (c < 0xe0) {
                *len = 2;
                return ((uint32_t)(c & 0x1f) << 6) | (p[1] & 0x3f);
        }
        if (c < 0xf0) {
                *len = 3;
                return ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(p[1] & 0x3f) << 6) |
                       (p[2] & 0x3f);
        }
        *len = 4;
        return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
               ((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
}

static size_t enc(uint32_t cp, char *o)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

static unsigned slow_cls(uint32_t cp)
{
        const utf8proc_property_t *pr = utf8proc_get_property((utf8proc_int32_t)cp);
        unsigned k = 0;
        switch (pr->category) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LT:
                k = K_LETTER | K_UPPER;
                break;
        case UTF8PROC_CATEGORY_LL:
                k = K_LETTER | K_LOWER;
                break;
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
                k = K_LETTER;
                break;
        case UTF8PROC_CATEGORY_ND:
                k = K_DIGIT;
                break;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
                k = K_MARK;
                break;
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CF: /* zero-width spaces, bidi marks: separators */
                k = K_SPACE;
                break;
        default:
                k = 0; /* punctuation and symbols */
        }
        switch (pr->boundclass) {
        case UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC:
        case UTF8PROC_BOUNDCLASS_E_ZWG:
        case UTF8PROC_BOUNDCLASS_E_BASE:
        case UTF8PROC_BOUNDCLASS_E_BASE_GAZ:
        case UTF8PROC_BOUNDCLASS_GLUE_AFTER_ZWJ:
                if (cp >= SC_TEXT_EMOJI_MIN)
                        k = K_EMOJI;
                break;
        case UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR:
                k = K_EMOJI;
                break;
        default:
                break;
        }
        return k;
}

static inline unsigned cls_of(const sc_text_t *t, uint32_t cp)
{
        return cp < SC_TEXT_TABLE ? t->cls[cp] : slow_cls(cp);
}

/* Emoji components that NFC and case folding leave alone, so an emoji
 * grapheme made only of them is copied instead of run through utf8proc. */
static int emoji_part(uint32_t cp)
{
        return cp == 0x200d || cp == 0xfe0e || cp == 0xfe0f || cp == 0x20e3 ||
               (cp >= 0x1f3fb && cp <= 0x1f3ff) || (cp >= 0xe0020 && cp <= 0xe007f);
}

static uint32_t pl_strip(uint32_t cp)
{
        switch (cp) {
        case 0x105:
                return 'a';
        case 0x107:
                return 'c';
        case 0x119:
                return 'e';
        case 0x142:
                return 'l';
        case 0x144:
                return 'n';
        case 0xf3:
                return 'o';
        case 0x15b:
                return 's';
        case 0x17a:
        case 0x17c:
                return 'z';
        default:
                return cp;
        }
}

sc_text_t *sc_text_new(size_t max_bytes)
{
        if (!max_bytes || max_bytes > (size_t)INT_MAX)
                return NULL; /* token counts and repeats must fit the int result */
        sc_text_t *t = sc_calloc(1, sizeof(*t));
        t->max_bytes = max_bytes;
        /* Sized for a typical post so most workers never grow them. */
        t->cap = 128;
        t->acap = 4096;
        t->scap = 512;
        t->tok = sc_malloc(t->cap * sizeof(*t->tok));
        t->off = sc_malloc(t->cap * sizeof(*t->off));
        t->arena = sc_malloc(t->acap);
        t->scr = sc_malloc(t->scap * sizeof(*t->scr));
        for (uint32_t cp = 0; cp < SC_TEXT_TABLE; cp++) {
                unsigned k = slow_cls(cp);
                utf8proc_int32_t buf[8];
                utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8,
                                                             SC_NORM_OPTS, NULL);
                if (r > 0 && r <= 8)
                        r = utf8proc_normalize_utf32(buf, r, SC_NORM_OPTS);
                /* Latin starters never compose with each other, so a token of
                 * such code points is NFC once each is folded on its own. */
                if (r == 1 && !(k & (K_MARK | K_EMOJI))) {
                        k |= K_FAST;
                        t->lower[cp] = (uint32_t)buf[0];
                }
                if (cp && cp < 0x80 && strchr(":;=xX<^-T", (int)cp))
                        k |= K_EMOTE;
                if (cp < 0x80 && (k & K_LETTER) && !(k & K_EMOTE) &&
                    !strchr("hHwW", (int)cp))
                        k |= K_PLAIN;
                t->cls[cp] = (uint16_t)k;
                if (cp < 0x80) {
                        t->acnt[cp] = (uint64_t)((k & K_LETTER) != 0) |
                                      (uint64_t)((k & K_UPPER) != 0) << ACNT_BITS |
                                      (uint64_t)((k & K_LOWER) != 0) << 2 * ACNT_BITS;
                        t->alow[cp] = (unsigned char)t->lower[cp];
                }
        }
        return t;
}

void sc_text_destroy(sc_text_t *t)
{
        if (!t)
                return;
        free(t->tok);
        free(t->off);
        free(t->arena);
        free(t->scr);
        free(t);
}

static void agrow(sc_text_t *t, size_t need) __attribute__((noinline, cold));
static void agrow(sc_text_t *t, size_t need)
{
        SC_GROW(t->arena, t->acap, t->alen + need);
}

static inline void areserve(sc_text_t *t, size_t need)
{
        if (__builtin_expect(t->acap - t->alen < need, 0))
                agrow(t, need);
}

/* Appends the NFC + case folded form of s[0..len) to the arena, NUL-terminated. */
static int norm_span(sc_text_t *t, const char *s, size_t len, size_t *off, size_t *olen)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, l, k = 0;
        /* Folding a table code point at most doubles its bytes (Ⱥ -> ⱥ). */
        areserve(t, 2 * len + 1);
        char *o = t->arena + t->alen;
        while (i < len) {
                unsigned char c = p[i];
                if (c < 0x80) {
                        o[k++] = (char)t->lower[c];
                        i++;
                        continue;
                }
                uint32_t cp = dec(p + i, &l);
                if (cp >= SC_TEXT_TABLE || !(t->cls[cp] & K_FAST))
                        goto slow;
                k += enc(t->lower[cp], o + k);
                i += l;
        }
        o[k] = 0;
        *off = t->alen;
        *olen = k;
        t->alen += k + 1;
        return 0;
slow:;
        utf8proc_ssize_t r;
        for (;;) {
                r = utf8proc_decompose(p, (utf8proc_ssize_t)len, t->scr,
                                       (utf8proc_ssize_t)t->scap, SC_NORM_OPTS);
                if (r < 0)
                        return -1;
                if ((size_t)r <= t->scap)
                        break;
                SC_GROW(t->scr, t->scap, (size_t)r);
        }
        r = utf8proc_reencode(t->scr, r, SC_NORM_OPTS);
        if (r < 0)
                return -1;
        areserve(t, (size_t)r + 1);
        memcpy(t->arena + t->alen, t->scr, (size_t)r);
        t->arena[t->alen + (size_t)r] = 0;
        *off = t->alen;
        *olen = (size_t)r;
        t->alen += (size_t)r + 1;
        return 0;
}

/* Writes the lexicon key of a norm string src[0..len) to dst: Polish
 * diacritics removed, ’ as ', and (if squeeze) a letter repeated 3+ times
 * once. Every change shortens the bytes and a run is written only after it
 * was read, so dst may equal src. Returns the length written (no NUL). */
static size_t fold_into(const sc_text_t *t, const char *src, size_t len, char *dst,
                        int squeeze, uint16_t *flags)
{
        const unsigned char *p = (const unsigned char *)src;
        size_t i = 0, o = 0, l;
        uint32_t run = 0;
        size_t rcnt = 0;
        int rletter = 0;
        char e[4];
        while (i <= len) {
                uint32_t cp = 0, m = 0;
                if (i < len) {
                        if (p[i] < 0x80) {
                                cp = p[i];
                                l = 1;
                        } else {
                                cp = dec(p + i, &l);
                        }
                        m = pl_strip(cp);
                        if (m != cp)
                                *flags |= SC_TOKF_PL_DIACRITIC;
                        else if (cp == 0x2019)
                                m = '\'';
                        i += l;
                        if (rcnt && m == run) {
                                rcnt++;
                                continue;
                        }
                } else {
                        i++;
                }
                if (rcnt == 1 && run < 0x80) {
                        dst[o++] = (char)run;
                } else if (rcnt) {
                        size_t el = enc(run, e);
                        if (squeeze && rletter && rcnt >= 3) {
                                *flags |= SC_TOKF_ELONGATED;
                                rcnt = 1;
                        }
                        while (rcnt--) {
                                memcpy(dst + o, e, el);
                                o += el;
                        }
                }
                run = m;
                rcnt = 1;
                rletter = (cls_of(t, cp) & K_LETTER) != 0;
        }
        return o;
}

/* Whether fold_into() could change s: only non-ASCII bytes (diacritics, ’)
 * and a letter three times in a row do. Most English words skip the copy. */
static int fold_changes(const sc_text_t *t, const unsigned char *p, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                if (p[i] >= 0x80)
                        return 1;
                if (i >= 2 && p[i] == p[i - 1] && p[i] == p[i - 2] &&
                    (t->cls[p[i]] & K_LETTER))
                        return 1;
        }
        return 0;
}

/* fold of the norm at noff: written after it, or the same string if unchanged. */
static int fold_norm(sc_text_t *t, size_t noff, size_t nlen, int squeeze, size_t *foff,
                     size_t *flen, uint16_t *flags)
{
        if (!fold_changes(t, (const unsigned char *)t->arena + noff, nlen)) {
                *foff = noff;
                *flen = nlen;
                return 0;
        }
        areserve(t, nlen + 1);
        char *dst = t->arena + t->alen;
        size_t k = fold_into(t, t->arena + noff, nlen, dst, squeeze, flags);
        if (k == nlen) {
                *foff = noff;
                *flen = nlen;
                return 0;
        }
        dst[k] = 0;
        *foff = t->alen;
        *flen = k;
        t->alen += k + 1;
        return 0;
}

static void tok_grow(sc_text_t *t) __attribute__((noinline));
static void tok_grow(sc_text_t *t)
{
        /* tok and off share cap: grow both to the same new capacity. */
        size_t cap = t->cap;
        SC_GROW(t->tok, cap, t->cnt + 1);
        t->off = sc_realloc(t->off, cap * sizeof(*t->off));
        t->cap = cap;
}

/* Inlined: one per token, and a call saving registers cost more than the
 * stores; growing is apart. */
static inline __attribute__((always_inline)) sc_token_t *
tok_add(sc_text_t *t, int type, const unsigned char *s, size_t len)
{
        if (__builtin_expect(t->cnt == t->cap, 0))
                tok_grow(t);
        /* Field by field: part[] is only read below part_cnt, and clearing
         * the whole struct showed up in the profile. */
        sc_token_t *k = &t->tok[t->cnt++];
        k->text = (const char *)s;
        k->len = len;
        k->fold_len = k->norm_len = 0;
        k->repeat = 1;
        k->flags = 0;
        k->type = (uint8_t)type;
        k->part_cnt = 0;
        return k;
}

#define OFF(k) (&t->off[(k)-t->tok])

/* Plain tokens: norm, then fold (squeeze for words and hashtags only). */
static sc_token_t *tok_std(sc_text_t *t, int type, const unsigned char *s, size_t len)
{
        sc_token_t *k = tok_add(t, type, s, len);
        struct sc_tok_off *o = OFF(k);
        if (norm_span(t, (const char *)s, len, &o->norm, &k->norm_len))
                return NULL;
        if (type == SC_TOK_NUMBER) {
                o->fold = o->norm;
                k->fold_len = k->norm_len;
                return k;
        }
        int squeeze = type == SC_TOK_WORD || type == SC_TOK_HASHTAG;
        if (fold_norm(t, o->norm, k->norm_len, squeeze, &o->fold, &k->fold_len,
                      &k->flags))
                return NULL;
        return k;
}

/* Adds one hashtag part in fold form, folding its norm in place. */
static int add_part(sc_text_t *t, sc_token_t *k, const unsigned char *s, size_t len)
{
        if (!len)
                return 0;
        if (k->part_cnt == SC_TOK_MAX_PARTS) {
                k->flags |= SC_TOKF_PARTS_TRUNC;
                return 0;
        }
        size_t off, nlen;
        uint16_t ignore = 0;
        if (norm_span(t, (const char *)s, len, &off, &nlen))
                return -1;
        size_t fl = fold_into(t, t->arena + off, nlen, t->arena + off, 1, &ignore);
        t->arena[off + fl] = 0;
        t->alen = off + fl + 1;
        OFF(k)->part[k->part_cnt] = off;
        k->part_len[k->part_cnt++] = fl;
        return 0;
}

/* Splits a hashtag body at camelCase humps, letter/digit changes and '_':
 * "NieDziałaInternet" -> nie, dziala, internet; "ABCDef" -> abc, def. */
static int hashtag_parts(sc_text_t *t, sc_token_t *k, const unsigned char *p, size_t b,
                         size_t e)
{
        size_t start = b, i = b, l;
        int prev = 0; /* 0 none, 'u' upper, 'l' other letter, 'd' digit */
        while (i < e) {
                uint32_t cp = dec(p + i, &l);
                if (cp == '_') {
                        if (add_part(t, k, p + start, i - start))
                                return -1;
                        start = i + l;
                        prev = 0;
                        i += l;
                        continue;
                }
                unsigned c = cls_of(t, cp);
                if (c & K_MARK) {
                        i += l;
                        continue;
                }
                int ty = (c & K_DIGIT) ? 'd' : (c & K_UPPER) ? 'u' : 'l';
                int cut = 0;
                if (prev && i > start) {
                        if ((ty == 'd') != (prev == 'd'))
                                cut = 1;
                        else if (ty == 'u' && prev == 'l')
                                cut = 1;
                        else if (ty == 'u' && prev == 'u' && i + l < e) {
                                size_t l2;
                                uint32_t nx = dec(p + i + l, &l2);
                                cut = (cls_of(t, nx) & K_LOWER) != 0;
                        }
                }
                if (cut) {
                        if (add_part(t, k, p + start, i - start))
                                return -1;
                        start = i;
                }
                prev = ty;
                i += l;
        }
        return add_part(t, k, p + start, e - start);
}

static unsigned prev_cls(const sc_text_t *t, const unsigned char *p, size_t i)
{
        if (!i)
                return K_SPACE;
        size_t j = i - 1, l;
        while (j > 0 && (p[j] & 0xc0) == 0x80)
                j--;
        return cls_of(t, dec(p + j, &l));
}

/* Class at i, with the end of text counting as space. */
static unsigned cls_at(const sc_text_t *t, const unsigned char *p, size_t n, size_t i)
{
        size_t l;
        return i < n ? cls_of(t, dec(p + i, &l)) : K_SPACE;
}

static int lc(int c)
{
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int has_prefix(const unsigned char *p, size_t n, size_t i, const char *pre)
{
        size_t k = 0;
        for (; pre[k]; k++)
                if (i + k >= n || lc(p[i + k]) != pre[k])
                        return 0;
        return 1;
}

/* URL at i: http(s):// or www. up to whitespace, minus trailing punctuation
 * that ends the sentence rather than the URL. Returns the end or 0. */
static size_t scan_url(const sc_text_t *t, const unsigned char *p, size_t n, size_t i,
                       size_t *host)
{
        size_t j;
        if (has_prefix(p, n, i, "https://"))
                j = i + 8;
        else if (has_prefix(p, n, i, "http://"))
                j = i + 7;
        else if (has_prefix(p, n, i, "www.") && (cls_at(t, p, n, i + 4) & K_WORD))
                j = i;
        else
                return 0;
        if (prev_cls(t, p, i) & K_WORD)
                return 0;
        *host = j;
        size_t e = j, l;
        int open = 0;
        while (e < n) {
                uint32_t cp = dec(p + e, &l);
                if (cp == '<' || cp == '>' || cp == '"' ||
                    (cls_of(t, cp) & (K_SPACE | K_EMOJI)))
                        break;
                open += cp == '(' ? 1 : cp == ')' ? -1 : 0;
                e += l;
        }
        while (e > j) {
                unsigned char c = p[e - 1];
                if (c == ')' && open < 0) {
                        open++;
                        e--;
                } else if (strchr(".,;:!?'\"]}", c) && c) {
                        e--;
                } else if (e - j >= 3 && !memcmp(p + e - 3, "\xe2\x80\xa6", 3)) {
                        e -= 3; /* … */
                } else {
                        break;
                }
        }
        return e > j ? e : 0;
}

/* Emoticon at i. Returns its end or 0; *base = bytes before mouth repeats. */
static size_t scan_emoticon(const sc_text_t *t, const unsigned char *p, size_t n,
                            size_t i, size_t *base, uint32_t *rep)
{
        unsigned pc = prev_cls(t, p, i);
        unsigned char c = p[i];
        size_t j = i + 1;
        unsigned char m = 0;
        int repeatable = 0, word_start = 0;
        if (pc & K_DIGIT)
                return 0; /* "10:30", "2:1" */
        if (c == ':' || c == ';' || c == '=') {
                if (j < n && (p[j] == '-' || (p[j] == '\'' && c == ':')))
                        j++;
                if (j >= n || !strchr(")(DPp/\\*|Oo><][3S", p[j]) || !p[j])
                        return 0;
                m = p[j++];
                repeatable = strchr(")(DPp3", m) != NULL;
        } else if (c == 'x' || c == 'X') {
                if (j >= n || (p[j] != 'D' && p[j] != 'd'))
                        return 0;
                m = p[j++];
                repeatable = word_start = 1;
        } else if (c == '<') {
                if (j < n && p[j] == '/')
                        j++;
                if (j >= n || p[j] != '3')
                        return 0;
                m = p[j++];
                repeatable = 1;
        } else if (c == '^' || c == '-' || c == 'T') {
                if (j < n && (p[j] == '_' || (p[j] == '.' && c == '^')))
                        j++;
                if (j >= n || p[j] != c || (c != '^' && p[j - 1] != '_'))
                        return 0;
                j++;
                word_start = c == 'T';
        } else {
                return 0;
        }
        if (word_start && (pc & K_WORD))
                return 0;
        *base = j - i;
        *rep = 1;
        while (repeatable && j < n && p[j] == m) {
                j++;
                ++*rep;
        }
        /* ":Przepraszam", "://", ":3000": a letter, digit or slash after it means
         * it was not a face. */
        if ((cls_at(t, p, n, j) & K_WORD) || (j < n && p[j] == '/'))
                return 0;
        return j;
}

static size_t scan_digits(const unsigned char *p, size_t n, size_t j)
{
        while (j < n && p[j] >= '0' && p[j] <= '9')
                j++;
        return j;
}

/* Number at i: digits with inner . , or : groups ("3,5", "1.000,50", "10:30"). */
static size_t scan_number(const unsigned char *p, size_t n, size_t i, int *grouped)
{
        size_t j = scan_digits(p, n, i);
        *grouped = 0;
        while (j + 1 < n && (p[j] == '.' || p[j] == ',' || p[j] == ':') &&
               p[j + 1] >= '0' && p[j + 1] <= '9') {
                j = scan_digits(p, n, j + 1);
                *grouped = 1;
        }
        return j;
}

static int is_cur_sym(uint32_t cp)
{
        return cp == '$' || cp == 0x20ac || cp == 0xa3;
}

/* Currency after a number at j: optional space (also NBSP, narrow NBSP),
 * then a symbol or a currency word ("zł", "PLN", "złotych", "EUR", ...).
 * Returns the amount's end or 0. */
static size_t scan_currency(const sc_text_t *t, const unsigned char *p, size_t n,
                            size_t j)
{
        static const char *const words[] = {"zl",  "pln",  "zloty", "zlote", "zlotych",
                                            "eur", "euro", "usd",   "gbp",   NULL};
        size_t l;
        if (j >= n)
                return 0;
        uint32_t cp = dec(p + j, &l);
        if (cp == ' ' || cp == 0xa0 || cp == 0x202f) {
                j += l;
                if (j >= n)
                        return 0;
                cp = dec(p + j, &l);
        }
        if (is_cur_sym(cp))
                return j + l;
        char w[12];
        size_t k = 0, e = j;
        while (e < n) {
                cp = dec(p + e, &l);
                unsigned c = cls_of(t, cp);
                if (!(c & K_LETTER))
                        break;
                if (cp >= SC_TEXT_TABLE || !(c & K_FAST) || k + 1 >= sizeof(w))
                        return 0;
                uint32_t m = pl_strip(t->lower[cp]);
                /* Every currency word starts with one of these: "3 razy" and
                 * "40 minut" stop at the first letter. */
                if (m >= 0x80 || (!k && !strchr("zpeug", (int)m)))
                        return 0;
                w[k++] = (char)m;
                e += l;
        }
        if (!k || (cls_at(t, p, n, e) & K_WORD))
                return 0;
        w[k] = 0;
        for (int q = 0; words[q]; q++)
                if (!strcmp(w, words[q]))
                        return e;
        return 0;
}

struct sc_word_scan {
        size_t letters, upper, lower;
        size_t olen; /* bytes of norm written to o, valid if fast */
        int fast;    /* every code point folded through the table */
        int foldy;   /* fold could differ: non-ASCII or a letter 3+ times */
};

/* Word at i: letters, digits, marks, with inner - ' ’ between letters
 * ("wi-fi", "don't"). Counts cased letters for ALLCAPS and, in the same
 * pass, writes the norm to o (room for twice the rest of the text): words
 * are most tokens, and separate passes for norm and fold cost more than
 * the scan itself. */
static size_t scan_word(const sc_text_t *t, const unsigned char *p, size_t n, size_t i,
                        char *o, struct sc_word_scan *w)
{
        /* Locals, not *w: stores through the char pointer o may alias it. */
        size_t j = i, l, k = 0, letters = 0, upper = 0, lower = 0;
        unsigned pc = 0;
        int fast = 1, foldy = 0;
        while (j < n) {
                if (fast) {
                        /* ASCII letters and digits: one table lookup each, no
                         * decode; the counts packed (flushed before they can
                         * overflow), the last two bytes written kept at hand. */
                        size_t lim = n - j > ACNT_MASK ? j + ACNT_MASK : n;
                        uint64_t acc = 0;
                        unsigned p1 = k >= 1 ? (unsigned char)o[k - 1] : 0x100,
                                 p2 = k >= 2 ? (unsigned char)o[k - 2] : 0x100;
                        while (j < lim) {
                                unsigned char b = p[j];
                                if (b >= 0x80 || !(t->cls[b] & K_WORD))
                                        break;
                                unsigned c = t->cls[b], lo = t->alow[b];
                                acc += t->acnt[b];
                                if (lo == p1 && lo == p2 && (c & K_LETTER))
                                        foldy = 1;
                                p2 = p1;
                                p1 = lo;
                                o[k++] = (char)lo;
                                pc = c;
                                j++;
                        }
                        letters += acc & ACNT_MASK;
                        upper += acc >> ACNT_BITS & ACNT_MASK;
                        lower += acc >> 2 * ACNT_BITS & ACNT_MASK;
                        if (j == lim) {
                                if (j < n)
                                        continue;
                                break;
                        }
                }
                uint32_t cp;
                if (p[j] < 0x80) {
                        cp = p[j];
                        l = 1;
                } else {
                        cp = dec(p + j, &l);
                }
                unsigned c = cls_of(t, cp);
                if (!(c & K_WORD)) {
                        if (!((cp == '-' || cp == '\'' || cp == 0x2019) &&
                              (pc & K_LETTER) && (cls_at(t, p, n, j + l) & K_LETTER)))
                                break;
                        /* A joiner: c has no letter bits, only K_FAST. */
                }
                letters += (c & K_LETTER) != 0;
                upper += (c & K_UPPER) != 0;
                lower += (c & K_LOWER) != 0;
                pc = c;
                j += l;
                if (!fast)
                        continue;
                if (cp >= SC_TEXT_TABLE || !(c & K_FAST)) {
                        fast = 0;
                        continue;
                }
                uint32_t lo = t->lower[cp];
                if (lo < 0x80) {
                        if (k >= 2 && o[k - 1] == (char)lo && o[k - 2] == (char)lo &&
                            (c & K_LETTER))
                                foldy = 1;
                        o[k++] = (char)lo;
                } else {
                        k += enc(lo, o + k);
                        foldy = 1;
                }
        }
        w->letters = letters;
        w->upper = upper;
        w->lower = lower;
        w->fast = fast;
        w->foldy = foldy;
        w->olen = k;
        return j;
}

/* One grapheme cluster from i: ZWJ sequences, skin tones, flags, keycaps. */
static size_t scan_grapheme(const unsigned char *p, size_t n, size_t i)
{
        size_t l;
        utf8proc_int32_t state = 0;
        uint32_t prev = dec(p + i, &l);
        size_t j = i + l;
        while (j < n) {
                uint32_t cp = dec(p + j, &l);
                if (utf8proc_grapheme_break_stateful((utf8proc_int32_t)prev,
                                                     (utf8proc_int32_t)cp, &state))
                        break;
                prev = cp;
                j += l;
        }
        return j;
}

static int emit_emoji(sc_text_t *t, const unsigned char *p, size_t i, size_t e)
{
        sc_token_t *k = tok_add(t, SC_TOK_EMOJI, p + i, e - i);
        struct sc_tok_off *o = OFF(k);
        size_t j, l;
        int plain = 1;
        for (j = i; j < e && plain; j += l) {
                uint32_t cp = dec(p + j, &l);
                plain = cp >= SC_TEXT_TABLE
                            ? (slow_cls(cp) & K_EMOJI) || emoji_part(cp)
                            : (cp == '#' || cp == '*' || (cp >= '0' && cp <= '9'));
        }
        if (plain) {
                areserve(t, 2 * (e - i) + 2);
                memcpy(t->arena + t->alen, p + i, e - i);
                t->arena[t->alen + e - i] = 0;
                o->norm = t->alen;
                k->norm_len = e - i;
                t->alen += e - i + 1;
        } else if (norm_span(t, (const char *)p + i, e - i, &o->norm, &k->norm_len)) {
                return -1;
        }
        areserve(t, k->norm_len + 1);
        /* The key drops presentation selectors and skin tones: 👍🏽 means 👍. */
        const unsigned char *s = (const unsigned char *)t->arena + o->norm;
        char *d = t->arena + t->alen;
        size_t fl = 0;
        for (j = 0; j < k->norm_len; j += l) {
                uint32_t cp = dec(s + j, &l);
                if (cp == 0xfe0e || cp == 0xfe0f || (cp >= 0x1f3fb && cp <= 0x1f3ff))
                        continue;
                memcpy(d + fl, s + j, l);
                fl += l;
        }
        if (!fl || fl == k->norm_len) {
                o->fold = o->norm;
                k->fold_len = k->norm_len;
        } else {
                d[fl] = 0;
                o->fold = t->alen;
                k->fold_len = fl;
                t->alen += fl + 1;
        }
        t->flags |= SC_TEXT_HAS_EMOJI;
        return 0;
}

static int emit_url(sc_text_t *t, const unsigned char *p, size_t i, size_t e, size_t host)
{
        sc_token_t *k = tok_add(t, SC_TOK_URL, p + i, e - i);
        struct sc_tok_off *o = OFF(k);
        size_t he = host;
        while (he < e && !strchr("/?#", p[he]))
                he++;
        areserve(t, 2 * (e - i) + 2);
        char *d = t->arena + t->alen;
        for (size_t j = i; j < e; j++)
                d[j - i] = (char)(j < he ? lc(p[j]) : p[j]);
        d[e - i] = 0;
        o->norm = t->alen;
        k->norm_len = e - i;
        t->alen += e - i + 1;
        /* Key: the host, for lookups of brand and competitor domains. */
        size_t hs = host + (has_prefix(p, e, host, "www.") ? 4 : 0), hl = 0;
        d = t->arena + t->alen;
        for (size_t j = hs; j < he && p[j] != ':' && p[j] != '@'; j++)
                d[hl++] = (char)lc(p[j]);
        d[hl] = 0;
        o->fold = t->alen;
        k->fold_len = hl;
        t->alen += hl + 1;
        t->flags |= SC_TEXT_HAS_URL;
        return 0;
}

static int emit_emoticon(sc_text_t *t, const unsigned char *p, size_t i, size_t e,
                         size_t base, uint32_t rep)
{
        sc_token_t *k = tok_add(t, SC_TOK_EMOTICON, p + i, e - i);
        struct sc_tok_off *o = OFF(k);
        k->repeat = rep;
        areserve(t, 2 * (e - i) + 2);
        char *d = t->arena + t->alen;
        for (size_t j = i; j < e; j++)
                d[j - i] = (char)lc(p[j]);
        d[e - i] = 0;
        o->norm = t->alen;
        k->norm_len = e - i;
        t->alen += e - i + 1;
        /* Key: one mouth, no nose, so :-))) and :) look up the same entry. */
        d = t->arena + t->alen;
        size_t fl = 0;
        for (size_t j = i; j < i + base; j++) {
                if (j == i + 1 && p[j] == '-' && strchr(":;=", p[i]))
                        continue;
                d[fl++] = (char)lc(p[j]);
        }
        d[fl] = 0;
        if (fl == k->norm_len) {
                o->fold = o->norm;
        } else {
                o->fold = t->alen;
                t->alen += fl + 1;
        }
        k->fold_len = fl;
        t->flags |= SC_TEXT_HAS_EMOTICON;
        return 0;
}

static int emit_punct(sc_text_t *t, const unsigned char *p, size_t n, size_t i,
                      size_t *end)
{
        size_t l, j;
        uint32_t cp = dec(p + i, &l), rep = 0;
        int q = 0, x = 0;
        if (cp == '!' || cp == '?') {
                /* "?!?!" is one outburst, not four tokens. */
                for (j = i; j < n && (p[j] == '!' || p[j] == '?'); j++, rep++) {
                        q |= p[j] == '?';
                        x |= p[j] == '!';
                }
        } else {
                for (j = i; j + l <= n && !memcmp(p + j, p + i, l); j += l)
                        rep++;
        }
        *end = j;
        sc_token_t *k = tok_add(t, SC_TOK_PUNCT, p + i, j - i);
        struct sc_tok_off *o = OFF(k);
        k->repeat = rep;
        if (norm_span(t, (const char *)p + i, j - i, &o->norm, &k->norm_len))
                return -1;
        if (q && x) {
                areserve(t, 3);
                memcpy(t->arena + t->alen, "?!", 3);
                o->fold = t->alen;
                k->fold_len = 2;
                t->alen += 3;
        } else if (rep > 1) {
                if (norm_span(t, (const char *)p + i, l, &o->fold, &k->fold_len))
                        return -1;
        } else {
                o->fold = o->norm;
                k->fold_len = k->norm_len;
        }
        return 0;
}

/* A mention or hashtag at p[i] (cp = '@' or '#'): 1 and *next past it if
 * one was added, 0 if it is not one ("#1" is a rank), -1 on error. */
static inline __attribute__((always_inline)) int emit_tag(sc_text_t *t,
                                                          const unsigned char *p,
                                                          size_t n, size_t i, uint32_t cp,
                                                          size_t *next)
{
        size_t l2;
        size_t j = i + 1, lt = 0;
        while (j < n) {
                uint32_t b = dec(p + j, &l2);
                unsigned bc = cls_of(t, b);
                if ((bc & K_WORD) || b == '_') {
                        lt += (bc & K_LETTER) != 0;
                        j += l2;
                } else if (b == '.' && cp == '@' && j + 1 < n &&
                           (cls_at(t, p, n, j + 1) & K_WORD)) {
                        j++; /* Instagram handles: @telko.polska */
                } else {
                        break;
                }
        }
        /* "#1" is a rank, not a hashtag. */
        if (cp == '@' || lt) {
                int ty = cp == '@' ? SC_TOK_MENTION : SC_TOK_HASHTAG;
                sc_token_t *k = tok_std(t, ty, p + i, j - i);
                if (!k)
                        return -1;
                if (ty == SC_TOK_HASHTAG && hashtag_parts(t, k, p, i + 1, j))
                        return -1;
                t->flags |=
                    ty == SC_TOK_MENTION ? SC_TEXT_HAS_MENTION : SC_TEXT_HAS_HASHTAG;
                *next = j;
                return 1;
        }
        return 0;
}

/* A word at p[i]: normed and folded, its case counted; *next past it.
 * Inlined: most tokens are words. */
static inline __attribute__((always_inline)) int emit_word(sc_text_t *t,
                                                           const unsigned char *p,
                                                           size_t n, size_t i, size_t *w2,
                                                           size_t *caps, size_t *next)
{
        struct sc_word_scan w;
        areserve(t, 2 * (n - i) + 1);
        size_t e = scan_word(t, p, n, i, t->arena + t->alen, &w);
        sc_token_t *k = tok_add(t, SC_TOK_WORD, p + i, e - i);
        struct sc_tok_off *o = OFF(k);
        if (w.fast) {
                t->arena[t->alen + w.olen] = 0;
                o->norm = t->alen;
                k->norm_len = w.olen;
                t->alen += w.olen + 1;
        } else if (norm_span(t, (const char *)p + i, e - i, &o->norm, &k->norm_len)) {
                return -1;
        }
        if (w.fast && !w.foldy) {
                o->fold = o->norm;
                k->fold_len = k->norm_len;
        } else if (fold_norm(t, o->norm, k->norm_len, 1, &o->fold, &k->fold_len,
                             &k->flags)) {
                return -1;
        }
        if (w.letters >= 2) {
                (*w2)++;
                if (w.upper >= 2 && !w.lower) {
                        k->flags |= SC_TOKF_ALLCAPS;
                        (*caps)++;
                }
        }
        *next = e;
        return 0;
}

static int tokenize(sc_text_t *t, const unsigned char *p, size_t n)
{
        size_t i = 0, l, e, base, host;
        size_t w2 = 0, caps = 0; /* words of >= 2 letters, of them ALLCAPS */
        uint32_t rep;
        int grouped;
        while (i < n) {
                if (p[i] == ' ') {
                        i++;
                        continue;
                }
                uint32_t cp = dec(p + i, &l);
                unsigned c = cls_of(t, cp);
                if (c & K_SPACE) {
                        i += l;
                        continue;
                }
                size_t l2 = 0;
                uint32_t nx = i + l < n ? p[i + l] : 0;
                /* Most tokens are words starting with a plain ASCII letter:
                 * skip the special-token checks for them. */
                if ((c & K_PLAIN) && nx < 0x80)
                        goto word;
                if (nx >= 0x80)
                        nx = dec(p + i + l, &l2);
                if ((cp == 'h' || cp == 'H' || cp == 'w' || cp == 'W') &&
                    (e = scan_url(t, p, n, i, &host))) {
                        if (emit_url(t, p, i, e, host))
                                return -1;
                        i = e;
                        continue;
                }
                /* Keycaps (1️⃣ #️⃣) and symbols asking for emoji presentation. */
                if ((c & K_EMOJI) || nx == 0xfe0f ||
                    (nx == 0x20e3 && (cp == '#' || cp == '*' || (c & K_DIGIT)))) {
                        e = scan_grapheme(p, n, i);
                        if (emit_emoji(t, p, i, e))
                                return -1;
                        i = e;
                        continue;
                }
                if ((cp == '@' || cp == '#') && nx &&
                    ((cls_of(t, nx) & K_WORD) || nx == '_') &&
                    !(prev_cls(t, p, i) & K_WORD)) {
                        int r = emit_tag(t, p, n, i, cp, &e);
                        if (r < 0)
                                return -1;
                        if (r) {
                                i = e;
                                continue;
                        }
                }
                if (cp < 0x80 && (t->cls[cp] & K_EMOTE) &&
                    (e = scan_emoticon(t, p, n, i, &base, &rep))) {
                        if (emit_emoticon(t, p, i, e, base, rep))
                                return -1;
                        i = e;
                        continue;
                }
                if (is_cur_sym(cp) && nx >= '0' && nx <= '9') {
                        e = scan_number(p, n, i + l, &grouped);
                        if (!tok_std(t, SC_TOK_AMOUNT, p + i, e - i))
                                return -1;
                        t->flags |= SC_TEXT_HAS_AMOUNT;
                        i = e;
                        continue;
                }
                if (cp >= '0' && cp <= '9') {
                        e = scan_number(p, n, i, &grouped);
                        size_t ce = scan_currency(t, p, n, e);
                        if (ce) {
                                if (!tok_std(t, SC_TOK_AMOUNT, p + i, ce - i))
                                        return -1;
                                t->flags |= SC_TEXT_HAS_AMOUNT;
                                i = ce;
                                continue;
                        }
                        /* "5G", "mp3": digits glued to letters are a word. */
                        if (grouped || !(cls_at(t, p, n, e) & (K_LETTER | K_MARK))) {
                                if (!tok_std(t, SC_TOK_NUMBER, p + i, e - i))
                                        return -1;
                                i = e;
                                continue;
                        }
                }
                if (c & K_WORD) {
                word:;
                        if (emit_word(t, p, n, i, &w2, &caps, &e))
                                return -1;
                        i = e;
                        continue;
                }
                if (emit_punct(t, p, n, i, &e))
                        return -1;
                i = e;
        }
        if (caps)
                t->flags |= SC_TEXT_HAS_ALLCAPS;
        if (w2 && caps == w2)
                t->flags |= SC_TEXT_SHOUTING;
        return 0;
}

int sc_text_tokenize(sc_text_t *t, const char *s, size_t n)
{
        t->cnt = 0;
        t->alen = 0;
        t->flags = 0;
        if (!s)
                n = 0;
        if (n > t->max_bytes) {
                n = sc_utf8_truncate(s, n, t->max_bytes);
                t->flags |= SC_TEXT_TRUNCATED;
        }
        if (!sc_utf8_valid(s, n, NULL)) {
                t->flags |= SC_TEXT_INVALID;
                return -1;
        }
        if (tokenize(t, (const unsigned char *)s, n)) {
                t->cnt = 0;
                t->flags |= SC_TEXT_INVALID;
                return -1;
        }
        for (size_t k = 0; k < t->cnt; k++) {
                sc_token_t *tk = &t->tok[k];
                struct sc_tok_off *o = &t->off[k];
                tk->norm = t->arena + o->norm;
                tk->fold = t->arena + o->fold;
                tk->fold_hash = sc_text_fold_hash(tk->fold, tk->fold_len);
                for (int q = 0; q < tk->part_cnt; q++)
                        tk->part[q] = t->arena + o->part[q];
                if (tk->flags & SC_TOKF_ELONGATED)
                        t->flags |= SC_TEXT_HAS_ELONGATED;
                if (tk->flags & SC_TOKF_PL_DIACRITIC)
                        t->flags |= SC_TEXT_PL_DIACRITICS;
        }
        return (int)t->cnt;
}

static uint64_t rd32(const char *s)
{
        uint32_t v;
        memcpy(&v, s, sizeof(v));
        return v;
}

/* 64 x 64 -> 128-bit multiply folded (wyhash's mixer): every input bit
 * reaches the low bits used as a table slot. */
static uint64_t mum(uint64_t a, uint64_t b)
{
        __uint128_t r = (__uint128_t)a * b;
        return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Words are short: a few overlapping loads instead of a loop over bytes
 * (the bytes read are exactly s[0..n), in whatever order). */
uint32_t sc_text_fold_hash(const char *s, size_t n)
{
        uint64_t h = 0xa0761d6478bd642full ^ n;
        while (n > 8) {
                h = mum(rd32(s) ^ h, rd32(s + 4) ^ 0xe7037ed1a0b428dbull);
                s += 8;
                n -= 8;
        }
        uint64_t a, b;
        if (n >= 4) {
                a = rd32(s);
                b = rd32(s + n - 4);
        } else {
                a = n ? (uint64_t)(unsigned char)s[0] << 16 |
                            (uint64_t)(unsigned char)s[n >> 1] << 8 |
                            (unsigned char)s[n - 1]
                      : 0;
                b = 0;
        }
        return (uint32_t)mum(a ^ h, b ^ 0xe7037ed1a0b428dbull);
}

const sc_token_t *sc_text_tokens(const sc_text_t *t, size_t *cnt)
{
        if (cnt)
                *cnt = t->cnt;
        return t->tok;
}

unsigned sc_text_flags(const sc_text_t *t)
{
        return t->flags;
}
