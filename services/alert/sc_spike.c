#include "sc_spike.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_buf.h"
#include "sc_rkey.h"

#define DAY_MS     86400000LL
#define MAX_SERIES 8 /* brand + up to 7 topics per post */
#define MAX_NAME   128
/* Posts per counting call: bounds the script's run (Redis runs nothing else
 * meanwhile) and its unpack() (Lua's C stack holds 8000 values). */
#define CALL_POSTS 1000

/* The counting of one brand's posts of a batch (at most CALL_POSTS; a brand
 * with more gets several calls, in order). KEYS: every key the call touches,
 * each once: the seen sets (one per created minute), the buckets (one per
 * series and minute), the recent lists (one per series). ARGV: ttl, recent
 * cap, then per counted post, in batch order: its seen set's index in KEYS,
 * its event id, its series count n and n (bucket, recent) index pairs.
 * A post is counted when its id is not yet in its minute's seen set (nor
 * earlier in this call): one SMISMEMBER (or SADD alone for one id) and one
 * SADD + PEXPIRE per set, then one INCRBY per bucket with the call's sum
 * (its TTL set when the INCRBY created it: no evaluation reads a bucket
 * after the TTL counted from its minute), one LPUSH of the new ids + LTRIM +
 * PEXPIRE per recent list. The seen set's TTL, refreshed on every add, is
 * the bucket's: a replay that could still change a bucket finds its ids.
 * Returns the number of buckets incremented. */
static const char COUNT_LUA[] =
    "local ttl = ARGV[1]; local cap = tonumber(ARGV[2]); local na = #ARGV\n"
    "local sets, setl, i = {}, {}, 3\n"
    "while i <= na do\n"
    "  local s = tonumber(ARGV[i])\n"
    "  local l = sets[s]\n"
    "  if not l then l = {}; sets[s] = l; setl[#setl + 1] = s end\n"
    "  l[#l + 1] = i\n"
    "  i = i + 3 + 2 * tonumber(ARGV[i + 2])\n"
    "end\n"
    "local new = {}\n"
    "for _, s in ipairs(setl) do\n"
    "  local ids, at, dup = {}, {}, {}\n"
    "  for _, p in ipairs(sets[s]) do\n"
    "    local id = ARGV[p + 1]\n"
    "    if not dup[id] then dup[id] = true; ids[#ids + 1] = id; at[#at + 1] = p end\n"
    "  end\n"
    "  local fresh = {}\n"
    "  if #ids == 1 then\n"
    "    if redis.call('SADD', KEYS[s], ids[1]) == 1 then\n"
    "      new[at[1]] = true; fresh[1] = ids[1]\n"
    "    end\n"
    "  else\n"
    "    local r = redis.call('SMISMEMBER', KEYS[s], unpack(ids))\n"
    "    for j = 1, #ids do\n"
    "      if r[j] == 0 then new[at[j]] = true; fresh[#fresh + 1] = ids[j] end\n"
    "    end\n"
    "    if #fresh > 0 then redis.call('SADD', KEYS[s], unpack(fresh)) end\n"
    "  end\n"
    "  if #fresh > 0 then redis.call('PEXPIRE', KEYS[s], ttl) end\n"
    "end\n"
    "local inc, incl, push, pushl = {}, {}, {}, {}\n"
    "i = 3\n"
    "while i <= na do\n"
    "  local e = i + 2 + 2 * tonumber(ARGV[i + 2])\n"
    "  if new[i] then\n"
    "    local id = ARGV[i + 1]\n"
    "    for j = i + 3, e, 2 do\n"
    "      local b, r = tonumber(ARGV[j]), tonumber(ARGV[j + 1])\n"
    "      if inc[b] then inc[b] = inc[b] + 1 else inc[b] = 1; incl[#incl + 1] = b end\n"
    "      local l = push[r]\n"
    "      if not l then l = {}; push[r] = l; pushl[#pushl + 1] = r end\n"
    "      l[#l + 1] = id\n"
    "    end\n"
    "  end\n"
    "  i = e + 1\n"
    "end\n"
    "for _, b in ipairs(incl) do\n"
    "  local c = inc[b]\n"
    "  if redis.call('INCRBY', KEYS[b], c) == c then redis.call('PEXPIRE', KEYS[b], ttl) "
    "end\n"
    "end\n"
    "for _, r in ipairs(pushl) do\n"
    "  local l = push[r]\n"
    "  redis.call('LPUSH', KEYS[r], unpack(l, math.max(1, #l - cap + 1), #l))\n"
    "  redis.call('LTRIM', KEYS[r], 0, cap - 1); redis.call('PEXPIRE', KEYS[r], ttl)\n"
    "end\n"
    "return #incl\n";

/* KEYS: storm, clock, recent, outbox, and the brand's bare prefix
 * "sc:{brand}:", a key that never exists: the bucket keys are not declared,
 * so while the slot migrates the old master must answer ASK (the batch is
 * held, sc_redis.h) rather than run this with some buckets already moved.
 * ARGV: bucket prefix, minute, window,
 * bucket, days, k, min_count, ttl, series name (brand[:topic]), brand, topic,
 * the caller's current minute (a clock more than a bucket past it was set
 * by a post from the future before minutes were clamped to now: ignored).
 * Returns {0} or {kind, id, storm_start, win_start, win_end, count, mean, sd,
 * ids...}. The bucket keys share the brand's hash tag with KEYS (one slot). */
static const char EVAL_LUA[] =
    "local m = tonumber(ARGV[2]); local W = tonumber(ARGV[3]); local B = "
    "tonumber(ARGV[4])\n"
    "local D = tonumber(ARGV[5]); local k = tonumber(ARGV[6]); local minc = "
    "tonumber(ARGV[7])\n"
    "local ttl = ARGV[8]\n"
    "local function f(x) return string.format('%.0f', x) end\n"
    "local clock = tonumber(redis.call('GET', KEYS[2]) or '-1')\n"
    "if clock > tonumber(ARGV[12]) + B then clock = -1 end\n"
    "if m < clock then return {0} end\n"
    "redis.call('SET', KEYS[2], f(m), 'PX', ttl)\n"
    "local function win(e)\n"
    "  local keys = {}\n"
    "  for i = 0, W / B - 1 do keys[#keys + 1] = ARGV[1] .. f(e - i * B) end\n"
    "  local s = 0\n"
    "  for _, v in ipairs(redis.call('MGET', unpack(keys))) do\n"
    "    if v then s = s + tonumber(v) end\n"
    "  end\n"
    "  return s\n"
    "end\n"
    "local count = win(m)\n"
    "local sum, sq = 0, 0\n"
    "for d = 1, D do local c = win(m - d * 86400000); sum = sum + c; sq = sq + c * c "
    "end\n"
    "local mean = D > 0 and sum / D or 0\n"
    "local var = D > 0 and sq / D - mean * mean or 0\n"
    "if var < 0 then var = 0 end\n"
    "local sd = math.max(math.sqrt(var), math.sqrt(mean))\n"
    "local ws = m - W + B\n"
    "local storm = redis.call('GET', KEYS[1])\n"
    "local kind, start\n"
    "if not storm then\n"
    "  if count > mean + k * sd and count >= minc then\n"
    "    kind = 1; start = ws\n"
    "    redis.call('SET', KEYS[1], f(ws), 'PX', ttl)\n"
    "  end\n"
    "else\n"
    "  redis.call('PEXPIRE', KEYS[1], ttl)\n"
    "  if count <= mean + sd or count < minc / 2 then\n"
    "    kind = 2; start = tonumber(storm)\n"
    "    redis.call('DEL', KEYS[1])\n"
    "  end\n"
    "end\n"
    "if not kind then return {0} end\n"
    "local id = (kind == 1 and 'spike:' or 'spike_resolved:') .. ARGV[9] .. ':' .. "
    "f(start)\n"
    "local ids = redis.call('LRANGE', KEYS[3], 0, -1)\n"
    "local r = {kind, id, f(start), f(ws), f(m + B), f(count), string.format('%.6f', "
    "mean), string.format('%.6f', sd)}\n"
    "for _, x in ipairs(ids) do r[#r + 1] = x end\n"
    "redis.call('HSET', KEYS[4], id, table.concat({kind, ARGV[10], ARGV[11], r[3], "
    "r[4], r[5], r[6], r[7], r[8], table.concat(ids, '\\31')}, '\\t'))\n"
    "return r\n";

/* One (series, minute) to evaluate in this batch. */
typedef struct eval_s {
        char brand[MAX_NAME];
        char topic[MAX_NAME]; /* "" for the brand series */
        int64_t minute;
        size_t tag;
} eval_t;

/* One brand's counting call being built: its KEYS (each once, found by
 * hash) and ARGV, as strings in its own buffers, reused batch after batch. */
typedef struct call_s {
        char brand[MAX_NAME];
        size_t posts; /* counted posts in it */
        sc_buf_t keys, args;
        size_t *koff, *aoff;
        size_t kcnt, kcap, acnt, acap;
        uint32_t *tab; /* key index + 1 by hash, 0 = empty */
        size_t tab_cap;
        int64_t seen_min; /* cache: the last post's seen set */
        size_t seen_idx;
        int64_t b_min; /* cache: the brand series' bucket of minute b_min */
        size_t b_idx, r_idx;
} call_t;

typedef struct ev_store_s {
        sc_spike_event_t ev;
        size_t str_off[4]; /* alert_id, brand, topic, ids start */
        int has_topic;
} ev_store_t;

struct sc_spike_s {
        sc_redis_t *redis;
        sc_spike_opts_t o;
        sc_redis_script_t *count, *eval;
        int64_t ttl_ms;
        eval_t *evals;
        size_t eval_cnt, eval_cap;
        size_t cmds;       /* commands appended since begin */
        size_t count_cmds; /* of which counting scripts (they come first) */
        ev_store_t *events;
        size_t event_cnt, event_cap;
        int64_t now_ms; /* the batch's wall clock (sc_spike_begin) */
        call_t *calls;  /* [0, call_cnt) this batch's, up to call_init set up */
        size_t call_cnt, call_init, call_cap, call_last;
        const char **argv; /* a call's KEYS and ARGV, as handed to sc_redis */
        size_t argv_cap;
        int failed;    /* a counting call could not be queued: retry the batch */
        sc_buf_t strs; /* event strings, as offsets until collect ends */
        const char **idptrs;
        size_t idptr_cap;
};

sc_spike_t *sc_spike_new(sc_redis_t *r, const sc_spike_opts_t *opts, char *errstr,
                         size_t errstr_size)
{
        sc_spike_t *s = sc_calloc(1, sizeof(*s));
        s->redis = r;
        s->o = *opts;
        if (s->o.bucket_ms <= 0)
                s->o.bucket_ms = 60000;
        if (s->o.window_ms <= 0)
                s->o.window_ms = 15 * 60000;
        if (s->o.window_ms % s->o.bucket_ms || s->o.window_ms / s->o.bucket_ms > 1440) {
                snprintf(errstr, errstr_size,
                         "spike window must be a multiple of %lld ms and at most 1440 "
                         "buckets",
                         (long long)s->o.bucket_ms);
                free(s);
                return NULL;
        }
        if (s->o.baseline_days < 0)
                s->o.baseline_days = 0;
        if (s->o.recent_ids <= 0)
                s->o.recent_ids = 10;
        s->ttl_ms = (s->o.baseline_days + 1) * DAY_MS + s->o.window_ms;
        s->count = sc_redis_script(r, COUNT_LUA);
        s->eval = sc_redis_script(r, EVAL_LUA);
        if (!s->count || !s->eval) {
                snprintf(errstr, errstr_size, "cannot register spike scripts");
                free(s);
                return NULL;
        }
        sc_redis_script_declares_keys(s->count);
        return s;
}

void sc_spike_destroy(sc_spike_t *s)
{
        if (!s)
                return;
        free(s->evals);
        free(s->events);
        free(s->idptrs);
        sc_buf_free(&s->strs);
        for (size_t i = 0; i < s->call_init; i++) {
                call_t *c = &s->calls[i];
                sc_buf_free(&c->keys);
                sc_buf_free(&c->args);
                free(c->koff);
                free(c->aoff);
                free(c->tab);
        }
        free(s->calls);
        free(s->argv);
        free(s);
}

void sc_spike_begin(sc_spike_t *s, int64_t now_ms)
{
        s->now_ms = now_ms;
        s->eval_cnt = 0;
        s->cmds = 0;
        s->count_cmds = 0;
        s->event_cnt = 0;
        s->call_cnt = 0;
        s->failed = 0;
        sc_buf_reset(&s->strs);
}

static void series_name(char *out, size_t n, const char *brand, const char *topic)
{
        if (topic && *topic)
                snprintf(out, n, "%s:%s", brand, topic);
        else
                snprintf(out, n, "%s", brand);
}

/* Series part of keys: "-" for the brand, "t:<topic>" for a topic. */
static void key(char *out, size_t n, const char *brand, const char *what,
                const char *topic)
{
        if (topic && *topic)
                sc_rkey_brand_s(out, n, brand, "alert:%s:t:%s", what, topic);
        else
                sc_rkey_brand_s(out, n, brand, "alert:%s:-", what);
}

static int touch(sc_spike_t *s, const char *brand, const char *topic, int64_t minute,
                 size_t tag)
{
        for (size_t i = 0; i < s->eval_cnt; i++) {
                eval_t *e = &s->evals[i];
                if (e->minute == minute && !strcmp(e->brand, brand) &&
                    !strcmp(e->topic, topic ? topic : "")) {
                        if (tag > e->tag)
                                e->tag = tag;
                        return 0;
                }
        }
        SC_GROW(s->evals, s->eval_cap, s->eval_cnt + 1);
        eval_t *e = &s->evals[s->eval_cnt++];
        snprintf(e->brand, sizeof(e->brand), "%s", brand);
        snprintf(e->topic, sizeof(e->topic), "%s", topic ? topic : "");
        e->minute = minute;
        e->tag = tag;
        return 0;
}

static int64_t floor_bucket(const sc_spike_t *s, int64_t t)
{
        /* No bucket starts this early (the floor would wrap into the far
         * future, i.e. "now"): older than any cutoff. */
        if (t < INT64_MIN + s->o.bucket_ms)
                return INT64_MIN;
        return t - ((t % s->o.bucket_ms) + s->o.bucket_ms) % s->o.bucket_ms;
}

static uint32_t fnv1a(const char *p, size_t n)
{
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)p[i]) * 16777619u;
        return h;
}

static void tab_put(call_t *c, size_t idx)
{
        const char *k = c->keys.data + c->koff[idx];
        size_t m = c->tab_cap - 1;
        for (size_t h = fnv1a(k, strlen(k)) & m;; h = (h + 1) & m)
                if (!c->tab[h]) {
                        c->tab[h] = (uint32_t)idx + 1;
                        return;
                }
}

/* The 1-based index of key k[n] in the call's KEYS, added when new; 0: no
 * memory. */
static size_t key_index(call_t *c, const char *k, size_t n)
{
        if (2 * (c->kcnt + 1) > c->tab_cap) {
                size_t cap = c->tab_cap ? 2 * c->tab_cap : 64;
                free(c->tab);
                c->tab = sc_calloc(cap, sizeof(*c->tab));
                c->tab_cap = cap;
                for (size_t i = 0; i < c->kcnt; i++)
                        tab_put(c, i);
        }
        size_t m = c->tab_cap - 1, h = fnv1a(k, n) & m;
        for (; c->tab[h]; h = (h + 1) & m) {
                /* strncmp, not memcmp: a shorter x ends before n bytes,
                 * maybe at the end of the buffer. */
                const char *x = c->keys.data + c->koff[c->tab[h] - 1];
                if (!strncmp(x, k, n) && x[n] == '\0')
                        return c->tab[h];
        }
        SC_GROW(c->koff, c->kcap, c->kcnt + 1);
        c->koff[c->kcnt] = c->keys.len;
        if (sc_buf_append(&c->keys, k, n + 1))
                return 0;
        c->tab[h] = (uint32_t)++c->kcnt;
        return c->kcnt;
}

/* v[n] (NUL-terminated) as the call's next ARGV entry. */
static int arg_str(call_t *c, const char *v, size_t n)
{
        SC_GROW(c->aoff, c->acap, c->acnt + 1);
        c->aoff[c->acnt++] = c->args.len;
        return sc_buf_append(&c->args, v, n + 1);
}

static int arg_num(call_t *c, long long v)
{
        char b[24], *p = b + sizeof(b) - 1;
        unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
        *p = '\0';
        do
                *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (v < 0)
                *--p = '-';
        return arg_str(c, p, (size_t)(b + sizeof(b) - 1 - p));
}

static void call_reset(const sc_spike_t *s, call_t *c)
{
        c->posts = 0;
        sc_buf_reset(&c->keys);
        sc_buf_reset(&c->args);
        c->kcnt = c->acnt = 0;
        if (c->tab)
                memset(c->tab, 0, c->tab_cap * sizeof(*c->tab));
        c->seen_min = c->b_min = INT64_MIN;
        arg_num(c, s->ttl_ms);
        arg_num(c, s->o.recent_ids);
}

/* The brand's call of this batch, started when new. */
static call_t *call_of(sc_spike_t *s, const char *brand)
{
        if (s->call_last < s->call_cnt && !strcmp(s->calls[s->call_last].brand, brand))
                return &s->calls[s->call_last];
        for (size_t i = 0; i < s->call_cnt; i++)
                if (!strcmp(s->calls[i].brand, brand)) {
                        s->call_last = i;
                        return &s->calls[i];
                }
        SC_GROW(s->calls, s->call_cap, s->call_cnt + 1);
        if (s->call_cnt == s->call_init)
                memset(&s->calls[s->call_init++], 0, sizeof(*s->calls));
        call_t *c = &s->calls[s->call_cnt];
        s->call_last = s->call_cnt++;
        snprintf(c->brand, sizeof(c->brand), "%s", brand);
        call_reset(s, c);
        return c;
}

/* Queues c's call (if it counts anything) and empties it. */
static void call_flush(sc_spike_t *s, call_t *c)
{
        if (!c->posts)
                return;
        size_t n = c->kcnt + c->acnt;
        SC_GROW(s->argv, s->argv_cap, n);
        for (size_t i = 0; i < c->kcnt; i++)
                s->argv[i] = c->keys.data + c->koff[i];
        for (size_t i = 0; i < c->acnt; i++)
                s->argv[c->kcnt + i] = c->args.data + c->aoff[i];
        if (sc_redis_append_script(s->redis, s->count, (int)c->kcnt, (int)n, s->argv,
                                   NULL) == 0) {
                s->cmds++;
                s->count_cmds++;
        } else {
                s->failed = 1;
        }
        call_reset(s, c);
}

/* Index of a series' key ("neg" with its minute, or "recent") in c's KEYS. */
static size_t series_index(call_t *c, const char *brand, const char *what,
                           const char *topic, int with_minute, int64_t minute)
{
        char k[2 * MAX_NAME + 64];
        key(k, sizeof(k), brand, what, topic);
        size_t l = strlen(k);
        if (with_minute)
                l += (size_t)snprintf(k + l, sizeof(k) - l, ":%lld", (long long)minute);
        return l < sizeof(k) ? key_index(c, k, l) : 0;
}

/* Adds a counted post to its brand's call: its minute's seen set, its id and
 * the (bucket, recent list) of each of its nser series (the brand's, then
 * topics[0..nser-2]). */
static int count_post(sc_spike_t *s, const char *brand, const char *const *topics,
                      size_t nser, const char *event_id, int64_t seen_min, int64_t minute)
{
        call_t *c = call_of(s, brand);
        if (c->seen_min != seen_min) {
                char k[2 * MAX_NAME + 64];
                int l = sc_rkey_brand_s(k, sizeof(k), brand, "alert:ids:%lld",
                                        (long long)seen_min);
                c->seen_idx =
                    l > 0 && (size_t)l < sizeof(k) ? key_index(c, k, (size_t)l) : 0;
                c->seen_min = seen_min;
        }
        size_t n = 1;
        for (size_t i = 1; i < nser; i++)
                n += strlen(topics[i - 1]) < MAX_NAME;
        if (!c->seen_idx || arg_num(c, (long long)c->seen_idx) ||
            arg_str(c, event_id, strlen(event_id)) || arg_num(c, (long long)n))
                return -1;
        for (size_t i = 0; i < nser; i++) {
                const char *t = i ? topics[i - 1] : NULL;
                size_t bi, ri;
                if (!t) {
                        if (c->b_min != minute) {
                                c->b_idx = series_index(c, brand, "neg", NULL, 1, minute);
                                c->r_idx = series_index(c, brand, "recent", NULL, 0, 0);
                                c->b_min = minute;
                        }
                        bi = c->b_idx;
                        ri = c->r_idx;
                } else {
                        if (strlen(t) >= MAX_NAME)
                                continue;
                        bi = series_index(c, brand, "neg", t, 1, minute);
                        ri = series_index(c, brand, "recent", t, 0, 0);
                }
                if (!bi || !ri || arg_num(c, (long long)bi) || arg_num(c, (long long)ri))
                        return -1;
        }
        if (++c->posts == CALL_POSTS)
                call_flush(s, c);
        return 0;
}

int sc_spike_add(sc_spike_t *s, const char *brand, const char *const *topics,
                 size_t topic_cnt, const char *event_id, int64_t created_ms, int counted,
                 size_t tag)
{
        if (strlen(brand) >= MAX_NAME)
                return 0; /* no such brand id in a valid deployment file */
        int64_t minute = floor_bucket(s, created_ms),
                now_min = floor_bucket(s, s->now_ms);
        /* A post from the future (clock skew, a raw producer) would move the
         * series clock ahead and silence every current minute until wall
         * clock caught up: it counts in, and is evaluated at, this minute. */
        if (minute > now_min)
                minute = now_min;
        /* No evaluation from now on reads a bucket this old (window plus the
         * baseline days): counting it would only create dead keys. */
        if (minute <= now_min - s->o.baseline_days * DAY_MS - s->o.window_ms)
                return 0;
        /* Each topic once: a record naming one twice (any producer may
         * write one) must not count the post twice in that topic. */
        const char *uniq[MAX_SERIES - 1];
        size_t nser = 1;
        for (size_t i = 0; s->o.per_topic && i < topic_cnt && nser < MAX_SERIES; i++) {
                size_t j = 0;
                while (j < nser - 1 && strcmp(uniq[j], topics[i]))
                        j++;
                if (j == nser - 1)
                        uniq[nser++ - 1] = topics[i];
        }
        for (size_t i = 0; i < nser; i++) {
                const char *t = i ? uniq[i - 1] : NULL;
                if (t && strlen(t) >= MAX_NAME)
                        continue;
                if (touch(s, brand, t, minute, tag))
                        return -1;
        }
        if (!counted)
                return 0;
        return count_post(s, brand, uniq, nser, event_id, floor_bucket(s, created_ms),
                          minute);
}

static int eval_cmp(const void *a, const void *b)
{
        const eval_t *x = a, *y = b;
        if (x->minute != y->minute)
                return x->minute < y->minute ? -1 : 1;
        int c = strcmp(x->brand, y->brand);
        return c ? c : strcmp(x->topic, y->topic);
}

size_t sc_spike_prepare(sc_spike_t *s)
{
        /* The counting first (one call per brand), so every evaluation sees
         * the whole batch counted. */
        for (size_t i = 0; i < s->call_cnt; i++)
                call_flush(s, &s->calls[i]);
        /* Minutes in ascending order, so a batch that spans a storm's start
         * and end (a backlog) still sees both. */
        if (s->eval_cnt > 64) {
                qsort(s->evals, s->eval_cnt, sizeof(*s->evals), eval_cmp);
        } else {
                /* Few entries: insertion sort (glibc's qsort may allocate). */
                for (size_t i = 1; i < s->eval_cnt; i++) {
                        eval_t tmp = s->evals[i];
                        size_t j = i;
                        for (; j > 0 && eval_cmp(&s->evals[j - 1], &tmp) > 0; j--)
                                s->evals[j] = s->evals[j - 1];
                        s->evals[j] = tmp;
                }
        }
        char k[5][2 * MAX_NAME + 64], prefix[2 * MAX_NAME + 64], series[2 * MAX_NAME + 2];
        char mins[24], nowm[24], win[24], bucket[24], days[16], kk[32], minc[24], ttl[24];
        snprintf(win, sizeof(win), "%lld", (long long)s->o.window_ms);
        snprintf(bucket, sizeof(bucket), "%lld", (long long)s->o.bucket_ms);
        snprintf(days, sizeof(days), "%d", s->o.baseline_days);
        snprintf(kk, sizeof(kk), "%.6f", s->o.k);
        snprintf(minc, sizeof(minc), "%lld", (long long)s->o.min_count);
        snprintf(ttl, sizeof(ttl), "%lld", (long long)s->ttl_ms);
        snprintf(nowm, sizeof(nowm), "%lld", (long long)floor_bucket(s, s->now_ms));
        for (size_t i = 0; i < s->eval_cnt; i++) {
                eval_t *e = &s->evals[i];
                key(k[0], sizeof(k[0]), e->brand, "storm", e->topic);
                key(k[1], sizeof(k[1]), e->brand, "clock", e->topic);
                key(k[2], sizeof(k[2]), e->brand, "recent", e->topic);
                sc_spike_outbox_key(e->brand, k[3], sizeof(k[3]));
                sc_rkey_brand_s(k[4], sizeof(k[4]), e->brand, "%s", "");
                key(prefix, sizeof(prefix), e->brand, "neg", e->topic);
                size_t l = strlen(prefix);
                snprintf(prefix + l, sizeof(prefix) - l, ":");
                series_name(series, sizeof(series), e->brand, e->topic);
                snprintf(mins, sizeof(mins), "%lld", (long long)e->minute);
                const char *argv[] = {k[0], k[1],   k[2],     k[3],     k[4], prefix,
                                      mins, win,    bucket,   days,     kk,   minc,
                                      ttl,  series, e->brand, e->topic, nowm};
                if (sc_redis_append_script(s->redis, s->eval, 5, 17, argv, NULL) == 0)
                        s->cmds++;
        }
        return s->cmds;
}

static size_t put_str(sc_spike_t *s, const char *p, size_t n)
{
        size_t off = s->strs.len;
        sc_buf_append(&s->strs, p, n);
        sc_buf_putc(&s->strs, '\0');
        return off;
}

static int64_t reply_ll(const redisReply *r)
{
        if (r->type == REDIS_REPLY_INTEGER)
                return r->integer;
        if (r->type == REDIS_REPLY_STRING)
                return strtoll(r->str, NULL, 10);
        return 0;
}

static double reply_d(const redisReply *r)
{
        if (r->type == REDIS_REPLY_INTEGER)
                return (double)r->integer;
        if (r->type == REDIS_REPLY_STRING)
                return strtod(r->str, NULL);
        return 0;
}

static ev_store_t *new_event(sc_spike_t *s)
{
        SC_GROW(s->events, s->event_cap, s->event_cnt + 1);
        ev_store_t *e = &s->events[s->event_cnt++];
        memset(e, 0, sizeof(*e));
        return e;
}

/* Strings were stored as offsets while the arena grew: fix the pointers. */
static int finalize_events(sc_spike_t *s)
{
        size_t nids = 0;
        for (size_t i = 0; i < s->event_cnt; i++)
                nids += s->events[i].ev.id_cnt;
        SC_GROW(s->idptrs, s->idptr_cap, nids);
        size_t at = 0;
        for (size_t i = 0; i < s->event_cnt; i++) {
                ev_store_t *e = &s->events[i];
                e->ev.alert_id = s->strs.data + e->str_off[0];
                e->ev.brand = s->strs.data + e->str_off[1];
                e->ev.topic = e->has_topic ? s->strs.data + e->str_off[2] : NULL;
                const char *p = s->strs.data + e->str_off[3];
                e->ev.ids = s->idptrs + at;
                for (size_t k = 0; k < e->ev.id_cnt; k++) {
                        s->idptrs[at++] = p;
                        p += strlen(p) + 1;
                }
        }
        return 0;
}

int sc_spike_collect(sc_spike_t *s, redisReply **replies, size_t cnt, char *errstr,
                     size_t errstr_size)
{
        if (s->failed) {
                snprintf(errstr, errstr_size,
                         "spike: a counting call could not be queued");
                return -1;
        }
        if (cnt < s->cmds) {
                snprintf(errstr, errstr_size, "spike: %zu replies for %zu commands", cnt,
                         s->cmds);
                return -1;
        }
        for (size_t i = 0; i < s->cmds; i++) {
                const redisReply *r = replies[i];
                if (r->type == REDIS_REPLY_ERROR) {
                        snprintf(errstr, errstr_size, "spike script: %s", r->str);
                        return -1;
                }
                if (i < s->count_cmds)
                        continue;
                const eval_t *e = &s->evals[i - s->count_cmds];
                if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
                    reply_ll(r->element[0]) == 0)
                        continue;
                if (r->elements < 8 || r->element[1]->type != REDIS_REPLY_STRING) {
                        snprintf(errstr, errstr_size, "spike script: bad reply");
                        return -1;
                }
                ev_store_t *st = new_event(s);
                if (!st)
                        return -1;
                sc_spike_event_t *ev = &st->ev;
                ev->kind = (int)reply_ll(r->element[0]);
                st->str_off[0] = put_str(s, r->element[1]->str, r->element[1]->len);
                st->str_off[1] = put_str(s, e->brand, strlen(e->brand));
                st->has_topic = e->topic[0] != '\0';
                st->str_off[2] = put_str(s, e->topic, strlen(e->topic));
                ev->storm_start = reply_ll(r->element[2]);
                ev->window_start = reply_ll(r->element[3]);
                ev->window_end = reply_ll(r->element[4]);
                ev->count = reply_ll(r->element[5]);
                ev->mean = reply_d(r->element[6]);
                ev->stddev = reply_d(r->element[7]);
                st->str_off[3] = s->strs.len;
                for (size_t k = 8; k < r->elements; k++) {
                        if (r->element[k]->type != REDIS_REPLY_STRING)
                                continue;
                        put_str(s, r->element[k]->str, r->element[k]->len);
                        ev->id_cnt++;
                }
                ev->tag = e->tag;
        }
        if (finalize_events(s))
                return -1;
        return (int)s->event_cnt;
}

const sc_spike_event_t *sc_spike_event(const sc_spike_t *s, size_t i)
{
        return i < s->event_cnt ? &s->events[i].ev : NULL;
}

void sc_spike_outbox_key(const char *brand, char *out, size_t out_size)
{
        sc_rkey_brand_s(out, out_size, brand, "alert:outbox");
}

int sc_spike_outbox_parse(char *value, const char *alert_id, sc_spike_event_t *ev,
                          const char **ids, size_t max_ids)
{
        char *f[10];
        int n = 0;
        char *p = value;
        memset(ev, 0, sizeof(*ev));
        while (n < 10) {
                f[n++] = p;
                char *t = strchr(p, '\t');
                if (!t)
                        break;
                *t = '\0';
                p = t + 1;
        }
        if (n < 9)
                return -1;
        ev->kind = atoi(f[0]);
        if (ev->kind != SC_SPIKE_OPENED && ev->kind != SC_SPIKE_RESOLVED)
                return -1;
        ev->alert_id = alert_id;
        ev->brand = f[1];
        ev->topic = *f[2] ? f[2] : NULL;
        ev->storm_start = strtoll(f[3], NULL, 10);
        ev->window_start = strtoll(f[4], NULL, 10);
        ev->window_end = strtoll(f[5], NULL, 10);
        ev->count = strtoll(f[6], NULL, 10);
        ev->mean = strtod(f[7], NULL);
        ev->stddev = strtod(f[8], NULL);
        ev->ids = ids;
        if (n == 10 && *f[9]) {
                for (char *q = f[9]; q && ev->id_cnt < max_ids;) {
                        ids[ev->id_cnt++] = q;
                        q = strchr(q, '\x1f');
                        if (q)
                                *q++ = '\0';
                }
        }
        return 0;
}
