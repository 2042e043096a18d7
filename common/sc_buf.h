/* A growable byte buffer, reused across messages so hot paths stop
 * allocating once warm. The struct is public; data is owned by the buffer
 * and freed by sc_buf_free(). data is always NUL-terminated after appends. */
#ifndef SC_BUF_H
#define SC_BUF_H
#include <stdarg.h>
#include <stddef.h>

typedef struct sc_buf_s {
        char *data;
        size_t len;
        size_t cap;
} sc_buf_t;

#define SC_BUF_INIT                                                                      \
        {                                                                                \
                NULL, 0, 0                                                               \
        }

void sc_buf_free(sc_buf_t *b);
/* Empties the buffer, keeping its memory. */
void sc_buf_reset(sc_buf_t *b);
/* Make room for n more bytes. Returns 0 or -1 (out of memory). */
int sc_buf_reserve(sc_buf_t *b, size_t n);
int sc_buf_append(sc_buf_t *b, const void *p, size_t n);
int sc_buf_puts(sc_buf_t *b, const char *s);
int sc_buf_putc(sc_buf_t *b, char c);
/* Appends v in decimal, as printf's %lld does, without printf (hot paths:
 * keys and ids per message). */
int sc_buf_put_i64(sc_buf_t *b, long long v);
int sc_buf_printf(sc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sc_buf_vprintf(sc_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a quoted JSON string, escaping as RFC 8259 requires. */
int sc_buf_json_str(sc_buf_t *b, const char *s, size_t n);

#endif
