#include "sc_webhook.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sc_alloc.h"
#include "sc_buf.h"
#include "sc_log.h"
#include "sc_time.h"

/* One body for one target, from submit until done. Deliveries of a target
 * form a FIFO list; an active one has an easy handle in the multi. */
typedef struct delivery_s {
        struct delivery_s *next;
        int target;
        char *alert_id;
        char *body;
        size_t len;
        void *cookie;
        int attempts;
        int64_t submitted_ms, due_ms; /* monotonic */
        CURL *easy;
        struct curl_slist *hdrs;
        long status;
        char last_error[96];
} delivery_t;

typedef struct target_s {
        char *id, *url, *secret;
        int64_t timeout_ms, max_age_ms, backoff_base_ms, backoff_max_ms;
        int max_attempts, concurrency, active;
        delivery_t *head, *tail;
        size_t pending;
} target_t;

struct sc_webhook_s {
        CURLM *multi;
        target_t *targets;
        int target_cnt;
        size_t target_cap;
        size_t pending;
        sc_webhook_done_cb *done;
        sc_webhook_attempt_cb *attempt;
        void *opaque;
        uint64_t rng;
        sc_buf_t scratch;
};

static size_t discard_body(char *p, size_t size, size_t n, void *arg)
{
        (void)p;
        (void)arg;
        return size * n;
}

static uint64_t rnd(sc_webhook_t *wh)
{
        /* xorshift64*: jitter only needs to spread retries, not be secure. */
        uint64_t x = wh->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        wh->rng = x;
        return x * 0x2545F4914F6CDD1DULL;
}

sc_webhook_t *sc_webhook_new(sc_webhook_done_cb *done, sc_webhook_attempt_cb *attempt,
                             void *opaque, char *errstr, size_t errstr_size)
{
        static int curl_ready;
        if (!curl_ready) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
                        snprintf(errstr, errstr_size, "curl_global_init failed");
                        return NULL;
                }
                curl_ready = 1;
        }
        sc_webhook_t *wh = sc_calloc(1, sizeof(*wh));
        if (!(wh->multi = curl_multi_init())) {
                free(wh);
                snprintf(errstr, errstr_size, "curl_multi_init failed");
                return NULL;
        }
        wh->done = done;
        wh->attempt = attempt;
        wh->opaque = opaque;
        wh->rng =
            (uint64_t)sc_mono_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
        if (!wh->rng)
                wh->rng = 1;
        return wh;
}

static void delivery_free(delivery_t *d)
{
        if (d->easy)
                curl_easy_cleanup(d->easy);
        curl_slist_free_all(d->hdrs);
        free(d->alert_id);
        free(d->body);
        free(d);
}

void sc_webhook_destroy(sc_webhook_t *wh)
{
        if (!wh)
                return;
        for (int i = 0; i < wh->target_cnt; i++) {
                target_t *t = &wh->targets[i];
                while (t->head) {
                        delivery_t *d = t->head;
                        t->head = d->next;
                        if (d->easy)
                                curl_multi_remove_handle(wh->multi, d->easy);
                        delivery_free(d);
                }
                free(t->id);
                free(t->url);
                free(t->secret);
        }
        free(wh->targets);
        curl_multi_cleanup(wh->multi);
        sc_buf_free(&wh->scratch);
        free(wh);
}

int sc_webhook_add_target(sc_webhook_t *wh, const sc_webhook_target_conf_t *c,
                          char *errstr, size_t errstr_size)
{
        if (!c->id || !*c->id || !c->url ||
            (strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8))) {
                snprintf(errstr, errstr_size,
                         "target %s: url must be http:// or https://",
                         c->id ? c->id : "?");
                return -1;
        }
        SC_GROW(wh->targets, wh->target_cap, (size_t)wh->target_cnt + 1);
        target_t *t = &wh->targets[wh->target_cnt];
        memset(t, 0, sizeof(*t));
        t->id = sc_strdup(c->id);
        t->url = sc_strdup(c->url);
        t->secret = sc_strdup(c->secret ? c->secret : "");
        t->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 5000;
        t->max_attempts = c->max_attempts > 0 ? c->max_attempts : 1;
        t->max_age_ms = c->max_age_ms > 0 ? c->max_age_ms : 3600000;
        t->concurrency = c->concurrency > 0 ? c->concurrency : 4;
        t->backoff_base_ms = c->backoff_base_ms > 0 ? c->backoff_base_ms : 1000;
        t->backoff_max_ms = c->backoff_max_ms >= t->backoff_base_ms ? c->backoff_max_ms
                                                                    : t->backoff_base_ms;
        return wh->target_cnt++;
}

const char *sc_webhook_target_id(const sc_webhook_t *wh, int target)
{
        return target >= 0 && target < wh->target_cnt ? wh->targets[target].id : NULL;
}

int sc_webhook_submit(sc_webhook_t *wh, int target, const char *alert_id,
                      const void *body, size_t len, void *cookie)
{
        if (target < 0 || target >= wh->target_cnt)
                return -1;
        delivery_t *d = sc_calloc(1, sizeof(*d));
        d->alert_id = sc_strdup(alert_id);
        d->body = sc_malloc(len + 1);
        /* Header values must not break the request: no control characters. */
        for (char *p = d->alert_id; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '_';
        memcpy(d->body, body, len);
        d->body[len] = '\0';
        d->len = len;
        d->cookie = cookie;
        d->target = target;
        d->submitted_ms = d->due_ms = sc_mono_ms();
        target_t *t = &wh->targets[target];
        if (t->tail)
                t->tail->next = d;
        else
                t->head = d;
        t->tail = d;
        t->pending++;
        wh->pending++;
        return 0;
}

void sc_webhook_sign(const char *secret, int64_t ts_s, const void *body, size_t len,
                     char out[68])
{
        sc_buf_t b = SC_BUF_INIT;
        sc_buf_printf(&b, "%lld.", (long long)ts_s);
        sc_buf_append(&b, body, len);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)b.data,
             b.len, md, &mdlen);
        sc_buf_free(&b);
        static const char hex[] = "0123456789abcdef";
        memcpy(out, "v1=", 3);
        for (unsigned int i = 0; i < mdlen && i < 32; i++) {
                out[3 + 2 * i] = hex[md[i] >> 4];
                out[4 + 2 * i] = hex[md[i] & 15];
        }
        out[3 + 2 * (mdlen < 32 ? mdlen : 32)] = '\0';
}

/* curl_slist_append returns NULL, dropping nothing, when it cannot allocate:
 * the project's out-of-memory policy (sc_alloc.h). */
static struct curl_slist *hdr(struct curl_slist *h, const char *line)
{
        struct curl_slist *n = curl_slist_append(h, line);
        if (!n)
                sc_oom(strlen(line));
        return n;
}

static int start(sc_webhook_t *wh, target_t *t, delivery_t *d)
{
        char line[256], sig[68];
        int64_t ts = sc_now_ms() / 1000;
        d->attempts++;
        sc_webhook_sign(t->secret, ts, d->body, d->len, sig);
        struct curl_slist *h = NULL;
        h = hdr(h, "Content-Type: application/json");
        h = hdr(h, "Expect:");
        /* Sized from the id: a truncated id would merge two alerts in a
         * receiver that deduplicates on it. */
        sc_buf_t idh = SC_BUF_INIT;
        if (sc_buf_printf(&idh, "X-Socialcare-Alert-Id: %s", d->alert_id)) {
                sc_buf_free(&idh);
                curl_slist_free_all(h);
                return -1;
        }
        h = hdr(h, idh.data);
        sc_buf_free(&idh);
        snprintf(line, sizeof(line), "X-Socialcare-Timestamp: %lld", (long long)ts);
        h = hdr(h, line);
        snprintf(line, sizeof(line), "X-Socialcare-Signature: %s", sig);
        h = hdr(h, line);
        snprintf(line, sizeof(line), "X-Socialcare-Attempt: %d", d->attempts);
        h = hdr(h, line);
        CURL *e = curl_easy_init();
        if (!e) {
                curl_slist_free_all(h);
                return -1;
        }
        d->hdrs = h;
        d->easy = e;
        curl_easy_setopt(e, CURLOPT_URL, t->url);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(t->timeout_ms < 10000 ? t->timeout_ms : 10000));
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "socialcare-alert/" SC_VERSION);
        curl_easy_setopt(e, CURLOPT_PRIVATE, d);
        if (curl_multi_add_handle(wh->multi, e) != CURLM_OK) {
                curl_easy_cleanup(e);
                curl_slist_free_all(h);
                d->easy = NULL;
                d->hdrs = NULL;
                return -1;
        }
        t->active++;
        return 0;
}

static void unlink_delivery(target_t *t, delivery_t *d)
{
        delivery_t **pp = &t->head, *prev = NULL;
        while (*pp && *pp != d) {
                prev = *pp;
                pp = &(*pp)->next;
        }
        if (!*pp)
                return;
        *pp = d->next;
        if (t->tail == d)
                t->tail = prev;
        d->next = NULL;
}

static void end(sc_webhook_t *wh, target_t *t, delivery_t *d, int delivered,
                const char *reason)
{
        unlink_delivery(t, d);
        t->pending--;
        wh->pending--;
        sc_webhook_result_t r = {
            .delivered = delivered,
            .reason = reason,
            .last_error = d->last_error,
            .attempts = d->attempts,
            .http_status = d->status,
            .alert_id = d->alert_id,
            .body = d->body,
            .body_len = d->len,
        };
        if (!delivered)
                sc_log(SC_LOG_WARN,
                       "webhook %s: alert %s parked after %d attempts: %s (%s)", t->id,
                       d->alert_id, d->attempts, reason, d->last_error);
        if (wh->done)
                wh->done(wh->opaque, d->target, d->cookie, &r);
        delivery_free(d);
}

/* An attempt ended: delivered, retry later, or park. */
static void finish(sc_webhook_t *wh, delivery_t *d, CURLcode rc)
{
        target_t *t = &wh->targets[d->target];
        long status = 0;
        curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(wh->multi, d->easy);
        curl_easy_cleanup(d->easy);
        d->easy = NULL;
        curl_slist_free_all(d->hdrs);
        d->hdrs = NULL;
        t->active--;
        d->status = status;
        const char *fail;
        int permanent = 0;
        if (rc == CURLE_OK) {
                if (status >= 200 && status < 300) {
                        if (wh->attempt)
                                wh->attempt(wh->opaque, d->target, NULL);
                        end(wh, t, d, 1, NULL);
                        return;
                }
                snprintf(d->last_error, sizeof(d->last_error), "http %ld", status);
                if (status >= 500) {
                        fail = "5xx";
                } else {
                        fail = "4xx";
                        /* The receiver's "not now" is worth a retry; any other
                         * refusal will not change by repeating the request. */
                        permanent = status != 408 && status != 429;
                }
        } else {
                snprintf(d->last_error, sizeof(d->last_error), "%s",
                         curl_easy_strerror(rc));
                fail = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "connect";
        }
        if (wh->attempt)
                wh->attempt(wh->opaque, d->target, fail);
        if (permanent) {
                end(wh, t, d, 0, "http_4xx");
                return;
        }
        if (d->attempts >= t->max_attempts) {
                end(wh, t, d, 0, "max_attempts");
                return;
        }
        /* Full jitter: uniform in [0, min(max, base * 2^(attempt-1))]. */
        int shift = d->attempts - 1 < 30 ? d->attempts - 1 : 30;
        int64_t cap = t->backoff_base_ms << shift;
        if (cap > t->backoff_max_ms || cap <= 0)
                cap = t->backoff_max_ms;
        int64_t delay = (int64_t)(rnd(wh) % (uint64_t)(cap + 1));
        int64_t now = sc_mono_ms();
        if (now + delay - d->submitted_ms > t->max_age_ms) {
                end(wh, t, d, 0, "max_age");
                return;
        }
        d->due_ms = now + delay;
        sc_log(SC_LOG_DEBUG,
               "webhook %s: alert %s attempt %d failed (%s), retry in %lld ms", t->id,
               d->alert_id, d->attempts, d->last_error, (long long)delay);
}

static void start_due(sc_webhook_t *wh)
{
        int64_t now = sc_mono_ms();
        for (int i = 0; i < wh->target_cnt; i++) {
                target_t *t = &wh->targets[i];
                for (delivery_t *d = t->head; d && t->active < t->concurrency;) {
                        delivery_t *next = d->next;
                        if (!d->easy && d->due_ms <= now && start(wh, t, d) == -1) {
                                snprintf(d->last_error, sizeof(d->last_error),
                                         "out of memory");
                                d->due_ms = now + t->backoff_base_ms;
                        }
                        d = next;
                }
        }
}

static void reap(sc_webhook_t *wh)
{
        int running = 0, left;
        curl_multi_perform(wh->multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(wh->multi, &left))) {
                if (m->msg != CURLMSG_DONE)
                        continue;
                delivery_t *d = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&d);
                if (d)
                        finish(wh, d, m->data.result);
        }
}

size_t sc_webhook_poll(sc_webhook_t *wh, int wait_ms)
{
        start_due(wh);
        reap(wh);
        start_due(wh);
        if (wait_ms > 0 && wh->pending) {
                int fds = 0;
                curl_multi_poll(wh->multi, NULL, 0, wait_ms, &fds);
        }
        reap(wh);
        return wh->pending;
}

size_t sc_webhook_pending(const sc_webhook_t *wh, int target)
{
        if (target < 0)
                return wh->pending;
        return target < wh->target_cnt ? wh->targets[target].pending : 0;
}
