/* sc_yaml: the deployment file as a tree (libyaml events -> nodes with line
 * numbers). Walks every node and the scalar helpers, and checks the tree's
 * own bookkeeping (count, keys in maps only). */
#include "fuzz.h"
#include "sc_yaml.h"

static void walk(const sc_yaml_node_t *n, int depth)
{
        FUZZ_CHECK(depth <= 65);
        FUZZ_CHECK(n->line >= 1);
        switch (n->type) {
        case SC_YAML_SCALAR: {
                long long ll;
                double d;
                int b;
                FUZZ_CHECK(n->value != NULL);
                (void)sc_yaml_int(n, &ll);
                (void)sc_yaml_double(n, &d);
                (void)sc_yaml_bool(n, &b);
                break;
        }
        case SC_YAML_MAP:
        case SC_YAML_SEQ: {
                size_t cnt = 0;
                for (const sc_yaml_node_t *c = n->child; c; c = c->next) {
                        if (n->type == SC_YAML_MAP) {
                                FUZZ_CHECK(c->key != NULL);
                                FUZZ_CHECK(sc_yaml_get(n, c->key) != NULL);
                                (void)sc_yaml_str(n, c->key, NULL);
                        } else {
                                FUZZ_CHECK(c->key == NULL);
                        }
                        cnt++;
                        walk(c, depth + 1);
                }
                FUZZ_CHECK(cnt == n->count);
                break;
        }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512];
        sc_yaml_t *y =
            sc_yaml_load_string((const char *)data, size, "fuzz", err, sizeof(err));
        if (!y)
                return 0;
        const sc_yaml_node_t *root = sc_yaml_root(y);
        if (root)
                walk(root, 0);
        sc_yaml_destroy(y);
        return 0;
}
