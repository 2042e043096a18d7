#include "sc_yaml.h"

#include "sc_alloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "sc_alloc.h"

/* A deployment file nests a handful of levels; the cap keeps a hostile or
 * runaway file from exhausting the stack in the recursive builder. */
#define SC_YAML_MAX_DEPTH 64

struct sc_yaml_s {
        char *name;
        sc_yaml_node_t *root;
};

typedef struct {
        yaml_parser_t parser;
        const char *name;
        char *errstr;
        size_t errstr_size;
} builder_t;

static void seterr(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        if (!errstr || !errstr_size)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

static void node_free(sc_yaml_node_t *n)
{
        while (n) {
                sc_yaml_node_t *next = n->next;
                node_free(n->child);
                free((char *)n->key);
                free((char *)n->value);
                free(n);
                n = next;
        }
}

static int line_of(const yaml_mark_t *m)
{
        return m->line < (size_t)0x7fffffff ? (int)m->line + 1 : 0x7fffffff;
}

/* Fetches the next event; a libyaml failure becomes "name:line: problem". */
static int next_event(builder_t *b, yaml_event_t *ev)
{
        if (yaml_parser_parse(&b->parser, ev))
                return 0;
        const yaml_parser_t *p = &b->parser;
        if (p->error == YAML_MEMORY_ERROR) {
                seterr(b->errstr, b->errstr_size, "%s: out of memory", b->name);
                return -1;
        }
        seterr(b->errstr, b->errstr_size, "%s:%d: %s", b->name, line_of(&p->problem_mark),
               p->problem ? p->problem : "invalid YAML");
        return -1;
}

static int oom(builder_t *b)
{
        seterr(b->errstr, b->errstr_size, "%s: out of memory", b->name);
        return -1;
}

/* Scalars may carry "\0" escapes; a C string would silently cut them, so
 * refuse them rather than hand a worker a shortened value. */
static char *scalar_dup(builder_t *b, const yaml_event_t *ev)
{
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        if (len && memchr(v, '\0', len)) {
                seterr(b->errstr, b->errstr_size, "%s:%d: NUL character in a value",
                       b->name, line_of(&ev->start_mark));
                return NULL;
        }
        char *s = sc_malloc(len + 1);
        if (len)
                memcpy(s, v, len);
        s[len] = '\0';
        return s;
}

static const char *event_anchor(const yaml_event_t *ev)
{
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                return (const char *)ev->data.scalar.anchor;
        case YAML_SEQUENCE_START_EVENT:
                return (const char *)ev->data.sequence_start.anchor;
        case YAML_MAPPING_START_EVENT:
                return (const char *)ev->data.mapping_start.anchor;
        default:
                return NULL;
        }
}

static int build_node(builder_t *b, yaml_event_t *ev, int depth, sc_yaml_node_t **out);

/* Parses members until the closing event; maps read key/value pairs. */
static int build_children(builder_t *b, sc_yaml_node_t *parent, int depth)
{
        sc_yaml_node_t **tail = &parent->child;
        yaml_event_t ev;
        for (;;) {
                if (next_event(b, &ev) == -1)
                        return -1;
                if (ev.type == YAML_SEQUENCE_END_EVENT ||
                    ev.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&ev);
                        return 0;
                }
                char *key = NULL;
                int key_line = 0;
                if (parent->type == SC_YAML_MAP) {
                        key_line = line_of(&ev.start_mark);
                        if (ev.type != YAML_SCALAR_EVENT) {
                                seterr(b->errstr, b->errstr_size,
                                       "%s:%d: map keys must be scalars", b->name,
                                       key_line);
                                yaml_event_delete(&ev);
                                return -1;
                        }
                        if (event_anchor(&ev)) {
                                seterr(b->errstr, b->errstr_size,
                                       "%s:%d: anchors and aliases are not supported",
                                       b->name, key_line);
                                yaml_event_delete(&ev);
                                return -1;
                        }
                        key = scalar_dup(b, &ev);
                        yaml_event_delete(&ev);
                        if (!key)
                                return -1;
                        for (const sc_yaml_node_t *m = parent->child; m; m = m->next) {
                                if (strcmp(m->key, key))
                                        continue;
                                /* Silently keeping either copy would make
                                 * the effective setting depend on order. */
                                seterr(b->errstr, b->errstr_size,
                                       "%s:%d: duplicate key '%s'", b->name, key_line,
                                       key);
                                free(key);
                                return -1;
                        }
                        if (next_event(b, &ev) == -1) {
                                free(key);
                                return -1;
                        }
                }
                sc_yaml_node_t *n = NULL;
                int rc = build_node(b, &ev, depth + 1, &n);
                if (rc == -1) {
                        free(key);
                        return -1;
                }
                if (key) {
                        n->key = key;
                        /* Report members where their name is written: a
                         * block map or list under "x:" starts a line later. */
                        n->line = key_line;
                }
                *tail = n;
                tail = &n->next;
                parent->count++;
        }
}

/* Consumes ev (and, for collections, everything up to the matching end). */
static int build_node(builder_t *b, yaml_event_t *ev, int depth, sc_yaml_node_t **out)
{
        int line = line_of(&ev->start_mark);
        if (ev->type == YAML_ALIAS_EVENT || event_anchor(ev)) {
                seterr(b->errstr, b->errstr_size,
                       "%s:%d: anchors and aliases are not supported", b->name, line);
                yaml_event_delete(ev);
                return -1;
        }
        if (depth > SC_YAML_MAX_DEPTH) {
                seterr(b->errstr, b->errstr_size, "%s:%d: nested deeper than %d levels",
                       b->name, line, SC_YAML_MAX_DEPTH);
                yaml_event_delete(ev);
                return -1;
        }
        sc_yaml_node_t *n = sc_calloc(1, sizeof(*n));
        n->line = line;
        switch (ev->type) {
        case YAML_SCALAR_EVENT:
                n->type = SC_YAML_SCALAR;
                n->value = scalar_dup(b, ev);
                yaml_event_delete(ev);
                if (!n->value) {
                        free(n);
                        return -1;
                }
                *out = n;
                return 0;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                n->type =
                    ev->type == YAML_SEQUENCE_START_EVENT ? SC_YAML_SEQ : SC_YAML_MAP;
                yaml_event_delete(ev);
                if (build_children(b, n, depth) == -1) {
                        node_free(n);
                        return -1;
                }
                *out = n;
                return 0;
        default:
                /* The parser only yields node events here; anything else
                 * means the stream is not what libyaml promised. */
                seterr(b->errstr, b->errstr_size, "%s:%d: unexpected YAML event", b->name,
                       line);
                yaml_event_delete(ev);
                free(n);
                return -1;
        }
}

static sc_yaml_node_t *empty_map(int line)
{
        sc_yaml_node_t *n = sc_calloc(1, sizeof(*n));
        if (n) {
                n->type = SC_YAML_MAP;
                n->line = line;
        }
        return n;
}

/* Walks the stream: at most one document, whose root becomes the tree. */
static int build(builder_t *b, sc_yaml_node_t **root)
{
        yaml_event_t ev;
        int docs = 0;
        for (;;) {
                if (next_event(b, &ev) == -1)
                        return -1;
                yaml_event_type_t t = ev.type;
                int line = line_of(&ev.start_mark);
                if (t == YAML_STREAM_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
                        yaml_event_delete(&ev);
                        continue;
                }
                if (t == YAML_DOCUMENT_START_EVENT) {
                        yaml_event_delete(&ev);
                        /* A second document would be ignored by every
                         * reader, so say so instead of dropping it. */
                        if (++docs > 1) {
                                seterr(b->errstr, b->errstr_size,
                                       "%s:%d: only one YAML document is allowed",
                                       b->name, line);
                                return -1;
                        }
                        continue;
                }
                if (build_node(b, &ev, 0, root) == -1)
                        return -1;
        }
        /* "---" alone or an all-comment file means "no settings": an empty
         * map, so callers need not special-case a null root. */
        sc_yaml_node_t *r = *root;
        if (r && r->type == SC_YAML_SCALAR && r->value && !*r->value) {
                int line = r->line;
                node_free(r);
                *root = empty_map(line);
                if (!*root)
                        return oom(b);
        }
        if (!*root) {
                *root = empty_map(1);
                if (!*root)
                        return oom(b);
        }
        return 0;
}

sc_yaml_t *sc_yaml_load_string(const char *text, size_t len, const char *name,
                               char *errstr, size_t errstr_size)
{
        if (!name)
                name = "<string>";
        if (!text && len) {
                seterr(errstr, errstr_size, "%s: no text", name);
                return NULL;
        }
        sc_yaml_t *y = sc_calloc(1, sizeof(*y));
        y->name = sc_strdup(name);
        builder_t b = {.name = y->name, .errstr = errstr, .errstr_size = errstr_size};
        if (!yaml_parser_initialize(&b.parser)) {
                sc_yaml_destroy(y);
                seterr(errstr, errstr_size, "%s: out of memory", name);
                return NULL;
        }
        static const unsigned char empty[1];
        yaml_parser_set_input_string(&b.parser,
                                     text ? (const unsigned char *)text : empty, len);
        int rc = build(&b, &y->root);
        yaml_parser_delete(&b.parser);
        if (rc == -1) {
                sc_yaml_destroy(y);
                return NULL;
        }
        return y;
}

sc_yaml_t *sc_yaml_load_file(const char *path, char *errstr, size_t errstr_size)
{
        if (!path) {
                seterr(errstr, errstr_size, "no file name given");
                return NULL;
        }
        FILE *f = fopen(path, "rb");
        if (!f) {
                seterr(errstr, errstr_size, "%s: %s", path, strerror(errno));
                return NULL;
        }
        /* Read it whole so libyaml's errors and ours share one code path
         * with sc_yaml_load_string(). */
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (len == cap)
                        SC_GROW(buf, cap, cap ? cap * 2 : 16384);
                size_t got = fread(buf + len, 1, cap - len, f);
                len += got;
                if (got == 0)
                        break;
        }
        int failed = ferror(f);
        int err = errno;
        fclose(f);
        if (failed) {
                free(buf);
                seterr(errstr, errstr_size, "%s: %s", path, strerror(err ? err : EIO));
                return NULL;
        }
        sc_yaml_t *y = sc_yaml_load_string(buf, len, path, errstr, errstr_size);
        free(buf);
        return y;
}

void sc_yaml_destroy(sc_yaml_t *y)
{
        if (!y)
                return;
        node_free(y->root);
        free(y->name);
        free(y);
}

const sc_yaml_node_t *sc_yaml_root(const sc_yaml_t *y)
{
        return y ? y->root : NULL;
}

const char *sc_yaml_name(const sc_yaml_t *y)
{
        /* Callers print this with %s; "" keeps a NULL out of printf. */
        return y && y->name ? y->name : "";
}

const sc_yaml_node_t *sc_yaml_get(const sc_yaml_node_t *map, const char *key)
{
        if (!map || !key || map->type != SC_YAML_MAP)
                return NULL;
        for (const sc_yaml_node_t *n = map->child; n; n = n->next)
                if (n->key && !strcmp(n->key, key))
                        return n;
        return NULL;
}

const char *sc_yaml_str(const sc_yaml_node_t *map, const char *key, const char *def)
{
        const sc_yaml_node_t *n = sc_yaml_get(map, key);
        if (!n || n->type != SC_YAML_SCALAR || !n->value)
                return def;
        return n->value;
}

static const char *scalar_text(const sc_yaml_node_t *n)
{
        if (!n || n->type != SC_YAML_SCALAR || !n->value || !*n->value)
                return NULL;
        return n->value;
}

int sc_yaml_int(const sc_yaml_node_t *scalar, long long *out)
{
        const char *s = scalar_text(scalar);
        if (!s)
                return -1;
        /* strtoll alone would take " 12", "0x1f" and "012"-as-octal with
         * base 0; settings are plain decimal, so check the shape first. */
        const char *p = s + (*s == '+' || *s == '-');
        if (!*p)
                return -1;
        for (const char *q = p; *q; q++)
                if (*q < '0' || *q > '9')
                        return -1;
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno == ERANGE || *end)
                return -1;
        if (out)
                *out = v;
        return 0;
}

int sc_yaml_double(const sc_yaml_node_t *scalar, double *out)
{
        const char *s = scalar_text(scalar);
        if (!s || isspace((unsigned char)*s))
                return -1;
        errno = 0;
        char *end;
        double v = strtod(s, &end);
        /* Underflow to a tiny value is still a number; inf and nan are not
         * useful as a setting and usually mean a typo. */
        if (end == s || *end || !isfinite(v))
                return -1;
        if (out)
                *out = v;
        return 0;
}

int sc_yaml_bool(const sc_yaml_node_t *scalar, int *out)
{
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        const char *s = scalar_text(scalar);
        if (!s)
                return -1;
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (!strcasecmp(s, yes[i])) {
                        if (out)
                                *out = 1;
                        return 0;
                }
                if (!strcasecmp(s, no[i])) {
                        if (out)
                                *out = 0;
                        return 0;
                }
        }
        return -1;
}
