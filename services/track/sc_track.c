/* The tracker's C side: argument marshalling for the Lua scripts
 * (sc_track_lua.c): a batch's records packed per brand (msgpack) into one
 * script call per brand and chunk, one pipeline per batch, business FRT from
 * the team calendar, the outbox of timer breaches. */
#include "sc_track.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_buf.h"
#include "sc_log.h"
#include "sc_mpack.h"
#include "sc_rkey.h"
#include "sc_time.h"
#include "sc_track_engine.h"
#include "sc_track_lua.h"
#include "sc_utf8.h"

#define MAX_TEXT 280
/* Records per script call: bounds the time Redis spends in one call (other
 * clients wait meanwhile) and the size of its argument. */
#define CALL_RECORDS 200

static const char *const kind_names[SC_TRACK_K_CNT] = {
    "inbound",       "brand_reply",  "early_reply", "reconciled", "extra_reply",
    "reply_no_need", "orphan_reply", "duplicate",   "breach"};

static const char *const ctr_names[SC_TRACK_CTR_CNT] = {
    "received",    "needs_reply", "replied",         "sla_hit",       "sla_missed",
    "late",        "pending",     "with_due",        "frt_sum_ms",    "frt_b0",
    "frt_b1",      "frt_b2",      "frt_b3",          "frt_b4",        "frt_b5",
    "bfrt_sum_ms", "bfrt_n",      "replied_no_need", "extra_replies", "orphan_replies"};

static const char *const bucket_names[6] = {"0-15m", "15-60m", "1-4h",
                                            "4-8h",  "8-24h",  "24h+"};

const char *sc_track_kind_name(int k)
{
        return k >= 0 && k < SC_TRACK_K_CNT ? kind_names[k] : "?";
}

const char *sc_track_counter_name(int i)
{
        return i >= 0 && i < SC_TRACK_CTR_CNT ? ctr_names[i] : "?";
}

int sc_track_counter_index(const char *name, size_t len)
{
        for (int i = 0; i < SC_TRACK_CTR_CNT; i++)
                if (strlen(ctr_names[i]) == len && !memcmp(ctr_names[i], name, len))
                        return i;
        return -1;
}

const char *sc_track_bucket_name(int b)
{
        return b >= 0 && b < 6 ? bucket_names[b] : "?";
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

double sc_track_median(double *v, size_t n)
{
        if (!n)
                return 0;
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the tracker ------------------------------------------------------- */

typedef struct brand_tz_s {
        char *id;
        sc_tz_t *tz;
} brand_tz_t;

enum { CALL_BATCH, CALL_BFRT, CALL_SCAN, CALL_OUTBOX, CALL_OTHER };
enum { REC_INBOUND, REC_REPLY, REC_BRAND_POST };

typedef struct call_s {
        int type;
        size_t tag;
        size_t brand_off;   /* into t->strs */
        size_t first, nrec; /* CALL_BATCH: its records, t->order[first..+nrec) */
} call_t;

/* A queued record: its msgpack array in t->recbuf, its brand in t->bb. */
typedef struct rec_s {
        int type;
        size_t tag;
        size_t off, len;
        size_t b;
} rec_t;

/* A brand of the queued records. */
typedef struct bb_s {
        size_t brand_off; /* into t->strs */
        size_t cnt, start, fill;
        size_t pfx_off; /* its key prefix in t->pfx (the C engine) */
        int64_t wm;     /* largest created_at of its social.posts records (0: none) */
} bb_t;

/* An SLA event copied out of the replies (offsets into t->evstrs). */
typedef struct ev_s {
        size_t tag;
        size_t off[10]; /* kind brand eid pf pid team prio url text member */
        int has_url, has_member;
        int64_t created_at, due_at, replied_at, frt_ms;
} ev_t;

typedef struct bf_s {
        size_t brand_off, key_off;
        int64_t ca, rca;
        size_t cal_off;
        int sent;
} bf_t;

struct sc_track_s {
        sc_redis_t *r;
        sc_redis_script_t *s_batch, *s_bfrt, *s_scan, *s_outbox, *s_frt, *s_commit;
        sc_track_engine_t *eng;
        /* the engine's inputs: per brand, its records' msgpack arrays */
        sc_track_engine_brand_t *eb;
        size_t eb_cap;
        const char **eptr;
        size_t *elen;
        size_t e_cap;
        sc_buf_t pfx;
        const sc_brands_t *brands;
        const sc_calendars_t *cals;
        sc_track_conf_t conf;
        brand_tz_t *tzs;
        size_t tz_cnt;
        sc_tz_t *utc;
        call_t *calls;
        size_t call_cnt, call_cap;
        sc_buf_t strs; /* brand names of the queued calls, NUL separated */
        ev_t *evs;
        size_t ev_cnt, ev_cap;
        sc_buf_t evstrs;
        bf_t *bfs;
        size_t bf_cnt, bf_cap;
        sc_buf_t arg;  /* scratch */
        sc_buf_t pack; /* scratch: a call's msgpack argument */
        rec_t *recs;
        size_t rec_cnt, rec_cap;
        sc_buf_t recbuf;
        bb_t *bb;
        size_t bb_cnt, bb_cap, bb_last;
        size_t *order; /* record indices grouped by brand, input order kept */
        size_t order_cap;
        /* Calendars whose business time is not the wall clock, '\n'
         * separated: the scripts ask the worker for those (load_cals). */
        sc_buf_t ncal;
        /* Outbox entries in flight ("brand\0member\0" each) and delivered
         * ones waiting for their ZREM. */
        char **inflight;
        size_t inflight_cnt, inflight_cap;
        char **done;
        size_t done_cnt, done_cap;
        sc_track_error_cb *error_cb;
        void *error_opaque;
        int64_t started_ms; /* the idle fallback waits this process's catch-up */
};

static void free_tzs(brand_tz_t *tzs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(tzs[i].id);
                sc_tz_destroy(tzs[i].tz);
        }
        free(tzs);
}

int sc_track_set_config(sc_track_t *t, const sc_brands_t *brands,
                        const sc_calendars_t *cals, const sc_track_conf_t *conf,
                        char *errstr, size_t errstr_size)
{
        size_t n = brands ? sc_brands_count(brands) : 0;
        brand_tz_t *tzs = sc_calloc(n ? n : 1, sizeof(*tzs));
        for (size_t i = 0; i < n; i++) {
                const sc_brand_t *b = sc_brands_at(brands, i);
                char err[256];
                tzs[i].id = sc_strdup(b->id);
                tzs[i].tz =
                    sc_tz_load(b->timezone ? b->timezone : "UTC", err, sizeof(err));
                if (!tzs[i].tz) {
                        snprintf(errstr, errstr_size, "brand %s: time zone %s: %s", b->id,
                                 b->timezone ? b->timezone : "UTC", err);
                        free_tzs(tzs, i + 1);
                        return -1;
                }
        }
        sc_buf_reset(&t->ncal);
        for (size_t i = 0; cals && i < sc_calendars_count(cals); i++) {
                const sc_calendar_t *c = sc_calendars_at(cals, i);
                if (!sc_calendar_is_24x7(c)) {
                        sc_buf_puts(&t->ncal, sc_calendar_id(c));
                        sc_buf_putc(&t->ncal, '\n');
                }
        }
        free_tzs(t->tzs, t->tz_cnt);
        t->tzs = tzs;
        t->tz_cnt = n;
        t->brands = brands;
        t->cals = cals;
        t->conf = *conf;
        return 0;
}

sc_track_t *sc_track_new(sc_redis_t *r, const sc_brands_t *brands,
                         const sc_calendars_t *cals, const sc_track_conf_t *conf,
                         char *errstr, size_t errstr_size)
{
        sc_track_t *t = sc_calloc(1, sizeof(*t));
        t->r = r;
        t->started_ms = sc_now_ms();
        t->s_batch = sc_redis_script(r, sc_track_lua_batch);
        t->s_bfrt = sc_redis_script(r, sc_track_lua_bfrt);
        t->s_scan = sc_redis_script(r, sc_track_lua_scan);
        t->s_outbox = sc_redis_script(r, sc_track_lua_outbox);
        t->s_frt = sc_redis_script(r, sc_track_frt_read_lua);
        t->s_commit = sc_redis_script(r, sc_track_lua_commit);
        t->eng = sc_track_engine_new();
        if (t->s_frt)
                sc_redis_script_declares_keys(t->s_frt);
        t->utc = sc_tz_load("UTC", errstr, errstr_size);
        if (!t->s_batch || !t->s_bfrt || !t->s_scan || !t->s_outbox || !t->s_frt ||
            !t->s_commit || !t->utc ||
            sc_track_set_config(t, brands, cals, conf, errstr, errstr_size)) {
                sc_track_destroy(t);
                return NULL;
        }
        return t;
}

static void free_strv(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void sc_track_destroy(sc_track_t *t)
{
        if (!t)
                return;
        free_tzs(t->tzs, t->tz_cnt);
        sc_tz_destroy(t->utc);
        free(t->calls);
        free(t->evs);
        free(t->bfs);
        sc_buf_free(&t->strs);
        sc_buf_free(&t->evstrs);
        sc_buf_free(&t->arg);
        sc_buf_free(&t->pack);
        sc_buf_free(&t->recbuf);
        sc_buf_free(&t->ncal);
        free(t->recs);
        free(t->bb);
        free(t->order);
        free_strv(t->inflight, t->inflight_cnt);
        free_strv(t->done, t->done_cnt);
        sc_track_engine_destroy(t->eng);
        free(t->eb);
        free((void *)t->eptr);
        free(t->elen);
        sc_buf_free(&t->pfx);
        free(t);
}

static const sc_tz_t *brand_tz(const sc_track_t *t, const char *brand)
{
        for (size_t i = 0; i < t->tz_cnt; i++)
                if (!strcmp(t->tzs[i].id, brand))
                        return t->tzs[i].tz;
        return t->utc;
}

void sc_track_days(const sc_track_t *t, const char *brand, int64_t ms, char uday[16],
                   char lday[16])
{
        sc_time_format_day(ms, uday);
        sc_time_format_day(sc_tz_local_day(brand_tz(t, brand), ms) * 86400000LL, lday);
}

#ifdef SC_TEST_HOOKS
void sc_track_set_commit_hook(sc_track_t *t, void (*fn)(void *), void *opaque)
{
        sc_track_engine_set_commit_hook(t->eng, fn, opaque);
}
#endif

size_t sc_track_queued(const sc_track_t *t)
{
        size_t wm = 0;
        for (size_t b = 0; b < t->bb_cnt; b++)
                wm += !t->bb[b].cnt && t->bb[b].wm;
        return t->call_cnt + t->rec_cnt + wm;
}

static int push_call(sc_track_t *t, int type, size_t tag, const char *brand)
{
        SC_GROW(t->calls, t->call_cap, t->call_cnt + 1);
        call_t *c = &t->calls[t->call_cnt++];
        c->type = type;
        c->tag = tag;
        c->first = c->nrec = 0;
        c->brand_off = t->strs.len;
        return sc_buf_append(&t->strs, brand ? brand : "", brand ? strlen(brand) + 1 : 1);
}

/* ---- records: msgpack arrays of strings (cmsgpack.unpack in the script) - */

static int mp_arr(sc_buf_t *b, size_t n)
{
        return sc_mp_arr(b, n);
}

static int mp_str(sc_buf_t *b, const char *s, size_t n)
{
        return sc_mp_str(b, s, n);
}

static int mp_cstr(sc_buf_t *b, const char *s)
{
        return mp_str(b, s, s ? strlen(s) : 0);
}

static int mp_int(sc_buf_t *b, int64_t v)
{
        char num[24];
        return mp_str(b, num, sc_mp_decimal(num, v));
}

/* An integer as a msgpack int64 (a Lua number in the script: no string to
 * intern for a value the script only computes with). */
static int mp_num(sc_buf_t *b, int64_t v)
{
        unsigned char h[9];
        uint64_t u = (uint64_t)v;
        h[0] = 0xd3;
        for (int i = 0; i < 8; i++)
                h[1 + i] = (unsigned char)(u >> (56 - 8 * i));
        return sc_buf_append(b, h, sizeof(h));
}

/* The queued brand brand (added when new): its index, or -1 (no memory). */
static ssize_t find_bb(sc_track_t *t, const char *brand)
{
        size_t b = t->bb_last;
        if (b >= t->bb_cnt || strcmp(t->strs.data + t->bb[b].brand_off, brand))
                for (b = 0; b < t->bb_cnt; b++)
                        if (!strcmp(t->strs.data + t->bb[b].brand_off, brand))
                                break;
        if (b == t->bb_cnt) {
                SC_GROW(t->bb, t->bb_cap, t->bb_cnt + 1);
                t->bb[b].brand_off = t->strs.len;
                t->bb[b].cnt = 0;
                t->bb[b].wm = 0;
                if (sc_buf_append(&t->strs, brand, strlen(brand) + 1))
                        return -1;
                t->bb_cnt++;
        }
        t->bb_last = b;
        return (ssize_t)b;
}

int sc_track_add_event_time(sc_track_t *t, const char *brand, int64_t created_at)
{
        ssize_t b = find_bb(t, brand);
        if (b < 0)
                return -1;
        if (created_at > t->bb[b].wm)
                t->bb[b].wm = created_at;
        return 0;
}

/* Starts a record of brand: its msgpack array of n fields follows. */
static int rec_begin(sc_track_t *t, int type, size_t tag, const char *brand, size_t n)
{
        ssize_t b = find_bb(t, brand);
        if (b < 0)
                return -1;
        SC_GROW(t->recs, t->rec_cap, t->rec_cnt + 1);
        rec_t *r = &t->recs[t->rec_cnt];
        r->type = type;
        r->tag = tag;
        r->b = (size_t)b;
        r->off = t->recbuf.len;
        return mp_arr(&t->recbuf, n);
}

/* Ends the record begun last; rc: the appends' results OR-ed. */
static int rec_end(sc_track_t *t, int rc)
{
        if (rc) {
                t->recbuf.len = t->recs[t->rec_cnt].off;
                return -1;
        }
        rec_t *r = &t->recs[t->rec_cnt++];
        r->len = t->recbuf.len - r->off;
        t->bb[r->b].cnt++;
        return 0;
}

/* Argument vector builder over one scratch buffer: offsets first, pointers
 * once every argument is in (the buffer may move while growing). */
#define MAX_ARGS 24
typedef struct args_s {
        size_t off[MAX_ARGS], len[MAX_ARGS];
        const char *v[MAX_ARGS];
        int n;
} args_t;

static void a_str(sc_track_t *t, args_t *a, const char *s, size_t n)
{
        a->off[a->n] = t->arg.len;
        a->len[a->n++] = n;
        sc_buf_append(&t->arg, s ? s : "", n);
}

static void a_int(sc_track_t *t, args_t *a, int64_t v)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "%" PRId64, v);
        a_str(t, a, num, (size_t)n);
}

/* The brand's key prefix "sc:{brand}:" (the scripts build their keys from
 * it, and it names the brand's Redis Cluster slot). */
static void a_key_prefix(sc_track_t *t, args_t *a, const char *brand)
{
        a->off[a->n] = t->arg.len;
        size_t before = t->arg.len;
        sc_rkey_prefix(&t->arg, brand);
        a->len[a->n++] = t->arg.len - before;
}

static void a_begin(sc_track_t *t, args_t *a, const char *brand)
{
        sc_buf_reset(&t->arg);
        a->n = 0;
        (void)brand;
}

static void a_common(sc_track_t *t, args_t *a, const char *brand)
{
        a_key_prefix(t, a, brand);
        a_int(t, a, t->conf.retention_s);
        a_int(t, a, t->conf.state_ttl_s);
}

/* watermark_idle as the scripts apply it: not before this process has run
 * that long (after a restart its backlog is still coming, and a stream that
 * looks idle in Redis only waited for this worker). */
static int64_t idle_ms(const sc_track_t *t)
{
        int64_t idle = t->conf.watermark_idle_ms;
        if (idle > 0 && sc_now_ms() - t->started_ms < idle)
                return INT64_MAX / 4;
        return idle;
}

static int a_send(sc_track_t *t, args_t *a, sc_redis_script_t *s)
{
        for (int i = 0; i < a->n; i++)
                a->v[i] = t->arg.data + a->off[i];
        return sc_redis_append_script(t->r, s, 1, a->n, a->v, a->len);
}

int sc_track_add_brand(sc_track_t *t, const char *brand)
{
        if (push_call(t, CALL_OTHER, 0, brand))
                return -1;
        return sc_redis_append(t->r, 3, (const char *[]){"SADD", SC_RKEY_BRANDS, brand},
                               NULL);
}

int sc_track_add_brand_post(sc_track_t *t, const char *brand, const char *platform,
                            const char *post_id)
{
        if (rec_begin(t, REC_BRAND_POST, 0, brand, 3))
                return -1;
        /* Its created_at is not known here: the caller adds it with
         * sc_track_add_event_time. */
        sc_buf_t *b = &t->recbuf;
        return rec_end(t, mp_cstr(b, "b") | mp_cstr(b, platform) | mp_cstr(b, post_id));
}

int sc_track_add_inbound(sc_track_t *t, const sc_track_inbound_t *in, size_t tag)
{
        char ud[16], ld[16];
        sc_track_days(t, in->brand, in->created_at, ud, ld);
        if (rec_begin(t, REC_INBOUND, tag, in->brand, 15))
                return -1;
        sc_buf_t *b = &t->recbuf;
        size_t tl = in->text ? (in->text_len ? in->text_len : strlen(in->text)) : 0;
        int rc = mp_cstr(b, "i") | mp_cstr(b, in->event_id) | mp_cstr(b, in->platform) |
                 mp_cstr(b, in->post_id) | mp_cstr(b, in->thread_id) |
                 mp_cstr(b, in->team && in->team[0] ? in->team : "-") |
                 mp_cstr(b, in->priority) | mp_cstr(b, ud) | mp_cstr(b, ld) |
                 mp_int(b, in->created_at) | mp_int(b, in->needs_reply ? 1 : 0) |
                 mp_int(b, in->due_at > 0 ? in->due_at : 0) | mp_cstr(b, in->calendar) |
                 mp_cstr(b, in->url) |
                 mp_str(b, in->text, sc_utf8_truncate(in->text, tl, MAX_TEXT));
        return rec_end(t, rc);
}

int sc_track_add_reply(sc_track_t *t, const sc_track_reply_t *re, size_t tag,
                       int64_t now_ms)
{
        char ud[16], ld[16];
        sc_track_days(t, re->brand, re->created_at, ud, ld);
        if (rec_begin(t, REC_REPLY, tag, re->brand, 11))
                return -1;
        if (re->created_at > t->bb[t->bb_last].wm)
                t->bb[t->bb_last].wm = re->created_at;
        sc_buf_t *b = &t->recbuf;
        int rc = mp_cstr(b, "r") | mp_cstr(b, re->event_id) | mp_cstr(b, re->platform) |
                 mp_cstr(b, re->post_id) | mp_cstr(b, re->parent_id) |
                 mp_cstr(b, re->thread_id) | mp_int(b, re->created_at) | mp_cstr(b, ud) |
                 mp_cstr(b, ld) | mp_num(b, now_ms) |
                 mp_num(b, t->conf.reconcile_window_ms);
        return rec_end(t, rc);
}

/* ---- replies ------------------------------------------------------------- */

static size_t ev_str(sc_track_t *t, const char *s, size_t n)
{
        size_t off = t->evstrs.len;
        sc_buf_append(&t->evstrs, s ? s : "", n);
        sc_buf_putc(&t->evstrs, '\0');
        return off;
}

static int64_t rint64(const redisReply *r)
{
        if (!r)
                return 0;
        if (r->type == REDIS_REPLY_INTEGER)
                return r->integer;
        if (r->type == REDIS_REPLY_STRING && r->len)
                return strtoll(r->str, NULL, 10);
        return 0;
}

static ev_t *new_ev(sc_track_t *t)
{
        SC_GROW(t->evs, t->ev_cap, t->ev_cnt + 1);
        ev_t *e = &t->evs[t->ev_cnt++];
        memset(e, 0, sizeof(*e));
        return e;
}

#define RS(x) ((x)->type == REDIS_REPLY_STRING ? (x)->str : "")
#define RL(x) ((x)->type == REDIS_REPLY_STRING ? (x)->len : 0)

/* {'B', key, ca, rca, cal} */
static int take_bfrt(sc_track_t *t, const call_t *c, const redisReply *el)
{
        if (el->elements < 5)
                return -1;
        SC_GROW(t->bfs, t->bf_cap, t->bf_cnt + 1);
        bf_t *b = &t->bfs[t->bf_cnt++];
        const char *brand = t->strs.data + c->brand_off;
        b->brand_off = ev_str(t, brand, strlen(brand));
        b->key_off = ev_str(t, RS(el->element[1]), RL(el->element[1]));
        b->ca = rint64(el->element[2]);
        b->rca = rint64(el->element[3]);
        b->cal_off = ev_str(t, RS(el->element[4]), RL(el->element[4]));
        return 0;
}

/* A record's status codes (prelude.lua, SCODE). */
static void count_status(const char *s, size_t n, sc_track_counts_t *cnt)
{
        if (memchr(s, 'd', n)) {
                cnt->n[SC_TRACK_K_DUPLICATE]++;
                return;
        }
        for (size_t i = 0; i < n; i++)
                switch (s[i]) {
                case 'i':
                        cnt->n[SC_TRACK_K_INBOUND]++;
                        break;
                case 'f':
                case 'e':
                        cnt->n[SC_TRACK_K_REPLY]++;
                        break;
                case 'x':
                        cnt->n[SC_TRACK_K_EXTRA]++;
                        break;
                case 'n':
                        cnt->n[SC_TRACK_K_NO_NEED]++;
                        break;
                case 'y':
                        cnt->n[SC_TRACK_K_EARLY]++;
                        break;
                case 'c':
                        cnt->n[SC_TRACK_K_RECONCILED]++;
                        break;
                }
}

/* The next NUL-terminated token of [*p, end) (the last one may end at end). */
static const char *next_tok(const char **p, const char *end, size_t *len)
{
        const char *s = *p;
        if (s > end)
                return NULL;
        const char *z = memchr(s, '\0', (size_t)(end - s));
        *len = (size_t)((z ? z : end) - s);
        *p = (z ? z : end) + 1;
        return s;
}

static int64_t tok_int(const char *s, size_t n)
{
        char num[24];
        if (n >= sizeof(num))
                n = sizeof(num) - 1;
        memcpy(num, s, n);
        num[n] = '\0';
        return strtoll(num, NULL, 10);
}

/* One record's result string (prelude.lua result()): statuses, then B
 * requests, E events and once P, their post (its text runs to the end).
 * 0, or -1 (out of memory or malformed). */
static int take_result(sc_track_t *t, const call_t *c, const char *s, size_t n,
                       sc_track_counts_t *counts)
{
        const char *p = s, *end = s + n, *tok;
        size_t len = 0;
        tok = next_tok(&p, end, &len);
        count_status(tok, len, counts);
        size_t ev0 = t->ev_cnt;
        while ((tok = next_tok(&p, end, &len))) {
                const char *f[4];
                size_t fl[4];
                int nf = len == 1 && *tok == 'B' ? 4 : len == 1 && *tok == 'E' ? 3 : 0;
                if (len == 1 && *tok == 'P')
                        break;
                if (!nf)
                        return -1;
                for (int i = 0; i < nf; i++)
                        if (!(f[i] = next_tok(&p, end, &fl[i])))
                                return -1;
                if (*tok == 'B') {
                        SC_GROW(t->bfs, t->bf_cap, t->bf_cnt + 1);
                        bf_t *b = &t->bfs[t->bf_cnt++];
                        const char *brand = t->strs.data + c->brand_off;
                        b->brand_off = ev_str(t, brand, strlen(brand));
                        b->key_off = ev_str(t, f[0], fl[0]);
                        b->ca = tok_int(f[1], fl[1]);
                        b->rca = tok_int(f[2], fl[2]);
                        b->cal_off = ev_str(t, f[3], fl[3]);
                        continue;
                }
                ev_t *e = new_ev(t);
                e->tag = c->tag;
                e->off[0] = ev_str(t, f[0], fl[0]);
                e->replied_at = fl[1] ? tok_int(f[1], fl[1]) : -1;
                e->frt_ms = fl[2] ? tok_int(f[2], fl[2]) : -1;
        }
        if (t->ev_cnt == ev0)
                return 0;
        if (!tok)
                return -1;
        /* P: eid pf pid team prio created due url, then the text. */
        const char *f[8];
        size_t fl[8];
        for (int i = 0; i < 8; i++)
                if (!(f[i] = next_tok(&p, end, &fl[i])))
                        return -1;
        const char *txt = p <= end ? p : end;
        size_t txt_len = (size_t)(end - txt);
        const char *brand = t->strs.data + c->brand_off;
        size_t o[7];
        o[0] = ev_str(t, brand, strlen(brand));
        for (int i = 0; i < 5; i++)
                o[1 + i] = ev_str(t, f[i], fl[i]);
        o[6] = ev_str(t, f[7], fl[7]);
        size_t to = ev_str(t, txt, txt_len);
        for (size_t i = ev0; i < t->ev_cnt; i++) {
                ev_t *e = &t->evs[i];
                memcpy(&e->off[1], o, 6 * sizeof(size_t));
                e->has_url = fl[7] > 0;
                e->off[7] = o[6];
                e->off[8] = to;
                e->created_at = tok_int(f[5], fl[5]);
                e->due_at = tok_int(f[6], fl[6]);
        }
        return 0;
}

static void reset_batch(sc_track_t *t)
{
        t->call_cnt = 0;
        t->rec_cnt = 0;
        t->bb_cnt = 0;
        t->bb_last = 0;
        sc_buf_reset(&t->recbuf);
        t->ev_cnt = 0;
        t->bf_cnt = 0;
        sc_buf_reset(&t->strs);
        sc_buf_reset(&t->evstrs);
}

static const sc_calendar_t *find_cal(const sc_track_t *t, const char *id)
{
        const sc_calendar_t *c = NULL;
        if (t->cals && id && id[0])
                c = sc_calendars_find(t->cals, id);
        if (!c && t->cals)
                c = sc_calendars_find(t->cals, "24x7");
        return c;
}

static void deliver(sc_track_t *t, sc_track_event_cb *cb, void *opaque)
{
        for (size_t i = 0; i < t->ev_cnt && cb; i++) {
                const ev_t *e = &t->evs[i];
                const char *s = t->evstrs.data;
                sc_sla_event_t ev = {
                    .kind = s + e->off[0],
                    .brand = s + e->off[1],
                    .post_event_id = s + e->off[2],
                    .platform = s + e->off[3],
                    .post_id = s + e->off[4],
                    .team = s + e->off[5],
                    .priority = s + e->off[6],
                    .url = e->has_url ? s + e->off[7] : NULL,
                    .text = s + e->off[8],
                    .created_at = e->created_at,
                    .due_at = e->due_at,
                    .replied_at = e->replied_at,
                    .frt_ms = e->frt_ms,
                    .outbox_member = e->has_member ? s + e->off[9] : NULL,
                };
                cb(opaque, e->tag, &ev);
        }
}

void sc_track_set_error_cb(sc_track_t *t, sc_track_error_cb *cb, void *opaque)
{
        t->error_cb = cb;
        t->error_opaque = opaque;
}

/* Records the business FRT of every first reply of t->bfs: one pipeline,
 * one script call per brand (and CALL_RECORDS). */
static int run_bfrt(sc_track_t *t, char *errstr, size_t errstr_size)
{
        redisReply **rep;
        size_t n;
        if (!t->bf_cnt)
                return 0;
        t->call_cnt = 0;
        for (size_t i = 0; i < t->bf_cnt; i++)
                t->bfs[i].sent = 0;
        for (size_t i = 0; i < t->bf_cnt; i++) {
                if (t->bfs[i].sent)
                        continue;
                const char *brand = t->evstrs.data + t->bfs[i].brand_off;
                size_t cnt = 0;
                for (size_t j = i; j < t->bf_cnt && cnt < CALL_RECORDS; j++)
                        if (!t->bfs[j].sent &&
                            !strcmp(t->evstrs.data + t->bfs[j].brand_off, brand))
                                cnt++;
                sc_buf_reset(&t->pack);
                int rc = mp_arr(&t->pack, cnt);
                for (size_t j = i, k = 0; j < t->bf_cnt && k < cnt; j++) {
                        bf_t *b = &t->bfs[j];
                        if (b->sent || strcmp(t->evstrs.data + b->brand_off, brand))
                                continue;
                        const sc_calendar_t *cal =
                            find_cal(t, t->evstrs.data + b->cal_off);
                        int64_t bf = cal ? sc_calendar_between(cal, b->ca, b->rca)
                                         : (b->rca > b->ca ? b->rca - b->ca : 0);
                        rc |= mp_arr(&t->pack, 3) |
                              mp_cstr(&t->pack, t->evstrs.data + b->key_off) |
                              mp_int(&t->pack, b->rca) | mp_int(&t->pack, bf);
                        b->sent = 1;
                        k++;
                }
                args_t a;
                a_begin(t, &a, brand);
                a_key_prefix(t, &a, brand);
                a_common(t, &a, brand);
                a_str(t, &a, t->pack.data, t->pack.len);
                if (rc || push_call(t, CALL_BFRT, 0, brand) || a_send(t, &a, t->s_bfrt)) {
                        sc_redis_discard(t->r);
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
        }
        if (sc_redis_exec(t->r, &rep, &n) == -1) {
                snprintf(errstr, errstr_size, "redis: %s", sc_redis_errstr(t->r));
                return -1;
        }
        for (size_t i = 0; i < n; i++)
                if (rep[i]->type == REDIS_REPLY_ERROR) {
                        snprintf(errstr, errstr_size, "redis script: %s", rep[i]->str);
                        return -1;
                }
        return 0;
}

/* Appends one script call per brand of the queued records (and per
 * CALL_RECORDS of them): each brand's records in input order. */
static void order_records(sc_track_t *t);

static int send_batches(sc_track_t *t)
{
        order_records(t);
        for (size_t b = 0; b < t->bb_cnt; b++) {
                const bb_t *g = &t->bb[b];
                /* A brand with only event time in the batch: one call
                 * without records advances its watermark. */
                size_t end = g->start + (g->cnt ? g->cnt : 1);
                for (size_t s = g->start; s < end; s += CALL_RECORDS) {
                        size_t n = g->start + g->cnt - s;
                        if (n > CALL_RECORDS)
                                n = CALL_RECORDS;
                        sc_buf_reset(&t->pack);
                        int rc = mp_arr(&t->pack, n);
                        for (size_t k = s; k < s + n; k++) {
                                const rec_t *r = &t->recs[t->order[k]];
                                rc |= sc_buf_append(&t->pack, t->recbuf.data + r->off,
                                                    r->len);
                        }
                        /* The brand lives in t->strs, which push_call grows. */
                        const char *brand = t->strs.data + g->brand_off;
                        args_t a;
                        a_begin(t, &a, brand);
                        a_key_prefix(t, &a, brand);
                        a_common(t, &a, brand);
                        a_str(t, &a, t->ncal.data ? t->ncal.data : "", t->ncal.len);
                        a_str(t, &a, t->pack.data, t->pack.len);
                        a_int(t, &a, s == g->start ? g->wm : 0);
                        a_int(t, &a, sc_now_ms());
                        a_int(t, &a, t->conf.lateness_ms);
                        a_int(t, &a, idle_ms(t));
                        a_int(t, &a, t->conf.breach_grace_ms);
                        if (rc || push_call(t, CALL_BATCH, 0, NULL))
                                return -1;
                        call_t *c = &t->calls[t->call_cnt - 1];
                        c->brand_off = g->brand_off;
                        c->first = s;
                        c->nrec = n;
                        if (a_send(t, &a, t->s_batch))
                                return -1;
                }
        }
        return 0;
}

/* A record's (or its whole call's) error reply: 0, or -1 when the batch
 * must fail (a state of the server, or no error callback). */
static int record_error(sc_track_t *t, const rec_t *r, const char *msg, char *errstr,
                        size_t errstr_size)
{
        /* A state of the server (out of memory, loading, busy, failover):
         * the whole batch again later. A script error is this record's:
         * reported, not retried forever. */
        if (!t->error_cb || sc_track_transient_error(msg)) {
                snprintf(errstr, errstr_size, "redis script: %s", msg);
                return -1;
        }
        if (r->type == REC_BRAND_POST)
                sc_log(SC_LOG_WARN, "redis: %s", msg);
        else
                t->error_cb(t->error_opaque, r->tag, msg);
        return 0;
}

/* Groups the queued records by brand, input order kept: t->order, each
 * brand's t->bb[b].start. */
static void order_records(sc_track_t *t)
{
        SC_GROW(t->order, t->order_cap, t->rec_cnt);
        size_t pos = 0;
        for (size_t b = 0; b < t->bb_cnt; b++) {
                t->bb[b].start = t->bb[b].fill = pos;
                pos += t->bb[b].cnt;
        }
        for (size_t i = 0; i < t->rec_cnt; i++)
                t->order[t->bb[t->recs[i].b].fill++] = i;
}

/* The queued records applied by the C logic (sc_track_engine.h): 0, or -1
 * (errstr set) when the batch must be run again. */
static int exec_engine(sc_track_t *t, sc_track_counts_t *counts, char *errstr,
                       size_t errstr_size)
{
        order_records(t);
        SC_GROW(t->eb, t->eb_cap, t->bb_cnt + 1);
        size_t cap = t->e_cap;
        SC_GROW(t->eptr, t->e_cap, t->rec_cnt + 1);
        SC_GROW(t->elen, cap, t->rec_cnt + 1);
        sc_buf_reset(&t->pfx);
        for (size_t i = 0; i < t->rec_cnt; i++) {
                const rec_t *r = &t->recs[t->order[i]];
                t->eptr[i] = t->recbuf.data + r->off;
                t->elen[i] = r->len;
        }
        for (size_t b = 0; b < t->bb_cnt; b++) {
                t->bb[b].pfx_off = t->pfx.len;
                sc_rkey_prefix(&t->pfx, t->strs.data + t->bb[b].brand_off);
        }
        for (size_t b = 0; b < t->bb_cnt; b++) {
                const bb_t *g = &t->bb[b];
                size_t end = b + 1 < t->bb_cnt ? t->bb[b + 1].pfx_off : t->pfx.len;
                t->eb[b] = (sc_track_engine_brand_t){
                    .prefix = t->pfx.data + g->pfx_off,
                    .prefix_len = end - g->pfx_off,
                    .recs = t->eptr + g->start,
                    .rec_lens = t->elen + g->start,
                    .nrec = g->cnt,
                    .wm = g->wm,
                };
        }
        sc_track_engine_args_t a = {
            .now_ms = sc_now_ms(),
            .lateness_ms = t->conf.lateness_ms,
            .idle_ms = idle_ms(t),
            .grace_ms = t->conf.breach_grace_ms,
            .retention_s = t->conf.retention_s,
            .state_ttl_s = t->conf.state_ttl_s,
            .ncal = t->ncal.data ? t->ncal.data : "",
            .ncal_len = t->ncal.len,
        };
        const sc_track_engine_result_t *const *res;
        uint64_t conflicts0 = sc_track_engine_conflicts(t->eng);
        int rc = sc_track_engine_run(t->eng, t->r, t->s_commit, t->call_cnt, t->eb,
                                     t->bb_cnt, &a, &res, errstr, errstr_size);
        counts->conflicts += sc_track_engine_conflicts(t->eng) - conflicts0;
        if (rc)
                return -1;
        for (size_t b = 0; b < t->bb_cnt; b++) {
                const bb_t *g = &t->bb[b];
                for (size_t k = 0; k < g->cnt; k++) {
                        const rec_t *rec = &t->recs[t->order[g->start + k]];
                        const sc_track_engine_result_t *x = res[b] + k;
                        if (x->err) {
                                if (record_error(t, rec, x->s, errstr, errstr_size))
                                        return -1;
                                continue;
                        }
                        call_t rc = {.type = CALL_BATCH,
                                     .tag = rec->tag,
                                     .brand_off = g->brand_off};
                        if (take_result(t, &rc, x->s, x->n, counts)) {
                                snprintf(errstr, errstr_size,
                                         "redis: malformed track result");
                                return -1;
                        }
                }
        }
        return 0;
}

int sc_track_exec(sc_track_t *t, sc_track_event_cb *cb, void *opaque,
                  sc_track_counts_t *counts, char *errstr, size_t errstr_size)
{
        sc_track_counts_t local = {0};
        if (!counts)
                counts = &local;
        if (!sc_track_queued(t))
                return 0;
        redisReply **rep;
        size_t n;
        t->ev_cnt = 0;
        t->bf_cnt = 0;
        sc_buf_reset(&t->evstrs);
        if (t->conf.engine == SC_TRACK_ENGINE_C) {
                if (exec_engine(t, counts, errstr, errstr_size) ||
                    run_bfrt(t, errstr, errstr_size)) {
                        reset_batch(t);
                        return -1;
                }
                deliver(t, cb, opaque);
                reset_batch(t);
                return 0;
        }
        if (send_batches(t)) {
                sc_redis_discard(t->r);
                snprintf(errstr, errstr_size, "out of memory");
                reset_batch(t);
                return -1;
        }
        if (sc_redis_exec(t->r, &rep, &n) == -1) {
                snprintf(errstr, errstr_size, "redis: %s", sc_redis_errstr(t->r));
                reset_batch(t);
                return -1;
        }
        int bad = n != t->call_cnt;
        if (bad)
                snprintf(errstr, errstr_size, "redis: %zu replies for %zu calls", n,
                         t->call_cnt);
        for (size_t i = 0; i < n && !bad; i++) {
                const redisReply *r = rep[i];
                const call_t *c = &t->calls[i];
                if (c->type != CALL_BATCH) {
                        if (r->type != REDIS_REPLY_ERROR)
                                continue;
                        if (!t->error_cb || sc_track_transient_error(r->str)) {
                                snprintf(errstr, errstr_size, "redis script: %s", r->str);
                                bad = 1;
                        } else
                                sc_log(SC_LOG_WARN, "redis: %s", r->str);
                        continue;
                }
                if (r->type == REDIS_REPLY_ERROR) {
                        /* The call as a whole failed (e.g. writing the
                         * summed counters): every record of it. */
                        for (size_t k = 0; k < c->nrec && !bad; k++)
                                bad = record_error(t, &t->recs[t->order[c->first + k]],
                                                   r->str, errstr, errstr_size);
                        continue;
                }
                if (r->type != REDIS_REPLY_ARRAY || r->elements != c->nrec) {
                        snprintf(errstr, errstr_size,
                                 "redis: %zu results for %zu records",
                                 r->type == REDIS_REPLY_ARRAY ? r->elements : 0, c->nrec);
                        bad = 1;
                        break;
                }
                for (size_t k = 0; k < c->nrec && !bad; k++) {
                        const rec_t *rec = &t->recs[t->order[c->first + k]];
                        const redisReply *rr = r->element[k];
                        if (rr->type == REDIS_REPLY_ERROR) {
                                bad = record_error(t, rec, rr->str, errstr, errstr_size);
                                continue;
                        }
                        if (rr->type != REDIS_REPLY_STRING)
                                continue;
                        call_t rc = {.type = CALL_BATCH,
                                     .tag = rec->tag,
                                     .brand_off = c->brand_off};
                        if (take_result(t, &rc, rr->str, rr->len, counts)) {
                                snprintf(errstr, errstr_size,
                                         "redis: malformed track result");
                                bad = 1;
                        }
                }
        }
        if (bad) {
                reset_batch(t);
                return -1;
        }
        /* Business FRT on a calendar other than the wall clock needs the
         * post's created_at, which only Redis knew: a second round trip for
         * the batch (one call per brand), not per post. */
        if (run_bfrt(t, errstr, errstr_size)) {
                reset_batch(t);
                return -1;
        }
        deliver(t, cb, opaque);
        reset_batch(t);
        return 0;
}

/* ---- the timer ------------------------------------------------------------ */

static void strv_push(char ***v, size_t *n, size_t *cap, const char *brand,
                      const char *member)
{
        size_t bl = strlen(brand), ml = strlen(member);
        char *s = sc_malloc(bl + ml + 2);
        memcpy(s, brand, bl + 1);
        memcpy(s + bl + 1, member, ml + 1);
        SC_PUSH(*v, *n, *cap, s);
}

static ssize_t strv_find(char **v, size_t n, const char *brand, const char *member)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i], brand) && !strcmp(v[i] + strlen(v[i]) + 1, member))
                        return (ssize_t)i;
        return -1;
}

void sc_track_outbox_release(sc_track_t *t, const char *brand, const char *member)
{
        ssize_t i = strv_find(t->inflight, t->inflight_cnt, brand, member);
        if (i >= 0) {
                free(t->inflight[i]);
                t->inflight[i] = t->inflight[--t->inflight_cnt];
        }
}

void sc_track_outbox_done(sc_track_t *t, const char *brand, const char *member)
{
        sc_track_outbox_release(t, brand, member);
        strv_push(&t->done, &t->done_cnt, &t->done_cap, brand, member);
}

size_t sc_track_outbox_inflight(const sc_track_t *t)
{
        return t->inflight_cnt;
}

/* An outbox reply (timer events handed out to this process): each entry not
 * already in flight or done becomes an event, and is in flight from now. */
static void take_outbox(sc_track_t *t, const call_t *c, const redisReply *r)
{
        const char *brand = t->strs.data + c->brand_off;
        for (size_t j = 0; j < r->elements; j++) {
                const redisReply *el = r->element[j];
                if (el->type != REDIS_REPLY_ARRAY || el->elements < 13)
                        continue;
                redisReply *const *x = el->element;
                const char *member = RS(x[0]);
                if (strv_find(t->inflight, t->inflight_cnt, brand, member) >= 0 ||
                    strv_find(t->done, t->done_cnt, brand, member) >= 0)
                        continue;
                ev_t *e = new_ev(t);
                strv_push(&t->inflight, &t->inflight_cnt, &t->inflight_cap, brand,
                          member);
                /* {member, kind, eid, pf, pid, team, prio, ca, due, rca,
                 *  frt, url, txt}: the 'E' layout shifted by one. */
                e->off[0] = ev_str(t, RS(x[1]), RL(x[1]));
                e->off[1] = ev_str(t, brand, strlen(brand));
                for (int k = 2; k <= 6; k++)
                        e->off[k] = ev_str(t, RS(x[k]), RL(x[k]));
                e->created_at = rint64(x[7]);
                e->due_at = rint64(x[8]);
                e->replied_at = RL(x[9]) ? rint64(x[9]) : -1;
                e->frt_ms = RL(x[10]) ? rint64(x[10]) : -1;
                e->has_url = RL(x[11]) > 0;
                e->off[7] = ev_str(t, RS(x[11]), RL(x[11]));
                e->off[8] = ev_str(t, RS(x[12]), RL(x[12]));
                e->has_member = 1;
                e->off[9] = ev_str(t, member, RL(x[0]));
        }
}

int sc_track_scan(sc_track_t *t, const char *const *brands, size_t nb, int64_t now_ms,
                  sc_track_event_cb *cb, void *opaque, sc_track_counts_t *counts,
                  char *errstr, size_t errstr_size)
{
        sc_track_counts_t local = {0};
        if (!counts)
                counts = &local;
        reset_batch(t);
        size_t done_sent = t->done_cnt;
        for (size_t i = 0; i < done_sent; i++) {
                char key[512];
                const char *member = t->done[i] + strlen(t->done[i]) + 1;
                sc_rkey_brand_s(key, sizeof(key), t->done[i], "outbox");
                const char *av[] = {"ZREM", key, member};
                sc_redis_append(t->r, 3, av, NULL);
                push_call(t, CALL_OTHER, 0, t->done[i]);
        }
        for (size_t i = 0; i < nb; i++) {
                args_t a;
                a_begin(t, &a, brands[i]);
                a_key_prefix(t, &a, brands[i]);
                a_common(t, &a, brands[i]);
                a_int(t, &a, now_ms);
                a_int(t, &a, t->conf.breach_grace_ms);
                a_int(t, &a, t->conf.scan_limit);
                a_str(t, &a, t->ncal.data ? t->ncal.data : "", t->ncal.len);
                a_int(t, &a, t->conf.lateness_ms);
                a_int(t, &a, idle_ms(t));
                push_call(t, CALL_SCAN, 0, brands[i]);
                a_send(t, &a, t->s_scan);
                a_begin(t, &a, brands[i]);
                a_key_prefix(t, &a, brands[i]);
                a_common(t, &a, brands[i]);
                a_int(t, &a, t->conf.scan_limit);
                push_call(t, CALL_OUTBOX, 0, brands[i]);
                a_send(t, &a, t->s_outbox);
        }
        redisReply **rep;
        size_t n;
        if (sc_redis_exec(t->r, &rep, &n) == -1) {
                snprintf(errstr, errstr_size, "redis: %s", sc_redis_errstr(t->r));
                reset_batch(t);
                return -1;
        }
        for (size_t i = 0; i < n && i < t->call_cnt; i++) {
                const redisReply *r = rep[i];
                const call_t *c = &t->calls[i];
                if (r->type == REDIS_REPLY_ERROR) {
                        snprintf(errstr, errstr_size, "redis: %s", r->str);
                        reset_batch(t);
                        return -1;
                }
                if (c->type == CALL_SCAN && r->type == REDIS_REPLY_ARRAY &&
                    r->elements == 4) {
                        counts->n[SC_TRACK_K_BREACH] += (uint64_t)rint64(r->element[0]);
                        counts->n[SC_TRACK_K_ORPHAN] += (uint64_t)rint64(r->element[1]);
                        counts->n[SC_TRACK_K_RECONCILED] +=
                            (uint64_t)rint64(r->element[2]);
                        const redisReply *bl = r->element[3];
                        for (size_t j = 0;
                             bl->type == REDIS_REPLY_ARRAY && j < bl->elements; j++)
                                if (bl->element[j]->type == REDIS_REPLY_ARRAY &&
                                    take_bfrt(t, c, bl->element[j])) {
                                        snprintf(errstr, errstr_size, "out of memory");
                                        reset_batch(t);
                                        return -1;
                                }
                }
                if (c->type == CALL_OUTBOX && r->type == REDIS_REPLY_ARRAY)
                        take_outbox(t, c, r);
        }
        /* Replies the timer matched by their thread need business FRT. */
        if (run_bfrt(t, errstr, errstr_size)) {
                reset_batch(t);
                return -1;
        }
        /* The ZREMs went through: forget those entries. */
        for (size_t i = 0; i < done_sent; i++)
                free(t->done[i]);
        if (done_sent) {
                memmove(t->done, t->done + done_sent,
                        (t->done_cnt - done_sent) * sizeof(char *));
                t->done_cnt -= done_sent;
        }
        deliver(t, cb, opaque);
        reset_batch(t);
        return 0;
}

/* ---- totals ---------------------------------------------------------------- */

/* HGETALL, or for a key still in the sorted-set layout of the release before
 * its members with the scores (seconds) in ms. */
const char sc_track_frt_read_lua[] =
    "local r = redis.pcall('HGETALL', KEYS[1])\n"
    "if not r.err then return r end\n"
    "local z = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"
    "for i = 2, #z, 2 do\n"
    "  z[i] = string.format('%d', math.floor(tonumber(z[i]) * 1000 + 0.5))\n"
    "end\n"
    "return z\n";

int sc_track_today(sc_track_t *t, const char *const *brands, size_t nb, int64_t now_ms,
                   sc_track_totals_t *out, char *errstr, size_t errstr_size)
{
        reset_batch(t);
        for (size_t i = 0; i < nb; i++) {
                char ud[16], ld[16], key[512];
                sc_track_days(t, brands[i], now_ms, ud, ld);
                sc_rkey_brand_s(key, sizeof(key), brands[i], "d:l:%s", ld);
                sc_redis_append(t->r, 2, (const char *[]){"HGETALL", key}, NULL);
                sc_rkey_brand_s(key, sizeof(key), brands[i], "f:l:%s", ld);
                sc_redis_append_script(t->r, t->s_frt, 1, 1, (const char *[]){key}, NULL);
                sc_rkey_brand_s(key, sizeof(key), brands[i], "pending");
                sc_redis_append(t->r, 2, (const char *[]){"ZCARD", key}, NULL);
        }
        redisReply **rep;
        size_t n;
        if (sc_redis_exec(t->r, &rep, &n) == -1) {
                snprintf(errstr, errstr_size, "redis: %s", sc_redis_errstr(t->r));
                return -1;
        }
        if (n != nb * 3) {
                snprintf(errstr, errstr_size, "redis: unexpected reply count");
                return -1;
        }
        for (size_t i = 0; i < nb; i++) {
                sc_track_totals_t *o = &out[i];
                memset(o, 0, sizeof(*o));
                const redisReply *h = rep[i * 3], *z = rep[i * 3 + 1];
                for (size_t j = 0; h->type == REDIS_REPLY_ARRAY && j + 1 < h->elements;
                     j += 2) {
                        const char *f = RS(h->element[j]);
                        const char *name = strrchr(f, '|');
                        int k = name ? sc_track_counter_index(name + 1, strlen(name + 1))
                                     : -1;
                        if (k >= 0)
                                o->c[k] += rint64(h->element[j + 1]);
                }
                size_t m = z->type == REDIS_REPLY_ARRAY ? z->elements / 2 : 0;
                double *v = m ? sc_malloc(m * sizeof(double)) : NULL;
                for (size_t j = 0; v && j < m; j++)
                        v[j] = strtod(RS(z->element[j * 2 + 1]), NULL) / 1000;
                o->frt_median_s = v ? sc_track_median(v, m) : 0;
                free(v);
                o->frt_avg_s = o->c[SC_TRACK_REPLIED]
                                   ? (double)o->c[SC_TRACK_FRT_SUM_MS] / 1000.0 /
                                         (double)o->c[SC_TRACK_REPLIED]
                                   : 0;
                o->c[SC_TRACK_PENDING] = rint64(rep[i * 3 + 2]);
        }
        return 0;
}
