/* Commands are formatted into our own buffer rather than hiredis' output
 * buffer so a batch can be built while Redis is down, and survives a
 * reconnect untouched until exec sends it.
 *
 * Cluster mode keeps that buffer: each append also records where its command
 * lies and its slot, and exec copies each command into the output buffer of
 * the node owning its slot, so every node gets one pipeline per round. The
 * single-node path does none of this. */
#include "sc_alloc.h"
#include "sc_redis.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_buf.h"
#include "sc_log.h"
#include "sc_time.h"

#define SC_REDIS_BACKOFF_MIN_MS 100
#define SC_REDIS_BACKOFF_MAX_MS 5000
#define SC_REDIS_SLOTS          16384
/* Rounds of one exec: the first send, then resends after MOVED, ASK or
 * NOSCRIPT. A slot moved twice during one exec is rare; past this the exec
 * fails and the caller retries the batch. */
#define SC_REDIS_MAX_ROUNDS 6
#define SC_REDIS_ASK_BIT    ((size_t)1 << (sizeof(size_t) * 8 - 1))

struct sc_redis_script_s {
        char *lua;
        char sha[41];
        int all_keys; /* passes every key it touches in KEYS */
        sc_redis_script_t *next;
};

/* A cluster node. Kept for the client's lifetime (indices are stable): a node
 * that left the map simply gets no more commands. */
typedef struct node_s {
        char *host;
        int port;
        redisContext *c;
        int owned;        /* slots it masters in the current map */
        int need_scripts; /* answered NOSCRIPT: SCRIPT LOAD before the next send */
        int ever_connected;
        int touched;  /* got commands in this exec */
        sc_buf_t out; /* this round's pipeline, handed to hiredis in one piece */
        size_t *q;    /* this round: command indices, SC_REDIS_ASK_BIT = ASKING first */
        size_t q_cnt, q_cap;
} node_t;

typedef struct cmd_s {
        size_t off, len;
        int slot;     /* -1: no key, any master */
        int ask;      /* node to send to after ASK, -1 */
        int hold_ask; /* a script that may touch keys it does not declare */
} cmd_t;

struct sc_redis_s {
        redisContext *c;
        char *host, *unix_path, *password;
        int port, db, timeout_ms;
        sc_buf_t pipe;
        size_t pending;
        redisReply **replies;
        size_t reply_cnt, reply_cap;
        /* Every reply object of every connection lives here, from its read
         * to the next exec (the lifetime sc_redis_exec gives replies): a
         * batch's replies cost no malloc once the blocks are warm. */
        struct rblock_s *blocks, *cur;
        sc_redis_script_t *scripts;
        int64_t next_attempt_ms;
        int backoff_ms;
        int err;
        char errstr[256];
        unsigned long errors, reconnects;
        int ever_connected;
        int wait_replicas; /* ?wait=N: WAIT N after every batch */
        /* cluster mode */
        int cluster;
        node_t *nodes; /* seeds first, then nodes learnt from the map */
        size_t node_cnt, node_cap;
        uint16_t *slots; /* node index + 1 per slot, 0 = no master known */
        int map_ok;      /* else CLUSTER SLOTS before the next exec */
        cmd_t *cmds;     /* one per pending command */
        size_t cmd_cap;
        unsigned long redirects;
};

/* ---- reply arena ------------------------------------------------------- */

typedef struct rblock_s {
        struct rblock_s *next;
        size_t cap, used;
        _Alignas(16) char data[];
} rblock_t;

#define RBLOCK_MIN  (64 * 1024)
#define RBLOCK_KEEP (1024 * 1024) /* kept across execs; larger bursts are freed */

static void *ra_alloc(sc_redis_t *r, size_t n)
{
        n = (n + 15) & ~(size_t)15;
        rblock_t *b = r->cur;
        while (b && b->cap - b->used < n) {
                b = b->next;
                if (b)
                        b->used = 0; /* blocks after cur are free since the reset */
        }
        if (!b) {
                size_t cap = n > RBLOCK_MIN ? n : RBLOCK_MIN;
                b = sc_malloc(sizeof(*b) + cap);
                b->cap = cap;
                b->used = 0;
                /* after cur, so the warm blocks stay first */
                if (r->cur) {
                        b->next = r->cur->next;
                        r->cur->next = b;
                } else {
                        b->next = r->blocks;
                        r->blocks = b;
                }
        }
        r->cur = b;
        void *p = b->data + b->used;
        b->used += n;
        return p;
}

/* Forgets every reply; keeps the first RBLOCK_KEEP bytes of blocks. */
static void ra_reset(sc_redis_t *r)
{
        size_t kept = 0;
        rblock_t **pp = &r->blocks;
        while (*pp) {
                rblock_t *b = *pp;
                if (kept + b->cap > RBLOCK_KEEP && kept) {
                        *pp = b->next;
                        free(b);
                        continue;
                }
                kept += b->cap;
                pp = &b->next;
        }
        r->cur = r->blocks;
        if (r->cur)
                r->cur->used = 0;
}

static void ra_free(sc_redis_t *r)
{
        while (r->blocks) {
                rblock_t *b = r->blocks;
                r->blocks = b->next;
                free(b);
        }
        r->cur = NULL;
}

/* hiredis' reader, with its objects in the arena (read.h's
 * redisReplyObjectFunctions; privdata is the sc_redis_t). */
static void *ra_object(const redisReadTask *task, int type)
{
        redisReply *o = ra_alloc(task->privdata, sizeof(*o));
        memset(o, 0, sizeof(*o));
        o->type = type;
        if (task->parent) {
                redisReply *parent = task->parent->obj;
                parent->element[task->idx] = o;
        }
        return o;
}

static void *ra_string(const redisReadTask *task, char *str, size_t len)
{
        char *copy = ra_alloc(task->privdata, len + 1);
        memcpy(copy, str, len);
        copy[len] = '\0';
        redisReply *o = ra_object(task, task->type);
        o->str = copy;
        o->len = len;
        return o;
}

static void *ra_array(const redisReadTask *task, int elements)
{
        redisReply **el = NULL;
        if (elements > 0) {
                el = ra_alloc(task->privdata, (size_t)elements * sizeof(*el));
                memset(el, 0, (size_t)elements * sizeof(*el));
        }
        redisReply *o = ra_object(task, REDIS_REPLY_ARRAY);
        o->element = el;
        o->elements = elements > 0 ? (size_t)elements : 0;
        return o;
}

static void *ra_integer(const redisReadTask *task, long long value)
{
        redisReply *o = ra_object(task, REDIS_REPLY_INTEGER);
        o->integer = value;
        return o;
}

static void *ra_nil(const redisReadTask *task)
{
        return ra_object(task, REDIS_REPLY_NIL);
}

static void ra_forget(void *obj)
{
        (void)obj; /* the arena's reset frees it */
}

static redisReplyObjectFunctions ra_functions = {ra_string, ra_array, ra_integer, ra_nil,
                                                 ra_forget};

static void set_err(sc_redis_t *r, int err, const char *fmt, ...)
{
        va_list ap;
        r->err = err;
        va_start(ap, fmt);
        vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
        va_end(ap);
}

static int add_node(sc_redis_t *r, const char *host, size_t host_len, int port)
{
        for (size_t i = 0; i < r->node_cnt; i++)
                if (r->nodes[i].port == port && strlen(r->nodes[i].host) == host_len &&
                    !memcmp(r->nodes[i].host, host, host_len))
                        return (int)i;
        SC_GROW(r->nodes, r->node_cap, r->node_cnt + 1);
        node_t *n = &r->nodes[r->node_cnt];
        memset(n, 0, sizeof(*n));
        n->host = sc_strndup(host, host_len);
        n->port = port;
        return (int)r->node_cnt++;
}

/* "host:port" (port defaults to 6379) of length len. */
static int parse_hostport(const char *s, size_t len, const char **host, size_t *host_len,
                          int *port)
{
        const char *colon = NULL;
        for (size_t i = len; i > 0; i--)
                if (s[i - 1] == ':') {
                        colon = s + i - 1;
                        break;
                }
        *host = s;
        *host_len = colon ? (size_t)(colon - s) : len;
        *port = 6379;
        if (colon) {
                long p = 0;
                const char *q = colon + 1, *end = s + len;
                if (q == end)
                        return -1;
                for (; q < end; q++) {
                        if (*q < '0' || *q > '9' || p > 65535)
                                return -1;
                        p = p * 10 + (*q - '0');
                }
                if (p <= 0 || p > 65535)
                        return -1;
                *port = (int)p;
        }
        return *host_len ? 0 : -1;
}

/* Takes "[user:]password@" off the front of what follows the scheme (the
 * password is kept, ACL user names are not supported) and returns where the
 * host part starts. */
static const char *take_password(sc_redis_t *r, const char *s)
{
        const char *at = strrchr(s, '@');
        if (!at)
                return s;
        const char *colon = memchr(s, ':', (size_t)(at - s));
        const char *pw = colon ? colon + 1 : s;
        r->password = sc_strndup(pw, (size_t)(at - pw));
        return at + 1;
}

static int parse_cluster_url(sc_redis_t *r, const char *url, char *errstr,
                             size_t errstr_size)
{
        const char *s = take_password(r, url + 16);
        const char *slash = strchr(s, '/');
        if (slash && strcmp(slash, "/") && strcmp(slash, "/0")) {
                snprintf(errstr, errstr_size,
                         "redis cluster url: a cluster has database 0 only: %s", url);
                return -1;
        }
        const char *end = slash ? slash : s + strlen(s);
        r->cluster = 1;
        r->slots = sc_calloc(SC_REDIS_SLOTS, sizeof(*r->slots));
        while (s < end) {
                const char *comma = memchr(s, ',', (size_t)(end - s));
                const char *e = comma ? comma : end;
                const char *host;
                size_t hl;
                int port;
                if (parse_hostport(s, (size_t)(e - s), &host, &hl, &port) ||
                    add_node(r, host, hl, port) < 0) {
                        snprintf(errstr, errstr_size, "bad node in redis cluster url: %s",
                                 url);
                        return -1;
                }
                s = comma ? comma + 1 : end;
        }
        if (!r->node_cnt) {
                snprintf(errstr, errstr_size, "no node in redis cluster url: %s", url);
                return -1;
        }
        return 0;
}

static int parse_url(sc_redis_t *r, const char *url, char *errstr, size_t errstr_size)
{
        if (!strncmp(url, "redis+cluster://", 16))
                return parse_cluster_url(r, url, errstr, errstr_size);
        if (!strncmp(url, "unix://", 7)) {
                r->unix_path = sc_strdup(url + 7);
                return r->unix_path && *r->unix_path ? 0 : -1;
        }
        if (strncmp(url, "redis://", 8)) {
                snprintf(errstr, errstr_size,
                         "redis url must start with redis://, redis+cluster:// or "
                         "unix://: %s",
                         url);
                return -1;
        }
        const char *s = take_password(r, url + 8);
        const char *slash = strchr(s, '/');
        const char *hostend = slash ? slash : s + strlen(s);
        const char *colon = memchr(s, ':', (size_t)(hostend - s));
        r->host = sc_strndup(s, (size_t)((colon ? colon : hostend) - s));
        r->port = 6379;
        if (colon) {
                char *end;
                long p = strtol(colon + 1, &end, 10);
                if (end != hostend || p <= 0 || p > 65535) {
                        snprintf(errstr, errstr_size, "bad port in redis url: %s", url);
                        return -1;
                }
                r->port = (int)p;
        }
        if (slash && slash[1]) {
                char *end;
                long db = strtol(slash + 1, &end, 10);
                if (*end || db < 0 || db > 1000) {
                        snprintf(errstr, errstr_size, "bad database in redis url: %s",
                                 url);
                        return -1;
                }
                r->db = (int)db;
        }
        if (!r->host || !*r->host) {
                snprintf(errstr, errstr_size, "no host in redis url: %s", url);
                return -1;
        }
        return 0;
}

sc_redis_t *sc_redis_new(const char *url, int timeout_ms, char *errstr,
                         size_t errstr_size)
{
        sc_redis_t *r = sc_calloc(1, sizeof(*r));
        r->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
        r->backoff_ms = SC_REDIS_BACKOFF_MIN_MS;
        errstr[0] = '\0';
        /* The one query parameter: wait=N. */
        char *u = url ? sc_strdup(url) : NULL, *qm = u ? strchr(u, '?') : NULL;
        if (qm) {
                *qm = '\0';
                char *end;
                long w = strncmp(qm + 1, "wait=", 5) ? -1 : strtol(qm + 6, &end, 10);
                if (w < 0 || w > 16 || *end) {
                        snprintf(errstr, errstr_size,
                                 "redis url: the only parameter is "
                                 "wait=N (0..16): %s",
                                 url);
                        free(u);
                        sc_redis_destroy(r);
                        return NULL;
                }
                r->wait_replicas = (int)w;
        }
        if (!u || parse_url(r, u, errstr, errstr_size)) {
                if (!url)
                        snprintf(errstr, errstr_size, "no redis url");
                else if (!errstr[0])
                        snprintf(errstr, errstr_size, "bad redis url: %s", url);
                free(u);
                sc_redis_destroy(r);
                return NULL;
        }
        free(u);
        return r;
}

static void free_replies(sc_redis_t *r)
{
        r->reply_cnt = 0;
        ra_reset(r);
}

static void disconnect(sc_redis_t *r)
{
        if (r->c) {
                redisFree(r->c);
                r->c = NULL;
        }
}

static void node_disconnect(node_t *n)
{
        if (n->c) {
                redisFree(n->c);
                n->c = NULL;
        }
}

void sc_redis_destroy(sc_redis_t *r)
{
        if (!r)
                return;
        disconnect(r);
        for (size_t i = 0; i < r->node_cnt; i++) {
                node_disconnect(&r->nodes[i]);
                free(r->nodes[i].host);
                free(r->nodes[i].q);
                sc_buf_free(&r->nodes[i].out);
        }
        free(r->nodes);
        free(r->slots);
        free(r->cmds);
        free_replies(r);
        ra_free(r);
        free(r->replies);
        sc_buf_free(&r->pipe);
        while (r->scripts) {
                sc_redis_script_t *s = r->scripts;
                r->scripts = s->next;
                free(s->lua);
                free(s);
        }
        free(r->host);
        free(r->unix_path);
        free(r->password);
        free(r);
}

sc_redis_script_t *sc_redis_script(sc_redis_t *r, const char *lua)
{
        sc_redis_script_t *s = sc_calloc(1, sizeof(*s));
        s->lua = sc_strdup(lua);
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)lua, strlen(lua), md);
        for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
                sprintf(s->sha + i * 2, "%02x", md[i]);
        s->all_keys = !strcmp(lua, sc_redis_claim_lua);
        s->next = r->scripts;
        r->scripts = s;
        if (r->c)
                disconnect(r); /* reconnect loads it */
        for (size_t i = 0; i < r->node_cnt; i++)
                r->nodes[i].need_scripts = 1;
        return s;
}

/* Runs one command synchronously on a fresh connection (setup only). */
static int setup_cmd(sc_redis_t *r, redisContext *c, int argc, const char **argv,
                     const char *what)
{
        redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
        if (!rep) {
                set_err(r, REDIS_ERR_IO, "%s: %s", what, c->errstr);
                return -1;
        }
        int bad = rep->type == REDIS_REPLY_ERROR;
        if (bad)
                set_err(r, REDIS_ERR_OTHER, "%s: %s", what, rep->str);
        return bad ? -1 : 0;
}

static int load_scripts(sc_redis_t *r, redisContext *c)
{
        for (sc_redis_script_t *s = r->scripts; s; s = s->next) {
                const char *argv[] = {"SCRIPT", "LOAD", s->lua};
                if (setup_cmd(r, c, 3, argv, "SCRIPT LOAD"))
                        return -1;
        }
        return 0;
}

/* A connection ready for batches: authenticated, database selected, scripts
 * loaded. NULL (error set) on failure. */
static redisContext *open_ctx(sc_redis_t *r, const char *host, int port)
{
        struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
        redisContext *c = r->unix_path ? redisConnectUnixWithTimeout(r->unix_path, tv)
                                       : redisConnectWithTimeout(host, port, tv);
        if (!c || c->err) {
                set_err(r, c ? c->err : REDIS_ERR_OOM, "connect to %s:%d: %s",
                        r->unix_path ? r->unix_path : host, port,
                        c ? c->errstr : "out of memory");
                goto fail;
        }
        redisSetTimeout(c, tv);
        c->reader->fn = &ra_functions;
        c->reader->privdata = r;
        if (r->password) {
                const char *argv[] = {"AUTH", r->password};
                if (setup_cmd(r, c, 2, argv, "AUTH"))
                        goto fail;
        }
        if (r->db) {
                char db[16];
                snprintf(db, sizeof(db), "%d", r->db);
                const char *argv[] = {"SELECT", db};
                if (setup_cmd(r, c, 2, argv, "SELECT"))
                        goto fail;
        }
        if (load_scripts(r, c))
                goto fail;
        return c;
fail:
        if (c)
                redisFree(c);
        return NULL;
}

static int do_connect(sc_redis_t *r)
{
        r->c = open_ctx(r, r->host, r->port);
        if (!r->c)
                return -1;
        if (r->ever_connected) {
                r->reconnects++;
                sc_log(SC_LOG_INFO, "redis reconnected");
        }
        r->ever_connected = 1;
        r->backoff_ms = SC_REDIS_BACKOFF_MIN_MS;
        r->err = 0;
        r->errstr[0] = '\0';
        return 0;
}

/* CRC16-CCITT (XMODEM), polynomial 0x1021, as the Redis Cluster spec. */
static uint16_t crc16(const char *p, size_t n)
{
        uint16_t crc = 0;
        for (size_t i = 0; i < n; i++) {
                crc ^= (uint16_t)((unsigned char)p[i] << 8);
                for (int b = 0; b < 8; b++)
                        crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021)
                                           : (uint16_t)(crc << 1);
        }
        return crc;
}

unsigned sc_redis_key_slot(const char *key, size_t len)
{
        const char *open = memchr(key, '{', len);
        if (open) {
                const char *from = open + 1;
                const char *close = memchr(from, '}', len - (size_t)(from - key));
                if (close && close > from)
                        return crc16(from, (size_t)(close - from)) & (SC_REDIS_SLOTS - 1);
        }
        return crc16(key, len) & (SC_REDIS_SLOTS - 1);
}

/* The n-th bulk string of the RESP command at p (len bytes). */
static int resp_arg(const char *p, size_t len, int n, const char **arg, size_t *arg_len)
{
        const char *end = p + len, *q = memchr(p, '\n', len);
        if (!q)
                return -1;
        q++;
        for (int i = 0; q < end && *q == '$'; i++) {
                size_t l = 0;
                for (q++; q < end && *q >= '0' && *q <= '9'; q++)
                        l = l * 10 + (size_t)(*q - '0');
                q += 2; /* \r\n */
                if (q + l > end)
                        return -1;
                if (i == n) {
                        *arg = q;
                        *arg_len = l;
                        return 0;
                }
                q += l + 2;
        }
        return -1;
}

static int name_is(const char *a, size_t al, const char *name)
{
        return al == strlen(name) && !strncasecmp(a, name, al);
}

/* The slot of the command at cmd: its key's, -1 without a key. *script: an
 * EVAL-like command. */
static int command_slot(const char *cmd, size_t len, int *script)
{
        static const char *const keyless[] = {
            "PING",    "INFO",   "SCRIPT",    "FLUSHALL", "FLUSHDB",  "DBSIZE",
            "CLUSTER", "CONFIG", "TIME",      "ECHO",     "COMMAND",  "CLIENT",
            "WAIT",    "SCAN",   "RANDOMKEY", "KEYS",     "LASTSAVE", "SAVE",
            "BGSAVE",  "DEBUG",  "ROLE",      NULL};
        const char *a, *k;
        size_t al, kl;
        if (resp_arg(cmd, len, 0, &a, &al))
                return -1;
        for (int i = 0; keyless[i]; i++)
                if (name_is(a, al, keyless[i]))
                        return -1;
        int key_at = 1;
        *script = 0;
        if (name_is(a, al, "EVAL") || name_is(a, al, "EVALSHA") ||
            name_is(a, al, "EVAL_RO") || name_is(a, al, "EVALSHA_RO") ||
            name_is(a, al, "FCALL") || name_is(a, al, "FCALL_RO")) {
                *script = 1;
                if (resp_arg(cmd, len, 2, &k, &kl) || !kl || (kl == 1 && *k == '0'))
                        return -1;
                key_at = 3;
        }
        if (resp_arg(cmd, len, key_at, &k, &kl))
                return -1;
        return (int)sc_redis_key_slot(k, kl);
}

/* Records the command appended at off (cluster mode). */
static void note_cmd(sc_redis_t *r, size_t off)
{
        SC_GROW(r->cmds, r->cmd_cap, r->pending + 1);
        cmd_t *c = &r->cmds[r->pending];
        c->off = off;
        c->len = r->pipe.len - off;
        c->hold_ask = 0;
        c->slot = command_slot(r->pipe.data + off, c->len, &c->hold_ask);
        c->ask = -1;
}

static int append_formatted(sc_redis_t *r, char *cmd, long long len)
{
        if (len < 0 || !cmd)
                return -1;
        size_t off = r->pipe.len;
        int rc = sc_buf_append(&r->pipe, cmd, (size_t)len);
        redisFreeCommand(cmd);
        if (rc)
                return -1;
        if (r->cluster)
                note_cmd(r, off);
        r->pending++;
        return 0;
}

/* "<c><n>\r\n" (a RESP header) into room reserved before: printf would be
 * most of the cost of a short argument. */
static void put_head(sc_buf_t *b, char c, size_t n)
{
        char d[24];
        int k = 0;
        do
                d[k++] = (char)('0' + n % 10);
        while ((n /= 10));
        char *o = b->data + b->len;
        *o++ = c;
        while (k)
                *o++ = d[--k];
        *o++ = '\r';
        *o++ = '\n';
        b->len = (size_t)(o - b->data);
        *o = '\0';
}

static void put_bulk(sc_buf_t *b, const char *p, size_t n)
{
        put_head(b, '$', n);
        memcpy(b->data + b->len, p, n);
        b->len += n;
        memcpy(b->data + b->len, "\r\n", 3);
        b->len += 2;
}

/* RESP is written straight into the pipeline buffer: hiredis' formatter
 * would allocate per command, and this runs once per post. pre[npre] are
 * arguments written before argv (a script's EVALSHA, sha and numkeys), so
 * no argument array is ever copied or bounded. */
static int append_argv(sc_redis_t *r, int npre, const char *const *pre,
                       const size_t *prelen, int argc, const char **argv,
                       const size_t *argvlen)
{
        size_t need = 16;
        for (int i = 0; i < npre; i++)
                need += prelen[i] + 24;
        for (int i = 0; i < argc; i++)
                need += (argvlen ? argvlen[i] : strlen(argv[i])) + 24;
        if (argc < 0 || npre + argc <= 0 || sc_buf_reserve(&r->pipe, need))
                return -1;
        size_t off = r->pipe.len;
        put_head(&r->pipe, '*', (size_t)(npre + argc));
        for (int i = 0; i < npre; i++)
                put_bulk(&r->pipe, pre[i], prelen[i]);
        for (int i = 0; i < argc; i++)
                put_bulk(&r->pipe, argv[i], argvlen ? argvlen[i] : strlen(argv[i]));
        if (r->cluster)
                note_cmd(r, off);
        r->pending++;
        return 0;
}

int sc_redis_append(sc_redis_t *r, int argc, const char **argv, const size_t *argvlen)
{
        return append_argv(r, 0, NULL, NULL, argc, argv, argvlen);
}

int sc_redis_appendf(sc_redis_t *r, const char *fmt, ...)
{
        char *cmd = NULL;
        va_list ap;
        va_start(ap, fmt);
        int len = redisvFormatCommand(&cmd, fmt, ap);
        va_end(ap);
        return append_formatted(r, cmd, len);
}

void sc_redis_script_declares_keys(sc_redis_script_t *s)
{
        s->all_keys = 1;
}

int sc_redis_append_script(sc_redis_t *r, sc_redis_script_t *s, int numkeys, int argc,
                           const char **argv, const size_t *argvlen)
{
        char nk[16];
        snprintf(nk, sizeof(nk), "%d", numkeys);
        const char *pre[3] = {"EVALSHA", s->sha, nk};
        const size_t prelen[3] = {7, 40, strlen(nk)};
        if (append_argv(r, 3, pre, prelen, argc, argv, argvlen))
                return -1;
        if (r->cluster)
                r->cmds[r->pending - 1].hold_ask = !s->all_keys;
        return 0;
}

size_t sc_redis_pending(const sc_redis_t *r)
{
        return r->pending;
}

void sc_redis_discard(sc_redis_t *r)
{
        sc_buf_reset(&r->pipe);
        r->pending = 0;
}

static int exec_fail(sc_redis_t *r)
{
        r->errors++;
        disconnect(r);
        free_replies(r);
        sc_redis_discard(r);
        r->next_attempt_ms = sc_mono_ms() + r->backoff_ms;
        r->backoff_ms = r->backoff_ms * 2 > SC_REDIS_BACKOFF_MAX_MS
                            ? SC_REDIS_BACKOFF_MAX_MS
                            : r->backoff_ms * 2;
        return -1;
}

/* WAIT on c after a batch: -1 (error set) when fewer replicas than asked
 * acknowledged every write of this connection within the timeout. */
static int wait_replicas(sc_redis_t *r, redisContext *c, const char *where)
{
        redisReply *rep =
            redisCommand(c, "WAIT %d %d", r->wait_replicas, r->timeout_ms / 2);
        if (!rep) {
                set_err(r, c->err ? c->err : REDIS_ERR_IO, "WAIT on %s: %s", where,
                        c->errstr);
                return -2;
        }
        int ok = rep->type == REDIS_REPLY_INTEGER && rep->integer >= r->wait_replicas;
        if (!ok)
                set_err(r, REDIS_ERR_OTHER,
                        "WAIT on %s: %lld of %d replicas acknowledged", where,
                        rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1LL,
                        r->wait_replicas);
        return ok ? 0 : -1;
}

/* ---- cluster mode ---------------------------------------------------------- */

static int cluster_fail(sc_redis_t *r)
{
        r->map_ok = 0; /* a failover moves masters: ask again */
        return exec_fail(r);
}

static int node_connect(sc_redis_t *r, node_t *n)
{
        if (n->c) {
                if (n->need_scripts && load_scripts(r, n->c)) {
                        node_disconnect(n);
                        return -1;
                }
                n->need_scripts = 0;
                return 0;
        }
        n->c = open_ctx(r, n->host, n->port);
        if (!n->c)
                return -1;
        n->need_scripts = 0;
        if (n->ever_connected) {
                r->reconnects++;
                sc_log(SC_LOG_INFO, "redis node %s:%d reconnected", n->host, n->port);
        }
        n->ever_connected = 1;
        return 0;
}

static int apply_slots(sc_redis_t *r, const node_t *from, const redisReply *rep)
{
        if (rep->type != REDIS_REPLY_ARRAY || !rep->elements)
                return -1;
        /* from may move when a node is added: keep its address. */
        char host[256];
        snprintf(host, sizeof(host), "%s", from->host);
        memset(r->slots, 0, SC_REDIS_SLOTS * sizeof(*r->slots));
        for (size_t i = 0; i < r->node_cnt; i++)
                r->nodes[i].owned = 0;
        for (size_t i = 0; i < rep->elements; i++) {
                const redisReply *e = rep->element[i];
                if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
                    e->element[0]->type != REDIS_REPLY_INTEGER ||
                    e->element[1]->type != REDIS_REPLY_INTEGER)
                        continue;
                const redisReply *m = e->element[2];
                if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
                    m->element[0]->type != REDIS_REPLY_STRING ||
                    m->element[1]->type != REDIS_REPLY_INTEGER)
                        continue;
                /* An empty address means "the node you asked". */
                const char *h = m->element[0]->len ? m->element[0]->str : host;
                int ni = add_node(r, h, strlen(h), (int)m->element[1]->integer);
                if (ni < 0)
                        return -1;
                long long a = e->element[0]->integer, b = e->element[1]->integer;
                for (long long sl = a < 0 ? 0 : a; sl <= b && sl < SC_REDIS_SLOTS; sl++)
                        r->slots[sl] = (uint16_t)(ni + 1);
                r->nodes[ni].owned += (int)(b - a + 1);
        }
        return 0;
}

/* CLUSTER SLOTS from the first node that answers: connected ones first (no
 * connect cost), then the others (seeds, former masters). */
static int refresh_map(sc_redis_t *r)
{
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < r->node_cnt; i++) {
                        if ((pass == 0) != (r->nodes[i].c != NULL))
                                continue;
                        if (node_connect(r, &r->nodes[i]))
                                continue;
                        redisReply *rep = redisCommand(r->nodes[i].c, "CLUSTER SLOTS");
                        if (!rep) {
                                set_err(r, REDIS_ERR_IO, "CLUSTER SLOTS from %s:%d: %s",
                                        r->nodes[i].host, r->nodes[i].port,
                                        r->nodes[i].c->errstr);
                                node_disconnect(&r->nodes[i]);
                                continue;
                        }
                        int bad = rep->type == REDIS_REPLY_ERROR;
                        if (bad)
                                set_err(r, REDIS_ERR_OTHER,
                                        "CLUSTER SLOTS from %s:%d: %s", r->nodes[i].host,
                                        r->nodes[i].port, rep->str);
                        else if ((bad = apply_slots(r, &r->nodes[i], rep)))
                                set_err(r, REDIS_ERR_OTHER,
                                        "CLUSTER SLOTS from %s:%d: no slots",
                                        r->nodes[i].host, r->nodes[i].port);
                        if (!bad) {
                                r->map_ok = 1;
                                return 0;
                        }
                }
        return -1;
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK ...": the node it names (added when new). */
static int redirect_node(sc_redis_t *r, const node_t *from, const char *msg, int *slot)
{
        const char *p = strchr(msg, ' ');
        if (!p)
                return -1;
        char *end;
        long sl = strtol(p + 1, &end, 10);
        if (*end != ' ' || sl < 0 || sl >= SC_REDIS_SLOTS)
                return -1;
        const char *addr = end + 1, *host;
        size_t hl;
        int port;
        if (parse_hostport(addr, strlen(addr), &host, &hl, &port)) {
                if (*addr != ':') /* ":port": the node that answered */
                        return -1;
                host = from->host;
                hl = strlen(host);
                port = atoi(addr + 1);
        }
        char h[256];
        snprintf(h, sizeof(h), "%.*s", (int)hl, host);
        *slot = (int)sl;
        return add_node(r, h, strlen(h), port);
}

/* Errors that mean the cluster is failing over or resharding: the batch waits
 * like on any outage. */
static int is_outage(const char *e)
{
        return !strncmp(e, "CLUSTERDOWN", 11) || !strncmp(e, "TRYAGAIN", 8) ||
               !strncmp(e, "LOADING", 7) || !strncmp(e, "MASTERDOWN", 10);
}

static int any_master(const sc_redis_t *r)
{
        int best = -1;
        for (size_t i = 0; i < r->node_cnt; i++)
                if (r->nodes[i].owned > 0) {
                        if (r->nodes[i].c)
                                return (int)i;
                        if (best < 0)
                                best = (int)i;
                }
        return best;
}

static const char asking_cmd[] = "*1\r\n$6\r\nASKING\r\n";

/* Room for n replies of one exec; the array is kept between execs. */
static void reserve_replies(sc_redis_t *r, size_t n)
{
        SC_GROW(r->replies, r->reply_cap, n);
}

/* One round: queues every command still without a reply on the node that
 * serves it (an ASK target first). -1 (error set) when no master is known. */
static int route_round(sc_redis_t *r, size_t n)
{
        for (size_t i = 0; i < r->node_cnt; i++)
                r->nodes[i].q_cnt = 0;
        for (size_t i = 0; i < n; i++) {
                if (r->replies[i])
                        continue;
                const cmd_t *c = &r->cmds[i];
                int ni = c->ask >= 0    ? c->ask
                         : c->slot >= 0 ? (int)r->slots[c->slot] - 1
                                        : any_master(r);
                if (ni < 0) {
                        set_err(r, REDIS_ERR_OTHER, "no master known for slot %d",
                                c->slot);
                        return -1;
                }
                node_t *nd = &r->nodes[ni];
                SC_PUSH(nd->q, nd->q_cnt, nd->q_cap,
                        i | (c->ask >= 0 ? SC_REDIS_ASK_BIT : 0));
        }
        return 0;
}

/* Every node's pipeline is written before any reply is read, so the nodes
 * work in parallel. 1 when a node failed (its queue is then emptied). */
static int send_round(sc_redis_t *r)
{
        int failed = 0;
        for (size_t i = 0; i < r->node_cnt; i++) {
                node_t *nd = &r->nodes[i];
                if (!nd->q_cnt)
                        continue;
                if (node_connect(r, nd)) {
                        nd->q_cnt = 0;
                        failed = 1;
                        continue;
                }
                nd->touched = 1;
                sc_buf_reset(&nd->out);
                int ok = 1;
                for (size_t j = 0; ok && j < nd->q_cnt; j++) {
                        const cmd_t *c = &r->cmds[nd->q[j] & ~SC_REDIS_ASK_BIT];
                        ok = (!(nd->q[j] & SC_REDIS_ASK_BIT) ||
                              !sc_buf_append(&nd->out, asking_cmd,
                                             sizeof(asking_cmd) - 1)) &&
                             !sc_buf_append(&nd->out, r->pipe.data + c->off, c->len);
                }
                ok = ok && redisAppendFormattedCommand(nd->c, nd->out.data,
                                                       nd->out.len) == REDIS_OK;
                int done = 0;
                while (ok && !done)
                        ok = redisBufferWrite(nd->c, &done) == REDIS_OK;
                if (!ok) {
                        set_err(r, nd->c->err, "send to %s:%d: %s", nd->host, nd->port,
                                nd->c->errstr);
                        node_disconnect(nd);
                        nd->q_cnt = 0;
                        failed = 1;
                }
        }
        return failed;
}

/* The reply rep of command ci from node ni: kept (left goes down), or a
 * redirection followed next round, or an outage. 1 on an outage (error set).
 * r->nodes may move (a redirection to a new node). */
static int take_reply(sc_redis_t *r, size_t ni, size_t ci, redisReply *rep, size_t *left)
{
        node_t *nd = &r->nodes[ni];
        cmd_t *c = &r->cmds[ci];
        int slot, to;
        if (rep->type != REDIS_REPLY_ERROR) {
                r->replies[ci] = rep;
                (*left)--;
        } else if (!strncmp(rep->str, "MOVED ", 6) &&
                   (to = redirect_node(r, nd, rep->str, &slot)) >= 0) {
                r->slots[slot] = (uint16_t)(to + 1);
                c->ask = -1;
                r->map_ok = 0; /* refreshed on the next exec */
                r->redirects++;
        } else if (!strncmp(rep->str, "ASK ", 4) && c->hold_ask) {
                /* Redis decides ASK on the declared keys only: a script that
                 * builds other keys would run on the importing node without
                 * the keys still on the migrating one. */
                set_err(r, REDIS_ERR_OTHER,
                        "%s:%d: slot migrating (%s): script held until the migration "
                        "ends",
                        nd->host, nd->port, rep->str);
                return 1;
        } else if (!strncmp(rep->str, "ASK ", 4) &&
                   (to = redirect_node(r, nd, rep->str, &slot)) >= 0) {
                c->ask = to;
                r->redirects++;
        } else if (!strncmp(rep->str, "NOSCRIPT", 8)) {
                nd->need_scripts = 1;
                c->ask = -1;
        } else if (is_outage(rep->str)) {
                set_err(r, REDIS_ERR_OTHER, "%s:%d: %s", nd->host, nd->port, rep->str);
                return 1;
        } else {
                r->replies[ci] = rep;
                (*left)--;
        }
        return 0;
}

/* Every reply is read even after a failure so that the connections kept
 * stay in step. 1 when anything failed. */
static int read_round(sc_redis_t *r, size_t *left)
{
        int failed = 0;
        for (size_t i = 0; i < r->node_cnt; i++) {
                for (size_t j = 0; j < r->nodes[i].q_cnt; j++) {
                        node_t *nd = &r->nodes[i];
                        size_t ci = nd->q[j] & ~SC_REDIS_ASK_BIT;
                        void *v = NULL;
                        if ((nd->q[j] & SC_REDIS_ASK_BIT) &&
                            (redisGetReply(nd->c, &v) != REDIS_OK || !v))
                                goto io;
                        v = NULL;
                        if (redisGetReply(nd->c, &v) != REDIS_OK || !v)
                                goto io;
                        failed |= take_reply(r, i, ci, v, left);
                        continue;
                io:
                        set_err(r, nd->c->err ? nd->c->err : REDIS_ERR_IO,
                                "reply from %s:%d: %s", nd->host, nd->port,
                                nd->c->errstr[0] ? nd->c->errstr : "connection lost");
                        node_disconnect(nd);
                        failed = 1;
                        break;
                }
        }
        return failed;
}

static int cluster_exec(sc_redis_t *r, redisReply ***replies, size_t *reply_cnt)
{
        int64_t now = sc_mono_ms();
        if (now < r->next_attempt_ms) {
                if (!r->err)
                        set_err(r, REDIS_ERR_IO, "redis unavailable");
                sc_redis_discard(r);
                return -1;
        }
        if (!r->map_ok && refresh_map(r))
                return cluster_fail(r);
        size_t n = r->pending;
        reserve_replies(r, n);
        memset(r->replies, 0, n * sizeof(*r->replies));
        r->reply_cnt = n;
        for (size_t i = 0; i < r->node_cnt; i++)
                r->nodes[i].touched = 0;
        size_t left = n;
        for (int round = 0; left && round < SC_REDIS_MAX_ROUNDS; round++) {
                if (route_round(r, n))
                        return cluster_fail(r);
                int failed = send_round(r);
                if (read_round(r, &left) || failed)
                        return cluster_fail(r);
        }
        if (left) {
                set_err(r, REDIS_ERR_OTHER, "still redirected after %d rounds",
                        SC_REDIS_MAX_ROUNDS);
                return cluster_fail(r);
        }
        for (size_t i = 0; r->wait_replicas && i < r->node_cnt; i++) {
                node_t *nd = &r->nodes[i];
                char where[300];
                snprintf(where, sizeof(where), "%s:%d", nd->host, nd->port);
                int w = nd->touched && nd->c ? wait_replicas(r, nd->c, where) : 0;
                if (w == -2)
                        node_disconnect(nd);
                if (w)
                        return cluster_fail(r);
        }
        sc_redis_discard(r);
        r->backoff_ms = SC_REDIS_BACKOFF_MIN_MS;
        r->err = 0;
        r->errstr[0] = '\0';
        *replies = r->replies;
        *reply_cnt = n;
        return 0;
}

int sc_redis_exec(sc_redis_t *r, redisReply ***replies, size_t *reply_cnt)
{
        free_replies(r);
        *replies = r->replies;
        *reply_cnt = 0;
        if (r->cluster)
                return cluster_exec(r, replies, reply_cnt);
        if (!r->c) {
                int64_t now = sc_mono_ms();
                if (now < r->next_attempt_ms) {
                        if (!r->err)
                                set_err(r, REDIS_ERR_IO, "redis unavailable");
                        sc_redis_discard(r);
                        return -1;
                }
                if (do_connect(r))
                        return exec_fail(r);
        }
        if (!r->pending)
                return 0;
        reserve_replies(r, r->pending);
        if (redisAppendFormattedCommand(r->c, r->pipe.data, r->pipe.len) != REDIS_OK) {
                set_err(r, r->c->err, "send: %s", r->c->errstr);
                return exec_fail(r);
        }
        int noscript = 0;
        for (size_t i = 0; i < r->pending; i++) {
                void *rep = NULL;
                if (redisGetReply(r->c, &rep) != REDIS_OK || !rep) {
                        set_err(r, r->c->err ? r->c->err : REDIS_ERR_IO, "reply: %s",
                                r->c->errstr[0] ? r->c->errstr : "connection lost");
                        return exec_fail(r);
                }
                r->replies[r->reply_cnt++] = rep;
                redisReply *rr = rep;
                if (rr->type == REDIS_REPLY_ERROR && !strncmp(rr->str, "NOSCRIPT", 8))
                        noscript = 1;
        }
        sc_redis_discard(r);
        if (r->wait_replicas && !noscript && wait_replicas(r, r->c, "redis"))
                return exec_fail(r);
        if (noscript) {
                /* Someone ran SCRIPT FLUSH: reconnect reloads, caller retries. */
                set_err(r, REDIS_ERR_OTHER, "script cache flushed on the server");
                r->backoff_ms = SC_REDIS_BACKOFF_MIN_MS;
                exec_fail(r);
                r->next_attempt_ms = 0;
                return -1;
        }
        *replies = r->replies;
        *reply_cnt = r->reply_cnt;
        return 0;
}

int sc_redis_err(const sc_redis_t *r)
{
        return r->err;
}

const char *sc_redis_errstr(const sc_redis_t *r)
{
        return r->errstr;
}

unsigned long sc_redis_error_count(const sc_redis_t *r)
{
        return r->errors;
}

unsigned long sc_redis_reconnect_count(const sc_redis_t *r)
{
        return r->reconnects;
}

int sc_redis_connected(const sc_redis_t *r)
{
        if (r->cluster)
                return r->map_ok && any_master(r) >= 0 &&
                       r->nodes[any_master(r)].c != NULL;
        return r->c != NULL;
}

int sc_redis_is_cluster(const sc_redis_t *r)
{
        return r->cluster;
}

unsigned long sc_redis_redirect_count(const sc_redis_t *r)
{
        return r->redirects;
}

/* One command per claim: SET NX GET (Redis 7.0) sets the key when it is
 * free and returns the holder otherwise. */
const char sc_redis_claim_lua[] =
    "local v = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET', 'EX', ARGV[2])\n"
    "if not v or v == ARGV[1] then return 1 end\n"
    "return 0\n";
