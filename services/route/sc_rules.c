#include "sc_rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- names ------------------------------------------------------------------- */

/* sc_platform_parse, sc_lang_parse and sc_label_parse are common/sc_vocab.c's
 * (the same names in the same order as the enums in sc_rules.h). */
static const char *const intent_names[] = {
    "complaint", "question", "praise", "purchase_intent", "churn_risk", "crisis", "spam"};

static int lookup(const char *const *names, int cnt, const char *s, size_t n)
{
        for (int i = 0; i < cnt; i++)
                if (strlen(names[i]) == n && !memcmp(names[i], s, n))
                        return i;
        return -1;
}

int sc_rintent_parse(const char *s, size_t n)
{
        return lookup(intent_names, SC_RINTENT_CNT, s, n);
}

static int prio_parse(const char *s, size_t n)
{
        return sc_priority_parse(s, n);
}

/* ---- folding ----------------------------------------------------------------- */

/* Polish letters map to their base letter so "awaria" finds "AWARIĄ" and a
 * keyword written without diacritics ("swiatlowod*") finds "światłowodu". */
static int32_t fold_cp(int32_t cp)
{
        switch (cp) {
        case 0x104:
        case 0x105:
                return 'a';
        case 0x106:
        case 0x107:
                return 'c';
        case 0x118:
        case 0x119:
                return 'e';
        case 0x141:
        case 0x142:
                return 'l';
        case 0x143:
        case 0x144:
                return 'n';
        case 0xD3:
        case 0xF3:
                return 'o';
        case 0x15A:
        case 0x15B:
                return 's';
        case 0x179:
        case 0x17A:
        case 0x17B:
        case 0x17C:
                return 'z';
        default:
                return utf8proc_tolower(cp);
        }
}

int sc_rules_fold(sc_buf_t *out, const char *text, size_t n)
{
        /* Worst case up front: a character's lowercase form can be longer than
         * the character (U+023A is 2 bytes, its lowercase U+2C65 is 3), never
         * more than twice its bytes; plus the two separators and the NUL. */
        if (n > (SIZE_MAX - 3) / 2 || sc_buf_reserve(out, 2 * n + 3) ||
            sc_buf_putc(out, ' '))
                return -1;
        const uint8_t *s = (const uint8_t *)text;
        size_t i = 0;
        while (i < n) {
                uint8_t ch = s[i];
                if (ch < 0x80) {
                        i++;
                        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
                                out->data[out->len++] = (char)ch;
                        } else if (ch >= 'A' && ch <= 'Z') {
                                out->data[out->len++] = (char)(ch + 32);
                        } else if (out->data[out->len - 1] != ' ') {
                                out->data[out->len++] = ' ';
                        }
                        continue;
                }
                utf8proc_int32_t cp;
                utf8proc_ssize_t k =
                    utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
                if (k <= 0) { /* invalid byte: a separator */
                        i++;
                        if (out->data[out->len - 1] != ' ')
                                out->data[out->len++] = ' ';
                        continue;
                }
                i += (size_t)k;
                utf8proc_category_t cat = utf8proc_category(cp);
                if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
                    cat == UTF8PROC_CATEGORY_ME)
                        continue; /* combining marks: part of the word, dropped */
                int word = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
                           cat == UTF8PROC_CATEGORY_LT || cat == UTF8PROC_CATEGORY_LM ||
                           cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_ND ||
                           cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
                if (!word) {
                        if (out->data[out->len - 1] != ' ')
                                out->data[out->len++] = ' ';
                        continue;
                }
                uint8_t enc[4];
                utf8proc_ssize_t m = utf8proc_encode_char(fold_cp(cp), enc);
                memcpy(out->data + out->len, enc, (size_t)m);
                out->len += (size_t)m;
        }
        if (out->data[out->len - 1] != ' ')
                out->data[out->len++] = ' ';
        out->data[out->len] = '\0';
        return 0;
}

/* ---- compiled form ------------------------------------------------------------- */

enum {
        C_PLATFORM = 1 << 0,
        C_LANG = 1 << 1,
        C_LABEL = 1 << 2,
        C_PRIO = 1 << 3,
        C_INTENTS = 1 << 4,
        C_TOPICS = 1 << 5,
        C_VERIFIED = 1 << 6,
        C_REPLY = 1 << 7,
        C_KEYWORDS = 1 << 8,
        C_SCORE = 1 << 9,
        C_REACH = 1 << 10,
        C_FOLLOWERS = 1 << 11,
};

#define MAX_TOPICS 64

typedef struct kw_s {
        char *pat; /* " word " or " stem" (folded) */
        size_t len;
} kw_t;

typedef struct rule_s {
        uint32_t has; /* C_* */
        uint8_t platforms, langs, labels, prios;
        uint8_t intents_any, intents_all;
        uint8_t verified, reply;
        double score_min, score_max, intent_min;
        uint64_t topics_any, topics_all;
        int64_t reach_min, reach_max, followers_min, followers_max;
        uint32_t kw_off, kw_cnt;
        /* actions */
        int team; /* -1: the default team */
        int prio; /* -1: keep */
        int needs_reply;
        int drop;
        uint32_t tag_off, tag_cnt;
        char *id;
        int line;
} rule_t;

typedef struct list_s {
        char *brand; /* NULL: global */
        int default_team;
        uint32_t off, cnt;
        int line;
} list_t;

struct sc_rules_s {
        rule_t *rules;
        size_t rule_cnt, rule_cap;
        kw_t *kws;
        size_t kw_cnt, kw_cap;
        const char **tags; /* owned strings */
        size_t tag_cnt, tag_cap;
        list_t global;
        list_t *brands;
        size_t brand_cnt;
        /* brand id -> list, open addressing */
        int32_t *brand_slots;
        size_t brand_mask;
        /* topic names the rules use, interned to bits */
        char *topics[MAX_TOPICS];
        size_t topic_lens[MAX_TOPICS];
        size_t topic_cnt;
        int32_t topic_slots[MAX_TOPICS * 4];
        int default_team;
        char summary[160];
};

static uint64_t hash(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
        return h;
}

static int topic_find(const sc_rules_t *r, const char *s, size_t n)
{
        const size_t mask = MAX_TOPICS * 4 - 1;
        for (size_t i = hash(s, n) & mask;; i = (i + 1) & mask) {
                int32_t t = r->topic_slots[i];
                if (t < 0)
                        return -1;
                if (r->topic_lens[t] == n && !memcmp(r->topics[t], s, n))
                        return t;
        }
}

static int topic_intern(sc_rules_t *r, const char *s)
{
        size_t n = strlen(s);
        int t = topic_find(r, s, n);
        if (t >= 0)
                return t;
        if (r->topic_cnt == MAX_TOPICS)
                return -1;
        t = (int)r->topic_cnt++;
        r->topics[t] = strdup(s);
        r->topic_lens[t] = n;
        const size_t mask = MAX_TOPICS * 4 - 1;
        size_t i = hash(s, n) & mask;
        while (r->topic_slots[i] >= 0)
                i = (i + 1) & mask;
        r->topic_slots[i] = t;
        return t;
}

static const list_t *brand_list(const sc_rules_t *r, const char *brand)
{
        if (!brand || !r->brand_cnt)
                return NULL;
        size_t n = strlen(brand);
        for (size_t i = hash(brand, n) & r->brand_mask;; i = (i + 1) & r->brand_mask) {
                int32_t b = r->brand_slots[i];
                if (b < 0)
                        return NULL;
                if (!strcmp(r->brands[b].brand, brand))
                        return &r->brands[b];
        }
}

/* ---- evaluation ---------------------------------------------------------------- */

typedef struct post_ctx_s {
        const sc_route_post_t *p;
        sc_route_scratch_t *scratch;
        int folded;
        uint8_t platform, lang, label, prio; /* single bits, 0 when unknown */
        uint64_t topics;
} post_ctx_t;

static uint8_t intents_at(const sc_route_post_t *p, double min)
{
        uint8_t m = 0;
        for (int k = 0; k < SC_RINTENT_CNT; k++)
                if (p->intent[k] > 0 && p->intent[k] >= min)
                        m |= (uint8_t)(1u << k);
        return m;
}

static int match_keywords(const sc_rules_t *r, const rule_t *u, post_ctx_t *c)
{
        sc_buf_t *f = &c->scratch->fold;
        if (!c->folded) {
                size_t n = c->p->text_len;
                if (c->scratch->max_text && n > c->scratch->max_text)
                        n = c->scratch->max_text;
                sc_buf_reset(f);
                if (!c->p->text || sc_rules_fold(f, c->p->text, n)) {
                        sc_buf_reset(f);
                        sc_buf_puts(f, " ");
                }
                c->folded = 1;
        }
        for (uint32_t i = 0; i < u->kw_cnt; i++) {
                const kw_t *k = &r->kws[u->kw_off + i];
                if (k->len <= f->len && memmem(f->data, f->len, k->pat, k->len))
                        return 1;
        }
        return 0;
}

static int match(const sc_rules_t *r, const rule_t *u, post_ctx_t *c)
{
        const sc_route_post_t *p = c->p;
        uint32_t h = u->has;
        if (!h)
                return 1;
        if ((h & C_PLATFORM) && !(u->platforms & c->platform))
                return 0;
        if ((h & C_LANG) && !(u->langs & c->lang))
                return 0;
        if ((h & C_LABEL) && !(u->labels & c->label))
                return 0;
        if ((h & C_PRIO) && !(u->prios & c->prio))
                return 0;
        if ((h & C_SCORE) && !(p->score >= u->score_min && p->score <= u->score_max))
                return 0;
        if ((h & C_REACH) && !(p->reach >= u->reach_min && p->reach <= u->reach_max))
                return 0;
        if ((h & C_FOLLOWERS) &&
            !(p->followers >= u->followers_min && p->followers <= u->followers_max))
                return 0;
        if ((h & C_VERIFIED) && (!p->verified) != (!u->verified))
                return 0;
        if ((h & C_REPLY) && (!p->is_reply) != (!u->reply))
                return 0;
        if (h & C_INTENTS) {
                uint8_t m = intents_at(p, u->intent_min);
                if (u->intents_any && !(m & u->intents_any))
                        return 0;
                if ((m & u->intents_all) != u->intents_all)
                        return 0;
        }
        if (h & C_TOPICS) {
                if (u->topics_any && !(c->topics & u->topics_any))
                        return 0;
                if ((c->topics & u->topics_all) != u->topics_all)
                        return 0;
        }
        if ((h & C_KEYWORDS) && !match_keywords(r, u, c))
                return 0;
        return 1;
}

static void decide(const sc_rules_t *r, const rule_t *u, int rule, int default_team,
                   const sc_route_post_t *p, sc_route_decision_t *out)
{
        out->rule = rule;
        out->rule_id = u ? u->id : "default";
        out->team = u && u->team >= 0 ? u->team : default_team;
        out->priority = u && u->prio >= 0 ? u->prio : p->priority;
        out->needs_reply = u && u->needs_reply >= 0 ? u->needs_reply : p->needs_reply;
        out->drop = u ? u->drop : 0;
        if (out->drop)
                out->needs_reply = 0;
        out->tags = u && u->tag_cnt ? r->tags + u->tag_off : NULL;
        out->tag_cnt = u ? u->tag_cnt : 0;
}

void sc_rules_eval(const sc_rules_t *r, sc_route_scratch_t *scratch,
                   const sc_route_post_t *p, sc_route_decision_t *out)
{
        post_ctx_t c = {.p = p, .scratch = scratch};
        c.platform = p->platform >= 0 && p->platform < SC_PLATFORM_CNT
                         ? (uint8_t)(1u << p->platform)
                         : 0;
        c.lang = p->lang >= 0 && p->lang < SC_LANG_CNT ? (uint8_t)(1u << p->lang) : 0;
        c.label =
            p->label >= 0 && p->label < SC_LABEL_CNT ? (uint8_t)(1u << p->label) : 0;
        c.prio = p->priority >= 0 && p->priority < SC_PRIO_CNT
                     ? (uint8_t)(1u << p->priority)
                     : 0;
        if (r->topic_cnt)
                for (size_t i = 0; i < p->topic_cnt; i++) {
                        size_t n =
                            p->topic_lens ? p->topic_lens[i] : strlen(p->topics[i]);
                        int t = topic_find(r, p->topics[i], n);
                        if (t >= 0)
                                c.topics |= 1ULL << t;
                }
        const list_t *bl = brand_list(r, p->brand);
        const list_t *lists[2] = {bl, &r->global};
        for (int l = 0; l < 2; l++) {
                if (!lists[l])
                        continue;
                for (uint32_t i = 0; i < lists[l]->cnt; i++) {
                        uint32_t k = lists[l]->off + i;
                        if (match(r, &r->rules[k], &c)) {
                                decide(r, &r->rules[k], (int)k,
                                       bl && bl->default_team >= 0 ? bl->default_team
                                                                   : r->default_team,
                                       p, out);
                                return;
                        }
                }
        }
        decide(r, NULL, -1,
               bl && bl->default_team >= 0 ? bl->default_team : r->default_team, p, out);
}

size_t sc_rules_count(const sc_rules_t *r)
{
        return r ? r->rule_cnt : 0;
}

const char *sc_rules_rule_id(const sc_rules_t *r, size_t i)
{
        return r && i < r->rule_cnt ? r->rules[i].id : "default";
}

const char *sc_rules_summary(const sc_rules_t *r)
{
        return r ? r->summary : "";
}

void sc_rules_destroy(sc_rules_t *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->rule_cnt; i++)
                free(r->rules[i].id);
        free(r->rules);
        for (size_t i = 0; i < r->kw_cnt; i++)
                free(r->kws[i].pat);
        free(r->kws);
        for (size_t i = 0; i < r->tag_cnt; i++)
                free((char *)r->tags[i]);
        free(r->tags);
        for (size_t i = 0; i < r->brand_cnt; i++)
                free(r->brands[i].brand);
        free(r->brands);
        free(r->brand_slots);
        for (size_t i = 0; i < r->topic_cnt; i++)
                free(r->topics[i]);
        free(r);
}

/* ---- compiling ------------------------------------------------------------------- */

typedef struct build_s {
        sc_rules_t *r;
        const sc_brands_t *brands;
        const sc_teams_t *teams;
        const char *file;
        char *errstr;
        size_t errstr_size;
} build_t;

#define ERR(b, line, ...)                                                                \
        do {                                                                             \
                int off_ = snprintf((b)->errstr, (b)->errstr_size, "%s:%d: ", (b)->file, \
                                    (line));                                             \
                if (off_ >= 0 && (size_t)off_ < (b)->errstr_size)                        \
                        snprintf((b)->errstr + off_, (b)->errstr_size - (size_t)off_,    \
                                 __VA_ARGS__);                                           \
                return -1;                                                               \
        } while (0)

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
        if (need <= *cap)
                return 0;
        size_t n = *cap ? *cap * 2 : 16;
        while (n < need)
                n *= 2;
        void *q = realloc(*p, n * elem);
        if (!q)
                return -1;
        *p = q;
        *cap = n;
        return 0;
}

/* A scalar or a non-empty list of non-empty scalars, each given to fn. */
typedef int (*item_fn)(build_t *b, rule_t *u, const sc_yaml_node_t *item, void *arg);

static int each_item(build_t *b, rule_t *u, const sc_yaml_node_t *n, const char *what,
                     item_fn fn, void *arg)
{
        if (n->type == SC_YAML_SCALAR) {
                if (!n->value || !*n->value)
                        ERR(b, n->line, "rule '%s': %s is empty", u->id, what);
                return fn(b, u, n, arg);
        }
        if (n->type != SC_YAML_SEQ)
                ERR(b, n->line, "rule '%s': %s must be a name or a list", u->id, what);
        if (n->count == 0)
                ERR(b, n->line, "rule '%s': %s is an empty list (it could never match)",
                    u->id, what);
        for (const sc_yaml_node_t *i = n->child; i; i = i->next) {
                if (i->type != SC_YAML_SCALAR || !i->value || !*i->value)
                        ERR(b, i->line, "rule '%s': %s entries must be non-empty strings",
                            u->id, what);
                if (fn(b, u, i, arg))
                        return -1;
        }
        return 0;
}

typedef struct mask_arg_s {
        int (*parse)(const char *, size_t);
        const char *what;
        const char *valid;
        uint8_t mask;
} mask_arg_t;

static int mask_item(build_t *b, rule_t *u, const sc_yaml_node_t *i, void *arg)
{
        mask_arg_t *a = arg;
        int k = a->parse(i->value, strlen(i->value));
        if (k < 0)
                ERR(b, i->line, "rule '%s': unknown %s '%s' (%s)", u->id, a->what,
                    i->value, a->valid);
        a->mask |= (uint8_t)(1u << k);
        return 0;
}

static int parse_mask(build_t *b, rule_t *u, const sc_yaml_node_t *n,
                      int (*parse)(const char *, size_t), const char *what,
                      const char *valid, uint8_t *out)
{
        mask_arg_t a = {parse, what, valid, 0};
        if (each_item(b, u, n, what, mask_item, &a))
                return -1;
        *out = a.mask;
        return 0;
}

typedef struct topic_arg_s {
        const sc_brand_t *brand; /* NULL: any brand's topic */
        uint64_t mask;
} topic_arg_t;

static int brand_has_topic(const sc_brand_t *br, const char *name)
{
        for (size_t t = 0; t < br->topic_cnt; t++)
                if (!strcmp(br->topics[t].name, name))
                        return 1;
        return 0;
}

static int topic_item(build_t *b, rule_t *u, const sc_yaml_node_t *i, void *arg)
{
        topic_arg_t *a = arg;
        int known = 0;
        if (a->brand)
                known = brand_has_topic(a->brand, i->value);
        else
                for (size_t k = 0; !known && k < sc_brands_count(b->brands); k++)
                        known = brand_has_topic(sc_brands_at(b->brands, k), i->value);
        if (!known)
                ERR(b, i->line, "rule '%s': unknown topic '%s' (not in %s%s topics)",
                    u->id, i->value, a->brand ? "brand " : "any brand's",
                    a->brand ? a->brand->id : "");
        int t = topic_intern(b->r, i->value);
        if (t < 0)
                ERR(b, i->line, "rule '%s': more than %d distinct topics in the rules",
                    u->id, MAX_TOPICS);
        a->mask |= 1ULL << t;
        return 0;
}

static int kw_item(build_t *b, rule_t *u, const sc_yaml_node_t *i, void *arg)
{
        (void)arg;
        sc_rules_t *r = b->r;
        const char *s = i->value;
        size_t n = strlen(s);
        int stem = s[n - 1] == '*';
        if (stem)
                n--;
        if (memchr(s, '*', n))
                ERR(b, i->line,
                    "rule '%s': keyword '%s': '*' is only allowed at the end (a stem)",
                    u->id, s);
        sc_buf_t f = SC_BUF_INIT;
        if (sc_rules_fold(&f, s, n)) {
                sc_buf_free(&f);
                ERR(b, i->line, "out of memory");
        }
        if (f.len < 3) {
                sc_buf_free(&f);
                ERR(b, i->line, "rule '%s': keyword '%s' has no letters or digits", u->id,
                    s);
        }
        if (stem)
                f.data[--f.len] = '\0'; /* " stem" finds any word starting with it */
        if (grow((void **)&r->kws, &r->kw_cap, r->kw_cnt + 1, sizeof(*r->kws))) {
                sc_buf_free(&f);
                ERR(b, i->line, "out of memory");
        }
        r->kws[r->kw_cnt].pat = f.data;
        r->kws[r->kw_cnt].len = f.len;
        r->kw_cnt++;
        u->kw_cnt++;
        return 0;
}

static int tag_item(build_t *b, rule_t *u, const sc_yaml_node_t *i, void *arg)
{
        (void)arg;
        sc_rules_t *r = b->r;
        if (grow((void **)&r->tags, &r->tag_cap, r->tag_cnt + 1, sizeof(*r->tags)))
                ERR(b, i->line, "out of memory");
        r->tags[r->tag_cnt++] = strdup(i->value);
        u->tag_cnt++;
        return 0;
}

static int get_double(build_t *b, rule_t *u, const sc_yaml_node_t *n, double lo,
                      double hi, double *out)
{
        if (n->type != SC_YAML_SCALAR || sc_yaml_double(n, out) || !(*out >= lo) ||
            !(*out <= hi))
                ERR(b, n->line, "rule '%s': %s must be a number in [%g, %g]", u->id,
                    n->key, lo, hi);
        return 0;
}

static int get_count(build_t *b, rule_t *u, const sc_yaml_node_t *n, int64_t *out)
{
        long long v;
        if (n->type != SC_YAML_SCALAR || sc_yaml_int(n, &v) || v < 0)
                ERR(b, n->line, "rule '%s': %s must be a whole number >= 0", u->id,
                    n->key);
        *out = v;
        return 0;
}

static int get_bool(build_t *b, rule_t *u, const sc_yaml_node_t *n, int *out)
{
        if (n->type != SC_YAML_SCALAR || sc_yaml_bool(n, out))
                ERR(b, n->line, "rule '%s': %s must be true or false", u->id, n->key);
        return 0;
}

#define PLATFORMS "x, facebook, instagram, forum, comment, review"
#define INTENTS   "complaint, question, praise, purchase_intent, churn_risk, crisis, spam"

static int parse_when(build_t *b, rule_t *u, const sc_yaml_node_t *w,
                      const sc_brand_t *brand)
{
        int min_line = 0;
        uint8_t prio_in = 0xF, prio_least = 0xF;
        u->score_min = -INFINITY;
        u->score_max = INFINITY;
        u->reach_min = u->followers_min = INT64_MIN;
        u->reach_max = u->followers_max = INT64_MAX;
        u->intent_min = 0;
        int score_line = 0;
        for (const sc_yaml_node_t *n = w->child; n; n = n->next) {
                const char *k = n->key;
                if (!strcmp(k, "platform")) {
                        if (parse_mask(b, u, n, sc_platform_parse, "platform", PLATFORMS,
                                       &u->platforms))
                                return -1;
                        u->has |= C_PLATFORM;
                } else if (!strcmp(k, "language")) {
                        if (parse_mask(b, u, n, sc_lang_parse, "language", "pl, en, und",
                                       &u->langs))
                                return -1;
                        u->has |= C_LANG;
                } else if (!strcmp(k, "sentiment")) {
                        if (parse_mask(b, u, n, sc_label_parse, "sentiment",
                                       "positive, neutral, negative", &u->labels))
                                return -1;
                        u->has |= C_LABEL;
                } else if (!strcmp(k, "score_min") || !strcmp(k, "score_max")) {
                        if (get_double(b, u, n, -1, 1,
                                       !strcmp(k, "score_min") ? &u->score_min
                                                               : &u->score_max))
                                return -1;
                        u->has |= C_SCORE;
                        score_line = n->line;
                } else if (!strcmp(k, "intents") || !strcmp(k, "intents_all")) {
                        uint8_t m;
                        if (parse_mask(b, u, n, sc_rintent_parse, "intent", INTENTS, &m))
                                return -1;
                        if (k[7])
                                u->intents_all = m;
                        else
                                u->intents_any = m;
                        u->has |= C_INTENTS;
                } else if (!strcmp(k, "intent_min_confidence")) {
                        if (get_double(b, u, n, 0, 1, &u->intent_min))
                                return -1;
                        min_line = n->line;
                } else if (!strcmp(k, "topics") || !strcmp(k, "topics_all")) {
                        topic_arg_t a = {brand, 0};
                        if (each_item(b, u, n, k, topic_item, &a))
                                return -1;
                        if (k[6])
                                u->topics_all = a.mask;
                        else
                                u->topics_any = a.mask;
                        u->has |= C_TOPICS;
                } else if (!strcmp(k, "priority")) {
                        if (parse_mask(b, u, n, prio_parse, "priority",
                                       "urgent, high, normal, low", &prio_in))
                                return -1;
                        u->has |= C_PRIO;
                } else if (!strcmp(k, "priority_at_least")) {
                        int p = n->type == SC_YAML_SCALAR && n->value
                                    ? prio_parse(n->value, strlen(n->value))
                                    : -1;
                        if (p < 0)
                                ERR(b, n->line,
                                    "rule '%s': priority_at_least must be one of urgent, "
                                    "high, normal, low",
                                    u->id);
                        prio_least = (uint8_t)((1u << (p + 1)) - 1);
                        u->has |= C_PRIO;
                } else if (!strcmp(k, "reach_min") || !strcmp(k, "reach_max")) {
                        if (get_count(b, u, n,
                                      !strcmp(k, "reach_min") ? &u->reach_min
                                                              : &u->reach_max))
                                return -1;
                        u->has |= C_REACH;
                } else if (!strcmp(k, "followers_min") || !strcmp(k, "followers_max")) {
                        if (get_count(b, u, n,
                                      !strcmp(k, "followers_min") ? &u->followers_min
                                                                  : &u->followers_max))
                                return -1;
                        u->has |= C_FOLLOWERS;
                } else if (!strcmp(k, "verified") || !strcmp(k, "reply")) {
                        int v;
                        if (get_bool(b, u, n, &v))
                                return -1;
                        if (k[0] == 'v') {
                                u->verified = (uint8_t)v;
                                u->has |= C_VERIFIED;
                        } else {
                                u->reply = (uint8_t)v;
                                u->has |= C_REPLY;
                        }
                } else if (!strcmp(k, "keywords")) {
                        u->kw_off = (uint32_t)b->r->kw_cnt;
                        if (each_item(b, u, n, "keywords", kw_item, NULL))
                                return -1;
                        u->has |= C_KEYWORDS;
                } else {
                        ERR(b, n->line,
                            "rule '%s': unknown condition '%s' (platform, language, "
                            "sentiment, score_min, score_max, intents, intents_all, "
                            "intent_min_confidence, topics, topics_all, priority, "
                            "priority_at_least, reach_min, reach_max, followers_min, "
                            "followers_max, verified, reply, keywords)",
                            u->id, k);
                }
        }
        /* Contradictions: a rule that can never match is a mistake. */
        if (min_line && !(u->has & C_INTENTS))
                ERR(b, min_line,
                    "rule '%s': intent_min_confidence without intents or intents_all",
                    u->id);
        if (u->has & C_PRIO) {
                u->prios = prio_in & prio_least;
                if (!u->prios)
                        ERR(b, w->line,
                            "rule '%s' can never match: priority and priority_at_least "
                            "have no priority in common",
                            u->id);
        }
        if ((u->has & C_SCORE) && u->score_min > u->score_max)
                ERR(b, score_line, "rule '%s': score_min %g > score_max %g", u->id,
                    u->score_min, u->score_max);
        if ((u->has & C_REACH) && u->reach_min > u->reach_max)
                ERR(b, w->line, "rule '%s': reach_min > reach_max", u->id);
        if ((u->has & C_FOLLOWERS) && u->followers_min > u->followers_max)
                ERR(b, w->line, "rule '%s': followers_min > followers_max", u->id);
        if ((u->has & C_LABEL) && (u->has & C_SCORE)) {
                /* classify labels a post negative only below 0, positive only
                 * above 0; neutral covers the band around 0. */
                int ok = ((u->labels & (1u << SC_LABEL_NEGATIVE)) && u->score_min < 0) ||
                         ((u->labels & (1u << SC_LABEL_POSITIVE)) && u->score_max > 0) ||
                         (u->labels & (1u << SC_LABEL_NEUTRAL));
                if (!ok)
                        ERR(b, score_line,
                            "rule '%s' can never match: a %s post never has a score in "
                            "[%g, %g]",
                            u->id,
                            u->labels & (1u << SC_LABEL_NEGATIVE) ? "negative"
                                                                  : "positive",
                            u->score_min, u->score_max);
        }
        return 0;
}

static int parse_then(build_t *b, rule_t *u, const sc_yaml_node_t *t)
{
        u->team = -1;
        u->prio = -1;
        u->needs_reply = -1;
        if (t->type != SC_YAML_MAP || t->count == 0)
                ERR(b, t->line,
                    "rule '%s': then must be a map with at least one action (team, "
                    "priority, tags, needs_reply, drop)",
                    u->id);
        for (const sc_yaml_node_t *n = t->child; n; n = n->next) {
                const char *k = n->key;
                if (!strcmp(k, "team")) {
                        if (n->type != SC_YAML_SCALAR || !n->value ||
                            (u->team = sc_teams_find(b->teams, n->value)) < 0)
                                ERR(b, n->line,
                                    "rule '%s': unknown team '%s' (not in teams:)", u->id,
                                    n->value ? n->value : "");
                } else if (!strcmp(k, "priority")) {
                        if (n->type != SC_YAML_SCALAR || !n->value ||
                            (u->prio = prio_parse(n->value, strlen(n->value))) < 0)
                                ERR(b, n->line,
                                    "rule '%s': unknown priority '%s' (urgent, high, "
                                    "normal, low)",
                                    u->id, n->value ? n->value : "");
                } else if (!strcmp(k, "tags")) {
                        u->tag_off = (uint32_t)b->r->tag_cnt;
                        if (each_item(b, u, n, "tags", tag_item, NULL))
                                return -1;
                } else if (!strcmp(k, "needs_reply")) {
                        if (get_bool(b, u, n, &u->needs_reply))
                                return -1;
                } else if (!strcmp(k, "drop")) {
                        if (n->type != SC_YAML_SCALAR || !n->value ||
                            strcmp(n->value, "spam"))
                                ERR(b, n->line, "rule '%s': drop takes only 'spam'",
                                    u->id);
                        u->drop = 1;
                } else {
                        ERR(b, n->line,
                            "rule '%s': unknown action '%s' (team, priority, tags, "
                            "needs_reply, drop)",
                            u->id, k);
                }
        }
        return 0;
}

static int valid_rule_id(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64 || !strcmp(s, "default"))
                return 0;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
                        return 0;
        }
        return 1;
}

static int kw_subset(const sc_rules_t *r, const rule_t *small, const rule_t *big)
{
        for (uint32_t i = 0; i < small->kw_cnt; i++) {
                const kw_t *k = &r->kws[small->kw_off + i];
                int found = 0;
                for (uint32_t j = 0; !found && j < big->kw_cnt; j++) {
                        const kw_t *q = &r->kws[big->kw_off + j];
                        found = q->len == k->len && !memcmp(q->pat, k->pat, k->len);
                }
                if (!found)
                        return 0;
        }
        return 1;
}

/* 1 when every post that b matches is matched by a as well (a conservative
 * test: 0 when unsure). Used to find rules shadowed by an earlier one. */
static int subsumes(const sc_rules_t *r, const rule_t *a, const rule_t *b)
{
        uint32_t h = a->has;
#define MASK_OK(bit, f)                                                                  \
        (!(h & (bit)) || ((b->has & (bit)) && (b->f & (uint8_t)~a->f) == 0))
        if (!MASK_OK(C_PLATFORM, platforms) || !MASK_OK(C_LANG, langs) ||
            !MASK_OK(C_LABEL, labels) || !MASK_OK(C_PRIO, prios))
                return 0;
#undef MASK_OK
        if ((h & C_SCORE) && !((b->has & C_SCORE) && b->score_min >= a->score_min &&
                               b->score_max <= a->score_max))
                return 0;
        if ((h & C_REACH) && !((b->has & C_REACH) && b->reach_min >= a->reach_min &&
                               b->reach_max <= a->reach_max))
                return 0;
        if ((h & C_FOLLOWERS) &&
            !((b->has & C_FOLLOWERS) && b->followers_min >= a->followers_min &&
              b->followers_max <= a->followers_max))
                return 0;
        if ((h & C_VERIFIED) && !((b->has & C_VERIFIED) && b->verified == a->verified))
                return 0;
        if ((h & C_REPLY) && !((b->has & C_REPLY) && b->reply == a->reply))
                return 0;
        if (h & C_INTENTS) {
                if (!(b->has & C_INTENTS) || b->intent_min < a->intent_min)
                        return 0;
                if ((a->intents_all & b->intents_all) != a->intents_all)
                        return 0;
                if (a->intents_any && !(b->intents_all & a->intents_any) &&
                    !(b->intents_any && (b->intents_any & (uint8_t)~a->intents_any) == 0))
                        return 0;
        }
        if (h & C_TOPICS) {
                if (!(b->has & C_TOPICS) ||
                    (a->topics_all & b->topics_all) != a->topics_all)
                        return 0;
                if (a->topics_any && !(b->topics_all & a->topics_any) &&
                    !(b->topics_any && (b->topics_any & ~a->topics_any) == 0))
                        return 0;
        }
        if ((h & C_KEYWORDS) && !((b->has & C_KEYWORDS) && kw_subset(r, b, a)))
                return 0;
        return 1;
}

static int parse_rules(build_t *b, const sc_yaml_node_t *seq, list_t *list,
                       const sc_brand_t *brand)
{
        sc_rules_t *r = b->r;
        list->off = (uint32_t)r->rule_cnt;
        if (!seq || (seq->type == SC_YAML_SCALAR && (!seq->value || !*seq->value)))
                return 0; /* "rules:" left empty */
        if (seq->type != SC_YAML_SEQ)
                ERR(b, seq->line, "rules must be a list");
        for (const sc_yaml_node_t *n = seq->child; n; n = n->next) {
                if (grow((void **)&r->rules, &r->rule_cap, r->rule_cnt + 1,
                         sizeof(*r->rules)))
                        ERR(b, n->line, "out of memory");
                rule_t *u = &r->rules[r->rule_cnt];
                memset(u, 0, sizeof(*u));
                u->line = n->line;
                if (n->type != SC_YAML_MAP)
                        ERR(b, n->line, "a rule must be a map (id, when, then)");
                const char *id = sc_yaml_str(n, "id", NULL);
                if (!id)
                        ERR(b, n->line, "a rule needs an id");
                if (!valid_rule_id(id))
                        ERR(b, sc_yaml_get(n, "id")->line,
                            "rule id '%s' must be 1-64 of [A-Za-z0-9_.-] and not "
                            "'default'",
                            id);
                for (size_t i = 0; i < r->rule_cnt; i++)
                        if (!strcmp(r->rules[i].id, id))
                                ERR(b, sc_yaml_get(n, "id")->line,
                                    "duplicate rule id '%s' (first at line %d)", id,
                                    r->rules[i].line);
                u->id = strdup(id);
                r->rule_cnt++; /* owned by r from here, also on error */
                const sc_yaml_node_t *when = NULL, *then = NULL;
                for (const sc_yaml_node_t *k = n->child; k; k = k->next) {
                        if (!strcmp(k->key, "when"))
                                when = k;
                        else if (!strcmp(k->key, "then"))
                                then = k;
                        else if (strcmp(k->key, "id") && strcmp(k->key, "description"))
                                ERR(b, k->line,
                                    "rule '%s': unknown field '%s' (id, description, "
                                    "when, then)",
                                    id, k->key);
                }
                if (when &&
                    !(when->type == SC_YAML_MAP ||
                      (when->type == SC_YAML_SCALAR && (!when->value || !*when->value))))
                        ERR(b, when->line, "rule '%s': when must be a map of conditions",
                            id);
                if (when && when->type == SC_YAML_MAP && parse_when(b, u, when, brand))
                        return -1;
                if (!when || when->type != SC_YAML_MAP) {
                        u->score_min = -INFINITY;
                        u->score_max = INFINITY;
                }
                if (!then)
                        ERR(b, n->line,
                            "rule '%s' has no then: (team, priority, tags, "
                            "needs_reply, drop)",
                            id);
                if (parse_then(b, u, then))
                        return -1;
                for (uint32_t i = list->off; i < r->rule_cnt - 1; i++)
                        if (subsumes(r, &r->rules[i], u))
                                ERR(b, n->line,
                                    "rule '%s' can never match: rule '%s' (line %d) "
                                    "above matches every post it would",
                                    id, r->rules[i].id, r->rules[i].line);
                list->cnt++;
        }
        return 0;
}

static int team_ref(build_t *b, const sc_yaml_node_t *n, int *out)
{
        if (n->type != SC_YAML_SCALAR || !n->value ||
            (*out = sc_teams_find(b->teams, n->value)) < 0)
                ERR(b, n->line, "unknown default_team '%s' (not in teams:)",
                    n->value ? n->value : "");
        return 0;
}

sc_rules_t *sc_rules_new(const sc_yaml_node_t *root, const sc_brands_t *brands,
                         const sc_teams_t *teams, const char *default_team,
                         const char *file, char *errstr, size_t errstr_size)
{
        sc_rules_t *r = calloc(1, sizeof(*r));
        if (!r) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        memset(r->topic_slots, 0xff, sizeof(r->topic_slots));
        build_t b = {r, brands, teams, file ? file : "config", errstr, errstr_size};
        const sc_yaml_node_t *sec = root ? sc_yaml_get(root, "route") : NULL;
        if (sec && sec->type != SC_YAML_MAP)
                sec = NULL;
        const sc_yaml_node_t *dt = sec ? sc_yaml_get(sec, "default_team") : NULL;
        if (!default_team)
                default_team = dt && dt->value ? dt->value : "care";
        r->default_team = sc_teams_find(teams, default_team);
        if (r->default_team < 0) {
                snprintf(errstr, errstr_size,
                         "%s:%d: unknown default_team '%s' (not in teams:)", b.file,
                         dt ? dt->line : (sec ? sec->line : 0), default_team);
                goto fail;
        }
        r->global.default_team = -1;
        if (sec && parse_rules(&b, sc_yaml_get(sec, "rules"), &r->global, NULL))
                goto fail;
        const sc_yaml_node_t *bs = sec ? sc_yaml_get(sec, "brands") : NULL;
        if (bs && bs->type != SC_YAML_MAP) {
                snprintf(errstr, errstr_size,
                         "%s:%d: route.brands must map brand id -> {default_team, rules}",
                         b.file, bs->line);
                goto fail;
        }
        if (bs && bs->count) {
                r->brands = calloc(bs->count, sizeof(*r->brands));
                size_t slots = 4;
                while (slots < bs->count * 2)
                        slots *= 2;
                r->brand_slots = malloc(slots * sizeof(*r->brand_slots));
                if (!r->brands || !r->brand_slots)
                        goto fail;
                memset(r->brand_slots, 0xff, slots * sizeof(*r->brand_slots));
                r->brand_mask = slots - 1;
                for (const sc_yaml_node_t *n = bs->child; n; n = n->next) {
                        const sc_brand_t *br = sc_brands_find(brands, n->key);
                        if (!br) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: unknown brand '%s' (not in brands:)",
                                         b.file, n->line, n->key);
                                goto fail;
                        }
                        if (brand_list(r, n->key)) {
                                snprintf(errstr, errstr_size, "%s:%d: brand '%s' twice",
                                         b.file, n->line, n->key);
                                goto fail;
                        }
                        if (n->type != SC_YAML_MAP) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: route.brands.%s must be a map "
                                         "(default_team, rules)",
                                         b.file, n->line, n->key);
                                goto fail;
                        }
                        list_t *l = &r->brands[r->brand_cnt++];
                        l->brand = strdup(n->key);
                        l->default_team = -1;
                        l->line = n->line;
                        for (const sc_yaml_node_t *k = n->child; k; k = k->next) {
                                if (!strcmp(k->key, "default_team")) {
                                        if (team_ref(&b, k, &l->default_team))
                                                goto fail;
                                } else if (strcmp(k->key, "rules")) {
                                        snprintf(errstr, errstr_size,
                                                 "%s:%d: route.brands.%s: unknown field "
                                                 "'%s' (default_team, rules)",
                                                 b.file, k->line, n->key, k->key);
                                        goto fail;
                                }
                        }
                        if (parse_rules(&b, sc_yaml_get(n, "rules"), l, br))
                                goto fail;
                        size_t i = hash(l->brand, strlen(l->brand)) & r->brand_mask;
                        while (r->brand_slots[i] >= 0)
                                i = (i + 1) & r->brand_mask;
                        r->brand_slots[i] = (int32_t)(r->brand_cnt - 1);
                }
        }
        for (const sc_yaml_node_t *k = sec ? sec->child : NULL; k; k = k->next)
                if (k->type != SC_YAML_SCALAR && strcmp(k->key, "rules") &&
                    strcmp(k->key, "brands")) {
                        snprintf(errstr, errstr_size,
                                 "%s:%d: route: unknown section '%s' (rules, brands)",
                                 b.file, k->line, k->key);
                        goto fail;
                }
        snprintf(r->summary, sizeof(r->summary),
                 "%zu rules (%u global, %zu brands), default team %s", r->rule_cnt,
                 r->global.cnt, r->brand_cnt,
                 sc_teams_at(teams, (size_t)r->default_team)->id);
        return r;
fail:
        sc_rules_destroy(r);
        return NULL;
}
