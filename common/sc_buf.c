#include "sc_buf.h"

#include "sc_alloc.h"
#include "sc_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_buf_free(sc_buf_t *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

void sc_buf_reset(sc_buf_t *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

int sc_buf_reserve(sc_buf_t *b, size_t n)
{
        if (b->len + n + 1 <= b->cap)
                return 0;
        if (n > ((size_t)-1) / 2 - b->len)
                return -1; /* a size no input can have: refused, not aborted */
        SC_GROW(b->data, b->cap, b->len + n + 1);
        return 0;
}

int sc_buf_append(sc_buf_t *b, const void *p, size_t n)
{
        if (sc_buf_reserve(b, n) == -1)
                return -1;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int sc_buf_puts(sc_buf_t *b, const char *s)
{
        return sc_buf_append(b, s, strlen(s));
}

int sc_buf_putc(sc_buf_t *b, char c)
{
        return sc_buf_append(b, &c, 1);
}

int sc_buf_put_i64(sc_buf_t *b, long long v)
{
        char d[24];
        int k = sizeof(d);
        /* unsigned, so that the most negative value has a magnitude */
        unsigned long long u =
            v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        do
                d[--k] = (char)('0' + u % 10);
        while ((u /= 10));
        if (v < 0)
                d[--k] = '-';
        return sc_buf_append(b, d + k, sizeof(d) - (size_t)k);
}

int sc_buf_vprintf(sc_buf_t *b, const char *fmt, va_list ap)
{
        va_list ap2;
        va_copy(ap2, ap);
        int n = vsnprintf(b->data ? b->data + b->len : NULL,
                          b->data ? b->cap - b->len : 0, fmt, ap2);
        va_end(ap2);
        if (n < 0)
                return -1;
        if (b->data && b->len + (size_t)n < b->cap) {
                b->len += (size_t)n;
                return 0;
        }
        if (sc_buf_reserve(b, (size_t)n) == -1)
                return -1;
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        b->len += (size_t)n;
        return 0;
}

int sc_buf_printf(sc_buf_t *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = sc_buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

int sc_buf_json_str(sc_buf_t *b, const char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        /* Worst case every byte becomes \u00XX. */
        if (sc_buf_reserve(b, n * 6 + 2) == -1)
                return -1;
        char *o = b->data + b->len;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                switch (c) {
                case '"':
                        *o++ = '\\';
                        *o++ = '"';
                        break;
                case '\\':
                        *o++ = '\\';
                        *o++ = '\\';
                        break;
                case '\n':
                        *o++ = '\\';
                        *o++ = 'n';
                        break;
                case '\r':
                        *o++ = '\\';
                        *o++ = 'r';
                        break;
                case '\t':
                        *o++ = '\\';
                        *o++ = 't';
                        break;
                default:
                        if (c < 0x20) {
                                *o++ = '\\';
                                *o++ = 'u';
                                *o++ = '0';
                                *o++ = '0';
                                *o++ = hex[c >> 4];
                                *o++ = hex[c & 15];
                        } else if (c < 0x80) {
                                *o++ = (char)c;
                        } else {
                                /* JSON must be UTF-8: a broken sequence (a dead
                                 * letter's raw bytes) becomes U+FFFD. */
                                size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                                size_t bad;
                                if (want <= n - i && sc_utf8_valid(s + i, want, &bad)) {
                                        memcpy(o, s + i, want);
                                        o += want;
                                        i += want - 1;
                                } else {
                                        memcpy(o, "\xEF\xBF\xBD", 3);
                                        o += 3;
                                }
                        }
                }
        }
        *o++ = '"';
        b->len = (size_t)(o - b->data);
        b->data[b->len] = '\0';
        return 0;
}
