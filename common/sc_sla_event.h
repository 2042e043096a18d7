/* The SlaEvent record (schemas/sla_event.avsc): an SLA outcome on care.sla.
 * track writes it; alert reads it.
 *
 * Direct writer and allocation-free reader as in sc_enriched.h (same
 * ownership). The struct is sc_sla_record_t: track's sc_sla_event_t is the
 * outcome its scripts hand back, before it becomes this record. */
#ifndef SC_SLA_EVENT_H
#define SC_SLA_EVENT_H
#include <stddef.h>
#include <stdint.h>

#include "sc_avro.h"
#include "sc_enriched.h" /* SC_REC_BAD, SC_REC_MISSING */

typedef struct sc_sla_record_s {
        const char *event_id; /* post event id + ':' + kind */
        const char *kind;     /* breach, hit, late or recovered */
        const char *post_event_id;
        const char *brand, *platform, *post_id, *team, *priority;
        int64_t created_at, due_at; /* ms */
        sc_opt_long_t replied_at;   /* ms */
        sc_opt_long_t frt_s;        /* first-response time, seconds */
        const char *url;            /* NULL: none */
        const char *text;
        int64_t emitted_at; /* ms */
} sc_sla_record_t;

/* 0, or -1 (no memory) with out unchanged. */
int sc_sla_event_write(const sc_sla_record_t *e, sc_buf_t *out);
int sc_sla_event_encode(const sc_sla_record_t *e, const sc_avro_codec_t *c,
                        sc_buf_t *out);

/* As sc_enriched_read_body / sc_enriched_decode; SC_REC_MISSING when
 * event_id, kind, post_event_id or brand is empty. */
int sc_sla_event_read_body(sc_avro_rd_t *r, sc_sla_record_t *out);
int sc_sla_event_decode(sc_avro_codec_t *c, const void *frame, size_t len,
                        sc_buf_t *scratch, sc_sla_record_t *out, char *errstr,
                        size_t errstr_size);

#endif
