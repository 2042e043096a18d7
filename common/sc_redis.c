/* Commands are formatted into our own buffer rather than hiredis' output
 * buffer so a batch can be built while Redis is down, and survives a
 * reconnect untouched until exec sends it. */
#include "sc_redis.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_buf.h"
#include "sc_log.h"
#include "sc_time.h"

#define SC_REDIS_BACKOFF_MIN_MS 100
#define SC_REDIS_BACKOFF_MAX_MS 5000

struct sc_redis_script_s {
        char *lua;
        char sha[41];
        sc_redis_script_t *next;
};

struct sc_redis_s {
        redisContext *c;
        char *host, *unix_path, *password;
        int port, db, timeout_ms;
        sc_buf_t pipe;
        size_t pending;
        redisReply **replies;
        size_t reply_cnt, reply_cap;
        sc_redis_script_t *scripts;
        int64_t next_attempt_ms;
        int backoff_ms;
        int err;
        char errstr[256];
        unsigned long errors, reconnects;
        int ever_connected;
};

static void set_err(sc_redis_t *r, int err, const char *fmt, ...)
{
        va_list ap;
        r->err = err;
        va_start(ap, fmt);
        vsnprintf(r->errstr, sizeof(r->errstr), fmt, ap);
        va_end(ap);
}

static int parse_url(sc_redis_t *r, const char *url, char *errstr, size_t errstr_size)
{
        if (!strncmp(url, "unix://", 7)) {
                r->unix_path = strdup(url + 7);
                return r->unix_path && *r->unix_path ? 0 : -1;
        }
        if (strncmp(url, "redis://", 8)) {
                snprintf(errstr, errstr_size,
                         "redis url must start with redis:// or unix://: %s", url);
                return -1;
        }
        const char *s = url + 8, *at = strrchr(s, '@');
        if (at) {
                const char *colon = memchr(s, ':', (size_t)(at - s));
                const char *pw = colon ? colon + 1 : s;
                r->password = strndup(pw, (size_t)(at - pw));
                s = at + 1;
        }
        const char *slash = strchr(s, '/');
        const char *hostend = slash ? slash : s + strlen(s);
        const char *colon = memchr(s, ':', (size_t)(hostend - s));
        r->host = strndup(s, (size_t)((colon ? colon : hostend) - s));
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
        sc_redis_t *r = calloc(1, sizeof(*r));
        if (!r) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        r->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
        r->backoff_ms = SC_REDIS_BACKOFF_MIN_MS;
        if (!url || parse_url(r, url, errstr, errstr_size)) {
                if (!url)
                        snprintf(errstr, errstr_size, "no redis url");
                else if (!errstr[0])
                        snprintf(errstr, errstr_size, "bad redis url: %s", url);
                sc_redis_destroy(r);
                return NULL;
        }
        return r;
}

static void free_replies(sc_redis_t *r)
{
        for (size_t i = 0; i < r->reply_cnt; i++)
                freeReplyObject(r->replies[i]);
        r->reply_cnt = 0;
}

static void disconnect(sc_redis_t *r)
{
        if (r->c) {
                redisFree(r->c);
                r->c = NULL;
        }
}

void sc_redis_destroy(sc_redis_t *r)
{
        if (!r)
                return;
        disconnect(r);
        free_replies(r);
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
        sc_redis_script_t *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->lua = strdup(lua);
        if (!s->lua) {
                free(s);
                return NULL;
        }
        unsigned char md[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *)lua, strlen(lua), md);
        for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
                sprintf(s->sha + i * 2, "%02x", md[i]);
        s->next = r->scripts;
        r->scripts = s;
        if (r->c)
                disconnect(r); /* reconnect loads it */
        return s;
}

/* Runs one command synchronously on a fresh connection (setup only). */
static int setup_cmd(sc_redis_t *r, int argc, const char **argv, const char *what)
{
        redisReply *rep = redisCommandArgv(r->c, argc, argv, NULL);
        if (!rep) {
                set_err(r, REDIS_ERR_IO, "%s: %s", what, r->c->errstr);
                return -1;
        }
        int bad = rep->type == REDIS_REPLY_ERROR;
        if (bad)
                set_err(r, REDIS_ERR_OTHER, "%s: %s", what, rep->str);
        freeReplyObject(rep);
        return bad ? -1 : 0;
}

static int do_connect(sc_redis_t *r)
{
        struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
        r->c = r->unix_path ? redisConnectUnixWithTimeout(r->unix_path, tv)
                            : redisConnectWithTimeout(r->host, r->port, tv);
        if (!r->c || r->c->err) {
                set_err(r, r->c ? r->c->err : REDIS_ERR_OOM, "connect to %s:%d: %s",
                        r->unix_path ? r->unix_path : r->host, r->port,
                        r->c ? r->c->errstr : "out of memory");
                disconnect(r);
                return -1;
        }
        redisSetTimeout(r->c, tv);
        if (r->password) {
                const char *argv[] = {"AUTH", r->password};
                if (setup_cmd(r, 2, argv, "AUTH"))
                        goto fail;
        }
        if (r->db) {
                char db[16];
                snprintf(db, sizeof(db), "%d", r->db);
                const char *argv[] = {"SELECT", db};
                if (setup_cmd(r, 2, argv, "SELECT"))
                        goto fail;
        }
        for (sc_redis_script_t *s = r->scripts; s; s = s->next) {
                const char *argv[] = {"SCRIPT", "LOAD", s->lua};
                if (setup_cmd(r, 3, argv, "SCRIPT LOAD"))
                        goto fail;
        }
        if (r->ever_connected) {
                r->reconnects++;
                sc_log(SC_LOG_INFO, "redis reconnected");
        }
        r->ever_connected = 1;
        r->backoff_ms = SC_REDIS_BACKOFF_MIN_MS;
        r->err = 0;
        r->errstr[0] = '\0';
        return 0;
fail:
        disconnect(r);
        return -1;
}

static int append_formatted(sc_redis_t *r, char *cmd, long long len)
{
        if (len < 0 || !cmd)
                return -1;
        int rc = sc_buf_append(&r->pipe, cmd, (size_t)len);
        redisFreeCommand(cmd);
        if (rc)
                return -1;
        r->pending++;
        return 0;
}

/* RESP is written straight into the pipeline buffer: hiredis' formatter
 * would allocate per command, and this runs once per post. */
int sc_redis_append(sc_redis_t *r, int argc, const char **argv, const size_t *argvlen)
{
        size_t need = 16;
        for (int i = 0; i < argc; i++)
                need += (argvlen ? argvlen[i] : strlen(argv[i])) + 24;
        if (argc <= 0 || sc_buf_reserve(&r->pipe, need))
                return -1;
        sc_buf_printf(&r->pipe, "*%d\r\n", argc);
        for (int i = 0; i < argc; i++) {
                size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
                sc_buf_printf(&r->pipe, "$%zu\r\n", n);
                sc_buf_append(&r->pipe, argv[i], n);
                sc_buf_append(&r->pipe, "\r\n", 2);
        }
        r->pending++;
        return 0;
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

int sc_redis_append_script(sc_redis_t *r, sc_redis_script_t *s, int numkeys, int argc,
                           const char **argv, const size_t *argvlen)
{
        /* Small fixed bound keeps this allocation-free; scripts take few args. */
        const char *av[32];
        size_t al[32];
        char nk[16];
        if (argc + 3 > 32)
                return -1;
        snprintf(nk, sizeof(nk), "%d", numkeys);
        av[0] = "EVALSHA";
        al[0] = 7;
        av[1] = s->sha;
        al[1] = 40;
        av[2] = nk;
        al[2] = strlen(nk);
        for (int i = 0; i < argc; i++) {
                av[i + 3] = argv[i];
                al[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
        }
        return sc_redis_append(r, argc + 3, av, al);
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

int sc_redis_exec(sc_redis_t *r, redisReply ***replies, size_t *reply_cnt)
{
        free_replies(r);
        *replies = r->replies;
        *reply_cnt = 0;
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
        if (r->reply_cap < r->pending) {
                size_t cap = r->reply_cap ? r->reply_cap : 64;
                while (cap < r->pending)
                        cap *= 2;
                redisReply **n = realloc(r->replies, cap * sizeof(*n));
                if (!n) {
                        set_err(r, REDIS_ERR_OOM, "out of memory");
                        return exec_fail(r);
                }
                r->replies = n;
                r->reply_cap = cap;
        }
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
        return r->c != NULL;
}

/* One command per claim: SET NX GET (Redis 7.0) sets the key when it is
 * free and returns the holder otherwise. */
const char sc_redis_claim_lua[] =
    "local v = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'GET', 'EX', ARGV[2])\n"
    "if not v or v == ARGV[1] then return 1 end\n"
    "return 0\n";
