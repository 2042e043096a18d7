#include "sc_mpack.h"

#include <string.h>

/* A head: the fix form below fixmax, else the 8- (when the type has one),
 * 16- or 32-bit length. */
static int head(sc_buf_t *b, unsigned fix, size_t fixmax, unsigned c8, unsigned c16,
                unsigned c32, size_t n)
{
        if (sc_buf_reserve(b, 5))
                return -1;
        unsigned char *h = (unsigned char *)b->data + b->len;
        size_t hl;
        if (n < fixmax) {
                h[0] = (unsigned char)(fix | n);
                hl = 1;
        } else if (c8 && n < 256) {
                h[0] = (unsigned char)c8;
                h[1] = (unsigned char)n;
                hl = 2;
        } else if (n < 65536) {
                h[0] = (unsigned char)c16;
                h[1] = (unsigned char)(n >> 8);
                h[2] = (unsigned char)n;
                hl = 3;
        } else {
                h[0] = (unsigned char)c32;
                h[1] = (unsigned char)(n >> 24);
                h[2] = (unsigned char)(n >> 16);
                h[3] = (unsigned char)(n >> 8);
                h[4] = (unsigned char)n;
                hl = 5;
        }
        b->len += hl;
        return 0;
}

int sc_mp_arr(sc_buf_t *b, size_t n)
{
        return head(b, 0x90, 16, 0, 0xdc, 0xdd, n);
}

int sc_mp_map(sc_buf_t *b, size_t n)
{
        return head(b, 0x80, 16, 0, 0xde, 0xdf, n);
}

int sc_mp_str(sc_buf_t *b, const char *s, size_t n)
{
        if (!s)
                n = 0;
        if (sc_buf_reserve(b, n + 5) || head(b, 0xa0, 32, 0xd9, 0xda, 0xdb, n))
                return -1;
        if (n)
                memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

size_t sc_mp_decimal(char d[24], long long v)
{
        char t[24];
        size_t k = 0, n = 0;
        unsigned long long u =
            v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
        do
                t[k++] = (char)('0' + u % 10);
        while ((u /= 10));
        if (v < 0)
                d[n++] = '-';
        while (k)
                d[n++] = t[--k];
        return n;
}
