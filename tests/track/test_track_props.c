/* A randomized property test of the tracker (docs/TRACKING.md): the same
 * seeded stream of inbound posts, brand replies and brand posts, with timer
 * scans at fixed points and replays, is fed to tracker A (redis A) and
 * tracker B (redis B) with different batch splits. Both must hand out the
 * same SLA events per record and per scan, count the same, and leave the
 * same Redis state (post records compared as decoded msgpack maps); the
 * counters must satisfy the definitions' invariants and the figures the
 * generator knows; a second full replay into B changes nothing.
 *
 * B is configured in conf_b(): the place where a second tracker
 * implementation is plugged in to be proven equal to A.
 *
 * usage: test_track_props REDIS_URL_A REDIS_URL_B [SEED [CONVERSATIONS [MODE]]]
 * (MODE split, the default, or same: main) */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_brands.h"
#include "sc_calendar.h"
#include "sc_redis.h"
#include "sc_test.h"
#include "sc_time.h"
#include "sc_track.h"
#include "sc_yaml.h"

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

/* How long a held reply waits (processing time: the stream's own clock,
 * given to sc_track_add_reply and sc_track_scan). */
#define WINDOW_MS (2 * HOUR)

static const char *BRANDS[] = {"telko", "bank", "shop"};
static const char *PFS[] = {"x", "fb"};
static const char *CONF_YAML =
    "brands:\n"
    "  - id: telko\n    name: Telko\n    timezone: Europe/Warsaw\n"
    "    keywords: [telko]\n"
    "  - id: bank\n    name: Bank\n    timezone: America/New_York\n"
    "    keywords: [bank]\n"
    "  - id: shop\n    name: Shop\n    keywords: [shop]\n"
    "calendars:\n"
    "  office:\n    timezone: Europe/Warsaw\n    hours:\n"
    "      mon-fri: \"09:00-17:00\"\n";

/* Tracker A, the reference: the Lua scripts. The wall clock is pinned
 * (SC_FAKE_NOW_MS, main) after the whole timeline and watermark_idle is
 * long, so the timer runs on event time alone: min(now, watermark -
 * lateness) is the watermark's, a function of the stream (with the wall
 * clock, what a tracker writes in wm and whether a brand looks idle would
 * depend on how fast it ran). */
static void conf_a(sc_track_conf_t *c)
{
        memset(c, 0, sizeof(*c));
        c->retention_s = 90 * 86400;
        c->state_ttl_s = 30 * 86400;
        c->reconcile_window_ms = WINDOW_MS;
        c->breach_grace_ms = 30 * SEC;
        c->scan_limit = 1000;
        c->lateness_ms = 1 * MIN;
        c->watermark_idle_ms = 365 * 24 * HOUR;
        c->engine = SC_TRACK_ENGINE_LUA; /* the reference */
}

/* Tracker B, the one proven equal to A: the per-record logic in C
 * (sc_track_engine.c). */
static void conf_b(sc_track_conf_t *c)
{
        conf_a(c);
        c->engine = SC_TRACK_ENGINE_C;
}

/* ---- small helpers ------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}
static int64_t rnd(uint64_t *s, int64_t n)
{
        return n > 0 ? (int64_t)(rng_next(s) % (uint64_t)n) : 0;
}
static int64_t urange(uint64_t *s, int64_t lo, int64_t hi)
{
        return lo + rnd(s, hi - lo + 1);
}

typedef struct strv_s {
        char **v;
        size_t n, cap;
} strv_t;

static void strv_push(strv_t *sv, char *s)
{
        if (sv->n == sv->cap) {
                sv->cap = sv->cap ? 2 * sv->cap : 256;
                sv->v = realloc(sv->v, sv->cap * sizeof(*sv->v));
                CHECK(sv->v);
        }
        sv->v[sv->n++] = s;
}
static void strv_free(strv_t *sv)
{
        for (size_t i = 0; i < sv->n; i++)
                free(sv->v[i]);
        free(sv->v);
        memset(sv, 0, sizeof(*sv));
}
static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}
static void strv_sort(strv_t *sv)
{
        if (sv->n)
                qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

/* A growable string. */
typedef struct sb_s {
        char *s;
        size_t len, cap;
} sb_t;

static void sb_add(sb_t *b, const char *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                while (b->len + n + 1 > b->cap)
                        b->cap = b->cap ? 2 * b->cap : 256;
                b->s = realloc(b->s, b->cap);
                CHECK(b->s);
        }
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = '\0';
}
static void sb_puts(sb_t *b, const char *s)
{
        sb_add(b, s, strlen(s));
}
static void sb_printf(sb_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sb_t *b, const char *fmt, ...)
{
        char tmp[1024];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        CHECK(n >= 0 && (size_t)n < sizeof(tmp));
        sb_add(b, tmp, (size_t)n);
}
/* Bytes as a quoted string, non-printables escaped. */
static void sb_quote(sb_t *b, const char *p, size_t n)
{
        sb_add(b, "\"", 1);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)p[i];
                if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                        sb_printf(b, "\\x%02x", c);
                else
                        sb_add(b, p + i, 1);
        }
        sb_add(b, "\"", 1);
}
static char *sb_take(sb_t *b)
{
        char *s = b->s ? b->s : strdup("");
        CHECK(s);
        memset(b, 0, sizeof(*b));
        return s;
}

/* ---- msgpack: canonical text (maps sorted by key) and field lookup ---- */

static uint64_t be_uint(const unsigned char *p, int n)
{
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
                v = (v << 8) | p[i];
        return v;
}

/* Header of the msgpack value at p: its kind ('s' str/bin, 'a' array, 'm'
 * map, 'i' int, 'u' uint, 'f' float, 'n' nil, 't'/'F' bool), its length
 * (bytes of a string, elements of an array, pairs of a map) or value, and
 * the header's size; 0 when malformed. */
typedef struct mph_s {
        char kind;
        uint64_t len;
        int64_t ival;
        double fval;
        size_t hdr;
} mph_t;

static size_t mp_head(const unsigned char *p, size_t n, mph_t *h)
{
        if (!n)
                return 0;
        unsigned c = p[0];
        memset(h, 0, sizeof(*h));
        h->hdr = 1;
        if (c <= 0x7f)
                h->kind = 'u', h->ival = (int64_t)c;
        else if (c >= 0xe0)
                h->kind = 'i', h->ival = (int8_t)c;
        else if ((c & 0xe0) == 0xa0)
                h->kind = 's', h->len = c & 0x1f;
        else if ((c & 0xf0) == 0x90)
                h->kind = 'a', h->len = c & 0x0f;
        else if ((c & 0xf0) == 0x80)
                h->kind = 'm', h->len = c & 0x0f;
        else if (c == 0xc0)
                h->kind = 'n';
        else if (c == 0xc2 || c == 0xc3)
                h->kind = c == 0xc3 ? 't' : 'F';
        else {
                static const struct {
                        unsigned char code;
                        char kind;
                        int size;
                } T[] = {{0xc4, 's', 1}, {0xc5, 's', 2}, {0xc6, 's', 4}, {0xd9, 's', 1},
                         {0xda, 's', 2}, {0xdb, 's', 4}, {0xdc, 'a', 2}, {0xdd, 'a', 4},
                         {0xde, 'm', 2}, {0xdf, 'm', 4}, {0xcc, 'u', 1}, {0xcd, 'u', 2},
                         {0xce, 'u', 4}, {0xcf, 'u', 8}, {0xd0, 'i', 1}, {0xd1, 'i', 2},
                         {0xd2, 'i', 4}, {0xd3, 'i', 8}, {0xca, 'f', 4}, {0xcb, 'f', 8}};
                size_t k = 0;
                while (k < sizeof(T) / sizeof(T[0]) && T[k].code != c)
                        k++;
                if (k == sizeof(T) / sizeof(T[0]) || n < 1 + (size_t)T[k].size)
                        return 0;
                uint64_t v = be_uint(p + 1, T[k].size);
                h->kind = T[k].kind;
                h->hdr = 1 + (size_t)T[k].size;
                if (h->kind == 's' || h->kind == 'a' || h->kind == 'm')
                        h->len = v;
                else if (h->kind == 'u')
                        h->ival = (int64_t)v;
                else if (h->kind == 'i')
                        h->ival = T[k].size == 1   ? (int8_t)v
                                  : T[k].size == 2 ? (int16_t)v
                                  : T[k].size == 4 ? (int32_t)v
                                                   : (int64_t)v;
                else if (T[k].size == 4) {
                        uint32_t u = (uint32_t)v;
                        float f;
                        memcpy(&f, &u, 4);
                        h->fval = f;
                } else
                        memcpy(&h->fval, &v, 8);
        }
        if (h->kind == 's' && h->len > n - h->hdr)
                return 0;
        return h->hdr;
}

/* Appends the canonical text of the value at p to out; returns its size in
 * bytes, 0 when malformed. */
static size_t mp_canon(const unsigned char *p, size_t n, sb_t *out, int depth)
{
        mph_t h;
        if (depth > 32 || !mp_head(p, n, &h))
                return 0;
        size_t off = h.hdr;
        switch (h.kind) {
        case 's':
                sb_quote(out, (const char *)p + off, h.len);
                return off + h.len;
        case 'u':
        case 'i':
                sb_printf(out, "%" PRId64, h.ival);
                return off;
        case 'f':
                sb_printf(out, "%.17g", h.fval);
                return off;
        case 'n':
                sb_puts(out, "nil");
                return off;
        case 't':
        case 'F':
                sb_puts(out, h.kind == 't' ? "true" : "false");
                return off;
        case 'a':
                sb_puts(out, "[");
                for (uint64_t i = 0; i < h.len; i++) {
                        if (i)
                                sb_puts(out, ",");
                        size_t k = mp_canon(p + off, n - off, out, depth + 1);
                        if (!k)
                                return 0;
                        off += k;
                }
                sb_puts(out, "]");
                return off;
        }
        /* A map: "key:value" pairs sorted (key order in a packed Lua table
         * is arbitrary). */
        strv_t pairs = {0};
        for (uint64_t i = 0; i < h.len; i++) {
                sb_t kv = {0};
                size_t k = mp_canon(p + off, n - off, &kv, depth + 1);
                sb_puts(&kv, ":");
                size_t v = k ? mp_canon(p + off + k, n - off - k, &kv, depth + 1) : 0;
                strv_push(&pairs, sb_take(&kv));
                if (!k || !v) {
                        strv_free(&pairs);
                        return 0;
                }
                off += k + v;
        }
        strv_sort(&pairs);
        sb_puts(out, "{");
        for (size_t i = 0; i < pairs.n; i++) {
                if (i)
                        sb_puts(out, ",");
                sb_puts(out, pairs.v[i]);
        }
        sb_puts(out, "}");
        strv_free(&pairs);
        return off;
}

/* The value of a string key of a record's canonical text, as text ("" when
 * absent): the canonical text is {"k1":v1,"k2":v2}, values of top-level
 * string fields are quoted. */
static void rec_field(const char *canon, const char *key, char *out, size_t cap)
{
        char pat[64];
        snprintf(pat, sizeof(pat), "\"%s\":", key);
        out[0] = '\0';
        const char *p = canon;
        /* Top level only: track nesting. */
        int depth = 0, inq = 0;
        for (; *p; p++) {
                if (inq) {
                        if (*p == '"')
                                inq = 0;
                        continue;
                }
                if (depth == 1 && (p[-1] == '{' || p[-1] == ',') &&
                    !strncmp(p, pat, strlen(pat))) {
                        p += strlen(pat);
                        size_t n = 0;
                        if (*p == '"')
                                p++;
                        while (p[n] && p[n] != '"' && p[n] != ',' && p[n] != '}')
                                n++;
                        if (n >= cap)
                                n = cap - 1;
                        memcpy(out, p, n);
                        out[n] = '\0';
                        return;
                }
                if (*p == '"')
                        inq = 1;
                else if (*p == '{' || *p == '[')
                        depth++;
                else if (*p == '}' || *p == ']')
                        depth--;
        }
}

/* ---- the workload -------------------------------------------------------- */

enum { R_IN, R_RE, R_BP };
typedef struct rec_s {
        int type, brand, pf, conv;
        char id[32], parent[40], thread[32]; /* "" none */
        char eid[48];
        int64_t ca, at; /* created, arrival (processing time) */
        int nr;
        int64_t due;
        const char *team, *prio, *cal;
        int post; /* a reply: the inbound record it names as parent, else -1 */
} rec_t;

/* The stream: records (a first application or a replay) and timer scans,
 * in processing order. */
typedef struct item_s {
        int rec; /* -1: a scan */
        int replay;
        int64_t at;
        size_t seq;
} item_t;

typedef struct gen_s {
        uint64_t rng;
        rec_t *r;
        size_t n, cap;
        item_t *it;
        size_t nit, itcap;
        unsigned char *inexact; /* per conversation: a reply may take the thread rule */
        int64_t t0, end;
} gen_t;

static rec_t *new_rec(gen_t *g, int type, int conv, int brand, int pf)
{
        if (g->n == g->cap) {
                g->cap = g->cap ? 2 * g->cap : 1024;
                g->r = realloc(g->r, g->cap * sizeof(*g->r));
                CHECK(g->r);
        }
        rec_t *r = &g->r[g->n++];
        memset(r, 0, sizeof(*r));
        r->type = type, r->conv = conv, r->brand = brand, r->pf = pf, r->post = -1;
        return r;
}

static void push_item(gen_t *g, int rec, int replay, int64_t at)
{
        if (g->nit == g->itcap) {
                g->itcap = g->itcap ? 2 * g->itcap : 1024;
                g->it = realloc(g->it, g->itcap * sizeof(*g->it));
                CHECK(g->it);
        }
        g->it[g->nit] = (item_t){rec, replay, at, g->nit};
        g->nit++;
}

static size_t gen_inbound(gen_t *g, int c, int b, int pf, const char *id,
                          const char *root, int64_t ca)
{
        uint64_t *s = &g->rng;
        rec_t *r = new_rec(g, R_IN, c, b, pf);
        snprintf(r->id, sizeof(r->id), "%s", id);
        snprintf(r->thread, sizeof(r->thread), "%s", root);
        snprintf(r->eid, sizeof(r->eid), "%s:%s", PFS[pf], id);
        r->ca = ca;
        r->at = ca + (rnd(s, 100) < 4 ? urange(s, 30 * MIN, 4 * HOUR)
                                      : urange(s, 60 * SEC, 180 * SEC));
        r->nr = rnd(s, 100) < 80;
        r->due = r->nr && rnd(s, 100) < 70 ? ca + urange(s, 5 * MIN, 3 * HOUR) : 0;
        if (r->due && rnd(s, 100) < 3) /* still pending at the end */
                r->due = ca + urange(s, 3 * 24 * HOUR, 5 * 24 * HOUR);
        r->team = rnd(s, 2) ? "care" : "sales";
        r->prio = rnd(s, 4) ? "normal" : "high";
        int k = (int)rnd(s, 100);
        r->cal = k < 40 ? "office" : k < 75 ? "24x7" : k < 90 ? NULL : "nope";
        return g->n - 1;
}

/* The created_at of a reply about post p. */
static int64_t reply_time(gen_t *g, const rec_t *p)
{
        uint64_t *s = &g->rng;
        int f = (int)rnd(s, 100);
        if (f < 25)
                return p->ca + urange(s, 0, 120 * SEC);
        if (f < 50)
                return p->ca + urange(s, 2 * MIN, 30 * MIN);
        if (f < 68)
                return p->ca + urange(s, 30 * MIN, 4 * HOUR);
        if (f < 80) /* around the due: hits at the limit, barely late */
                return p->due ? p->due + urange(s, -60 * SEC, 80 * SEC)
                              : p->ca + urange(s, 0, 10 * MIN);
        if (f < 90)
                return p->ca + urange(s, 4 * HOUR, 30 * HOUR);
        if (f < 93) /* written before the post it answers */
                return p->ca - urange(s, 0, 60 * SEC);
        return p->ca + urange(s, 0, 5 * MIN);
}

/* One brand reply (number j of conversation c) about the inbound post pi;
 * root: the thread id, root_rec the root's inbound record (-1: the root is
 * the brand's own post); the conversation's records start at first. */
static void gen_reply(gen_t *g, int c, size_t pi, const char *root, int root_rec, int j,
                      size_t first)
{
        uint64_t *s = &g->rng;
        rec_t p = g->r[pi]; /* new_rec may move the array */
        int64_t ca = reply_time(g, &p);
        size_t prev = first + (size_t)rnd(s, (int64_t)(g->n - first));
        int prev_reply = g->r[prev].type == R_RE;
        char prev_id[32];
        snprintf(prev_id, sizeof(prev_id), "%s", g->r[prev].id);
        rec_t *r = new_rec(g, R_RE, c, p.brand, p.pf);
        snprintf(r->id, sizeof(r->id), "c%d.r%d", c, j);
        snprintf(r->eid, sizeof(r->eid), "%s:%s", PFS[p.pf], r->id);
        snprintf(r->thread, sizeof(r->thread), "%s", root);
        r->ca = ca;
        r->at = ca + (rnd(s, 100) < 4 ? urange(s, 1 * HOUR, 6 * HOUR)
                                      : urange(s, 0, 30 * SEC));
        int k = (int)rnd(s, 100);
        if (k < 8) { /* no parent: the thread rule */
                g->inexact[c] = 1;
        } else if (k < 16 && prev_reply) {
                /* to another brand reply (sometimes without a thread id) */
                snprintf(r->parent, sizeof(r->parent), "%s", prev_id);
                if (rnd(s, 100) < 30)
                        r->thread[0] = '\0';
                g->inexact[c] = 1;
        } else if (k < 22) { /* a parent that never comes */
                snprintf(r->parent, sizeof(r->parent), "c%d.gone%d", c, j);
                if (rnd(s, 100) < 30)
                        r->thread[0] = '\0';
                g->inexact[c] = 1;
        } else if (k < 32) { /* to the thread's root (a brand post: thread rule) */
                snprintf(r->parent, sizeof(r->parent), "%s", root);
                r->post = root_rec;
                if (root_rec < 0)
                        g->inexact[c] = 1;
        } else {
                snprintf(r->parent, sizeof(r->parent), "%s", p.id);
                r->post = (int)pi;
        }
}

/* Conversation c: a thread rooted at an inbound post (or at the brand's own
 * post) with 0-2 more inbound posts, each answered 0-3 times (rarely 20). */
static void gen_conv(gen_t *g, int c)
{
        uint64_t *s = &g->rng;
        int b = (int)rnd(s, 3), pf = (int)rnd(s, 2);
        int64_t t0 = g->t0 + rnd(s, 30 * HOUR);
        int brand_root = rnd(s, 100) < 15;
        char root[32], id[32];
        snprintf(root, sizeof(root), "c%d", c);
        size_t first = g->n;
        if (brand_root) {
                rec_t *r = new_rec(g, R_BP, c, b, pf);
                snprintf(r->id, sizeof(r->id), "%s", root);
                r->ca = t0;
                /* sometimes after replies to it: they wait for it */
                r->at = t0 + (rnd(s, 100) < 10 ? urange(s, 1 * MIN, 3 * HOUR)
                                               : rnd(s, 30 * SEC));
        }
        int nposts = brand_root ? 1 + (int)rnd(s, 3)
                                : 1 + (rnd(s, 100) < 40 ? 1 + (int)rnd(s, 2) : 0);
        int64_t ca = brand_root ? t0 + urange(s, 1 * MIN, 60 * MIN) : t0;
        int root_rec = -1, j = 0;
        for (int k = 0; k < nposts; k++) {
                if (k == 0 && !brand_root)
                        snprintf(id, sizeof(id), "%s", root);
                else
                        snprintf(id, sizeof(id), "c%d.%d", c, k);
                size_t pi = gen_inbound(g, c, b, pf, id, root, ca);
                if (k == 0 && !brand_root)
                        root_rec = (int)pi;
                int w = (int)rnd(s, 100);
                int nrep = w < 25 ? 0 : w < 70 ? 1 : w < 90 ? 2 : 3;
                if (k == 0 && rnd(s, 100) < 1)
                        nrep = 30; /* more replies than a root's record lists */
                for (int m = 0; m < nrep; m++)
                        gen_reply(g, c, pi, root, root_rec, j++, first);
                ca += urange(s, 1 * MIN, 90 * MIN);
        }
}

static int cmp_item(const void *a, const void *b)
{
        const item_t *x = a, *y = b;
        if (x->at != y->at)
                return x->at < y->at ? -1 : 1;
        /* A scan at t runs after the records that arrived by t. */
        if ((x->rec < 0) != (y->rec < 0))
                return x->rec < 0 ? 1 : -1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The stream: every record at its arrival, 5 % replayed later, scans at
 * irregular intervals (1 min to 2 h). */
static void gen_stream(gen_t *g, int nconv)
{
        g->inexact = calloc((size_t)nconv, 1);
        CHECK(g->inexact);
        for (int c = 0; c < nconv; c++)
                gen_conv(g, c);
        int64_t last = g->t0;
        for (size_t i = 0; i < g->n; i++) {
                push_item(g, (int)i, 0, g->r[i].at);
                if (g->r[i].at > last)
                        last = g->r[i].at;
        }
        for (size_t i = 0; i < g->n; i++)
                if (rnd(&g->rng, 100) < 5)
                        push_item(g, (int)i, 1,
                                  g->r[i].at + urange(&g->rng, MIN, 10 * HOUR));
        for (int64_t t = g->t0 - 10 * MIN; t < last + 10 * HOUR;) {
                int k = (int)rnd(&g->rng, 100);
                t += k < 50   ? urange(&g->rng, 1 * MIN, 5 * MIN)
                     : k < 90 ? urange(&g->rng, 5 * MIN, 40 * MIN)
                              : urange(&g->rng, 40 * MIN, 120 * MIN);
                push_item(g, -1, 0, t);
                g->end = t;
        }
        qsort(g->it, g->nit, sizeof(*g->it), cmp_item);
        /* A reply whose post arrives after its wait ended may take the
         * thread rule or end as an orphan: its post is not known exactly. */
        for (size_t i = 0; i < g->n; i++) {
                const rec_t *r = &g->r[i];
                if (r->type == R_RE && r->post >= 0 &&
                    g->r[r->post].at >= r->at + WINDOW_MS - 1)
                        g->inexact[r->conv] = 1;
        }
}

/* ---- the two trackers ---------------------------------------------------- */

typedef struct trk_s {
        const char *name;
        sc_redis_t *r;
        sc_track_t *t;
        uint64_t split; /* batch sizes */
        int style;      /* 0: batches of 1..500; 1: mostly 1, some up to 750 */
        sc_track_counts_t cnt;
        strv_t ev;    /* every SLA event: origin|kind|... */
        strv_t fresh; /* outbox members of the current scan: brand\tmember */
        strv_t defer; /* acknowledged just before the next scan */
        int scan_no;
        int ack_all;
} trk_t;

#define S(x) ((x) ? (x) : "(null)")

static void on_ev(void *opaque, size_t tag, const sc_sla_event_t *e)
{
        trk_t *tk = opaque;
        sb_t b = {0};
        if (tag)
                sb_printf(&b, "r%07zu", tag - 1);
        else
                sb_printf(&b, "s%05d", tk->scan_no);
        sb_printf(&b, "|%s|%s|%s|%s|%s|%s|%s", S(e->kind), S(e->brand),
                  S(e->post_event_id), S(e->platform), S(e->post_id), S(e->team),
                  S(e->priority));
        sb_printf(&b, "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRId64 "|%s|%s|%s",
                  e->created_at, e->due_at, e->replied_at, e->frt_ms, S(e->url),
                  S(e->text), S(e->outbox_member));
        strv_push(&tk->ev, sb_take(&b));
        if (e->outbox_member) {
                CHECK(!tag);
                sb_printf(&b, "%s\t%s", e->brand, e->outbox_member);
                strv_push(&tk->fresh, sb_take(&b));
        }
}

static void on_err(void *opaque, size_t tag, const char *msg)
{
        fprintf(stderr, "tracker %s: record %zu failed: %s\n", ((trk_t *)opaque)->name,
                tag ? tag - 1 : 0, msg);
        exit(1);
}

static size_t batch_size(trk_t *tk)
{
        uint64_t *s = &tk->split;
        if (tk->style == 0)
                return (size_t)urange(s, 1, 500);
        int k = (int)rnd(s, 10);
        return k < 4 ? 1 : k < 8 ? (size_t)urange(s, 1, 20) : (size_t)urange(s, 150, 750);
}

static void queue(trk_t *tk, const gen_t *g, size_t item)
{
        const rec_t *r = &g->r[g->it[item].rec];
        const char *b = BRANDS[r->brand], *pf = PFS[r->pf];
        char text[64];
        if (r->type == R_BP) {
                CHECK(sc_track_add_brand_post(tk->t, b, pf, r->id) == 0);
        } else if (r->type == R_IN) {
                char url[80];
                snprintf(url, sizeof(url), "https://%s.example/%s", pf, r->id);
                snprintf(text, sizeof(text), "help me %s", r->id);
                sc_track_inbound_t in = {.brand = b,
                                         .event_id = r->eid,
                                         .platform = pf,
                                         .post_id = r->id,
                                         .thread_id = r->thread,
                                         .team = r->team,
                                         .priority = r->prio,
                                         .calendar = r->cal,
                                         .url = r->conv % 5 ? url : NULL,
                                         .text = text,
                                         .created_at = r->ca,
                                         .needs_reply = r->nr,
                                         .due_at = r->due};
                CHECK(sc_track_add_inbound(tk->t, &in, item + 1) == 0);
        } else {
                sc_track_reply_t re = {.brand = b,
                                       .event_id = r->eid,
                                       .platform = pf,
                                       .post_id = r->id,
                                       .parent_id = r->parent[0] ? r->parent : NULL,
                                       .thread_id = r->thread[0] ? r->thread : NULL,
                                       .created_at = r->ca};
                CHECK(sc_track_add_reply(tk->t, &re, item + 1, g->it[item].at) == 0);
        }
}

static void exec_batch(trk_t *tk)
{
        char err[256];
        if (sc_track_exec(tk->t, on_ev, tk, &tk->cnt, err, sizeof(err))) {
                fprintf(stderr, "tracker %s: exec: %s\n", tk->name, err);
                exit(1);
        }
}

/* The records of items [from, to) (no scan among them) in batches of the
 * tracker's own sizes. A call's event clock is taken from its whole batch
 * (the batch's latest created_at advances the watermark before its first
 * record): so that batching cannot change it, the first batch of a segment
 * carries the segment's latest created_at per brand (event time, as a
 * brand's records on social.posts that track does not use do). */
static void feed(trk_t *tk, const gen_t *g, size_t from, size_t to, int event_time)
{
        int64_t wm[3] = {0};
        for (size_t i = from; i < to; i++) {
                if (g->it[i].rec < 0)
                        continue;
                const rec_t *r = &g->r[g->it[i].rec];
                if (r->type != R_IN && r->ca > wm[r->brand])
                        wm[r->brand] = r->ca;
        }
        for (size_t i = from; i < to;) {
                size_t n = batch_size(tk);
                if (i == from && event_time)
                        for (int b = 0; b < 3; b++)
                                if (wm[b])
                                        CHECK(sc_track_add_event_time(tk->t, BRANDS[b],
                                                                      wm[b]) == 0);
                for (size_t k = i; k < to && k < i + n; k++)
                        if (g->it[k].rec >= 0) /* pass 2 has no scans */
                                queue(tk, g, k);
                exec_batch(tk);
                i += n;
        }
}

static uint32_t fnv(const char *s, uint32_t h)
{
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return h;
}

/* The timer at now. Its outbox events are acknowledged at once, or (one in
 * five, chosen from the event itself: the same in both trackers) only
 * before the next scan, staying in flight meanwhile; half of those are
 * released instead (their production failed) and come again. */
static void scan(trk_t *tk, int64_t now)
{
        char err[256];
        for (size_t i = 0; i < tk->defer.n; i++) {
                char *m = tk->defer.v[i], *tab = strchr(m, '\t');
                int release = fnv(m, 2166136261u) % 2;
                *tab = '\0';
                /* Not produced after all: handed out again by this scan. */
                if (release)
                        sc_track_outbox_release(tk->t, m, tab + 1);
                else
                        sc_track_outbox_done(tk->t, m, tab + 1);
        }
        strv_free(&tk->defer);
        tk->scan_no++;
        if (sc_track_scan(tk->t, BRANDS, 3, now, on_ev, tk, &tk->cnt, err, sizeof(err))) {
                fprintf(stderr, "tracker %s: scan: %s\n", tk->name, err);
                exit(1);
        }
        for (size_t i = 0; i < tk->fresh.n; i++) {
                char *m = tk->fresh.v[i];
                if (!tk->ack_all &&
                    fnv(m, 2166136261u + (uint32_t)tk->scan_no) % 5 == 0) {
                        strv_push(&tk->defer, m);
                        continue;
                }
                char *tab = strchr(m, '\t');
                *tab = '\0';
                sc_track_outbox_done(tk->t, m, tab + 1);
                free(m);
        }
        free(tk->fresh.v);
        memset(&tk->fresh, 0, sizeof(tk->fresh));
}

/* ---- Redis state --------------------------------------------------------- */

static redisReply **run(sc_redis_t *r, size_t *n)
{
        redisReply **rep;
        CHECK(sc_redis_exec(r, &rep, n) == 0);
        return rep;
}

static void scan_keys(sc_redis_t *r, strv_t *keys)
{
        char cursor[32] = "0";
        do {
                size_t n;
                sc_redis_append(r, 4, (const char *[]){"SCAN", cursor, "COUNT", "1000"},
                                NULL);
                redisReply **rep = run(r, &n);
                CHECK(rep[0]->type == REDIS_REPLY_ARRAY && rep[0]->elements == 2);
                snprintf(cursor, sizeof(cursor), "%s", rep[0]->element[0]->str);
                const redisReply *ks = rep[0]->element[1];
                for (size_t i = 0; i < ks->elements; i++)
                        strv_push(keys,
                                  strndup(ks->element[i]->str, ks->element[i]->len));
        } while (strcmp(cursor, "0"));
        strv_sort(keys);
        size_t w = 0; /* SCAN may return a key twice */
        for (size_t i = 0; i < keys->n; i++) {
                /* A brand's version key counts the calls that changed it:
                 * it differs with the batch split and the engine, by
                 * design (docs/TRACKING.md). */
                size_t kl = strlen(keys->v[i]);
                int version = kl > 3 && !strncmp(keys->v[i], "sc:{", 4) &&
                              !strcmp(keys->v[i] + kl - 3, "}:v");
                if (version || (w && !strcmp(keys->v[w - 1], keys->v[i])))
                        free(keys->v[i]);
                else
                        keys->v[w++] = keys->v[i];
        }
        keys->n = w;
}

/* A post record (sc:{B}:p:...) is a msgpack map: compared decoded. */
static int is_post_key(const char *k)
{
        const char *e = strstr(k, "}:");
        return e && !strncmp(e + 2, "p:", 2);
}

/* A day hash (sc:{B}:d:...) reads a missing field as 0. A call sums its
 * records' counter updates and writes only the fields whose sum is not 0:
 * a +1 and a -1 (an earlier reply moving the FRT to another histogram
 * bucket) leave no field when they are in one call and a field at 0 when
 * in two. So batching may leave zero fields, or a key of zero fields only:
 * both compared as absent. */
static int is_day_key(const char *k)
{
        const char *e = strstr(k, "}:");
        return e && !strncmp(e + 2, "d:", 2);
}

/* The content of key (of type ty) from its reply, as canonical text. */
static void content(sb_t *b, const char *key, const char *ty, const redisReply *x)
{
        int day = is_day_key(key) && !strcmp(ty, "hash");
        if (!strcmp(ty, "string")) {
                sb_t c = {0};
                if (is_post_key(key) &&
                    mp_canon((const unsigned char *)x->str, x->len, &c, 0) == x->len)
                        sb_add(b, c.s, c.len);
                else
                        sb_quote(b, x->str, x->len);
                free(c.s);
                return;
        }
        int pairs = !strcmp(ty, "hash") || !strcmp(ty, "zset");
        strv_t v = {0};
        for (size_t i = 0; i < x->elements; i += pairs ? 2 : 1) {
                if (day && !strcmp(x->element[i + 1]->str, "0"))
                        continue;
                sb_t e = {0};
                sb_add(&e, x->element[i]->str, x->element[i]->len);
                if (pairs) {
                        sb_puts(&e, "=");
                        sb_add(&e, x->element[i + 1]->str, x->element[i + 1]->len);
                }
                strv_push(&v, sb_take(&e));
        }
        /* A sorted set keeps Redis' order (score, then member). */
        if (strcmp(ty, "zset") && strcmp(ty, "list"))
                strv_sort(&v);
        for (size_t i = 0; i < v.n; i++) {
                sb_puts(b, i ? "\n" : "");
                sb_puts(b, v.v[i]);
        }
        strv_free(&v);
}

/* Every key of r as one line "key\ttype\tttl|nottl\tcontent", sorted by key. */
static void dump_state(sc_redis_t *r, strv_t *out)
{
        strv_t keys = {0};
        scan_keys(r, &keys);
        for (size_t i0 = 0; i0 < keys.n; i0 += 200) {
                size_t m = keys.n - i0 < 200 ? keys.n - i0 : 200, n;
                char ty[200][16];
                int ttl[200];
                for (size_t i = 0; i < m; i++) {
                        sc_redis_append(r, 2, (const char *[]){"TYPE", keys.v[i0 + i]},
                                        NULL);
                        sc_redis_append(r, 2, (const char *[]){"PTTL", keys.v[i0 + i]},
                                        NULL);
                }
                redisReply **rep = run(r, &n);
                for (size_t i = 0; i < m; i++) {
                        snprintf(ty[i], sizeof(ty[i]), "%s", rep[2 * i]->str);
                        ttl[i] = rep[2 * i + 1]->integer > 0
                                     ? 1
                                     : (int)rep[2 * i + 1]->integer;
                }
                for (size_t i = 0; i < m; i++) {
                        const char *k = keys.v[i0 + i];
                        if (!strcmp(ty[i], "string"))
                                sc_redis_append(r, 2, (const char *[]){"GET", k}, NULL);
                        else if (!strcmp(ty[i], "hash"))
                                sc_redis_append(r, 2, (const char *[]){"HGETALL", k},
                                                NULL);
                        else if (!strcmp(ty[i], "zset"))
                                sc_redis_append(r, 5,
                                                (const char *[]){"ZRANGE", k, "0", "-1",
                                                                 "WITHSCORES"},
                                                NULL);
                        else if (!strcmp(ty[i], "set"))
                                sc_redis_append(r, 2, (const char *[]){"SMEMBERS", k},
                                                NULL);
                        else
                                sc_redis_append(
                                    r, 4, (const char *[]){"LRANGE", k, "0", "-1"}, NULL);
                }
                rep = run(r, &n);
                for (size_t i = 0; i < m; i++) {
                        sb_t b = {0};
                        sb_printf(&b, "%s\t%s\t%s\t", keys.v[i0 + i], ty[i],
                                  ttl[i] > 0     ? "ttl"
                                  : ttl[i] == -1 ? "nottl"
                                                 : "gone");
                        size_t len0 = b.len;
                        content(&b, keys.v[i0 + i], ty[i], rep[i]);
                        if (b.len == len0 && is_day_key(keys.v[i0 + i])) {
                                free(b.s); /* zero fields only */
                                continue;
                        }
                        strv_push(out, sb_take(&b));
                }
        }
        strv_free(&keys);
}

static int keycmp(const char *a, const char *b)
{
        size_t la = strcspn(a, "\t"), lb = strcspn(b, "\t");
        int c = strncmp(a, b, la < lb ? la : lb);
        return c ? c : la < lb ? -1 : la > lb;
}

static void show(const char *what, const char *line)
{
        fprintf(stderr, "  %s: %.700s%s\n", what, line, strlen(line) > 700 ? "..." : "");
}

/* The lines of a key's content only one side has (a hash's fields, a set's
 * members...), or the whole values when they are one line each. */
static void show_diff(const char *na, const char *a, const char *nb, const char *b)
{
        strv_t x = {0}, y = {0};
        const char *ca = strrchr(a, '\t') + 1, *cb = strrchr(b, '\t') + 1;
        if (!strchr(ca, '\n') && !strchr(cb, '\n')) {
                show(na, a);
                show(nb, b);
                return;
        }
        fprintf(stderr, "  key %.*s, lines that differ:\n", (int)strcspn(a, "\t"), a);
        for (int k = 0; k < 2; k++)
                for (const char *p = k ? cb : ca; *p;) {
                        size_t n = strcspn(p, "\n");
                        strv_push(k ? &y : &x, strndup(p, n));
                        p += n + (p[n] == '\n');
                }
        strv_sort(&x);
        strv_sort(&y);
        size_t i = 0, j = 0, d = 0;
        while ((i < x.n || j < y.n) && d < 12) {
                int c = i == x.n ? 1 : j == y.n ? -1 : strcmp(x.v[i], y.v[j]);
                if (!c) {
                        i++, j++;
                        continue;
                }
                d++;
                fprintf(stderr, "    only in %s: %.300s\n", c < 0 ? na : nb,
                        c < 0 ? x.v[i++] : y.v[j++]);
        }
        strv_free(&x);
        strv_free(&y);
}

/* Prints the first differences of two dumps (what, a, b: names); returns
 * how many keys differ. */
static size_t diff_state(const char *what, const strv_t *a, const strv_t *b,
                         const char *na, const char *nb)
{
        size_t i = 0, j = 0, d = 0;
        while (i < a->n || j < b->n) {
                int c = i == a->n ? 1 : j == b->n ? -1 : keycmp(a->v[i], b->v[j]);
                if (!c && !strcmp(a->v[i], b->v[j])) {
                        i++, j++;
                        continue;
                }
                if (d++ < 5) {
                        fprintf(stderr, "%s: Redis state differs:\n", what);
                        if (!c)
                                show_diff(na, a->v[i], nb, b->v[j]);
                        else if (c < 0)
                                show(na, a->v[i]),
                                    fprintf(stderr, "  %s: (no such key)\n", nb);
                        else
                                fprintf(stderr, "  %s: (no such key)\n", na),
                                    show(nb, b->v[j]);
                }
                if (c <= 0)
                        i++;
                if (c >= 0)
                        j++;
        }
        if (d)
                fprintf(stderr, "%s: %zu keys differ\n", what, d);
        return d;
}

/* Prints the first SLA events only one tracker handed out; returns how many. */
static size_t diff_events(const char *what, strv_t *a, strv_t *b, const char *na,
                          const char *nb)
{
        strv_sort(a);
        strv_sort(b);
        size_t i = 0, j = 0, d = 0;
        while (i < a->n || j < b->n) {
                int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i], b->v[j]);
                if (!c) {
                        i++, j++;
                        continue;
                }
                if (d++ < 8)
                        fprintf(stderr, "%s: SLA event only in %s: %s\n", what,
                                c < 0 ? na : nb, c < 0 ? a->v[i] : b->v[j]);
                if (c < 0)
                        i++;
                else
                        j++;
        }
        return d;
}

/* ---- invariants ---------------------------------------------------------- */

typedef struct grp_s {
        int brand;
        char fam, day[16], grp[64];
        int64_t c[SC_TRACK_CTR_CNT];
        int64_t fn, fsum; /* FRT hash: entries, sum of values */
} grp_t;

typedef struct inv_s {
        grp_t *g;
        size_t n, cap;
        int64_t tot[3][2][SC_TRACK_CTR_CNT]; /* brand, family u/l */
        int64_t pending_set[3];
} inv_t;

static grp_t *grp_of(inv_t *v, int brand, char fam, const char *day, const char *grp,
                     size_t glen)
{
        for (size_t i = 0; i < v->n; i++)
                if (v->g[i].brand == brand && v->g[i].fam == fam &&
                    !strcmp(v->g[i].day, day) && strlen(v->g[i].grp) == glen &&
                    !strncmp(v->g[i].grp, grp, glen))
                        return &v->g[i];
        if (v->n == v->cap) {
                v->cap = v->cap ? 2 * v->cap : 64;
                v->g = realloc(v->g, v->cap * sizeof(*v->g));
                CHECK(v->g);
        }
        grp_t *g = &v->g[v->n++];
        memset(g, 0, sizeof(*g));
        g->brand = brand, g->fam = fam;
        snprintf(g->day, sizeof(g->day), "%s", day);
        CHECK(glen < sizeof(g->grp));
        memcpy(g->grp, grp, glen);
        return g;
}

/* One dump line of a day hash (d:) or FRT hash (f:) into v. */
static void inv_line(inv_t *v, int brand, const char *rest, const char *body)
{
        int is_d = !strncmp(rest, "d:", 2), is_f = !strncmp(rest, "f:", 2);
        if (!is_d && !is_f)
                return;
        char fam = rest[2], day[16];
        snprintf(day, sizeof(day), "%.*s", (int)strcspn(rest + 4, "\t"), rest + 4);
        for (const char *p = body; *p;) {
                size_t len = strcspn(p, "\n");
                const char *eq = memchr(p, '=', len), *bar1 = memchr(p, '|', len);
                const char *bar2 =
                    bar1 ? memchr(bar1 + 1, '|', (size_t)(p + len - bar1 - 1)) : NULL;
                CHECK(eq && bar2 && bar2 < eq);
                grp_t *g = grp_of(v, brand, fam, day, p, (size_t)(bar2 - p));
                int64_t val = strtoll(eq + 1, NULL, 10);
                if (is_d) {
                        int k = sc_track_counter_index(bar2 + 1, (size_t)(eq - bar2 - 1));
                        CHECK(k >= 0);
                        g->c[k] += val;
                        v->tot[brand][fam == 'l'][k] += val;
                } else {
                        g->fn++;
                        g->fsum += val;
                }
                p += len + (p[len] == '\n');
        }
}

static void check_groups(const inv_t *v)
{
        for (size_t i = 0; i < v->n; i++) {
                const grp_t *g = &v->g[i];
                const int64_t *c = g->c;
                int64_t hist = 0;
                for (int b = 0; b <= 5; b++)
                        hist += c[SC_TRACK_FRT_B0 + b];
                int ok =
                    c[SC_TRACK_WITH_DUE] == c[SC_TRACK_SLA_HIT] + c[SC_TRACK_SLA_MISSED] +
                                                c[SC_TRACK_PENDING] &&
                    c[SC_TRACK_REPLIED] <= c[SC_TRACK_NEEDS_REPLY] &&
                    c[SC_TRACK_LATE] <= c[SC_TRACK_SLA_MISSED] &&
                    c[SC_TRACK_REPLIED] == g->fn && c[SC_TRACK_FRT_SUM_MS] == g->fsum &&
                    c[SC_TRACK_BFRT_N] == c[SC_TRACK_REPLIED] &&
                    hist == c[SC_TRACK_REPLIED];
                for (int k = 0; k < SC_TRACK_CTR_CNT; k++)
                        ok = ok && c[k] >= 0;
                if (!ok) {
                        fprintf(stderr,
                                "invariant broken in sc:{%s}:d:%c:%s group %s: with_due "
                                "%" PRId64 " hit %" PRId64 " missed %" PRId64
                                " pending %" PRId64 " replied %" PRId64
                                " needs_reply %" PRId64 " late %" PRId64
                                " frt entries %" PRId64 " frt_sum %" PRId64 "/%" PRId64
                                " bfrt_n %" PRId64 " histogram %" PRId64 "\n",
                                BRANDS[g->brand], g->fam, g->day, g->grp,
                                c[SC_TRACK_WITH_DUE], c[SC_TRACK_SLA_HIT],
                                c[SC_TRACK_SLA_MISSED], c[SC_TRACK_PENDING],
                                c[SC_TRACK_REPLIED], c[SC_TRACK_NEEDS_REPLY],
                                c[SC_TRACK_LATE], g->fn, c[SC_TRACK_FRT_SUM_MS], g->fsum,
                                c[SC_TRACK_BFRT_N], hist);
                        exit(1);
                }
        }
}

static const char *find_line(const strv_t *d, const char *key)
{
        size_t lo = 0, hi = d->n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = keycmp(d->v[mid], key);
                if (!c)
                        return d->v[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* The record of every inbound post of a conversation whose replies all
 * name an inbound post that arrived in time (no thread rule, no wait that
 * ended): its first reply is the earliest of those, exactly. */
static size_t check_posts(const gen_t *g, const strv_t *d)
{
        size_t checked = 0;
        for (size_t i = 0; i < g->n; i++) {
                const rec_t *p = &g->r[i];
                if (p->type != R_IN || g->inexact[p->conv])
                        continue;
                char key[128], f[64], want[64];
                snprintf(key, sizeof(key), "sc:{%s}:p:%s:%s", BRANDS[p->brand],
                         PFS[p->pf], p->id);
                const char *line = find_line(d, key);
                if (!line) {
                        fprintf(stderr, "post %s: no record\n", key);
                        exit(1);
                }
                const char *body = strrchr(line, '\t') + 1;
                int64_t rca = INT64_MAX;
                /* A conversation's records are contiguous, replies after
                 * their post. */
                for (size_t j = i + 1; j < g->n && g->r[j].conv == p->conv; j++)
                        if (g->r[j].type == R_RE && g->r[j].post == (int)i &&
                            g->r[j].ca < rca)
                                rca = g->r[j].ca;
                rec_field(body, "eid", f, sizeof(f));
                CHECK_STR(f, p->eid);
                rec_field(body, "rca", f, sizeof(f));
                snprintf(want, sizeof(want), "%" PRId64, rca);
                if (!p->nr || rca == INT64_MAX)
                        want[0] = '\0';
                if (strcmp(f, want)) {
                        fprintf(stderr, "post %s: first reply at %s, want %s: %s\n", key,
                                f[0] ? f : "(none)", want[0] ? want : "(none)", body);
                        exit(1);
                }
                rec_field(body, "oc", f, sizeof(f));
                const char *oc = !want[0] || !p->due ? ""
                                 : rca <= p->due     ? "hit"
                                                     : "late";
                if (strcmp(f, oc)) {
                        fprintf(stderr, "post %s: outcome %s, want %s: %s\n", key, f, oc,
                                body);
                        exit(1);
                }
                checked++;
        }
        return checked;
}

/* The final counters of A's dump d against the definitions and what the
 * generator knows. */
static void check_invariants(const gen_t *g, const strv_t *d)
{
        inv_t v = {0};
        for (size_t i = 0; i < d->n; i++) {
                const char *l = d->v[i];
                for (int b = 0; b < 3; b++) {
                        char pre[32];
                        int n = snprintf(pre, sizeof(pre), "sc:{%s}:", BRANDS[b]);
                        if (strncmp(l, pre, (size_t)n))
                                continue;
                        const char *body = strrchr(l, '\t') + 1;
                        if (!strncmp(l + n, "pending\t", 8) && *body) {
                                v.pending_set[b] = 1;
                                for (const char *q = body; *q; q++)
                                        v.pending_set[b] += *q == '\n';
                        }
                        inv_line(&v, b, l + n, body);
                }
        }
        check_groups(&v);
        for (int b = 0; b < 3; b++) {
                int64_t want[3] = {0}; /* received, needs_reply, with_due */
                for (size_t i = 0; i < g->n; i++) {
                        const rec_t *p = &g->r[i];
                        if (p->type == R_IN && p->brand == b) {
                                want[0]++;
                                want[1] += p->nr;
                                want[2] += p->nr && p->due;
                        }
                }
                /* replied: at least the needs-reply posts named as parent by
                 * a reply that did not wait in vain for them, at most one
                 * more per other reply (the thread rule). */
                int64_t lo = 0, other = 0;
                unsigned char *named = calloc(g->n, 1);
                CHECK(named);
                for (size_t i = 0; i < g->n; i++) {
                        const rec_t *r = &g->r[i];
                        if (r->type != R_RE || r->brand != b)
                                continue;
                        if (r->post >= 0 && g->r[r->post].at < r->at + WINDOW_MS - 1)
                                named[r->post] = 1;
                        else
                                other++;
                }
                for (size_t i = 0; i < g->n; i++)
                        lo += named[i] && g->r[i].nr;
                free(named);
                const int64_t *u = v.tot[b][0], *l = v.tot[b][1];
                if (u[SC_TRACK_REPLIED] < lo || u[SC_TRACK_REPLIED] > lo + other) {
                        fprintf(stderr,
                                "brand %s: replied %" PRId64 ", want %" PRId64
                                "..%" PRId64 "\n",
                                BRANDS[b], u[SC_TRACK_REPLIED], lo, lo + other);
                        exit(1);
                }
                CHECK_INT(u[SC_TRACK_RECEIVED], want[0]);
                CHECK_INT(u[SC_TRACK_NEEDS_REPLY], want[1]);
                CHECK_INT(u[SC_TRACK_WITH_DUE], want[2]);
                CHECK_INT(u[SC_TRACK_PENDING], v.pending_set[b]);
                for (int k = 0; k < SC_TRACK_CTR_CNT; k++)
                        if (u[k] != l[k]) {
                                fprintf(stderr,
                                        "brand %s: %s %" PRId64 " in UTC days, %" PRId64
                                        " in local days\n",
                                        BRANDS[b], "counter", u[k], l[k]);
                                exit(1);
                        }
                printf("track_props: %s: received %" PRId64 " needs_reply %" PRId64
                       " replied %" PRId64 " with_due %" PRId64 " hit %" PRId64
                       " missed %" PRId64 " late %" PRId64 " pending %" PRId64
                       " no_need %" PRId64 " extra %" PRId64 " orphan %" PRId64 "\n",
                       BRANDS[b], u[SC_TRACK_RECEIVED], u[SC_TRACK_NEEDS_REPLY],
                       u[SC_TRACK_REPLIED], u[SC_TRACK_WITH_DUE], u[SC_TRACK_SLA_HIT],
                       u[SC_TRACK_SLA_MISSED], u[SC_TRACK_LATE], u[SC_TRACK_PENDING],
                       u[SC_TRACK_REPLIED_NO_NEED], u[SC_TRACK_EXTRA_REPLIES],
                       u[SC_TRACK_ORPHAN_REPLIES]);
        }
        printf("track_props: %zu posts checked exactly (first reply, outcome)\n",
               check_posts(g, d));
        free(v.g);
}

/* ---- the runs ------------------------------------------------------------ */

/* Both trackers over the stream: each segment between two scans in their
 * own batches, then the same scan; at the end scans past every wait. */
static void pass1(trk_t **tk, const gen_t *g, int nscans, int pin_clock)
{
        size_t seg = 0;
        for (size_t i = 0; i <= g->nit; i++) {
                if (i < g->nit && g->it[i].rec >= 0)
                        continue;
                for (int k = 0; k < 2; k++) {
                        feed(tk[k], g, seg, i, pin_clock);
                        if (i < g->nit)
                                scan(tk[k], g->it[i].at);
                }
                seg = i + 1;
                /* Mid-stream too (pending, held and lb sets, outbox). */
                if (i < g->nit &&
                    (tk[0]->scan_no == nscans / 3 || tk[0]->scan_no == 2 * nscans / 3)) {
                        strv_t sa = {0}, sb = {0};
                        dump_state(tk[0]->r, &sa);
                        dump_state(tk[1]->r, &sb);
                        char what[64];
                        snprintf(what, sizeof(what), "A vs B after scan %d",
                                 tk[0]->scan_no);
                        if (diff_state(what, &sa, &sb, "A", "B"))
                                exit(1);
                        strv_free(&sa);
                        strv_free(&sb);
                }
        }
        for (int k = 0; k < 2; k++) {
                tk[k]->ack_all = 1;
                for (int j = 0; j < 3; j++)
                        scan(tk[k], g->end + WINDOW_MS + 10 * MIN);
                CHECK_INT(sc_track_outbox_inflight(tk[k]->t), 0);
        }
}

static int diff_counts(const char *what, const trk_t *a, const trk_t *b)
{
        int bad = 0;
        for (int k = 0; k < SC_TRACK_K_CNT; k++)
                if (a->cnt.n[k] != b->cnt.n[k]) {
                        fprintf(stderr, "%s: count %s: %s %" PRIu64 ", %s %" PRIu64 "\n",
                                what, sc_track_kind_name(k), a->name, a->cnt.n[k],
                                b->name, b->cnt.n[k]);
                        bad = 1;
                }
        return bad;
}

/* "origin|kind|post event id" of the record-made events of ev. */
static void short_events(const strv_t *ev, strv_t *out)
{
        for (size_t i = 0; i < ev->n; i++) {
                const char *l = ev->v[i];
                if (l[0] != 'r')
                        continue;
                const char *p = strchr(l, '|');
                const char *q = strchr(p + 1, '|'); /* kind| */
                const char *r = strchr(q + 1, '|'); /* brand| */
                const char *e = strchr(r + 1, '|'); /* post eid| */
                sb_t b = {0};
                sb_add(&b, l, (size_t)(q - l));
                sb_add(&b, r, (size_t)(e - r));
                strv_push(out, sb_take(&b));
        }
}

/* The whole stream again into B alone (no scans): every record a
 * duplicate returning the kinds of SLA events it returned first, and B's
 * state unchanged (still A's). */
static void pass2(trk_t *b, const gen_t *g, const strv_t *state_a)
{
        strv_t first = {0}, again = {0}, state = {0};
        short_events(&b->ev, &first);
        strv_free(&b->ev);
        memset(&b->cnt, 0, sizeof(b->cnt));
        feed(b, g, 0, g->nit, 0);
        short_events(&b->ev, &again);
        uint64_t recs = 0;
        for (size_t i = 0; i < g->nit; i++)
                recs += g->it[i].rec >= 0 && g->r[g->it[i].rec].type != R_BP;
        for (int k = 0; k < SC_TRACK_K_CNT; k++)
                if (b->cnt.n[k] != (k == SC_TRACK_K_DUPLICATE ? recs : 0)) {
                        fprintf(stderr,
                                "replay into B: count %s %" PRIu64 ", want %" PRIu64 "\n",
                                sc_track_kind_name(k), b->cnt.n[k],
                                k == SC_TRACK_K_DUPLICATE ? recs : 0);
                        exit(1);
                }
        if (diff_events("replay into B (kinds per record)", &first, &again, "first pass",
                        "replay"))
                exit(1);
        dump_state(b->r, &state);
        if (diff_state("after the replay into B", state_a, &state, "A", "B"))
                exit(1);
        strv_free(&first);
        strv_free(&again);
        strv_free(&state);
}

static int cmp_eid(const void *a, const void *b, void *g)
{
        const rec_t *r = ((const gen_t *)g)->r;
        return strcmp(r[*(const size_t *)a].eid, r[*(const size_t *)b].eid);
}

/* Every SLA event of ev describes its post as the generator made it, and
 * its kind fits its times: a hit replied by due, a late one after, FRT =
 * replied - created (at least 0), a breach with no reply. */
static void check_payloads(const gen_t *g, const strv_t *ev)
{
        size_t *ix = malloc(g->n * sizeof(*ix)), m = 0;
        CHECK(ix);
        for (size_t i = 0; i < g->n; i++)
                if (g->r[i].type == R_IN)
                        ix[m++] = i;
        qsort_r(ix, m, sizeof(*ix), cmp_eid, (void *)g);
        for (size_t i = 0; i < ev->n; i++) {
                char f[15][128];
                const char *p = ev->v[i];
                for (int k = 0; k < 15; k++) {
                        size_t n =
                            k == 14 ? strlen(p) : strcspn(p, "|"); /* member: a|b */
                        snprintf(f[k], sizeof(f[k]), "%.*s", (int)n, p);
                        p += n + (p[n] == '|');
                }
                size_t lo = 0, hi = m;
                while (lo < hi) { /* the post, by event id */
                        size_t mid = (lo + hi) / 2;
                        int c = strcmp(g->r[ix[mid]].eid, f[3]);
                        if (!c)
                                lo = hi = mid;
                        else if (c < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                const rec_t *r =
                    lo < m && !strcmp(g->r[ix[lo]].eid, f[3]) ? &g->r[ix[lo]] : NULL;
                char want[512], text[64];
                snprintf(text, sizeof(text), "help me %s", r ? r->id : "");
                if (r)
                        snprintf(want, sizeof(want),
                                 "%s|%s|%s|%s|%s|%" PRId64 "|%" PRId64, BRANDS[r->brand],
                                 PFS[r->pf], r->id, r->team, r->prio, r->ca, r->due);
                char got[1024];
                snprintf(got, sizeof(got), "%s|%s|%s|%s|%s|%s|%s", f[2], f[4], f[5], f[6],
                         f[7], f[8], f[9]);
                int64_t ra = strtoll(f[10], NULL, 10), frt = strtoll(f[11], NULL, 10);
                int64_t wfrt = ra - (r ? r->ca : 0) > 0 ? ra - r->ca : 0;
                int kind_ok = !strcmp(f[1], "breach") ? ra == -1 && frt == -1
                              : !strcmp(f[1], "late") ? r && ra > r->due && frt == wfrt
                                                      : r && ra <= r->due && frt == wfrt;
                /* A replay returns its first events' kinds built from the
                 * post's record as it is now (prelude.lua replay()): a late
                 * reply's replay after an earlier reply made the post a hit
                 * says late with the hit's time. */
                size_t item = f[0][0] == 'r' ? (size_t)strtoull(f[0] + 1, NULL, 10) : 0;
                int replay = f[0][0] == 'r' && g->it[item].replay;
                if (!r || strcmp(got, want) || strcmp(f[13], text) ||
                    (!kind_ok && !replay)) {
                        const rec_t *o = f[0][0] == 'r' ? &g->r[g->it[item].rec] : NULL;
                        fprintf(stderr,
                                "SLA event %s does not fit its post (%s); origin %s%s\n",
                                ev->v[i], r ? want : "unknown", o ? o->eid : "the timer",
                                replay ? " (a replay)" : "");
                        char pat[160];
                        snprintf(pat, sizeof(pat), "|%s|", f[3]);
                        for (size_t j = 0; j < ev->n; j++)
                                if (strstr(ev->v[j], pat))
                                        fprintf(stderr, "  event of that post: %s\n",
                                                ev->v[j]);
                        exit(1);
                }
        }
        free(ix);
}

/* With a workload this size every path must have been taken: else the
 * generator no longer tests what it claims to. */
static void check_coverage(const trk_t *a)
{
        for (int k = 0; k < SC_TRACK_K_CNT; k++)
                if (!a->cnt.n[k]) {
                        fprintf(stderr, "coverage: no %s at all\n",
                                sc_track_kind_name(k));
                        exit(1);
                }
        const char *want[] = {"|hit|", "|breach|", "|late|", "|recovered|"};
        size_t n[4] = {0}, timer_late = 0, timer_hit = 0;
        for (size_t i = 0; i < a->ev.n; i++) {
                for (int k = 0; k < 4; k++)
                        n[k] += strstr(a->ev.v[i], want[k]) != NULL;
                timer_late += a->ev.v[i][0] == 's' && strstr(a->ev.v[i], "|late|");
                timer_hit += a->ev.v[i][0] == 's' && strstr(a->ev.v[i], "|hit|");
        }
        printf("track_props: events: hit %zu breach %zu late %zu recovered %zu "
               "(timer: late %zu, hit %zu)\n",
               n[0], n[1], n[2], n[3], timer_late, timer_hit);
        for (int k = 0; k < 4; k++)
                CHECK(n[k] > 0);
        CHECK(timer_late > 0);
}

static void new_trk(trk_t *tk, const char *name, const char *url, int style,
                    uint64_t seed, const sc_brands_t *br, const sc_calendars_t *cals,
                    void (*conf)(sc_track_conf_t *))
{
        char err[256];
        sc_track_conf_t c;
        conf(&c);
        memset(tk, 0, sizeof(*tk));
        tk->name = name;
        tk->style = style;
        tk->split = seed;
        tk->r = sc_redis_new(url, 10000, err, sizeof(err));
        if (!tk->r) {
                fprintf(stderr, "redis %s: %s\n", url, err);
                exit(1);
        }
        size_t n;
        sc_redis_appendf(tk->r, "FLUSHALL");
        run(tk->r, &n);
        tk->t = sc_track_new(tk->r, br, cals, &c, err, sizeof(err));
        if (!tk->t) {
                fprintf(stderr, "tracker %s: %s\n", name, err);
                exit(1);
        }
        sc_track_set_error_cb(tk->t, on_err, tk);
}

static void free_trk(trk_t *tk)
{
        sc_track_destroy(tk->t);
        sc_redis_destroy(tk->r);
        strv_free(&tk->ev);
        strv_free(&tk->fresh);
        strv_free(&tk->defer);
}

int main(int argc, char **argv)
{
        /* Mode split (default): B in batches of its own, the event clock
         * pinned per segment (feed). Mode same: B in A's batches, the
         * clock free: a call's clock taken from its batch must agree too. */
        int same = argc > 5 && !strcmp(argv[5], "same");
        if (argc < 3 || argc > 6 || (argc > 5 && !same && strcmp(argv[5], "split"))) {
                fprintf(stderr, "usage: test_track_props REDIS_URL_A REDIS_URL_B [SEED "
                                "[CONVERSATIONS [split|same]]]\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 20261120;
        int nconv = argc > 4 ? atoi(argv[4]) : 3000;
        CHECK(nconv > 0);
        gen_t g = {.rng = seed};
        CHECK(sc_time_parse("2026-11-20T06:00:00Z", 20, &g.t0) == 0);
        /* The wall clock pinned after the whole timeline (test hooks). */
        char fake[32];
        snprintf(fake, sizeof(fake), "%" PRId64, (int64_t)(g.t0 + 60 * 24 * HOUR));
        setenv("SC_FAKE_NOW_MS", fake, 1);
        if (sc_now_ms() != g.t0 + 60 * 24 * HOUR) {
                fprintf(stderr,
                        "SC_FAKE_NOW_MS not honoured (built without SC_TEST_HOOKS)\n");
                return 1;
        }
        printf("track_props: seed %" PRIu64 ", %d conversations, %s\n", seed, nconv,
               same ? "same batches, clock free" : "own batches, clock pinned");
        char err[256];
        sc_yaml_t *y = sc_yaml_load_string(CONF_YAML, strlen(CONF_YAML), "props.yaml",
                                           err, sizeof(err));
        CHECK(y);
        sc_brands_t *br = sc_brands_new(sc_yaml_root(y), err, sizeof(err));
        sc_calendars_t *cals = sc_calendars_new(sc_yaml_root(y), err, sizeof(err));
        CHECK(br && cals);
        gen_stream(&g, nconv);
        trk_t A, B, *tk[2] = {&A, &B};
        new_trk(&A, "A", argv[1], 0, seed ^ 0xa11ceULL, br, cals, conf_a);
        new_trk(&B, "B", argv[2], !same, same ? seed ^ 0xa11ceULL : seed ^ 0xb0bULL, br,
                cals, conf_b);
        int nscans = 0;
        for (size_t i = 0; i < g.nit; i++)
                nscans += g.it[i].rec < 0;
        pass1(tk, &g, nscans, !same);
        printf("track_props: %zu records, %zu stream items, %d scans\n", g.n, g.nit,
               A.scan_no);
        strv_t sa = {0}, sb = {0};
        dump_state(A.r, &sa);
        dump_state(B.r, &sb);
        printf("track_props: %zu SLA events, %zu Redis keys\n", A.ev.n, sa.n);
        /* Every kind of difference is shown before failing. */
        int bad = diff_counts("A vs B", &A, &B);
        bad |= diff_events("A vs B", &A.ev, &B.ev, "A", "B") > 0;
        bad |= diff_state("A vs B", &sa, &sb, "A", "B") > 0;
        if (bad)
                return 1;
        check_invariants(&g, &sa);
        check_payloads(&g, &A.ev);
        if (nconv >= 1000)
                check_coverage(&A);
        pass2(&B, &g, &sa);
        strv_free(&sa);
        strv_free(&sb);
        free_trk(&A);
        free_trk(&B);
        sc_calendars_destroy(cals);
        sc_brands_destroy(br);
        sc_yaml_destroy(y);
        free(g.r);
        free(g.it);
        free(g.inexact);
        TEST_DONE();
}
