/* sc_json: the parser every raw post and every registry reply goes through.
 * Walks the whole tree and every accessor, and checks what the header
 * promises: strings are valid UTF-8 and NUL-terminated at their length,
 * containers count their members. */
#include "fuzz.h"
#include "sc_json.h"
#include "sc_utf8.h"

static size_t walk(const sc_jv_t *v, int depth)
{
        size_t nodes = 1;
        FUZZ_CHECK(depth <= 65);
        int64_t i64;
        double d;
        size_t bad;
        (void)sc_json_int64(v, &i64);
        (void)sc_json_double(v, &d);
        (void)sc_json_bool(v);
        switch (v->type) {
        case SC_JSON_STRING:
                FUZZ_CHECK(sc_json_str(v) == v->str);
                FUZZ_CHECK(v->str[v->len] == '\0');
                FUZZ_CHECK(sc_utf8_valid(v->str, v->len, &bad));
                break;
        case SC_JSON_NUMBER:
                FUZZ_CHECK(v->len > 0);
                break;
        case SC_JSON_ARRAY:
        case SC_JSON_OBJECT: {
                uint32_t n = 0;
                for (const sc_jv_t *c = sc_json_first(v); c; c = sc_json_next(c)) {
                        if (v->type == SC_JSON_OBJECT) {
                                FUZZ_CHECK(c->key && c->key[c->key_len] == '\0');
                                FUZZ_CHECK(sc_utf8_valid(c->key, c->key_len, &bad));
                                /* lookup by name finds a member of that name */
                                const sc_jv_t *g = sc_json_get(v, c->key);
                                FUZZ_CHECK(g && !strcmp(g->key, c->key));
                        } else {
                                FUZZ_CHECK(sc_json_at(v, n) == c);
                        }
                        n++;
                        nodes += walk(c, depth + 1);
                }
                FUZZ_CHECK(n == v->len);
                FUZZ_CHECK(sc_json_at(v, n) == NULL);
                break;
        }
        default:
                break;
        }
        return nodes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static sc_json_t *p;
        if (!p)
                p = sc_json_new(64); /* ingest's depth */
        char err[256];
        const sc_jv_t *root =
            sc_json_parse(p, (const char *)data, size, err, sizeof(err));
        if (root)
                walk(root, 0);
        else
                FUZZ_CHECK(err[0] != '\0');
        return 0;
}
