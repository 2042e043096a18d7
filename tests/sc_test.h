/* Minimal assertions for the C tests: print where and why, exit non-zero. */
#ifndef SC_TEST_H
#define SC_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sc_test_checks;

#define CHECK(cond)                                                                      \
        do {                                                                             \
                sc_test_checks++;                                                        \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                                #cond);                                                  \
                        exit(1);                                                         \
                }                                                                        \
        } while (0)

#define CHECK_STR(a, b)                                                                  \
        do {                                                                             \
                const char *a_ = (a), *b_ = (b);                                         \
                sc_test_checks++;                                                        \
                if (!a_ || !b_ || strcmp(a_, b_)) {                                      \
                        fprintf(stderr,                                                  \
                                "%s:%d: CHECK_STR failed: %s = \"%s\", want \"%s\"\n",   \
                                __FILE__, __LINE__, #a, a_ ? a_ : "(null)",              \
                                b_ ? b_ : "(null)");                                     \
                        exit(1);                                                         \
                }                                                                        \
        } while (0)

#define CHECK_INT(a, b)                                                                  \
        do {                                                                             \
                long long a_ = (long long)(a), b_ = (long long)(b);                      \
                sc_test_checks++;                                                        \
                if (a_ != b_) {                                                          \
                        fprintf(stderr,                                                  \
                                "%s:%d: CHECK_INT failed: %s = %lld, want %lld\n",       \
                                __FILE__, __LINE__, #a, a_, b_);                         \
                        exit(1);                                                         \
                }                                                                        \
        } while (0)

#define TEST_DONE()                                                                      \
        do {                                                                             \
                printf("%s: %d checks passed\n", __FILE__, sc_test_checks);              \
                return 0;                                                                \
        } while (0)

#endif
