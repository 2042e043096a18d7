/* TEMPORARY stand-in for common/sc_tz.h (branch `calendar`), used only while
 * common/ does not have it yet: every zone is UTC. Same API as the brief. */
#ifndef SC_TZ_H
#define SC_TZ_H
#include <stddef.h>
#include <stdint.h>

typedef struct sc_tz_s sc_tz_t;
sc_tz_t *sc_tz_load(const char *name, char *errstr, size_t errstr_size);
void sc_tz_destroy(sc_tz_t *tz);
const char *sc_tz_name(const sc_tz_t *tz);
int32_t sc_tz_offset(const sc_tz_t *tz, int64_t utc_ms);
int64_t sc_tz_local_to_utc(const sc_tz_t *tz, int64_t local_ms);
int64_t sc_tz_local_day(const sc_tz_t *tz, int64_t utc_ms);

#endif
