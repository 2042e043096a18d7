#include "sc_brands.h"

#include "sc_alloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "sc_alloc.h"

typedef struct account_s {
        char *platform;
        char *handle; /* lowercase, no '@'; NULL when matching by id */
        char *id;     /* from "id:..." */
} account_t;

typedef struct brand_priv_s {
        sc_brand_t pub;
        account_t *accounts;
        size_t account_cnt;
} brand_priv_t;

/* A compiled keyword or "@handle": lowercased code points. */
typedef struct pattern_s {
        int32_t *cp;
        size_t n;
        size_t brand;       /* index in deployment order */
        unsigned stem : 1;  /* trailing '*': no right boundary */
        unsigned left : 1;  /* first code point is a word character */
        unsigned right : 1; /* last code point is a word character */
} pattern_t;

/* Patterns indexed by their first three code points (hashed), or by the
 * first one when shorter, so a position tries only the patterns that can
 * start there. CSR layout: bucket k holds order[start[k] .. start[k + 1]). */
#define SHORT_BUCKETS   256
#define LONG_BUCKETS    1024
#define PATTERN_BUCKETS (SHORT_BUCKETS + LONG_BUCKETS)

static uint32_t short_bucket(int32_t c0)
{
        return (uint32_t)c0 & (SHORT_BUCKETS - 1);
}

static uint32_t long_bucket(const int32_t *c)
{
        uint32_t h = (uint32_t)c[0] * 0x9E3779B1u ^ (uint32_t)c[1] * 0x85EBCA77u ^
                     (uint32_t)c[2] * 0xC2B2AE3Du;
        return SHORT_BUCKETS + ((h >> 16) & (LONG_BUCKETS - 1));
}

static uint32_t pattern_bucket(const int32_t *cp, size_t n)
{
        return n >= 3 ? long_bucket(cp) : short_bucket(cp[0]);
}

struct sc_brands_s {
        brand_priv_t *brands;
        size_t cnt;
        pattern_t *patterns;
        size_t pattern_cnt;
        uint32_t *order;
        uint32_t start[PATTERN_BUCKETS + 1];
};

struct sc_brands_scan_s {
        int32_t *cp;   /* lowercased code points */
        uint32_t *off; /* byte offset of each, plus the end */
        uint8_t *word; /* 1: word character */
        size_t cap;    /* code points the arrays hold */
        size_t *best;  /* per brand: index in hits + 1, 0 = none */
        size_t best_cap;
};

static char **strings_of(const sc_yaml_node_t *seq, size_t *cnt, const char *what,
                         char *errstr, size_t errstr_size)
{
        *cnt = 0;
        if (!seq)
                return NULL;
        if (seq->type != SC_YAML_SEQ) {
                snprintf(errstr, errstr_size, "line %d: %s must be a list", seq->line,
                         what);
                return (char **)-1;
        }
        char **out = sc_calloc(seq->count + 1, sizeof(*out));
        for (const sc_yaml_node_t *n = seq->child; n; n = n->next) {
                if (n->type != SC_YAML_SCALAR || !n->value || !*n->value) {
                        snprintf(errstr, errstr_size,
                                 "line %d: %s entries must be strings", n->line, what);
                        for (size_t i = 0; i < *cnt; i++)
                                free(out[i]);
                        free(out);
                        *cnt = 0; /* the caller's destroy walks cnt entries */
                        return (char **)-1;
                }
                out[(*cnt)++] = sc_strdup(n->value);
        }
        return out;
}

static void free_strings(const char **s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free((char *)s[i]);
        free(s);
}

void sc_brands_destroy(sc_brands_t *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->cnt; i++) {
                brand_priv_t *p = &b->brands[i];
                free((char *)p->pub.id);
                free((char *)p->pub.name);
                free((char *)p->pub.timezone);
                free_strings(p->pub.keywords, p->pub.keyword_cnt);
                for (size_t t = 0; t < p->pub.topic_cnt; t++) {
                        free((char *)p->pub.topics[t].name);
                        free_strings(p->pub.topics[t].keywords,
                                     p->pub.topics[t].keyword_cnt);
                }
                free(p->pub.topics);
                for (size_t a = 0; a < p->account_cnt; a++) {
                        free(p->accounts[a].platform);
                        free(p->accounts[a].handle);
                        free(p->accounts[a].id);
                }
                free(p->accounts);
        }
        for (size_t i = 0; i < b->pattern_cnt; i++)
                free(b->patterns[i].cp);
        free(b->patterns);
        free(b->order);
        free(b->brands);
        free(b);
}

static int valid_id(const char *id)
{
        if (!*id || strlen(id) > 64)
                return 0;
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
                        return 0;
        return 1;
}

static int parse_brand(brand_priv_t *p, const sc_yaml_node_t *n, char *errstr,
                       size_t errstr_size)
{
        const char *id = sc_yaml_str(n, "id", NULL);
        if (n->type != SC_YAML_MAP || !id) {
                snprintf(errstr, errstr_size, "line %d: a brand needs an id", n->line);
                return -1;
        }
        if (!valid_id(id)) {
                snprintf(
                    errstr, errstr_size,
                    "line %d: brand id '%s' must be 1-64 of [A-Za-z0-9_.-] (it is the "
                    "Kafka key and the Redis hash tag)",
                    n->line, id);
                return -1;
        }
        for (const sc_yaml_node_t *k = n->child; k; k = k->next) {
                static const char *known[] = {"id",       "name",     "timezone",
                                              "accounts", "keywords", "topics"};
                int ok = 0;
                for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                        ok |= !strcmp(k->key, known[i]);
                if (!ok) {
                        snprintf(errstr, errstr_size, "line %d: unknown brand field '%s'",
                                 k->line, k->key);
                        return -1;
                }
        }
        p->pub.id = sc_strdup(id);
        p->pub.name = sc_strdup(sc_yaml_str(n, "name", id));
        p->pub.timezone = sc_strdup(sc_yaml_str(n, "timezone", "UTC"));

        char **kw = strings_of(sc_yaml_get(n, "keywords"), &p->pub.keyword_cnt,
                               "keywords", errstr, errstr_size);
        if (kw == (char **)-1)
                return -1;
        p->pub.keywords = (const char **)kw;

        const sc_yaml_node_t *topics = sc_yaml_get(n, "topics");
        if (topics) {
                if (topics->type != SC_YAML_MAP) {
                        snprintf(errstr, errstr_size, "line %d: topics must be a map",
                                 topics->line);
                        return -1;
                }
                p->pub.topics = sc_calloc(topics->count ? topics->count : 1,
                                          sizeof(sc_brand_topic_t));
                for (const sc_yaml_node_t *t = topics->child; t; t = t->next) {
                        sc_brand_topic_t *bt = &p->pub.topics[p->pub.topic_cnt++];
                        bt->name = sc_strdup(t->key);
                        char **tk = strings_of(t, &bt->keyword_cnt, "topic keywords",
                                               errstr, errstr_size);
                        if (tk == (char **)-1)
                                return -1;
                        bt->keywords = (const char **)tk;
                }
        }

        const sc_yaml_node_t *acc = sc_yaml_get(n, "accounts");
        if (acc) {
                if (acc->type != SC_YAML_MAP) {
                        snprintf(errstr, errstr_size,
                                 "line %d: accounts must map platform -> list",
                                 acc->line);
                        return -1;
                }
                size_t total = 0;
                for (const sc_yaml_node_t *pl = acc->child; pl; pl = pl->next)
                        total += pl->count;
                p->accounts = sc_calloc(total ? total : 1, sizeof(*p->accounts));
                for (const sc_yaml_node_t *pl = acc->child; pl; pl = pl->next) {
                        size_t cnt;
                        char **h = strings_of(pl, &cnt, "accounts", errstr, errstr_size);
                        if (h == (char **)-1)
                                return -1;
                        for (size_t i = 0; i < cnt; i++) {
                                account_t *a = &p->accounts[p->account_cnt++];
                                a->platform = sc_strdup(pl->key);
                                if (!strncmp(h[i], "id:", 3)) {
                                        a->id = sc_strdup(h[i] + 3);
                                } else {
                                        const char *s = h[i][0] == '@' ? h[i] + 1 : h[i];
                                        a->handle = sc_strdup(s);
                                        for (char *c = a->handle; *c; c++)
                                                *c = (char)tolower((unsigned char)*c);
                                }
                                free(h[i]);
                        }
                        free(h);
                }
        }
        return 0;
}

static int is_word_cp(int32_t c)
{
        if (c < 0x80)
                return isalnum(c) || c == '_';
        switch (utf8proc_category(c)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
                return 1;
        default:
                return 0;
        }
}

/* Decodes s[0..len) lowercased into cp (room for len code points); bytes
 * that are not UTF-8 become U+FFFD, one per byte. Returns the count. */
static size_t decode_lower(const char *s, size_t len, int32_t *cp, uint32_t *off)
{
        size_t n = 0, i = 0;
        while (i < len) {
                unsigned char u = (unsigned char)s[i];
                if (u < 0x80) {
                        if (off)
                                off[n] = (uint32_t)i;
                        cp[n++] = u >= 'A' && u <= 'Z' ? u + 32 : u;
                        i++;
                        continue;
                }
                utf8proc_int32_t c;
                utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                                      (utf8proc_ssize_t)(len - i), &c);
                if (r <= 0) {
                        c = 0xFFFD;
                        r = 1;
                }
                if (off)
                        off[n] = (uint32_t)i;
                cp[n++] = c < 0x80 ? tolower(c) : utf8proc_tolower(c);
                i += (size_t)r;
        }
        if (off)
                off[n] = (uint32_t)i;
        return n;
}

static void add_pattern(sc_brands_t *b, size_t *cap, size_t brand, const char *prefix,
                        const char *text)
{
        size_t pl = strlen(prefix), tl = strlen(text);
        char *full = sc_malloc(pl + tl + 1);
        memcpy(full, prefix, pl);
        memcpy(full + pl, text, tl + 1);
        size_t len = pl + tl;
        int stem = len > 1 && full[len - 1] == '*';
        if (stem)
                len--;
        int32_t *cp = sc_malloc((len ? len : 1) * sizeof(*cp));
        size_t n = decode_lower(full, len, cp, NULL);
        free(full);
        if (!n) {
                free(cp);
                return;
        }
        SC_GROW(b->patterns, *cap, b->pattern_cnt + 1);
        pattern_t *p = &b->patterns[b->pattern_cnt++];
        p->cp = cp;
        p->n = n;
        p->brand = brand;
        p->stem = (unsigned)stem;
        p->left = (unsigned)is_word_cp(cp[0]);
        p->right = (unsigned)is_word_cp(cp[n - 1]);
}

/* Every brand keyword and "@handle" of every own account, indexed by their
 * first code points so a scan tries only the few that can start at a
 * position. */
static void compile_patterns(sc_brands_t *b)
{
        size_t cap = 0;
        for (size_t i = 0; i < b->cnt; i++) {
                const brand_priv_t *p = &b->brands[i];
                for (size_t k = 0; k < p->pub.keyword_cnt; k++)
                        add_pattern(b, &cap, i, "", p->pub.keywords[k]);
                for (size_t a = 0; a < p->account_cnt; a++) {
                        const char *h = p->accounts[a].handle;
                        int dup = 0;
                        for (size_t e = 0; h && e < a && !dup; e++)
                                dup = p->accounts[e].handle &&
                                      !strcmp(p->accounts[e].handle, h);
                        if (h && !dup)
                                add_pattern(b, &cap, i, "@", h);
                }
        }
        memset(b->start, 0, sizeof(b->start));
        for (size_t i = 0; i < b->pattern_cnt; i++)
                b->start[pattern_bucket(b->patterns[i].cp, b->patterns[i].n) + 1]++;
        for (size_t k = 0; k < PATTERN_BUCKETS; k++)
                b->start[k + 1] += b->start[k];
        b->order = sc_malloc((b->pattern_cnt ? b->pattern_cnt : 1) * sizeof(*b->order));
        uint32_t fill[PATTERN_BUCKETS];
        memcpy(fill, b->start, sizeof(fill));
        /* In deployment order within a bucket. */
        for (size_t i = 0; i < b->pattern_cnt; i++)
                b->order[fill[pattern_bucket(b->patterns[i].cp, b->patterns[i].n)]++] =
                    (uint32_t)i;
}

sc_brands_t *sc_brands_new(const sc_yaml_node_t *root, char *errstr, size_t errstr_size)
{
        sc_brands_t *b = sc_calloc(1, sizeof(*b));
        const sc_yaml_node_t *seq = root ? sc_yaml_get(root, "brands") : NULL;
        if (!seq) {
                compile_patterns(b);
                return b;
        }
        if (seq->type != SC_YAML_SEQ) {
                snprintf(errstr, errstr_size, "line %d: brands must be a list",
                         seq->line);
                sc_brands_destroy(b);
                return NULL;
        }
        b->brands = sc_calloc(seq->count ? seq->count : 1, sizeof(*b->brands));
        for (const sc_yaml_node_t *n = seq->child; n; n = n->next) {
                brand_priv_t *p = &b->brands[b->cnt++];
                if (parse_brand(p, n, errstr, errstr_size) == -1) {
                        sc_brands_destroy(b);
                        return NULL;
                }
                for (size_t i = 0; i + 1 < b->cnt; i++) {
                        if (!strcmp(b->brands[i].pub.id, p->pub.id)) {
                                snprintf(errstr, errstr_size,
                                         "line %d: duplicate brand id '%s'", n->line,
                                         p->pub.id);
                                sc_brands_destroy(b);
                                return NULL;
                        }
                }
        }
        compile_patterns(b);
        return b;
}

size_t sc_brands_count(const sc_brands_t *b)
{
        return b ? b->cnt : 0;
}

const sc_brand_t *sc_brands_at(const sc_brands_t *b, size_t i)
{
        return b && i < b->cnt ? &b->brands[i].pub : NULL;
}

const sc_brand_t *sc_brands_find(const sc_brands_t *b, const char *id)
{
        for (size_t i = 0; b && id && i < b->cnt; i++)
                if (!strcmp(b->brands[i].pub.id, id))
                        return &b->brands[i].pub;
        return NULL;
}

static int account_matches(const brand_priv_t *p, const char *platform,
                           const char *handle, const char *author_id)
{
        if (handle && *handle == '@')
                handle++;
        for (size_t i = 0; i < p->account_cnt; i++) {
                const account_t *a = &p->accounts[i];
                if (strcmp(a->platform, platform))
                        continue;
                if (a->id && author_id && !strcmp(a->id, author_id))
                        return 1;
                if (a->handle && handle && !strcasecmp(a->handle, handle))
                        return 1;
        }
        return 0;
}

int sc_brands_is_own_account(const sc_brands_t *b, const sc_brand_t *brand,
                             const char *platform, const char *handle,
                             const char *author_id)
{
        (void)b;
        if (!brand || !platform)
                return 0;
        return account_matches((const brand_priv_t *)brand, platform, handle, author_id);
}

const sc_brand_t *sc_brands_by_account(const sc_brands_t *b, const char *platform,
                                       const char *handle, const char *author_id)
{
        for (size_t i = 0; b && platform && i < b->cnt; i++)
                if (account_matches(&b->brands[i], platform, handle, author_id))
                        return &b->brands[i].pub;
        return NULL;
}

sc_brands_scan_t *sc_brands_scan_new(void)
{
        return sc_calloc(1, sizeof(sc_brands_scan_t));
}

void sc_brands_scan_destroy(sc_brands_scan_t *s)
{
        if (!s)
                return;
        free(s->cp);
        free(s->off);
        free(s->word);
        free(s->best);
        free(s);
}

static void scan_reserve(sc_brands_scan_t *s, size_t len, size_t brands)
{
        if (len + 1 > s->cap) {
                size_t cap = s->cap ? s->cap : 256;
                while (cap < len + 1)
                        cap *= 2;
                s->cp = sc_realloc(s->cp, cap * sizeof(*s->cp));
                s->off = sc_realloc(s->off, (cap + 1) * sizeof(*s->off));
                s->word = sc_realloc(s->word, cap);
                s->cap = cap;
        }
        if (brands > s->best_cap) {
                s->best = sc_realloc(s->best, brands * sizeof(*s->best));
                s->best_cap = brands;
        }
}

/* More brands than this in one text are not told apart. */
#define MAX_HITS 64

typedef struct hit_s {
        sc_brand_hit_t hit;
        size_t brand; /* deployment order */
} hit_t;

static int hit_before(const hit_t *a, const hit_t *b)
{
        if (a->hit.pos != b->hit.pos)
                return a->hit.pos < b->hit.pos;
        if (a->hit.len != b->hit.len)
                return a->hit.len > b->hit.len;
        return a->brand < b->brand;
}

size_t sc_brands_mentions(const sc_brands_t *b, sc_brands_scan_t *s, const char *text,
                          size_t len, sc_brand_hit_t *hits, size_t cap)
{
        if (!b || !s || !text || !len || !cap || !b->pattern_cnt)
                return 0;
        scan_reserve(s, len, b->cnt);
        size_t n = decode_lower(text, len, s->cp, s->off);
        for (size_t i = 0; i < n; i++) {
                int32_t c = s->cp[i];
                s->word[i] = (uint8_t)(c < 0x80 ? isalnum(c) || c == '_' : is_word_cp(c));
        }
        memset(s->best, 0, b->cnt * sizeof(*s->best));
        /* One hit per brand, in the order found (by position); sorted at the
         * end for the ties. cap 1 stops once a position has matched. */
        hit_t all[MAX_HITS];
        size_t found = 0;
        for (size_t i = 0; i < n && !(cap == 1 && found); i++) {
                int left_word = i > 0 && s->word[i - 1];
                uint32_t ks[2] = {short_bucket(s->cp[i]),
                                  i + 3 <= n ? long_bucket(&s->cp[i]) : 0};
                for (int q = 0; q < 2; q++) {
                        uint32_t k = ks[q];
                        if (!k && q)
                                break;
                        for (uint32_t o = b->start[k]; o < b->start[k + 1]; o++) {
                                const pattern_t *p = &b->patterns[b->order[o]];
                                if (p->cp[0] != s->cp[i] || (p->left && left_word) ||
                                    p->n > n - i)
                                        continue;
                                size_t m = 1;
                                while (m < p->n && p->cp[m] == s->cp[i + m])
                                        m++;
                                if (m < p->n)
                                        continue;
                                if (!p->stem && p->right && i + m < n && s->word[i + m])
                                        continue;
                                size_t pos = s->off[i], mlen = s->off[i + m] - s->off[i];
                                size_t *slot = &s->best[p->brand];
                                if (*slot) {
                                        /* Only a longer match at the same earliest
                                         * position improves a brand's hit. */
                                        hit_t *h = &all[*slot - 1];
                                        if (h->hit.pos == pos && mlen > h->hit.len)
                                                h->hit.len = mlen;
                                        continue;
                                }
                                if (found == MAX_HITS)
                                        continue;
                                all[found].hit.brand = &b->brands[p->brand].pub;
                                all[found].hit.pos = pos;
                                all[found].hit.len = mlen;
                                all[found].brand = p->brand;
                                *slot = ++found;
                        }
                }
        }
        /* Insertion sort: a post names a handful of brands at most. */
        for (size_t i = 1; i < found; i++) {
                hit_t h = all[i];
                size_t j = i;
                while (j > 0 && hit_before(&h, &all[j - 1])) {
                        all[j] = all[j - 1];
                        j--;
                }
                all[j] = h;
        }
        size_t out = found < cap ? found : cap;
        for (size_t i = 0; i < out; i++)
                hits[i] = all[i].hit;
        return out;
}

const sc_brand_t *sc_brands_match_text(const sc_brands_t *b, const char *text, size_t len)
{
        sc_brands_scan_t *s = sc_brands_scan_new();
        sc_brand_hit_t hit;
        size_t n = sc_brands_mentions(b, s, text, len, &hit, 1);
        sc_brands_scan_destroy(s);
        return n ? hit.brand : NULL;
}
