/* Redis client on hiredis: lazy connect, reconnect with exponential backoff,
 * pipelined commands and Lua scripts loaded on every (re)connect. Speaks to
 * one node or to a Redis Cluster (see sc_redis_new()) behind the same calls.
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

/* url: redis://[:password@]host:port[/db] or unix:///path (one node), or
 * redis+cluster://[:password@]host:port[,host:port...] (seed nodes of a Redis
 * Cluster; database 0 only). Either may end in ?wait=N: after every batch
 * the client sends WAIT N (timeout timeout_ms / 2) to each node it wrote to,
 * and the exec fails (the caller holds the batch) unless N replicas
 * acknowledged all its writes, so a failover cannot lose an acknowledged
 * batch. Does not connect yet. timeout_ms bounds connect
 * and each exec (per node). Caller destroys.
 *
 * In cluster mode the client learns the slot map (CLUSTER SLOTS) from any
 * reachable seed or known node, routes each command to the master of its
 * key's slot (argv[1]; for EVAL/EVALSHA the first KEYS entry; commands without
 * a key such as PING or INFO go to one master), sends one pipeline per node
 * per exec, follows MOVED (map updated, refreshed on the next exec) and ASK
 * (ASKING, then the command on the importing node; see
 * sc_redis_script_declares_keys() for scripts), reloads scripts on a node
 * that answers NOSCRIPT, and reports a failover (a master unreachable,
 * CLUSTERDOWN, TRYAGAIN, LOADING, MASTERDOWN) as a failed exec like any
 * outage. Replies keep the order of the appends. All keys of one command
 * must share a slot (hash tags: sc:{brand}:...). */
sc_redis_t *sc_redis_new(const char *url, int timeout_ms, char *errstr,
                         size_t errstr_size);
void sc_redis_destroy(sc_redis_t *r);

/* Registers a Lua script (copied); it is SCRIPT LOADed on every connect and
 * run with sc_redis_append_script() as EVALSHA. Owned by r. */
sc_redis_script_t *sc_redis_script(sc_redis_t *r, const char *lua);

/* Marks s as passing every key it touches in KEYS. In a cluster, while a
 * slot migrates, Redis answers ASK when a declared key is gone from the
 * migrating node: the client follows it for such scripts (and for plain
 * commands); any other script's batch fails (held and retried by the caller,
 * like on an outage) until the migration ends, since its undeclared keys may
 * still be on the migrating node. But Redis decides on the declared keys
 * only: an unmarked script must declare a key that never exists (e.g. the
 * bare prefix "sc:{brand}:"), else the migrating node runs it while its
 * undeclared keys are half moved (Redis 7.0: "Script attempted to access a
 * non local key", after the writes it made so far). sc_redis_claim_lua is
 * marked by itself. */
void sc_redis_script_declares_keys(sc_redis_script_t *s);

/* "First claim wins, naming its origin": KEYS[1] the claim key, ARGV[1] the
 * origin (e.g. "topic/partition/offset"), ARGV[2] its TTL in seconds. Returns 1
 * when the key was free (now claimed) or already names this origin (a replay of
 * the same input after a crash must be forwarded again), 0 when another origin
 * holds it (a true duplicate). Register it with sc_redis_script(). Used by
 * alert (one alert per id); ingest claims posts in its attribution script. */
extern const char sc_redis_claim_lua[];

/* Queue a command. argv strings are copied into the pipeline buffer: any
 * number of arguments, nothing allocated beyond that buffer's growth (warm,
 * nothing at all). Return 0, or -1 (nothing queued) when argc is 0. */
int sc_redis_append(sc_redis_t *r, int argc, const char **argv, const size_t *argvlen);
int sc_redis_appendf(sc_redis_t *r, const char *fmt, ...);
int sc_redis_append_script(sc_redis_t *r, sc_redis_script_t *s, int numkeys, int argc,
                           const char **argv, const size_t *argvlen);
size_t sc_redis_pending(const sc_redis_t *r);

/* Sends every queued command and reads every reply. Returns 0 when all
 * replies arrived (some may be error replies: check each), -1 when the
 * connection failed (errstr set; pipeline discarded; reconnect is attempted
 * on the next exec once the backoff has passed). Replies are owned by r and
 * valid until the next exec or destroy: they live in an arena r's
 * connections read into (never freeReplyObject them), so an exec allocates
 * nothing once warm. */
int sc_redis_exec(sc_redis_t *r, redisReply ***replies, size_t *reply_cnt);
/* Drops queued commands without sending. */
void sc_redis_discard(sc_redis_t *r);

/* The cluster hash slot (0..16383) of a key: CRC16 (XMODEM) of the key, or of
 * the part between the first '{' and the next '}' when that is not empty. */
unsigned sc_redis_key_slot(const char *key, size_t len);
/* 1 when r speaks to a Redis Cluster. */
int sc_redis_is_cluster(const sc_redis_t *r);
/* MOVED and ASK replies followed so far (cluster mode; 0 otherwise). */
unsigned long sc_redis_redirect_count(const sc_redis_t *r);

/* Last error (hiredis style) and counters for metrics. */
int sc_redis_err(const sc_redis_t *r);
const char *sc_redis_errstr(const sc_redis_t *r);
unsigned long sc_redis_error_count(const sc_redis_t *r);
unsigned long sc_redis_reconnect_count(const sc_redis_t *r);
int sc_redis_connected(const sc_redis_t *r);

#endif
