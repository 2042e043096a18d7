/* The Routed record (schemas/routed.avsc): an Enriched record and route's
 * decision for it, on care.queue.<team> and care.routed. route writes it;
 * track reads it.
 *
 * Direct writer and allocation-free reader as in sc_enriched.h (same
 * ownership: the reader's strings point into the caller's scratch). */
#ifndef SC_ROUTED_H
#define SC_ROUTED_H
#include <stddef.h>
#include <stdint.h>

#include "sc_enriched.h"

/* Tags the reader keeps (the rest are read and skipped); the writer writes
 * any number. */
#define SC_ROUTED_MAX_TAGS 32

typedef struct sc_routed_s {
        sc_enriched_t enriched;
        const char *team;
        const char *priority; /* after any rule override */
        const char *const *tags;
        size_t tag_cnt;
        int needs_reply;        /* after any rule override */
        const char *decision;   /* "queue" or "drop_spam" */
        const char *rule_id;    /* "default" when no rule matched */
        const char *sla_policy; /* NULL: none */
        sc_opt_long_t sla_target_s;
        const char *calendar; /* NULL: none */
        sc_opt_long_t due_at; /* ms */
        int64_t routed_at;    /* ms */
        /* Where the reader puts the tags (tags points here). */
        const char *tag_store[SC_ROUTED_MAX_TAGS];
} sc_routed_t;

/* The decision fields alone, i.e. what follows the embedded Enriched: route
 * appends them to the Enriched body it received, copied verbatim (the input
 * minus its frame header is the exact encoding of the embedded record). */
int sc_routed_write_decision(const sc_routed_t *r, sc_buf_t *out);
/* The whole body, and the framed record. 0, or -1 (no memory) with out
 * unchanged. */
int sc_routed_write(const sc_routed_t *r, sc_buf_t *out);
int sc_routed_encode(const sc_routed_t *r, const sc_avro_codec_t *c, sc_buf_t *out);

/* As sc_enriched_read_body / sc_enriched_decode (SC_REC_MISSING: the post
 * lacks a required id). */
int sc_routed_read_body(sc_avro_rd_t *r, sc_routed_t *out);
int sc_routed_decode(sc_avro_codec_t *c, const void *frame, size_t len, sc_buf_t *scratch,
                     sc_routed_t *out, char *errstr, size_t errstr_size);

#endif
