/* Allocation: the project's one out-of-memory policy, and a growable array.
 *
 * Policy (as redis's zmalloc): every allocation goes through these calls and
 * a failed allocation aborts the process with "out of memory allocating N
 * bytes" on stderr. A worker that cannot allocate cannot make progress
 * safely; since offsets are stored only after their output is delivered,
 * the restarted worker replays from the last stored offset and nothing is
 * lost. Callers therefore never check these results for NULL.
 *
 * What they return is owned by the caller and released with free(). */
#ifndef SC_ALLOC_H
#define SC_ALLOC_H
#include <stddef.h>

void *sc_malloc(size_t n);
void *sc_calloc(size_t cnt, size_t size);
void *sc_realloc(void *p, size_t n);
char *sc_strdup(const char *s);
char *sc_strndup(const char *s, size_t n);
/* Prints the message and aborts: for the few allocations that are not made
 * through the calls above (e.g. a library's own constructor returned NULL). */
_Noreturn void sc_oom(size_t n);

/* Growable array: returns arr (reallocated when needed) with room for at
 * least need elements of elem bytes; *cap is the capacity in elements and
 * grows by doubling from 16, so appends cost amortised O(1) and a warm array
 * never reallocates. */
void *sc_grow(void *arr, size_t *cap, size_t need, size_t elem);

/* SC_GROW(arr, cap, need): arr = room for need elements (cap a size_t).
 * SC_PUSH(arr, cnt, cap, value): appends value; cnt and cap are size_t. */
#define SC_GROW(arr, cap, need) ((arr) = sc_grow((arr), &(cap), (need), sizeof(*(arr))))
#define SC_PUSH(arr, cnt, cap, value)                                                    \
        (SC_GROW(arr, cap, (cnt) + 1), (arr)[(cnt)++] = (value))

#endif
