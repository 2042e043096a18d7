#include "sc_ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_json.h"
#include "sc_time.h"
#include "sc_utf8.h"
#include "sc_vocab.h"

/* Room per post for the strings the normalizer makes: event id, ids given
 * as numbers, a built URL, a cut handle, all within their limits. */
#define ARENA_BYTES    (SC_INGEST_MAX_POSTS * 4096)
#define MIN_CREATED_MS 1136073600000LL /* 2006-01-01: nothing social is older */

struct sc_ingest_s {
        const sc_brands_t *brands;
        sc_ingest_opts_t opts;
        sc_json_t *json;
        /* Strings the normalizer makes (event ids, ids given as numbers, URLs);
         * bump-allocated, reset per input. */
        char arena[ARENA_BYTES];
        size_t arena_used;
        sc_brands_scan_t *scan;
        /* The input being normalized and where in it (for details), and
         * whether the current post already has a bad field. */
        sc_ingest_result_t *res;
        const char *where;
        int post_bad;
};

sc_ingest_t *sc_ingest_new(const sc_brands_t *brands, const sc_ingest_opts_t *opts)
{
        sc_ingest_t *ing = sc_calloc(1, sizeof(*ing));
        ing->brands = brands;
        ing->opts = *opts;
        if (!ing->opts.max_id_bytes)
                ing->opts.max_id_bytes = 256;
        if (!ing->opts.max_handle_bytes)
                ing->opts.max_handle_bytes = 256;
        if (!ing->opts.max_url_bytes)
                ing->opts.max_url_bytes = 2048;
        if (!ing->opts.max_followers)
                ing->opts.max_followers = 10000000000LL;
        /* Each post's made strings must fit its share of the arena. */
        if (ing->opts.max_id_bytes > 1024)
                ing->opts.max_id_bytes = 1024;
        if (ing->opts.max_handle_bytes > 1024)
                ing->opts.max_handle_bytes = 1024;
        ing->json = sc_json_new(32);
        ing->scan = sc_brands_scan_new();
        return ing;
}

void sc_ingest_destroy(sc_ingest_t *ing)
{
        if (!ing)
                return;
        sc_json_destroy(ing->json);
        sc_brands_scan_destroy(ing->scan);
        free(ing);
}

void sc_ingest_set_brands(sc_ingest_t *ing, const sc_brands_t *brands)
{
        ing->brands = brands;
}

static const char *arena_printf(sc_ingest_t *ing, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *arena_printf(sc_ingest_t *ing, const char *fmt, ...)
{
        size_t room = ARENA_BYTES - ing->arena_used;
        char *p = ing->arena + ing->arena_used;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p, room, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= room)
                return NULL;
        ing->arena_used += (size_t)n + 1;
        return p;
}

static int fail(sc_ingest_result_t *res, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(sc_ingest_result_t *res, const char *code, const char *fmt, ...)
{
        if (res->error)
                return -1; /* keep the first reason */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
        va_end(ap);
        res->error = code;
        return -1;
}

static const char *type_name(const sc_jv_t *v)
{
        static const char *const names[] = {
            "null", "false", "true", "a number", "a string", "an array", "an object"};
        return names[v->type];
}

/* The current post has a field that makes it unusable: the first one is
 * the input's reason (bad_field); later posts of the input still count. */
static void bad_field(sc_ingest_t *ing, const char *field, const sc_jv_t *v,
                      const char *expected)
{
        ing->post_bad = 1;
        fail(ing->res, "bad_field", "%s: %s is %s, expected %s", ing->where, field,
             type_name(v), expected);
}

static void normalized(sc_ingest_t *ing, const char *field, const char *action)
{
        sc_ingest_result_t *res = ing->res;
        if (res->norm_cnt == SC_INGEST_MAX_NORMS) {
                res->norm_lost++;
                return;
        }
        res->norms[res->norm_cnt].field = field;
        res->norms[res->norm_cnt++].action = action;
}

/* A string a connector may also leave out: absent, null and "" are none;
 * any other type is a wrong-typed optional field (dropped, counted). */
static const char *jstr(const sc_jv_t *obj, const char *key)
{
        const char *s = sc_json_str(sc_json_get(obj, key));
        return s && *s ? s : NULL;
}

static const char *opt_str(sc_ingest_t *ing, const sc_jv_t *obj, const char *key,
                           const char *field)
{
        const sc_jv_t *v = sc_json_get(obj, key);
        if (!v || v->type == SC_JSON_NULL)
                return NULL;
        if (v->type != SC_JSON_STRING) {
                normalized(ing, field, "wrong_type");
                return NULL;
        }
        return v->len ? v->str : NULL;
}

/* A string the post cannot do without when present (platform, brand):
 * another type is a bad field. */
static const char *req_str(sc_ingest_t *ing, const sc_jv_t *obj, const char *key)
{
        const sc_jv_t *v = sc_json_get(obj, key);
        if (!v || v->type == SC_JSON_NULL)
                return NULL;
        if (v->type != SC_JSON_STRING) {
                bad_field(ing, key, v, "a string");
                return NULL;
        }
        return v->len ? v->str : NULL;
}

/* Ids arrive as strings or integers; both become text. Absent, null and ""
 * are none; another type is a bad field (an id that cannot be read would
 * attach a reply to nothing, or count the wrong post). */
static const char *jid(sc_ingest_t *ing, const sc_jv_t *v, const char *field)
{
        if (!v || v->type == SC_JSON_NULL)
                return NULL;
        if (v->type == SC_JSON_STRING)
                return v->len ? v->str : NULL;
        int64_t n;
        if (v->type == SC_JSON_NUMBER && sc_json_int64(v, &n) == 0)
                return arena_printf(ing, "%lld", (long long)n);
        bad_field(ing, field, v, "a string or an integer id");
        return NULL;
}

/* 0, or -1 with a bad_field reason: within ingest.max_id_bytes, no control
 * characters (ids end up in Redis keys and log lines). */
static int check_id(sc_ingest_t *ing, const char *id, const char *field)
{
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)id; *p; p++, n++)
                if (*p < 0x20 || *p == 0x7f)
                        return fail(ing->res, "bad_field",
                                    "%s: %s contains a control character at byte %zu",
                                    ing->where, field, n);
        if (n > ing->opts.max_id_bytes)
                return fail(ing->res, "bad_field",
                            "%s: %s of %zu bytes exceeds ingest.max_id_bytes (%zu)",
                            ing->where, field, n, ing->opts.max_id_bytes);
        return 0;
}

/* Follower counts: an integer in 0..ingest.max_followers (a number, or
 * digits in a string). Anything else is unknown reach: 0, counted. A post
 * is never refused for it: the customer still needs an answer. */
static int64_t followers(sc_ingest_t *ing, const sc_jv_t *v)
{
        if (!v || v->type == SC_JSON_NULL)
                return 0;
        int64_t n;
        double d;
        if (v->type != SC_JSON_NUMBER && v->type != SC_JSON_STRING) {
                normalized(ing, "author.followers", "wrong_type");
                return 0;
        }
        if (sc_json_int64(v, &n) == 0) {
                if (n >= 0 && n <= ing->opts.max_followers)
                        return n;
        } else if (sc_json_double(v, &d) == 0 && d >= 0 &&
                   d <= (double)ing->opts.max_followers && d == (double)(int64_t)d) {
                /* The range first: casting 1e31 to int64_t is undefined. */
                return (int64_t)d; /* 1.2e3 */
        } else if (v->type == SC_JSON_STRING && sc_json_double(v, &d) != 0) {
                normalized(ing, "author.followers", "wrong_type");
                return 0;
        }
        normalized(ing, "author.followers", "out_of_range");
        return 0;
}

static int verified(sc_ingest_t *ing, const sc_jv_t *v)
{
        if (!v || v->type == SC_JSON_NULL)
                return 0;
        int b = sc_json_bool(v);
        if (b < 0)
                normalized(ing, "author.verified", "wrong_type");
        return b == 1;
}

/* Cut at ingest.max_handle_bytes, on a UTF-8 character boundary. */
static const char *handle(sc_ingest_t *ing, const char *h)
{
        if (!h)
                return NULL;
        size_t n = strlen(h);
        if (n <= ing->opts.max_handle_bytes)
                return h;
        n = sc_utf8_truncate(h, n, ing->opts.max_handle_bytes);
        normalized(ing, "author.handle", "truncated");
        return arena_printf(ing, "%.*s", (int)n, h);
}

/* A language tag as platforms send them (pl, en-GB, zh-Hant): letters,
 * digits and hyphens, starting with a letter. */
static const char *lang(sc_ingest_t *ing, const char *l)
{
        if (!l)
                return NULL;
        size_t n = strlen(l);
        if (n > SC_INGEST_MAX_LANG) {
                normalized(ing, "lang", "too_long");
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                char c = l[i];
                int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (i > 0 && ((c >= '0' && c <= '9') || c == '-'));
                if (!ok) {
                        normalized(ing, "lang", "malformed");
                        return NULL;
                }
        }
        return l;
}

/* An absolute http(s) URL without spaces or control characters, within
 * ingest.max_url_bytes; otherwise dropped (a link is a convenience). */
static const char *url(sc_ingest_t *ing, const char *u)
{
        if (!u)
                return NULL;
        size_t n = strlen(u);
        if (n > ing->opts.max_url_bytes) {
                normalized(ing, "url", "too_long");
                return NULL;
        }
        int bad = strncmp(u, "https://", 8) && strncmp(u, "http://", 7);
        for (const unsigned char *p = (const unsigned char *)u; *p && !bad; p++)
                bad = *p <= 0x20 || *p == 0x7f;
        if (bad) {
                normalized(ing, "url", "malformed");
                return NULL;
        }
        return u;
}

/* rating: absent or null is none; else an integer 1..5 (a number or digits
 * in a string), or the post is refused (bad_field): a review's stars are
 * what the team triages it by. */
static int rating(sc_ingest_t *ing, const sc_jv_t *v)
{
        int64_t r;
        if (!v || v->type == SC_JSON_NULL)
                return 0;
        if (sc_json_int64(v, &r) == 0 && r >= 1 && r <= 5)
                return (int)r;
        ing->post_bad = 1;
        if (v->type == SC_JSON_NUMBER || v->type == SC_JSON_STRING)
                fail(ing->res, "bad_field", "%s: rating '%.20s' not an integer in 1..5",
                     ing->where, v->str);
        else
                bad_field(ing, "rating", v, "an integer in 1..5");
        return 0;
}

static int known_platform(const char *p)
{
        return sc_platform_parse(p, strlen(p)) >= 0;
}

/* created_at: RFC 3339 text, X's v1 text, or epoch seconds/milliseconds. */
static int parse_when(const sc_jv_t *v, int64_t *ms)
{
        if (!v)
                return -1;
        if (v->type == SC_JSON_STRING)
                return sc_time_parse(v->str, v->len, ms);
        int64_t n;
        if (v->type == SC_JSON_NUMBER && sc_json_int64(v, &n) == 0 && n > 0) {
                *ms = n > 100000000000LL ? n : n * 1000;
                return 0;
        }
        return -1;
}

static sc_post_t *new_post(sc_ingest_t *ing, sc_ingest_result_t *res, const char *where)
{
        ing->post_bad = 0;
        ing->where = where;
        if (res->post_cnt == SC_INGEST_MAX_POSTS)
                return NULL;
        sc_post_t *p = &res->posts[res->post_cnt];
        memset(p, 0, sizeof(*p));
        memset(&res->attr[res->post_cnt], 0, sizeof(res->attr[0]));
        return p;
}

/* Steps 1-3 and 5 of the attribution (sc_ingest.h); 4 is the worker's. */
static const sc_brand_t *resolve_brand(sc_ingest_t *ing, const char *explicit_brand,
                                       const char *hint, const sc_post_t *p,
                                       sc_ingest_attr_t *at)
{
        const sc_brand_t *b;
        if (explicit_brand) {
                b = sc_brands_find(ing->brands, explicit_brand);
                if (!b)
                        return NULL;
        } else {
                b = hint ? sc_brands_find(ing->brands, hint) : NULL;
                if (!b)
                        b = sc_brands_by_account(ing->brands, p->platform,
                                                 p->author_handle, p->author_id);
                if (!b && at->reply_to_author_id)
                        b = sc_brands_by_account(ing->brands, p->platform, NULL,
                                                 at->reply_to_author_id);
        }
        at->fixed = b;
        at->lookup = !b && (p->parent_id || p->thread_id);
        /* The text is scanned when it decides (5) or when every brand it
         * names gets a copy; a brand's own post is never copied. */
        int all = ing->opts.multi_brand_all &&
                  !sc_brands_by_account(ing->brands, p->platform, p->author_handle,
                                        p->author_id);
        if (!b || all)
                at->mention_cnt =
                    sc_brands_mentions(ing->brands, ing->scan, p->text, p->text_len,
                                       at->mentions, all ? SC_INGEST_MAX_MENTIONS : 1);
        if (b)
                return b;
        return at->mention_cnt ? at->mentions[0].brand : NULL;
}

/* Shared checks and derived fields; on success the post is kept. */
static int finish_post(sc_ingest_t *ing, sc_ingest_result_t *res, sc_post_t *p,
                       const char *where, const char *explicit_brand, const char *hint,
                       const sc_jv_t *text_v, int64_t now_ms)
{
        if (ing->post_bad)
                return -1;
        if (!p->platform)
                return fail(res, "missing_field", "%s: no platform", where);
        if (!known_platform(p->platform))
                return fail(res, "unknown_platform",
                            "%s: platform '%.40s' is not one of x, "
                            "facebook, instagram, forum, comment, review",
                            where, p->platform);
        if (!p->post_id)
                return fail(res, "missing_field", "%s: no post id", where);
        if (!p->author_id)
                return fail(res, "missing_field", "%s: no author id", where);
        if (check_id(ing, p->post_id, "post_id") ||
            check_id(ing, p->author_id, "author.id") ||
            (p->parent_id && check_id(ing, p->parent_id, "parent_id")) ||
            (p->thread_id && check_id(ing, p->thread_id, "thread_id")))
                return -1;
        if (!text_v || text_v->type == SC_JSON_NULL)
                return fail(res, "missing_field", "%s: no text", where);
        if (text_v->type != SC_JSON_STRING)
                return fail(res, "bad_field", "%s: text is %s, expected a string", where,
                            type_name(text_v));
        p->text = text_v->str;
        p->text_len = text_v->len;
        if (p->text_len == 0 && !p->rating)
                return fail(res, "missing_field", "%s: empty text", where);
        if (p->text_len > ing->opts.max_text_bytes)
                return fail(res, "text_too_long", "%s: text of %zu bytes exceeds %zu",
                            where, p->text_len, ing->opts.max_text_bytes);
        if (p->created_at < MIN_CREATED_MS ||
            p->created_at > now_ms + ing->opts.max_future_ms)
                return fail(res, "bad_timestamp", "%s: created_at %lld out of range",
                            where, (long long)p->created_at);
        p->lang_hint = lang(ing, p->lang_hint);
        p->url = url(ing, p->url);

        sc_ingest_attr_t *at = &res->attr[res->post_cnt];
        const sc_brand_t *b = resolve_brand(ing, explicit_brand, hint, p, at);
        if (!b && !at->lookup)
                return fail(res, "unknown_brand",
                            "%s: brand '%.64s' is not configured or not recognisable",
                            where,
                            explicit_brand ? explicit_brand
                            : hint         ? hint
                                           : "");
        p->brand = b ? b->id : NULL;
        p->is_brand = sc_brands_is_own_account(ing->brands, b, p->platform,
                                               p->author_handle, p->author_id);
        p->event_id = arena_printf(ing, "%s:%s", p->platform, p->post_id);
        if (!p->event_id)
                return fail(res, "too_many_items", "%s: too much id data in one input",
                            where);
        p->received_at = now_ms;
        res->post_cnt++;
        return 0;
}

static void author_from(sc_ingest_t *ing, sc_post_t *p, const sc_jv_t *a)
{
        p->author_id = jid(ing, sc_json_get(a, "id"), "author.id");
        const char *h = opt_str(ing, a, "handle", "author.handle");
        if (!h)
                h = opt_str(ing, a, "username", "author.handle");
        if (!h)
                h = opt_str(ing, a, "name", "author.handle");
        p->author_handle = handle(ing, h);
        p->author_followers = followers(ing, sc_json_get(a, "followers"));
        p->author_verified = verified(ing, sc_json_get(a, "verified"));
}

static int canonical(sc_ingest_t *ing, const sc_jv_t *o, const char *hint, int64_t now_ms,
                     sc_ingest_result_t *res)
{
        sc_post_t *p = new_post(ing, res, "post");
        if (!p)
                return fail(res, "too_many_items", "more than %d posts",
                            SC_INGEST_MAX_POSTS);
        p->platform = req_str(ing, o, "platform");
        p->post_id = jid(ing, sc_json_get(o, "post_id"), "post_id");
        if (!p->post_id)
                p->post_id = jid(ing, sc_json_get(o, "id"), "id");
        p->parent_id = jid(ing, sc_json_get(o, "parent_id"), "parent_id");
        p->thread_id = jid(ing, sc_json_get(o, "thread_id"), "thread_id");
        const sc_jv_t *a = sc_json_get(o, "author");
        if (a && a->type == SC_JSON_OBJECT) {
                author_from(ing, p, a);
        } else {
                if (a && a->type != SC_JSON_NULL)
                        bad_field(ing, "author", a, "an object");
                p->author_id = jid(ing, sc_json_get(o, "author_id"), "author_id");
                p->author_handle =
                    handle(ing, opt_str(ing, o, "author_handle", "author.handle"));
        }
        p->lang_hint = opt_str(ing, o, "lang", "lang");
        if (!p->lang_hint)
                p->lang_hint = opt_str(ing, o, "lang_hint", "lang");
        p->url = opt_str(ing, o, "url", "url");
        p->rating = rating(ing, sc_json_get(o, "rating"));
        if (parse_when(sc_json_get(o, "created_at"), &p->created_at))
                return fail(res, "bad_timestamp", "created_at missing or unreadable");
        const char *brand = req_str(ing, o, "brand");
        return finish_post(ing, res, p, "post", brand, hint, sc_json_get(o, "text"),
                           now_ms);
}

static const sc_jv_t *find_by_id(const sc_jv_t *arr, const char *id)
{
        for (const sc_jv_t *u = sc_json_first(arr); u && id; u = sc_json_next(u)) {
                const char *uid = sc_json_str(sc_json_get(u, "id"));
                if (uid && !strcmp(uid, id))
                        return u;
        }
        return NULL;
}

static int x_tweet(sc_ingest_t *ing, const sc_jv_t *root, const sc_jv_t *t,
                   const char *hint, int64_t now_ms, sc_ingest_result_t *res, int idx)
{
        char where[32];
        snprintf(where, sizeof(where), "data[%d]", idx);
        sc_post_t *p = new_post(ing, res, where);
        if (!p)
                return fail(res, "too_many_items", "more than %d posts",
                            SC_INGEST_MAX_POSTS);
        p->platform = "x";
        p->post_id = jid(ing, sc_json_get(t, "id"), "id");
        p->author_id = jid(ing, sc_json_get(t, "author_id"), "author_id");
        p->thread_id = jid(ing, sc_json_get(t, "conversation_id"), "conversation_id");
        for (const sc_jv_t *r = sc_json_first(sc_json_get(t, "referenced_tweets")); r;
             r = sc_json_next(r)) {
                const char *type = jstr(r, "type");
                if (type && !strcmp(type, "replied_to"))
                        p->parent_id =
                            jid(ing, sc_json_get(r, "id"), "referenced_tweets[].id");
        }
        res->attr[res->post_cnt].reply_to_author_id =
            jid(ing, sc_json_get(t, "in_reply_to_user_id"), "in_reply_to_user_id");
        if (p->thread_id && p->post_id && !strcmp(p->thread_id, p->post_id) &&
            !p->parent_id)
                p->thread_id = NULL; /* a conversation's root is its own thread */
        const sc_jv_t *user =
            find_by_id(sc_json_get(sc_json_get(root, "includes"), "users"), p->author_id);
        if (user) {
                p->author_handle =
                    handle(ing, opt_str(ing, user, "username", "author.handle"));
                p->author_followers =
                    followers(ing, sc_json_get(sc_json_get(user, "public_metrics"),
                                               "followers_count"));
                p->author_verified = verified(ing, sc_json_get(user, "verified"));
        }
        const char *lg = opt_str(ing, t, "lang", "lang");
        if (lg && strcmp(lg, "und") && strcmp(lg, "qme") && strcmp(lg, "zxx"))
                p->lang_hint = lg;
        if (p->post_id)
                p->url =
                    arena_printf(ing, "https://x.com/%s/status/%s",
                                 p->author_handle ? p->author_handle : "i", p->post_id);
        if (parse_when(sc_json_get(t, "created_at"), &p->created_at))
                return fail(res, "bad_timestamp", "%s: created_at missing or unreadable",
                            where);
        const sc_jv_t *text = sc_json_get(sc_json_get(t, "note_tweet"), "text");
        if (!text)
                text = sc_json_get(t, "text");
        /* Filtered-stream rules are tagged with the brand id. */
        const char *tag = NULL;
        for (const sc_jv_t *m = sc_json_first(sc_json_get(root, "matching_rules"));
             m && !tag; m = sc_json_next(m)) {
                const char *tg = jstr(m, "tag");
                if (tg && sc_brands_find(ing->brands, tg))
                        tag = tg;
        }
        return finish_post(ing, res, p, where, tag, hint, text, now_ms);
}

static int x_v2(sc_ingest_t *ing, const sc_jv_t *root, const char *hint, int64_t now_ms,
                sc_ingest_result_t *res)
{
        const sc_jv_t *data = sc_json_get(root, "data");
        if (data && data->type == SC_JSON_OBJECT)
                return x_tweet(ing, root, data, hint, now_ms, res, 0);
        if (!data || data->type != SC_JSON_ARRAY || !data->len)
                return fail(res, "missing_field", "X payload without data");
        int rc = 0, i = 0;
        for (const sc_jv_t *t = sc_json_first(data); t; t = sc_json_next(t), i++)
                rc |= x_tweet(ing, root, t, hint, now_ms, res, i);
        return rc ? -1 : 0;
}

static void ignore(sc_ingest_result_t *res, const char *reason)
{
        res->ignored_cnt++;
        res->ignored_reason = reason;
}

static int meta_change(sc_ingest_t *ing, const char *object, const sc_jv_t *entry,
                       const sc_jv_t *change, const char *hint, int64_t now_ms,
                       sc_ingest_result_t *res, const char *where)
{
        int insta = !strcmp(object, "instagram");
        const char *field = jstr(change, "field");
        const sc_jv_t *v = sc_json_get(change, "value");
        if (!field || !v || v->type != SC_JSON_OBJECT)
                return fail(res, "missing_field", "%s: change without field/value",
                            where);

        sc_post_t *p = new_post(ing, res, where);
        if (!p)
                return fail(res, "too_many_items", "more than %d posts",
                            SC_INGEST_MAX_POSTS);
        const sc_jv_t *text;
        if (insta) {
                if (strcmp(field, "comments") && strcmp(field, "live_comments") &&
                    strcmp(field, "mentions")) {
                        ignore(res, "instagram_field");
                        return 0;
                }
                p->platform = "instagram";
                p->post_id = jid(ing, sc_json_get(v, "id"), "id");
                p->thread_id =
                    jid(ing, sc_json_get(sc_json_get(v, "media"), "id"), "media.id");
                p->parent_id = jid(ing, sc_json_get(v, "parent_id"), "parent_id");
                if (!p->parent_id)
                        p->parent_id = p->thread_id;
                author_from(ing, p, sc_json_get(v, "from"));
                text = sc_json_get(v, "text");
                if (parse_when(sc_json_get(v, "timestamp"), &p->created_at) &&
                    parse_when(sc_json_get(entry, "time"), &p->created_at))
                        return fail(res, "bad_timestamp", "%s: no time", where);
        } else {
                if (strcmp(field, "feed")) {
                        ignore(res, "facebook_field");
                        return 0;
                }
                const char *item = jstr(v, "item"), *verb = jstr(v, "verb");
                if (!item)
                        return fail(res, "missing_field", "%s: feed change without item",
                                    where);
                if (verb && strcmp(verb, "add")) {
                        ignore(res, "facebook_verb");
                        return 0;
                }
                if (!strcmp(item, "reaction") || !strcmp(item, "like")) {
                        ignore(res, "facebook_reaction");
                        return 0;
                }
                p->platform = "facebook";
                int comment = !strcmp(item, "comment");
                const char *idf = comment ? "comment_id" : "post_id";
                p->post_id = jid(ing, sc_json_get(v, idf), idf);
                if (comment) {
                        p->thread_id = jid(ing, sc_json_get(v, "post_id"), "post_id");
                        p->parent_id = jid(ing, sc_json_get(v, "parent_id"), "parent_id");
                        if (!p->parent_id)
                                p->parent_id = p->thread_id;
                }
                author_from(ing, p, sc_json_get(v, "from"));
                p->url = opt_str(ing, v, "permalink_url", "url");
                if (!p->url)
                        p->url = opt_str(ing, v, "link", "url");
                text = sc_json_get(v, "message");
                if (parse_when(sc_json_get(v, "created_time"), &p->created_at) &&
                    parse_when(sc_json_get(entry, "time"), &p->created_at))
                        return fail(res, "bad_timestamp", "%s: no time", where);
        }
        /* The page's own id is the brand's account: posts from it are the
         * brand speaking. Read only for a change that is kept, so that an
         * ignored change cannot fail the input on it. */
        const char *page_id = jid(ing, sc_json_get(entry, "id"), "entry.id");
        const sc_brand_t *owner =
            page_id ? sc_brands_by_account(ing->brands, p->platform, NULL, page_id)
                    : NULL;
        if (owner && page_id && p->author_id && !strcmp(page_id, p->author_id))
                p->author_handle = p->author_handle ? p->author_handle : owner->name;
        int rc =
            finish_post(ing, res, p, where, owner ? owner->id : NULL, hint, text, now_ms);
        if (rc == 0 && owner && page_id && !strcmp(page_id, p->author_id))
                p->is_brand = 1;
        return rc;
}

static int meta_webhook(sc_ingest_t *ing, const sc_jv_t *root, const char *object,
                        const char *hint, int64_t now_ms, sc_ingest_result_t *res)
{
        int rc = 0, ei = 0, any = 0;
        for (const sc_jv_t *e = sc_json_first(sc_json_get(root, "entry")); e;
             e = sc_json_next(e), ei++) {
                int ci = 0;
                for (const sc_jv_t *c = sc_json_first(sc_json_get(e, "changes")); c;
                     c = sc_json_next(c), ci++) {
                        char where[48];
                        snprintf(where, sizeof(where), "entry[%d].changes[%d]", ei, ci);
                        rc |= meta_change(ing, object, e, c, hint, now_ms, res, where);
                        any = 1;
                }
        }
        if (!any)
                return fail(res, "missing_field", "webhook without entry[].changes[]");
        return rc ? -1 : 0;
}

static int review(sc_ingest_t *ing, const sc_jv_t *o, const char *type, const char *hint,
                  int64_t now_ms, sc_ingest_result_t *res)
{
        sc_post_t *p = new_post(ing, res, type);
        if (!p)
                return fail(res, "too_many_items", "more than %d posts",
                            SC_INGEST_MAX_POSTS);
        if (!strcmp(type, "review")) {
                p->platform = "review";
        } else {
                const char *pl = req_str(ing, o, "platform");
                p->platform = pl ? pl : "comment";
        }
        p->post_id = jid(ing, sc_json_get(o, "id"), "id");
        const sc_jv_t *a = sc_json_get(o, "author");
        if (a && a->type == SC_JSON_OBJECT) {
                author_from(ing, p, a);
                if (!p->author_id && p->author_handle)
                        p->author_id = p->author_handle; /* review sites name, not id */
        }
        p->parent_id = jid(ing, sc_json_get(o, "reply_to"), "reply_to");
        p->thread_id = jid(ing, sc_json_get(o, "thread_id"), "thread_id");
        if (!p->thread_id)
                p->thread_id = p->parent_id;
        p->url = opt_str(ing, o, "url", "url");
        p->lang_hint = opt_str(ing, o, "lang", "lang");
        p->rating = rating(ing, sc_json_get(o, "rating"));
        if (parse_when(sc_json_get(o, "created_at"), &p->created_at))
                return fail(res, "bad_timestamp", "created_at missing or unreadable");
        const sc_jv_t *text = sc_json_get(o, "text");
        if (!text && p->rating)
                text = sc_json_get(o, "title");
        const char *brand = req_str(ing, o, "brand");
        return finish_post(ing, res, p, type, brand, hint, text, now_ms);
}

int sc_ingest_normalize(sc_ingest_t *ing, const char *buf, size_t len, const char *format,
                        const char *brand_hint, int64_t now_ms, sc_ingest_result_t *res)
{
        res->post_cnt = 0;
        res->ignored_cnt = 0;
        res->ignored_reason = NULL;
        res->error = NULL;
        res->detail[0] = '\0';
        res->norm_cnt = res->norm_lost = 0;
        ing->arena_used = 0;
        ing->res = res;
        ing->where = "input";
        ing->post_bad = 0;

        if (len > ing->opts.max_message_bytes)
                return fail(res, "too_large", "message of %zu bytes exceeds %zu", len,
                            ing->opts.max_message_bytes);
        if (!buf || !len)
                return fail(res, "bad_json", "empty message");
        char jerr[160];
        const sc_jv_t *root = sc_json_parse(ing->json, buf, len, jerr, sizeof(jerr));
        if (!root)
                return fail(res, strstr(jerr, "UTF-8") ? "invalid_utf8" : "bad_json",
                            "%s", jerr);
        if (root->type != SC_JSON_OBJECT)
                return fail(res, "bad_json", "top level is not an object");

        const char *object = jstr(root, "object");
        const char *type = jstr(root, "type");
        if (!format) {
                if (object && (!strcmp(object, "page") || !strcmp(object, "instagram")))
                        format = object;
                else if (sc_json_get(root, "data") && !sc_json_get(root, "platform"))
                        format = "x";
                else if (type && (!strcmp(type, "review") || !strcmp(type, "comment")))
                        format = type;
                else
                        format = "canonical";
        }
        if (!strcmp(format, "canonical"))
                return canonical(ing, root, brand_hint, now_ms, res);
        if (!strcmp(format, "x"))
                return x_v2(ing, root, brand_hint, now_ms, res);
        if (!strcmp(format, "page") || !strcmp(format, "facebook"))
                return meta_webhook(ing, root, "page", brand_hint, now_ms, res);
        if (!strcmp(format, "instagram"))
                return meta_webhook(ing, root, "instagram", brand_hint, now_ms, res);
        if (!strcmp(format, "review") || !strcmp(format, "comment"))
                return review(ing, root, format, brand_hint, now_ms, res);
        return fail(res, "unknown_format",
                    "sc-format '%.40s' is not canonical, x, facebook, "
                    "instagram, review or comment",
                    format);
}
