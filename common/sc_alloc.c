#include "sc_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void sc_oom(size_t n)
{
        fprintf(stderr, "socialcare: out of memory allocating %zu bytes\n", n);
        fflush(stderr);
        abort();
}

void *sc_malloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                sc_oom(n);
        return p;
}

void *sc_calloc(size_t cnt, size_t size)
{
        void *p = calloc(cnt ? cnt : 1, size ? size : 1);
        if (!p)
                sc_oom(cnt * size);
        return p;
}

void *sc_realloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                sc_oom(n);
        return q;
}

char *sc_strndup(const char *s, size_t n)
{
        size_t len = strnlen(s, n);
        char *d = sc_malloc(len + 1);
        memcpy(d, s, len);
        d[len] = '\0';
        return d;
}

char *sc_strdup(const char *s)
{
        return sc_strndup(s, SIZE_MAX);
}

void *sc_grow(void *arr, size_t *cap, size_t need, size_t elem)
{
        if (need <= *cap && arr)
                return arr;
        size_t ncap = *cap ? *cap : 16;
        while (ncap < need) {
                if (ncap > SIZE_MAX / 2 / elem)
                        sc_oom(SIZE_MAX);
                ncap *= 2;
        }
        if (ncap > SIZE_MAX / elem)
                sc_oom(SIZE_MAX);
        arr = sc_realloc(arr, ncap * elem);
        *cap = ncap;
        return arr;
}
