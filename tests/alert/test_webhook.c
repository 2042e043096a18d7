/* sc_webhook against a real HTTP server on loopback (webhook_server.py,
 * started here): delivery with verified signatures, retry on 500 then
 * success, no retry on 400, timeouts retried then parked, a target that is
 * down for a while then comes back (nothing lost), and a stuck target that
 * does not delay another target's deliveries. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sc_json.h"
#include "sc_test.h"
#include "sc_time.h"
#include "sc_webhook.h"

#define SECRET "s3cret"
#define MAXD   64

static const char *script;
static char work[256];

typedef struct res_s {
        int done, delivered, attempts;
        char reason[32], last_error[96];
        int64_t done_ms;
} res_t;

static res_t res[MAXD];
static int fails[16][4]; /* per target: timeout, 5xx, 4xx, connect */
static int oks[16];

static void on_done(void *opaque, int target, void *cookie, const sc_webhook_result_t *r)
{
        (void)opaque;
        (void)target;
        res_t *x = &res[(intptr_t)cookie];
        CHECK(!x->done); /* exactly once */
        x->done = 1;
        x->delivered = r->delivered;
        x->attempts = r->attempts;
        x->done_ms = sc_mono_ms();
        snprintf(x->reason, sizeof(x->reason), "%s", r->reason ? r->reason : "");
        snprintf(x->last_error, sizeof(x->last_error), "%s", r->last_error);
}

static void on_attempt(void *opaque, int target, const char *fail)
{
        (void)opaque;
        static const char *names[] = {"timeout", "5xx", "4xx", "connect"};
        if (!fail) {
                oks[target]++;
                return;
        }
        for (int i = 0; i < 4; i++)
                if (!strcmp(fail, names[i]))
                        fails[target][i]++;
}

static int free_port(void)
{
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(0x7f000001)};
        socklen_t n = sizeof(a);
        CHECK(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
        CHECK(getsockname(s, (struct sockaddr *)&a, &n) == 0);
        close(s);
        return ntohs(a.sin_port);
}

static pid_t start_server(int port, const char *log)
{
        char pfile[300], portarg[16];
        snprintf(pfile, sizeof(pfile), "%s/port.%d", work, port);
        snprintf(portarg, sizeof(portarg), "%d", port);
        unlink(pfile);
        pid_t pid = fork();
        if (pid == 0) {
                execlp("python3", "python3", script, "--port", portarg, "--port-file",
                       pfile, "--log", log, "--secret", SECRET, (char *)NULL);
                _exit(127);
        }
        for (int i = 0; i < 200; i++) {
                struct stat st;
                if (stat(pfile, &st) == 0)
                        return pid;
                usleep(50000);
        }
        CHECK(!"webhook server did not start");
        return pid;
}

static void stop_server(pid_t pid)
{
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
}

static int run_until(sc_webhook_t *wh, int (*cond)(void), int64_t max_ms)
{
        int64_t deadline = sc_mono_ms() + max_ms;
        while (sc_mono_ms() < deadline) {
                sc_webhook_poll(wh, 20);
                if (cond())
                        return 1;
        }
        return 0;
}

static int lo, hi;
static int range_done(void)
{
        for (int i = lo; i < hi; i++)
                if (!res[i].done)
                        return 0;
        return 1;
}

/* Server log lines for an alert id: count, all signatures ok, max attempt. */
static int log_count(const char *log, const char *path_prefix, const char *alert_id,
                     int *all_sig_ok, int *max_attempt)
{
        FILE *f = fopen(log, "r");
        if (!f)
                return 0;
        sc_json_t *jp = sc_json_new(32);
        char *line = NULL, err[128];
        size_t cap = 0;
        ssize_t n;
        int cnt = 0;
        *all_sig_ok = 1;
        *max_attempt = 0;
        while ((n = getline(&line, &cap, f)) > 0) {
                const sc_jv_t *v = sc_json_parse(jp, line, (size_t)n, err, sizeof(err));
                CHECK(v != NULL);
                const char *p = sc_json_str(sc_json_get(v, "path"));
                const char *id = sc_json_str(sc_json_get(v, "alert_id"));
                if (!p || !id || strncmp(p, path_prefix, strlen(path_prefix)) ||
                    strcmp(id, alert_id))
                        continue;
                cnt++;
                if (sc_json_bool(sc_json_get(v, "sig_ok")) != 1)
                        *all_sig_ok = 0;
                int64_t a = 0;
                const char *as = sc_json_str(sc_json_get(v, "attempt"));
                if (as)
                        a = atoi(as);
                if (a > *max_attempt)
                        *max_attempt = (int)a;
        }
        free(line);
        sc_json_destroy(jp);
        fclose(f);
        return cnt;
}

int main(int argc, char **argv)
{
        CHECK(argc == 2);
        script = argv[1];
        snprintf(work, sizeof(work), "/tmp/sc-webhook-test.XXXXXX");
        CHECK(mkdtemp(work) != NULL);
        signal(SIGPIPE, SIG_IGN);

        /* The signature format, against a vector computed with Python's hmac. */
        char sig[68];
        sc_webhook_sign("key", 1700000000, "{\"a\":1}", 7, sig);
        CHECK_STR(sig,
                  "v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03");

        char log_a[300], log_b[300];
        snprintf(log_a, sizeof(log_a), "%s/a.jsonl", work);
        snprintf(log_b, sizeof(log_b), "%s/b.jsonl", work);
        int port_a = free_port(), port_b = free_port();
        pid_t srv_a = start_server(port_a, log_a);

        char errstr[256];
        sc_webhook_t *wh =
            sc_webhook_new(on_done, on_attempt, NULL, errstr, sizeof(errstr));
        CHECK(wh != NULL);
        char url[256];
        sc_webhook_target_conf_t c = {.secret = SECRET,
                                      .timeout_ms = 2000,
                                      .max_attempts = 5,
                                      .max_age_ms = 60000,
                                      .concurrency = 2,
                                      .backoff_base_ms = 20,
                                      .backoff_max_ms = 200};
#define TARGET(var, name, path)                                                          \
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port_a, path);               \
        c.id = name;                                                                     \
        c.url = url;                                                                     \
        int var = sc_webhook_add_target(wh, &c, errstr, sizeof(errstr));                 \
        CHECK(var >= 0)
        TARGET(t_ok, "ok", "/ok/hook");
        TARGET(t_flaky, "flaky", "/flaky/hook?fail=2");
        TARGET(t_bad, "bad", "/bad/hook");
        c.timeout_ms = 300;
        c.max_attempts = 2;
        c.concurrency = 1;
        TARGET(t_slow, "slow", "/slow/hook?s=3");
        c.timeout_ms = 2000;
        c.max_attempts = 100;
        c.concurrency = 2;
        c.max_age_ms = 60000;
        TARGET(t_ok2, "ok2", "/ok/other");
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok/down", port_b);
        c.id = "down";
        c.url = url;
        c.backoff_max_ms = 300;
        int t_down = sc_webhook_add_target(wh, &c, errstr, sizeof(errstr));
        CHECK(t_down >= 0);
        c.url = "ftp://nope";
        CHECK(sc_webhook_add_target(wh, &c, errstr, sizeof(errstr)) == -1);

        const char *body = "{\"id\":\"x\",\"kind\":\"crisis_post\"}";
        size_t blen = strlen(body);
        char id[600];
        /* The third id is long: the X-Socialcare-Alert-Id header carries it
         * whole. */
#define OK_ID(i)                                                                         \
        snprintf(                                                                        \
            id, sizeof(id), "crisis_post:ok-%s%d",                                       \
            (i) == 2                                                                     \
                ? "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"     \
                  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"     \
                  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"     \
                  "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"     \
                : "",                                                                    \
            (i))

        /* 1. plain delivery, 3 alerts. */
        for (int i = 0; i < 3; i++) {
                OK_ID(i);
                CHECK(sc_webhook_submit(wh, t_ok, id, body, blen, (void *)(intptr_t)i) ==
                      0);
        }
        /* 2. 500, 500, then 200. */
        CHECK(sc_webhook_submit(wh, t_flaky, "spike:telko:1", body, blen, (void *)3) ==
              0);
        /* 3. 400: parked at once. */
        CHECK(sc_webhook_submit(wh, t_bad, "sla_breach:x:1", body, blen, (void *)4) == 0);
        lo = 0;
        hi = 5;
        CHECK(run_until(wh, range_done, 20000));
        for (int i = 0; i < 3; i++) {
                CHECK(res[i].delivered);
                CHECK_INT(res[i].attempts, 1);
                int ok, maxa;
                OK_ID(i);
                CHECK_INT(log_count(log_a, "/ok/hook", id, &ok, &maxa), 1);
                CHECK(ok); /* the receiver verified the signature */
        }
        CHECK(res[3].delivered);
        CHECK_INT(res[3].attempts, 3);
        CHECK_INT(fails[t_flaky][1], 2);
        int ok, maxa;
        CHECK_INT(log_count(log_a, "/flaky/hook", "spike:telko:1", &ok, &maxa), 3);
        CHECK(ok);
        CHECK_INT(maxa, 3);
        CHECK(!res[4].delivered);
        CHECK_STR(res[4].reason, "http_4xx");
        CHECK_INT(res[4].attempts, 1);
        CHECK_STR(res[4].last_error, "http 400");
        CHECK_INT(fails[t_bad][2], 1);
        CHECK_INT(log_count(log_a, "/bad/hook", "sla_breach:x:1", &ok, &maxa), 1);

        /* 4. a stuck target (3 s answers, 300 ms timeout, one at a time) with
         * 4 queued, next to a healthy target with 10: the healthy ones all
         * arrive while the stuck target still works through its queue. */
        int64_t t0 = sc_mono_ms();
        for (int i = 10; i < 14; i++) {
                snprintf(id, sizeof(id), "crisis_post:slow-%d", i);
                CHECK(sc_webhook_submit(wh, t_slow, id, body, blen,
                                        (void *)(intptr_t)i) == 0);
        }
        for (int i = 20; i < 30; i++) {
                snprintf(id, sizeof(id), "crisis_post:ok2-%d", i);
                CHECK(sc_webhook_submit(wh, t_ok2, id, body, blen, (void *)(intptr_t)i) ==
                      0);
        }
        lo = 20;
        hi = 30;
        CHECK(run_until(wh, range_done, 10000));
        int64_t healthy_ms = sc_mono_ms() - t0;
        for (int i = 20; i < 30; i++)
                CHECK(res[i].delivered);
        CHECK(sc_webhook_pending(wh, t_slow) > 0);
        printf("healthy target: 10 delivered in %lld ms while the stuck target had %zu "
               "pending\n",
               (long long)healthy_ms, sc_webhook_pending(wh, t_slow));
        lo = 10;
        hi = 14;
        CHECK(run_until(wh, range_done, 30000));
        for (int i = 10; i < 14; i++) {
                CHECK(!res[i].delivered);
                CHECK_STR(res[i].reason, "max_attempts");
                CHECK_INT(res[i].attempts, 2);
        }
        CHECK_INT(fails[t_slow][0], 8);

        /* 5. target down (nothing listens), then back: nothing lost. */
        for (int i = 40; i < 45; i++) {
                snprintf(id, sizeof(id), "crisis_post:down-%d", i);
                CHECK(sc_webhook_submit(wh, t_down, id, body, blen,
                                        (void *)(intptr_t)i) == 0);
        }
        int64_t until = sc_mono_ms() + 1500;
        while (sc_mono_ms() < until)
                sc_webhook_poll(wh, 20);
        for (int i = 40; i < 45; i++)
                CHECK(!res[i].done);
        CHECK(fails[t_down][3] >= 5);
        pid_t srv_b = start_server(port_b, log_b);
        lo = 40;
        hi = 45;
        CHECK(run_until(wh, range_done, 20000));
        for (int i = 40; i < 45; i++) {
                CHECK(res[i].delivered);
                CHECK(res[i].attempts > 1);
                snprintf(id, sizeof(id), "crisis_post:down-%d", i);
                CHECK_INT(log_count(log_b, "/ok/down", id, &ok, &maxa), 1);
                CHECK(ok);
        }
        CHECK_INT(sc_webhook_pending(wh, -1), 0);

        /* 6. destroy with deliveries still queued: no callback, no leak. */
        CHECK(sc_webhook_submit(wh, t_slow, "x:1", body, blen, (void *)50) == 0);
        sc_webhook_poll(wh, 0);
        sc_webhook_destroy(wh);
        CHECK(!res[50].done);

        stop_server(srv_a);
        stop_server(srv_b);
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
        CHECK(system(cmd) == 0);
        TEST_DONE();
}
