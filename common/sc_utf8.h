/* UTF-8 validation: strict (no overlongs, no surrogates, <= U+10FFFF). */
#ifndef SC_UTF8_H
#define SC_UTF8_H
#include <stddef.h>

/* Returns 1 if s[0..n) is valid UTF-8, else 0 and *bad_at = byte offset. */
int sc_utf8_valid(const char *s, size_t n, size_t *bad_at);
/* Largest prefix length <= max that ends on a code point boundary. */
size_t sc_utf8_truncate(const char *s, size_t n, size_t max);

#endif
