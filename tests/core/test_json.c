/* sc_json: values, escapes, UTF-8 strictness, limits and reuse. */
#include <stdint.h>

#include "sc_json.h"
#include "sc_test.h"
#include "sc_utf8.h"

static const sc_jv_t *parse(sc_json_t *p, const char *s, char *err)
{
        return sc_json_parse(p, s, strlen(s), err, 128);
}

static void expect_error(sc_json_t *p, const char *s, const char *reason)
{
        char err[128];
        const sc_jv_t *v = parse(p, s, err);
        if (v || !strstr(err, reason)) {
                fprintf(stderr, "input %s: got %s, want error containing \"%s\"\n", s,
                        v ? "success" : err, reason);
                exit(1);
        }
}

int main(void)
{
        sc_json_t *p = sc_json_new(8);
        char err[128];

        const sc_jv_t *root = parse(
            p,
            " {\"a\": 1, \"b\": [true, false, null, -2.5e3], \"c\": \"x\\u00f3\\n\\\"\","
            " \"id\": \"1234567890123\", \"emoji\": \"\\ud83d\\ude00\", \"pl\": "
            "\"zażółć\"} ",
            err);
        CHECK(root);
        CHECK_INT(root->type, SC_JSON_OBJECT);
        CHECK_INT(root->len, 6);
        int64_t n = 0;
        CHECK(sc_json_int64(sc_json_get(root, "a"), &n) == 0 && n == 1);
        CHECK(sc_json_int64(sc_json_get(root, "id"), &n) == 0 && n == 1234567890123LL);
        CHECK(sc_json_int64(sc_json_get(root, "c"), &n) == -1);
        const sc_jv_t *b = sc_json_get(root, "b");
        CHECK_INT(b->len, 4);
        CHECK_INT(sc_json_bool(sc_json_at(b, 0)), 1);
        CHECK_INT(sc_json_bool(sc_json_at(b, 1)), 0);
        CHECK_INT(sc_json_at(b, 2)->type, SC_JSON_NULL);
        double d = 0;
        CHECK(sc_json_double(sc_json_at(b, 3), &d) == 0 && d == -2500.0);
        CHECK(sc_json_int64(sc_json_at(b, 3), &n) == -1);
        CHECK(sc_json_at(b, 4) == NULL);
        CHECK_STR(sc_json_str(sc_json_get(root, "c")), "x\xc3\xb3\n\"");
        CHECK_STR(sc_json_str(sc_json_get(root, "emoji")), "\xf0\x9f\x98\x80");
        CHECK_STR(sc_json_str(sc_json_get(root, "pl")), "zażółć");
        CHECK(sc_json_get(root, "missing") == NULL);
        CHECK(sc_json_get(NULL, "a") == NULL);
        CHECK(sc_json_str(NULL) == NULL);

        /* Reuse: a second parse replaces the first. */
        root = parse(p, "[[],{},\"\"]", err);
        CHECK(root && root->len == 3);
        CHECK(sc_json_first(sc_json_at(root, 0)) == NULL);
        CHECK_STR(sc_json_str(sc_json_at(root, 2)), "");

        expect_error(p, "{\"a\":1,}", "expected member name");
        expect_error(p, "{\"a\" 1}", "expected ':'");
        expect_error(p, "[1 2]", "expected ','");
        expect_error(p, "\"abc", "unterminated string");
        expect_error(p, "\"a\x01\"", "control character");
        expect_error(p, "\"\xc0\x80\"", "invalid UTF-8");
        expect_error(p, "\"\xed\xa0\x80\"", "invalid UTF-8");
        expect_error(p, "\"\xf4\x90\x80\x80\"", "invalid UTF-8");
        expect_error(p, "\"\xe2\x82\"", "invalid UTF-8");
        expect_error(p, "\"\\ud83d\"", "unpaired surrogate");
        expect_error(p, "\"\\u0000\"", "NUL");
        expect_error(p, "\"\\x\"", "bad escape");
        expect_error(p, "01", "trailing data");
        expect_error(p, "-", "bad number");
        expect_error(p, "1.", "bad number");
        expect_error(p, "tru", "unexpected character");
        expect_error(p, "{} x", "trailing data");
        expect_error(p, "", "unexpected end");
        expect_error(p, "[[[[[[[[[[1]]]]]]]]]]", "nesting deeper than 8");

        /* A large document grows the arenas; all values stay intact. */
        size_t cap = 200000, len = 0;
        char *big = malloc(cap);
        len += (size_t)sprintf(big, "[");
        for (int i = 0; i < 10000; i++)
                len +=
                    (size_t)sprintf(big + len, "%s{\"k%d\":\"v%d\"}", i ? "," : "", i, i);
        big[len++] = ']';
        root = sc_json_parse(p, big, len, err, sizeof(err));
        CHECK(root && root->len == 10000);
        const sc_jv_t *last = sc_json_at(root, 9999);
        CHECK_STR(sc_json_str(sc_json_get(last, "k9999")), "v9999");
        free(big);

        /* sc_utf8 agrees with the parser on the same cases. */
        size_t bad = 0;
        CHECK(sc_utf8_valid("zażółć gęślą jaźń", strlen("zażółć gęślą jaźń"), &bad));
        CHECK(!sc_utf8_valid("ab\xc0\x80", 4, &bad) && bad == 2);
        CHECK(!sc_utf8_valid("\xed\xa0\x80", 3, &bad) && bad == 0);
        CHECK(!sc_utf8_valid("abcdefghij\xe2\x82", 12, &bad) && bad == 10);
        CHECK_INT(sc_utf8_truncate("aż", 3, 2), 1);
        CHECK_INT(sc_utf8_truncate("aż", 3, 3), 3);

        sc_json_destroy(p);
        sc_json_destroy(NULL);
        TEST_DONE();
}
