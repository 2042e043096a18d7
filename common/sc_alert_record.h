/* The Alert record (schemas/alert.avsc): something people must hear about
 * now, written by alert to care.alerts. Its kinds and severities (the names
 * on the wire, in the webhook bodies and in the configuration) live here
 * with it.
 *
 * Writer and reader work on the Avro binary directly (sc_avro.h), without an
 * Avro value: no allocation per record once the buffers are warm. Strings are
 * borrowed: the writer copies them out; the reader points them into the
 * caller's scratch buffer (valid until its next use). The optional longs
 * window_start/window_end are 0 for none on both sides (null on the wire). */
#ifndef SC_ALERT_RECORD_H
#define SC_ALERT_RECORD_H
#include <stddef.h>
#include <stdint.h>

#include "sc_avro.h"
#include "sc_buf.h"

enum {
        SC_ALERT_SPIKE,
        SC_ALERT_SPIKE_RESOLVED,
        SC_ALERT_CRISIS_POST,
        SC_ALERT_INFLUENCER_NEGATIVE,
        SC_ALERT_SLA_BREACH,
        SC_ALERT_SLA_RECOVERED, /* a breach retracted: an earlier reply arrived */
        SC_ALERT_KIND_CNT
};
enum { SC_SEV_INFO, SC_SEV_WARNING, SC_SEV_CRITICAL, SC_SEV_CNT };

/* Names are static strings ("unknown"/"info" when out of range); parse
 * returns -1 for an unknown name. */
const char *sc_alert_kind_name(int kind);
int sc_alert_kind_parse(const char *name);
int sc_alert_kind_severity(int kind); /* fixed per kind */
const char *sc_alert_severity_name(int sev);
int sc_alert_severity_parse(const char *name);

/* One alert. Strings are borrowed; optional ones (topic, url) may be NULL. */
typedef struct sc_alert_s {
        int kind, severity;
        const char *id, *brand, *topic, *title, *summary, *url;
        int64_t window_start, window_end; /* 0: none */
        int64_t count;
        double baseline_mean, baseline_stddev;
        const char *const *post_ids;
        size_t post_id_cnt;
        int64_t created_at;
} sc_alert_t;

/* The body alone, and the framed record (the codec gives the schema id), in
 * schema order. 0, or -1 (no memory). */
int sc_alert_write(const sc_alert_t *a, sc_buf_t *out);
int sc_alert_encode(const sc_alert_t *a, const sc_avro_codec_t *codec, sc_buf_t *out);

/* A framed Alert (the caller checked the schema id): the whole body, strings
 * NUL-terminated into scratch (reset first), post ids into ids (up to max_ids;
 * out->post_ids points there). Returns 0, or -1 for a truncated or malformed
 * body, trailing bytes, an unknown kind or severity, or more than max_ids post
 * ids. Nothing allocated once scratch has grown to the largest record. */
int sc_alert_decode(const void *frame, size_t len, sc_buf_t *scratch, const char **ids,
                    size_t max_ids, sc_alert_t *out);

#endif
