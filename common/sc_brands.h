/* The brands section of the deployment file: who the brands are, which
 * accounts are their own, which words attribute a post to them, and their
 * topic keyword groups. Shared by every worker.
 *
 *   brands:
 *     - id: telko                      # message key, {hash tag} in Redis
 *       name: Telko Polska
 *       timezone: Europe/Warsaw        # the brand's local day
 *       accounts:                      # the brand's own accounts per platform
 *         x: ["telko_pl", "id:1234"]   # handles (no @, case-insensitive) or ids
 *         facebook: ["id:1020304050"]
 *       keywords: ["telko", "#telko"]  # attribute an unlabelled post ("@telko_pl"
 *                                      # is implied by the account); trailing * = stem
 *       topics:                        # keyword groups; trailing * = stem
 *         internet: ["internet*", "swiatlowod*", "router*"]
 */
#ifndef SC_BRANDS_H
#define SC_BRANDS_H
#include <stddef.h>

#include "sc_yaml.h"

typedef struct sc_brand_topic_s {
        const char *name;
        const char **keywords; /* as written in the file */
        size_t keyword_cnt;
} sc_brand_topic_t;

typedef struct sc_brand_s {
        const char *id;
        const char *name;
        const char *timezone; /* IANA name; "UTC" when not set */
        const char **keywords;
        size_t keyword_cnt;
        sc_brand_topic_t *topics;
        size_t topic_cnt;
} sc_brand_t;

typedef struct sc_brands_s sc_brands_t;

/* Parses the `brands:` sequence of the tree; errors say "line N: ...".
 * The result copies what it needs; caller frees with sc_brands_destroy(). */
sc_brands_t *sc_brands_new(const sc_yaml_node_t *root, char *errstr, size_t errstr_size);
void sc_brands_destroy(sc_brands_t *b);

size_t sc_brands_count(const sc_brands_t *b);
const sc_brand_t *sc_brands_at(const sc_brands_t *b, size_t i);
const sc_brand_t *sc_brands_find(const sc_brands_t *b, const char *id);
/* 1 if (platform, handle-or-id) is one of the brand's own accounts.
 * handle may start with '@'; either handle or author_id may be NULL. */
int sc_brands_is_own_account(const sc_brands_t *b, const sc_brand_t *brand,
                             const char *platform, const char *handle,
                             const char *author_id);
/* The brand whose own account this is, or NULL. */
const sc_brand_t *sc_brands_by_account(const sc_brands_t *b, const char *platform,
                                       const char *handle, const char *author_id);
/* Where the text names brands. A brand is named by one of its keywords or
 * by "@handle" of one of its own accounts (any platform). Matching is
 * case-insensitive by Unicode simple lowercase, on code points; a match
 * must not continue a word where the keyword's own edge is a word character:
 * letters, marks, digits and '_' are word characters, everything else
 * (spaces, punctuation, symbols, emoji) is not. A trailing '*' makes the
 * keyword a stem: "żabk*" matches "Żabka" and "Żabkę", "żabka" only "Żabka".
 *
 * One hit per brand: its earliest match (longest at that position). Hits are
 * ordered by position, then longer match first, then deployment order. */
typedef struct sc_brand_hit_s {
        const sc_brand_t *brand;
        size_t pos, len; /* bytes of text */
} sc_brand_hit_t;

/* Work space of sc_brands_mentions (decoded text), grown on demand and
 * reused: no allocation per call once it has reached the longest text.
 * One per thread; caller destroys (NULL accepted). */
typedef struct sc_brands_scan_s sc_brands_scan_t;
sc_brands_scan_t *sc_brands_scan_new(void);
void sc_brands_scan_destroy(sc_brands_scan_t *s);

/* Fills hits[0..cap) with the brands text names, earliest first; returns how
 * many (at most cap). cap 1 stops at the earliest position that matches.
 * O(text length) for a given deployment: the text is decoded once and only
 * the keywords sharing a code point's index bucket are tried there. */
size_t sc_brands_mentions(const sc_brands_t *b, sc_brands_scan_t *s, const char *text,
                          size_t len, sc_brand_hit_t *hits, size_t cap);

/* The brand named earliest in text (see above), or NULL. Allocates its work
 * space per call: for tools and tests; hot paths use sc_brands_mentions. */
const sc_brand_t *sc_brands_match_text(const sc_brands_t *b, const char *text,
                                       size_t len);

#endif
