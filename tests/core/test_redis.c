/* sc_redis against a real redis-server (started by test_redis.sh, which
 * passes its port and the commands to stop/start it between phases). */
#include <unistd.h>

#include "sc_redis.h"
#include "sc_test.h"

static const char *lua = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

static int exec_ok(sc_redis_t *r, redisReply ***rep, size_t *n)
{
        return sc_redis_exec(r, rep, n) == 0;
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: test_redis URL STOP_CMD START_CMD\n");
                return 2;
        }
        char err[256];
        CHECK(sc_redis_new("http://x", 100, err, sizeof(err)) == NULL);
        CHECK(strstr(err, "redis://"));
        CHECK(sc_redis_new("redis://h:99999", 100, err, sizeof(err)) == NULL);
        sc_redis_destroy(NULL);

        sc_redis_t *r = sc_redis_new(argv[1], 500, err, sizeof(err));
        CHECK(r);
        sc_redis_script_t *incr = sc_redis_script(r, lua);
        CHECK(incr);
        sc_redis_script_t *wide =
            sc_redis_script(r, "return {#KEYS, #ARGV, ARGV[#ARGV]}");
        CHECK(wide);
        CHECK(!sc_redis_connected(r));

        /* One round trip, 1000 commands, replies in order. */
        redisReply **rep;
        size_t n;
        sc_redis_appendf(r, "DEL %s", "t:k");
        for (int i = 0; i < 1000; i++) {
                const char *av[] = {"t:k", "2"};
                CHECK(sc_redis_append_script(r, incr, 1, 2, av, NULL) == 0);
        }
        const char *get[] = {"GET", "t:k"};
        sc_redis_append(r, 2, get, NULL);
        CHECK_INT(sc_redis_pending(r), 1002);
        CHECK(exec_ok(r, &rep, &n));
        CHECK_INT(n, 1002);
        CHECK_INT(rep[1]->integer, 2);
        CHECK_INT(rep[1000]->integer, 2000);
        CHECK_STR(rep[1001]->str, "2000");
        CHECK_INT(sc_redis_pending(r), 0);
        CHECK(sc_redis_connected(r));

        /* Binary-safe arguments. */
        const char *set[] = {"SET", "t:bin", "a\0b\r\n"};
        size_t setl[] = {3, 5, 5};
        sc_redis_append(r, 3, set, setl);
        sc_redis_append(r, 2, (const char *[]){"GET", "t:bin"}, NULL);
        CHECK(exec_ok(r, &rep, &n));
        CHECK_INT(rep[1]->len, 5);
        CHECK(!memcmp(rep[1]->str, "a\0b\r\n", 5));

        /* A script takes any number of arguments (alert: one call per brand
         * and batch). */
        static char wbuf[5000][8];
        static const char *wav[5000];
        for (int i = 0; i < 5000; i++) {
                snprintf(wbuf[i], sizeof(wbuf[i]), "%d", i);
                wav[i] = wbuf[i];
        }
        CHECK(sc_redis_append_script(r, wide, 3, 5000, wav, NULL) == 0);
        CHECK(exec_ok(r, &rep, &n));
        CHECK(n == 1 && rep[0]->type == REDIS_REPLY_ARRAY && rep[0]->elements == 3);
        CHECK_INT(rep[0]->element[0]->integer, 3);
        CHECK_INT(rep[0]->element[1]->integer, 4997);
        CHECK_STR(rep[0]->element[2]->str, "4999");

        /* Every reply shape out of the reply arena, exec after exec: nil,
         * status, error, integer, empty and nested arrays, and strings larger
         * than a block (64 KiB) and than what is kept between execs (1 MiB). */
        static char big[3 * 1024 * 1024];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)('a' + i % 26);
        const char *setbig[] = {"SET", "t:big", big};
        size_t setbigl[] = {3, 5, sizeof(big)};
        sc_redis_append(r, 3, setbig, setbigl);
        CHECK(exec_ok(r, &rep, &n));
        sc_redis_script_t *nest =
            sc_redis_script(r, "return {1, {'a', {}, {2, 'b'}}, {}}");
        CHECK(nest);
        for (int round = 0; round < 40; round++) {
                size_t want = round % 4 == 3 ? sizeof(big) : (size_t)round * 3000 + 1;
                sc_redis_appendf(r, "GET t:none");
                sc_redis_appendf(r, "PING");
                sc_redis_appendf(r, "NOSUCHCOMMAND");
                sc_redis_appendf(r, "GETRANGE t:big 0 %d", (int)want - 1);
                CHECK(sc_redis_append_script(r, nest, 0, 0, NULL, NULL) == 0);
                sc_redis_appendf(r, "MGET t:none t:bin");
                CHECK(exec_ok(r, &rep, &n));
                CHECK_INT(n, 6);
                CHECK_INT(rep[0]->type, REDIS_REPLY_NIL);
                CHECK(rep[1]->type == REDIS_REPLY_STATUS && !strcmp(rep[1]->str, "PONG"));
                CHECK(rep[2]->type == REDIS_REPLY_ERROR &&
                      strstr(rep[2]->str, "unknown"));
                CHECK_INT(rep[3]->type, REDIS_REPLY_STRING);
                CHECK_INT(rep[3]->len, want);
                CHECK(!memcmp(rep[3]->str, big, want) && rep[3]->str[want] == '\0');
                redisReply *t = rep[4];
                CHECK(t->type == REDIS_REPLY_ARRAY && t->elements == 3);
                CHECK_INT(t->element[0]->integer, 1);
                redisReply *mid = t->element[1];
                CHECK(mid->type == REDIS_REPLY_ARRAY && mid->elements == 3);
                CHECK_STR(mid->element[0]->str, "a");
                CHECK(mid->element[1]->type == REDIS_REPLY_ARRAY &&
                      mid->element[1]->elements == 0);
                CHECK_INT(mid->element[2]->element[0]->integer, 2);
                CHECK_STR(mid->element[2]->element[1]->str, "b");
                CHECK(t->element[2]->type == REDIS_REPLY_ARRAY &&
                      t->element[2]->elements == 0);
                CHECK(rep[5]->elements == 2 &&
                      rep[5]->element[0]->type == REDIS_REPLY_NIL);
                CHECK_INT(rep[5]->element[1]->len, 5);
        }

        /* Outage: exec fails, counts the error, and the pipeline is dropped. */
        CHECK(system(argv[2]) == 0);
        sc_redis_appendf(r, "PING");
        CHECK(sc_redis_exec(r, &rep, &n) == -1);
        CHECK(sc_redis_errstr(r)[0]);
        CHECK(sc_redis_error_count(r) >= 1);
        CHECK_INT(sc_redis_pending(r), 0);
        CHECK(!sc_redis_connected(r));

        /* Back up (empty data, empty script cache): reconnect after the
         * backoff, scripts reloaded, EVALSHA works again. */
        CHECK(system(argv[3]) == 0);
        int ok = 0;
        for (int i = 0; i < 100 && !ok; i++) {
                const char *av[] = {"t:k", "5"};
                sc_redis_append_script(r, incr, 1, 2, av, NULL);
                ok = exec_ok(r, &rep, &n);
                if (!ok)
                        usleep(100 * 1000);
        }
        CHECK(ok);
        CHECK_INT(rep[0]->type, REDIS_REPLY_INTEGER);
        CHECK_INT(rep[0]->integer, 5);
        CHECK(sc_redis_reconnect_count(r) >= 1);
        CHECK_INT(sc_redis_err(r), 0);

        /* SCRIPT FLUSH behind our back: one failed exec, then it recovers. */
        sc_redis_appendf(r, "SCRIPT FLUSH");
        CHECK(exec_ok(r, &rep, &n));
        const char *av[] = {"t:k", "1"};
        sc_redis_append_script(r, incr, 1, 2, av, NULL);
        CHECK(sc_redis_exec(r, &rep, &n) == -1);
        sc_redis_append_script(r, incr, 1, 2, av, NULL);
        CHECK(exec_ok(r, &rep, &n));
        CHECK(rep[0]->integer >= 6);
        sc_redis_destroy(r);

        /* ?wait=1 on a node without replicas: no batch is acknowledged. */
        char url[300];
        snprintf(url, sizeof(url), "%s?wait=1", argv[1]);
        r = sc_redis_new(url, 500, err, sizeof(err));
        CHECK(r);
        sc_redis_appendf(r, "SET t:w 1");
        CHECK(sc_redis_exec(r, &rep, &n) == -1);
        CHECK(strstr(sc_redis_errstr(r), "0 of 1 replicas"));
        snprintf(url, sizeof(url), "%s?wait=0", argv[1]);
        sc_redis_destroy(r);
        r = sc_redis_new(url, 500, err, sizeof(err));
        sc_redis_appendf(r, "SET t:w 1");
        CHECK(exec_ok(r, &rep, &n));
        sc_redis_destroy(r);
        TEST_DONE();
}
