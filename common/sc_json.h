/* A small JSON parser for hot paths: a reusable parser that builds a flat
 * tree into its own arena, so parsing stops allocating once warm.
 *
 * Strings are unescaped, validated as UTF-8 and NUL-terminated. Every value
 * returned points into the parser and stays valid until the next
 * sc_json_parse() or sc_json_destroy() on that parser. */
#ifndef SC_JSON_H
#define SC_JSON_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
        SC_JSON_NULL,
        SC_JSON_FALSE,
        SC_JSON_TRUE,
        SC_JSON_NUMBER,
        SC_JSON_STRING,
        SC_JSON_ARRAY,
        SC_JSON_OBJECT,
} sc_json_type_t;

typedef struct sc_jv_s sc_jv_t;
struct sc_jv_s {
        sc_json_type_t type;
        uint32_t len;    /* string: bytes; number: text bytes; array/object: members */
        const char *str; /* string value, or the number's text */
        const char *key; /* member name when inside an object, else NULL */
        uint32_t key_len;
        int32_t next;  /* index of next sibling, -1 at the end */
        int32_t child; /* index of first member, -1 when empty */
        const sc_jv_t *base;
};

typedef struct sc_json_s sc_json_t;

/* max_depth bounds nesting (stack use and adversarial input). */
sc_json_t *sc_json_new(int max_depth);
void sc_json_destroy(sc_json_t *p);

/* Parses buf[0..len). Returns the root, or NULL with a reason in errstr
 * (e.g. "invalid UTF-8 in string at byte 17"). */
const sc_jv_t *sc_json_parse(sc_json_t *p, const char *buf, size_t len, char *errstr,
                             size_t errstr_size);

/* Navigation; all accept NULL and return NULL when absent. */
const sc_jv_t *sc_json_get(const sc_jv_t *obj, const char *key);
const sc_jv_t *sc_json_first(const sc_jv_t *container);
const sc_jv_t *sc_json_next(const sc_jv_t *v);
const sc_jv_t *sc_json_at(const sc_jv_t *arr, size_t i);

/* The string value if v is a string, else NULL. */
const char *sc_json_str(const sc_jv_t *v);
/* Integer from a number, or from a string of digits (platform ids often
 * arrive as strings). Returns 0 or -1. */
int sc_json_int64(const sc_jv_t *v, int64_t *out);
int sc_json_double(const sc_jv_t *v, double *out);
/* 1 for true, 0 for false, -1 for anything else. */
int sc_json_bool(const sc_jv_t *v);

#endif
