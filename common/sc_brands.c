#include "sc_brands.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

struct sc_brands_s {
        brand_priv_t *brands;
        size_t cnt;
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
        char **out = calloc(seq->count + 1, sizeof(*out));
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
                out[(*cnt)++] = strdup(n->value);
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
        p->pub.id = strdup(id);
        p->pub.name = strdup(sc_yaml_str(n, "name", id));
        p->pub.timezone = strdup(sc_yaml_str(n, "timezone", "UTC"));

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
                p->pub.topics =
                    calloc(topics->count ? topics->count : 1, sizeof(sc_brand_topic_t));
                for (const sc_yaml_node_t *t = topics->child; t; t = t->next) {
                        sc_brand_topic_t *bt = &p->pub.topics[p->pub.topic_cnt++];
                        bt->name = strdup(t->key);
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
                p->accounts = calloc(total ? total : 1, sizeof(*p->accounts));
                for (const sc_yaml_node_t *pl = acc->child; pl; pl = pl->next) {
                        size_t cnt;
                        char **h = strings_of(pl, &cnt, "accounts", errstr, errstr_size);
                        if (h == (char **)-1)
                                return -1;
                        for (size_t i = 0; i < cnt; i++) {
                                account_t *a = &p->accounts[p->account_cnt++];
                                a->platform = strdup(pl->key);
                                if (!strncmp(h[i], "id:", 3)) {
                                        a->id = strdup(h[i] + 3);
                                } else {
                                        const char *s = h[i][0] == '@' ? h[i] + 1 : h[i];
                                        a->handle = strdup(s);
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

sc_brands_t *sc_brands_new(const sc_yaml_node_t *root, char *errstr, size_t errstr_size)
{
        sc_brands_t *b = calloc(1, sizeof(*b));
        const sc_yaml_node_t *seq = root ? sc_yaml_get(root, "brands") : NULL;
        if (!seq)
                return b;
        if (seq->type != SC_YAML_SEQ) {
                snprintf(errstr, errstr_size, "line %d: brands must be a list",
                         seq->line);
                sc_brands_destroy(b);
                return NULL;
        }
        b->brands = calloc(seq->count ? seq->count : 1, sizeof(*b->brands));
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

static int word_char(unsigned char c)
{
        return isalnum(c) || c == '_' || c >= 0x80;
}

static int contains_word(const char *text, size_t len, const char *kw)
{
        size_t kl = strlen(kw);
        if (!kl || kl > len)
                return 0;
        for (size_t i = 0; i + kl <= len; i++) {
                if (strncasecmp(text + i, kw, kl))
                        continue;
                int left_ok = i == 0 || !word_char((unsigned char)text[i - 1]) ||
                              !word_char((unsigned char)kw[0]);
                int right_ok = i + kl == len || !word_char((unsigned char)text[i + kl]) ||
                               !word_char((unsigned char)kw[kl - 1]);
                if (left_ok && right_ok)
                        return 1;
        }
        return 0;
}

const sc_brand_t *sc_brands_match_text(const sc_brands_t *b, const char *text, size_t len)
{
        for (size_t i = 0; b && text && i < b->cnt; i++)
                for (size_t k = 0; k < b->brands[i].pub.keyword_cnt; k++)
                        if (contains_word(text, len, b->brands[i].pub.keywords[k]))
                                return &b->brands[i].pub;
        return NULL;
}
