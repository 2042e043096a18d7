/* socialcare-ingest: social.posts.raw (JSON) -> social.posts (Avro Post).
 *
 * Per batch: normalize every input, then one Redis round trip decides each
 * post's brand where the input alone does not (the brand of the post it
 * answers, from ingest's own record of that post) and claims each (platform,
 * post id, brand) for its origin (topic/partition/offset/item), then encode
 * and produce. A claim already held by the same origin is a replay after a
 * crash and is forwarded again with the same event id; a claim held by
 * another origin is a true duplicate and is counted, not forwarded. Because
 * the claim names its origin, writing it before the output is delivered
 * cannot lose a post.
 *
 * A post's record and claims are one string, sc:conv:{<platform>:<thread>}:<id>
 * = "<brand>=<origin>[ <brand>=<origin>...]": the first entry is the post's
 * brand and its claim, the others the claims of further brands (multi_brand
 * all, or the same post named for another brand). <thread> is the
 * conversation (thread id, else parent id, else the post itself): the post,
 * its parent and its thread's root share the hash tag, so the script's keys
 * are in one slot on Redis Cluster. A post whose brand the input decides and
 * that gets one copy (nearly all) is claimed by one plain SET NX GET (one
 * command); the attribution script (a reply's lookup, several copies) only
 * where it is needed, and in a second round trip for the rare post whose
 * record holds another brand first or is a hash of the previous layout. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_ingest.h"
#include "sc_log.h"
#include "sc_rkey.h"
#include "sc_time.h"
#include "sc_worker.h"

static const sc_conf_def_t ingest_defs[] = {
    {"ingest.output_topic", SC_CONF_STR, "social.posts", 1, 0,
     "topic of Avro Post records"},
    {"ingest.max_message_bytes", SC_CONF_INT, "0", 0, 67108864,
     "largest raw message accepted; larger ones are dead-lettered unparsed (a "
     "prefix). 0: messages.max_bytes - 20480, the largest input whose dead letter "
     "keeps it whole; a larger value is refused at start"},
    {"ingest.max_text_bytes", SC_CONF_INT, "10000", 16, 1048576,
     "longest post text accepted, in bytes"},
    {"ingest.max_id_bytes", SC_CONF_INT, "256", 16, 1024,
     "longest post, author, parent or thread id; longer is a bad_field dead letter"},
    {"ingest.max_handle_bytes", SC_CONF_INT, "256", 16, 1024,
     "longest author handle kept; longer ones are cut (counted)"},
    {"ingest.max_url_bytes", SC_CONF_INT, "2048", 64, 65536,
     "longest post URL kept; longer ones are dropped (counted)"},
    {"ingest.max_followers", SC_CONF_INT, "10000000000", 0, 1e15,
     "largest believable follower count; larger (or negative, or not an integer) "
     "is taken as unknown: 0 (counted)"},
    {"ingest.dedup_ttl_s", SC_CONF_INT, "604800", 60, 31536000,
     "how long a (platform, post id) is remembered for duplicate detection, from "
     "its first claim"},
    {"ingest.max_future_s", SC_CONF_INT, "86400", 0, 31536000,
     "how far in the future created_at may be (clock skew)"},
    {"ingest.multi_brand", SC_CONF_STR, "first", 0, 0,
     "a post naming several brands: first (one brand, README \"Brand attribution\") "
     "or all (one copy per brand named, each with its own event id)"},
    SC_CONF_END,
};

/* The post's strings, kept in ingest_t.strings until the brand is known
 * (the normalizer's storage is reused by the next input). */
static const size_t post_str_fields[] = {
    offsetof(sc_post_t, platform),  offsetof(sc_post_t, post_id),
    offsetof(sc_post_t, parent_id), offsetof(sc_post_t, thread_id),
    offsetof(sc_post_t, author_id), offsetof(sc_post_t, author_handle),
    offsetof(sc_post_t, lang_hint), offsetof(sc_post_t, url),
};
#define POST_STRS (sizeof(post_str_fields) / sizeof(post_str_fields[0]))
#define NO_STR    ((size_t)-1)

enum { KEY_OWN, KEY_PARENT, KEY_THREAD, KEY_CNT };

typedef struct item_s {
        size_t msg;
        sc_post_t post; /* strings in str_off / text_off, brand and event id unset */
        size_t str_off[POST_STRS], text_off;
        const sc_brand_t *fixed; /* see sc_ingest_attr_t */
        int lookup;
        const sc_brand_t *mentions[SC_INGEST_MAX_MENTIONS];
        size_t mention_cnt;
        size_t key_off[KEY_CNT], key_len[KEY_CNT];
        size_t origin_off, origin_len;
        /* What Redis decided: how the brand was found (attr_sources index,
         * -1: no brand known) and, per copy (0: the post's brand), the brand
         * (NULL: no longer configured, dead-lettered) and whether this origin
         * holds its claim. */
        int src;
        size_t claim_cnt;
        const sc_brand_t *claim_brand[1 + SC_INGEST_MAX_MENTIONS];
        int claim_ok[1 + SC_INGEST_MAX_MENTIONS];
        int scripted; /* needs (or ran) the attribution script */
} item_t;

typedef struct failure_s {
        size_t msg;
        const char *reason;
        size_t detail_off;
} failure_t;

typedef struct ingest_s {
        sc_worker_t *w;
        sc_ingest_t *ing;
        sc_avro_codec_t *codec;
        sc_redis_script_t *attr;
        const char *output_topic;
        char ttl[24];
        sc_buf_t payloads, strings;
        item_t *items;
        size_t item_cnt, item_cap;
        failure_t *failures;
        size_t failure_cnt, failure_cap;
        sc_ingest_result_t res;
        sc_counter_t *posts_total, *ignored_total;
        sc_counter_t *attributed[5]; /* by attr_sources */
        int multi_brand_all;
        /* socialcare_ingest_normalized_total{field,action}, looked up once. */
        struct {
                const char *field, *action;
                sc_counter_t *c;
        } norm_counters[32];
        size_t norm_counter_cnt;
} ingest_t;

/* Attribution and dedup claims of one post, one slot (see the top).
 *   KEYS: the post's record, its parent's, its thread root's (the post's own
 *         when it has none)
 *   ARGV: origin, ttl, fixed brand or "", lookup "1"|"0", brand named
 *         earliest in the text or "", then every brand to copy it to
 *         (multi_brand all)
 * The brand: the fixed one (named, or by account); else what this post was
 * attributed to before (a replay decides as the first pass did); else the
 * parent's, else the thread root's; else the text's. Returns
 * {source, brand, claimed, brand, claimed, ...} (claimed 1: forward, 0: a
 * duplicate from another origin), or {} when no brand is known. The record
 * is written only when it changes, with the TTL of its first write; a hash
 * of the previous layout (field b, fields c:<brand>) is read as such and
 * rewritten in this one. */
static const char attr_lua[] =
    "local function rec(k)\n"
    "  local v, e = redis.pcall('GET', k), {}\n"
    "  if type(v) == 'table' and v.err then\n"
    "    local h, b = redis.call('HGETALL', k)\n"
    "    for i = 1, #h, 2 do\n"
    "      if h[i] == 'b' then b = h[i + 1]\n"
    "      elseif h[i]:sub(1, 2) == 'c:' then e[#e + 1] = {h[i]:sub(3), h[i + 1]} end\n"
    "    end\n"
    "    return b, e, true\n"
    "  end\n"
    "  for x, o in string.gmatch(v or '', '([^= ]+)=([^ ]+)') do e[#e + 1] = {x, o} end\n"
    "  return e[1] and e[1][1], e, false\n"
    "end\n"
    "local own, origin, ttl = KEYS[1], ARGV[1], ARGV[2]\n"
    "local rb, e, old = rec(own)\n"
    "local b, src = ARGV[3], 'fixed'\n"
    "if b == '' then\n"
    "  b, src = rb, 'record'\n"
    "  if not b and ARGV[4] == '1' then\n"
    "    b, src = (rec(KEYS[2])), 'parent'\n"
    "    if not b then b, src = (rec(KEYS[3])), 'thread' end\n"
    "  end\n"
    "  if not b then b, src = ARGV[5], 'text' end\n"
    "end\n"
    "if b == '' then return {} end\n"
    "local claims, out, done, changed = {}, {src}, {}, old or rb ~= b\n"
    "for _, x in ipairs(e) do claims[x[1]] = claims[x[1]] or x[2] end\n"
    "local function claim(x)\n"
    "  if done[x] then return end\n"
    "  done[x] = true\n"
    "  local v, ok = claims[x], 0\n"
    "  if not v then claims[x] = origin e[#e + 1] = {x, origin} changed = true ok = 1\n"
    "  elseif v == origin then ok = 1 end\n"
    "  out[#out + 1] = x\n"
    "  out[#out + 1] = ok\n"
    "end\n"
    "claim(b)\n"
    "for i = 6, #ARGV do claim(ARGV[i]) end\n"
    "if changed then\n"
    "  local parts, seen = {b .. '=' .. claims[b]}, {[b] = true}\n"
    "  for _, x in ipairs(e) do\n"
    "    if not seen[x[1]] then seen[x[1]] = true parts[#parts + 1] = x[1] .. '=' .. "
    "claims[x[1]] end\n"
    "  end\n"
    "  if rb or old then redis.call('SET', own, table.concat(parts, ' '), 'KEEPTTL')\n"
    "  else redis.call('SET', own, table.concat(parts, ' '), 'EX', ttl) end\n"
    "end\n"
    "return out\n";

static const char *const attr_sources[] = {"fixed", "record", "parent", "thread", "text"};

/* The largest input whose dead letter keeps it whole (the limit is
 * checked by ingest_check_config before this is used). */
static int64_t whole_dlq_bytes(const sc_config_t *c)
{
        char err[256];
        int64_t n = sc_worker_max_record_bytes(c, err, sizeof(err)) - SC_DLQ_HEADROOM;
        return n > 1024 ? n : 1024;
}

static sc_ingest_opts_t opts_from(const sc_config_t *c)
{
        int64_t max_msg = sc_config_int(c, "ingest.max_message_bytes");
        sc_ingest_opts_t o = {
            .max_message_bytes = (size_t)(max_msg ? max_msg : whole_dlq_bytes(c)),
            .max_text_bytes = (size_t)sc_config_int(c, "ingest.max_text_bytes"),
            .max_future_ms = sc_config_int(c, "ingest.max_future_s") * 1000,
            .multi_brand_all = !strcmp(sc_config_str(c, "ingest.multi_brand"), "all"),
            .max_id_bytes = (size_t)sc_config_int(c, "ingest.max_id_bytes"),
            .max_handle_bytes = (size_t)sc_config_int(c, "ingest.max_handle_bytes"),
            .max_url_bytes = (size_t)sc_config_int(c, "ingest.max_url_bytes"),
            .max_followers = sc_config_int(c, "ingest.max_followers"),
        };
        return o;
}

/* Limits that cannot hold together are refused at start (and on SIGHUP)
 * rather than found out by the first message that hits them. */
static int ingest_check_config(const sc_config_t *c, char *errstr, size_t errstr_size)
{
        const char *mb = sc_config_str(c, "ingest.multi_brand");
        if (strcmp(mb, "first") && strcmp(mb, "all")) {
                snprintf(errstr, errstr_size,
                         "ingest.multi_brand must be first or all, not '%s'", mb);
                return -1;
        }
        int64_t max_rec = sc_worker_max_record_bytes(c, errstr, errstr_size);
        int64_t max_msg = sc_config_int(c, "ingest.max_message_bytes");
        if (max_rec < 0)
                return -1;
        if (max_msg > whole_dlq_bytes(c)) {
                snprintf(errstr, errstr_size,
                         "ingest.max_message_bytes=%lld does not fit a dead letter: "
                         "messages.max_bytes=%lld leaves %lld for the original after "
                         "%d bytes of key and headers. Raise messages.max_bytes (at most "
                         "the brokers' limit), lower ingest.max_message_bytes, or set it "
                         "to 0 to derive it",
                         (long long)max_msg, (long long)max_rec,
                         (long long)whole_dlq_bytes(c), SC_DLQ_HEADROOM);
                return -1;
        }
        /* The largest Post ingest can write: text, five ids, handle, URL,
         * lang and framing. */
        int64_t post = sc_config_int(c, "ingest.max_text_bytes") +
                       6 * sc_config_int(c, "ingest.max_id_bytes") +
                       sc_config_int(c, "ingest.max_handle_bytes") +
                       sc_config_int(c, "ingest.max_url_bytes") + 4096;
        if (post > max_rec) {
                snprintf(errstr, errstr_size,
                         "a post within ingest.max_text_bytes, max_id_bytes, "
                         "max_handle_bytes and max_url_bytes can take %lld bytes, more "
                         "than messages.max_bytes=%lld",
                         (long long)post, (long long)max_rec);
                return -1;
        }
        return 0;
}

static int ingest_init(sc_worker_t *w, void **statep, char *errstr, size_t errstr_size)
{
        const sc_config_t *c = sc_worker_config(w);
        ingest_t *s = sc_calloc(1, sizeof(*s));
        s->w = w;
        s->output_topic = sc_config_str(c, "ingest.output_topic");
        char subject[300];
        snprintf(subject, sizeof(subject), "%s-value", s->output_topic);
        s->codec = sc_avro_codec(sc_worker_avro(w), "Post", subject, errstr, errstr_size);
        if (!s->codec) {
                free(s);
                return -1;
        }
        sc_ingest_opts_t o = opts_from(c);
        if (ingest_check_config(c, errstr, errstr_size)) {
                free(s);
                return -1;
        }
        s->ing = sc_ingest_new(sc_worker_brands(w), &o);
        s->multi_brand_all = o.multi_brand_all;
        s->attr = sc_redis_script(sc_worker_redis(w), attr_lua);
        /* It touches only its KEYS: ASK is safe to follow while a slot migrates. */
        if (s->attr)
                sc_redis_script_declares_keys(s->attr);
        snprintf(s->ttl, sizeof(s->ttl), "%lld",
                 (long long)sc_config_int(c, "ingest.dedup_ttl_s"));
        sc_metrics_t *m = sc_worker_metrics(w);
        s->posts_total = sc_metrics_counter(m, "socialcare_ingest_posts_total",
                                            "Posts normalized and forwarded", NULL);
        s->ignored_total =
            sc_metrics_counter(m, "socialcare_ingest_ignored_total",
                               "Webhook items that are not posts (reactions, "
                               "edits, removals)",
                               NULL);
        for (size_t i = 0; i < sizeof(attr_sources) / sizeof(attr_sources[0]); i++) {
                char labels[64];
                snprintf(labels, sizeof(labels), "by=\"%s\"", attr_sources[i]);
                s->attributed[i] = sc_metrics_counter(
                    m, "socialcare_ingest_attributed_total",
                    "Posts by how their brand was decided: fixed (named by the input "
                    "or an account), record (as before: a replay), parent, thread, "
                    "text",
                    labels);
        }
        *statep = s;
        return 0;
}

static void add_failure(ingest_t *s, size_t msg, const char *reason, const char *detail)
{
        SC_GROW(s->failures, s->failure_cap, s->failure_cnt + 1);
        failure_t *f = &s->failures[s->failure_cnt++];
        f->msg = msg;
        f->reason = reason;
        f->detail_off = s->strings.len;
        sc_buf_append(&s->strings, detail, strlen(detail) + 1);
}

static item_t *add_item(ingest_t *s)
{
        SC_GROW(s->items, s->item_cap, s->item_cnt + 1);
        return &s->items[s->item_cnt++];
}

/* parts joined by sep into out[n] (cut to fit, as snprintf cuts): the
 * per-post ids and claim values, without printf. Returns the length. */
static size_t join(char *out, size_t n, char sep, const char *const *parts, size_t cnt)
{
        size_t len = 0;
        for (size_t i = 0; i < cnt && len + 1 < n; i++) {
                if (i)
                        out[len++] = sep;
                size_t l = strlen(parts[i]);
                if (l > n - 1 - len)
                        l = n - 1 - len;
                memcpy(out + len, parts[i], l);
                len += l;
        }
        out[len] = '\0';
        return len;
}

static size_t stash_str(sc_buf_t *b, const char *str, size_t len)
{
        if (!str)
                return NO_STR;
        size_t off = b->len;
        sc_buf_append(b, str, len);
        sc_buf_putc(b, '\0');
        return off;
}

/* Keeps post j of the current result (its strings copied) for after the
 * round trip, with its Redis keys and origin. */
static void stash_post(ingest_t *s, rd_kafka_message_t *rkm, size_t idx, size_t j)
{
        const sc_post_t *p = &s->res.posts[j];
        const sc_ingest_attr_t *at = &s->res.attr[j];
        item_t *it = add_item(s);
        it->msg = idx;
        it->post = *p;
        for (size_t k = 0; k < POST_STRS; k++) {
                const char *v =
                    *(const char *const *)((const char *)p + post_str_fields[k]);
                it->str_off[k] = stash_str(&s->strings, v, v ? strlen(v) : 0);
        }
        it->text_off = stash_str(&s->strings, p->text ? p->text : "", p->text_len);
        it->fixed = at->fixed;
        it->lookup = at->lookup;
        it->mention_cnt = at->mention_cnt;
        for (size_t k = 0; k < at->mention_cnt; k++)
                it->mentions[k] = at->mentions[k].brand;
        const char *conv = p->thread_id   ? p->thread_id
                           : p->parent_id ? p->parent_id
                                          : p->post_id;
        const char *ids[KEY_CNT] = {p->post_id, p->parent_id ? p->parent_id : p->post_id,
                                    p->thread_id ? p->thread_id : p->post_id};
        for (size_t k = 0; k < KEY_CNT; k++) {
                it->key_off[k] = s->strings.len;
                sc_rkey_conv(&s->strings, p->platform, conv, ids[k]);
                it->key_len[k] = s->strings.len - it->key_off[k];
                sc_buf_putc(&s->strings, '\0');
        }
        it->origin_off = s->strings.len;
        sc_buf_puts(&s->strings, rd_kafka_topic_name(rkm->rkt));
        sc_buf_putc(&s->strings, '/');
        sc_buf_put_i64(&s->strings, rkm->partition);
        sc_buf_putc(&s->strings, '/');
        sc_buf_put_i64(&s->strings, rkm->offset);
        sc_buf_putc(&s->strings, '/');
        sc_buf_put_i64(&s->strings, (long long)j);
        it->origin_len = s->strings.len - it->origin_off;
        sc_buf_putc(&s->strings, '\0');
}

/* The post of an item with the given brand, its strings back in place. */
static void unstash_post(const ingest_t *s, const item_t *it, sc_post_t *p)
{
        *p = it->post;
        for (size_t k = 0; k < POST_STRS; k++)
                *(const char **)((char *)p + post_str_fields[k]) =
                    it->str_off[k] == NO_STR ? NULL : s->strings.data + it->str_off[k];
        p->text = s->strings.data + it->text_off;
}

static sc_counter_t *norm_counter(ingest_t *s, sc_metrics_t *m, const char *field,
                                  const char *action)
{
        for (size_t i = 0; i < s->norm_counter_cnt; i++)
                if (s->norm_counters[i].field == field &&
                    s->norm_counters[i].action == action)
                        return s->norm_counters[i].c;
        char labels[128];
        snprintf(labels, sizeof(labels), "field=\"%s\",action=\"%s\"", field, action);
        sc_counter_t *c = sc_metrics_counter(
            m, "socialcare_ingest_normalized_total",
            "Malformed optional fields normalized (dropped, cut or zeroed), by field and "
            "what was wrong",
            labels);
        if (s->norm_counter_cnt <
            sizeof(s->norm_counters) / sizeof(s->norm_counters[0])) {
                s->norm_counters[s->norm_counter_cnt].field = field;
                s->norm_counters[s->norm_counter_cnt].action = action;
                s->norm_counters[s->norm_counter_cnt++].c = c;
        }
        return c;
}

/* Every normalization is counted and logged with the input's coordinates,
 * so a connector sending bad fields is visible, not silently tolerated. */
static void report_norms(ingest_t *s, sc_worker_t *w, const rd_kafka_message_t *rkm)
{
        const sc_ingest_result_t *res = &s->res;
        char list[512];
        size_t used = 0;
        list[0] = '\0';
        for (size_t i = 0; i < res->norm_cnt; i++) {
                sc_counter_add(norm_counter(s, sc_worker_metrics(w), res->norms[i].field,
                                            res->norms[i].action),
                               1);
                int n =
                    snprintf(list + used, sizeof(list) - used, "%s%s %s", i ? ", " : "",
                             res->norms[i].field, res->norms[i].action);
                if (n > 0 && (size_t)n < sizeof(list) - used)
                        used += (size_t)n;
        }
        sc_log(SC_LOG_INFO, "%s [%d] @%lld: normalized %s%s",
               rd_kafka_topic_name(rkm->rkt), (int)rkm->partition, (long long)rkm->offset,
               list, res->norm_lost ? " (and more)" : "");
}

static void normalize_one(ingest_t *s, sc_msg_t *m, size_t idx, int64_t now)
{
        rd_kafka_message_t *rkm = m->rkm;
        char format[32], hint[80];
        size_t n;
        const char *h = sc_msg_header(m, "sc-format", &n);
        int has_format = h && n < sizeof(format);
        if (has_format) {
                memcpy(format, h, n);
                format[n] = '\0';
        }
        const char *hint_p = NULL;
        h = sc_msg_header(m, "sc-brand", &n);
        if (!h && rkm->key_len) {
                h = rkm->key;
                n = rkm->key_len;
        }
        if (h && n < sizeof(hint)) {
                memcpy(hint, h, n);
                hint[n] = '\0';
                hint_p = hint;
        }
        sc_ingest_result_t *res = &s->res;
        sc_ingest_normalize(s->ing, rkm->payload, rkm->len, has_format ? format : NULL,
                            hint_p, now, res);
        if (res->norm_cnt)
                report_norms(s, s->w, rkm);
        if (res->ignored_cnt) {
                sc_counter_add(s->ignored_total, (double)res->ignored_cnt);
                sc_log(SC_LOG_DEBUG, "%s [%d] @%lld: %zu items ignored (%s)",
                       rd_kafka_topic_name(rkm->rkt), (int)rkm->partition,
                       (long long)rkm->offset, res->ignored_cnt, res->ignored_reason);
        }
        for (size_t j = 0; j < res->post_cnt; j++)
                stash_post(s, rkm, idx, j);
        if (res->error)
                add_failure(s, idx, res->error, res->detail);
}

/* Looked up at each use: add_failure may move s->strings. */
static const char *item_post_id(const ingest_t *s, const item_t *it)
{
        return s->strings.data + it->str_off[1];
}

/* Queues the attribution script of one item. */
static void append_attr(ingest_t *s, sc_redis_t *r, const item_t *it)
{
        const char *argv[KEY_CNT + 5 + SC_INGEST_MAX_MENTIONS];
        size_t lens[KEY_CNT + 5 + SC_INGEST_MAX_MENTIONS];
        int argc = 0;
        for (size_t k = 0; k < KEY_CNT; k++) {
                argv[argc] = s->strings.data + it->key_off[k];
                lens[argc++] = it->key_len[k];
        }
        argv[argc] = s->strings.data + it->origin_off;
        lens[argc++] = it->origin_len;
        argv[argc] = s->ttl;
        lens[argc++] = strlen(s->ttl);
        argv[argc] = it->fixed ? it->fixed->id : "";
        lens[argc] = strlen(argv[argc]);
        argc++;
        argv[argc] = it->lookup ? "1" : "0";
        lens[argc++] = 1;
        argv[argc] = it->mention_cnt ? it->mentions[0]->id : "";
        lens[argc] = strlen(argv[argc]);
        argc++;
        /* multi_brand all: a copy for every brand named. */
        for (size_t k = 0; s->multi_brand_all && k < it->mention_cnt; k++) {
                argv[argc] = it->mentions[k]->id;
                lens[argc] = strlen(argv[argc]);
                argc++;
        }
        sc_redis_append_script(r, s->attr, KEY_CNT, argc, argv, lens);
}

/* A script reply is {source, brand, claimed, ...} or {}. */
static int attr_reply_ok(const redisReply *rep)
{
        if (rep->type != REDIS_REPLY_ARRAY || (rep->elements && rep->elements % 2 == 0))
                return 0;
        for (size_t k = 0; k < rep->elements; k++) {
                int want = k % 2 ? REDIS_REPLY_STRING
                           : k   ? REDIS_REPLY_INTEGER
                                 : REDIS_REPLY_STRING;
                if (rep->element[k]->type != want)
                        return 0;
        }
        return 1;
}

static void count_duplicate(sc_worker_t *w, const char *brand, const char *what)
{
        char labels[128];
        snprintf(labels, sizeof(labels), "brand=\"%s\"", brand);
        sc_counter_add(sc_metrics_counter(sc_worker_metrics(w),
                                          "socialcare_ingest_duplicates_total",
                                          "Posts seen before at another "
                                          "offset, not forwarded",
                                          labels),
                       1);
        sc_log(SC_LOG_DEBUG, "duplicate %s for %s (first seen elsewhere)", what, brand);
}

/* The brand of an item that the plain claim can settle, or NULL: its brand
 * comes from the input (fixed, or the text without a lookup) and it gets no
 * copies for other brands. */
static const sc_brand_t *plain_brand(const ingest_t *s, const item_t *it)
{
        if (it->lookup)
                return NULL;
        const sc_brand_t *b = it->fixed         ? it->fixed
                              : it->mention_cnt ? it->mentions[0]
                                                : NULL;
        if (!b || (s->multi_brand_all && it->mention_cnt &&
                   (it->mention_cnt > 1 || it->mentions[0] != it->fixed)))
                return NULL;
        return b;
}

/* Queues the plain claim of an item: SET <record> "<brand>=<origin>" NX GET
 * EX ttl, one command that creates the record or returns it. */
static void append_plain(ingest_t *s, sc_redis_t *r, const item_t *it,
                         const sc_brand_t *b)
{
        char val[512];
        const char *parts[] = {b->id, s->strings.data + it->origin_off};
        size_t n = join(val, sizeof(val), '=', parts, 2);
        const char *argv[] = {
            "SET", s->strings.data + it->key_off[KEY_OWN], val, "NX", "GET", "EX",
            s->ttl};
        size_t lens[] = {3, it->key_len[KEY_OWN], n, 2, 3, 2, strlen(s->ttl)};
        sc_redis_append(r, 7, argv, lens);
}

static void add_claim(ingest_t *s, item_t *it, const char *id, size_t len, int ok)
{
        const sc_brand_t *b = NULL;
        char bid[72];
        if (len < sizeof(bid)) {
                memcpy(bid, id, len);
                bid[len] = '\0';
                b = sc_brands_find(sc_worker_brands(s->w), bid);
        }
        if (!b) {
                /* Recorded before a reload removed the brand. */
                char detail[400];
                snprintf(detail, sizeof(detail),
                         "post %.200s: brand '%.*s' of its conversation is no longer "
                         "configured",
                         item_post_id(s, it), (int)(len < 64 ? len : 64), id);
                add_failure(s, it->msg, "unknown_brand", detail);
        }
        if (it->claim_cnt < sizeof(it->claim_ok) / sizeof(it->claim_ok[0])) {
                it->claim_brand[it->claim_cnt] = b;
                it->claim_ok[it->claim_cnt++] = ok;
        }
}

static int src_index(const char *name)
{
        for (size_t k = 0; k < sizeof(attr_sources) / sizeof(attr_sources[0]); k++)
                if (!strcmp(name, attr_sources[k]))
                        return (int)k;
        return -1;
}

/* The plain claim's reply: nil (claimed now), or the record, whose first
 * entry "<brand>=<origin>" is the post's brand and its claim. Returns 0 when
 * settled, 1 when the script must decide (the record holds another brand
 * first than the fixed one, or is a hash of the previous layout), -1 on an
 * unexpected reply. */
static int settle_plain(ingest_t *s, item_t *it, const sc_brand_t *b,
                        const redisReply *rep)
{
        const char *origin = s->strings.data + it->origin_off;
        if (rep->type == REDIS_REPLY_NIL) {
                it->src = it->fixed ? 0 : 4;
                add_claim(s, it, b->id, strlen(b->id), 1);
                return 0;
        }
        if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "WRONGTYPE", 9))
                return 1;
        if (rep->type != REDIS_REPLY_STRING)
                return -1;
        const char *eq = memchr(rep->str, '=', rep->len);
        if (!eq)
                return 1;
        size_t blen = (size_t)(eq - rep->str);
        const char *o = eq + 1, *end = memchr(o, ' ', rep->len - blen - 1);
        size_t olen = end ? (size_t)(end - o) : rep->len - blen - 1;
        if (it->fixed && (blen != strlen(b->id) || memcmp(rep->str, b->id, blen)))
                return 1;
        it->src = it->fixed ? 0 : 1;
        add_claim(s, it, rep->str, blen,
                  olen == it->origin_len && !memcmp(o, origin, olen));
        return 0;
}

static int settle_script(ingest_t *s, item_t *it, const redisReply *rep)
{
        if (!attr_reply_ok(rep)) {
                sc_log(SC_LOG_WARN, "dedup claim: unexpected reply: %s",
                       rep->type == REDIS_REPLY_ERROR ? rep->str
                                                      : "(not an attribution)");
                return -1;
        }
        if (!rep->elements) {
                char detail[400];
                snprintf(detail, sizeof(detail),
                         "post %.200s: no brand named, no brand account, and the "
                         "post it answers is not known to ingest",
                         item_post_id(s, it));
                add_failure(s, it->msg, "unknown_brand", detail);
                return 0;
        }
        it->src = src_index(rep->element[0]->str);
        for (size_t k = 1; k + 1 < rep->elements; k += 2)
                add_claim(s, it, rep->element[k]->str, rep->element[k]->len,
                          rep->element[k + 1]->integer != 0);
        return 0;
}

/* Claims every item: the plain claims and the scripts in one round trip,
 * then the scripts the plain replies asked for in a second one (rare).
 * it->scripted: 0 the plain claim, 1 the script in round 0, 2 in round 1.
 * Returns -1 when Redis failed or answered unexpectedly (retry the batch). */
static int claim_items(ingest_t *s, sc_redis_t *r)
{
        for (size_t i = 0; i < s->item_cnt; i++) {
                item_t *it = &s->items[i];
                it->src = -1;
                it->claim_cnt = 0;
                it->scripted = plain_brand(s, it) ? 0 : 1;
        }
        for (int round = 0; round < 2; round++) {
                size_t queued = 0;
                for (size_t i = 0; i < s->item_cnt; i++) {
                        item_t *it = &s->items[i];
                        if (round == 0 && it->scripted == 0)
                                append_plain(s, r, it, plain_brand(s, it));
                        else if (it->scripted == round + 1)
                                append_attr(s, r, it);
                        else
                                continue;
                        queued++;
                }
                if (!queued)
                        return 0;
                redisReply **replies = NULL;
                size_t reply_cnt = 0, k = 0;
                if (sc_redis_exec(r, &replies, &reply_cnt) == -1 || reply_cnt != queued) {
                        sc_log(SC_LOG_WARN, "attribution and dedup claims failed: %s",
                               sc_redis_errstr(r));
                        return -1;
                }
                for (size_t i = 0; i < s->item_cnt; i++) {
                        item_t *it = &s->items[i];
                        const redisReply *rep = replies[k];
                        int rc;
                        if (round == 0 && it->scripted == 0) {
                                rc = settle_plain(s, it, plain_brand(s, it), rep);
                                if (rc == 1)
                                        it->scripted = 2;
                                else if (rc == -1)
                                        sc_log(SC_LOG_WARN,
                                               "dedup claim: unexpected reply: %s",
                                               rep->type == REDIS_REPLY_ERROR
                                                   ? rep->str
                                                   : "(not a record)");
                        } else if (it->scripted == round + 1) {
                                rc = settle_script(s, it, rep);
                        } else {
                                continue;
                        }
                        k++;
                        if (rc == -1)
                                return -1;
                }
        }
        return 0;
}

/* Encodes and produces one copy of an item's post for brand b. copy 0 keeps
 * the event id <platform>:<post id>; further copies (multi_brand all) are
 * <platform>:<post id>:<brand>. */
static int forward(sc_worker_t *w, ingest_t *s, sc_msg_t *msgs, const item_t *it,
                   const sc_brand_t *b, size_t copy)
{
        sc_post_t p;
        unstash_post(s, it, &p);
        char eid[600];
        const char *parts[] = {p.platform, p.post_id, b->id};
        join(eid, sizeof(eid), ':', parts, copy ? 3 : 2);
        p.event_id = eid;
        p.brand = b->id;
        if (copy)
                p.is_brand = 0;
        else if (b != it->fixed)
                p.is_brand = sc_brands_is_own_account(sc_worker_brands(w), b, p.platform,
                                                      p.author_handle, p.author_id);
        sc_buf_reset(&s->payloads);
        if (sc_post_encode(&p, s->codec, &s->payloads)) {
                add_failure(s, it->msg, "encode_error",
                            "out of memory encoding the post");
                return 0;
        }
        if (sc_worker_produce(w, &msgs[it->msg], s->output_topic, b->id, strlen(b->id),
                              s->payloads.data, s->payloads.len, NULL) == -1) {
                add_failure(s, it->msg, "produce_error", sc_worker_errstr(w));
                return 0;
        }
        sc_counter_add(s->posts_total, 1);
        return 1;
}

static int ingest_process(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n)
{
        ingest_t *s = state;
        sc_redis_t *r = sc_worker_redis(w);
        int64_t now = sc_now_ms();
        s->item_cnt = s->failure_cnt = 0;
        sc_buf_reset(&s->payloads);
        sc_buf_reset(&s->strings);

        for (size_t i = 0; i < n; i++)
                normalize_one(s, &msgs[i], i, now);

        if (s->item_cnt && claim_items(s, r) == -1)
                return SC_RETRY;
        for (size_t i = 0; i < s->item_cnt; i++) {
                const item_t *it = &s->items[i];
                if (it->src >= 0)
                        sc_counter_add(s->attributed[it->src], 1);
                for (size_t k = 0; k < it->claim_cnt; k++) {
                        const sc_brand_t *b = it->claim_brand[k];
                        if (!b)
                                continue;
                        if (!it->claim_ok[k]) {
                                count_duplicate(w, b->id, item_post_id(s, it));
                                continue;
                        }
                        forward(w, s, msgs, it, b, k);
                }
        }
        /* One dead letter per input, however many of its items failed (some
         * are only known after the round trip: keep input order). */
        for (size_t i = 1; i < s->failure_cnt; i++) {
                failure_t f = s->failures[i];
                size_t j = i;
                while (j > 0 && s->failures[j - 1].msg > f.msg) {
                        s->failures[j] = s->failures[j - 1];
                        j--;
                }
                s->failures[j] = f;
        }
        for (size_t i = 0; i < s->failure_cnt; i++) {
                const failure_t *f = &s->failures[i];
                if (i > 0 && s->failures[i - 1].msg == f->msg)
                        continue;
                sc_worker_dead_letter(w, &msgs[f->msg], f->reason,
                                      s->strings.data + f->detail_off);
        }
        return SC_OK;
}

static int ingest_reload(sc_worker_t *w, void *state, const sc_config_t *c, char *errstr,
                         size_t errstr_size)
{
        ingest_t *s = state;
        (void)c;
        (void)errstr;
        (void)errstr_size;
        sc_ingest_set_brands(s->ing, sc_worker_brands(w));
        return 0;
}

static void ingest_destroy(void *state)
{
        ingest_t *s = state;
        sc_ingest_destroy(s->ing);
        sc_buf_free(&s->payloads);
        sc_buf_free(&s->strings);
        free(s->items);
        free(s->failures);
        free(s);
}

static const sc_worker_ops_t ops = {
    .name = "ingest",
    .description = "raw platform JSON -> normalized Avro posts, deduplicated",
    .input_topics = "social.posts.raw",
    .conf_defs = ingest_defs,
    .uses_redis = 1,
    .init = ingest_init,
    .process = ingest_process,
    .reload = ingest_reload,
    .destroy = ingest_destroy,
    .check_config = ingest_check_config,
    .dlq_reasons = "bad_json,invalid_utf8,too_large,unknown_format,missing_field,"
                   "unknown_platform,unknown_brand,bad_timestamp,bad_field,text_too_long,"
                   "too_many_items,encode_error,produce_error",
};

int main(int argc, char **argv)
{
        return sc_worker_main(argc, argv, &ops);
}
