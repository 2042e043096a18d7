/* socialcarectl classify: the classifier from the command line, for people
 * trying it and for debugging rules and models (eval and train are in
 * ctl_train.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_buf.h"
#include "sc_classify.h"
#include "sc_config.h"
#include "sc_json.h"

sc_classifier_t *sc_ctl_load_classifier(const char *dir, const char *model,
                                        int rules_only);

int sc_ctl_classify_main(int argc, char **argv)
{
        const char *dir = NULL, *hint = NULL, *brand_opt = NULL, *model = NULL;
        const char *config_path = getenv("SOCIALCARE_CONFIG");
        int json_in = 0, c, rules = 0;
        static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                             {"model", required_argument, 0, 'm'},
                                             {"rules", no_argument, 0, 'r'},
                                             {"json", no_argument, 0, 'j'},
                                             {"lang", required_argument, 0, 'l'},
                                             {"config", required_argument, 0, 'c'},
                                             {"brand", required_argument, 0, 'b'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        while ((c = getopt_long(argc, argv, "d:m:rjl:c:b:h", opts, NULL)) != -1) {
                if (c == 'd')
                        dir = optarg;
                else if (c == 'm')
                        model = optarg;
                else if (c == 'r')
                        rules = 1;
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
                            "[--data DIR] [--model FILE | --rules] [-c FILE] [--brand "
                            "ID] "
                            "< input\n"
                            "Reads one text a line (or one JSON post a line with --json: "
                            "text, lang, brand,\nauthor.followers, author.verified, "
                            "is_brand) and writes one JSON result a line: lang,\n"
                            "sentiment, intents, topics, priority, needs_reply and "
                            "explain. Topics are the brand's\nkeyword groups from the "
                            "deployment file (-c or $SOCIALCARE_CONFIG). The shipped "
                            "model\n(services/classify/MODEL.md) decides unless --rules "
                            "or --model.\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        char err[512];
        sc_classifier_t *cls = sc_ctl_load_classifier(dir, model, rules);
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
                    ",\"classifier_version\":\"%s\",\"lang\":\"%s\",\"sentiment\":{"
                    "\"label\":\"%s\",\"score\":%.3f},\"intents\":[",
                    sc_classifier_version(cls), r.lang, r.label, r.score);
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
