#include "sc_bench.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Atomic uint64_t alloc_count;

#ifndef SC_SANITIZE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

void *malloc(size_t n)
{
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        return __libc_realloc(p, n);
}
#endif

uint64_t sc_bench_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sc_bench_allocs(void)
{
        return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

void sc_bench_report(const char *name, uint64_t posts, uint64_t ns, uint64_t allocs)
{
        if (!posts)
                posts = 1;
#ifdef SC_SANITIZE
        (void)allocs;
        printf("%s: %llu posts, %.1f ns/post, allocs/post unknown (sanitizer build)\n",
               name, (unsigned long long)posts, (double)ns / (double)posts);
#else
        printf("%s: %llu posts, %.1f ns/post, %.3f allocs/post\n", name,
               (unsigned long long)posts, (double)ns / (double)posts,
               (double)allocs / (double)posts);
#endif
        fflush(stdout);
}
