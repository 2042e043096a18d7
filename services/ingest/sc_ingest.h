/* ingest: raw platform JSON -> normalized posts.
 *
 * Accepted shapes (detected from the JSON, or named by the sc-format header):
 *   canonical  {"platform","brand","post_id","author":{...},"text","created_at",...}
 *   x          X API v2 tweet: {"data":{...}|[...], "includes":{"users":[...]},
 *              "matching_rules":[{"tag":"<brand>"}]}
 *   facebook   webhook {"object":"page","entry":[{"id","changes":[{"field":"feed",
 *   instagram  "value":{...}}]}]} / {"object":"instagram",...,"field":"comments"}
 *   review     {"type":"review"|"comment","source","brand","id","author","rating",
 *              "text","created_at","url","reply_to"}
 * One input may carry several posts (a webhook batch, a search page).
 *
 * The normalizer owns its JSON parser and result storage; results stay valid
 * until the next call. No allocation per message once warm. */
#ifndef SC_INGEST_H
#define SC_INGEST_H
#include <stddef.h>
#include <stdint.h>

#include "sc_brands.h"
#include "sc_post.h"

typedef struct sc_ingest_s sc_ingest_t;

/* 0 in a limit means its default (in parentheses). */
typedef struct sc_ingest_opts_s {
        size_t max_message_bytes; /* whole input; larger is rejected unparsed */
        size_t max_text_bytes;    /* post text */
        int64_t max_future_ms;    /* created_at may be this far ahead of now */
        int multi_brand_all;      /* ingest.multi_brand: all (1) or first (0) */
        size_t max_id_bytes;      /* post, author, parent, thread ids (256) */
        size_t max_handle_bytes;  /* author handle, cut beyond (256) */
        size_t max_url_bytes;     /* url, dropped beyond (2048) */
        int64_t max_followers;    /* author followers, 0 beyond (10^10) */
} sc_ingest_opts_t;

#define SC_INGEST_MAX_POSTS 64
/* Brands told apart in one post's text (multi_brand: all). */
#define SC_INGEST_MAX_MENTIONS 8

/* How a post's brand is decided (README "Brand attribution"), as far as the
 * input alone tells:
 *   1. named: the input's brand field (or X rule tag, Facebook page owner),
 *      else the sc-brand header / message key;
 *   2. the author is one of a brand's own accounts: that brand speaks;
 *   3. the post answers one of a brand's own accounts (X
 *      in_reply_to_user_id): that brand;
 *   4. the post answers another post (parent or thread): the brand that post
 *      was attributed to -- ingest's Redis record, looked up by the worker
 *      (lookup = 1), so the normalizer leaves it open;
 *   5. the brand named earliest in the text (sc_brands_mentions).
 * post->brand is the answer without 4: fixed, else mentions[0], else NULL
 * (then lookup is 1: a post with neither is rejected as unknown_brand). */
typedef struct sc_ingest_attr_s {
        const sc_brand_t *fixed; /* 1-3 decided it: final */
        int lookup;              /* 4 applies: the parent's/thread's record decides */
        /* Brands the text names, earliest first: mentions[0] is 5; with
         * multi_brand all, every one gets its own copy (not for a brand's own
         * posts). Only mentions[0] when multi_brand is first. */
        sc_brand_hit_t mentions[SC_INGEST_MAX_MENTIONS];
        size_t mention_cnt;
        const char *reply_to_author_id; /* 3: the author the post answers */
} sc_ingest_attr_t;

#define SC_INGEST_MAX_NORMS 16
/* A lang hint longer than this is no language tag (BCP 47 tags in use are
 * far shorter). */
#define SC_INGEST_MAX_LANG 35

/* A malformed optional field that was normalized rather than refused:
 * field ("author.followers", "author.handle", "author.verified", "lang",
 * "url") and action ("wrong_type", "out_of_range", "too_long", "malformed",
 * "truncated"). Both are string literals. */
typedef struct sc_ingest_norm_s {
        const char *field;
        const char *action;
} sc_ingest_norm_t;

typedef struct sc_ingest_result_s {
        sc_post_t posts[SC_INGEST_MAX_POSTS];
        sc_ingest_attr_t attr[SC_INGEST_MAX_POSTS]; /* of posts[i] */
        size_t post_cnt;
        /* Items that are not posts to care about (likes, edits, removals):
         * counted under ignored_reason, never silently. */
        size_t ignored_cnt;
        const char *ignored_reason;
        /* Set when the input (or one of its items) is invalid: a short code
         * (bad_json, invalid_utf8, too_large, text_too_long, missing_field,
         * bad_timestamp, unknown_platform, unknown_brand, unknown_format,
         * too_many_items, bad_field) and a human detail naming the field. */
        const char *error;
        char detail[256];
        /* What was normalized in the input's posts (the first
         * SC_INGEST_MAX_NORMS; norm_lost counts the rest). */
        sc_ingest_norm_t norms[SC_INGEST_MAX_NORMS];
        size_t norm_cnt, norm_lost;
} sc_ingest_result_t;

/* brands is borrowed and must outlive the normalizer (or be swapped with
 * sc_ingest_set_brands on reload). */
sc_ingest_t *sc_ingest_new(const sc_brands_t *brands, const sc_ingest_opts_t *opts);
void sc_ingest_destroy(sc_ingest_t *ing);
void sc_ingest_set_brands(sc_ingest_t *ing, const sc_brands_t *brands);

/* Normalizes one input. format: the sc-format header value or NULL (detect).
 * brand_hint: the sc-brand header or message key, or NULL. Returns 0 when
 * every item was usable (res->error NULL), -1 otherwise; posts that were
 * valid are in res->posts either way. */
int sc_ingest_normalize(sc_ingest_t *ing, const char *buf, size_t len, const char *format,
                        const char *brand_hint, int64_t now_ms, sc_ingest_result_t *res);

#endif
