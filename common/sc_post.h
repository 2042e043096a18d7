/* The normalized post (schemas/post.avsc) as a C struct, and its mapping to
 * and from the Avro value. Strings are borrowed: to_avro copies them into
 * the value; from_avro points them into the value (valid until it is reset
 * or decoded again). */
#ifndef SC_POST_H
#define SC_POST_H
#include <avro.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sc_post_s {
        const char *event_id;
        const char *brand;
        const char *platform;
        const char *post_id;
        const char *parent_id; /* NULL: none */
        const char *thread_id; /* NULL: none */
        const char *author_id;
        const char *author_handle; /* NULL: unknown */
        int64_t author_followers;
        int author_verified;
        int is_brand;
        const char *text;
        size_t text_len;
        const char *lang_hint; /* NULL: none */
        const char *url;       /* NULL: none */
        int rating;            /* 0: none, else 1..5 */
        int64_t created_at;    /* ms */
        int64_t received_at;   /* ms */
} sc_post_t;

/* 1 when created_at is an instant a post can have: not before 1970 and not
 * more than a year after now_ms. ingest enforces a tighter bound on what it
 * parses; the Avro workers apply this to records that may have been written
 * to their topics by anything else, before any time arithmetic or Redis
 * counter sees them. */
int sc_post_created_plausible(const sc_post_t *p, int64_t now_ms);

int sc_post_to_avro(const sc_post_t *p, avro_value_t *rec);
/* -1 when a required field is absent or empty (sc_post_missing): every Avro
 * worker dead-letters such a record as missing_field. */
int sc_post_from_avro(avro_value_t *rec, sc_post_t *p);
/* The name of the first required id (event_id, brand, platform, post_id,
 * author.id) that is NULL or empty, or NULL when all are there. An empty
 * id would become a Redis key of nothing (sc:{b}:p:x:) and count. */
const char *sc_post_missing(const sc_post_t *p);

struct sc_avro_codec_s;
struct sc_buf_s;
/* Appends p as a framed Post (the codec gives the schema id) without going
 * through an Avro value: the ingest hot path, allocation-free once out has
 * grown. Same bytes as sc_post_to_avro() + sc_avro_encode(). */
int sc_post_encode(const sc_post_t *p, const struct sc_avro_codec_s *c,
                   struct sc_buf_s *out);
/* The Post's Avro binary body alone, for records that embed a Post. */
int sc_post_write(const sc_post_t *p, struct sc_buf_s *out);

struct sc_avro_rd_s;
/* Reads a Post body (sc_avro.h's direct reader; strings point into its
 * scratch) as sc_post_from_avro() reads the value: an empty parent or thread
 * id is none. Returns 0, or -1 when a required field is absent or empty
 * (sc_post_missing); a malformed body is left in r->bad. */
int sc_post_read_body(struct sc_avro_rd_s *r, sc_post_t *p);
/* A framed Post read directly (as sc_enriched_decode, sc_enriched.h):
 * strings into scratch; 0, -1 (not a Post frame of codec, which may be NULL
 * to skip the id check, or a malformed body) or -2 (a required id missing),
 * with a reason in errstr. */
int sc_post_decode(struct sc_avro_codec_s *c, const void *frame, size_t len,
                   struct sc_buf_s *scratch, sc_post_t *p, char *errstr,
                   size_t errstr_size);

#endif
