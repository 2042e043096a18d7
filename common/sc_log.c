#include "sc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sc_buf.h"

int sc_log_level = SC_LOG_INFO;

static char log_worker[32] = "socialcare";
static int log_json;

void sc_log_init(const char *worker, int level, int json)
{
        if (worker)
                snprintf(log_worker, sizeof(log_worker), "%s", worker);
        if (level >= 0)
                sc_log_level = level;
        log_json = json;
}

int sc_log_level_parse(const char *name)
{
        static const struct {
                const char *name;
                int level;
        } levels[] = {{"error", SC_LOG_ERROR},
                      {"warn", SC_LOG_WARN},
                      {"warning", SC_LOG_WARN},
                      {"info", SC_LOG_INFO},
                      {"debug", SC_LOG_DEBUG}};
        for (size_t i = 0; name && i < sizeof(levels) / sizeof(levels[0]); i++)
                if (!strcasecmp(name, levels[i].name))
                        return levels[i].level;
        return -1;
}

static const char *level_name(int level)
{
        switch (level) {
        case SC_LOG_ERROR:
                return "error";
        case SC_LOG_WARN:
                return "warn";
        case SC_LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

void sc_log_write(int level, const char *file, int line, const char *fmt, ...)
{
        char msg[2048], ts[64];
        struct timespec now;
        struct tm tm;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, (long)(now.tv_nsec / 1000000) % 1000);

        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;

        if (log_json) {
                /* Logs are rare next to posts: a stack buffer and one stdio call
                 * keep lines whole when several threads log. */
                char out[4096];
                sc_buf_t b = SC_BUF_INIT;
                sc_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"worker\":", ts,
                              level_name(level));
                sc_buf_json_str(&b, log_worker, strlen(log_worker));
                sc_buf_printf(&b, ",\"src\":\"%s:%d\",\"msg\":", base, line);
                sc_buf_json_str(&b, msg, strlen(msg));
                sc_buf_puts(&b, "}\n");
                snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
                fputs(out, stderr);
                sc_buf_free(&b);
        } else {
                fprintf(stderr, "%s %-5s %s: %s (%s:%d)\n", ts, level_name(level),
                        log_worker, msg, base, line);
        }
}
