/* The tracker's per-record logic in C: lua/batch.lua and the parts of
 * lua/prelude.lua it uses, function for function (same names), on records
 * read in rounds and written by one commit call per brand
 * (sc_track_engine.h says why and how). Where the Lua keeps a table, this
 * keeps a rec_t; where it calls Redis, this reads what it fetched or
 * queues the write for the commit. */
#include "sc_track_engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_buf.h"
#include "sc_mpack.h"
#include "sc_track.h"

/* ---- strings and an arena ------------------------------------------------ */

/* A string of a record or an argument; p NULL is Lua's nil. */
typedef struct ts_s {
        const char *p;
        uint32_t n;
} ts_t;

#define TNIL   ((ts_t){NULL, 0})
#define NIL(x) (!(x).p)

static ts_t tl(const char *s)
{
        return (ts_t){s, (uint32_t)strlen(s)};
}

static int teq(ts_t a, ts_t b)
{
        return a.p && b.p && a.n == b.n && !memcmp(a.p, b.p, a.n);
}

static int tis(ts_t a, const char *lit)
{
        size_t n = strlen(lit);
        return a.p && a.n == n && !memcmp(a.p, lit, n);
}

/* Lua's string order (bytewise, a prefix first). */
static int tcmp(ts_t a, ts_t b)
{
        uint32_t n = a.n < b.n ? a.n : b.n;
        int c = n ? memcmp(a.p, b.p, n) : 0;
        return c ? c : (a.n > b.n) - (a.n < b.n);
}

/* tonumber() of the integers the records hold (0 for nil or no digits). */
static int64_t tnum(ts_t s)
{
        int64_t v = 0;
        uint32_t i = 0;
        int neg = 0;
        if (!s.p)
                return 0;
        if (i < s.n && (s.p[i] == '-' || s.p[i] == '+'))
                neg = s.p[i++] == '-';
        for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
                v = v * 10 + (s.p[i] - '0');
        return neg ? -v : v;
}

typedef struct chunk_s {
        struct chunk_s *next;
        size_t cap, used;
        char data[];
} chunk_t;

/* Chunks kept across runs: warm, allocating is a pointer bump. */
typedef struct arena_s {
        chunk_t *head, *cur;
} arena_t;

#define CHUNK (64 * 1024)

static void *ar_alloc(arena_t *a, size_t n)
{
        n = (n + 7) & ~(size_t)7;
        while (a->cur && a->cur->cap - a->cur->used < n && a->cur->next) {
                a->cur = a->cur->next;
                a->cur->used = 0;
        }
        if (!a->cur || a->cur->cap - a->cur->used < n) {
                size_t cap = n > CHUNK ? n : CHUNK;
                chunk_t *c = sc_malloc(sizeof(*c) + cap);
                c->cap = cap;
                c->used = 0;
                c->next = a->cur ? a->cur->next : NULL;
                if (a->cur)
                        a->cur->next = c;
                else
                        a->head = c;
                a->cur = c;
        }
        void *p = a->cur->data + a->cur->used;
        a->cur->used += n;
        return p;
}

static void ar_reset(arena_t *a)
{
        a->cur = a->head;
        if (a->cur)
                a->cur->used = 0;
}

static void ar_free(arena_t *a)
{
        for (chunk_t *c = a->head, *n; c; c = n) {
                n = c->next;
                free(c);
        }
        a->head = a->cur = NULL;
}

static ts_t ar_str(arena_t *a, const char *p, size_t n)
{
        char *d = ar_alloc(a, n + 1);
        if (n)
                memcpy(d, p, n);
        d[n] = '\0';
        return (ts_t){d, (uint32_t)n};
}

static ts_t ar_cat(arena_t *a, ts_t x, ts_t y, ts_t z)
{
        size_t n = (size_t)x.n + y.n + z.n;
        char *d = ar_alloc(a, n + 1);
        memcpy(d, x.p, x.n);
        memcpy(d + x.n, y.p, y.n);
        memcpy(d + x.n + y.n, z.p, z.n);
        d[n] = '\0';
        return (ts_t){d, (uint32_t)n};
}

static ts_t ar_int(arena_t *a, int64_t v)
{
        char num[24];
        return ar_str(a, num, sc_mp_decimal(num, v));
}

/* ---- records (the Lua tables of lua/prelude.lua) ------------------------- */

enum {
        F_K,
        F_EID,
        F_PF,
        F_PID,
        F_TH,
        F_TEAM,
        F_UD,
        F_LD,
        F_CA,
        F_NR,
        F_ST,
        F_CAL,
        F_DUE,
        F_PRIO,
        F_URL,
        F_TXT,
        F_RCA,
        F_REID,
        F_FRT,
        F_OC,
        F_BF,
        F_BX,
        F_ET,
        F_BE,
        F_CNT
};
static const char *const fnames[F_CNT] = {
    "k",   "eid",  "pf",  "pid", "th",  "team", "ud",  "ld", "ca", "nr", "st", "cal",
    "due", "prio", "url", "txt", "rca", "reid", "frt", "oc", "bf", "bx", "et", "be"};

/* A reply's hold (h): created, parent, thread, days, held by thread. */
enum { H_CA, H_PAR, H_TH, H_UD, H_LD, H_TR, H_CNT };
static const char *const hnames[H_CNT] = {"ca", "par", "th", "ud", "ld", "tr"};

/* What a replay returns again (r, br): {post key, event kinds, '1'}; n 0
 * is nil. */
typedef struct kept_s {
        ts_t v[3];
        uint8_t n;
} kept_t;

typedef struct tlist_s {
        ts_t *v;
        uint32_t n, cap;
} tlist_t;

struct grp_s;

typedef struct rec_s {
        ts_t f[F_CNT];
        kept_t r, br;
        tlist_t w, rb;
        int has_h;
        ts_t h[H_CNT];
        /* fields this code does not know (a newer release's), kept as read */
        ts_t extra;
        uint32_t extra_n;
        struct grp_s *g; /* the counter group of its days, platform, team */
} rec_t;

static void tl_push(arena_t *a, tlist_t *l, ts_t s)
{
        if (l->n == l->cap) {
                uint32_t cap = l->cap ? l->cap * 2 : 4;
                ts_t *v = ar_alloc(a, cap * sizeof(*v));
                if (l->n)
                        memcpy(v, l->v, l->n * sizeof(*v));
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = s;
}

/* msgpack reading: what cmsgpack.pack writes for these tables. */
typedef struct mr_s {
        const unsigned char *p, *end;
        int bad;
} mr_t;

static uint64_t mr_be(mr_t *m, int n)
{
        uint64_t v = 0;
        if (m->end - m->p < n) {
                m->bad = 1;
                return 0;
        }
        for (int i = 0; i < n; i++)
                v = v << 8 | *m->p++;
        return v;
}

/* The next value's head: 's' string (v = length), 'a' array, 'm' map (v =
 * count), 'i' integer, 'f' float (v = its bits), 'n' nil, 'b' boolean. */
static int mr_head(mr_t *m, uint64_t *v)
{
        if (m->p >= m->end) {
                m->bad = 1;
                return 0;
        }
        unsigned c = *m->p++;
        if (c <= 0x7f) {
                *v = c;
                return 'i';
        }
        if (c >= 0xe0) {
                *v = (uint64_t)(int64_t)(int8_t)c;
                return 'i';
        }
        if ((c & 0xe0) == 0xa0) {
                *v = c & 0x1f;
                return 's';
        }
        if ((c & 0xf0) == 0x90) {
                *v = c & 0x0f;
                return 'a';
        }
        if ((c & 0xf0) == 0x80) {
                *v = c & 0x0f;
                return 'm';
        }
        switch (c) {
        case 0xc0:
                return 'n';
        case 0xc2:
        case 0xc3:
                *v = c == 0xc3;
                return 'b';
        case 0xd9:
        case 0xc4:
                *v = mr_be(m, 1);
                return 's';
        case 0xda:
        case 0xc5:
                *v = mr_be(m, 2);
                return 's';
        case 0xdb:
        case 0xc6:
                *v = mr_be(m, 4);
                return 's';
        case 0xdc:
                *v = mr_be(m, 2);
                return 'a';
        case 0xdd:
                *v = mr_be(m, 4);
                return 'a';
        case 0xde:
                *v = mr_be(m, 2);
                return 'm';
        case 0xdf:
                *v = mr_be(m, 4);
                return 'm';
        case 0xcc:
                *v = mr_be(m, 1);
                return 'i';
        case 0xcd:
                *v = mr_be(m, 2);
                return 'i';
        case 0xce:
                *v = mr_be(m, 4);
                return 'i';
        case 0xcf:
                *v = mr_be(m, 8);
                return 'i';
        case 0xd0:
                *v = (uint64_t)(int64_t)(int8_t)mr_be(m, 1);
                return 'i';
        case 0xd1:
                *v = (uint64_t)(int64_t)(int16_t)mr_be(m, 2);
                return 'i';
        case 0xd2:
                *v = (uint64_t)(int64_t)(int32_t)mr_be(m, 4);
                return 'i';
        case 0xd3:
                *v = mr_be(m, 8);
                return 'i';
        case 0xca: {
                uint32_t u = (uint32_t)mr_be(m, 4);
                float f;
                memcpy(&f, &u, 4);
                double d = f;
                memcpy(v, &d, 8);
                return 'f';
        }
        case 0xcb:
                *v = mr_be(m, 8);
                return 'f';
        }
        m->bad = 1;
        return 0;
}

static void mr_skip(mr_t *m)
{
        uint64_t v;
        int t = mr_head(m, &v);
        if (t == 's') {
                if ((uint64_t)(m->end - m->p) < v)
                        m->bad = 1;
                else
                        m->p += v;
        } else if (t == 'a' || t == 'm') {
                for (uint64_t i = 0; i < (t == 'm' ? 2 * v : v) && !m->bad; i++)
                        mr_skip(m);
        }
}

/* A scalar as the string the Lua code compares (numbers as Lua prints
 * integers; nil for nil). */
static ts_t mr_scalar(mr_t *m, arena_t *a)
{
        uint64_t v;
        int t = mr_head(m, &v);
        if (t == 's') {
                if ((uint64_t)(m->end - m->p) < v) {
                        m->bad = 1;
                        return TNIL;
                }
                ts_t s = {(const char *)m->p, (uint32_t)v};
                m->p += v;
                return s;
        }
        if (t == 'i')
                return ar_int(a, (int64_t)v);
        if (t == 'f') {
                double d;
                memcpy(&d, &v, 8);
                return ar_int(a, (int64_t)d);
        }
        if (t == 'b')
                return v ? tl("1") : tl("");
        if (t != 'n')
                m->bad = 1;
        return TNIL;
}

static int field_of(const char *const *names, int cnt, const unsigned char *k, uint64_t n)
{
        for (int i = 0; i < cnt; i++)
                if (strlen(names[i]) == n && !memcmp(names[i], k, n))
                        return i;
        return -1;
}

/* A list value (w, rb, r, br): an array of strings; as cmsgpack packs a
 * Lua table that is not a sequence, a map of index -> string is taken too. */
static void mr_list(mr_t *m, arena_t *a, tlist_t *l)
{
        uint64_t n;
        int t = mr_head(m, &n);
        if (t != 'a' && t != 'm') {
                m->bad = 1;
                return;
        }
        for (uint64_t i = 0; i < n && !m->bad; i++) {
                if (t == 'm')
                        mr_skip(m);
                ts_t s = mr_scalar(m, a);
                tl_push(a, l, NIL(s) ? tl("") : s);
        }
}

/* Decodes raw into a record allocated in a: 0, or -1 when raw is not a
 * track record (a map with a string k). */
static int rec_decode(arena_t *a, ts_t raw, rec_t **out)
{
        mr_t m = {(const unsigned char *)raw.p, (const unsigned char *)raw.p + raw.n, 0};
        uint64_t n;
        if (mr_head(&m, &n) != 'm' || m.bad)
                return -1;
        rec_t *r = ar_alloc(a, sizeof(*r));
        memset(r, 0, sizeof(*r));
        const unsigned char *x0 = NULL;
        size_t xl = 0;
        unsigned char *xb = NULL;
        for (uint64_t i = 0; i < n && !m.bad; i++) {
                const unsigned char *kstart = m.p;
                uint64_t kl;
                if (mr_head(&m, &kl) != 's' || (uint64_t)(m.end - m.p) < kl)
                        return -1;
                const unsigned char *k = m.p;
                m.p += kl;
                int f = field_of(fnames, F_CNT, k, kl);
                if (f >= 0) {
                        r->f[f] = mr_scalar(&m, a);
                        continue;
                }
                if (kl == 1 && *k == 'w') {
                        mr_list(&m, a, &r->w);
                } else if (kl == 2 && !memcmp(k, "rb", 2)) {
                        mr_list(&m, a, &r->rb);
                } else if ((kl == 1 && *k == 'r') || (kl == 2 && !memcmp(k, "br", 2))) {
                        tlist_t l = {0};
                        mr_list(&m, a, &l);
                        kept_t *kp = kl == 1 ? &r->r : &r->br;
                        kp->n = (uint8_t)(l.n > 3 ? 3 : l.n);
                        for (uint32_t j = 0; j < kp->n; j++)
                                kp->v[j] = l.v[j];
                } else if (kl == 1 && *k == 'h') {
                        uint64_t hn;
                        if (mr_head(&m, &hn) != 'm')
                                return -1;
                        r->has_h = 1;
                        for (uint64_t j = 0; j < hn && !m.bad; j++) {
                                uint64_t hl;
                                if (mr_head(&m, &hl) != 's' ||
                                    (uint64_t)(m.end - m.p) < hl)
                                        return -1;
                                int hf = field_of(hnames, H_CNT, m.p, hl);
                                m.p += hl;
                                ts_t v = mr_scalar(&m, a);
                                if (hf >= 0)
                                        r->h[hf] = v;
                        }
                } else {
                        mr_skip(&m);
                        if (m.bad)
                                return -1;
                        size_t l = (size_t)(m.p - kstart);
                        unsigned char *nb = ar_alloc(a, xl + l);
                        if (xl)
                                memcpy(nb, xb, xl);
                        memcpy(nb + xl, kstart, l);
                        xb = nb;
                        xl += l;
                        x0 = xb;
                        r->extra_n++;
                }
        }
        if (m.bad || NIL(r->f[F_K]))
                return -1;
        r->extra = (ts_t){(const char *)x0, (uint32_t)xl};
        *out = r;
        return 0;
}

static void mw_str(sc_buf_t *b, ts_t s)
{
        sc_mp_str(b, s.p, s.n);
}

static void mw_list(sc_buf_t *b, const ts_t *v, uint32_t n)
{
        sc_mp_arr(b, n);
        for (uint32_t i = 0; i < n; i++)
                mw_str(b, v[i]);
}

static void rec_encode(sc_buf_t *b, const rec_t *r)
{
        size_t n = r->extra_n + (r->r.n > 0) + (r->br.n > 0) + (r->w.n > 0) +
                   (r->rb.n > 0) + (r->has_h != 0);
        for (int i = 0; i < F_CNT; i++)
                n += !NIL(r->f[i]);
        sc_mp_map(b, n);
        for (int i = 0; i < F_CNT; i++)
                if (!NIL(r->f[i])) {
                        mw_str(b, tl(fnames[i]));
                        mw_str(b, r->f[i]);
                }
        if (r->r.n) {
                mw_str(b, tl("r"));
                mw_list(b, r->r.v, r->r.n);
        }
        if (r->br.n) {
                mw_str(b, tl("br"));
                mw_list(b, r->br.v, r->br.n);
        }
        if (r->w.n) {
                mw_str(b, tl("w"));
                mw_list(b, r->w.v, r->w.n);
        }
        if (r->rb.n) {
                mw_str(b, tl("rb"));
                mw_list(b, r->rb.v, r->rb.n);
        }
        if (r->has_h) {
                size_t hn = 0;
                for (int i = 0; i < H_CNT; i++)
                        hn += !NIL(r->h[i]);
                mw_str(b, tl("h"));
                sc_mp_map(b, hn);
                for (int i = 0; i < H_CNT; i++)
                        if (!NIL(r->h[i])) {
                                mw_str(b, tl(hnames[i]));
                                mw_str(b, r->h[i]);
                        }
        }
        if (r->extra_n)
                sc_buf_append(b, r->extra.p, r->extra.n);
}

/* ---- a brand's run -------------------------------------------------------- */

/* A sorted-set member as fetched (score: integer milliseconds). */
typedef struct zm_s {
        ts_t m;
        int64_t s;
} zm_t;

#define NO_OP UINT32_MAX

/* A key the run met: a post record, a thread index it reads (t:, et:), or
 * a key it only writes. Fetched data lives for the exec; the run fields
 * are reset when a run first meets the key (run != the brand's run). */
typedef struct ent_s {
        ts_t key;
        uint32_t hash, next;
        uint8_t zset, want, have, bad;
        ts_t raw;       /* a record: its value (p NULL: no key) */
        zm_t *zm;       /* an index: its first zreq members by score... */
        uint32_t zn;    /* ...of which zn came back */
        uint32_t zreq;  /* 0: never asked */
        uint32_t run;   /* the run of the fields below */
        rec_t *rec;     /* current value (NULL: none) */
        uint8_t cached; /* rec is set for this run (or known absent) */
        char kind0;     /* kind when read ('\0': none) */
        uint8_t dirty, renew, fh, touched, ttl_touch;
        uint32_t zops, ztail; /* its queued member writes (the last per member wins) */
} ent_t;

/* A queued sorted-set (or FRT hash) member write; s nil: remove. */
typedef struct zop_s {
        uint32_t ent;
        ts_t m, s;
        uint32_t next, hnext, hash;
} zop_t;

typedef struct grp_s {
        ts_t ud, ld, pf, team;
        int64_t v[SC_TRACK_CTR_CNT];
} grp_t;

typedef struct evr_s {
        const char *kind;
        ts_t rca, frt;
        const rec_t *h;
} evr_t;

typedef struct breq_s {
        ts_t key, ca, rca, cal;
} breq_t;

/* An input record: its fields A[1..16] (strings; A[10], A[11] of a reply
 * are numbers) and its keys K1..K3. */
typedef struct inrec_s {
        ts_t A[17];
        int64_t now, window;
        int na;
        ts_t k1, k2, k3;
        int failed;    /* an error result: its input, or a key it met */
        int input_bad; /* (its input: failed whatever was read) */
        ts_t errmsg;
} inrec_t;

typedef struct bctx_s {
        const sc_track_engine_brand_t *in;
        ts_t P;
        inrec_t *recs;
        size_t nrec;
        ent_t *ents;
        uint32_t ent_n, ent_cap;
        uint32_t *tab; /* open hash: ent index + 1, 0 empty */
        uint32_t tab_mask;
        ts_t v_raw, wm_raw; /* as read */
        int have_base;      /* v and wm read */
        int state;          /* B_READ, B_RUN, B_COMMIT, B_DONE */
        int needs;          /* the run met data not fetched yet */
        uint32_t run;
        arena_t ra; /* the run's allocations */
        /* run state */
        uint32_t *dorder;
        uint32_t dn, dcap;
        zop_t *zops;
        uint32_t zn, zcap;
        uint32_t *ztab;
        uint32_t ztab_mask;
        uint32_t *zkeys; /* ents with queued member writes, in order */
        uint32_t zkn, zkcap;
        grp_t *grps;
        uint32_t gn, gcap;
        int64_t WM, WM_LAST;
        int WM_DIRTY;
        int64_t CLOCK;
        /* the current record's output */
        evr_t *ev;
        size_t ev_cap;
        int NEV;
        breq_t *bq;
        size_t bq_cap;
        int NB;
        char *ST;
        size_t st_cap;
        int STn;
        sc_track_engine_result_t *res;
        size_t res_cap;
        sc_buf_t out; /* result strings */
        size_t *roff; /* result offsets into out */
        size_t roff_cap;
        int record_bad; /* the current record met a bad key */
        int refailed;   /* a record failed: the run starts again without it */
        ts_t bad_msg;
} bctx_t;

enum { B_READ, B_RUN, B_COMMIT, B_DONE };

struct sc_track_engine_s {
        arena_t fa; /* fetched data and inputs, per exec */
        bctx_t *b;
        size_t bn, bcap;
        const sc_track_engine_result_t **resv;
        size_t resv_cap;
        const sc_track_engine_args_t *a;
        ts_t *ncal; /* calendars the worker computes */
        size_t ncal_n, ncal_cap;
        sc_buf_t arg;
        sc_buf_t pack;    /* a record's msgpack while a commit is built */
        const char **tav; /* a transaction command's arguments (into arg) */
        size_t *tlen, tcap;
        size_t *aoff, *alen;
        const char **av;
        size_t acap, an;
        uint64_t conflicts;
#ifdef SC_TEST_HOOKS
        void (*hook)(void *);
        void *hook_opaque;
#endif
        /* what was sent this round: per pipeline command, its brand and
         * kind */
        struct sent_s {
                uint32_t b, ent;
                int kind; /* S_BASE ... S_EXEC */
                uint32_t first, cnt;
        } * sent;
        size_t sent_n, sent_cap;
        uint32_t *mget; /* ents of the S_RECS MGETs, in order */
        size_t mget_n, mget_cap;
};

/* What a pipeline command was: a brand's reads (its version and watermark
 * with its first records, more records, a thread index), its commit script,
 * or a piece of the single-node transaction (WATCH of its version, MULTI, a
 * command of its commit, commit.lua with its FRT writes, EXEC). */
enum { S_BASE, S_RECS, S_ZSET, S_COMMIT, S_WATCH, S_MULTI, S_TX, S_TXS, S_EXEC };

/* Keys share their prefix: 8 bytes at a time, mixed at the end. */
static uint32_t hash_ts(ts_t s)
{
        uint64_t h = 0x9e3779b97f4a7c15ull ^ s.n;
        uint32_t i = 0;
        for (; i + 8 <= s.n; i += 8) {
                uint64_t w;
                memcpy(&w, s.p + i, 8);
                h = (h ^ w) * 0xff51afd7ed558ccdull;
                h ^= h >> 32;
        }
        uint64_t w = 0;
        if (s.n > i)
                memcpy(&w, s.p + i, s.n - i);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
        return (uint32_t)h;
}

/* Open addressing (entries, queued member writes): slot value = index + 1,
 * 0 empty; the tables are kept at most half full. */
static void otab_put(uint32_t *tab, uint32_t mask, uint32_t hash, uint32_t val)
{
        uint32_t j = hash & mask;
        while (tab[j])
                j = (j + 1) & mask;
        tab[j] = val;
}

static void tab_rehash(bctx_t *c, uint32_t size)
{
        free(c->tab);
        c->tab = sc_calloc(size, sizeof(*c->tab));
        c->tab_mask = size - 1;
        for (uint32_t i = 0; i < c->ent_n; i++)
                otab_put(c->tab, c->tab_mask, c->ents[i].hash, i + 1);
}

/* The entry of key (copied into the exec's arena when new). */
static ent_t *ent_get(sc_track_engine_t *e, bctx_t *c, ts_t key)
{
        uint32_t h = hash_ts(key);
        if (c->tab) {
                for (uint32_t j = h & c->tab_mask; c->tab[j]; j = (j + 1) & c->tab_mask) {
                        ent_t *x = &c->ents[c->tab[j] - 1];
                        if (x->hash == h && teq(x->key, key))
                                return x;
                }
        }
        if (!c->tab || (c->ent_n + 1) * 2 > c->tab_mask + 1)
                tab_rehash(c, c->tab ? (c->tab_mask + 1) * 2 : 256);
        size_t cap = c->ent_cap;
        SC_GROW(c->ents, cap, c->ent_n + 1);
        c->ent_cap = (uint32_t)cap;
        ent_t *x = &c->ents[c->ent_n];
        memset(x, 0, sizeof(*x));
        x->key = ar_str(&e->fa, key.p, key.n);
        x->hash = h;
        x->zops = NO_OP;
        otab_put(c->tab, c->tab_mask, h, ++c->ent_n);
        return x;
}

/* Run fields of x as this run starts with it. */
static ent_t *ent_run(bctx_t *c, ent_t *x)
{
        if (x->run != c->run) {
                x->run = c->run;
                x->rec = NULL;
                x->cached = 0;
                x->kind0 = 0;
                x->dirty = x->renew = x->fh = x->touched = x->ttl_touch = 0;
                x->zops = NO_OP;
        }
        return x;
}

static ts_t key2(bctx_t *c, const char *mid, ts_t a, ts_t b)
{
        /* P .. mid .. a .. ':' .. b */
        size_t ml = strlen(mid);
        size_t n = (size_t)c->P.n + ml + a.n + 1 + b.n;
        char *d = ar_alloc(&c->ra, n + 1);
        char *p = d;
        memcpy(p, c->P.p, c->P.n);
        p += c->P.n;
        memcpy(p, mid, ml);
        p += ml;
        memcpy(p, a.p, a.n);
        p += a.n;
        *p++ = ':';
        memcpy(p, b.p, b.n);
        p += b.n;
        *p = '\0';
        return (ts_t){d, (uint32_t)n};
}

static ts_t key1(bctx_t *c, const char *name)
{
        return ar_cat(&c->ra, c->P, tl(name), tl(""));
}

/* ---- get / put (prelude.lua) ---------------------------------------------- */

static void bad_key(bctx_t *c, ts_t key, const char *what)
{
        if (c->record_bad)
                return;
        c->record_bad = 1;
        char msg[512];
        int n = snprintf(msg, sizeof(msg), "key %.*s %s", (int)key.n, key.p, what);
        c->bad_msg = ar_str(&c->ra, msg, (size_t)n);
}

static rec_t *get(sc_track_engine_t *e, bctx_t *c, ts_t key)
{
        ent_t *x = ent_run(c, ent_get(e, c, key));
        if (x->cached)
                return x->rec;
        if (!x->have) {
                /* Not read yet: taken as absent for the rest of this run,
                 * which is run again once it is read. */
                x->want = 1;
                c->needs = 1;
                x->cached = 1;
                return NULL;
        }
        x->cached = 1;
        if (NIL(x->raw))
                return NULL;
        if (x->bad || rec_decode(&c->ra, x->raw, &x->rec)) {
                x->rec = NULL;
                bad_key(c, key, "does not hold a track record");
                return NULL;
        }
        x->kind0 = x->rec->f[F_K].p[0];
        return x->rec;
}

static void put(sc_track_engine_t *e, bctx_t *c, ts_t key, rec_t *r)
{
        ent_t *x = ent_run(c, ent_get(e, c, key));
        x->rec = r;
        x->cached = 1;
        if (!x->dirty) {
                x->dirty = 1;
                size_t cap = c->dcap;
                SC_GROW(c->dorder, cap, c->dn + 1);
                c->dcap = (uint32_t)cap;
                c->dorder[c->dn++] = (uint32_t)(x - c->ents);
        }
}

static rec_t *rec_new(bctx_t *c, char kind)
{
        rec_t *r = ar_alloc(&c->ra, sizeof(*r));
        memset(r, 0, sizeof(*r));
        char *k = ar_alloc(&c->ra, 2);
        k[0] = kind;
        k[1] = '\0';
        r->f[F_K] = (ts_t){k, 1};
        return r;
}

static void set_kind(bctx_t *c, rec_t *r, char kind)
{
        char *k = ar_alloc(&c->ra, 2);
        k[0] = kind;
        k[1] = '\0';
        r->f[F_K] = (ts_t){k, 1};
}

static char kind_of(const rec_t *r)
{
        return r && r->f[F_K].n ? r->f[F_K].p[0] : '\0';
}

/* The record at key now has a thread-held reply (mark_thread). */
static void mark_thread(sc_track_engine_t *e, bctx_t *c, ts_t rk)
{
        rec_t *r = get(e, c, rk);
        if (!r)
                r = rec_new(c, 'w');
        r->f[F_ET] = tl("1");
        ent_run(c, ent_get(e, c, rk))->renew = 1;
        put(e, c, rk, r);
}

/* ---- summed writes: counters, sorted sets, FRT hashes ---------------------- */

static grp_t *group(bctx_t *c, ts_t ud, ts_t ld, ts_t pf, ts_t team)
{
        for (uint32_t i = 0; i < c->gn; i++) {
                grp_t *g = &c->grps[i];
                if (teq(g->ud, ud) && teq(g->ld, ld) && teq(g->pf, pf) &&
                    teq(g->team, team))
                        return g;
        }
        size_t cap = c->gcap;
        SC_GROW(c->grps, cap, c->gn + 1);
        c->gcap = (uint32_t)cap;
        grp_t *g = &c->grps[c->gn++];
        memset(g, 0, sizeof(*g));
        g->ud = ud;
        g->ld = ld;
        g->pf = pf;
        g->team = team;
        return g;
}

static void bump(bctx_t *c, rec_t *h, int field, int64_t n)
{
        if (!h->g)
                h->g = group(c, h->f[F_UD], h->f[F_LD], h->f[F_PF], h->f[F_TEAM]);
        h->g->v[field] += n;
}

static void ztab_grow(bctx_t *c)
{
        uint32_t size = c->ztab ? (c->ztab_mask + 1) * 2 : 256;
        free(c->ztab);
        c->ztab = sc_calloc(size, sizeof(*c->ztab));
        c->ztab_mask = size - 1;
        for (uint32_t i = 0; i < c->zn; i++)
                otab_put(c->ztab, c->ztab_mask, c->zops[i].hash, i + 1);
}

static uint32_t zop_hash(uint32_t xi, ts_t m)
{
        return hash_ts(m) ^ (xi * 2654435761u);
}

/* The run's queued write of member m of entry xi, or NULL. */
static zop_t *zop_find(bctx_t *c, uint32_t xi, ts_t m)
{
        if (!c->ztab)
                return NULL;
        uint32_t h = zop_hash(xi, m);
        for (uint32_t j = h & c->ztab_mask; c->ztab[j]; j = (j + 1) & c->ztab_mask) {
                zop_t *o = &c->zops[c->ztab[j] - 1];
                if (o->hash == h && o->ent == xi && teq(o->m, m))
                        return o;
        }
        return NULL;
}

/* zset(key, m, s): s nil removes m; the last write wins. */
static void zset(sc_track_engine_t *e, bctx_t *c, ts_t key, ts_t m, ts_t s)
{
        ent_t *x = ent_run(c, ent_get(e, c, key));
        uint32_t xi = (uint32_t)(x - c->ents);
        uint32_t h = zop_hash(xi, m);
        zop_t *prev = zop_find(c, xi, m);
        if (prev) {
                prev->s = s;
                return;
        }
        if (!c->ztab || (c->zn + 1) * 2 > c->ztab_mask + 1)
                ztab_grow(c);
        size_t cap = c->zcap;
        SC_GROW(c->zops, cap, c->zn + 1);
        c->zcap = (uint32_t)cap;
        zop_t *o = &c->zops[c->zn];
        o->ent = xi;
        o->m = m;
        o->s = s;
        o->hash = h;
        o->next = NO_OP;
        if (x->zops == NO_OP) {
                size_t kc = c->zkcap;
                SC_GROW(c->zkeys, kc, c->zkn + 1);
                c->zkcap = (uint32_t)kc;
                c->zkeys[c->zkn++] = xi;
                x->zops = c->zn;
        } else {
                c->zops[x->ztail].next = c->zn;
        }
        x->ztail = c->zn;
        otab_put(c->ztab, c->ztab_mask, h, ++c->zn);
}

/* redis.call('ZADD'|'ZREM', ...) on a thread index, then EXPIRE TTL when
 * adding. */
static void zidx(sc_track_engine_t *e, bctx_t *c, ts_t key, ts_t m, ts_t s)
{
        zset(e, c, key, m, s);
        ent_t *x = ent_run(c, ent_get(e, c, key));
        x->zset = 1;
        if (!NIL(s))
                x->ttl_touch = 1;
}

/* FRT value of h in its day hashes (zput). */
static void zput(sc_track_engine_t *e, bctx_t *c, rec_t *h, const char *fam, int64_t ms,
                 int set)
{
        ts_t sep = tl("|");
        ts_t m0 = ar_cat(&c->ra, h->f[F_PF], sep, h->f[F_TEAM]);
        ts_t m = ar_cat(&c->ra, m0, sep, h->f[F_EID]);
        char mid[16];
        snprintf(mid, sizeof(mid), "%s:u:", fam);
        ts_t ku = ar_cat(&c->ra, c->P, tl(mid), h->f[F_UD]);
        snprintf(mid, sizeof(mid), "%s:l:", fam);
        ts_t kl = ar_cat(&c->ra, c->P, tl(mid), h->f[F_LD]);
        ent_t *xu = ent_run(c, ent_get(e, c, ku));
        xu->fh = 1;
        ent_t *xl = ent_run(c, ent_get(e, c, kl));
        xl->fh = 1;
        if (set) {
                ts_t s = ar_int(&c->ra, ms);
                zset(e, c, ku, m, s);
                zset(e, c, kl, m, s);
                ent_run(c, ent_get(e, c, ku))->touched = 1;
                ent_run(c, ent_get(e, c, kl))->touched = 1;
        } else {
                zset(e, c, ku, m, TNIL);
                zset(e, c, kl, m, TNIL);
        }
}

static int bucket(int64_t ms)
{
        if (ms < 900000)
                return 0;
        if (ms < 3600000)
                return 1;
        if (ms < 14400000)
                return 2;
        if (ms < 28800000)
                return 3;
        if (ms < 86400000)
                return 4;
        return 5;
}

static void frt_count(sc_track_engine_t *e, bctx_t *c, rec_t *h, int64_t frt, int sign)
{
        bump(c, h, SC_TRACK_FRT_SUM_MS, sign * frt);
        bump(c, h, SC_TRACK_FRT_B0 + bucket(frt), sign);
        zput(e, c, h, "f", frt, sign > 0);
}

/* ---- reading a thread index (ZRANGEBYSCORE with this run's writes) -------- */

static int zm_cmp(const zm_t *a, const zm_t *b)
{
        if (a->s != b->s)
                return a->s < b->s ? -1 : 1;
        return tcmp(a->m, b->m);
}

static int zm_qcmp(const void *a, const void *b)
{
        return zm_cmp(a, b);
}

/* The index at key as this run sees it, in Redis order, into *out (run
 * arena): 0, or -1 when its fetched part may not hold what the caller
 * needs (*partial: the last fetched member bounds what is known). */
static uint32_t zview(sc_track_engine_t *e, bctx_t *c, ts_t key, zm_t **out, int *partial,
                      zm_t *bound)
{
        ent_t *x = ent_run(c, ent_get(e, c, key));
        x->zset = 1;
        *partial = 0;
        if (!x->have) {
                x->want = 1;
                if (!x->zreq)
                        x->zreq = 16;
                c->needs = 1;
                *out = NULL;
                return UINT32_MAX;
        }
        if (x->bad) {
                bad_key(c, key, "holds a value of the wrong type");
                *out = NULL;
                return 0;
        }
        if (x->zn == x->zreq && x->zn) {
                *partial = 1;
                *bound = x->zm[x->zn - 1];
        }
        if (x->zops == NO_OP) {
                /* nothing written to it in this run: as fetched (sorted) */
                *out = x->zm;
                return x->zn;
        }
        /* the fetched members this run did not write, and the members it
         * added (sorted apart: usually few), merged */
        uint32_t xi = (uint32_t)(x - c->ents), na = 0, nf = 0;
        for (uint32_t o = x->zops; o != NO_OP; o = c->zops[o].next)
                na += !NIL(c->zops[o].s);
        zm_t *f = ar_alloc(&c->ra, (x->zn ? x->zn : 1) * sizeof(*f));
        zm_t *ad = ar_alloc(&c->ra, (na ? na : 1) * sizeof(*ad));
        zm_t *v = ar_alloc(&c->ra, (x->zn + na ? x->zn + na : 1) * sizeof(*v));
        for (uint32_t i = 0; i < x->zn; i++)
                if (!zop_find(c, xi, x->zm[i].m))
                        f[nf++] = x->zm[i];
        na = 0;
        for (uint32_t o = x->zops; o != NO_OP; o = c->zops[o].next)
                if (!NIL(c->zops[o].s))
                        ad[na++] = (zm_t){c->zops[o].m, tnum(c->zops[o].s)};
        qsort(ad, na, sizeof(*ad), zm_qcmp);
        uint32_t i = 0, j = 0, n = 0;
        while (i < nf || j < na)
                v[n++] =
                    j == na || (i < nf && zm_cmp(&f[i], &ad[j]) <= 0) ? f[i++] : ad[j++];
        *out = v;
        return n;
}

static void zmore(bctx_t *c, ent_t *x)
{
        x->want = 1;
        x->have = 0;
        x->zreq *= 4;
        c->needs = 1;
}

/* ZRANGEBYSCORE key -inf max LIMIT 0 lim: into out, the count. */
static uint32_t zrange_upto(sc_track_engine_t *e, bctx_t *c, ts_t key, int64_t max,
                            uint32_t lim, ts_t *out)
{
        zm_t *v, bound;
        int partial;
        uint32_t n = zview(e, c, key, &v, &partial, &bound);
        if (n == UINT32_MAX)
                return 0;
        uint32_t k = 0;
        for (uint32_t i = 0; i < n && k < lim && v[i].s <= max; i++) {
                if (partial && zm_cmp(&v[i], &bound) > 0) {
                        zmore(c, ent_get(e, c, key));
                        return 0;
                }
                out[k++] = v[i].m;
        }
        if (partial && k < lim && bound.s <= max) {
                zmore(c, ent_get(e, c, key));
                return 0;
        }
        return k;
}

/* ZRANGEBYSCORE key min +inf LIMIT 0 1. */
static ts_t zfirst_from(sc_track_engine_t *e, bctx_t *c, ts_t key, int64_t min)
{
        zm_t *v, bound;
        int partial;
        uint32_t n = zview(e, c, key, &v, &partial, &bound);
        if (n == UINT32_MAX)
                return TNIL;
        for (uint32_t i = 0; i < n; i++)
                if (v[i].s >= min) {
                        if (partial && zm_cmp(&v[i], &bound) > 0)
                                break;
                        return v[i].m;
                }
        if (partial)
                zmore(c, ent_get(e, c, key));
        return TNIL;
}

/* ---- a record's output (prelude.lua ev, breq, status, result) ------------ */

static void out_reset(bctx_t *c)
{
        c->NEV = c->NB = c->STn = 0;
}

static void ev(bctx_t *c, const rec_t *h, const char *kind)
{
        SC_GROW(c->ev, c->ev_cap, (size_t)c->NEV + 1);
        evr_t *v = &c->ev[c->NEV++];
        v->kind = kind;
        v->rca = NIL(h->f[F_RCA]) ? tl("") : h->f[F_RCA];
        v->frt = NIL(h->f[F_FRT]) ? tl("") : h->f[F_FRT];
        v->h = h;
}

static void ev_breach(bctx_t *c, const rec_t *h)
{
        ev(c, h, "breach");
        c->ev[c->NEV - 1].rca = tl("");
        c->ev[c->NEV - 1].frt = tl("");
}

static void breq(bctx_t *c, ts_t key, ts_t ca, ts_t rca, ts_t cal)
{
        SC_GROW(c->bq, c->bq_cap, (size_t)c->NB + 1);
        c->bq[c->NB++] = (breq_t){key, ca, rca, NIL(cal) ? tl("") : cal};
}

static void status(bctx_t *c, char code)
{
        SC_GROW(c->ST, c->st_cap, (size_t)c->STn + 1);
        c->ST[c->STn++] = code;
}

static void put0(sc_buf_t *b, const char *s, size_t n)
{
        sc_buf_putc(b, '\0');
        sc_buf_append(b, s, n);
}

static void putt(sc_buf_t *b, ts_t s)
{
        put0(b, s.p ? s.p : "", s.n);
}

static void post_part(sc_buf_t *b, const rec_t *h)
{
        put0(b, "P", 1);
        putt(b, h->f[F_EID]);
        putt(b, h->f[F_PF]);
        putt(b, h->f[F_PID]);
        putt(b, h->f[F_TEAM]);
        putt(b, h->f[F_PRIO]);
        putt(b, h->f[F_CA]);
        putt(b, NIL(h->f[F_DUE]) ? tl("0") : h->f[F_DUE]);
        putt(b, h->f[F_URL]);
        putt(b, h->f[F_TXT]);
}

/* The current record's result string, appended to c->out. */
static void result(bctx_t *c)
{
        sc_buf_t *b = &c->out;
        sc_buf_append(b, c->ST, (size_t)c->STn);
        for (int i = 0; i < c->NB; i++) {
                put0(b, "B", 1);
                putt(b, c->bq[i].key);
                putt(b, c->bq[i].ca);
                putt(b, c->bq[i].rca);
                putt(b, c->bq[i].cal);
        }
        for (int i = 0; i < c->NEV; i++) {
                put0(b, "E", 1);
                put0(b, c->ev[i].kind, strlen(c->ev[i].kind));
                putt(b, c->ev[i].rca);
                putt(b, c->ev[i].frt);
        }
        if (c->NEV > 0)
                post_part(b, c->ev[c->NEV - 1].h);
}

/* kept(pk): what a replay of this record returns again. */
static kept_t kept(bctx_t *c, ts_t pk)
{
        kept_t k = {{TNIL, TNIL, TNIL}, 0};
        if (c->NEV == 0 && c->NB == 0)
                return k;
        size_t n = 0;
        for (int i = 0; i < c->NEV; i++)
                n += strlen(c->ev[i].kind) + 1;
        char *d = ar_alloc(&c->ra, n + 1);
        size_t o = 0;
        for (int i = 0; i < c->NEV; i++) {
                if (i)
                        d[o++] = ',';
                size_t l = strlen(c->ev[i].kind);
                memcpy(d + o, c->ev[i].kind, l);
                o += l;
        }
        d[o] = '\0';
        k.v[0] = pk;
        k.v[1] = (ts_t){d, (uint32_t)o};
        k.n = 2;
        if (c->NB > 0) {
                k.v[2] = tl("1");
                k.n = 3;
        }
        return k;
}

static const char *kind_lit(ts_t k)
{
        static const char *const kinds[] = {"breach", "hit", "late", "recovered"};
        for (size_t i = 0; i < 4; i++)
                if (tis(k, kinds[i]))
                        return kinds[i];
        return NULL;
}

static void replay(sc_track_engine_t *e, bctx_t *c, const kept_t *r)
{
        rec_t *h = r && r->n ? get(e, c, r->v[0]) : NULL;
        if (h && kind_of(h) == 'i') {
                ts_t ks = r->v[1];
                uint32_t i = 0;
                while (i < ks.n) {
                        uint32_t j = i;
                        while (j < ks.n && ks.p[j] != ',')
                                j++;
                        const char *kind = kind_lit((ts_t){ks.p + i, j - i});
                        if (kind && !strcmp(kind, "breach"))
                                ev_breach(c, h);
                        else if (kind)
                                ev(c, h, kind);
                        i = j + 1;
                }
                if (r->n > 2 && !NIL(r->v[2]) && !NIL(h->f[F_RCA]))
                        breq(c, r->v[0], h->f[F_CA], h->f[F_RCA], h->f[F_CAL]);
        }
        status(c, 'd');
}

/* ---- the logic (prelude.lua take_early, thread_open, apply_reply) -------- */

static int needs_cal(sc_track_engine_t *e, ts_t cal)
{
        for (size_t i = 0; i < e->ncal_n; i++)
                if (teq(e->ncal[i], cal))
                        return 1;
        return 0;
}

static void business(sc_track_engine_t *e, bctx_t *c, ts_t key, rec_t *h)
{
        if (!NIL(h->f[F_CAL]) && needs_cal(e, h->f[F_CAL])) {
                breq(c, key, h->f[F_CA], h->f[F_RCA], h->f[F_CAL]);
                return;
        }
        h->f[F_BF] = h->f[F_FRT];
        bump(c, h, SC_TRACK_BFRT_SUM_MS, tnum(h->f[F_BF]));
        bump(c, h, SC_TRACK_BFRT_N, 1);
}

static void recovered(bctx_t *c, rec_t *h)
{
        ev(c, h, "hit");
        if (!NIL(h->f[F_BX])) {
                ev(c, h, "recovered");
                h->f[F_BX] = TNIL;
        }
}

static ts_t pfm(bctx_t *c, ts_t pf, ts_t id)
{
        return ar_cat(&c->ra, pf, tl(":"), id);
}

/* A brand reply (event reid, created rca) answers the inbound post h. */
static char apply_reply(sc_track_engine_t *e, bctx_t *c, ts_t key, rec_t *h, ts_t reid,
                        int64_t rca, ts_t rcas)
{
        int64_t clock = c->CLOCK, grace = e->a->grace_ms;
        if (!tis(h->f[F_NR], "1")) {
                bump(c, h, SC_TRACK_REPLIED_NO_NEED, 1);
                return 'n';
        }
        int64_t due = tnum(h->f[F_DUE]);
        int64_t ca = tnum(h->f[F_CA]);
        int64_t frt = rca - ca;
        if (frt < 0)
                frt = 0;
        if (!NIL(h->f[F_RCA])) {
                int64_t old = tnum(h->f[F_RCA]);
                bump(c, h, SC_TRACK_EXTRA_REPLIES, 1);
                if (rca >= old)
                        return 'x';
                frt_count(e, c, h, tnum(h->f[F_FRT]), -1);
                if (!NIL(h->f[F_BF])) {
                        bump(c, h, SC_TRACK_BFRT_SUM_MS, -tnum(h->f[F_BF]));
                        bump(c, h, SC_TRACK_BFRT_N, -1);
                        zput(e, c, h, "bf", 0, 0);
                        h->f[F_BF] = TNIL;
                }
                h->f[F_RCA] = ar_int(&c->ra, rca);
                h->f[F_REID] = reid;
                h->f[F_FRT] = ar_int(&c->ra, frt);
                frt_count(e, c, h, frt, 1);
                if (due > 0 && old > due && rca <= due) {
                        bump(c, h, SC_TRACK_LATE, -1);
                        bump(c, h, SC_TRACK_SLA_MISSED, -1);
                        bump(c, h, SC_TRACK_SLA_HIT, 1);
                        h->f[F_OC] = tl("hit");
                        if (tis(h->f[F_ST], "lb")) {
                                h->f[F_ST] = tl("done");
                                zset(e, c, key1(c, "lb"), pfm(c, h->f[F_PF], h->f[F_PID]),
                                     TNIL);
                                ev(c, h, "hit");
                        } else {
                                /* a late the timer decided and has not
                                 * delivered yet is not true any more */
                                zset(e, c, key1(c, "outbox"),
                                     ar_cat(&c->ra, tl("late|"), h->f[F_PF],
                                            ar_cat(&c->ra, tl(":"), h->f[F_PID], tl(""))),
                                     TNIL);
                                recovered(c, h);
                        }
                }
                business(e, c, key, h);
                put(e, c, key, h);
                return 'e';
        }
        ts_t st = h->f[F_ST];
        h->f[F_RCA] = NIL(rcas) ? ar_int(&c->ra, rca) : rcas;
        h->f[F_REID] = reid;
        h->f[F_FRT] = ar_int(&c->ra, frt);
        h->f[F_ST] = tl("done");
        bump(c, h, SC_TRACK_REPLIED, 1);
        frt_count(e, c, h, frt, 1);
        if (h->f[F_TH].n && !teq(h->f[F_TH], h->f[F_PID]))
                zidx(e, c, key2(c, "t:", h->f[F_PF], h->f[F_TH]), h->f[F_PID], TNIL);
        if (due > 0) {
                if (tis(st, "open")) {
                        zset(e, c, key1(c, "pending"), pfm(c, h->f[F_PF], h->f[F_PID]),
                             TNIL);
                        bump(c, h, SC_TRACK_PENDING, -1);
                }
                if (rca <= due) {
                        bump(c, h, SC_TRACK_SLA_HIT, 1);
                        h->f[F_OC] = tl("hit");
                        if (tis(st, "missed")) {
                                bump(c, h, SC_TRACK_SLA_MISSED, -1);
                                recovered(c, h);
                        } else {
                                ev(c, h, "hit");
                        }
                } else {
                        bump(c, h, SC_TRACK_LATE, 1);
                        h->f[F_OC] = tl("late");
                        if (tis(st, "open")) {
                                bump(c, h, SC_TRACK_SLA_MISSED, 1);
                                if (clock > due + grace) {
                                        ev_breach(c, h);
                                        h->f[F_BX] = tl("1");
                                        ev(c, h, "late");
                                } else {
                                        h->f[F_ST] = tl("lb");
                                        zset(e, c, key1(c, "lb"),
                                             pfm(c, h->f[F_PF], h->f[F_PID]),
                                             h->f[F_DUE]);
                                }
                        } else {
                                ev(c, h, "late");
                        }
                }
        }
        business(e, c, key, h);
        put(e, c, key, h);
        return 'f';
}

/* A held reply leaving its hold: 0 (not held any more), or 1 with its hold
 * in h and its event id in *eid. */
static int take_early(sc_track_engine_t *e, bctx_t *c, ts_t pf, ts_t rid, ts_t *h,
                      ts_t *eid)
{
        ts_t ok = key2(c, "p:", pf, rid);
        rec_t *o = get(e, c, ok);
        zset(e, c, key1(c, "early"), pfm(c, pf, rid), TNIL);
        if (!o || !o->has_h)
                return 0;
        memcpy(h, o->h, sizeof(o->h));
        for (int i = 0; i < H_CNT; i++)
                if (NIL(h[i]))
                        h[i] = tl("");
        *eid = o->f[F_BE];
        o->has_h = 0;
        memset(o->h, 0, sizeof(o->h));
        put(e, c, ok, o);
        if (h[H_PAR].n) {
                ts_t pk = key2(c, "p:", pf, h[H_PAR]);
                rec_t *p = get(e, c, pk);
                if (p && p->w.n) {
                        for (uint32_t i = 0; i < p->w.n; i++)
                                if (teq(p->w.v[i], rid)) {
                                        memmove(&p->w.v[i], &p->w.v[i + 1],
                                                (p->w.n - i - 1) * sizeof(ts_t));
                                        p->w.n--;
                                        break;
                                }
                        if (kind_of(p) == 'w' && !p->w.n && NIL(p->f[F_ET]))
                                put(e, c, pk, NULL);
                        else
                                put(e, c, pk, p);
                }
        }
        if (tis(h[H_TR], "1") && h[H_TH].n)
                zidx(e, c, key2(c, "et:", pf, h[H_TH]), rid, TNIL);
        return 1;
}

/* The oldest unanswered needs-reply post of a thread created <= rca. */
static rec_t *thread_open(sc_track_engine_t *e, bctx_t *c, ts_t pf, ts_t th, int64_t rca,
                          ts_t *bk)
{
        if (!th.n)
                return NULL;
        rec_t *bh = NULL;
        int64_t bca = 0;
        ts_t bid = TNIL;
        ts_t rk = key2(c, "p:", pf, th);
        rec_t *r = get(e, c, rk);
        if (r && kind_of(r) == 'i' && tis(r->f[F_NR], "1") && NIL(r->f[F_RCA]) &&
            tnum(r->f[F_CA]) <= rca) {
                *bk = rk;
                bh = r;
                bca = tnum(r->f[F_CA]);
                bid = th;
        }
        ts_t tk = key2(c, "t:", pf, th);
        ts_t cand[8];
        uint32_t n = zrange_upto(e, c, tk, rca, 8, cand);
        for (uint32_t i = 0; i < n; i++) {
                ts_t ck = key2(c, "p:", pf, cand[i]);
                rec_t *ch = get(e, c, ck);
                if (ch && kind_of(ch) == 'i' && NIL(ch->f[F_RCA])) {
                        int64_t ca = tnum(ch->f[F_CA]);
                        if (!bh || ca < bca || (ca == bca && tcmp(cand[i], bid) < 0)) {
                                *bk = ck;
                                bh = ch;
                        }
                        break;
                }
                zidx(e, c, tk, cand[i], TNIL);
        }
        return bh;
}

/* ---- the records (batch.lua) --------------------------------------------- */

#define RB_MAX 16

static void inbound(sc_track_engine_t *e, bctx_t *c, const inrec_t *in)
{
        const ts_t *A = in->A;
        ts_t key = in->k1;
        rec_t *old = get(e, c, key);
        if (old && kind_of(old) == 'i') {
                if (teq(old->f[F_EID], A[2])) {
                        replay(e, c, &old->r);
                        return;
                }
                status(c, 'd');
                return;
        }
        rec_t *h = rec_new(c, 'i');
        h->f[F_EID] = A[2];
        h->f[F_PF] = A[3];
        h->f[F_PID] = A[4];
        h->f[F_TH] = A[5];
        h->f[F_TEAM] = A[6];
        h->f[F_UD] = A[8];
        h->f[F_LD] = A[9];
        h->f[F_CA] = A[10];
        h->f[F_NR] = A[11];
        if (old) {
                h->f[F_BE] = old->f[F_BE];
                h->br = old->br;
                h->f[F_ET] = old->f[F_ET];
        }
        int nr = tis(h->f[F_NR], "1");
        if (nr) {
                h->f[F_ST] = tl("open");
                if (A[13].n && !tis(A[13], "24x7"))
                        h->f[F_CAL] = A[13];
                if (tnum(A[12]) > 0) {
                        h->f[F_DUE] = A[12];
                        h->f[F_PRIO] = A[7];
                        h->f[F_URL] = A[14];
                        h->f[F_TXT] = A[15];
                }
        } else {
                h->f[F_ST] = tl("nn");
        }
        put(e, c, key, h);
        bump(c, h, SC_TRACK_RECEIVED, 1);
        status(c, 'i');
        if (nr) {
                bump(c, h, SC_TRACK_NEEDS_REPLY, 1);
                if (!NIL(h->f[F_DUE])) {
                        bump(c, h, SC_TRACK_WITH_DUE, 1);
                        bump(c, h, SC_TRACK_PENDING, 1);
                        zset(e, c, key1(c, "pending"), pfm(c, h->f[F_PF], h->f[F_PID]),
                             h->f[F_DUE]);
                }
                if (h->f[F_TH].n && !teq(h->f[F_TH], h->f[F_PID]))
                        zidx(e, c, key2(c, "t:", h->f[F_PF], h->f[F_TH]), h->f[F_PID],
                             h->f[F_CA]);
        }
        if (old && old->w.n) {
                for (uint32_t i = 0; i < old->w.n; i++) {
                        ts_t hold[H_CNT], eid;
                        if (take_early(e, c, h->f[F_PF], old->w.v[i], hold, &eid)) {
                                status(c, apply_reply(e, c, key, h, eid, tnum(hold[H_CA]),
                                                      hold[H_CA]));
                                status(c, 'c');
                        }
                }
        }
        rec_t *root = h;
        if (!NIL(in->k2))
                root = get(e, c, in->k2);
        if (nr && NIL(h->f[F_RCA]) && h->f[F_TH].n && root && !NIL(root->f[F_ET])) {
                ts_t tk = key2(c, "et:", h->f[F_PF], h->f[F_TH]);
                ts_t first = zfirst_from(e, c, tk, tnum(h->f[F_CA]));
                if (!NIL(first)) {
                        ts_t hold[H_CNT], eid;
                        int held = take_early(e, c, h->f[F_PF], first, hold, &eid);
                        zidx(e, c, tk, first, TNIL);
                        if (held) {
                                status(c, apply_reply(e, c, key, h, eid, tnum(hold[H_CA]),
                                                      hold[H_CA]));
                                status(c, 'c');
                        }
                }
        }
        h->r = kept(c, key);
}

static uint32_t rb_find(const rec_t *h, ts_t pid)
{
        if (!h || !h->rb.n)
                return 0;
        for (uint32_t j = 0; j + 3 < h->rb.n; j += 4)
                if (teq(h->rb.v[j], pid))
                        return j + 1;
        return 0;
}

static void rb_put(bctx_t *c, rec_t *h, ts_t pid, ts_t eid, const kept_t *r)
{
        uint32_t j = rb_find(h, pid);
        ts_t kinds = r->n ? r->v[1] : tl("");
        ts_t b = r->n > 2 && !NIL(r->v[2]) ? r->v[2] : tl("");
        if (j) {
                h->rb.v[j - 1] = pid;
                h->rb.v[j] = eid;
                h->rb.v[j + 1] = kinds;
                h->rb.v[j + 2] = b;
                return;
        }
        tl_push(&c->ra, &h->rb, pid);
        tl_push(&c->ra, &h->rb, eid);
        tl_push(&c->ra, &h->rb, kinds);
        tl_push(&c->ra, &h->rb, b);
}

static void reply(sc_track_engine_t *e, bctx_t *c, const inrec_t *in)
{
        const ts_t *A = in->A;
        ts_t eid = A[2], pf = A[3], pid = A[4], par = A[5], th = A[6];
        int64_t rca = tnum(A[7]);
        ts_t ok = in->k1, pk = in->k2, rk = in->k3;
        rec_t *own = get(e, c, ok);
        if (own && teq(own->f[F_BE], eid)) {
                replay(e, c, &own->br);
                return;
        }
        rec_t *ph = NULL;
        if (par.n)
                ph = get(e, c, pk);
        int inroot = ph && kind_of(ph) == 'i' && teq(par, th);
        if (inroot) {
                uint32_t j = rb_find(ph, pid);
                if (j && teq(ph->rb.v[j], eid)) {
                        ts_t b = ph->rb.v[j + 2];
                        kept_t r = {{pk, ph->rb.v[j + 1], b.n ? b : TNIL}, 3};
                        replay(e, c, &r);
                        return;
                }
                inroot = !own && (j || ph->rb.n < RB_MAX * 4);
        }
        if (!inroot) {
                if (!own)
                        own = rec_new(c, 'b');
                else if (kind_of(own) == 'w')
                        set_kind(c, own, 'b');
                own->f[F_BE] = eid;
                own->br.n = 0;
                put(e, c, ok, own);
        }
        ts_t tkey = TNIL;
        rec_t *t = NULL;
        int thread_rule = !par.n || (ph && kind_of(ph) == 'b') ||
                          (!ph && !NIL(rk) && rb_find(get(e, c, rk), par));
        if (ph && kind_of(ph) == 'i') {
                tkey = pk;
                t = ph;
        } else if (thread_rule) {
                t = thread_open(e, c, pf, th, rca, &tkey);
        }
        ts_t tk = TNIL;
        if (t) {
                tk = tkey;
                status(c, apply_reply(e, c, tkey, t, eid, rca, A[7]));
                status(c, 'm');
        } else {
                own->has_h = 1;
                own->h[H_CA] = A[7];
                own->h[H_PAR] = par;
                own->h[H_TH] = th;
                own->h[H_UD] = A[8];
                own->h[H_LD] = A[9];
                own->h[H_TR] = tl(thread_rule ? "1" : "0");
                if (par.n && !thread_rule) {
                        if (!ph)
                                ph = rec_new(c, 'w');
                        tl_push(&c->ra, &ph->w, pid);
                        put(e, c, pk, ph);
                }
                if (thread_rule && th.n) {
                        zidx(e, c, key2(c, "et:", pf, th), pid, A[7]);
                        mark_thread(e, c, key2(c, "p:", pf, th));
                }
                zset(e, c, key1(c, "early"), pfm(c, pf, pid),
                     ar_int(&c->ra, in->now + in->window));
                status(c, 'y');
        }
        kept_t k = kept(c, tk);
        if (inroot) {
                rb_put(c, ph, pid, eid, &k);
                ent_run(c, ent_get(e, c, pk))->renew = 1;
                put(e, c, pk, ph);
        } else {
                own->br = k;
        }
}

static void brand_post(sc_track_engine_t *e, bctx_t *c, const inrec_t *in)
{
        rec_t *r = get(e, c, in->k1);
        if (!r) {
                put(e, c, in->k1, rec_new(c, 'b'));
        } else if (kind_of(r) == 'w') {
                set_kind(c, r, 'b');
                put(e, c, in->k1, r);
        }
}

/* ---- inputs ------------------------------------------------------------- */

static int decode_input(sc_track_engine_t *e, bctx_t *c, inrec_t *r, const char *p,
                        size_t n)
{
        mr_t m = {(const unsigned char *)p, (const unsigned char *)p + n, 0};
        uint64_t cnt;
        memset(r, 0, sizeof(*r));
        if (mr_head(&m, &cnt) != 'a' || cnt > 16)
                return -1;
        r->na = (int)cnt;
        for (uint64_t i = 1; i <= cnt && !m.bad; i++) {
                uint64_t v;
                const unsigned char *at = m.p;
                int t = mr_head(&m, &v);
                if (t == 'i') {
                        if (i == 10)
                                r->now = (int64_t)v;
                        else if (i == 11)
                                r->window = (int64_t)v;
                        r->A[i] = ar_int(&e->fa, (int64_t)v);
                        continue;
                }
                m.p = at;
                ts_t s = mr_scalar(&m, &e->fa);
                r->A[i] = NIL(s) ? tl("") : ar_str(&e->fa, s.p, s.n);
        }
        if (m.bad || !r->A[1].n)
                return -1;
        for (int i = (int)cnt + 1; i < 17; i++)
                r->A[i] = tl("");
        /* the keys it names (batch.lua K1..K3) */
        arena_t *a = &e->fa;
        ts_t pp = ar_cat(a, c->P, tl("p:"), tl(""));
        char t = r->A[1].p[0];
        if (t == 'i') {
                ts_t pf = ar_cat(a, pp, r->A[3], tl(":"));
                r->k1 = ar_cat(a, pf, r->A[4], tl(""));
                if (r->A[5].n && !teq(r->A[5], r->A[4]) && tis(r->A[11], "1"))
                        r->k2 = ar_cat(a, pf, r->A[5], tl(""));
        } else if (t == 'r') {
                ts_t pf = ar_cat(a, pp, r->A[3], tl(":"));
                r->k1 = ar_cat(a, pf, r->A[4], tl(""));
                if (r->A[5].n)
                        r->k2 = ar_cat(a, pf, r->A[5], tl(""));
                if (r->A[5].n && r->A[6].n && !teq(r->A[6], r->A[5]))
                        r->k3 = ar_cat(a, pf, r->A[6], tl(""));
        } else if (t == 'b') {
                ts_t pf = ar_cat(a, pp, r->A[2], tl(":"));
                r->k1 = ar_cat(a, pf, r->A[3], tl(""));
        } else {
                return -1;
        }
        return 0;
}

/* ---- a run ------------------------------------------------------------------ */

static void wm_load(bctx_t *c)
{
        c->WM = c->WM_LAST = 0;
        ts_t v = c->wm_raw;
        if (NIL(v))
                return;
        const char *bar = memchr(v.p, '|', v.n);
        if (!bar)
                return;
        c->WM = tnum((ts_t){v.p, (uint32_t)(bar - v.p)});
        c->WM_LAST = tnum((ts_t){bar + 1, (uint32_t)(v.p + v.n - bar - 1)});
}

static void run_brand(sc_track_engine_t *e, bctx_t *c)
{
        const sc_track_engine_args_t *a = e->a;
        c->run++;
        if (!c->run)
                c->run = 1;
        ar_reset(&c->ra);
        c->needs = 0;
        c->refailed = 0;
        c->dn = c->zn = c->zkn = c->gn = 0;
        if (c->ztab)
                memset(c->ztab, 0, (c->ztab_mask + 1) * sizeof(*c->ztab));
        sc_buf_reset(&c->out);
        wm_load(c);
        c->WM_DIRTY = 0;
        if (c->in->wm > 0) {
                if (c->in->wm > c->WM)
                        c->WM = c->in->wm;
                c->WM_LAST = a->now_ms;
                c->WM_DIRTY = 1;
        }
        if (c->WM_LAST == 0) {
                c->WM_LAST = a->now_ms;
                c->WM_DIRTY = 1;
        }
        if (a->now_ms - c->WM_LAST >= a->idle_ms) {
                c->CLOCK = a->now_ms;
        } else {
                c->CLOCK = c->WM - a->lateness_ms;
                if (c->CLOCK > a->now_ms)
                        c->CLOCK = a->now_ms;
        }
        SC_GROW(c->roff, c->roff_cap, c->nrec + 1);
        for (size_t i = 0; i < c->nrec; i++) {
                inrec_t *in = &c->recs[i];
                c->roff[i] = c->out.len;
                if (in->failed)
                        continue;
                out_reset(c);
                c->record_bad = 0;
                switch (in->A[1].p[0]) {
                case 'i':
                        inbound(e, c, in);
                        break;
                case 'r':
                        reply(e, c, in);
                        break;
                default:
                        brand_post(e, c, in);
                        break;
                }
                if (c->record_bad) {
                        if (!c->needs) {
                                /* its own data failed it: an error, and
                                 * the brand again without it */
                                in->failed = 1;
                                in->errmsg = ar_str(&e->fa, c->bad_msg.p, c->bad_msg.n);
                                c->refailed = 1;
                        }
                        return;
                }
                if (c->needs)
                        continue;
                result(c);
        }
        c->roff[c->nrec] = c->out.len;
}

/* ---- commit ------------------------------------------------------------- */

static void a_reset(sc_track_engine_t *e)
{
        sc_buf_reset(&e->arg);
        e->an = 0;
}

static void a_add(sc_track_engine_t *e, const char *p, size_t n)
{
        if (e->an == e->acap) {
                size_t cap = e->acap ? e->acap * 2 : 256;
                e->aoff = sc_realloc(e->aoff, cap * sizeof(*e->aoff));
                e->alen = sc_realloc(e->alen, cap * sizeof(*e->alen));
                e->av = sc_realloc((void *)e->av, cap * sizeof(*e->av));
                e->acap = cap;
        }
        e->aoff[e->an] = e->arg.len;
        e->alen[e->an++] = n;
        sc_buf_append(&e->arg, p ? p : "", n);
}

static void a_ts(sc_track_engine_t *e, ts_t s)
{
        a_add(e, s.p, s.n);
}

static void a_lit(sc_track_engine_t *e, const char *s)
{
        a_add(e, s, strlen(s));
}

static void a_num(sc_track_engine_t *e, int64_t v)
{
        char num[24];
        a_add(e, num, sc_mp_decimal(num, v));
}

static int a_send(sc_track_engine_t *e, sc_redis_t *r, sc_redis_script_t *s)
{
        for (size_t i = 0; i < e->an; i++)
                e->av[i] = e->arg.data + e->aoff[i];
        return sc_redis_append_script(r, s, 1, (int)e->an, e->av, e->alen);
}

/* ---- the single-node commit: MULTI ... EXEC under WATCH ----------------
 *
 * On one node (not a cluster) the brands' versions are WATCHed before their
 * first read and every brand of the run commits in one MULTI/EXEC of the
 * commands commit.lua would run: the server aborts the whole EXEC when any
 * version changed since (nothing written; every brand is read again), so the
 * check is the same and the writes cost no interpreter. A cluster cannot
 * (a transaction is one slot, and EXEC unwatches every key of the
 * connection): there each brand commits through commit.lua. */

static void sent_push(sc_track_engine_t *e, uint32_t b, uint32_t ent, int kind,
                      uint32_t first, uint32_t cnt);

static void t_push(sc_track_engine_t *e, size_t *n, const char *p, size_t len)
{
        if (*n == e->tcap) {
                e->tcap = e->tcap ? e->tcap * 2 : 64;
                e->tav = sc_realloc((void *)e->tav, e->tcap * sizeof(*e->tav));
                e->tlen = sc_realloc(e->tlen, e->tcap * sizeof(*e->tlen));
        }
        e->tav[*n] = p;
        e->tlen[(*n)++] = len;
}

/* Queues the n arguments t_push gathered as one command of brand bi inside
 * the transaction. */
static int t_cmd(sc_track_engine_t *e, sc_redis_t *r, uint32_t bi, size_t n)
{
        sent_push(e, bi, 0, S_TX, 0, 0);
        return sc_redis_append(r, (int)n, e->tav, e->tlen);
}

static size_t a_count(const sc_track_engine_t *e, size_t i)
{
        size_t v = 0;
        for (size_t k = 0; k < e->alen[i]; k++)
                v = v * 10 + (size_t)(e->av[i][k] - '0');
        return v;
}

/* The number of arguments of the operation at av[i], its code included
 * (commit.lua's list). */
static size_t op_len(const sc_track_engine_t *e, size_t i)
{
        switch (e->av[i][0]) {
        case 'S':
        case 'X':
                return 3;
        case 'D':
        case 'E':
        case 'T':
        case 'W':
                return 2;
        case 'C':
        case 'Z':
        case 'H':
                return 3 + 2 * a_count(e, i + 2);
        default: /* 'R', 'h' */
                return 3 + a_count(e, i + 2);
        }
}

/* Queues brand bi's commit (build_commit's list in e->arg) as commands
 * inside the open MULTI: 0 or -1 (no memory). The counters ('C': one
 * HMGET and one HSET per day hash, where commands would be one HINCRBY per
 * field) and the FRT hash writes ('H', 'h': a hash still in the sorted-set
 * layout of the release before is converted, prelude's hwrite) go through
 * commit.lua itself, queued in the transaction, which then increments the
 * version; without them an INCR does. */
static int send_tx_brand(sc_track_engine_t *e, sc_redis_t *r, sc_redis_script_t *commit,
                         uint32_t bi)
{
        bctx_t *c = &e->b[bi];
        for (size_t i = 0; i < e->an; i++)
                e->av[i] = e->arg.data + e->aoff[i];
        /* av: [0] KEYS[1], [1] prefix, [2] RET, [3] TTL, [4] version, ops */
        const char *ret = e->av[2], *ttl = e->av[3];
        size_t ret_n = e->alen[2], ttl_n = e->alen[3];
        int in_script = 0, rc = 0;
        for (size_t i = 5; i < e->an && !rc; i += op_len(e, i)) {
                char op = e->av[i][0];
                const char *k = e->av[i + 1];
                size_t kn = e->alen[i + 1], n = 0;
                switch (op) {
                case 'S': /* the record, its TTL kept (a new one if it expired) */
                        t_push(e, &n, "SET", 3);
                        t_push(e, &n, k, kn);
                        t_push(e, &n, e->av[i + 2], e->alen[i + 2]);
                        t_push(e, &n, "KEEPTTL", 7);
                        rc = t_cmd(e, r, bi, n);
                        n = 0;
                        t_push(e, &n, "EXPIRE", 6);
                        t_push(e, &n, k, kn);
                        t_push(e, &n, ttl, ttl_n);
                        t_push(e, &n, "NX", 2);
                        rc = rc || t_cmd(e, r, bi, n);
                        break;
                case 'X':
                        t_push(e, &n, "SET", 3);
                        t_push(e, &n, k, kn);
                        t_push(e, &n, e->av[i + 2], e->alen[i + 2]);
                        t_push(e, &n, "EX", 2);
                        t_push(e, &n, ttl, ttl_n);
                        rc = t_cmd(e, r, bi, n);
                        break;
                case 'D':
                        t_push(e, &n, "DEL", 3);
                        t_push(e, &n, k, kn);
                        rc = t_cmd(e, r, bi, n);
                        break;
                case 'E':
                case 'T':
                        t_push(e, &n, "EXPIRE", 6);
                        t_push(e, &n, k, kn);
                        t_push(e, &n, op == 'E' ? ret : ttl, op == 'E' ? ret_n : ttl_n);
                        rc = t_cmd(e, r, bi, n);
                        break;
                case 'W': {
                        ts_t wm = key1(c, "wm");
                        t_push(e, &n, "SET", 3);
                        t_push(e, &n, wm.p, wm.n);
                        t_push(e, &n, k, kn);
                        rc = t_cmd(e, r, bi, n);
                        break;
                }
                case 'Z':
                case 'R':
                        t_push(e, &n, op == 'Z' ? "ZADD" : "ZREM", 4);
                        t_push(e, &n, k, kn);
                        for (size_t j = i + 3; j < i + op_len(e, i); j++)
                                t_push(e, &n, e->av[j], e->alen[j]);
                        rc = t_cmd(e, r, bi, n);
                        break;
                case 'C':
                case 'H':
                case 'h':
                        in_script = 1;
                        break;
                default:
                        return -1; /* build_commit writes no other operation */
                }
        }
        if (rc)
                return -1;
        size_t n = 0;
        if (!in_script) {
                ts_t v = key1(c, "v");
                t_push(e, &n, "INCR", 4);
                t_push(e, &n, v.p, v.n);
                return t_cmd(e, r, bi, n);
        }
        for (size_t i = 0; i < 5; i++)
                t_push(e, &n, e->av[i], e->alen[i]);
        for (size_t i = 5; i < e->an; i += op_len(e, i))
                if (strchr("CHh", e->av[i][0]))
                        for (size_t j = i; j < i + op_len(e, i); j++)
                                t_push(e, &n, e->av[j], e->alen[j]);
        sent_push(e, bi, 0, S_TXS, 0, 0);
        return sc_redis_append_script(r, commit, 1, (int)n, e->tav, e->tlen);
}

/* Counter deltas of one day hash: field, delta pairs summed over groups. */
typedef struct cf_s {
        ts_t f;
        int64_t d;
} cf_t;

static int grp_cmp_rest(const grp_t *x, const grp_t *y)
{
        int c = tcmp(x->pf, y->pf);
        return c ? c : tcmp(x->team, y->team);
}

static int grp_cmp_u(const void *a, const void *b)
{
        const grp_t *x = *(const grp_t *const *)a, *y = *(const grp_t *const *)b;
        int c = tcmp(x->ud, y->ud);
        return c ? c : grp_cmp_rest(x, y);
}

static int grp_cmp_l(const void *a, const void *b)
{
        const grp_t *x = *(const grp_t *const *)a, *y = *(const grp_t *const *)b;
        int c = tcmp(x->ld, y->ld);
        return c ? c : grp_cmp_rest(x, y);
}

/* One 'C' (and 'E') operation per day hash of the family (fam 0: UTC days,
 * 1: local days): the groups sorted by day, platform and team, so the
 * groups sharing a field (same UTC day, other local days) are neighbours. */
static void commit_counters(sc_track_engine_t *e, bctx_t *c, int fam)
{
        if (!c->gn)
                return;
        grp_t **gs = ar_alloc(&c->ra, c->gn * sizeof(*gs));
        for (uint32_t i = 0; i < c->gn; i++)
                gs[i] = &c->grps[i];
        qsort(gs, c->gn, sizeof(*gs), fam ? grp_cmp_l : grp_cmp_u);
        cf_t *fs = ar_alloc(&c->ra, (size_t)c->gn * SC_TRACK_CTR_CNT * sizeof(*fs));
        for (uint32_t i = 0; i < c->gn;) {
                ts_t day = fam ? gs[i]->ld : gs[i]->ud;
                uint32_t end = i;
                while (end < c->gn && teq(fam ? gs[end]->ld : gs[end]->ud, day))
                        end++;
                size_t nf = 0;
                for (uint32_t j = i; j < end;) {
                        int64_t v[SC_TRACK_CTR_CNT] = {0};
                        uint32_t k = j;
                        for (; k < end && !grp_cmp_rest(gs[k], gs[j]); k++)
                                for (int q = 0; q < SC_TRACK_CTR_CNT; q++)
                                        v[q] += gs[k]->v[q];
                        ts_t f0 = ar_cat(&c->ra, gs[j]->pf, tl("|"), gs[j]->team);
                        for (int q = 0; q < SC_TRACK_CTR_CNT; q++)
                                if (v[q])
                                        fs[nf++] =
                                            (cf_t){ar_cat(&c->ra, f0, tl("|"),
                                                          tl(sc_track_counter_name(q))),
                                                   v[q]};
                        j = k;
                }
                ts_t key = ar_cat(&c->ra, c->P, tl(fam ? "d:l:" : "d:u:"), day);
                if (nf) {
                        a_lit(e, "C");
                        a_ts(e, key);
                        a_num(e, (int64_t)nf);
                        for (size_t j = 0; j < nf; j++) {
                                a_ts(e, fs[j].f);
                                a_num(e, fs[j].d);
                        }
                }
                /* touched whether or not a field changed (flush()) */
                a_lit(e, "E");
                a_ts(e, key);
                i = end;
        }
}

static void build_commit(sc_track_engine_t *e, bctx_t *c, sc_buf_t *pack)
{
        const sc_track_engine_args_t *a = e->a;
        a_reset(e);
        a_ts(e, c->P); /* KEYS[1]: routes the call to the brand's slot */
        a_ts(e, c->P);
        a_num(e, a->retention_s);
        a_num(e, a->state_ttl_s);
        a_ts(e, NIL(c->v_raw) ? tl("") : c->v_raw);
        /* records (put_records) */
        for (uint32_t i = 0; i < c->dn; i++) {
                ent_t *x = &c->ents[c->dorder[i]];
                rec_t *r = x->rec;
                if (r) {
                        sc_buf_reset(pack);
                        rec_encode(pack, r);
                        int keep = x->kind0 && x->kind0 == kind_of(r) && !x->renew;
                        a_lit(e, keep ? "S" : "X");
                        a_ts(e, x->key);
                        a_add(e, pack->data, pack->len);
                } else if (x->kind0) {
                        a_lit(e, "D");
                        a_ts(e, x->key);
                }
        }
        /* member writes per key: ZADD/ZREM, or HSET/HDEL for FRT hashes */
        for (uint32_t k = 0; k < c->zkn; k++) {
                ent_t *x = &c->ents[c->zkeys[k]];
                size_t add = 0, rem = 0;
                for (uint32_t o = x->zops; o != NO_OP; o = c->zops[o].next)
                        NIL(c->zops[o].s) ? rem++ : add++;
                if (add) {
                        a_lit(e, x->fh ? "H" : "Z");
                        a_ts(e, x->key);
                        a_num(e, (int64_t)add);
                        for (uint32_t o = x->zops; o != NO_OP; o = c->zops[o].next) {
                                zop_t *z = &c->zops[o];
                                if (NIL(z->s))
                                        continue;
                                if (x->fh) {
                                        a_ts(e, z->m);
                                        a_ts(e, z->s);
                                } else {
                                        a_ts(e, z->s);
                                        a_ts(e, z->m);
                                }
                        }
                }
                if (rem) {
                        a_lit(e, x->fh ? "h" : "R");
                        a_ts(e, x->key);
                        a_num(e, (int64_t)rem);
                        for (uint32_t o = x->zops; o != NO_OP; o = c->zops[o].next)
                                if (NIL(c->zops[o].s))
                                        a_ts(e, c->zops[o].m);
                }
                if (x->ttl_touch) {
                        a_lit(e, "T");
                        a_ts(e, x->key);
                }
                if (x->touched) {
                        a_lit(e, "E");
                        a_ts(e, x->key);
                }
        }
        commit_counters(e, c, 0);
        commit_counters(e, c, 1);
        if (c->WM_DIRTY) {
                char wm[48];
                int n =
                    snprintf(wm, sizeof(wm), "%" PRId64 "|%" PRId64, c->WM, c->WM_LAST);
                a_lit(e, "W");
                a_add(e, wm, (size_t)n);
        }
}

/* ---- rounds ------------------------------------------------------------- */

static void sent_push(sc_track_engine_t *e, uint32_t b, uint32_t ent, int kind,
                      uint32_t first, uint32_t cnt)
{
        SC_GROW(e->sent, e->sent_cap, e->sent_n + 1);
        e->sent[e->sent_n++] = (struct sent_s){b, ent, kind, first, cnt};
}

int sc_track_transient_error(const char *msg)
{
        static const char *const prefixes[] = {
            "OOM",        "BUSY",     "LOADING",     "NOSCRIPT", "READONLY",
            "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "MOVED",    "ASK",
            "NOREPLICAS", "MISCONF",  "EXECABORT"};
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (!strncmp(msg, prefixes[i], strlen(prefixes[i])))
                        return 1;
        /* A script error wrapping one of those (e.g. OOM inside the script). */
        return strstr(msg, "OOM command not allowed") != NULL;
}

/* Queues the reads of every brand that needs some: 0 or -1 (no memory).
 * tx: a brand's first read WATCHes its version first. */
static int send_reads(sc_track_engine_t *e, sc_redis_t *r, int tx)
{
        e->sent_n = 0;
        e->mget_n = 0;
        for (size_t bi = 0; bi < e->bn; bi++) {
                bctx_t *c = &e->b[bi];
                if (c->state != B_READ)
                        continue;
                if (tx && !c->have_base) {
                        ts_t v = key1(c, "v");
                        const char *argv[2] = {"WATCH", v.p};
                        size_t lens[2] = {5, v.n};
                        if (sc_redis_append(r, 2, argv, lens))
                                return -1;
                        sent_push(e, (uint32_t)bi, 0, S_WATCH, 0, 0);
                }
                /* MGET v wm (first round) and every wanted record key */
                a_reset(e);
                a_lit(e, "MGET");
                uint32_t first = (uint32_t)e->mget_n;
                if (!c->have_base) {
                        ts_t v = key1(c, "v"), wm = key1(c, "wm");
                        a_ts(e, v);
                        a_ts(e, wm);
                }
                for (uint32_t i = 0; i < c->ent_n; i++) {
                        ent_t *x = &c->ents[i];
                        if (!x->want || x->zset)
                                continue;
                        a_ts(e, x->key);
                        SC_GROW(e->mget, e->mget_cap, e->mget_n + 1);
                        e->mget[e->mget_n++] = i;
                }
                if (e->an > 1) {
                        for (size_t i = 0; i < e->an; i++)
                                e->av[i] = e->arg.data + e->aoff[i];
                        if (sc_redis_append(r, (int)e->an, e->av, e->alen))
                                return -1;
                        sent_push(e, (uint32_t)bi, 0, c->have_base ? S_RECS : S_BASE,
                                  first, (uint32_t)(e->mget_n - first));
                }
                for (uint32_t i = 0; i < c->ent_n; i++) {
                        ent_t *x = &c->ents[i];
                        if (!x->want || !x->zset)
                                continue;
                        char stop[24];
                        snprintf(stop, sizeof(stop), "%u", x->zreq - 1);
                        const char *argv[5] = {"ZRANGE", x->key.p, "0", stop,
                                               "WITHSCORES"};
                        size_t lens[5] = {6, x->key.n, 1, strlen(stop), 10};
                        if (sc_redis_append(r, 5, argv, lens))
                                return -1;
                        sent_push(e, (uint32_t)bi, i, S_ZSET, 0, 0);
                }
        }
        return 0;
}

static ts_t rstr(sc_track_engine_t *e, const redisReply *x)
{
        if (x->type == REDIS_REPLY_STRING)
                return ar_str(&e->fa, x->str, x->len);
        return TNIL;
}

/* Takes the replies of send_reads: 0, or -1 (errstr set) on a Redis
 * error that is not a key's own. */
static int take_reads(sc_track_engine_t *e, redisReply **rep, size_t n, char *errstr,
                      size_t errstr_size)
{
        if (n != e->sent_n) {
                snprintf(errstr, errstr_size, "redis: %zu replies for %zu reads", n,
                         e->sent_n);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                const struct sent_s *s = &e->sent[i];
                bctx_t *c = &e->b[s->b];
                const redisReply *x = rep[i];
                if (x->type == REDIS_REPLY_ERROR &&
                    (s->kind != S_ZSET || sc_track_transient_error(x->str))) {
                        snprintf(errstr, errstr_size, "redis: %s", x->str);
                        return -1;
                }
                if (s->kind == S_WATCH)
                        continue;
                if (s->kind == S_ZSET) {
                        ent_t *z = &c->ents[s->ent];
                        z->want = 0;
                        z->have = 1;
                        if (x->type == REDIS_REPLY_ERROR) {
                                z->bad = 1;
                                continue;
                        }
                        size_t m = x->type == REDIS_REPLY_ARRAY ? x->elements / 2 : 0;
                        z->zm = ar_alloc(&e->fa, (m ? m : 1) * sizeof(*z->zm));
                        z->zn = (uint32_t)m;
                        for (size_t k = 0; k < m; k++) {
                                z->zm[k].m = rstr(e, x->element[2 * k]);
                                if (NIL(z->zm[k].m))
                                        z->zm[k].m = tl("");
                                const redisReply *sc = x->element[2 * k + 1];
                                z->zm[k].s =
                                    sc->type == REDIS_REPLY_STRING
                                        ? (int64_t)strtod(sc->str, NULL)
                                        : (sc->type == REDIS_REPLY_INTEGER ? sc->integer
                                                                           : 0);
                        }
                        continue;
                }
                size_t base = s->kind == S_BASE ? 2 : 0;
                if (x->type != REDIS_REPLY_ARRAY || x->elements != base + s->cnt) {
                        snprintf(errstr, errstr_size, "redis: unexpected MGET reply");
                        return -1;
                }
                if (base) {
                        c->v_raw = rstr(e, x->element[0]);
                        c->wm_raw = rstr(e, x->element[1]);
                        c->have_base = 1;
                }
                for (uint32_t k = 0; k < s->cnt; k++) {
                        ent_t *y = &c->ents[e->mget[s->first + k]];
                        y->raw = rstr(e, x->element[base + k]);
                        y->want = 0;
                        y->have = 1;
                }
        }
        return 0;
}

/* Forgets what brand c read (its version changed under it). */
static void brand_reread(bctx_t *c)
{
        for (uint32_t i = 0; i < c->ent_n; i++) {
                ent_t *x = &c->ents[i];
                x->have = x->want = x->bad = 0;
                x->zn = 0;
                x->zreq = x->zset ? 16 : 0;
        }
        c->have_base = 0;
        for (size_t i = 0; i < c->nrec; i++)
                c->recs[i].failed = c->recs[i].input_bad;
}

static void brand_init(sc_track_engine_t *e, bctx_t *c, const sc_track_engine_brand_t *in)
{
        c->in = in;
        c->P = ar_str(&e->fa, in->prefix, in->prefix_len);
        c->nrec = in->nrec;
        c->recs = ar_alloc(&e->fa, (in->nrec ? in->nrec : 1) * sizeof(*c->recs));
        c->ent_n = 0;
        if (c->tab)
                memset(c->tab, 0, (c->tab_mask + 1) * sizeof(*c->tab));
        c->have_base = 0;
        c->v_raw = c->wm_raw = TNIL;
        c->state = B_READ;
        c->run = 0;
        for (size_t i = 0; i < in->nrec; i++) {
                inrec_t *r = &c->recs[i];
                if (decode_input(e, c, r, in->recs[i], in->rec_lens[i])) {
                        memset(r, 0, sizeof(*r));
                        r->failed = r->input_bad = 1;
                        r->errmsg = tl("malformed track record");
                        continue;
                }
                /* prefetch (batch.lua): every key the records name */
                ts_t k[3] = {r->k1, r->k2, r->k3};
                for (int j = 0; j < 3; j++)
                        if (!NIL(k[j])) {
                                ent_t *x = ent_get(e, c, k[j]);
                                if (!x->have)
                                        x->want = 1;
                        }
        }
}

static void set_results(bctx_t *c)
{
        SC_GROW(c->res, c->res_cap, c->nrec + 1);
        for (size_t i = 0; i < c->nrec; i++) {
                sc_track_engine_result_t *r = &c->res[i];
                if (c->recs[i].failed) {
                        r->err = 1;
                        r->s = c->recs[i].errmsg.p;
                        r->n = c->recs[i].errmsg.n;
                } else {
                        r->err = 0;
                        r->s = c->out.data ? c->out.data + c->roff[i] : "";
                        r->n = c->roff[i + 1] - c->roff[i];
                }
        }
}

static void fail_brand(sc_track_engine_t *e, bctx_t *c, const char *msg)
{
        ts_t m = ar_str(&e->fa, msg, strlen(msg));
        for (size_t i = 0; i < c->nrec; i++) {
                c->recs[i].failed = 1;
                c->recs[i].errmsg = m;
        }
        c->state = B_DONE;
}

/* Brand c's commit was refused (its version moved): read it again. */
static void refused(sc_track_engine_t *e, bctx_t *c)
{
        e->conflicts++;
        brand_reread(c);
        for (size_t q = 0; q < c->nrec; q++) {
                ts_t kk[3] = {c->recs[q].k1, c->recs[q].k2, c->recs[q].k3};
                for (int j = 0; j < 3; j++)
                        if (!NIL(kk[j]))
                                ent_get(e, c, kk[j])->want = 1;
        }
        c->state = B_READ;
}

/* The replies of a transaction round (MULTI, one QUEUED per command, EXEC):
 * 0, or -1 (errstr set) when Redis refused it as a whole. EXEC nil: a
 * version moved, every brand of it is read again (nothing was written). A
 * command's own error (a corrupt key) fails its brand, as a script error
 * does; the rest of the transaction is applied. */
static int take_tx(sc_track_engine_t *e, redisReply **rep, size_t n, char *errstr,
                   size_t errstr_size)
{
        if (n != e->sent_n || n < 2) {
                snprintf(errstr, errstr_size, "redis: %zu replies for %zu commands", n,
                         e->sent_n);
                return -1;
        }
        for (size_t k = 0; k + 1 < n; k++)
                if (rep[k]->type == REDIS_REPLY_ERROR) {
                        snprintf(errstr, errstr_size, "redis: %s", rep[k]->str);
                        return -1;
                }
        const redisReply *x = rep[n - 1];
        if (x->type == REDIS_REPLY_NIL) {
                for (size_t i = 0; i < e->bn; i++)
                        if (e->b[i].state == B_COMMIT)
                                refused(e, &e->b[i]);
                return 0;
        }
        if (x->type != REDIS_REPLY_ARRAY || x->elements != n - 2) {
                snprintf(errstr, errstr_size, "redis: %s",
                         x->type == REDIS_REPLY_ERROR ? x->str : "unexpected EXEC reply");
                return -1;
        }
        for (size_t k = 0; k < x->elements; k++) {
                const redisReply *y = x->element[k];
                bctx_t *c = &e->b[e->sent[k + 1].b];
                if (y->type == REDIS_REPLY_ERROR) {
                        if (sc_track_transient_error(y->str)) {
                                snprintf(errstr, errstr_size, "redis: %s", y->str);
                                return -1;
                        }
                        if (c->state == B_COMMIT)
                                fail_brand(e, c, y->str);
                } else if (e->sent[k + 1].kind == S_TXS &&
                           !(y->type == REDIS_REPLY_INTEGER && y->integer == 1)) {
                        /* cannot happen under WATCH: the version is the one read */
                        snprintf(errstr, errstr_size,
                                 "track: counter/FRT writes refused inside the commit");
                        return -1;
                }
        }
        for (size_t i = 0; i < e->bn; i++)
                if (e->b[i].state == B_COMMIT)
                        e->b[i].state = B_DONE;
        return 0;
}

/* The replies of a round of commit scripts, one per brand: 0, or -1
 * (errstr set) on a server state error. */
static int take_commits(sc_track_engine_t *e, redisReply **rep, size_t n, char *errstr,
                        size_t errstr_size)
{
        if (n != e->sent_n) {
                snprintf(errstr, errstr_size, "redis: %zu replies for %zu commits", n,
                         e->sent_n);
                return -1;
        }
        for (size_t k = 0; k < n; k++) {
                bctx_t *c = &e->b[e->sent[k].b];
                const redisReply *x = rep[k];
                if (x->type == REDIS_REPLY_ERROR) {
                        if (sc_track_transient_error(x->str)) {
                                snprintf(errstr, errstr_size, "redis script: %s", x->str);
                                return -1;
                        }
                        fail_brand(e, c, x->str);
                } else if (x->type == REDIS_REPLY_INTEGER && x->integer == 1) {
                        c->state = B_DONE;
                } else {
                        refused(e, c);
                }
        }
        return 0;
}

#define MAX_ROUNDS 64

int sc_track_engine_run(sc_track_engine_t *e, sc_redis_t *r, sc_redis_script_t *commit,
                        size_t queued, const sc_track_engine_brand_t *brands, size_t nb,
                        const sc_track_engine_args_t *a,
                        const sc_track_engine_result_t *const **results, char *errstr,
                        size_t errstr_size)
{
        ar_reset(&e->fa);
        e->a = a;
        e->ncal_n = 0;
        for (size_t i = 0; i < a->ncal_len;) {
                size_t j = i;
                while (j < a->ncal_len && a->ncal[j] != '\n')
                        j++;
                if (j > i) {
                        SC_GROW(e->ncal, e->ncal_cap, e->ncal_n + 1);
                        e->ncal[e->ncal_n++] = ar_str(&e->fa, a->ncal + i, j - i);
                }
                i = j + 1;
        }
        if (nb > e->bcap) {
                e->b = sc_realloc(e->b, nb * sizeof(*e->b));
                memset(e->b + e->bcap, 0, (nb - e->bcap) * sizeof(*e->b));
                e->bcap = nb;
        }
        e->bn = nb;
        for (size_t i = 0; i < nb; i++)
                brand_init(e, &e->b[i], &brands[i]);
        int rc = 0, tx = !sc_redis_is_cluster(r);
        for (int round = 0;; round++) {
                if (round == MAX_ROUNDS) {
                        snprintf(errstr, errstr_size,
                                 "track: brands changed under %d reads in a row", round);
                        rc = -1;
                        break;
                }
                /* read what the brands need */
                int reads = 0;
                for (size_t i = 0; i < nb; i++)
                        reads |= e->b[i].state == B_READ;
                if (reads || queued) {
                        redisReply **rep;
                        size_t n;
                        if (send_reads(e, r, tx)) {
                                sc_redis_discard(r);
                                snprintf(errstr, errstr_size, "out of memory");
                                rc = -1;
                                break;
                        }
                        if (e->sent_n || queued) {
                                if (sc_redis_exec(r, &rep, &n) == -1) {
                                        snprintf(errstr, errstr_size, "redis: %s",
                                                 sc_redis_errstr(r));
                                        rc = -1;
                                        break;
                                }
                                /* the caller's commands queued before the run */
                                size_t q = queued < n ? queued : n;
                                for (size_t k = 0; k < q && !rc; k++)
                                        if (rep[k]->type == REDIS_REPLY_ERROR &&
                                            sc_track_transient_error(rep[k]->str)) {
                                                snprintf(errstr, errstr_size, "redis: %s",
                                                         rep[k]->str);
                                                rc = -1;
                                        }
                                if (rc ||
                                    take_reads(e, rep + q, n - q, errstr, errstr_size)) {
                                        rc = -1;
                                        break;
                                }
                                queued = 0;
                        }
                }
                /* run them; those that met nothing unread commit (in a
                 * transaction: once all of them did) */
                int commits = 0, reading = 0;
                e->sent_n = 0;
                for (size_t i = 0; i < nb; i++) {
                        bctx_t *c = &e->b[i];
                        if (c->state == B_DONE)
                                continue;
                        do
                                run_brand(e, c);
                        while (c->refailed);
                        if (c->needs) {
                                c->state = B_READ;
                                reading = 1;
                                continue;
                        }
                        c->state = B_COMMIT;
                        if (tx)
                                continue;
                        build_commit(e, c, &e->pack);
                        if (a_send(e, r, commit)) {
                                sc_redis_discard(r);
                                snprintf(errstr, errstr_size, "out of memory");
                                rc = -1;
                                goto out;
                        }
                        sent_push(e, (uint32_t)i, 0, S_COMMIT, 0, 0);
                        commits++;
                }
                for (size_t i = 0; tx && !reading && i < nb; i++)
                        commits += e->b[i].state == B_COMMIT;
                if (commits && tx) {
                        int bad = sc_redis_appendf(r, "MULTI");
                        sent_push(e, 0, 0, S_MULTI, 0, 0);
                        for (size_t i = 0; i < nb && !bad; i++)
                                if (e->b[i].state == B_COMMIT) {
                                        build_commit(e, &e->b[i], &e->pack);
                                        bad = send_tx_brand(e, r, commit, (uint32_t)i);
                                }
                        bad = bad || sc_redis_appendf(r, "EXEC");
                        sent_push(e, 0, 0, S_EXEC, 0, 0);
                        if (bad) {
                                sc_redis_discard(r);
                                snprintf(errstr, errstr_size, "out of memory");
                                rc = -1;
                                goto out;
                        }
                }
                if (commits) {
                        redisReply **rep;
                        size_t n;
#ifdef SC_TEST_HOOKS
                        if (e->hook)
                                e->hook(e->hook_opaque);
#endif
                        if (sc_redis_exec(r, &rep, &n) == -1) {
                                snprintf(errstr, errstr_size, "redis: %s",
                                         sc_redis_errstr(r));
                                rc = -1;
                                break;
                        }
                        if ((tx ? take_tx : take_commits)(e, rep, n, errstr,
                                                          errstr_size)) {
                                rc = -1;
                                break;
                        }
                }
                int open = 0;
                for (size_t i = 0; i < nb; i++)
                        open |= e->b[i].state != B_DONE;
                if (!open)
                        break;
        }
out:
        if (rc)
                return -1;
        if (nb > e->resv_cap) {
                e->resv = sc_realloc((void *)e->resv, nb * sizeof(*e->resv));
                e->resv_cap = nb;
        }
        for (size_t i = 0; i < nb; i++) {
                set_results(&e->b[i]);
                e->resv[i] = e->b[i].res;
        }
        *results = (const sc_track_engine_result_t *const *)e->resv;
        return 0;
}

sc_track_engine_t *sc_track_engine_new(void)
{
        return sc_calloc(1, sizeof(sc_track_engine_t));
}

void sc_track_engine_destroy(sc_track_engine_t *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->bcap; i++) {
                bctx_t *c = &e->b[i];
                free(c->ents);
                free(c->tab);
                ar_free(&c->ra);
                free(c->dorder);
                free(c->zops);
                free(c->ztab);
                free(c->zkeys);
                free(c->grps);
                free(c->res);
                free(c->ev);
                free(c->bq);
                free(c->ST);
                sc_buf_free(&c->out);
                free(c->roff);
        }
        free(e->b);
        free((void *)e->resv);
        ar_free(&e->fa);
        free(e->ncal);
        sc_buf_free(&e->arg);
        sc_buf_free(&e->pack);
        free((void *)e->tav);
        free(e->tlen);
        free(e->aoff);
        free(e->alen);
        free((void *)e->av);
        free(e->sent);
        free(e->mget);
        free(e);
}

uint64_t sc_track_engine_conflicts(const sc_track_engine_t *e)
{
        return e->conflicts;
}

#ifdef SC_TEST_HOOKS
void sc_track_engine_set_commit_hook(sc_track_engine_t *e, void (*fn)(void *),
                                     void *opaque)
{
        e->hook = fn;
        e->hook_opaque = opaque;
}
#endif
