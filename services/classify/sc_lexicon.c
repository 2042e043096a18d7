#include "sc_lexicon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"

/* Trie bytes: a token's fold never holds these control bytes. */
#define SEP_WORD        0x02 /* between the tokens of a phrase */
#define SEP_STEM        0x01 /* after a stem that is not the phrase's last token */
#define MAX_STATES      16
#define MAX_TERM_TOKENS 8
#define FEW_KIDS        4 /* more children: a byte table in the frozen form */

typedef struct node_s {
        int32_t exact; /* entry ending here at a token end, or -1 */
        int32_t stem;  /* stem entry ending here (any token continuing), or -1 */
        /* Checked before looking a child up: most nodes have neither
         * separator child, and a leaf ends the walk at once. */
        uint32_t children;
        uint8_t has_stem_sep, has_word_sep;
        /* Frozen form: 1 + the node's slot in btab when it has many
         * children, else 0; its first slot in ebyte/echild (first[] too,
         * here so a step loads one node). */
        uint32_t tab;
        uint32_t first;
} node_t;

typedef struct edge_s {
        uint64_t key; /* parent << 8 | byte, + 1 so 0 is empty */
        int32_t child;
} edge_t;

typedef struct word_s {
        uint32_t hash;   /* sc_text_fold_hash of the path */
        uint32_t key;    /* offset of the path in wkeys */
        int32_t entry;   /* the best match within the token, or -1 */
        uint32_t states; /* offset in wstates of the walk's states after it */
        uint16_t len;    /* 0: empty slot */
        uint16_t stem_len;
        uint8_t stem;    /* the match is a stem */
        uint8_t state_n; /* > 0: a phrase or a stem's next token may follow */
} word_t;

typedef struct entry_s {
        char *term;
        sc_lex_val_t val;
} entry_t;

struct sc_lexicon_s {
        node_t *nodes;
        size_t node_cnt, node_cap;
        edge_t *edges;
        size_t edge_cnt, edge_cap; /* cap is a power of two */
        entry_t *entries;
        size_t entry_cnt, entry_cap;
        size_t term_cnt;
        sc_text_t *tx;
        /* Frozen form (sc_lexicon_freeze): each node's children as a small
         * sorted byte array, the root as a direct table. Scanning a few
         * adjacent bytes beats a hash probe per byte. */
        int frozen;
        int32_t root[256];
        uint32_t *first; /* per node: its first slot in ebyte/echild */
        unsigned char *ebyte;
        int32_t *echild;
        /* Nodes with more than FEW_KIDS children: per byte, 1 + the child's
         * index among the node's children, or 0. One load instead of a
         * scan of dozens of bytes near the root. */
        unsigned char *btab;
        /* A filter on how a token starts: bits for every 2-, 3- and 4-byte
         * start of a term (hashed into 2^16 bits each), bits for the 3-byte
         * stems (any longer token under them may match), and the first
         * bytes under which a stem of one or two bytes lets anything
         * through. Most tokens of a post start no term; they are turned
         * away before the walk, whose every byte is a dependent load. */
        uint64_t pre2[1024], pre3[1024], pre4[1024], stem3[1024];
        unsigned char short_stem[256];
        /* Frozen form: every token-sized path from the root (a whole first
         * word of some term, or a prefix of one) with the match a walk
         * would return for a token of exactly those bytes when no phrase
         * or stem can continue past it. A token found here that no phrase
         * continues is answered with one probe instead of a walk. */
        word_t *words;
        size_t word_mask; /* capacity - 1, a power of two */
        char *wkeys;
        size_t wkeys_len, word_cnt;
        int32_t *wstates;
        size_t wstate_cnt;
};

static uint64_t mix(uint64_t k)
{
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        return k;
}

static int32_t child(const sc_lexicon_t *l, int32_t node, unsigned char b)
{
        uint64_t key = ((uint64_t)node << 8 | b) + 1;
        size_t mask = l->edge_cap - 1;
        for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
                if (l->edges[i].key == key)
                        return l->edges[i].child;
                if (!l->edges[i].key)
                        return -1;
        }
}

static int32_t node_new(sc_lexicon_t *l)
{
        SC_GROW(l->nodes, l->node_cap, l->node_cnt + 1);
        memset(&l->nodes[l->node_cnt], 0, sizeof(node_t));
        l->nodes[l->node_cnt].exact = -1;
        l->nodes[l->node_cnt].stem = -1;
        return (int32_t)l->node_cnt++;
}

static void edge_put(edge_t *tab, size_t cap, uint64_t key, int32_t c)
{
        size_t mask = cap - 1, i = mix(key) & mask;
        while (tab[i].key)
                i = (i + 1) & mask;
        tab[i].key = key;
        tab[i].child = c;
}

static int32_t child_add(sc_lexicon_t *l, int32_t node, unsigned char b)
{
        int32_t c = child(l, node, b);
        if (c >= 0)
                return c;
        if ((l->edge_cnt + 1) * 2 > l->edge_cap) {
                size_t cap = l->edge_cap * 2;
                edge_t *t = sc_calloc(cap, sizeof(*t));
                for (size_t i = 0; i < l->edge_cap; i++)
                        if (l->edges[i].key)
                                edge_put(t, cap, l->edges[i].key, l->edges[i].child);
                free(l->edges);
                l->edges = t;
                l->edge_cap = cap;
        }
        c = node_new(l);
        if (c < 0)
                return -1;
        edge_put(l->edges, l->edge_cap, ((uint64_t)node << 8 | b) + 1, c);
        l->edge_cnt++;
        l->nodes[node].children++;
        if (b == SEP_STEM)
                l->nodes[node].has_stem_sep = 1;
        if (b == SEP_WORD)
                l->nodes[node].has_word_sep = 1;
        return c;
}

sc_lexicon_t *sc_lexicon_new(void)
{
        sc_lexicon_t *l = sc_calloc(1, sizeof(*l));
        l->node_cap = 1024;
        l->edge_cap = 2048;
        l->nodes = sc_malloc(l->node_cap * sizeof(*l->nodes));
        l->edges = sc_calloc(l->edge_cap, sizeof(*l->edges));
        l->tx = sc_text_new(1024);
        if (!l->tx || node_new(l) != 0) {
                sc_lexicon_destroy(l);
                return NULL;
        }
        return l;
}

void sc_lexicon_destroy(sc_lexicon_t *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->entry_cnt; i++)
                free(l->entries[i].term);
        free(l->entries);
        free(l->nodes);
        free(l->edges);
        free(l->first);
        free(l->ebyte);
        free(l->echild);
        free(l->btab);
        free(l->words);
        free(l->wkeys);
        free(l->wstates);
        sc_text_destroy(l->tx);
        free(l);
}

size_t sc_lexicon_size(const sc_lexicon_t *l)
{
        return l->term_cnt;
}

static int32_t walk_add(sc_lexicon_t *l, int32_t node, const char *s, size_t n)
{
        for (size_t i = 0; i < n && node >= 0; i++)
                node = child_add(l, node, (unsigned char)s[i]);
        return node;
}

int sc_lexicon_add(sc_lexicon_t *l, const char *term, const sc_lex_val_t *val,
                   char *errstr, size_t errstr_size)
{
        char word[256];
        int32_t node = 0;
        size_t tokens = 0;
        l->frozen = 0;
        int last_stem = 0;
        const char *p = term;
        while (*p) {
                while (*p == ' ')
                        p++;
                size_t n = strcspn(p, " ");
                if (!n)
                        break;
                if (n >= sizeof(word)) {
                        snprintf(errstr, errstr_size, "term too long: %s", term);
                        return -1;
                }
                memcpy(word, p, n);
                word[n] = '\0';
                p += n;
                int stem = n > 1 && word[n - 1] == '*';
                if (stem)
                        word[--n] = '\0';
                int cnt = sc_text_tokenize(l->tx, word, n);
                if (cnt <= 0) {
                        snprintf(errstr, errstr_size, "no token in '%s' of term '%s'",
                                 word, term);
                        return -1;
                }
                const sc_token_t *t = sc_text_tokens(l->tx, NULL);
                for (int k = 0; k < cnt; k++) {
                        if (tokens++ >= MAX_TERM_TOKENS) {
                                snprintf(errstr, errstr_size,
                                         "term has more than %d tokens: %s",
                                         MAX_TERM_TOKENS, term);
                                return -1;
                        }
                        if (tokens > 1) {
                                node =
                                    child_add(l, node, last_stem ? SEP_STEM : SEP_WORD);
                                if (last_stem && node >= 0)
                                        node = child_add(l, node, SEP_WORD);
                        }
                        node = walk_add(l, node, t[k].fold, t[k].fold_len);
                        if (node < 0)
                                goto nomem;
                        last_stem = stem && k == cnt - 1;
                }
        }
        if (!tokens) {
                snprintf(errstr, errstr_size, "empty term");
                return -1;
        }
        int32_t *slot = last_stem ? &l->nodes[node].stem : &l->nodes[node].exact;
        if (*slot >= 0) { /* replaced */
                l->entries[*slot].val = *val;
                return 0;
        }
        SC_GROW(l->entries, l->entry_cap, l->entry_cnt + 1);
        entry_t *e = &l->entries[l->entry_cnt];
        e->term = sc_strdup(term);
        e->val = *val;
        if (last_stem)
                l->nodes[node].stem = (int32_t)l->entry_cnt;
        else
                l->nodes[node].exact = (int32_t)l->entry_cnt;
        l->entry_cnt++;
        l->term_cnt++;
        return 0;
nomem:
        snprintf(errstr, errstr_size, "out of memory adding '%s'", term);
        return -1;
}

static void build_filter(sc_lexicon_t *l);
static int build_words(sc_lexicon_t *l);

int sc_lexicon_freeze(sc_lexicon_t *l)
{
        free(l->first);
        free(l->ebyte);
        free(l->echild);
        free(l->btab);
        l->btab = NULL;
        free(l->words);
        l->words = NULL;
        free(l->wkeys);
        l->wkeys = NULL;
        free(l->wstates);
        l->wstates = NULL;
        l->first = sc_calloc(l->node_cnt + 1, sizeof(*l->first));
        l->ebyte = sc_malloc(l->edge_cnt + 1);
        l->echild = sc_malloc((l->edge_cnt + 1) * sizeof(*l->echild));
        uint32_t *fill = sc_calloc(l->node_cnt + 1, sizeof(*fill));
        for (size_t i = 0, at = 0; i < l->node_cnt; i++) {
                l->first[i] = l->nodes[i].first = (uint32_t)at;
                at += l->nodes[i].children;
        }
        for (int b = 0; b < 256; b++)
                l->root[b] = -1;
        for (size_t i = 0; i < l->edge_cap; i++) {
                if (!l->edges[i].key)
                        continue;
                uint64_t key = l->edges[i].key - 1;
                size_t parent = (size_t)(key >> 8);
                unsigned char b = (unsigned char)key;
                uint32_t slot = l->first[parent] + fill[parent]++;
                /* insertion keeps each node's bytes sorted */
                while (slot > l->first[parent] && l->ebyte[slot - 1] > b) {
                        l->ebyte[slot] = l->ebyte[slot - 1];
                        l->echild[slot] = l->echild[slot - 1];
                        slot--;
                }
                l->ebyte[slot] = b;
                l->echild[slot] = l->edges[i].child;
                if (parent == 0)
                        l->root[b] = l->edges[i].child;
        }
        free(fill);
        size_t tabs = 0;
        for (size_t i = 0; i < l->node_cnt; i++) {
                l->nodes[i].tab = 0;
                if (l->nodes[i].children > FEW_KIDS && l->nodes[i].children < 255)
                        l->nodes[i].tab = (uint32_t)++tabs;
        }
        l->btab = sc_calloc(tabs ? tabs : 1, 256);
        for (size_t i = 0; i < l->node_cnt; i++) {
                if (!l->nodes[i].tab)
                        continue;
                unsigned char *t = l->btab + (size_t)(l->nodes[i].tab - 1) * 256;
                for (uint32_t k = 0; k < l->nodes[i].children; k++)
                        t[l->ebyte[l->first[i] + k]] = (unsigned char)(k + 1);
        }
        l->frozen = 1;
        build_filter(l);
        if (build_words(l)) {
                l->frozen = 0;
                return -1;
        }
        return 0;
}

static unsigned pre_bit(uint32_t v)
{
        return (v * 2654435761u) >> 16;
}

static void bit_set(uint64_t *set, unsigned bit)
{
        set[bit >> 6] |= 1ull << (bit & 63);
}

static int bit_has(const uint64_t *set, unsigned bit)
{
        return (int)(set[bit >> 6] >> (bit & 63) & 1);
}

static uint32_t start3(const unsigned char *f)
{
        return (uint32_t)f[0] << 16 | (uint32_t)f[1] << 8 | f[2];
}

static uint32_t start4(const unsigned char *f)
{
        return (uint32_t)f[0] << 24 | (uint32_t)f[1] << 16 | (uint32_t)f[2] << 8 | f[3];
}

/* Children of a node in the frozen form: bytes and child nodes. */
static uint32_t kids(const sc_lexicon_t *l, int32_t node, const unsigned char **b,
                     const int32_t **c)
{
        *b = l->ebyte + l->nodes[node].first;
        *c = l->echild + l->nodes[node].first;
        return l->nodes[node].children;
}

static int is_stem_end(const sc_lexicon_t *l, int32_t n)
{
        return l->nodes[n].stem >= 0 || l->nodes[n].has_stem_sep;
}

static void build_filter(sc_lexicon_t *l)
{
        memset(l->pre2, 0, sizeof(l->pre2));
        memset(l->pre3, 0, sizeof(l->pre3));
        memset(l->pre4, 0, sizeof(l->pre4));
        memset(l->stem3, 0, sizeof(l->stem3));
        memset(l->short_stem, 0, sizeof(l->short_stem));
        for (int a = 0; a < 256; a++) {
                int32_t n1 = l->root[a];
                if (n1 < 0)
                        continue;
                if (is_stem_end(l, n1))
                        l->short_stem[a] = 1;
                const unsigned char *b1, *b2, *b3;
                const int32_t *c1, *c2, *c3;
                uint32_t k1 = kids(l, n1, &b1, &c1);
                for (uint32_t i = 0; i < k1; i++) {
                        if (is_stem_end(l, c1[i]))
                                l->short_stem[a] = 1;
                        bit_set(l->pre2, pre_bit((uint32_t)a << 8 | b1[i]));
                        uint32_t k2 = kids(l, c1[i], &b2, &c2);
                        for (uint32_t j = 0; j < k2; j++) {
                                unsigned char f[4] = {(unsigned char)a, b1[i], b2[j], 0};
                                bit_set(l->pre3, pre_bit(start3(f)));
                                if (is_stem_end(l, c2[j]))
                                        bit_set(l->stem3, pre_bit(start3(f)));
                                uint32_t k3 = kids(l, c2[j], &b3, &c3);
                                for (uint32_t m = 0; m < k3; m++) {
                                        f[3] = b3[m];
                                        bit_set(l->pre4, pre_bit(start4(f)));
                                }
                        }
                }
        }
}

/* frozen is a constant where inlined: walk is compiled once per form. The
 * root goes through its byte table like any node with many children. */
static inline __attribute__((always_inline)) int32_t
step(const sc_lexicon_t *l, int frozen, int32_t node, unsigned char b)
{
        if (!frozen)
                return child(l, node, b);
        const node_t *nd = &l->nodes[node];
        uint32_t f = nd->first;
        if (nd->tab) {
                unsigned k = l->btab[(size_t)(nd->tab - 1) * 256 + b];
                return k ? l->echild[f + k - 1] : -1;
        }
        const unsigned char *e = l->ebyte + f;
        uint32_t n = nd->children;
        for (uint32_t i = 0; i < n && e[i] <= b; i++)
                if (e[i] == b)
                        return l->echild[f + i];
        return -1;
}

typedef struct best_s {
        int32_t entry;
        size_t tokens;
        int stem;
        size_t stem_len;
} best_t;

static void consider(best_t *b, int32_t entry, size_t tokens, int stem, size_t stem_len)
{
        if (entry < 0)
                return;
        if (b->entry >= 0) {
                if (tokens != b->tokens) {
                        if (tokens < b->tokens)
                                return;
                } else if (stem != b->stem) {
                        if (stem)
                                return;
                } else if (stem && stem_len <= b->stem_len) {
                        return;
                }
        }
        b->entry = entry;
        b->tokens = tokens;
        b->stem = stem;
        b->stem_len = stem_len;
}

typedef struct wstate_s {
        char path[256];
        int32_t st[MAX_STATES];
} wstate_t;

/* Token paths under node (depth bytes so far, st_n states of the walk
 * pushed along them): what walk does on a first token of exactly those
 * bytes, in the same order (stems along the path, then the exact entry at
 * the end; the states it hands to the next token), recorded per path.
 * count_only: sizes only. */
static int words_under(sc_lexicon_t *l, int32_t node, size_t depth, const best_t *in,
                       size_t st_n, wstate_t *ws, int count_only)
{
        const unsigned char *b;
        const int32_t *c;
        uint32_t k = kids(l, node, &b, &c);
        for (uint32_t i = 0; i < k; i++) {
                if (b[i] == SEP_WORD || b[i] == SEP_STEM)
                        continue;
                if (depth + 1 >= sizeof(ws->path))
                        return -1;
                int32_t v = c[i];
                const node_t *nd = &l->nodes[v];
                size_t d = depth + 1, n = st_n;
                ws->path[depth] = (char)b[i];
                best_t best = *in;
                consider(&best, nd->stem, 1, 1, d);
                int32_t sn = nd->has_stem_sep ? step(l, 1, v, SEP_STEM) : -1;
                int32_t w = sn >= 0 ? step(l, 1, sn, SEP_WORD) : -1;
                if (w >= 0 && n < MAX_STATES)
                        ws->st[n++] = w;
                best_t here = best;
                consider(&here, nd->exact, 1, 0, 0);
                int32_t e = nd->has_word_sep ? step(l, 1, v, SEP_WORD) : -1;
                size_t here_n = n;
                if (count_only) {
                        l->word_cnt++;
                        l->wkeys_len += d;
                        l->wstate_cnt += here_n + (e >= 0 && here_n < MAX_STATES);
                } else {
                        uint32_t h = sc_text_fold_hash(ws->path, d);
                        size_t at = h & l->word_mask;
                        while (l->words[at].len)
                                at = (at + 1) & l->word_mask;
                        word_t *wd = &l->words[at];
                        wd->hash = h;
                        wd->key = (uint32_t)l->wkeys_len;
                        wd->len = (uint16_t)d;
                        wd->entry = here.entry;
                        wd->stem = (uint8_t)here.stem;
                        wd->stem_len = (uint16_t)here.stem_len;
                        wd->states = (uint32_t)l->wstate_cnt;
                        memcpy(l->wstates + l->wstate_cnt, ws->st, n * sizeof(*ws->st));
                        l->wstate_cnt += n;
                        if (e >= 0 && here_n < MAX_STATES)
                                l->wstates[l->wstate_cnt++] = e, here_n++;
                        wd->state_n = (uint8_t)here_n;
                        memcpy(l->wkeys + l->wkeys_len, ws->path, d);
                        l->wkeys_len += d;
                }
                if (words_under(l, v, d, &best, n, ws, count_only))
                        return -1;
        }
        return 0;
}

static int build_words(sc_lexicon_t *l)
{
        wstate_t ws;
        best_t none = {-1, 0, 0, 0};
        l->word_cnt = l->wkeys_len = l->wstate_cnt = 0;
        if (words_under(l, 0, 0, &none, 0, &ws, 1) || l->wkeys_len > UINT32_MAX ||
            l->wstate_cnt > UINT32_MAX)
                return -1;
        size_t cap = 16;
        while (cap < 2 * l->word_cnt + 1)
                cap *= 2;
        l->words = sc_calloc(cap, sizeof(*l->words));
        l->wkeys = sc_malloc(l->wkeys_len + 1);
        l->wstates = sc_malloc((l->wstate_cnt + 1) * sizeof(*l->wstates));
        l->word_mask = cap - 1;
        l->wkeys_len = l->wstate_cnt = 0;
        return words_under(l, 0, 0, &none, 0, &ws, 0);
}

static int walk(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                sc_lex_match_t *out) __attribute__((noinline));
static int lookup(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                  sc_lex_match_t *out) __attribute__((noinline));
static inline __attribute__((always_inline)) int
walk_as(const sc_lexicon_t *l, int frozen, const sc_token_t *toks, size_t cnt, size_t i,
        size_t j0, const int32_t *init, size_t init_n, best_t best, sc_lex_match_t *out);

/* The filter first, apart from the lookup and the walk: most calls end
 * here, without their frames. */
int sc_lexicon_match(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                     sc_lex_match_t *out)
{
        if (l->frozen) {
                const unsigned char *f = (const unsigned char *)toks[i].fold;
                size_t fl = toks[i].fold_len;
                if (!fl || l->root[f[0]] < 0)
                        return 0;
                if (fl == 2 && !l->short_stem[f[0]] &&
                    !bit_has(l->pre2, pre_bit((uint32_t)f[0] << 8 | f[1])))
                        return 0;
                if (fl >= 3 && !l->short_stem[f[0]]) {
                        uint32_t s3 = start3(f);
                        if (fl == 3 ? !bit_has(l->pre3, pre_bit(s3))
                                    : !bit_has(l->stem3, pre_bit(s3)) &&
                                          !bit_has(l->pre4, pre_bit(start4(f))))
                                return 0;
                }
                return lookup(l, toks, cnt, i, out);
        }
        return walk(l, toks, cnt, i, out);
}

/* The token's bytes as a whole path: its own match at once, and the walk
 * resumed at the next token when a phrase may go on. A token that is no
 * path (longer than every term under its start) is walked: a stem may
 * still take it. */
static int lookup(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                  sc_lex_match_t *out)
{
        const char *f = toks[i].fold;
        size_t fl = toks[i].fold_len;
        uint32_t h = toks[i].fold_hash;
        for (size_t at = h & l->word_mask;; at = (at + 1) & l->word_mask) {
                const word_t *w = &l->words[at];
                if (!w->len)
                        break;
                if (w->hash != h || w->len != fl)
                        continue;
                const char *k = l->wkeys + w->key;
                size_t q = 0;
                while (q < fl && k[q] == f[q])
                        q++;
                if (q != fl)
                        continue;
                best_t best = {w->entry, 1, w->stem, w->stem_len};
                if (w->state_n)
                        return walk_as(l, 1, toks, cnt, i, i + 1, l->wstates + w->states,
                                       w->state_n, best, out);
                if (w->entry < 0)
                        return 0;
                out->val = &l->entries[w->entry].val;
                out->term = l->entries[w->entry].term;
                out->tokens = 1;
                out->stem = w->stem;
                return 1;
        }
        return walk(l, toks, cnt, i, out);
}

static int walk(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                sc_lex_match_t *out)
{
        static const int32_t root = 0;
        best_t none = {-1, 0, 0, 0};
        return l->frozen ? walk_as(l, 1, toks, cnt, i, i, &root, 1, none, out)
                         : walk_as(l, 0, toks, cnt, i, i, &root, 1, none, out);
}

/* From token j0 on, with init_n states and the best match so far. */
static inline __attribute__((always_inline)) int
walk_as(const sc_lexicon_t *l, int frozen, const sc_token_t *toks, size_t cnt, size_t i,
        size_t j0, const int32_t *init, size_t init_n, best_t best, sc_lex_match_t *out)
{
        int32_t sa[MAX_STATES], sb[MAX_STATES], *next = sb;
        const int32_t *cur = init;
        size_t cur_n = init_n, next_n;
        for (size_t j = j0; j < cnt && j - i < MAX_TERM_TOKENS && cur_n; j++) {
                const unsigned char *s = (const unsigned char *)toks[j].fold;
                size_t n = toks[j].fold_len, covered = j - i + 1;
                next_n = 0;
                for (size_t k = 0; k < cur_n; k++) {
                        int32_t node = cur[k];
                        size_t p = 0;
                        for (;;) {
                                const node_t *nd = &l->nodes[node];
                                if (p > 0) {
                                        consider(&best, nd->stem, covered, 1, p);
                                        int32_t sn = nd->has_stem_sep
                                                         ? step(l, frozen, node, SEP_STEM)
                                                         : -1;
                                        int32_t w =
                                            sn >= 0 ? step(l, frozen, sn, SEP_WORD) : -1;
                                        if (w >= 0 && next_n < MAX_STATES)
                                                next[next_n++] = w;
                                }
                                if (p == n || !nd->children)
                                        break;
                                node = step(l, frozen, node, s[p]);
                                if (node < 0)
                                        break;
                                p++;
                        }
                        if (node < 0 || p != n)
                                continue;
                        consider(&best, l->nodes[node].exact, covered, 0, 0);
                        int32_t w = l->nodes[node].has_word_sep
                                        ? step(l, frozen, node, SEP_WORD)
                                        : -1;
                        if (w >= 0 && next_n < MAX_STATES)
                                next[next_n++] = w;
                }
                cur = next;
                next = next == sb ? sa : sb;
                cur_n = next_n;
        }
        if (best.entry < 0)
                return 0;
        out->val = &l->entries[best.entry].val;
        out->term = l->entries[best.entry].term;
        out->tokens = best.tokens;
        out->stem = best.stem;
        return 1;
}

/* ---- sets of lexicons ----------------------------------------------------- */

/* A lexicon's answer for a token of exactly a key's bytes ("whole"), or
 * for a longer token whose longest prefix among the keys is that key
 * ("prefix": only stems can match it). */
typedef struct lrec_s {
        /* the entry's value and term, at hand: one load less per answer */
        const sc_lex_val_t *val;
        const char *term;
        int32_t entry; /* the best match within the token, or -1 */
        uint32_t states;
        uint16_t stem_len;
        uint8_t stem;
        uint8_t state_n; /* > 0: the walk goes on at the next token */
        /* Bit b & 63 for every byte b that starts a child of the states:
         * a next token starting with none of them ends the walk at once. */
        uint64_t next_first;
} lrec_t;

typedef struct skey_s {
        uint32_t hash; /* sc_text_fold_hash of the key */
        uint32_t key;  /* offset in keys << 8 | length (paths are < 256); 0: empty */
        uint32_t rec;  /* first whole record, the prefix records after them */
        uint16_t wmask, pmask;
} skey_t;

#define KEY_LEN(k) ((k)->key & 0xff)
#define KEY_AT(k)  ((k)->key >> 8)

struct sc_lexset_s {
        const sc_lexicon_t *lex[SC_LEXSET_MAX];
        size_t n;
        /* Keys: every lexicon's token-sized paths (prefix-closed). */
        skey_t *slots;
        size_t mask;
        char *keys;
        size_t keys_len, max_len;
        lrec_t *recs;
        size_t rec_cnt, rec_cap;
        int32_t *states;
        size_t state_cnt, state_cap;
        /* The 1-4 byte starts of the paths to every stem of a first token:
         * a token that is no key and starts under none of them matches no
         * lexicon, without searching for its longest key. */
        uint64_t stem_start[1024];
};

void sc_lexset_destroy(sc_lexset_t *s)
{
        if (!s)
                return;
        free(s->slots);
        free(s->keys);
        free(s->recs);
        free(s->states);
        free(s);
}

/* v: the first len (1-4) bytes of a token, big-endian. */
static unsigned start_bit(uint32_t v, size_t len)
{
        return (unsigned)((((uint64_t)len << 32 | v) * 0x9E3779B97F4A7C15ull) >> 48);
}

static uint32_t start_of(const unsigned char *f, size_t len)
{
        uint32_t v = 0;
        for (size_t i = 0; i < len; i++)
                v = v << 8 | f[i];
        return v;
}

static unsigned popcount16(unsigned x)
{
        x = x - ((x >> 1) & 0x5555u);
        x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
        x = (x + (x >> 4)) & 0x0f0fu;
        return (x + (x >> 8)) & 0x1fu;
}

/* What walk does on a first token of exactly s[0..n) (whole) or on a
 * longer one that no path of l continues past s (!whole). */
static void first_walk(const sc_lexicon_t *l, const unsigned char *s, size_t n, int whole,
                       best_t *best, int32_t *next, size_t *next_n)
{
        int32_t node = 0;
        size_t p = 0;
        *next_n = 0;
        for (;;) {
                const node_t *nd = &l->nodes[node];
                if (p > 0) {
                        consider(best, nd->stem, 1, 1, p);
                        int32_t sn = nd->has_stem_sep ? step(l, 1, node, SEP_STEM) : -1;
                        int32_t w = sn >= 0 ? step(l, 1, sn, SEP_WORD) : -1;
                        if (w >= 0 && *next_n < MAX_STATES)
                                next[(*next_n)++] = w;
                }
                if (p == n || !nd->children)
                        break;
                node = step(l, 1, node, s[p]);
                if (node < 0)
                        break;
                p++;
        }
        if (!whole || node < 0 || p != n)
                return;
        consider(best, l->nodes[node].exact, 1, 0, 0);
        int32_t w = l->nodes[node].has_word_sep ? step(l, 1, node, SEP_WORD) : -1;
        if (w >= 0 && *next_n < MAX_STATES)
                next[(*next_n)++] = w;
}

static uint64_t ld64(const char *s)
{
        uint64_t v;
        memcpy(&v, s, sizeof(v));
        return v;
}

static uint32_t ld32(const char *s)
{
        uint32_t v;
        memcpy(&v, s, sizeof(v));
        return v;
}

/* a[0..n) == b[0..n) by a few overlapping loads, as the fold hash reads:
 * no loop and no exit that depends on where the bytes differ. */
static int same(const char *a, const char *b, size_t n)
{
        if (n >= 8) {
                for (size_t i = 0; i + 8 < n; i += 8)
                        if (ld64(a + i) != ld64(b + i))
                                return 0;
                return ld64(a + n - 8) == ld64(b + n - 8);
        }
        if (n >= 4)
                return (ld32(a) ^ ld32(b)) == 0 && ld32(a + n - 4) == ld32(b + n - 4);
        return !n || (a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1]);
}

static const skey_t *set_find(const sc_lexset_t *s, const char *f, size_t fl, uint32_t h)
{
        for (size_t at = h & s->mask;; at = (at + 1) & s->mask) {
                const skey_t *k = &s->slots[at];
                if (!k->key)
                        return NULL;
                if (k->hash == h && KEY_LEN(k) == fl && same(s->keys + KEY_AT(k), f, fl))
                        return k;
        }
}

/* Appends l's answer for key bytes to the records; 1 if there is one. */
static int set_rec(sc_lexset_t *s, const sc_lexicon_t *l, const unsigned char *key,
                   size_t len, int whole)
{
        best_t best = {-1, 0, 0, 0};
        int32_t st[MAX_STATES];
        size_t st_n;
        first_walk(l, key, len, whole, &best, st, &st_n);
        if (best.entry < 0 && !st_n)
                return 0;
        SC_GROW(s->recs, s->rec_cap, s->rec_cnt + 1);
        if (s->state_cnt + st_n > s->state_cap) {
                SC_GROW(s->states, s->state_cap, s->state_cnt + st_n);
        }
        lrec_t *r = &s->recs[s->rec_cnt++];
        r->next_first = 0;
        for (size_t q = 0; q < st_n; q++) {
                const unsigned char *b;
                const int32_t *c;
                uint32_t kn = kids(l, st[q], &b, &c);
                for (uint32_t m = 0; m < kn; m++)
                        r->next_first |= 1ull << (b[m] & 63);
        }
        r->entry = best.entry;
        r->val = best.entry >= 0 ? &l->entries[best.entry].val : NULL;
        r->term = best.entry >= 0 ? l->entries[best.entry].term : NULL;
        r->stem = (uint8_t)best.stem;
        r->stem_len = (uint16_t)best.stem_len;
        r->states = (uint32_t)s->state_cnt;
        r->state_n = (uint8_t)st_n;
        if (st_n) /* (states is NULL until the first) */
                memcpy(s->states + s->state_cnt, st, st_n * sizeof(*st));
        s->state_cnt += st_n;
        return 1;
}

static void slot_put(skey_t *slots, size_t mask, const skey_t *k)
{
        size_t at = k->hash & mask;
        while (slots[at].key)
                at = (at + 1) & mask;
        slots[at] = *k;
}

/* Every lexicon's paths as keys, once each; the table then sized for the
 * keys (the lexicons share most of their paths). */
static int set_keys(sc_lexset_t *s)
{
        size_t total = 0, bytes = 0;
        for (size_t k = 0; k < s->n; k++) {
                total += s->lex[k]->word_cnt;
                bytes += s->lex[k]->wkeys_len;
        }
        size_t cap = 16;
        while (cap < 2 * total + 1)
                cap *= 2;
        s->slots = sc_calloc(cap, sizeof(*s->slots));
        s->keys = sc_malloc(bytes + 1);
        if (bytes >= 1u << 24)
                return -1;
        s->mask = cap - 1;
        size_t keys = 0;
        for (size_t k = 0; k < s->n; k++) {
                const sc_lexicon_t *l = s->lex[k];
                for (size_t w = 0; w <= l->word_mask; w++) {
                        const word_t *wd = &l->words[w];
                        if (!wd->len)
                                continue;
                        const char *b = l->wkeys + wd->key;
                        if (wd->len > 255)
                                return -1;
                        if (set_find(s, b, wd->len, wd->hash))
                                continue;
                        skey_t sk = {.hash = wd->hash,
                                     .key = (uint32_t)s->keys_len << 8 | wd->len};
                        slot_put(s->slots, s->mask, &sk);
                        keys++;
                        memcpy(s->keys + s->keys_len, b, wd->len);
                        s->keys_len += wd->len;
                        if (wd->len > s->max_len)
                                s->max_len = wd->len;
                }
        }
        size_t fit = 16;
        while (fit < 2 * keys + 1)
                fit *= 2;
        if (fit < cap) {
                skey_t *t = sc_calloc(fit, sizeof(*t));
                for (size_t at = 0; at < cap; at++)
                        if (s->slots[at].key)
                                slot_put(t, fit - 1, &s->slots[at]);
                free(s->slots);
                s->slots = t;
                s->mask = fit - 1;
        }
        return 0;
}

sc_lexset_t *sc_lexset_new(sc_lexicon_t *const *lex, size_t n, char *errstr,
                           size_t errstr_size)
{
        if (n > SC_LEXSET_MAX) {
                snprintf(errstr, errstr_size, "more than %d lexicons in a set",
                         SC_LEXSET_MAX);
                return NULL;
        }
        for (size_t k = 0; k < n; k++)
                if (!lex[k]->frozen) {
                        snprintf(errstr, errstr_size, "lexicon %zu is not frozen", k);
                        return NULL;
                }
        sc_lexset_t *s = sc_calloc(1, sizeof(*s));
        s->n = n;
        for (size_t k = 0; k < n; k++)
                s->lex[k] = lex[k];
        if (set_keys(s))
                goto nomem;
        for (size_t at = 0; at <= s->mask; at++) {
                skey_t *sk = &s->slots[at];
                if (!sk->key)
                        continue;
                const unsigned char *b = (const unsigned char *)s->keys + KEY_AT(sk);
                sk->rec = (uint32_t)s->rec_cnt;
                for (int whole = 1; whole >= 0; whole--)
                        for (size_t k = 0; k < n; k++) {
                                int r = set_rec(s, s->lex[k], b, KEY_LEN(sk), whole);
                                if (r < 0)
                                        goto nomem;
                                if (r)
                                        *(whole ? &sk->wmask : &sk->pmask) |=
                                            (uint16_t)(1u << k);
                        }
                if (s->rec_cnt > UINT32_MAX || s->state_cnt > UINT32_MAX)
                        goto nomem;
        }
        /* A stem on the path of a first token: its start goes in the filter. */
        for (size_t k = 0; k < n; k++) {
                const sc_lexicon_t *l = s->lex[k];
                for (size_t w = 0; w <= l->word_mask; w++) {
                        const word_t *wd = &l->words[w];
                        if (!wd->len)
                                continue;
                        const unsigned char *b =
                            (const unsigned char *)l->wkeys + wd->key;
                        int32_t node = 0;
                        for (size_t p = 0; p < wd->len && node >= 0; p++)
                                node = step(l, 1, node, b[p]);
                        size_t q = wd->len < 4 ? wd->len : 4;
                        if (node >= 0 && is_stem_end(l, node))
                                bit_set(s->stem_start, start_bit(start_of(b, q), q));
                }
        }
        return s;
nomem:
        snprintf(errstr, errstr_size, "out of memory building a lexicon set");
        sc_lexset_destroy(s);
        return NULL;
}

static sc_lexset_probe_t set_probe(const sc_lexset_t *s, const char *f, size_t fl,
                                   uint32_t h)
{
        sc_lexset_probe_t none = {0, 0};
        if (!fl)
                return none;
        const skey_t *k = set_find(s, f, fl, h);
        if (k)
                return (sc_lexset_probe_t){k->rec, k->wmask};
        /* No key: only a stem on the path of its longest key can match. */
        size_t hi = fl - 1 < s->max_len ? fl - 1 : s->max_len, lo = 0;
        const unsigned char *u = (const unsigned char *)f;
        int stems = 0;
        uint32_t v = 0;
        for (size_t q = 1; q <= hi && q <= 4 && !stems; q++) {
                v = v << 8 | u[q - 1];
                stems = bit_has(s->stem_start, start_bit(v, q));
        }
        if (!stems)
                return none;
        /* keys are prefix-closed: the longest one is found by halving */
        const skey_t *best = NULL;
        while (lo < hi) {
                size_t mid = (lo + hi + 1) / 2;
                k = set_find(s, f, mid, sc_text_fold_hash(f, mid));
                if (k) {
                        lo = mid;
                        best = k;
                } else {
                        hi = mid - 1;
                }
        }
        if (!best)
                return none;
        return (sc_lexset_probe_t){best->rec + popcount16(best->wmask), best->pmask};
}

void sc_lexset_probe(const sc_lexset_t *s, const sc_token_t *toks, size_t cnt,
                     sc_lexset_probe_t *out)
{
        for (size_t i = 0; i < cnt; i++)
                out[i] = set_probe(s, toks[i].fold, toks[i].fold_len, toks[i].fold_hash);
}

/* Apart: the walk's frame would cost every answer given without it. */
static int set_resume(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                      const int32_t *init, size_t init_n, best_t best,
                      sc_lex_match_t *out) __attribute__((noinline));
static int set_resume(const sc_lexicon_t *l, const sc_token_t *toks, size_t cnt, size_t i,
                      const int32_t *init, size_t init_n, best_t best,
                      sc_lex_match_t *out)
{
        return walk_as(l, 1, toks, cnt, i, i + 1, init, init_n, best, out);
}

int sc_lexset_match_at(const sc_lexset_t *s, unsigned k, sc_lexset_probe_t p,
                       const sc_token_t *toks, size_t cnt, size_t i, sc_lex_match_t *out)
{
        const sc_lexicon_t *l = s->lex[k];
        const lrec_t *r = s->recs + p.rec + popcount16(p.mask & ((1u << k) - 1));
        best_t best = {r->entry, 1, r->stem, r->stem_len};
        /* (an empty fold, as of a URL without a host, walks: it ends
         * nothing early) */
        if (r->state_n && i + 1 < cnt &&
            (!toks[i + 1].fold_len ||
             (r->next_first >> ((unsigned char)toks[i + 1].fold[0] & 63) & 1)))
                return set_resume(l, toks, cnt, i, s->states + r->states, r->state_n,
                                  best, out);
        if (best.entry < 0)
                return 0;
        out->val = r->val;
        out->term = r->term;
        out->tokens = 1;
        out->stem = r->stem;
        return 1;
}
