/* Redis client on hiredis: lazy connect, reconnect with exponential backoff,
 * pipelined commands and Lua scripts loaded on every (re)connect.
 *
 * The pattern for a batch: append commands, then sc_redis_exec() once (one
 * round trip). When exec fails (Redis down, timeout), the connection is
 * dropped and the pipeline discarded; the caller retries the whole batch
 * later, which is why every batch a worker sends must be idempotent. */
#ifndef SC_REDIS_H
#define SC_REDIS_H
#include <hiredis/hiredis.h>
#include <stddef.h>

typedef struct sc_redis_s sc_redis_t;
typedef struct sc_redis_script_s sc_redis_script_t;

/* url: redis://[:password@]host:port[/db] or unix:///path. Does not connect
 * yet. timeout_ms bounds connect and each exec. Caller destroys. */
sc_redis_t *sc_redis_new(const char *url, int timeout_ms, char *errstr,
                         size_t errstr_size);
void sc_redis_destroy(sc_redis_t *r);

/* Registers a Lua script (copied); it is SCRIPT LOADed on every connect and
 * run with sc_redis_append_script() as EVALSHA. Owned by r. */
sc_redis_script_t *sc_redis_script(sc_redis_t *r, const char *lua);

/* "First claim wins, naming its origin": KEYS[1] the claim key, ARGV[1] the
 * origin (e.g. "topic/partition/offset"), ARGV[2] its TTL in seconds. Returns 1
 * when the key was free (now claimed) or already names this origin (a replay of
 * the same input after a crash must be forwarded again), 0 when another origin
 * holds it (a true duplicate). Register it with sc_redis_script(). Used by
 * alert (one alert per id); ingest claims posts in its attribution script. */
extern const char sc_redis_claim_lua[];

/* Queue a command. argv strings are copied into the pipeline buffer. */
int sc_redis_append(sc_redis_t *r, int argc, const char **argv, const size_t *argvlen);
int sc_redis_appendf(sc_redis_t *r, const char *fmt, ...);
int sc_redis_append_script(sc_redis_t *r, sc_redis_script_t *s, int numkeys, int argc,
                           const char **argv, const size_t *argvlen);
size_t sc_redis_pending(const sc_redis_t *r);

/* Sends every queued command and reads every reply. Returns 0 when all
 * replies arrived (some may be error replies: check each), -1 when the
 * connection failed (errstr set; pipeline discarded; reconnect is attempted
 * on the next exec once the backoff has passed). Replies are owned by r and
 * valid until the next exec or destroy. */
int sc_redis_exec(sc_redis_t *r, redisReply ***replies, size_t *reply_cnt);
/* Drops queued commands without sending. */
void sc_redis_discard(sc_redis_t *r);

/* Last error (hiredis style) and counters for metrics. */
int sc_redis_err(const sc_redis_t *r);
const char *sc_redis_errstr(const sc_redis_t *r);
unsigned long sc_redis_error_count(const sc_redis_t *r);
unsigned long sc_redis_reconnect_count(const sc_redis_t *r);
int sc_redis_connected(const sc_redis_t *r);

#endif
