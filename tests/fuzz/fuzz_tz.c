/* The TZif reader (sc_tz_load, what every calendar and brand time zone goes
 * through) and the POSIX TZ rule parser (sc_tz_load_posix, also the TZif
 * footer). An input starting with "TZif" is served as a zone file (TZDIR
 * points at /proc/self/fd, the name is the descriptor of an in-memory file);
 * anything else is a POSIX TZ string. Each zone that loads is then queried
 * over instants from 1900 to 2300, as calendars do. */
#include "fuzz.h"
#include "sc_tz.h"

static int64_t floordiv(int64_t a, int64_t b)
{
        return a / b - (a % b < 0);
}

static void use(const sc_tz_t *tz)
{
        FUZZ_CHECK(sc_tz_name(tz) != NULL);
        static const int64_t year_ms = 31556952000LL;
        for (int64_t t = -70 * year_ms; t < 330 * year_ms; t += 7 * year_ms + 86400123) {
                int32_t off = sc_tz_offset(tz, t);
                FUZZ_CHECK(off > -86400 && off < 86400);
                int64_t local = t + (int64_t)off * 1000;
                FUZZ_CHECK(sc_tz_local_day(tz, t) == floordiv(local, 86400000));
                int64_t u = sc_tz_local_to_utc(tz, local);
                /* within a day of the wall clock read as UTC */
                FUZZ_CHECK(u > local - 2 * 86400000LL && u < local + 2 * 86400000LL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512];
        sc_tz_t *tz;
        if (size >= 4 && !memcmp(data, "TZif", 4)) {
                char path[64];
                fuzz_memfile(data, size, path);
                setenv("TZDIR", "/proc/self/fd", 1);
                tz = sc_tz_load(path + strlen("/proc/self/fd/"), err, sizeof(err));
        } else {
                if (size > 256)
                        return 0; /* footers are < 128 bytes, TZ strings short */
                char spec[257];
                memcpy(spec, data, size);
                spec[size] = '\0';
                tz = sc_tz_load_posix(spec, err, sizeof(err));
        }
        if (tz)
                use(tz);
        sc_tz_destroy(tz);
        return 0;
}
