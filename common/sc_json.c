/* Recursive-descent JSON parser into a flat node array.
 *
 * Nodes and unescaped strings live in two arenas that grow by doubling and
 * are kept between parses. While parsing, nodes refer to strings by offset
 * (the arena may move); pointers are fixed up once the parse succeeded. */
#include "sc_alloc.h"
#include "sc_json.h"

#include "sc_alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sc_json_s {
        sc_jv_t *nodes;
        size_t node_cnt, node_cap;
        char *strs;
        size_t str_len, str_cap;
        int max_depth;
        const unsigned char *in, *end, *pos;
        char *errstr;
        size_t errstr_size;
};

/* Offsets are stored in the pointer fields during the parse; +1 so that a
 * NULL key stays distinguishable from a key at offset 0. */
#define OFF2PTR(o) ((const char *)(uintptr_t)((o) + 1))
#define PTR2OFF(p) ((size_t)(uintptr_t)(p)-1)

sc_json_t *sc_json_new(int max_depth)
{
        sc_json_t *p = sc_calloc(1, sizeof(*p));
        p->max_depth = max_depth > 0 ? max_depth : 32;
        return p;
}

void sc_json_destroy(sc_json_t *p)
{
        if (!p)
                return;
        free(p->nodes);
        free(p->strs);
        free(p);
}

static int fail(sc_json_t *p, const char *fmt, ...)
{
        if (p->errstr && p->errstr_size) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(p->errstr, p->errstr_size, fmt, ap);
                va_end(ap);
        }
        return -1;
}

static size_t at(const sc_json_t *p)
{
        return (size_t)(p->pos - p->in);
}

static int32_t node_add(sc_json_t *p, sc_json_type_t type)
{
        SC_GROW(p->nodes, p->node_cap, p->node_cnt + 1);
        if (p->node_cnt >= INT32_MAX)
                return fail(p, "too many values");
        sc_jv_t *v = &p->nodes[p->node_cnt];
        memset(v, 0, sizeof(*v));
        v->type = type;
        v->next = -1;
        v->child = -1;
        return (int32_t)p->node_cnt++;
}

static int str_reserve(sc_json_t *p, size_t more)
{
        SC_GROW(p->strs, p->str_cap, p->str_len + more);
        return 0;
}

static void skip_ws(sc_json_t *p)
{
        while (p->pos < p->end &&
               (*p->pos == ' ' || *p->pos == '\t' || *p->pos == '\n' || *p->pos == '\r'))
                p->pos++;
}

static int hex4(const unsigned char *s, unsigned *out)
{
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                unsigned c = s[i], d;
                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if (c >= 'a' && c <= 'f')
                        d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        d = c - 'A' + 10;
                else
                        return -1;
                v = v << 4 | d;
        }
        *out = v;
        return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xC0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xE0 | cp >> 12);
                o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
        unsigned c = s[0];
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
                n = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
                n = 3;
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED)
                        hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                n = 4;
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
        } else
                return 0;
        if ((size_t)(end - s) < n)
                return 0;
        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
        return n;
}

/* Parses a string at p->pos (on the opening quote) into the arena. */
static int parse_string(sc_json_t *p, size_t *off, uint32_t *len)
{
        const unsigned char *s = ++p->pos;
        /* Unescaping never grows the text, so one reservation suffices. */
        const unsigned char *q = s;
        while (q < p->end && *q != '"') {
                if (*q == '\\' && q + 1 < p->end)
                        q++;
                q++;
        }
        if (q >= p->end)
                return fail(p, "unterminated string at byte %zu",
                            (size_t)(s - p->in - 1));
        if (str_reserve(p, (size_t)(q - s) + 1))
                return -1;
        char *o = p->strs + p->str_len, *start = o;
        while (p->pos < p->end) {
                unsigned c = *p->pos;
                if (c == '"') {
                        p->pos++;
                        size_t n = (size_t)(o - start);
                        if (n > UINT32_MAX)
                                return fail(p, "string too long");
                        *o++ = '\0';
                        *off = p->str_len;
                        *len = (uint32_t)n;
                        p->str_len += n + 1;
                        return 0;
                }
                if (c < 0x20)
                        return fail(p, "control character in string at byte %zu", at(p));
                if (c < 0x80 && c != '\\') {
                        *o++ = (char)c;
                        p->pos++;
                        continue;
                }
                if (c >= 0x80) {
                        size_t n = utf8_seq(p->pos, p->end);
                        if (!n)
                                return fail(p, "invalid UTF-8 in string at byte %zu",
                                            at(p));
                        memcpy(o, p->pos, n);
                        o += n;
                        p->pos += n;
                        continue;
                }
                /* backslash */
                if (p->end - p->pos < 2)
                        return fail(p, "bad escape at byte %zu", at(p));
                unsigned e = p->pos[1];
                p->pos += 2;
                switch (e) {
                case '"':
                case '\\':
                case '/':
                        *o++ = (char)e;
                        break;
                case 'b':
                        *o++ = '\b';
                        break;
                case 'f':
                        *o++ = '\f';
                        break;
                case 'n':
                        *o++ = '\n';
                        break;
                case 'r':
                        *o++ = '\r';
                        break;
                case 't':
                        *o++ = '\t';
                        break;
                case 'u': {
                        unsigned cp, lo;
                        if (p->end - p->pos < 4 || hex4(p->pos, &cp))
                                return fail(p, "bad \\u escape at byte %zu", at(p) - 2);
                        p->pos += 4;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                if (p->end - p->pos < 6 || p->pos[0] != '\\' ||
                                    p->pos[1] != 'u' || hex4(p->pos + 2, &lo) ||
                                    lo < 0xDC00 || lo > 0xDFFF)
                                        return fail(p, "unpaired surrogate at byte %zu",
                                                    at(p) - 6);
                                p->pos += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                                return fail(p, "unpaired surrogate at byte %zu",
                                            at(p) - 6);
                        } else if (cp == 0) {
                                /* An embedded NUL would silently cut C strings. */
                                return fail(p, "NUL character in string at byte %zu",
                                            at(p) - 6);
                        }
                        o += put_utf8(o, cp);
                        break;
                }
                default:
                        return fail(p, "bad escape at byte %zu", at(p) - 2);
                }
        }
        return fail(p, "unterminated string");
}

static int is_digit(const unsigned char *s, const unsigned char *end)
{
        return s < end && *s >= '0' && *s <= '9';
}

static int parse_number(sc_json_t *p, int32_t idx)
{
        const unsigned char *s = p->pos, *q = s;
        if (q < p->end && *q == '-')
                q++;
        if (!is_digit(q, p->end))
                return fail(p, "bad number at byte %zu", at(p));
        if (*q == '0')
                q++;
        else
                while (is_digit(q, p->end))
                        q++;
        if (q < p->end && *q == '.') {
                q++;
                if (!is_digit(q, p->end))
                        return fail(p, "bad number at byte %zu", at(p));
                while (is_digit(q, p->end))
                        q++;
        }
        if (q < p->end && (*q == 'e' || *q == 'E')) {
                q++;
                if (q < p->end && (*q == '+' || *q == '-'))
                        q++;
                if (!is_digit(q, p->end))
                        return fail(p, "bad number at byte %zu", at(p));
                while (is_digit(q, p->end))
                        q++;
        }
        size_t n = (size_t)(q - s);
        if (n > 64)
                return fail(p, "number too long at byte %zu", at(p));
        if (str_reserve(p, n + 1))
                return -1;
        memcpy(p->strs + p->str_len, s, n);
        p->strs[p->str_len + n] = '\0';
        p->nodes[idx].str = OFF2PTR(p->str_len);
        p->nodes[idx].len = (uint32_t)n;
        p->str_len += n + 1;
        p->pos = q;
        return 0;
}

static int literal(sc_json_t *p, const char *word, size_t n)
{
        if ((size_t)(p->end - p->pos) < n || memcmp(p->pos, word, n))
                return fail(p, "unexpected character at byte %zu", at(p));
        p->pos += n;
        return 0;
}

static int32_t parse_value(sc_json_t *p, int depth);

static int parse_container(sc_json_t *p, int32_t idx, int depth, int is_obj)
{
        const unsigned char close = is_obj ? '}' : ']';
        int32_t last = -1;
        uint32_t cnt = 0;
        p->pos++;
        skip_ws(p);
        if (p->pos < p->end && *p->pos == close) {
                p->pos++;
                return 0;
        }
        for (;;) {
                size_t key_off = 0;
                uint32_t key_len = 0;
                skip_ws(p);
                if (is_obj) {
                        if (p->pos >= p->end || *p->pos != '"')
                                return fail(p, "expected member name at byte %zu", at(p));
                        if (parse_string(p, &key_off, &key_len))
                                return -1;
                        skip_ws(p);
                        if (p->pos >= p->end || *p->pos != ':')
                                return fail(p, "expected ':' at byte %zu", at(p));
                        p->pos++;
                }
                int32_t v = parse_value(p, depth + 1);
                if (v < 0)
                        return -1;
                if (is_obj) {
                        p->nodes[v].key = OFF2PTR(key_off);
                        p->nodes[v].key_len = key_len;
                }
                if (last < 0)
                        p->nodes[idx].child = v;
                else
                        p->nodes[last].next = v;
                last = v;
                cnt++;
                skip_ws(p);
                if (p->pos >= p->end)
                        return fail(p, "unexpected end of input");
                if (*p->pos == ',') {
                        p->pos++;
                        continue;
                }
                if (*p->pos == close) {
                        p->pos++;
                        p->nodes[idx].len = cnt;
                        return 0;
                }
                return fail(p, "expected ',' or '%c' at byte %zu", close, at(p));
        }
}

static int32_t parse_value(sc_json_t *p, int depth)
{
        if (depth > p->max_depth)
                return fail(p, "nesting deeper than %d at byte %zu", p->max_depth, at(p));
        skip_ws(p);
        if (p->pos >= p->end)
                return fail(p, "unexpected end of input");
        int32_t idx;
        switch (*p->pos) {
        case '{':
        case '[': {
                int is_obj = *p->pos == '{';
                idx = node_add(p, is_obj ? SC_JSON_OBJECT : SC_JSON_ARRAY);
                if (idx < 0 || parse_container(p, idx, depth, is_obj))
                        return -1;
                return idx;
        }
        case '"': {
                size_t off;
                uint32_t len;
                idx = node_add(p, SC_JSON_STRING);
                if (idx < 0 || parse_string(p, &off, &len))
                        return -1;
                p->nodes[idx].str = OFF2PTR(off);
                p->nodes[idx].len = len;
                return idx;
        }
        case 't':
                idx = node_add(p, SC_JSON_TRUE);
                return idx < 0 || literal(p, "true", 4) ? -1 : idx;
        case 'f':
                idx = node_add(p, SC_JSON_FALSE);
                return idx < 0 || literal(p, "false", 5) ? -1 : idx;
        case 'n':
                idx = node_add(p, SC_JSON_NULL);
                return idx < 0 || literal(p, "null", 4) ? -1 : idx;
        default:
                idx = node_add(p, SC_JSON_NUMBER);
                return idx < 0 || parse_number(p, idx) ? -1 : idx;
        }
}

const sc_jv_t *sc_json_parse(sc_json_t *p, const char *buf, size_t len, char *errstr,
                             size_t errstr_size)
{
        p->node_cnt = 0;
        p->str_len = 0;
        p->in = p->pos = (const unsigned char *)buf;
        p->end = p->in + len;
        p->errstr = errstr;
        p->errstr_size = errstr_size;
        if (errstr && errstr_size)
                errstr[0] = '\0';
        if (!buf)
                return fail(p, "no input"), NULL;
        if (parse_value(p, 0) < 0)
                return NULL;
        skip_ws(p);
        if (p->pos != p->end)
                return fail(p, "trailing data at byte %zu", at(p)), NULL;
        for (size_t i = 0; i < p->node_cnt; i++) {
                sc_jv_t *v = &p->nodes[i];
                v->base = p->nodes;
                if (v->str)
                        v->str = p->strs + PTR2OFF(v->str);
                if (v->key)
                        v->key = p->strs + PTR2OFF(v->key);
        }
        return &p->nodes[0];
}

const sc_jv_t *sc_json_first(const sc_jv_t *c)
{
        if (!c || (c->type != SC_JSON_ARRAY && c->type != SC_JSON_OBJECT) || c->child < 0)
                return NULL;
        return c->base + c->child;
}

const sc_jv_t *sc_json_next(const sc_jv_t *v)
{
        if (!v || v->next < 0)
                return NULL;
        return v->base + v->next;
}

const sc_jv_t *sc_json_get(const sc_jv_t *obj, const char *key)
{
        if (!obj || obj->type != SC_JSON_OBJECT || !key)
                return NULL;
        size_t n = strlen(key);
        for (const sc_jv_t *m = sc_json_first(obj); m; m = sc_json_next(m))
                if (m->key_len == n && !memcmp(m->key, key, n))
                        return m;
        return NULL;
}

const sc_jv_t *sc_json_at(const sc_jv_t *arr, size_t i)
{
        if (!arr || arr->type != SC_JSON_ARRAY)
                return NULL;
        const sc_jv_t *m = sc_json_first(arr);
        while (m && i--)
                m = sc_json_next(m);
        return m;
}

const char *sc_json_str(const sc_jv_t *v)
{
        return v && v->type == SC_JSON_STRING ? v->str : NULL;
}

int sc_json_int64(const sc_jv_t *v, int64_t *out)
{
        if (!v || (v->type != SC_JSON_NUMBER && v->type != SC_JSON_STRING) || !v->len)
                return -1;
        const char *s = v->str;
        size_t i = s[0] == '-' ? 1 : 0;
        if (i == v->len)
                return -1;
        for (; i < v->len; i++)
                if (s[i] < '0' || s[i] > '9')
                        return -1;
        errno = 0;
        char *end;
        long long n = strtoll(s, &end, 10);
        if (errno || end != s + v->len)
                return -1;
        *out = n;
        return 0;
}

int sc_json_double(const sc_jv_t *v, double *out)
{
        if (!v || (v->type != SC_JSON_NUMBER && v->type != SC_JSON_STRING) || !v->len)
                return -1;
        char *end;
        errno = 0;
        double d = strtod(v->str, &end);
        if (errno || end != v->str + v->len || !isfinite(d))
                return -1;
        *out = d;
        return 0;
}

int sc_json_bool(const sc_jv_t *v)
{
        if (!v)
                return -1;
        return v->type == SC_JSON_TRUE ? 1 : v->type == SC_JSON_FALSE ? 0 : -1;
}
