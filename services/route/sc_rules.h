/* Routing rules (the `route:` section): which team handles a post, how
 * urgent it is and what happens to it. Compiled once at load (and on SIGHUP)
 * into flat structs: interned ids, bitmasks for platform, language,
 * sentiment label, intents, topics and priority, keywords folded in advance,
 * so evaluating a post allocates nothing and compares no strings except
 * keyword substrings of the folded text.
 *
 *   route:
 *     default_team: care              # when nothing matches (route.default_team)
 *     rules:                          # global rules, for every brand
 *       - id: spam
 *         when: {intents: [spam], intent_min_confidence: 0.5}
 *         then: {drop: spam}
 *     brands:
 *       telko:
 *         default_team: care          # optional: this brand's default
 *         rules: [...]                # evaluated before the global rules
 *
 * Order: the post's brand rules (in order), then the global rules, then the
 * brand's default team, then route.default_team. First match wins. The full
 * reference (every condition and action, validation) is docs/ROUTING.md. */
#ifndef SC_RULES_H
#define SC_RULES_H
#include <stddef.h>
#include <stdint.h>

#include "sc_brands.h"
#include "sc_buf.h"
#include "sc_teams.h"
#include "sc_vocab.h"
#include "sc_yaml.h"

/* Platforms, languages, labels and intents are the vocabulary's (sc_vocab.h):
 * masks and sc_route_post_t use those indexes. */

/* What the rules look at, decoded from an Enriched record. Strings are
 * borrowed for the duration of sc_rules_eval(). */
typedef struct sc_route_post_s {
        const char *brand;
        int platform; /* SC_PLATFORM_*, -1 unknown (matches no platform list) */
        int lang;     /* SC_LANG_*, -1 unknown */
        int label;    /* SC_LABEL_*, -1 unknown */
        double score; /* -1 .. 1 */
        double intent[SC_INTENT_CNT]; /* confidence; 0 when absent */
        const char *const *topics;    /* topic names */
        const size_t *topic_lens;
        size_t topic_cnt;
        int64_t reach;
        int64_t followers;
        int verified;
        int is_reply; /* has a parent post */
        int priority; /* SC_PRIO_* from classify */
        int needs_reply;
        const char *text;
        size_t text_len;
} sc_route_post_t;

/* Per-caller scratch (the folded text), reused across posts. */
typedef struct sc_route_scratch_s {
        sc_buf_t fold;
        size_t max_text; /* text bytes folded; 0: all */
} sc_route_scratch_t;

typedef struct sc_route_decision_s {
        int rule;            /* index for sc_rules_rule_id(), -1 = default */
        const char *rule_id; /* "default" when no rule matched */
        int team;            /* index in the teams the rules were built with */
        int priority;        /* after any override */
        int needs_reply;     /* after any override */
        int drop;            /* 1: drop as spam */
        const char *const *tags;
        size_t tag_cnt;
} sc_route_decision_t;

typedef struct sc_rules_s sc_rules_t;

/* Compiles root's `route:` section against brands and teams (both must
 * outlive the result; decisions point at their strings through team
 * indexes only). default_team is route.default_team from the settings
 * (NULL: taken from the tree, else "care"). file names the source in
 * messages: "file:line: reason". Returns NULL with the first error. */
sc_rules_t *sc_rules_new(const sc_yaml_node_t *root, const sc_brands_t *brands,
                         const sc_teams_t *teams, const char *default_team,
                         const char *file, char *errstr, size_t errstr_size);
void sc_rules_destroy(sc_rules_t *r);

/* Evaluates p; fills out. No allocation once scratch has grown. */
void sc_rules_eval(const sc_rules_t *r, sc_route_scratch_t *scratch,
                   const sc_route_post_t *p, sc_route_decision_t *out);

/* Every rule (global and per brand), for metrics created at start. */
size_t sc_rules_count(const sc_rules_t *r);
const char *sc_rules_rule_id(const sc_rules_t *r, size_t i);
/* "12 rules (4 global, 3 brands), default team care" */
const char *sc_rules_summary(const sc_rules_t *r);

/* Appends the folded form of text (lowercase, Polish diacritics stripped,
 * words separated by one space, with a leading and trailing space). */
int sc_rules_fold(sc_buf_t *out, const char *text, size_t n);

#endif
