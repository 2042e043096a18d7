/* Webhook delivery engine on the libcurl multi interface: many deliveries in
 * flight at once, driven without blocking from the worker's loop
 * (sc_webhook_poll()), no threads.
 *
 * Each delivery is one body POSTed to one target with
 *   Content-Type: application/json
 *   X-Socialcare-Alert-Id: <alert id>
 *   X-Socialcare-Timestamp: <unix seconds of this attempt>
 *   X-Socialcare-Signature: v1=<hex HMAC-SHA256(secret, timestamp "." body)>
 *   X-Socialcare-Attempt: <1-based attempt number>
 * and ends exactly once in the done callback: delivered (2xx), or parked
 * (4xx other than 408/429 at once; 5xx, 408, 429, timeouts and connection
 * errors after max_attempts or max_age, retried with exponential backoff and
 * full jitter in between). Targets are independent: each has its own
 * concurrency limit and queue, so a dead target never delays another. */
#ifndef SC_WEBHOOK_H
#define SC_WEBHOOK_H
#include <stddef.h>
#include <stdint.h>

typedef struct sc_webhook_s sc_webhook_t;

typedef struct sc_webhook_target_conf_s {
        const char *id;     /* metric label and park header */
        const char *url;    /* http:// or https:// */
        const char *secret; /* HMAC key; "" signs with an empty key */
        int64_t timeout_ms; /* whole request, per attempt */
        int max_attempts;   /* >= 1 */
        int64_t max_age_ms; /* since submit: no new attempt after this */
        int concurrency;    /* requests in flight to this target */
        int64_t backoff_base_ms, backoff_max_ms;
} sc_webhook_target_conf_t;

/* How a delivery ended. Strings are valid during the callback only. */
typedef struct sc_webhook_result_s {
        int delivered;          /* 1: 2xx; 0: parked */
        const char *reason;     /* parked: "http_4xx", "max_attempts" or "max_age" */
        const char *last_error; /* last failure: "http 500", "timeout", ... or "" */
        int attempts;
        long http_status; /* last HTTP status, 0 when none */
        const char *alert_id;
        const void *body;
        size_t body_len;
} sc_webhook_result_t;

/* Called from sc_webhook_poll() once per delivery. */
typedef void(sc_webhook_done_cb)(void *opaque, int target, void *cookie,
                                 const sc_webhook_result_t *r);

/* Per-attempt events for metrics: fail_reason is "timeout", "5xx", "4xx" or
 * "connect" for a failed attempt, NULL for a delivered one. */
typedef void(sc_webhook_attempt_cb)(void *opaque, int target, const char *fail_reason);

sc_webhook_t *sc_webhook_new(sc_webhook_done_cb *done, sc_webhook_attempt_cb *attempt,
                             void *opaque, char *errstr, size_t errstr_size);
/* Drops every pending delivery without calling done. Accepts NULL. */
void sc_webhook_destroy(sc_webhook_t *wh);

/* Adds a target (strings copied). Returns its index, or -1. */
int sc_webhook_add_target(sc_webhook_t *wh, const sc_webhook_target_conf_t *conf,
                          char *errstr, size_t errstr_size);
const char *sc_webhook_target_id(const sc_webhook_t *wh, int target);

/* Queues body (copied) for target. cookie is handed back to done.
 * Returns 0, or -1 (bad target). */
int sc_webhook_submit(sc_webhook_t *wh, int target, const char *alert_id,
                      const void *body, size_t len, void *cookie);

/* Starts due attempts, reads finished ones, calls the callbacks. wait_ms > 0
 * waits up to that long for network activity (tests); 0 never blocks.
 * Returns the number of deliveries not yet done. */
size_t sc_webhook_poll(sc_webhook_t *wh, int wait_ms);
size_t sc_webhook_pending(const sc_webhook_t *wh, int target); /* -1: all */

/* The signature header value for secret/timestamp/body:
 * "v1=" + 64 hex digits (out must hold 68 bytes). */
void sc_webhook_sign(const char *secret, int64_t ts_s, const void *body, size_t len,
                     char out[68]);

#endif
