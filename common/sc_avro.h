/* Avro codec with Confluent wire framing: magic byte 0, 4-byte big-endian
 * schema id, Avro binary body.
 *
 * Schemas are read once from schemas/<file>.avsc; a named type defined in
 * another file ("socialcare.Post") is inlined from that file, so each .avsc
 * holds one record. Schema ids come from a Schema Registry (POST
 * /subjects/<subject>/versions over libcurl) when a URL is configured, else
 * from schemas/ids.map.
 *
 * A codec owns one reusable Avro value, one writer and one reader: encoding
 * and decoding allocate nothing per message once warm. Not thread-safe. */
#ifndef SC_AVRO_H
#define SC_AVRO_H
#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "sc_buf.h"

/* Confluent wire frame: magic byte 0 and the 4-byte big-endian schema id
 * before every Avro body. */
#define SC_AVRO_FRAME_HEADER 5

typedef struct sc_avro_s sc_avro_t;
typedef struct sc_avro_codec_s sc_avro_codec_t;

/* registry_url NULL or "" means ids from <schemas_dir>/ids.map.
 * Returns NULL with a reason. Caller frees with sc_avro_destroy(), which also
 * frees every codec it handed out. */
sc_avro_t *sc_avro_new(const char *schemas_dir, const char *registry_url, char *errstr,
                       size_t errstr_size);
void sc_avro_destroy(sc_avro_t *a);

/* The codec for a record ("Post" -> schemas/post.avsc is found by record
 * name) registered under subject (usually "<topic>-value"; may be NULL for
 * local ids). Cached: the same codec for the same record+subject. */
sc_avro_codec_t *sc_avro_codec(sc_avro_t *a, const char *record, const char *subject,
                               char *errstr, size_t errstr_size);

/* Registry request timeout, and how long sc_avro_codec() keeps retrying a
 * registry that does not answer (or answers 5xx) before it fails (default
 * 5 s and 60 s). Each failed attempt is logged. */
void sc_avro_set_registry_timeouts(sc_avro_t *a, long request_ms, long wait_ms);

int32_t sc_avro_codec_id(const sc_avro_codec_t *c);
/* 1 when a record framed with schema id `id` is this codec's record: its own
 * id, or (a registry configured) an id under which the registry holds the same
 * schema, e.g. the id the writer registered under its topic's subject. The
 * registry is asked once per id, and about a few ids at most per codec (a
 * definite answer is cached; no answer is asked again next time). */
int sc_avro_codec_accepts(sc_avro_codec_t *c, int32_t id);
/* The fully inlined schema JSON (what the registry stores). */
const char *sc_avro_codec_schema_json(const sc_avro_codec_t *c);

/* The codec's value, reset and ready to fill, for sc_avro_encode(). */
avro_value_t *sc_avro_codec_value(sc_avro_codec_t *c);
/* Frames the codec's value into out (appending). Returns 0 or -1. */
int sc_avro_encode(sc_avro_codec_t *c, sc_buf_t *out, char *errstr, size_t errstr_size);

/* Direct binary writing, for hot paths that fill a record straight from a C
 * struct. Avro-C's generic unions free and re-create their branch value
 * whenever the branch changes (null one post, a string the next), which is an
 * allocation per message; writing the binary form directly is not. Fields
 * must be written in schema order: the tests compare these bytes with
 * Avro-C's own encoding of the same record. All return 0 or -1 (no memory). */
int sc_avro_frame_begin(const sc_avro_codec_t *c, sc_buf_t *out);
int sc_avro_w_long(sc_buf_t *out, int64_t v); /* int and long share the encoding */
int sc_avro_w_bool(sc_buf_t *out, int v);
int sc_avro_w_double(sc_buf_t *out, double v);
int sc_avro_w_str(sc_buf_t *out, const char *s, size_t n);
/* A NUL-terminated string; NULL writes "". */
int sc_avro_w_cstr(sc_buf_t *out, const char *s);
/* A ["null", "string"] union: NULL writes the null branch. */
int sc_avro_w_opt_str(sc_buf_t *out, const char *s);
/* Array blocks: one block of n items (n > 0), then the end marker. */
int sc_avro_w_array_begin(sc_buf_t *out, size_t n);
int sc_avro_w_array_end(sc_buf_t *out);

/* A ["null", "long"] union as every record's struct holds it: present or
 * not, so that 0 and -1 stay ordinary values (a first response in 0 s, a
 * due time of the epoch). */
typedef struct sc_opt_long_s {
        int present;
        int64_t v;
} sc_opt_long_t;
#define SC_OPT_LONG(x) ((sc_opt_long_t){1, (x)})
#define SC_OPT_NONE    ((sc_opt_long_t){0, 0})
int sc_avro_w_opt_long(sc_buf_t *out, sc_opt_long_t v);

/* Direct binary reading, the counterpart of the writers: the record modules
 * (sc_post, sc_enriched, sc_routed, sc_sla_event) read a body field by field
 * without an Avro value. Strings are copied NUL-terminated into scratch,
 * which sc_avro_rd_init() grows once to the body's length + 1: a string takes
 * at least one more byte in the body (its length) than its copy, so the copies
 * always fit, their pointers never move, and a warm scratch never
 * reallocates. Pointers stay valid until scratch is reset or freed.
 *
 * Errors are sticky: any read past the end or a malformed value sets bad and
 * later reads return 0 / "" / none; check bad (and that p reached end) once
 * at the end. */
typedef struct sc_avro_rd_s {
        const unsigned char *p, *end;
        sc_buf_t *scratch;
        int bad;
} sc_avro_rd_t;

/* body: the Avro body (after the frame header). Resets scratch. Returns 0 or
 * -1 (no memory). */
int sc_avro_rd_init(sc_avro_rd_t *r, const void *body, size_t len, sc_buf_t *scratch);
/* Frame check then init on the body: -1 with a reason in errstr when buf is not
 * a frame, or (codec not NULL) carries a schema id the codec does not accept. */
int sc_avro_rd_frame(sc_avro_rd_t *r, sc_avro_codec_t *codec, const void *buf, size_t len,
                     sc_buf_t *scratch, char *errstr, size_t errstr_size);
int64_t sc_avro_r_long(sc_avro_rd_t *r);
/* An Avro int: a long in the int32 range. */
int32_t sc_avro_r_int(sc_avro_rd_t *r);
int sc_avro_r_bool(sc_avro_rd_t *r);
double sc_avro_r_double(sc_avro_rd_t *r);
/* *len (may be NULL) gets the length without the NUL. */
const char *sc_avro_r_str(sc_avro_rd_t *r, size_t *len);
/* ["null", "string"]: NULL for null. */
const char *sc_avro_r_opt_str(sc_avro_rd_t *r);
sc_opt_long_t sc_avro_r_opt_long(sc_avro_rd_t *r);
/* Array blocks: the item count of the next block, 0 at the end (or bad). */
int64_t sc_avro_r_block(sc_avro_rd_t *r);
/* 0 when every read went well and the whole body was read, else -1 with
 * "Avro body does not match <record>" in errstr. */
int sc_avro_rd_end(const sc_avro_rd_t *r, const char *record, char *errstr,
                   size_t errstr_size);
/* A record module's framed read: sc_avro_rd_frame, read(r, out), sc_avro_rd_end.
 * Returns 0, -1 (not a frame of codec's record, or a malformed body) or -2
 * (read said a required field is missing: errstr gets missing). */
int sc_avro_rd_record(sc_avro_codec_t *codec, const void *buf, size_t len,
                      sc_buf_t *scratch, int (*read)(sc_avro_rd_t *r, void *out),
                      void *out, const char *record, const char *missing, char *errstr,
                      size_t errstr_size);

/* Decodes a framed message into the codec's value (valid until the next
 * decode). Rejects a bad magic byte, a different schema id, or a body that
 * does not match the schema. Returns 0 or -1 with a reason. */
int sc_avro_decode(sc_avro_codec_t *c, const void *buf, size_t len, avro_value_t **out,
                   char *errstr, size_t errstr_size);
/* Schema id of a framed message, or -1 if it is not one. */
int32_t sc_avro_frame_id(const void *buf, size_t len);

/* Field helpers for filling and reading values (by name; cheap enough for
 * records of a dozen fields, cache indexes where it matters). Strings set are
 * copied into the value. Unions: set_opt_* with NULL/absent selects null. */
int sc_avro_get(avro_value_t *rec, const char *field, avro_value_t *out);
int sc_avro_set_str(avro_value_t *rec, const char *field, const char *s);
int sc_avro_set_strn(avro_value_t *rec, const char *field, const char *s, size_t n);
int sc_avro_set_long(avro_value_t *rec, const char *field, int64_t v);
int sc_avro_set_double(avro_value_t *rec, const char *field, double v);
int sc_avro_set_bool(avro_value_t *rec, const char *field, int v);
int sc_avro_set_opt_str(avro_value_t *rec, const char *field, const char *s);
int sc_avro_set_opt_long(avro_value_t *rec, const char *field, const int64_t *v);
/* Readers: return the default when absent or null. Strings point into the
 * value (valid until it is reset/decoded again); *len may be NULL. */
const char *sc_avro_str(avro_value_t *rec, const char *field, size_t *len);
int64_t sc_avro_long(avro_value_t *rec, const char *field, int64_t def);
double sc_avro_double(avro_value_t *rec, const char *field, double def);
int sc_avro_bool(avro_value_t *rec, const char *field, int def);
/* For ["null", T] unions: 1 and the branch in out when not null, else 0. */
int sc_avro_opt(avro_value_t *rec, const char *field, avro_value_t *out);

#endif
