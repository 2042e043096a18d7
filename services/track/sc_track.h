/* The tracker: reply rate, first-response time (FRT) and SLA outcomes kept in
 * Redis (docs/TRACKING.md has the definitions and every key).
 *
 * Use: queue the batch's inbound posts and brand replies with
 * sc_track_add_inbound() / sc_track_add_reply() / sc_track_add_brand_post(),
 * then sc_track_exec() once: one pipeline holding one EVALSHA per brand of
 * the batch (per 200 records), each applying that brand's records in input
 * order, plus one more round for business FRT when a batch set first replies
 * to posts on a calendar other than 24x7. Every record is idempotent per
 * event id, so a batch whose exec failed is simply queued and executed again. SLA
 * events come back through a callback only after every Redis write of the
 * batch succeeded; a replayed event returns the same SLA events again (same
 * event ids), so the caller can produce them at least once.
 *
 * sc_track_scan() is the timer: it breaches due posts into a per-brand
 * outbox, turns expired early replies into orphans, and hands back the
 * outbox entries not in flight; sc_track_outbox_done() clears one after its
 * event was delivered. Not thread-safe. */
#ifndef SC_TRACK_H
#define SC_TRACK_H
#include <stddef.h>
#include <stdint.h>

#include "sc_brands.h"
#include "sc_calendar.h"
#include "sc_redis.h"
#include "sc_tz.h"

typedef struct sc_track_s sc_track_t;

typedef struct sc_track_conf_s {
        int64_t retention_s;         /* day counters and FRT sets: sliding TTL */
        int64_t state_ttl_s;         /* post state, seen markers, indexes */
        int64_t reconcile_window_ms; /* how long an early reply waits */
        int64_t breach_grace_ms;     /* breach when now > due_at + grace */
        int scan_limit;              /* breaches/orphans per brand per scan */
        /* Event time (docs/TRACKING.md, "The timer"): a post is breached when
         * min(now, watermark - lateness) > due_at + grace, the watermark
         * being the latest created_at of the brand's social.posts records;
         * a brand whose stream was idle for watermark_idle_ms (or never had
         * a record) falls back to now: 0 gives processing-time breaches. */
        int64_t lateness_ms;
        int64_t watermark_idle_ms;
        /* Where the per-record logic runs: SC_TRACK_ENGINE_C (0, the
         * default: in this process, Redis only stores) or
         * SC_TRACK_ENGINE_LUA (lua/batch.lua inside Redis: the reference
         * the C logic is tested against). Same keys, same results. */
        int engine;
} sc_track_conf_t;

enum { SC_TRACK_ENGINE_C, SC_TRACK_ENGINE_LUA };

/* An inbound post as routed (care.routed). Strings are borrowed for the call;
 * thread_id, calendar, priority, url may be NULL. due_at 0: no SLA. */
typedef struct sc_track_inbound_s {
        const char *brand, *event_id, *platform, *post_id, *thread_id;
        const char *team, *priority, *calendar, *url, *text;
        size_t text_len;
        int64_t created_at;
        int needs_reply;
        int64_t due_at;
} sc_track_inbound_t;

/* A brand reply (an is_brand post of social.posts). parent_id/thread_id may
 * be NULL. */
typedef struct sc_track_reply_s {
        const char *brand, *event_id, *platform, *post_id, *parent_id, *thread_id;
        int64_t created_at;
} sc_track_reply_t;

/* An SLA outcome to produce on care.sla. Strings valid during the callback. */
typedef struct sc_sla_event_s {
        const char *kind; /* breach, hit, late, recovered (a breach retracted) */
        const char *brand, *post_event_id, *platform, *post_id, *team, *priority;
        const char *url; /* NULL: none */
        const char *text;
        int64_t created_at, due_at;
        int64_t replied_at, frt_ms; /* -1: none */
        const char *outbox_member;  /* timer events only, for sc_track_outbox_done */
} sc_sla_event_t;

/* What the calls of an exec/scan did, for metrics (events_total{kind}). */
enum {
        SC_TRACK_K_INBOUND,
        SC_TRACK_K_REPLY,      /* a brand reply matched to its post */
        SC_TRACK_K_EARLY,      /* held until its post arrives */
        SC_TRACK_K_RECONCILED, /* an early reply matched when its post arrived */
        SC_TRACK_K_EXTRA,      /* a reply after the first one */
        SC_TRACK_K_NO_NEED,    /* a reply to a post that needed none */
        SC_TRACK_K_ORPHAN,     /* an early reply whose post never came */
        SC_TRACK_K_DUPLICATE,  /* an event id seen before */
        SC_TRACK_K_BREACH,     /* posts breached by the timer */
        SC_TRACK_K_CNT
};
const char *sc_track_kind_name(int k);
typedef struct sc_track_counts_s {
        uint64_t n[SC_TRACK_K_CNT];
        /* brand commits refused because the brand changed since it was read
         * (read and applied again: docs/TRACKING.md) */
        uint64_t conflicts;
} sc_track_counts_t;

/* Counters of a day bucket (hash field "<platform>|<team>|<name>"). */
enum {
        SC_TRACK_RECEIVED,
        SC_TRACK_NEEDS_REPLY,
        SC_TRACK_REPLIED,
        SC_TRACK_SLA_HIT,
        SC_TRACK_SLA_MISSED,
        SC_TRACK_LATE,
        SC_TRACK_PENDING,
        SC_TRACK_WITH_DUE,
        SC_TRACK_FRT_SUM_MS,
        SC_TRACK_FRT_B0, /* 0-15 min, then 15-60 min, 1-4 h, 4-8 h, 8-24 h, 24 h+ */
        SC_TRACK_FRT_B5 = SC_TRACK_FRT_B0 + 5,
        SC_TRACK_BFRT_SUM_MS,
        SC_TRACK_BFRT_N,
        SC_TRACK_REPLIED_NO_NEED,
        SC_TRACK_EXTRA_REPLIES,
        SC_TRACK_ORPHAN_REPLIES,
        SC_TRACK_CTR_CNT
};
/* A counter's name ("received", ...), and the index of a name, or -1. */
const char *sc_track_counter_name(int i);
int sc_track_counter_index(const char *name, size_t len);
/* Histogram bucket labels ("0-15m", ...). */
const char *sc_track_bucket_name(int b);
/* The median of v[0..n) (sorts v): for an even n the mean of the two middle
 * values; 0 when n is 0. */
double sc_track_median(double *v, size_t n);

/* brands and cals are borrowed (must outlive t or be replaced with
 * sc_track_set_config); cals may be NULL (business FRT = wall clock). */
sc_track_t *sc_track_new(sc_redis_t *r, const sc_brands_t *brands,
                         const sc_calendars_t *cals, const sc_track_conf_t *conf,
                         char *errstr, size_t errstr_size);
void sc_track_destroy(sc_track_t *t);
int sc_track_set_config(sc_track_t *t, const sc_brands_t *brands,
                        const sc_calendars_t *cals, const sc_track_conf_t *conf,
                        char *errstr, size_t errstr_size);

/* "YYYY-MM-DD" of ms: the UTC day and the brand's local day. */
void sc_track_days(const sc_track_t *t, const char *brand, int64_t ms, char uday[16],
                   char lday[16]);

/* Queue one record; tag is handed back with its SLA events. 0 or -1 (no memory).
 * Nothing is sent before sc_track_exec. */
int sc_track_add_inbound(sc_track_t *t, const sc_track_inbound_t *in, size_t tag);
int sc_track_add_reply(sc_track_t *t, const sc_track_reply_t *re, size_t tag,
                       int64_t now_ms);
size_t sc_track_queued(const sc_track_t *t);
/* A brand post that is not a reply (the brand's own top-level post): kept
 * so a reply to it is known to answer a brand post (the thread rule). */
int sc_track_add_brand_post(sc_track_t *t, const char *brand, const char *platform,
                            const char *post_id);
/* A record of brand on social.posts that track does not otherwise use (an
 * inbound post: it comes through care.routed) still advances the brand's
 * watermark (replies and brand posts do so by themselves). */
int sc_track_add_event_time(sc_track_t *t, const char *brand, int64_t created_at);
/* Queue SADD sc:brands brand (the registry socialcarectl stats reads when no
 * brand list is given). */
int sc_track_add_brand(sc_track_t *t, const char *brand);

typedef void sc_track_event_cb(void *opaque, size_t tag, const sc_sla_event_t *ev);
/* A record whose commands failed for their own reasons (not a state of the
 * server such as OOM or LOADING, which fail the whole exec for a retry):
 * called during sc_track_exec with the record's tag (the other records of
 * its script call are applied). Without a callback, any error
 * fails the exec. */
typedef void sc_track_error_cb(void *opaque, size_t tag, const char *msg);
void sc_track_set_error_cb(sc_track_t *t, sc_track_error_cb *cb, void *opaque);
/* Runs the queued calls. 0: every write applied, cb called for each SLA event
 * (counts added to *counts when not NULL). -1: Redis failed (errstr set):
 * the queue is dropped; queue the same calls again later. */
int sc_track_exec(sc_track_t *t, sc_track_event_cb *cb, void *opaque,
                  sc_track_counts_t *counts, char *errstr, size_t errstr_size);

/* The timer, for brands[0..n): one pipeline (two when early replies were
 * matched by their thread at the end of their wait). cb gets the outbox
 * events (breaches, and the hit/late of those matches) not already in
 * flight (tag 0). 0 or -1 (Redis failed). */
int sc_track_scan(sc_track_t *t, const char *const *brands, size_t n, int64_t now_ms,
                  sc_track_event_cb *cb, void *opaque, sc_track_counts_t *counts,
                  char *errstr, size_t errstr_size);
/* The breach event of (brand, member) was delivered: clear it from the
 * outbox with the next scan. */
void sc_track_outbox_done(sc_track_t *t, const char *brand, const char *member);
/* The event of (brand, member) could not be produced: hand it out again
 * with a later scan. */
void sc_track_outbox_release(sc_track_t *t, const char *brand, const char *member);
/* Outbox entries handed out and not delivered yet. */
size_t sc_track_outbox_inflight(const sc_track_t *t);

/* Reads one day's FRT values (an f: or bf: key) as a flat array of field,
 * value-in-ms pairs, whatever the key's layout: the hash it is now, or the
 * sorted set (score = seconds) of the release before, which the tracker
 * converts when it next writes that key (docs/TRACKING.md, "Upgrading").
 * KEYS[1] the key; no ARGV. Register it with sc_redis_script() and
 * sc_redis_script_declares_keys(). */
extern const char sc_track_frt_read_lua[];

#ifdef SC_TEST_HOOKS
/* Test builds: fn runs after the C logic applied a batch, before its
 * commits are sent (sc_track_engine.h). */
void sc_track_set_commit_hook(sc_track_t *t, void (*fn)(void *), void *opaque);
#endif

/* Totals of a set of day buckets, for gauges and socialcarectl stats. */
typedef struct sc_track_totals_s {
        int64_t c[SC_TRACK_CTR_CNT];
        double frt_median_s, frt_avg_s, bfrt_median_s, bfrt_avg_s;
} sc_track_totals_t;
/* Today's (local day) totals for each brand plus pending = size of the
 * brand's pending set now. One pipeline. 0 or -1. */
int sc_track_today(sc_track_t *t, const char *const *brands, size_t n, int64_t now_ms,
                   sc_track_totals_t *out, char *errstr, size_t errstr_size);

#endif
