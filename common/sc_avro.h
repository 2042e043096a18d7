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
/* A ["null", "string"] union: NULL writes the null branch. */
int sc_avro_w_opt_str(sc_buf_t *out, const char *s);
/* Array blocks: one block of n items (n > 0), then the end marker. */
int sc_avro_w_array_begin(sc_buf_t *out, size_t n);
int sc_avro_w_array_end(sc_buf_t *out);

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

#endif
