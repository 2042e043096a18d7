/* sc_redis in cluster mode against a real 3-master Redis Cluster (started by
 * test_cluster_client.sh, which passes the seed URL and every node's port):
 * slot vectors of the spec, a batch spread over every master with replies in
 * order, scripts reloaded per node after SCRIPT FLUSH, a slot migrated by hand
 * (SETSLOT IMPORTING/MIGRATING + MIGRATE) so the client meets ASK and then
 * MOVED, seeds that are down, and URL errors. The administration goes to the
 * nodes directly with hiredis. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sc_redis.h"
#include "sc_test.h"

static int ports[16], port_cnt;

static redisReply *node_cmd(int port, const char *fmt, ...)
{
        redisContext *c = redisConnect("127.0.0.1", port);
        CHECK(c && !c->err);
        va_list ap;
        va_start(ap, fmt);
        redisReply *rep = redisvCommand(c, fmt, ap);
        va_end(ap);
        CHECK(rep);
        redisFree(c);
        return rep;
}

static int is_master(int port)
{
        redisReply *rep = node_cmd(port, "ROLE");
        int m = rep->type == REDIS_REPLY_ARRAY && !strcmp(rep->element[0]->str, "master");
        freeReplyObject(rep);
        return m;
}

/* The master that serves key (every other node answers MOVED). */
static int owner_of(const char *key)
{
        for (int i = 0; i < port_cnt; i++) {
                if (!is_master(ports[i]))
                        continue;
                redisReply *rep = node_cmd(ports[i], "EXISTS %s", key);
                int ok = rep->type == REDIS_REPLY_INTEGER;
                freeReplyObject(rep);
                if (ok)
                        return ports[i];
        }
        return -1;
}

static void node_id(int port, char *out, size_t n)
{
        redisReply *rep = node_cmd(port, "CLUSTER MYID");
        CHECK(rep->type == REDIS_REPLY_STRING);
        snprintf(out, n, "%s", rep->str);
        freeReplyObject(rep);
}

static void node_ok(int port, const char *fmt, const char *a, const char *b)
{
        redisReply *rep = node_cmd(port, fmt, a, b);
        if (rep->type == REDIS_REPLY_ERROR)
                fprintf(stderr, "node %d: %s: %s\n", port, fmt, rep->str);
        CHECK(rep->type != REDIS_REPLY_ERROR);
        freeReplyObject(rep);
}

static const char *get1(sc_redis_t *r, const char *key, char *buf, size_t n)
{
        redisReply **rep;
        size_t cnt;
        CHECK(sc_redis_append(r, 2, (const char *[]){"GET", key}, NULL) == 0);
        if (sc_redis_exec(r, &rep, &cnt)) {
                fprintf(stderr, "exec: %s\n", sc_redis_errstr(r));
                CHECK(0);
        }
        CHECK_INT(cnt, 1);
        snprintf(buf, n, "%s",
                 rep[0]->type == REDIS_REPLY_STRING ? rep[0]->str : "(nil)");
        return buf;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: test_cluster_client URL PORT...\n");
                return 2;
        }
        for (int i = 2; i < argc && port_cnt < 16; i++)
                ports[port_cnt++] = atoi(argv[i]);
        char err[256], buf[64], buf2[64];
        redisReply **rep;
        size_t n;

        /* ---- slots: the spec's vectors ------------------------------------ */
        CHECK_INT(sc_redis_key_slot("123456789", 9), 0x31C3 & 16383);
        CHECK_INT(sc_redis_key_slot("{user1000}.following", 20),
                  sc_redis_key_slot("user1000", 8));
        CHECK_INT(sc_redis_key_slot("{user1000}.followers", 20),
                  sc_redis_key_slot("user1000", 8));
        CHECK_INT(sc_redis_key_slot("foo{}{bar}", 10),
                  sc_redis_key_slot("foo{}{bar}", 10));
        CHECK(sc_redis_key_slot("foo{}{bar}", 10) != sc_redis_key_slot("bar", 3));
        CHECK_INT(sc_redis_key_slot("foo{{bar}}zap", 13), sc_redis_key_slot("{bar", 4));
        CHECK_INT(sc_redis_key_slot("foo{bar}{zap}", 13), sc_redis_key_slot("bar", 3));
        CHECK_INT(sc_redis_key_slot("sc:{telko}:d:u:2026-11-20", 25),
                  sc_redis_key_slot("telko", 5));

        /* ---- URLs ---------------------------------------------------------- */
        CHECK(sc_redis_new("redis+cluster://", 100, err, sizeof(err)) == NULL);
        CHECK(sc_redis_new("redis+cluster://h:1/2", 100, err, sizeof(err)) == NULL);
        CHECK(strstr(err, "database 0"));
        CHECK(sc_redis_new("redis+cluster://h:1,h:0", 100, err, sizeof(err)) == NULL);
        sc_redis_t *dead =
            sc_redis_new("redis+cluster://127.0.0.1:1", 200, err, sizeof(err));
        CHECK(dead && sc_redis_is_cluster(dead));
        sc_redis_appendf(dead, "PING");
        CHECK(sc_redis_exec(dead, &rep, &n) == -1);
        CHECK(sc_redis_errstr(dead)[0]);
        CHECK_INT(sc_redis_pending(dead), 0);
        CHECK(!sc_redis_connected(dead));
        sc_redis_destroy(dead);

        /* A seed that is down first: the next one gives the map. */
        char url[512];
        snprintf(url, sizeof(url), "redis+cluster://127.0.0.1:1,%s", argv[1] + 16);
        sc_redis_t *r = sc_redis_new(url, 2000, err, sizeof(err));
        CHECK(r);
        sc_redis_script_t *incr =
            sc_redis_script(r, "return redis.call('INCRBY', KEYS[1], ARGV[1])");
        CHECK(incr);
        sc_redis_script_declares_keys(incr);
        /* Builds its key from KEYS[1]: held while its slot migrates. */
        sc_redis_script_t *built =
            sc_redis_script(r, "return redis.call('INCR', KEYS[1] .. ':n')");
        CHECK(built);

        /* The server agrees on the slots (CLUSTER has no key: any master). */
        const char *keys[] = {"123456789",     "{user1000}.following",
                              "foo{}{bar}",    "foo{{bar}}zap",
                              "foo{bar}{zap}", "sc:{telko}:seen:x:1"};
        for (size_t i = 0; i < 6; i++)
                sc_redis_append(r, 3, (const char *[]){"CLUSTER", "KEYSLOT", keys[i]},
                                NULL);
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        CHECK_INT(n, 6);
        for (size_t i = 0; i < 6; i++)
                CHECK_INT(rep[i]->integer, sc_redis_key_slot(keys[i], strlen(keys[i])));
        CHECK(sc_redis_connected(r));

        /* ---- one batch over every master, replies in append order --------- */
        sc_redis_appendf(r, "PING");
        for (int i = 0; i < 300; i++) {
                char k[32], v[16];
                snprintf(k, sizeof(k), "t:{b%d}:k", i);
                snprintf(v, sizeof(v), "%d", i);
                sc_redis_append(r, 2, (const char *[]){"DEL", k}, NULL);
                sc_redis_append(r, 3, (const char *[]){"SET", k, v}, NULL);
                sc_redis_append_script(r, incr, 1, 2, (const char *[]){k, "1000"}, NULL);
                sc_redis_append(r, 2, (const char *[]){"GET", k}, NULL);
        }
        CHECK_INT(sc_redis_pending(r), 1201);
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        CHECK_INT(n, 1201);
        CHECK_STR(rep[0]->str, "PONG");
        for (int i = 0; i < 300; i++) {
                CHECK_INT(rep[1 + 4 * i + 2]->integer, 1000 + i);
                snprintf(buf, sizeof(buf), "%d", 1000 + i);
                CHECK_STR(rep[1 + 4 * i + 3]->str, buf);
        }
        /* The keys landed on three different masters. */
        int owners[3] = {owner_of("t:{b0}:k"), -1, -1}, distinct = 1;
        for (int i = 1; i < 300 && distinct < 3; i++) {
                char k[32];
                snprintf(k, sizeof(k), "t:{b%d}:k", i);
                int o = owner_of(k);
                int seen = 0;
                for (int j = 0; j < distinct; j++)
                        seen |= owners[j] == o;
                if (!seen)
                        owners[distinct++] = o;
        }
        CHECK_INT(distinct, 3);
        CHECK_INT(sc_redis_redirect_count(r), 0);

        /* ---- SCRIPT FLUSH on every master: reloaded per node, same exec --- */
        for (int i = 0; i < port_cnt; i++)
                if (is_master(ports[i]))
                        freeReplyObject(node_cmd(ports[i], "SCRIPT FLUSH"));
        for (int i = 0; i < 50; i++) {
                char k[32];
                snprintf(k, sizeof(k), "t:{b%d}:k", i);
                sc_redis_append_script(r, incr, 1, 2, (const char *[]){k, "1"}, NULL);
        }
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        CHECK_INT(n, 50);
        for (int i = 0; i < 50; i++)
                CHECK_INT(rep[i]->integer, 1001 + i);

        /* ---- a slot migrated while the client works: ASK, then MOVED ------ */
        sc_redis_appendf(r, "SET {mig}a A");
        sc_redis_appendf(r, "SET {mig}b B");
        sc_redis_appendf(r, "DEL {mig}c");
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        int src = owner_of("{mig}a"), dst = -1, third = -1;
        for (int i = 0; i < port_cnt; i++)
                if (ports[i] != src && is_master(ports[i])) {
                        if (dst < 0)
                                dst = ports[i];
                        else
                                third = ports[i];
                }
        CHECK(src > 0 && dst > 0 && third > 0);
        char src_id[64], dst_id[64], slot[16], dport[16];
        node_id(src, src_id, sizeof(src_id));
        node_id(dst, dst_id, sizeof(dst_id));
        snprintf(slot, sizeof(slot), "%u", sc_redis_key_slot("{mig}", 5));
        snprintf(dport, sizeof(dport), "%d", dst);
        node_ok(dst, "CLUSTER SETSLOT %s IMPORTING %s", slot, src_id);
        node_ok(src, "CLUSTER SETSLOT %s MIGRATING %s", slot, dst_id);
        node_ok(src, "MIGRATE 127.0.0.1 %s %s 0 5000 KEYS {mig}a", dport, "");
        CHECK_INT(owner_of("{mig}a"), -1); /* now only reachable with ASKING */
        CHECK_STR(get1(r, "{mig}a", buf, sizeof(buf)), "A");
        CHECK_STR(get1(r, "{mig}b", buf, sizeof(buf)), "B");
        CHECK(sc_redis_redirect_count(r) >= 1);
        unsigned long red = sc_redis_redirect_count(r);
        /* A new key of a migrating slot is created on the importing node. */
        sc_redis_appendf(r, "SET {mig}c C");
        sc_redis_append_script(r, incr, 1, 2, (const char *[]){"{mig}n", "5"}, NULL);
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        CHECK_INT(n, 2);
        CHECK_STR(rep[0]->str, "OK");
        CHECK_INT(rep[1]->integer, 5);
        CHECK(sc_redis_redirect_count(r) >= red + 2);
        sc_redis_append_script(r, built, 1, 1, (const char *[]){"{mig}"}, NULL);
        CHECK(sc_redis_exec(r, &rep, &n) == -1);
        CHECK(strstr(sc_redis_errstr(r), "migrating"));
        usleep(300 * 1000);                                  /* the backoff */
        CHECK_STR(get1(r, "{mig}b", buf, sizeof(buf)), "B"); /* map refreshed: src */
        node_ok(src, "MIGRATE 127.0.0.1 %s %s 0 5000 KEYS {mig}b", dport, "");
        node_ok(dst, "CLUSTER SETSLOT %s NODE %s", slot, dst_id);
        node_ok(src, "CLUSTER SETSLOT %s NODE %s", slot, dst_id);
        node_ok(third, "CLUSTER SETSLOT %s NODE %s", slot, dst_id);
        red = sc_redis_redirect_count(r);
        CHECK_STR(get1(r, "{mig}b", buf, sizeof(buf)), "B"); /* MOVED */
        CHECK_INT(sc_redis_redirect_count(r), red + 1);
        CHECK_STR(get1(r, "{mig}c", buf2, sizeof(buf2)), "C");
        CHECK_STR(get1(r, "{mig}a", buf, sizeof(buf)), "A");
        CHECK_INT(sc_redis_redirect_count(r), red + 1); /* map refreshed */
        CHECK_INT(owner_of("{mig}a"), dst);
        sc_redis_append_script(r, built, 1, 1, (const char *[]){"{mig}"}, NULL);
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        CHECK_INT(rep[0]->integer, 1);
        sc_redis_destroy(r);

        /* ---- ?wait=1: a batch counts only once a replica has it ----------- */
        CHECK(sc_redis_new("redis+cluster://h:1?wait=x", 100, err, sizeof(err)) == NULL);
        CHECK(sc_redis_new("redis://h:1?nope=1", 100, err, sizeof(err)) == NULL);
        snprintf(url, sizeof(url), "%s?wait=1", argv[1]);
        r = sc_redis_new(url, 1000, err, sizeof(err));
        CHECK(r);
        /* A replica still syncing after the cluster start holds the batch, as
         * a worker would: retried, it must go through. */
        int wait_ok = 0;
        for (int i = 0; i < 20 && !wait_ok; i++) {
                sc_redis_appendf(r, "SET {w}k 1");
                wait_ok = sc_redis_exec(r, &rep, &n) == 0;
                if (!wait_ok)
                        usleep(250 * 1000);
        }
        CHECK(wait_ok);
        int master = owner_of("{w}k"), replica = -1;
        for (int i = 0; i < port_cnt && replica < 0; i++) {
                redisReply *ro = node_cmd(ports[i], "ROLE");
                if (!strcmp(ro->element[0]->str, "slave") &&
                    ro->element[2]->integer == master)
                        replica = ports[i];
                freeReplyObject(ro);
        }
        CHECK(replica > 0);
        redisReply *info = node_cmd(replica, "INFO server");
        const char *pp = strstr(info->str, "process_id:");
        CHECK(pp);
        pid_t rpid = (pid_t)atoi(pp + 11);
        freeReplyObject(info);
        CHECK(kill(rpid, SIGSTOP) == 0);
        sc_redis_appendf(r, "SET {w}k 2");
        int rc = sc_redis_exec(r, &rep, &n);
        CHECK(kill(rpid, SIGCONT) == 0);
        CHECK_INT(rc, -1);
        CHECK(strstr(sc_redis_errstr(r), "0 of 1 replicas"));
        usleep(500 * 1000);
        sc_redis_appendf(r, "SET {w}k 3");
        CHECK(sc_redis_exec(r, &rep, &n) == 0);
        redisReply *got = node_cmd(master, "GET {w}k");
        CHECK_STR(got->str, "3");
        freeReplyObject(got);
        sc_redis_destroy(r);
        TEST_DONE();
}
