/* main() for the fuzz targets in builds without libFuzzer: runs every file
 * given (directories are walked one level deep) through
 * LLVMFuzzerTestOneInput once, so the committed corpus and its reproducers
 * are a regression test of every build (ctest fuzz_replay_<target>). */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
        FILE *fp = fopen(path, "rb");
        if (!fp) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        size_t cap = 1 << 16, len = 0, n;
        uint8_t *buf = malloc(cap);
        while (buf && (n = fread(buf + len, 1, cap - len, fp)) > 0) {
                len += n;
                if (len == cap) {
                        uint8_t *nb = realloc(buf, cap *= 2);
                        if (!nb)
                                free(buf);
                        buf = nb;
                }
        }
        fclose(fp);
        if (!buf) {
                fprintf(stderr, "%s: out of memory\n", path);
                return -1;
        }
        /* An exact-size copy, so ASan sees reads past the input's end. */
        uint8_t *in = malloc(len ? len : 1);
        memcpy(in, buf, len);
        free(buf);
        LLVMFuzzerTestOneInput(in, len);
        free(in);
        return 0;
}

int main(int argc, char **argv)
{
        size_t files = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st)) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]))
                                return 1;
                        files++;
                        continue;
                }
                struct dirent **ents;
                int n = scandir(argv[i], &ents, NULL, alphasort);
                if (n < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                for (int j = 0; j < n; j++) {
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s", argv[i], ents[j]->d_name);
                        if (ents[j]->d_name[0] != '.' && !stat(path, &st) &&
                            S_ISREG(st.st_mode)) {
                                if (run_file(path))
                                        return 1;
                                files++;
                        }
                        free(ents[j]);
                }
                free(ents);
        }
        if (files == 0) {
                fprintf(stderr, "no input files\n");
                return 1;
        }
        printf("replayed %zu inputs\n", files);
        return 0;
}
