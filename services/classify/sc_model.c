#include "sc_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sc_alloc.h"

#define MAGIC     "SCLINMOD"
#define HDR_BYTES (8 + 6 * 4)
#define OUT_BYTES (6 * 4 + SC_MODEL_DENSE * 4)
#define NEG_SCOPE 3

/* ---- features ------------------------------------------------------------ */

void sc_feats_init(sc_feats_t *f, unsigned bits)
{
        memset(f, 0, sizeof(*f));
        f->bits = bits ? bits : SC_MODEL_BITS;
}

void sc_feats_free(sc_feats_t *f)
{
        if (!f)
                return;
        free(f->idx);
        free(f->name_off);
        sc_buf_free(&f->names);
        memset(f, 0, sizeof(*f));
}

static inline uint32_t h_tag(char tag)
{
        return (2166136261u ^ (uint8_t)tag) * 16777619u;
}

static inline uint32_t h_bytes(uint32_t h, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                h = (h ^ (uint8_t)s[i]) * 16777619u;
        return h;
}

static inline uint32_t h_fin(uint32_t h)
{
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        return h;
}

/* Most features one token adds: a hashtag's tag and its parts' words (up
 * to 5 each); a word's 3 prefixes, word, suffix, bigram, caps, elongation. */
#define TOKEN_FEATS (1 + 5 * SC_TOK_MAX_PARTS)

static void grow(sc_feats_t *f) __attribute__((noinline, cold));
static void grow(sc_feats_t *f)
{
        SC_GROW(f->idx, f->cap, f->n + TOKEN_FEATS);
}

static void push_name(sc_feats_t *f, char tag, const char *a, size_t an, const char *b,
                      size_t bn) __attribute__((noinline, cold));

/* Names are for explanations only: kept out of the hot path. */
static void push_name(sc_feats_t *f, char tag, const char *a, size_t an, const char *b,
                      size_t bn)
{
        if (f->n >= f->name_cap) {
                /* Kept as long as idx: one name per feature. */
                f->name_off = sc_realloc(f->name_off, f->cap * sizeof(*f->name_off));
                f->name_cap = f->cap;
        }
        f->name_off[f->n] = (uint32_t)f->names.len;
        sc_buf_putc(&f->names, tag);
        sc_buf_putc(&f->names, ':');
        sc_buf_append(&f->names, a, an);
        if (b) {
                sc_buf_putc(&f->names, '_');
                sc_buf_append(&f->names, b, bn);
        }
        sc_buf_putc(&f->names, '\0');
}

/* Room is made per token (room()), not per feature. */
static inline int push(sc_feats_t *f, uint32_t h, char tag, const char *a, size_t an,
                       const char *b, size_t bn)
{
        if (__builtin_expect(f->want_names, 0))
                push_name(f, tag, a, an, b, bn);
        f->idx[f->n++] = h_fin(h) & ((1u << f->bits) - 1);
        return 0;
}

static inline void room(sc_feats_t *f)
{
        if (__builtin_expect(f->cap - f->n < TOKEN_FEATS, 0))
                grow(f);
}

static inline __attribute__((always_inline)) int add(sc_feats_t *f, char tag,
                                                     const char *s, size_t n)
{
        return push(f, h_bytes(h_tag(tag), s, n), tag, s, n, NULL, 0);
}

/* Inlined: the class names are literals, so their hashes fold to constants. */
static inline __attribute__((always_inline)) int add_class(sc_feats_t *f,
                                                           const char *name)
{
        return add(f, '#', name, strlen(name));
}

/* Negators whose scope marks the words after them (fold forms). */
static int is_negator(const char *s, size_t n)
{
        static const char *const neg[9][12] = {
            [2] = {"no"},
            [3] = {"nie", "not", "bez", "nic", "ani", "nor"},
            [4] = {"nikt", "brak", "dont", "cant", "wont", "isnt", "aint", "none"},
            [5] = {"never", "nigdy", "zaden", "didnt", "wasnt", "arent", "hasnt"},
            [6] = {"zadnej", "cannot", "doesnt", "havent", "nobody"},
            [7] = {"zadnego", "couldnt", "wouldnt", "without", "nothing", "neither",
                   "nowhere"},
        };
        if (n < 2 || n > 8)
                return 0;
        if (n >= 3 && s[n - 1] == 't' && s[n - 2] == '\'' && s[n - 3] == 'n')
                return 1;
        /* the first letters of the words above: most words start with
         * none and are turned away before the list */
        enum {
                FIRST = 1 << ('a' - 'a') | 1 << ('b' - 'a') | 1 << ('c' - 'a') |
                        1 << ('d' - 'a') | 1 << ('h' - 'a') | 1 << ('i' - 'a') |
                        1 << ('n' - 'a') | 1 << ('w' - 'a') | 1 << ('z' - 'a')
        };
        unsigned c0 = (unsigned)(unsigned char)s[0] - 'a';
        if (c0 >= 26 || !(FIRST >> c0 & 1))
                return 0;
        for (int i = 0; i < 12 && neg[n][i]; i++) {
                const char *w = neg[n][i];
                size_t q = 0;
                while (q < n && w[q] == s[q]) /* n <= 8: no call */
                        q++;
                if (q == n)
                        return 1;
        }
        return 0;
}

/* A word, its prefixes of 4-6 bytes (stems for inflection) and its last 3
 * bytes (the ending), hashed in one pass: the prefixes are the states of
 * the word's own hash. *whole gets the word's hash for bigrams. */
static int word(sc_feats_t *f, const char *s, size_t n, int negated, uint32_t *whole)
{
        uint32_t h = h_tag('p');
        int rc = 0;
        size_t i = 0;
        for (; i < n && i < 3; i++)
                h = (h ^ (uint8_t)s[i]) * 16777619u;
        for (; i < n && i < 6; i++) {
                h = (h ^ (uint8_t)s[i]) * 16777619u;
                if (i + 1 < n)
                        rc |= push(f, h, 'p', s, i + 1, NULL, 0);
        }
        for (; i < n; i++)
                h = (h ^ (uint8_t)s[i]) * 16777619u;
        *whole = h;
        /* an end marker tells the word from a prefix of a longer one */
        rc |= push(f, (h ^ (negated ? 0xfeu : 0xffu)) * 16777619u, negated ? 'n' : 'w', s,
                   n, NULL, 0);
        if (n >= 5)
                rc |= push(f, h_bytes(h_tag('s'), s + n - 3, 3), 's', s + n - 3, 3, NULL,
                           0);
        return rc ? -1 : 0;
}

/* strchr(".,;!?:", fold[0]) without the call, its NUL included */
static int is_clause_end(const sc_token_t *t)
{
        if (t->type != SC_TOK_PUNCT)
                return 0;
        char f = t->fold[0];
        return f == '.' || f == ',' || f == ';' || f == '!' || f == '?' || f == ':' || !f;
}

static int has_byte(const char *s, size_t n, char b)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] == b)
                        return 1;
        return 0;
}

int sc_feats_extract(sc_feats_t *f, const sc_token_t *t, size_t cnt, unsigned flags)
{
        f->n = 0;
        sc_buf_reset(&f->names);
        const char *prev = NULL;
        size_t prev_n = 0, words = 0;
        uint32_t prev_h = 0, wh = 0;
        int neg = 0, rc = 0;
        for (size_t i = 0; i < cnt && !rc; i++) {
                const sc_token_t *tk = &t[i];
                const char *s = tk->fold;
                size_t n = tk->fold_len;
                room(f);
                switch (tk->type) {
                case SC_TOK_WORD:
                        words++;
                        rc = word(f, s, n, neg > 0, &wh);
                        if (!rc && prev)
                                rc = push(f, (prev_h * 0x9E3779B1u) ^ wh ^ 0x2545F491u,
                                          'b', prev, prev_n, s, n);
                        if (!rc && (tk->flags & SC_TOKF_ALLCAPS))
                                rc = add_class(f, "caps");
                        if (!rc && (tk->flags & SC_TOKF_ELONGATED))
                                rc = add_class(f, "elongated");
                        if (is_negator(s, n))
                                neg = NEG_SCOPE;
                        else if (neg)
                                neg--;
                        prev = s;
                        prev_n = n;
                        prev_h = wh;
                        continue;
                case SC_TOK_HASHTAG:
                        rc = add(f, 'h', s, n);
                        for (unsigned k = 0; k < tk->part_cnt && !rc; k++)
                                rc = word(f, tk->part[k], tk->part_len[k], 0, &wh);
                        break;
                case SC_TOK_MENTION:
                        rc = add_class(f, "mention");
                        break;
                case SC_TOK_URL:
                        rc = add_class(f, "url") || add(f, 'u', s, n);
                        break;
                case SC_TOK_EMOJI:
                case SC_TOK_EMOTICON:
                        rc = add(f, 'e', s, n);
                        if (!rc && tk->repeat > 1)
                                rc = add_class(f, "emoji_run");
                        break;
                case SC_TOK_NUMBER:
                        rc = add_class(f, "number");
                        break;
                case SC_TOK_AMOUNT:
                        rc = add_class(f, "amount");
                        break;
                case SC_TOK_PUNCT:
                        if (has_byte(s, n, '?'))
                                rc = add_class(f, tk->repeat > 1 ? "??" : "?");
                        if (!rc && has_byte(s, n, '!'))
                                rc = add_class(f, tk->repeat > 1 ? "!!" : "!");
                        if (!rc && s[0] == '.' && tk->repeat >= 3)
                                rc = add_class(f, "...");
                        break;
                }
                if (is_clause_end(tk))
                        neg = 0;
                prev = NULL;
        }
        if (!rc)
                room(f);
        if (!rc && (flags & SC_TEXT_SHOUTING) && words)
                rc = add_class(f, "shouting");
        if (!rc)
                rc = add_class(f, words < 4    ? "len<4"
                                  : words < 12 ? "len<12"
                                               : "len>=12");
        return rc;
}

const char *sc_feats_name(const sc_feats_t *f, size_t i)
{
        if (!f->want_names || i >= f->n || !f->names.data)
                return "";
        return f->names.data + f->name_off[i];
}

void sc_feats_set_rules(sc_feats_t *f, double score, const float intent[7], int sarcasm,
                        const char *label)
{
        memset(f->dense, 0, sizeof(f->dense));
        f->dense[SC_DENSE_SCORE] = (float)score;
        f->dense[SC_DENSE_POS] = score > 0 ? (float)score : 0;
        f->dense[SC_DENSE_NEG] = score < 0 ? (float)-score : 0;
        for (int k = 0; k < 7; k++)
                f->dense[SC_DENSE_INTENT + k] = intent[k];
        f->dense[SC_DENSE_SARCASM] = sarcasm ? 1.0f : 0;
        f->dense[SC_DENSE_LABEL_POS] = label && label[0] == 'p';
        f->dense[SC_DENSE_LABEL_NEG] = label && label[0] == 'n' && label[2] == 'g';
}

const char *sc_dense_name(int k)
{
        static const char *const names[SC_DENSE_USED] = {
            "rules:score",    "rules:score+", "rules:score-",          "rules:complaint",
            "rules:question", "rules:praise", "rules:purchase_intent", "rules:churn_risk",
            "rules:crisis",   "rules:spam",   "rules:sarcasm",         "rules:positive",
            "rules:negative"};
        return k >= 0 && k < SC_DENSE_USED ? names[k] : "?";
}

/* ---- the model ------------------------------------------------------------ */

typedef struct out_s {
        int present;
        uint32_t n_train;
        float scale, bias, a, b;
        float dense[SC_MODEL_DENSE];
} out_t;

/* Outputs padded to a multiple of four lanes. */
#define OUT_PAD 12

struct sc_model_s {
        unsigned bits;
        out_t out[SC_MODEL_LANGS][SC_MODEL_OUT];
        /* The same parameters output-minor, for the scores in vectors:
         * dense weights per dense feature, and bias, scale, a, b. */
        float dw[SC_MODEL_LANGS][SC_DENSE_USED][OUT_PAD];
        float par[SC_MODEL_LANGS][4][OUT_PAD];
        const int8_t *table[SC_MODEL_LANGS];
        unsigned char *file;
        uint64_t checksum;
        char version[32];
};

static uint64_t fnv64(const unsigned char *p, size_t n)
{
        uint64_t h = 14695981039346656037ULL;
        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * 1099511628211ULL;
        return h;
}

static uint32_t rd32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
}

static float rdf(const unsigned char *p)
{
        uint32_t u = rd32(p);
        float f;
        memcpy(&f, &u, 4);
        return f;
}

static size_t file_size(unsigned bits)
{
        return HDR_BYTES + (size_t)SC_MODEL_LANGS * SC_MODEL_OUT * OUT_BYTES +
               (size_t)SC_MODEL_LANGS * ((size_t)1 << bits) * SC_MODEL_OUT + 8;
}

sc_model_t *sc_model_load(const char *path, char *errstr, size_t errstr_size)
{
        FILE *fp = fopen(path, "rb");
        if (!fp) {
                snprintf(errstr, errstr_size, "%s: cannot open", path);
                return NULL;
        }
        sc_model_t *m = sc_calloc(1, sizeof(*m));
        unsigned char hdr[HDR_BYTES];
        if (fread(hdr, 1, sizeof(hdr), fp) != sizeof(hdr)) {
                snprintf(errstr, errstr_size, "%s: too short for a model", path);
                goto fail;
        }
        if (memcmp(hdr, MAGIC, 8)) {
                snprintf(errstr, errstr_size, "%s: not a socialcare model (bad magic)",
                         path);
                goto fail;
        }
        unsigned ver = rd32(hdr + 8), bits = rd32(hdr + 12), conf = rd32(hdr + 16);
        if (ver != SC_MODEL_FILE_VER || conf != SC_MODEL_FEAT_CONF ||
            rd32(hdr + 20) != SC_MODEL_LANGS || rd32(hdr + 24) != SC_MODEL_OUT ||
            rd32(hdr + 28) != SC_MODEL_DENSE || bits < 8 || bits > 24) {
                snprintf(errstr, errstr_size,
                         "%s: model version %u, features %u, %u bits: this build reads "
                         "version %d, features %d",
                         path, ver, conf, bits, SC_MODEL_FILE_VER, SC_MODEL_FEAT_CONF);
                goto fail;
        }
        size_t size = file_size(bits);
        m->file = sc_calloc(1, size + 16); /* 16: see sc_model_scores */
        memcpy(m->file, hdr, sizeof(hdr));
        size_t got = fread(m->file + sizeof(hdr), 1, size + 1 - sizeof(hdr), fp);
        if (got != size - sizeof(hdr)) {
                snprintf(errstr, errstr_size, "%s: %zu bytes, a %u-bit model has %zu",
                         path, got + sizeof(hdr), bits, size);
                goto fail;
        }
        uint64_t want =
            (uint64_t)rd32(m->file + size - 8) | (uint64_t)rd32(m->file + size - 4) << 32;
        m->checksum = fnv64(m->file, size - 8);
        if (want != m->checksum) {
                snprintf(errstr, errstr_size, "%s: checksum mismatch (damaged file)",
                         path);
                goto fail;
        }
        m->bits = bits;
        const unsigned char *p = m->file + HDR_BYTES;
        for (int l = 0; l < SC_MODEL_LANGS; l++)
                for (int o = 0; o < SC_MODEL_OUT; o++, p += OUT_BYTES) {
                        out_t *u = &m->out[l][o];
                        u->present = rd32(p) != 0;
                        u->n_train = rd32(p + 4);
                        u->scale = rdf(p + 8);
                        u->bias = rdf(p + 12);
                        u->a = rdf(p + 16);
                        u->b = rdf(p + 20);
                        for (int k = 0; k < SC_MODEL_DENSE; k++)
                                u->dense[k] = rdf(p + 24 + 4 * k);
                        if (!isfinite(u->scale) || !isfinite(u->bias) ||
                            !isfinite(u->a) || !isfinite(u->b)) {
                                snprintf(errstr, errstr_size, "%s: non-finite parameter",
                                         path);
                                goto fail;
                        }
                        for (int k = 0; k < SC_DENSE_USED; k++)
                                m->dw[l][k][o] = u->dense[k];
                        m->par[l][0][o] = u->bias;
                        m->par[l][1][o] = u->scale;
                        m->par[l][2][o] = u->a;
                        m->par[l][3][o] = u->b;
                }
        for (int l = 0; l < SC_MODEL_LANGS; l++, p += ((size_t)1 << bits) * SC_MODEL_OUT)
                m->table[l] = (const int8_t *)p;
        snprintf(m->version, sizeof(m->version), "%s+%08x", SC_MODEL_NAME,
                 (unsigned)(m->checksum >> 32));
        fclose(fp);
        return m;
fail:
        fclose(fp);
        sc_model_destroy(m);
        return NULL;
}

void sc_model_destroy(sc_model_t *m)
{
        if (!m)
                return;
        free(m->file);
        free(m);
}

const char *sc_model_version(const sc_model_t *m)
{
        return m->version;
}

uint64_t sc_model_checksum(const sc_model_t *m)
{
        return m->checksum;
}

unsigned sc_model_bits(const sc_model_t *m)
{
        return m->bits;
}

int sc_model_present(const sc_model_t *m, int lang, int o)
{
        return lang >= 0 && lang < SC_MODEL_LANGS && o >= 0 && o < SC_MODEL_OUT &&
               m->out[lang][o].present;
}

#ifdef __SSE2__
/* z[o] = a * (bias + acc * scale * norm + sum over k of dense_w[k] * dense[k])
 * + b for every output, two outputs a vector: the operations of the scalar
 * loop, in its order and precision (the products in float, the sums in
 * double), so the same bits; but five independent chains of additions
 * instead of one after the other. */
static void dense_scores(const sc_model_t *m, int lang, const sc_feats_t *f,
                         const int32_t acc[16], double norm, double z[SC_MODEL_OUT])
{
        enum { PAIRS = SC_MODEL_OUT / 2 };
        _Static_assert(SC_MODEL_OUT == 10 && OUT_PAD >= 12,
                       "five pairs, three float vectors");
        const float(*par)[OUT_PAD] = m->par[lang];
        __m128d s[PAIRS], nv = _mm_set1_pd(norm);
        for (int q = 0; q < PAIRS; q++) {
                __m128d bias = _mm_cvtps_pd(
                            _mm_loadl_pi(_mm_setzero_ps(),
                                         (const __m64 *)(const void *)&par[0][2 * q])),
                        scale = _mm_cvtps_pd(
                            _mm_loadl_pi(_mm_setzero_ps(),
                                         (const __m64 *)(const void *)&par[1][2 * q])),
                        a = _mm_set_pd((double)acc[2 * q + 1], (double)acc[2 * q]);
                s[q] = _mm_add_pd(bias, _mm_mul_pd(_mm_mul_pd(a, scale), nv));
        }
        for (int k = 0; k < SC_DENSE_USED; k++) {
                const float *w = m->dw[lang][k];
                __m128 d = _mm_set1_ps(f->dense[k]);
                __m128 p0 = _mm_mul_ps(_mm_loadu_ps(w), d),
                       p1 = _mm_mul_ps(_mm_loadu_ps(w + 4), d),
                       p2 = _mm_mul_ps(_mm_loadu_ps(w + 8), d);
                s[0] = _mm_add_pd(s[0], _mm_cvtps_pd(p0));
                s[1] = _mm_add_pd(s[1], _mm_cvtps_pd(_mm_movehl_ps(p0, p0)));
                s[2] = _mm_add_pd(s[2], _mm_cvtps_pd(p1));
                s[3] = _mm_add_pd(s[3], _mm_cvtps_pd(_mm_movehl_ps(p1, p1)));
                s[4] = _mm_add_pd(s[4], _mm_cvtps_pd(p2));
        }
        for (int q = 0; q < PAIRS; q++) {
                __m128d a = _mm_cvtps_pd(
                            _mm_loadl_pi(_mm_setzero_ps(),
                                         (const __m64 *)(const void *)&par[2][2 * q])),
                        b = _mm_cvtps_pd(
                            _mm_loadl_pi(_mm_setzero_ps(),
                                         (const __m64 *)(const void *)&par[3][2 * q]));
                _mm_storeu_pd(z + 2 * q, _mm_add_pd(_mm_mul_pd(a, s[q]), b));
        }
}
#endif

typedef int8_t v8i8 __attribute__((vector_size(8)));
typedef int16_t v8i16 __attribute__((vector_size(16)));

void sc_model_scores(const sc_model_t *m, int lang, const sc_feats_t *f,
                     double z[SC_MODEL_OUT])
{
        /* A bucket's ten weights are read as two 8-byte vectors (the table
         * is padded so the last bucket can be), summed in 16-bit lanes that
         * are flushed to 32 bits before they could overflow; the buckets
         * ahead are prefetched, the table being larger than the caches. */
        int32_t acc[16] = {0};
        const int8_t *tab = m->table[lang];
        v8i16 lo = {0}, hi = {0};
        size_t since = 0;
        for (size_t i = 0; i < f->n; i++) {
                if (i + 8 < f->n)
                        __builtin_prefetch(tab + (size_t)f->idx[i + 8] * SC_MODEL_OUT);
                const int8_t *p = tab + (size_t)f->idx[i] * SC_MODEL_OUT;
#ifdef __SSE2__
                /* one 16-byte load, each half sign-extended by unpacking a
                 * byte into both halves of a lane and shifting it down */
                __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
                lo += (v8i16)_mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8);
                hi += (v8i16)_mm_srai_epi16(_mm_unpackhi_epi8(x, x), 8);
#else
                v8i8 a, b;
                memcpy(&a, p, sizeof(a));
                memcpy(&b, p + 8, sizeof(b));
                lo += __builtin_convertvector(a, v8i16);
                hi += __builtin_convertvector(b, v8i16);
#endif
                if (++since == 250) {
                        for (int o = 0; o < 8; o++)
                                acc[o] += lo[o];
                        for (int o = 8; o < SC_MODEL_OUT; o++)
                                acc[o] += hi[o - 8];
                        lo = hi = (v8i16){0};
                        since = 0;
                }
        }
        for (int o = 0; o < 8; o++)
                acc[o] += lo[o];
        for (int o = 8; o < SC_MODEL_OUT; o++)
                acc[o] += hi[o - 8];
        double norm = f->n ? 1.0 / sqrt((double)f->n) : 0;
#ifdef __SSE2__
        dense_scores(m, lang, f, acc, norm, z);
#else
        for (int o = 0; o < SC_MODEL_OUT; o++) {
                const out_t *u = &m->out[lang][o];
                double s = u->bias + acc[o] * (double)u->scale * norm;
                for (int k = 0; k < SC_DENSE_USED; k++)
                        s += u->dense[k] * f->dense[k];
                z[o] = u->a * s + u->b;
        }
#endif
}

double sc_model_contrib(const sc_model_t *m, int lang, int o, const sc_feats_t *f,
                        size_t i)
{
        const out_t *u = &m->out[lang][o];
        int8_t w = m->table[lang][(size_t)f->idx[i] * SC_MODEL_OUT + o];
        return u->a * w * (double)u->scale / sqrt((double)f->n);
}

double sc_model_dense_contrib(const sc_model_t *m, int lang, int o, const sc_feats_t *f,
                              int k)
{
        const out_t *u = &m->out[lang][o];
        return u->a * u->dense[k] * f->dense[k];
}

/* ---- writing ------------------------------------------------------------- */

static void put32(sc_buf_t *b, uint32_t v)
{
        unsigned char p[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                              (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
        sc_buf_append(b, p, 4);
}

static void putf(sc_buf_t *b, float f)
{
        uint32_t u;
        memcpy(&u, &f, 4);
        put32(b, u);
}

/* The largest weight sets the scale, except a few outliers: they are clipped
 * so the bulk of the weights keeps its resolution in 8 bits. */
static float quant_scale(const float *w, size_t n)
{
        enum { BINS = 4096 };
        float mx = 0;
        for (size_t i = 0; i < n; i++)
                if (fabsf(w[i]) > mx)
                        mx = fabsf(w[i]);
        if (mx == 0)
                return 1;
        static size_t hist[BINS];
        memset(hist, 0, sizeof(hist));
        size_t nz = 0;
        for (size_t i = 0; i < n; i++)
                if (w[i] != 0) {
                        size_t b = (size_t)(fabsf(w[i]) / mx * (BINS - 1));
                        hist[b]++;
                        nz++;
                }
        size_t keep = nz - nz / 10000, seen = 0; /* 99.99th percentile */
        size_t b = 0;
        for (; b < BINS; b++) {
                seen += hist[b];
                if (seen >= keep)
                        break;
        }
        float top = mx * (float)(b + 1) / (BINS - 1);
        if (top > mx)
                top = mx;
        return top / 127.0f;
}

int sc_model_write(const sc_model_spec_t *s, const char *path, char *errstr,
                   size_t errstr_size)
{
        size_t buckets = (size_t)1 << s->bits;
        sc_buf_t b = SC_BUF_INIT;
        if (sc_buf_reserve(&b, file_size(s->bits))) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        sc_buf_append(&b, MAGIC, 8);
        put32(&b, SC_MODEL_FILE_VER);
        put32(&b, s->bits);
        put32(&b, SC_MODEL_FEAT_CONF);
        put32(&b, SC_MODEL_LANGS);
        put32(&b, SC_MODEL_OUT);
        put32(&b, SC_MODEL_DENSE);
        float scale[SC_MODEL_LANGS][SC_MODEL_OUT];
        for (int l = 0; l < SC_MODEL_LANGS; l++)
                for (int o = 0; o < SC_MODEL_OUT; o++) {
                        const sc_model_out_t *u = &s->out[l][o];
                        int present = u->present && u->w;
                        scale[l][o] = present ? quant_scale(u->w, buckets) : 1;
                        put32(&b, (uint32_t)present);
                        put32(&b, u->n_train);
                        putf(&b, scale[l][o]);
                        putf(&b, present ? u->bias : 0);
                        putf(&b, present ? u->platt_a : 1);
                        putf(&b, present ? u->platt_b : 0);
                        for (int k = 0; k < SC_MODEL_DENSE; k++)
                                putf(&b, present ? u->dense[k] : 0);
                }
        for (int l = 0; l < SC_MODEL_LANGS; l++)
                for (size_t i = 0; i < buckets; i++) {
                        int8_t row[SC_MODEL_OUT] = {0};
                        for (int o = 0; o < SC_MODEL_OUT; o++) {
                                const sc_model_out_t *u = &s->out[l][o];
                                if (!u->present || !u->w)
                                        continue;
                                long q = lrintf(u->w[i] / scale[l][o]);
                                row[o] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
                        }
                        sc_buf_append(&b, row, sizeof(row));
                }
        uint64_t h = fnv64((const unsigned char *)b.data, b.len);
        put32(&b, (uint32_t)h);
        put32(&b, (uint32_t)(h >> 32));
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *fp = fopen(tmp, "wb");
        int rc = -1;
        if (!fp)
                snprintf(errstr, errstr_size, "%s: cannot create", tmp);
        else {
                int bad = fwrite(b.data, 1, b.len, fp) != b.len;
                bad |= fclose(fp) != 0;
                if (bad)
                        snprintf(errstr, errstr_size, "%s: write failed", tmp);
                else if (rename(tmp, path))
                        snprintf(errstr, errstr_size, "%s: cannot rename to %s", tmp,
                                 path);
                else
                        rc = 0;
                if (rc)
                        remove(tmp);
        }
        sc_buf_free(&b);
        return rc;
}
