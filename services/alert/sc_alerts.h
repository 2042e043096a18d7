/* Alerts: generic JSON and Slack-compatible webhook bodies of an Alert
 * (the record, its kinds and severities: common/sc_alert_record.h), the view of an
 * Enriched record the single-post checks need, and the webhook targets of the `alert:`
 * section. */
#ifndef SC_ALERTS_H
#define SC_ALERTS_H
#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_alert_record.h"
#include "sc_avro.h"
#include "sc_buf.h"
#include "sc_post.h"
#include "sc_webhook.h"
#include "sc_yaml.h"

/* The single-post crisis check, also what counts a post toward a spike:
 * a crisis intent present (confidence > 0) and at least min_confidence. */
int sc_alert_is_crisis(double confidence, double min_confidence);

/* Webhook bodies appended to out. */
int sc_alert_json(const sc_alert_t *a, sc_buf_t *out);
int sc_alert_slack(const sc_alert_t *a, sc_buf_t *out);

#define SC_ALERT_MAX_TOPICS 16

/* What the checks read from an Enriched record; strings point into the
 * decoded value. */
typedef struct sc_enriched_view_s {
        sc_post_t post;
        const char *sentiment;
        double crisis; /* confidence of the crisis intent, 0 when absent */
        const char *topics[SC_ALERT_MAX_TOPICS];
        size_t topic_cnt;
} sc_enriched_view_t;

/* From a decoded value. Returns 0, or -1 when a required field is missing. */
int sc_enriched_view(avro_value_t *enriched, sc_enriched_view_t *out);
/* Straight from a framed Enriched (the caller checked the schema id) with the
 * record module's reader (sc_enriched_decode), without Avro-C's generic values
 * (which allocate per union and array item): the hot path. Strings are
 * copied, NUL-terminated, into scratch (reused; valid until its next use).
 * Returns 0, or -1 for a truncated or malformed body; a post without its
 * required ids is read (the caller checks sc_post_missing). Same result as
 * sc_avro_decode + sc_enriched_view. */
int sc_enriched_read(const void *frame, size_t len, sc_buf_t *scratch,
                     sc_enriched_view_t *out);

enum { SC_FORMAT_JSON, SC_FORMAT_SLACK };

typedef struct sc_alert_target_s {
        char *id, *url, *secret;
        int format;
        unsigned kinds; /* bit per kind */
        char **brands;  /* empty: every brand */
        size_t brand_cnt;
        int min_severity;
        sc_webhook_target_conf_t wh; /* strings point into this struct */
} sc_alert_target_t;

/* Parses alert.targets from the deployment tree (root may be NULL: no
 * targets). Secrets: `secret:` or `secret_env: NAME`. Errors name the file
 * line. Caller frees with sc_alert_targets_free(). */
int sc_alert_targets_parse(const sc_yaml_node_t *root, const char *file,
                           sc_alert_target_t **out, size_t *cnt, char *errstr,
                           size_t errstr_size);
void sc_alert_targets_free(sc_alert_target_t *t, size_t cnt);
int sc_alert_target_matches(const sc_alert_target_t *t, const sc_alert_t *a);

#endif
