#include "sc_utf8.h"

#include <stdint.h>
#include <string.h>

/* Posts are overwhelmingly ASCII, so skipping eight bytes at a time when no
 * high bit is set keeps validation off the profile. */
#define SC_UTF8_HIGH_BITS 0x8080808080808080ULL

static int is_cont(unsigned char c)
{
        return (c & 0xc0) == 0x80;
}

/* Length of the valid sequence at p (at most left bytes), or 0. The second
 * byte's range is what rules out overlongs, surrogates and > U+10FFFF. */
static size_t seq_len(const unsigned char *p, size_t left)
{
        unsigned char c = p[0];
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;
        if (c < 0x80)
                return 1;
        if (c < 0xc2)
                return 0; /* stray continuation, or overlong C0/C1 */
        if (c < 0xe0) {
                len = 2;
        } else if (c < 0xf0) {
                len = 3;
                if (c == 0xe0)
                        lo = 0xa0; /* below U+0800 is overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* U+D800..U+DFFF are surrogates */
        } else if (c < 0xf5) {
                len = 4;
                if (c == 0xf0)
                        lo = 0x90; /* below U+10000 is overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else {
                return 0;
        }
        if (left < len || p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (!is_cont(p[i]))
                        return 0;
        return len;
}

int sc_utf8_valid(const char *s, size_t n, size_t *bad_at)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0;
        if (!s && n) {
                if (bad_at)
                        *bad_at = 0;
                return 0;
        }
        while (i < n) {
                if (n - i >= 8) {
                        uint64_t w;
                        memcpy(&w, p + i, sizeof(w));
                        if (!(w & SC_UTF8_HIGH_BITS)) {
                                i += 8;
                                continue;
                        }
                }
                size_t len = seq_len(p + i, n - i);
                if (!len) {
                        if (bad_at)
                                *bad_at = i;
                        return 0;
                }
                i += len;
        }
        return 1;
}

size_t sc_utf8_truncate(const char *s, size_t n, size_t max)
{
        if (n <= max)
                return n;
        if (!s)
                return 0;
        /* s[max] is the first byte cut off; if it continues a sequence, that
         * sequence would be split, so drop its lead bytes too. */
        size_t i = max;
        while (i > 0 && is_cont((unsigned char)s[i]))
                i--;
        return i;
}
