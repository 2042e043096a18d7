/* Shared by the libFuzzer targets of tests/fuzz (docs/DEVELOPING.md,
 * "Fuzzing"). Each fuzz_<target>.c defines LLVMFuzzerTestOneInput; built with
 * -DSC_FUZZ=ON it links libFuzzer, otherwise fuzz_replay.c supplies a main()
 * that runs the committed corpus once (the ctest fuzz_replay_<target>). */
#ifndef SC_FUZZ_H
#define SC_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sc_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The product logs what it rejects; a fuzzer rejects millions of inputs. */
__attribute__((constructor)) static void fuzz_quiet(void)
{
        sc_log_level = 0;
}

/* A finding that is not a crash (a broken invariant): abort so that libFuzzer
 * saves the input and the replay test fails. */
#define FUZZ_CHECK(cond)                                                                 \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                                #cond);                                                  \
                        abort();                                                         \
                }                                                                        \
        } while (0)

/* An in-memory file holding the input, for readers that only take a path
 * (the deployment file, TZif): /proc/self/fd/<fd>. The fd is kept for the
 * process and rewritten for each input. */
static inline const char *fuzz_memfile(const uint8_t *data, size_t size, char path[64])
{
        static int fd = -1;
        if (fd < 0) {
                fd = memfd_create("fuzz-input", 0);
                if (fd < 0) {
                        perror("memfd_create");
                        abort();
                }
        }
        if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
                perror("memfd write");
                abort();
        }
        snprintf(path, 64, "/proc/self/fd/%d", fd);
        return path;
}

#endif
