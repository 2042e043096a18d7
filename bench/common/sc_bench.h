/* Benchmark support: a monotonic clock, an allocation counter and one report
 * format, so every benchmark prints comparable figures:
 *   <name>: <posts> posts, <ns/post> ns/post, <allocs/post> allocs/post
 * Allocations are counted by wrapping malloc/calloc/realloc in the benchmark
 * process (every library included). Under the sanitizers the wrappers are
 * compiled out and allocations report as -1 (unknown). */
#ifndef SC_BENCH_H
#define SC_BENCH_H
#include <stdint.h>

uint64_t sc_bench_now_ns(void);
/* Allocations so far in this process (malloc + calloc + realloc). */
uint64_t sc_bench_allocs(void);
void sc_bench_report(const char *name, uint64_t posts, uint64_t ns, uint64_t allocs);

#endif
