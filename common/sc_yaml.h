/* The deployment file (socialcare.yaml) as a read-only tree with line
 * numbers, so every section's parser can report "file:line: reason". */
#ifndef SC_YAML_H
#define SC_YAML_H
#include <stddef.h>

typedef enum { SC_YAML_SCALAR, SC_YAML_MAP, SC_YAML_SEQ } sc_yaml_type_t;

typedef struct sc_yaml_node_s sc_yaml_node_t;
struct sc_yaml_node_s {
        sc_yaml_type_t type;
        int line;              /* 1-based line in the source */
        const char *key;       /* member name when inside a map, else NULL */
        const char *value;     /* scalar text, else NULL */
        size_t count;          /* members of a map or seq */
        sc_yaml_node_t *child; /* first member */
        sc_yaml_node_t *next;  /* next sibling */
};

typedef struct sc_yaml_s sc_yaml_t;

/* Parses a file or a string. Returns NULL with "path:line: reason". The
 * caller owns the result and frees it with sc_yaml_destroy(). */
sc_yaml_t *sc_yaml_load_file(const char *path, char *errstr, size_t errstr_size);
sc_yaml_t *sc_yaml_load_string(const char *text, size_t len, const char *name,
                               char *errstr, size_t errstr_size);
void sc_yaml_destroy(sc_yaml_t *y);
const sc_yaml_node_t *sc_yaml_root(const sc_yaml_t *y);
/* Path or name of the source, for messages. */
const char *sc_yaml_name(const sc_yaml_t *y);

/* Member of a map by key; NULL if absent or node is not a map. */
const sc_yaml_node_t *sc_yaml_get(const sc_yaml_node_t *map, const char *key);
/* Scalar text of a member, or def. */
const char *sc_yaml_str(const sc_yaml_node_t *map, const char *key, const char *def);
/* Parse helpers: return 0, or -1 when the scalar is not of that type. */
int sc_yaml_int(const sc_yaml_node_t *scalar, long long *out);
int sc_yaml_double(const sc_yaml_node_t *scalar, double *out);
int sc_yaml_bool(const sc_yaml_node_t *scalar, int *out);

#endif
