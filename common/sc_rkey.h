/* Redis key names, built in one place. Every key is "sc:" then a hash tag in
 * braces then the rest, so the keys one script or pipeline touches share a
 * Redis Cluster slot (sc_redis.h):
 *
 *   sc:{<brand>}:<rest>                       a brand's state: track's counters,
 *                                             post state and outbox, alert's
 *                                             buckets, claims and outbox
 *   sc:conv:{<platform>:<thread>}:<post id>   ingest's record of a post; <thread>
 *                                             is the conversation (thread id,
 *                                             else parent id, else the post)
 *   sc:brands                                 the set of brands seen (no tag:
 *                                             read by socialcarectl stats)
 *
 * Builders append to a sc_buf_t (which stays NUL-terminated) and return 0 or
 * -1 (no memory), or write into a fixed buffer as snprintf does. Nothing here
 * allocates beyond the buffer's growth. */
#ifndef SC_RKEY_H
#define SC_RKEY_H
#include <stddef.h>

#include "sc_buf.h"

#define SC_RKEY_BRANDS "sc:brands"

/* "sc:{brand}:" followed by fmt (printf). */
int sc_rkey_brand(sc_buf_t *out, const char *brand, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same into out[n]: returns the key's length (>= n: it was cut). */
int sc_rkey_brand_s(char *out, size_t n, const char *brand, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The bare "sc:{brand}:" (names the brand's slot, e.g. a script's first
 * key). */
int sc_rkey_prefix(sc_buf_t *out, const char *brand);
/* "sc:conv:{platform:thread}:post_id". */
int sc_rkey_conv(sc_buf_t *out, const char *platform, const char *thread,
                 const char *post_id);

#endif
