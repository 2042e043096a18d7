/* socialcarectl classify | eval: the classifier from the command line, for
 * people trying it, for debugging rules, and for evaluation. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_buf.h"
#include "sc_classify.h"
#include "sc_config.h"
#include "sc_json.h"

static const char *default_data_dir(void)
{
        const char *env = getenv("SOCIALCARE_CLASSIFY_DATA_DIR");
        return env && *env ? env : SC_CLASSIFY_DEFAULT_DATA_DIR;
}

static sc_classifier_t *load(const char *dir)
{
        char err[512];
        sc_classifier_t *c = sc_classifier_load(dir, err, sizeof(err));
        if (!c)
                fprintf(stderr, "classify: %s\n", err);
        return c;
}

int sc_ctl_classify_main(int argc, char **argv)
{
        const char *dir = default_data_dir(), *hint = NULL, *brand_opt = NULL;
        const char *config_path = getenv("SOCIALCARE_CONFIG");
        int json_in = 0, c;
        static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                             {"json", no_argument, 0, 'j'},
                                             {"lang", required_argument, 0, 'l'},
                                             {"config", required_argument, 0, 'c'},
                                             {"brand", required_argument, 0, 'b'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        while ((c = getopt_long(argc, argv, "d:jl:c:b:h", opts, NULL)) != -1) {
                if (c == 'd')
                        dir = optarg;
                else if (c == 'j')
                        json_in = 1;
                else if (c == 'l')
                        hint = optarg;
                else if (c == 'c')
                        config_path = optarg;
                else if (c == 'b')
                        brand_opt = optarg;
                else {
                        fprintf(
                            c == 'h' ? stdout : stderr,
                            "Usage: socialcarectl classify [--json] [--lang pl|en] "
                            "[--data DIR] [-c FILE] [--brand ID] < input\n"
                            "Reads one text a line (or one JSON post a line with --json: "
                            "text, lang, brand,\nauthor.followers, author.verified, "
                            "is_brand) and writes one JSON result a line: lang,\n"
                            "sentiment, intents, topics, priority, needs_reply and "
                            "explain. Topics are the brand's\nkeyword groups from the "
                            "deployment file (-c or $SOCIALCARE_CONFIG).\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        char err[512];
        sc_classifier_t *cls = load(dir);
        if (!cls)
                return 1;
        sc_topics_t *topics = NULL;
        sc_config_t *conf = NULL;
        sc_brands_t *brands = NULL;
        if (config_path && *config_path) {
                conf = sc_config_new("ctl", NULL);
                if (sc_config_load_file(conf, config_path, err, sizeof(err)) ||
                    !(brands = sc_brands_new(sc_config_tree(conf), err, sizeof(err))) ||
                    !(topics = sc_topics_new(brands, err, sizeof(err)))) {
                        fprintf(stderr, "classify: %s\n", err);
                        sc_brands_destroy(brands);
                        sc_config_destroy(conf);
                        sc_classifier_destroy(cls);
                        return 1;
                }
        }
        sc_classify_t *cl = sc_classify_new(10000);
        sc_json_t *jp = sc_json_new(32);
        sc_buf_t out = SC_BUF_INIT, ex = SC_BUF_INIT;
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int rc = 0;
        while ((len = getline(&line, &cap, stdin)) > 0) {
                while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = '\0';
                const char *text = line, *lang = hint, *brand = brand_opt;
                size_t text_len = (size_t)len;
                long long followers = 0;
                int verified = 0, is_brand = 0;
                sc_buf_reset(&out);
                if (json_in) {
                        const sc_jv_t *root =
                            sc_json_parse(jp, line, (size_t)len, err, sizeof(err));
                        const sc_jv_t *tv = sc_json_get(root, "text");
                        if (!sc_json_str(tv)) {
                                printf("{\"error\":");
                                sc_buf_json_str(&out, root ? "no text" : err,
                                                strlen(root ? "no text" : err));
                                printf("%s}\n", out.data);
                                rc = 1;
                                continue;
                        }
                        text = tv->str;
                        text_len = tv->len;
                        if (sc_json_str(sc_json_get(root, "lang")))
                                lang = sc_json_str(sc_json_get(root, "lang"));
                        const sc_jv_t *a = sc_json_get(root, "author");
                        int64_t f;
                        if (sc_json_int64(sc_json_get(a, "followers"), &f) == 0)
                                followers = f;
                        verified = sc_json_bool(sc_json_get(a, "verified")) == 1;
                        is_brand = sc_json_bool(sc_json_get(root, "is_brand")) == 1;
                        if (sc_json_str(sc_json_get(root, "brand")))
                                brand = sc_json_str(sc_json_get(root, "brand"));
                }
                sc_classification_t r;
                sc_buf_reset(&ex);
                if (sc_classify_text(cl, cls, text, text_len, lang, &r, &ex)) {
                        printf("{\"error\":\"invalid UTF-8\"}\n");
                        rc = 1;
                        continue;
                }
                const char *pname;
                double p = sc_classify_priority(&r, followers, verified, &pname);
                sc_buf_puts(&out, "{\"text\":");
                sc_buf_json_str(&out, text, text_len);
                sc_buf_printf(
                    &out,
                    ",\"lang\":\"%s\",\"sentiment\":{\"label\":\"%s\",\"score\":%.3f}"
                    ",\"intents\":[",
                    r.lang, r.label, r.score);
                int first = 1;
                for (int k = 0; k < SC_INTENT_CNT; k++)
                        if (r.intent_mask & (1u << k)) {
                                sc_buf_printf(
                                    &out, "%s{\"name\":\"%s\",\"confidence\":%.2f}",
                                    first ? "" : ",", sc_intent_name(k), r.intent[k]);
                                first = 0;
                        }
                sc_buf_puts(&out, "],\"topics\":[");
                const char *tn[16];
                size_t tc = sc_classify_topics(cl, topics, brand, tn, 16);
                for (size_t k = 0; k < tc; k++) {
                        sc_buf_puts(&out, k ? "," : "");
                        sc_buf_json_str(&out, tn[k], strlen(tn[k]));
                }
                sc_buf_printf(&out,
                              "],\"priority\":\"%s\",\"priority_score\":%.3f,"
                              "\"needs_reply\":%s,\"explain\":%s}",
                              pname, p,
                              sc_classify_needs_reply(&r, is_brand) ? "true" : "false",
                              ex.data);
                puts(out.data);
        }
        free(line);
        sc_buf_free(&out);
        sc_buf_free(&ex);
        sc_json_destroy(jp);
        sc_classify_destroy(cl);
        sc_classifier_destroy(cls);
        sc_topics_destroy(topics);
        sc_brands_destroy(brands);
        sc_config_destroy(conf);
        return rc;
}

/* ---- eval ----------------------------------------------------------------- */

enum { NEG, NEU, POS };
static const char *const labels[] = {"negative", "neutral", "positive"};

static int label_index(const char *s)
{
        for (int i = 0; i < 3; i++)
                if (!strcmp(s, labels[i]))
                        return i;
        return -1;
}

typedef struct eval_s {
        long conf[3][3]; /* [gold][predicted] */
        long tp[SC_INTENT_CNT], fp[SC_INTENT_CNT], fn[SC_INTENT_CNT];
        long n, n_intents;
} eval_t;

static void report(const eval_t *e, const char *name)
{
        long right = 0;
        double f1sum = 0;
        printf("== %s: %ld posts\n", name, e->n);
        for (int i = 0; i < 3; i++) {
                long tp = e->conf[i][i], gold = 0, pred = 0;
                for (int j = 0; j < 3; j++) {
                        gold += e->conf[i][j];
                        pred += e->conf[j][i];
                }
                double p = pred ? (double)tp / pred : 0, r = gold ? (double)tp / gold : 0;
                f1sum += p + r > 0 ? 2 * p * r / (p + r) : 0;
                right += tp;
        }
        printf("sentiment: accuracy %.3f, macro-F1 %.3f\n",
               e->n ? (double)right / e->n : 0, f1sum / 3);
        printf("confusion (rows gold, columns predicted): negative neutral positive\n");
        for (int i = 0; i < 3; i++)
                printf("  %-9s %7ld %7ld %7ld\n", labels[i], e->conf[i][0], e->conf[i][1],
                       e->conf[i][2]);
        if (!e->n_intents)
                return;
        double if1 = 0;
        int counted = 0;
        printf("intents (P / R / F1 / gold count):\n");
        for (int k = 0; k < SC_INTENT_CNT; k++) {
                long tp = e->tp[k], fp = e->fp[k], fn = e->fn[k];
                double p = tp + fp ? (double)tp / (tp + fp) : 0;
                double r = tp + fn ? (double)tp / (tp + fn) : 0;
                double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
                if (tp + fn) {
                        if1 += f;
                        counted++;
                }
                printf("  %-16s %.3f / %.3f / %.3f / %ld\n", sc_intent_name(k), p, r, f,
                       tp + fn);
        }
        printf("intents macro-F1 %.3f\n", counted ? if1 / counted : 0);
}

int sc_ctl_eval_main(int argc, char **argv)
{
        const char *dir = default_data_dir(), *format = "tsv", *lang = NULL;
        double band = 0.5;
        int c, verbose = 0;
        static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                             {"format", required_argument, 0, 'f'},
                                             {"lang", required_argument, 0, 'l'},
                                             {"band", required_argument, 0, 'b'},
                                             {"verbose", no_argument, 0, 'v'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        while ((c = getopt_long(argc, argv, "d:f:l:b:vh", opts, NULL)) != -1) {
                if (c == 'd')
                        dir = optarg;
                else if (c == 'f')
                        format = optarg;
                else if (c == 'l')
                        lang = optarg;
                else if (c == 'b')
                        band = atof(optarg);
                else if (c == 'v')
                        verbose = 1;
                else {
                        fprintf(c == 'h' ? stdout : stderr,
                                "Usage: socialcarectl eval [--format tsv|vader] [--lang "
                                "pl|en] "
                                "[--band 0.5] [-v] FILE...\n"
                                "  tsv:   lang<TAB>sentiment<TAB>intents<TAB>text "
                                "(tests/classify/"
                                "posts.tsv)\n"
                                "  vader: id<TAB>mean rating -4..4<TAB>text; gold label "
                                "from the "
                                "mean at +-band\n"
                                "Prints accuracy, macro-F1 and the confusion matrix for "
                                "sentiment, and per-intent\nprecision/recall/F1 when the "
                                "data "
                                "has intents. -v lists every miss.\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "eval: no input file (see --help)\n");
                return 2;
        }
        sc_classifier_t *cls = load(dir);
        if (!cls)
                return 1;
        sc_classify_t *cl = sc_classify_new(10000);
        int vader = !strcmp(format, "vader");
        for (int fi = optind; fi < argc; fi++) {
                FILE *f = fopen(argv[fi], "r");
                if (!f) {
                        fprintf(stderr, "eval: cannot open %s\n", argv[fi]);
                        return 1;
                }
                eval_t e = {0};
                char *line = NULL;
                size_t cap = 0;
                ssize_t len;
                while ((len = getline(&line, &cap, f)) > 0) {
                        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                                line[--len] = '\0';
                        if (!len || line[0] == '#')
                                continue;
                        char *cols[4] = {0};
                        int nc = 0;
                        for (char *p = line; p && nc < 4; nc++) {
                                cols[nc] = p;
                                p = strchr(p, '\t');
                                if (p && nc < (vader ? 2 : 3))
                                        *p++ = '\0';
                                else
                                        p = NULL;
                        }
                        int gold;
                        const char *text, *hint = lang;
                        unsigned gold_intents = 0;
                        if (vader) {
                                if (nc < 3)
                                        continue;
                                double m = atof(cols[1]);
                                gold = m >= band ? POS : m <= -band ? NEG : NEU;
                                text = cols[2];
                        } else {
                                if (nc < 4 || (gold = label_index(cols[1])) < 0)
                                        continue;
                                hint = NULL; /* the gold language is not a hint */
                                text = cols[3];
                                if (strcmp(cols[2], "-")) {
                                        for (char *s = NULL,
                                                  *t = strtok_r(cols[2], ",", &s);
                                             t; t = strtok_r(NULL, ",", &s)) {
                                                int k = sc_intent_from_name(t);
                                                if (k >= 0)
                                                        gold_intents |= 1u << k;
                                        }
                                }
                                e.n_intents++;
                        }
                        sc_classification_t r;
                        if (sc_classify_text(cl, cls, text, strlen(text), hint, &r, NULL))
                                continue;
                        int pred = label_index(r.label);
                        e.conf[gold][pred]++;
                        e.n++;
                        if (!vader)
                                for (int k = 0; k < SC_INTENT_CNT; k++) {
                                        int g = (gold_intents >> k) & 1,
                                            p = (r.intent_mask >> k) & 1;
                                        e.tp[k] += g && p;
                                        e.fp[k] += !g && p;
                                        e.fn[k] += g && !p;
                                }
                        if (verbose &&
                            (pred != gold || (!vader && r.intent_mask != gold_intents)))
                                printf("miss: gold %s pred %s %.2f intents %#x/%#x: %s\n",
                                       labels[gold], r.label, r.score, gold_intents,
                                       r.intent_mask, text);
                }
                free(line);
                fclose(f);
                report(&e, argv[fi]);
        }
        sc_classify_destroy(cl);
        sc_classifier_destroy(cls);
        return 0;
}
