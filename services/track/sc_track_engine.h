/* The tracker's per-record logic in C (private to track): what
 * lua/batch.lua does, with Redis used as storage only. Same keys, same
 * record layout (docs/TRACKING.md, "Redis data model"), same result strings.
 *
 * Per exec: the brands' records are applied in C on data read in rounds
 * (one pipeline per round for every brand: first one MGET per brand of its
 * version key, watermark and every post key its records name; then
 * whatever the logic met unread: a held reply's record, a thread index),
 * then the brands' changes are written only if the brand's version key
 * still holds what was read: on one node every brand's version is WATCHed
 * before its first read and all commit in one MULTI/EXEC of plain commands
 * (counters and FRT hashes through lua/commit.lua inside it); on a cluster
 * each brand commits through one commit.lua call that checks the version
 * itself. Every script that changes what the logic reads (scan.lua,
 * bfrt.lua, batch.lua, commit.lua) increments it, so a brand whose state
 * changed since it was read is read and applied again, never half. */
#ifndef SC_TRACK_ENGINE_H
#define SC_TRACK_ENGINE_H
#include <stddef.h>
#include <stdint.h>

#include "sc_redis.h"

typedef struct sc_track_engine_s sc_track_engine_t;

/* One brand's records of the batch: each a msgpack array of strings in the
 * layout of lua/batch.lua's ARGV[5] elements. Borrowed for the run. */
typedef struct sc_track_engine_brand_s {
        const char *prefix; /* "sc:{brand}:" */
        size_t prefix_len;
        const char *const *recs;
        const size_t *rec_lens;
        size_t nrec;
        int64_t wm; /* largest created_at of its social.posts records, 0 none */
} sc_track_engine_brand_t;

typedef struct sc_track_engine_args_s {
        int64_t now_ms, lateness_ms, idle_ms, grace_ms;
        int64_t retention_s, state_ttl_s;
        const char *ncal; /* calendars the worker computes, '\n' separated */
        size_t ncal_len;
} sc_track_engine_args_t;

/* A record's outcome: its result string (lua/prelude.lua result()), or
 * err set and s the error message. Valid until the next run. */
typedef struct sc_track_engine_result_s {
        int err;
        const char *s;
        size_t n;
} sc_track_engine_result_t;

sc_track_engine_t *sc_track_engine_new(void);
void sc_track_engine_destroy(sc_track_engine_t *e);

/* Applies brands[0..nb): 0, with results[b][k] the outcome of record k of
 * brand b (owned by e); -1 when Redis failed or the brands kept changing
 * under the run (errstr set; nothing of an uncommitted brand was written:
 * run the same batch again). commit is lua/commit.lua registered on r
 * (called inside the transaction on one node, per brand on a cluster).
 * queued: commands the caller appended to r before (sent with the first
 * read; an error reply among them fails the run). */
int sc_track_engine_run(sc_track_engine_t *e, sc_redis_t *r, sc_redis_script_t *commit,
                        size_t queued, const sc_track_engine_brand_t *brands, size_t nb,
                        const sc_track_engine_args_t *a,
                        const sc_track_engine_result_t *const **results, char *errstr,
                        size_t errstr_size);

/* Commands sent by the runs so far (MGET, ZRANGE and commit calls), and the
 * brands applied again because their version changed. */
uint64_t sc_track_engine_conflicts(const sc_track_engine_t *e);

#ifdef SC_TEST_HOOKS
/* Called once per round, after the brands were read and applied and
 * before their commits are sent: a test changes a brand there to see its
 * commit refused and the brand applied again. */
void sc_track_engine_set_commit_hook(sc_track_engine_t *e, void (*fn)(void *),
                                     void *opaque);
#endif

/* 1 when a Redis error is a state of the server (out of memory, loading,
 * busy, failover, a slot moving...): the batch is run again later; any
 * other error is the record's (or the call's) own. */
int sc_track_transient_error(const char *msg);

#endif
