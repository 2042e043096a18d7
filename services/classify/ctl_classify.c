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

typedef struct ctl_opts_s {
        const char *dir, *hint, *brand, *model, *config_path;
        int json_in, rules;
} ctl_opts_t;

/* -1: go on; else the exit code (--help, a bad option). */
static int parse_args(int argc, char **argv, ctl_opts_t *o)
{
        static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                             {"model", required_argument, 0, 'm'},
                                             {"rules", no_argument, 0, 'r'},
                                             {"json", no_argument, 0, 'j'},
                                             {"lang", required_argument, 0, 'l'},
                                             {"config", required_argument, 0, 'c'},
                                             {"brand", required_argument, 0, 'b'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "d:m:rjl:c:b:h", opts, NULL)) != -1) {
                if (c == 'd')
                        o->dir = optarg;
                else if (c == 'm')
                        o->model = optarg;
                else if (c == 'r')
                        o->rules = 1;
                else if (c == 'j')
                        o->json_in = 1;
                else if (c == 'l')
                        o->hint = optarg;
                else if (c == 'c')
                        o->config_path = optarg;
                else if (c == 'b')
                        o->brand = optarg;
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
        return -1;
}

/* One input line as classify reads a post. */
typedef struct ctl_input_s {
        const char *text, *lang, *brand;
        size_t text_len;
        long long followers;
        int verified, is_brand;
} ctl_input_t;

/* --json: the post's fields over the defaults in in. -1 with out holding
 * the error object's text. */
static int read_json(sc_json_t *jp, char *line, size_t len, ctl_input_t *in,
                     sc_buf_t *out)
{
        char err[512];
        const sc_jv_t *root = sc_json_parse(jp, line, len, err, sizeof(err));
        const sc_jv_t *tv = sc_json_get(root, "text");
        if (!sc_json_str(tv)) {
                sc_buf_json_str(out, root ? "no text" : err,
                                strlen(root ? "no text" : err));
                return -1;
        }
        in->text = tv->str;
        in->text_len = tv->len;
        if (sc_json_str(sc_json_get(root, "lang")))
                in->lang = sc_json_str(sc_json_get(root, "lang"));
        const sc_jv_t *a = sc_json_get(root, "author");
        int64_t f;
        if (sc_json_int64(sc_json_get(a, "followers"), &f) == 0)
                in->followers = f;
        in->verified = sc_json_bool(sc_json_get(a, "verified")) == 1;
        in->is_brand = sc_json_bool(sc_json_get(root, "is_brand")) == 1;
        if (sc_json_str(sc_json_get(root, "brand")))
                in->brand = sc_json_str(sc_json_get(root, "brand"));
        return 0;
}

/* The JSON result of one classified input. */
static void write_result(sc_classify_t *cl, const sc_classifier_t *cls,
                         const sc_topics_t *topics, const ctl_input_t *in,
                         const sc_classification_t *r, const sc_buf_t *ex, sc_buf_t *out)
{
        const char *pname;
        double p = sc_classify_priority(r, in->followers, in->verified, &pname);
        sc_buf_puts(out, "{\"text\":");
        sc_buf_json_str(out, in->text, in->text_len);
        sc_buf_printf(out,
                      ",\"classifier_version\":\"%s\",\"lang\":\"%s\",\"sentiment\":{"
                      "\"label\":\"%s\",\"score\":%.3f},\"intents\":[",
                      sc_classifier_version(cls), r->lang, r->label, r->score);
        int first = 1;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                if (r->intent_mask & (1u << k)) {
                        sc_buf_printf(out, "%s{\"name\":\"%s\",\"confidence\":%.2f}",
                                      first ? "" : ",", sc_intent_name(k), r->intent[k]);
                        first = 0;
                }
        sc_buf_puts(out, "],\"topics\":[");
        const char *tn[SC_MAX_TOPICS];
        size_t tc = sc_classify_topics(cl, topics, in->brand, tn, SC_MAX_TOPICS);
        for (size_t k = 0; k < tc; k++) {
                sc_buf_puts(out, k ? "," : "");
                sc_buf_json_str(out, tn[k], strlen(tn[k]));
        }
        sc_buf_printf(out,
                      "],\"priority\":\"%s\",\"priority_score\":%.3f,"
                      "\"needs_reply\":%s,\"explain\":%s}",
                      pname, p,
                      sc_classify_needs_reply(r, in->is_brand) ? "true" : "false",
                      ex->data);
}

int sc_ctl_classify_main(int argc, char **argv)
{
        ctl_opts_t o = {.config_path = getenv("SOCIALCARE_CONFIG")};
        int rc = parse_args(argc, argv, &o);
        if (rc >= 0)
                return rc;
        char err[512];
        sc_classifier_t *cls = sc_ctl_load_classifier(o.dir, o.model, o.rules);
        if (!cls)
                return 1;
        sc_topics_t *topics = NULL;
        sc_config_t *conf = NULL;
        sc_brands_t *brands = NULL;
        if (o.config_path && *o.config_path) {
                conf = sc_config_new("ctl", NULL);
                if (sc_config_load_file(conf, o.config_path, err, sizeof(err)) ||
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
        rc = 0;
        while ((len = getline(&line, &cap, stdin)) > 0) {
                while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = '\0';
                ctl_input_t in = {line, o.hint, o.brand, (size_t)len, 0, 0, 0};
                sc_buf_reset(&out);
                if (o.json_in && read_json(jp, line, (size_t)len, &in, &out)) {
                        printf("{\"error\":%s}\n", out.data);
                        rc = 1;
                        continue;
                }
                sc_classification_t r;
                sc_buf_reset(&ex);
                if (sc_classify_text(cl, cls, in.text, in.text_len, in.lang, &r, &ex)) {
                        printf("{\"error\":\"invalid UTF-8\"}\n");
                        rc = 1;
                        continue;
                }
                write_result(cl, cls, topics, &in, &r, &ex, &out);
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
