/* The Enriched record (schemas/enriched.avsc): a Post with what classify
 * understood of it, on social.posts.enriched. classify writes it; route,
 * alert (and Routed, which embeds it) read it.
 *
 * Writer and reader work on the Avro binary directly (sc_avro.h), without an
 * Avro value: no allocation per record once the buffers are warm. Strings
 * are borrowed: the writer copies them out; the reader points them into the
 * caller's scratch buffer (valid until it is reset or freed). */
#ifndef SC_ENRICHED_H
#define SC_ENRICHED_H
#include <stddef.h>
#include <stdint.h>

#include "sc_avro.h"
#include "sc_post.h"
#include "sc_vocab.h"

/* Reader results beside 0. */
#define SC_REC_BAD     -1 /* not a frame of this record, or a malformed body */
#define SC_REC_MISSING -2 /* well-formed, but a required field is absent or empty */

typedef struct sc_enriched_s {
        sc_post_t post;
        const char *classifier_version;
        const char *language; /* "pl", "en" or "und" (sc_lang_parse) */
        const char *label;    /* sentiment "positive", "neutral", "negative" */
        double score;         /* sentiment -1 .. 1 */
        /* intents: bit k of intent_mask set when intent k (sc_intent_t) is in
         * the record, with confidence intent[k]. Written in index order; a
         * name outside the vocabulary is skipped by the reader, and of a name
         * listed twice the last confidence is kept. */
        unsigned intent_mask;
        double intent[SC_INTENT_CNT];
        /* topics: the first SC_MAX_TOPICS of the record (the reader skips the
         * rest); topic_lens without the NUL (the writer writes that many
         * bytes). */
        const char *topics[SC_MAX_TOPICS];
        size_t topic_lens[SC_MAX_TOPICS];
        size_t topic_cnt;
        int64_t reach;
        const char *priority; /* "urgent", "high", "normal", "low" (sc_prio_parse) */
        double priority_score;
        int needs_reply;
        int64_t classified_at; /* ms */
} sc_enriched_t;

/* The body alone (for records that embed an Enriched), and the framed record
 * (the codec gives the schema id). 0, or -1 (no memory) with out unchanged. */
int sc_enriched_write(const sc_enriched_t *e, sc_buf_t *out);
int sc_enriched_encode(const sc_enriched_t *e, const sc_avro_codec_t *c, sc_buf_t *out);

/* Reads one body field by field (strings into r's scratch): 0, or
 * SC_REC_MISSING when the post lacks a required id (sc_post_missing); a
 * malformed body is left in r->bad. */
int sc_enriched_read_body(sc_avro_rd_t *r, sc_enriched_t *out);
/* A framed record: checks the frame (and, codec not NULL, that the codec
 * accepts its schema id), reads the whole body. 0, SC_REC_BAD or
 * SC_REC_MISSING with a reason in errstr. Nothing allocated once scratch has
 * grown to the largest record. */
int sc_enriched_decode(sc_avro_codec_t *c, const void *frame, size_t len,
                       sc_buf_t *scratch, sc_enriched_t *out, char *errstr,
                       size_t errstr_size);

#endif
