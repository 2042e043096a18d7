/* Logging: one macro that checks the level before formatting anything. */
#ifndef SC_LOG_H
#define SC_LOG_H

typedef enum {
        SC_LOG_ERROR = 3,
        SC_LOG_WARN = 4,
        SC_LOG_INFO = 6,
        SC_LOG_DEBUG = 7,
} sc_log_level_t;

extern int sc_log_level;

/* worker names the process in every line; json selects JSON lines
 * ({"ts":..,"level":..,"worker":..,"msg":..}) instead of text. */
void sc_log_init(const char *worker, int level, int json);
/* "error", "warn", "info", "debug" -> level, or -1. */
int sc_log_level_parse(const char *name);
void sc_log_write(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define sc_log(level, ...)                                                               \
        do {                                                                             \
                if ((int)(level) <= sc_log_level)                                        \
                        sc_log_write((level), __FILE__, __LINE__, __VA_ARGS__);          \
        } while (0)

#endif
