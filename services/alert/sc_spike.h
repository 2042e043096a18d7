/* Spike detection: negative-sentiment and crisis-intent volume per brand
 * (and per brand topic) in a sliding window against a baseline, with state
 * in Redis so several worker copies agree and a restart remembers.
 *
 * Event time throughout (the post's created_at), so a replay gives the same
 * answers and a scripted series is testable:
 *  - counts live in per-minute buckets, incremented once per event id: a
 *    per-minute set of the ids counted (the post's created minute) is the
 *    seen marker, so a replay at any offset, or an id twice in one batch,
 *    counts nothing; one Lua call per brand and batch (per 1000 counted
 *    posts), the increments summed per bucket;
 *  - a series is evaluated at each minute its posts (of any sentiment) reach:
 *    count = the window of `window_ms` ending with that minute; baseline =
 *    the same window at the same time of day on each of the `baseline_days`
 *    previous days (days without data count as 0): mean and population σ,
 *    σ floored at √mean (Poisson noise), so a flat history does not make
 *    every extra post an alert;
 *  - spike when count > mean + k·σ and count >= min_count and no storm is
 *    open: the storm is opened (SET in the same atomic script, so exactly
 *    one copy emits) with the window start, which names the alert;
 *  - resolved when a storm is open and count <= mean + σ, or count <
 *    min_count / 2: the storm is closed and spike_resolved is emitted once;
 *  - a per-series event-time clock: a minute older than the newest minute
 *    already evaluated is counted but decides nothing, so replays and late
 *    posts never re-open a storm.
 *  - event time is bounded by the batch's wall clock (sc_spike_begin): a
 *    post created in a later minute than now counts in, and is evaluated
 *    at, the current minute (so a post from the future cannot move the
 *    clock ahead and silence the series), and a post older than window +
 *    baseline_days (no evaluation from now on reads its bucket) is skipped.
 * Opened/resolved alerts are also written to the brand's outbox hash
 * (sc:{brand}:alert:outbox, field = alert id) by the same script, so the
 * worker can re-emit them until delivered (at-least-once for alerts that no
 * input offset can carry once the storm state moved on).
 *
 * Batch protocol (one Redis round trip per batch, the caller's exec):
 *   sc_spike_begin(); sc_spike_add() per post; sc_spike_prepare();
 *   sc_redis_exec(); sc_spike_collect(replies from the first spike command).
 * Commands are appended to the shared pipeline in add (a brand's call once
 * it holds 1000 posts) and prepare, so the caller appends its own
 * commands after prepare (or before begin) only. */
#ifndef SC_SPIKE_H
#define SC_SPIKE_H
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_redis.h"

typedef struct sc_spike_s sc_spike_t;

typedef struct sc_spike_opts_s {
        int64_t window_ms; /* multiple of bucket_ms; default 15 min */
        int64_t bucket_ms; /* default 1 min */
        int baseline_days; /* default 7 */
        double k;          /* default 2 */
        int64_t min_count; /* default 10 */
        int recent_ids;    /* newest counted event ids kept per series, default 10 */
        int per_topic;     /* also a series per (brand, topic) */
} sc_spike_opts_t;

enum { SC_SPIKE_OPENED = 1, SC_SPIKE_RESOLVED = 2 };

/* An alert decision. Strings valid until the next sc_spike_begin(). */
typedef struct sc_spike_event_s {
        int kind; /* SC_SPIKE_OPENED or SC_SPIKE_RESOLVED */
        const char *alert_id;
        const char *brand;
        const char *topic;    /* NULL for the brand series */
        int64_t storm_start;  /* window start of the opening evaluation */
        int64_t window_start; /* the evaluated window: [start, end) */
        int64_t window_end;
        int64_t count;
        double mean, stddev; /* σ as used (after the floor) */
        const char *const *ids;
        size_t id_cnt;
        size_t tag; /* the tag of the newest post that led to the evaluation */
} sc_spike_event_t;

/* r is borrowed (owned by the worker). Registers the scripts. */
sc_spike_t *sc_spike_new(sc_redis_t *r, const sc_spike_opts_t *opts, char *errstr,
                         size_t errstr_size);
void sc_spike_destroy(sc_spike_t *s);

/* now_ms: wall clock for the batch (sc_now_ms()); bounds event time. */
void sc_spike_begin(sc_spike_t *s, int64_t now_ms);
/* One post of brand. counted: negative sentiment or crisis intent (counted
 * once per event_id); otherwise it only moves the series' clock. topics may
 * be NULL/0. tag is handed back in events. Returns 0 or -1 (no memory). */
int sc_spike_add(sc_spike_t *s, const char *brand, const char *const *topics,
                 size_t topic_cnt, const char *event_id, int64_t created_ms, int counted,
                 size_t tag);
/* Appends the evaluations. Returns the number of commands sc_spike appended
 * to the pipeline since begin. */
size_t sc_spike_prepare(sc_spike_t *s);
/* Reads the replies of those commands (replies[0] = the first one).
 * Returns the number of events, or -1 on an error reply (errstr set). */
int sc_spike_collect(sc_spike_t *s, redisReply **replies, size_t cnt, char *errstr,
                     size_t errstr_size);
const sc_spike_event_t *sc_spike_event(const sc_spike_t *s, size_t i);

/* Key of a brand's outbox hash ("sc:{brand}:alert:outbox"), into out. */
void sc_spike_outbox_key(const char *brand, char *out, size_t out_size);
/* Parses an outbox value (what the script stored) into ev; strings point into
 * value, which must stay alive (ids into the caller's ids[max_ids]).
 * Returns 0 or -1. */
int sc_spike_outbox_parse(char *value, const char *alert_id, sc_spike_event_t *ev,
                          const char **ids, size_t max_ids);

#endif
