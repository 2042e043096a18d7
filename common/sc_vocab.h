/* The pipeline's vocabulary: the closed sets that pass between workers in
 * the records (the Avro schemas under schemas/) and their names on the wire, in Redis and
 * in the configuration. One definition for every worker; the order of each enum is the
 * order of its names and never changes meaning between releases (a new value is appended
 * before the _CNT).
 *
 * Names are static strings; nothing here allocates. */
#ifndef SC_VOCAB_H
#define SC_VOCAB_H
#include <stddef.h>

typedef enum {
        SC_PLATFORM_X,
        SC_PLATFORM_FACEBOOK,
        SC_PLATFORM_INSTAGRAM,
        SC_PLATFORM_FORUM,
        SC_PLATFORM_COMMENT,
        SC_PLATFORM_REVIEW,
        SC_PLATFORM_CNT
} sc_platform_t;

typedef enum { SC_LANG_PL, SC_LANG_EN, SC_LANG_UND, SC_LANG_CNT } sc_lang_t;

/* Sentiment labels, "positive" first (the order route's rules and the
 * Enriched record use). */
typedef enum {
        SC_LABEL_POSITIVE,
        SC_LABEL_NEUTRAL,
        SC_LABEL_NEGATIVE,
        SC_LABEL_CNT
} sc_label_t;

typedef enum {
        SC_INTENT_COMPLAINT,
        SC_INTENT_QUESTION,
        SC_INTENT_PRAISE,
        SC_INTENT_PURCHASE,
        SC_INTENT_CHURN,
        SC_INTENT_CRISIS,
        SC_INTENT_SPAM,
        SC_INTENT_CNT
} sc_intent_t;

typedef enum {
        SC_PRIO_URGENT,
        SC_PRIO_HIGH,
        SC_PRIO_NORMAL,
        SC_PRIO_LOW,
        SC_PRIO_CNT
} sc_prio_t;

/* Topics (the brands' keyword groups) one post carries at most in Enriched,
 * and distinct topics route's rules may name: a rule's topic set is a 64-bit
 * mask. */
#define SC_MAX_TOPICS 64

/* Index -> name ("x", "pl", "positive", "purchase_intent", "urgent" ...);
 * NULL when out of range. */
const char *sc_platform_name(int platform);
const char *sc_lang_name(int lang);
const char *sc_label_name(int label);
const char *sc_intent_name(int intent);
const char *sc_prio_name(int prio);

/* Name of n bytes (not NUL-terminated) -> index, or -1 when unknown. */
int sc_platform_parse(const char *s, size_t n);
int sc_lang_parse(const char *s, size_t n);
int sc_label_parse(const char *s, size_t n);
int sc_intent_parse(const char *s, size_t n);
int sc_prio_parse(const char *s, size_t n);

#endif
