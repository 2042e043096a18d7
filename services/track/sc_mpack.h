/* msgpack writing for the tracker's records and script arguments (what
 * Redis' cmsgpack reads back as the same Lua table). Each call appends to b
 * and returns 0, or -1 when b could not grow. */
#ifndef SC_MPACK_H
#define SC_MPACK_H
#include <stddef.h>

#include "sc_buf.h"

int sc_mp_arr(sc_buf_t *b, size_t n);
int sc_mp_map(sc_buf_t *b, size_t n);
/* s may be NULL: an empty string. */
int sc_mp_str(sc_buf_t *b, const char *s, size_t n);

/* v as decimal text into d (the records keep numbers as strings): its
 * length, at most 20. */
size_t sc_mp_decimal(char d[24], long long v);

#endif
