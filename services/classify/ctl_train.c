/* socialcarectl train | eval: trains the linear models with LIBLINEAR and
 * measures a classifier (rules, or rules + model) on labelled sets.
 *
 * Sets are named FORMAT:PATH; the formats (documented in MODEL.md and
 * `train --help`) read the team's TSV, the team's label references to lines
 * of a text file, and the public sets' own layouts, mapping their labels
 * onto socialcare's sentiment and intents. A set labels only what it knows:
 * each example carries a known mask, and each binary model is trained on the
 * examples that know its label. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linear.h>

#include "sc_alloc.h"
#include "sc_buf.h"
#include "sc_classify.h"
#include "sc_model.h"

#define SENT_KNOWN 0x100 /* known bit for sentiment, after the 7 intents */
/* known not to be negative, its tone otherwise unknown (a +neg set's
 * non-complaints): a negative example for the negative model only */
#define NOT_NEG_KNOWN 0x200
/* Below this much data an output is not trained: the rules decide it. */
#define MIN_LABELLED 200
#define MIN_POSITIVE 30

typedef struct ex_s {
        char *text;
        int lang;      /* 0 pl, 1 en */
        int sentiment; /* 0 neg, 1 neu, 2 pos, -1 unknown */
        unsigned known, pos;
        int set;
        size_t group;
} ex_t;

typedef struct exs_s {
        ex_t *v;
        size_t n, cap;
        const char *set_name[32];
        int set_cnt;
        int weight;    /* of the set being read */
        int neg;       /* its complaints are negative sentiment examples */
        size_t groups; /* copies of one example share a group (and a fold) */
} exs_t;

static void ex_add1(exs_t *e, const char *text, size_t len, int lang, int sentiment,
                    unsigned known, unsigned pos)
{
        SC_GROW(e->v, e->cap, e->n + 1);
        ex_t *x = &e->v[e->n];
        x->text = sc_malloc(len + 1);
        memcpy(x->text, text, len);
        x->text[len] = '\0';
        x->lang = lang;
        x->sentiment = sentiment;
        x->known = known | (sentiment >= 0 ? SENT_KNOWN : 0);
        x->pos = pos & known;
        x->set = e->set_cnt - 1;
        x->group = e->groups;
        e->n++;
}

static void ex_add(exs_t *e, const char *text, size_t len, int lang, int sentiment,
                   unsigned known, unsigned pos)
{
        for (int k = 0; k < (e->weight > 0 ? e->weight : 1); k++)
                ex_add1(e, text, len, lang, sentiment, known, pos);
        e->groups++;
}

static void exs_free(exs_t *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i].text);
        free(e->v);
}

static const char *const sent_names[3] = {"negative", "neutral", "positive"};
#define ALL_INTENTS ((1u << SC_INTENT_CNT) - 1)
#define BIT(i)      (1u << (i))

static int sent_index(const char *s)
{
        for (int i = 0; i < 3; i++)
                if (!strcasecmp(s, sent_names[i]))
                        return i;
        return -1;
}

/* "complaint,question" -> mask; "-" none; "?" -1 (not labelled). */
static long intents_of(const char *s)
{
        if (!strcmp(s, "?"))
                return -1;
        unsigned m = 0;
        if (!strcmp(s, "-") || !*s)
                return 0;
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", s);
        for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t;
             t = strtok_r(NULL, ",", &sv)) {
                int k = sc_intent_from_name(t);
                if (k < 0)
                        return -2;
                m |= BIT(k);
        }
        return m;
}

static void chomp(char *s, ssize_t *len)
{
        while (*len && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
                s[--*len] = '\0';
}

/* Splits at TABs, at most max fields (the last keeps its TABs). */
static int split_tabs(char *line, char **cols, int max)
{
        int n = 0;
        for (char *p = line; p && n < max; n++) {
                cols[n] = p;
                p = n + 1 < max ? strchr(p, '\t') : NULL;
                if (p)
                        *p++ = '\0';
        }
        return n;
}

/* One CSV record (RFC 4180 quoting; quoted fields may hold newlines) into
 * NUL-separated fields of rec; returns the field count, 0 at EOF. */
static int csv_record(FILE *f, sc_buf_t *rec, char **cols, int max)
{
        sc_buf_reset(rec);
        int c, inq = 0, n = 0, any = 0;
        size_t starts[64];
        starts[n++] = 0;
        while ((c = fgetc(f)) != EOF) {
                any = 1;
                if (inq) {
                        if (c == '"') {
                                int d = fgetc(f);
                                if (d == '"')
                                        sc_buf_putc(rec, '"');
                                else {
                                        inq = 0;
                                        if (d != EOF)
                                                ungetc(d, f);
                                }
                        } else
                                sc_buf_putc(rec, (char)c);
                } else if (c == '"')
                        inq = 1;
                else if (c == ',') {
                        sc_buf_putc(rec, '\0');
                        if (n < 64)
                                starts[n++] = rec->len;
                } else if (c == '\n')
                        break;
                else if (c != '\r')
                        sc_buf_putc(rec, (char)c);
        }
        if (!any)
                return 0;
        sc_buf_putc(rec, '\0');
        for (int i = 0; i < n && i < max; i++)
                cols[i] = rec->data + starts[i];
        return n < max ? n : max;
}

/* SemEval text: \uXXXX escapes (and \" \\) decoded to UTF-8. */
static size_t unescape(char *s)
{
        char *o = s;
        for (char *p = s; *p;) {
                if (p[0] == '\\' && p[1] == 'u' && strlen(p) >= 6) {
                        char hex[5] = {p[2], p[3], p[4], p[5], 0};
                        char *end;
                        unsigned long u = strtoul(hex, &end, 16);
                        if (!*end) {
                                if (u < 0x80)
                                        *o++ = (char)u;
                                else if (u < 0x800) {
                                        *o++ = (char)(0xc0 | u >> 6);
                                        *o++ = (char)(0x80 | (u & 0x3f));
                                } else if (u >= 0xd800 && u < 0xe000) {
                                        /* surrogate halves: dropped */
                                } else {
                                        *o++ = (char)(0xe0 | u >> 12);
                                        *o++ = (char)(0x80 | ((u >> 6) & 0x3f));
                                        *o++ = (char)(0x80 | (u & 0x3f));
                                }
                                p += 6;
                                continue;
                        }
                }
                *o++ = *p++;
        }
        *o = '\0';
        return (size_t)(o - s);
}

/* Category maps of the public intent sets onto socialcare's intents. Each
 * row: category, intents it means, intents it says nothing about. */
typedef struct catmap_s {
        const char *cat;
        unsigned pos, unknown;
} catmap_t;

#define C_  BIT(SC_INTENT_COMPLAINT)
#define Q_  BIT(SC_INTENT_QUESTION)
#define P_  BIT(SC_INTENT_PRAISE)
#define B_  BIT(SC_INTENT_PURCHASE)
#define CH_ BIT(SC_INTENT_CHURN)
#define CR_ BIT(SC_INTENT_CRISIS)

/* bitext: requests to a support agent. Questions are not labelled (most are
 * phrased as requests), nor praise ("review" is feedback either way). */
static const catmap_t bitext_map[] = {{"complaint", C_, 0},
                                      {"get_refund", C_, 0},
                                      {"track_refund", C_, 0},
                                      {"payment_issue", C_, 0},
                                      {"registration_problems", C_, 0},
                                      {"cancel_order", CH_, 0},
                                      {"delete_account", CH_, 0},
                                      {"check_cancellation_fee", CH_, 0},
                                      {"place_order", B_, 0},
                                      {"newsletter_subscription", B_, 0},
                                      {"create_account", B_, 0},
                                      {"review", 0, C_},
                                      {"contact_human_agent", 0, C_},
                                      {"contact_customer_service", 0, C_},
                                      {NULL, 0, 0}};
#define BITEXT_UNKNOWN (Q_ | P_)

/* banking77: a problem with money or a card is a complaint, money taken by
 * someone else is a crisis, closing the account is churn. Purchases and
 * questions are not labelled. */
static const catmap_t banking_map[] = {
    {"Refund_not_showing_up", C_, 0},
    {"balance_not_updated_after_bank_transfer", C_, 0},
    {"balance_not_updated_after_cheque_or_cash_deposit", C_, 0},
    {"card_not_working", C_, 0},
    {"card_payment_fee_charged", C_, 0},
    {"card_payment_wrong_exchange_rate", C_, 0},
    {"card_swallowed", C_, 0},
    {"cash_withdrawal_charge", C_, 0},
    {"contactless_not_working", C_, 0},
    {"declined_card_payment", C_, 0},
    {"declined_cash_withdrawal", C_, 0},
    {"declined_transfer", C_, 0},
    {"extra_charge_on_statement", C_, 0},
    {"failed_transfer", C_, 0},
    {"pin_blocked", C_, 0},
    {"top_up_failed", C_, 0},
    {"top_up_reverted", C_, 0},
    {"transaction_charged_twice", C_, 0},
    {"transfer_fee_charged", C_, 0},
    {"transfer_not_received_by_recipient", C_, 0},
    {"virtual_card_not_working", C_, 0},
    {"wrong_amount_of_cash_received", C_, 0},
    {"wrong_exchange_rate_for_cash_withdrawal", C_, 0},
    {"unable_to_verify_identity", C_, 0},
    {"card_payment_not_recognised", C_ | CR_, 0},
    {"cash_withdrawal_not_recognised", C_ | CR_, 0},
    {"direct_debit_payment_not_recognised", C_ | CR_, 0},
    {"compromised_card", C_ | CR_, 0},
    {"lost_or_stolen_card", 0, C_ | CR_},
    {"lost_or_stolen_phone", 0, C_ | CR_},
    {"card_arrival", 0, C_},
    {"pending_card_payment", 0, C_},
    {"pending_cash_withdrawal", 0, C_},
    {"pending_top_up", 0, C_},
    {"pending_transfer", 0, C_},
    {"request_refund", 0, C_},
    {"reverted_card_payment?", 0, C_},
    {"beneficiary_not_allowed", 0, C_},
    {"terminate_account", CH_, 0},
    {NULL, 0, 0}};
#define BANKING_UNKNOWN (Q_ | B_)

static const catmap_t *catmap_find(const catmap_t *m, const char *cat)
{
        for (; m->cat; m++)
                if (!strcmp(m->cat, cat))
                        return m;
        return NULL;
}

static int lang_code(const char *s)
{
        return !strcmp(s, "pl") ? 0 : !strcmp(s, "en") ? 1 : -1;
}

/* Sentiment of an example of an intent set: negative for a complaint when
 * the set says so (+neg), else not labelled. */
static int neg_of(const exs_t *e, unsigned pos)
{
        return e->neg && (pos & C_) ? 0 : -1;
}

/* What a +neg set knows of the tone of a post that is not a complaint: that
 * it is not negative (so that the set's complaints do not teach "a post to
 * a brand is negative"). */
static unsigned not_neg(const exs_t *e, unsigned pos)
{
        return e->neg && !(pos & C_) ? NOT_NEG_KNOWN : 0;
}

/* Reads one FORMAT:PATH set. band: the vader format's neutral band. */
/* FORMAT[+neg][@W]:PATH, or labels:LANG:LABELS:TEXTS: the format in fmt,
 * the (text) file in *pathp, the labels file and language for labels. */
static int parse_spec(exs_t *e, const char *spec, char *fmt, size_t fmt_size,
                      const char **pathp, char *labels_path, size_t labels_size,
                      int *lang_opt, char *err, size_t errsz)
{
        const char *colon = strchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= fmt_size) {
                snprintf(err, errsz, "%s: want FORMAT:PATH", spec);
                return -1;
        }
        memcpy(fmt, spec, (size_t)(colon - spec));
        fmt[colon - spec] = '\0';
        e->weight = 1;
        /* FORMAT+neg: a complaint is also a negative post (GUIDELINES.md:
         * complaints are negative), teaching sentiment the complaints that
         * carry no sentiment word; its other posts say nothing of tone */
        char *plus = strstr(fmt, "+neg");
        e->neg = plus != NULL;
        if (plus)
                memmove(plus, plus + 4, strlen(plus + 4) + 1);
        char *at = strchr(fmt, '@');
        if (at) { /* FORMAT@W: every example counts W times */
                *at = '\0';
                e->weight = atoi(at + 1);
                if (e->weight < 1 || e->weight > 100) {
                        snprintf(err, errsz, "%s: weight must be 1..100", spec);
                        return -1;
                }
        }
        const char *path = *pathp = colon + 1;
        if (!strcmp(fmt, "labels")) { /* labels:LANG:LABELFILE:TEXTFILE */
                const char *a = strchr(path, ':'), *b = a ? strchr(a + 1, ':') : NULL;
                if (!a || !b ||
                    (*lang_opt = lang_code((char[3]){path[0], path[1], 0})) < 0 ||
                    a - path != 2) {
                        snprintf(err, errsz, "%s: want labels:pl|en:LABELS:TEXTS", spec);
                        return -1;
                }
                snprintf(labels_path, labels_size, "%.*s", (int)(b - a - 1), a + 1);
                *pathp = b + 1;
        }
        return 0;
}

static int read_tsv(exs_t *e, FILE *f, const char *path, char **line, size_t *cap,
                    char *err, size_t errsz)
{
        char *cols[6];
        ssize_t len;
        int rc = 0;
        /* lang<TAB>sentiment<TAB>intents<TAB>text; ? = not labelled */
        long lineno = 0;
        while (!rc && (len = getline(line, cap, f)) > 0) {
                lineno++;
                chomp(*line, &len);
                if (!len || (*line)[0] == '#')
                        continue;
                if (split_tabs(*line, cols, 4) < 4) {
                        snprintf(err, errsz, "%s:%ld: want 4 TAB fields", path, lineno);
                        rc = -1;
                        break;
                }
                int l = lang_code(cols[0]), s = sent_index(cols[1]);
                long im = intents_of(cols[2]);
                if (l < 0 || (s < 0 && strcmp(cols[1], "?")) || im == -2) {
                        snprintf(err, errsz, "%s:%ld: bad lang, sentiment or intents",
                                 path, lineno);
                        rc = -1;
                        break;
                }
                ex_add(e, cols[3], strlen(cols[3]), l, s, im < 0 ? 0 : ALL_INTENTS,
                       im < 0 ? 0 : (unsigned)im);
        }
        return rc;
}

static int read_labels(exs_t *e, FILE **fp, const char *labels_path, int lang_opt,
                       char **line, size_t *cap, char *err, size_t errsz)
{
        FILE *f = *fp;
        char *cols[6];
        ssize_t len;
        int rc = 0;
        /* the team's labels: line<TAB>sentiment<TAB>intents, line of TEXTS */
        char **texts = NULL;
        size_t nt = 0, tc = 0;
        while ((len = getline(line, cap, f)) >= 0) {
                chomp(*line, &len);
                SC_PUSH(texts, nt, tc, sc_strdup(*line));
        }
        fclose(f);
        f = fopen(labels_path, "r");
        if (!f) {
                snprintf(err, errsz, "%s: cannot open", labels_path);
                rc = -1;
        }
        long lineno = 0;
        while (!rc && f && (len = getline(line, cap, f)) > 0) {
                lineno++;
                chomp(*line, &len);
                if (!len || (*line)[0] == '#')
                        continue;
                int nc = split_tabs(*line, cols, 3);
                long ln = nc == 3 ? atol(cols[0]) : 0;
                int s = nc == 3 ? sent_index(cols[1]) : -1;
                long im = nc == 3 ? intents_of(cols[2]) : -2;
                if (ln < 1 || (size_t)ln > nt || s < 0 || im < 0) {
                        fprintf(stderr, "%s:%ld: skipped (bad row)\n", labels_path,
                                lineno);
                        continue;
                }
                ex_add(e, texts[ln - 1], strlen(texts[ln - 1]), lang_opt, s, ALL_INTENTS,
                       (unsigned)im);
        }
        for (size_t i = 0; i < nt; i++)
                free(texts[i]);
        free(texts);
        *fp = f;
        return rc;
}

static void read_semeval(exs_t *e, FILE *f, char **line, size_t *cap)
{
        char *cols[6];
        ssize_t len;
        while ((len = getline(line, cap, f)) > 0) {
                chomp(*line, &len);
                if (split_tabs(*line, cols, 3) < 3)
                        continue;
                int s = sent_index(cols[1]);
                if (s < 0)
                        continue;
                char *t = cols[2];
                size_t tl = unescape(t);
                if (tl >= 2 && t[0] == '"' && t[tl - 1] == '"') {
                        t++;
                        tl -= 2;
                }
                ex_add(e, t, tl, 1, s, 0, 0);
        }
}

/* Posts may go on for lines: acc gathers one. */
static void read_pol(exs_t *e, FILE *f, char **line, size_t *cap, sc_buf_t *acc)
{
        char *cols[6];
        ssize_t len;
        /* id<TAB>Positive|Negative<TAB>text, the text may go on for lines */
        int s = -1;
        for (;;) {
                len = getline(line, cap, f);
                int starts = 0, eof = len < 0;
                if (!eof) {
                        chomp(*line, &len);
                        char *t1 = strchr(*line, '\t');
                        starts = t1 && t1 - *line >= 15 && t1 - *line <= 20 &&
                                 strspn(*line, "0123456789") == (size_t)(t1 - *line);
                }
                if ((eof || starts) && s >= 0 && acc->len) {
                        ex_add(e, acc->data, acc->len, 0, s, 0, 0);
                        s = -1;
                }
                if (eof)
                        break;
                if (starts) {
                        split_tabs(*line, cols, 3);
                        s = !strcmp(cols[1], "Positive")   ? 2
                            : !strcmp(cols[1], "Negative") ? 0
                            : !strcmp(cols[1], "Neutral")  ? 1
                                                           : -1;
                        sc_buf_reset(acc);
                        const char *t = cols[2] ? cols[2] : "";
                        if (*t == '\\')
                                t++;
                        sc_buf_puts(acc, t);
                } else if (s >= 0) {
                        sc_buf_putc(acc, ' ');
                        sc_buf_puts(acc, *line);
                }
        }
}

static int read_set(exs_t *e, const char *spec, double band, char *err, size_t errsz)
{
        char fmt[32];
        const char *path;
        char labels_path[4096] = "";
        int lang_opt = -1;
        if (parse_spec(e, spec, fmt, sizeof(fmt), &path, labels_path, sizeof(labels_path),
                       &lang_opt, err, errsz))
                return -1;
        FILE *f = fopen(path, "r");
        if (!f) {
                snprintf(err, errsz, "%s: cannot open", path);
                return -1;
        }
        if (e->set_cnt == 32) {
                fclose(f);
                snprintf(err, errsz, "more than 32 sets");
                return -1;
        }
        e->set_name[e->set_cnt++] = spec;
        size_t before = e->n;
        char *line = NULL, *cols[6];
        size_t cap = 0;
        ssize_t len;
        int rc = 0;
        sc_buf_t rec = SC_BUF_INIT, acc = SC_BUF_INIT;
        if (!strcmp(fmt, "tsv")) {
                rc = read_tsv(e, f, path, &line, &cap, err, errsz);
        } else if (!strcmp(fmt, "labels")) {
                rc = read_labels(e, &f, labels_path, lang_opt, &line, &cap, err, errsz);
        } else if (!strcmp(fmt, "semeval")) {
                read_semeval(e, f, &line, &cap);
        } else if (!strcmp(fmt, "pol")) {
                read_pol(e, f, &line, &cap, &acc);
        } else if (!strcmp(fmt, "complaints")) {
                /* id,text,label,domain; 1 = complaint */
                int first = 1;
                while (!rc && csv_record(f, &rec, cols, 4) >= 3) {
                        if (first && !(first = 0) && !strcmp(cols[2], "label"))
                                continue;
                        unsigned p = !strcmp(cols[2], "1") ? C_ : 0;
                        ex_add(e, cols[1], strlen(cols[1]), 1, neg_of(e, p),
                               C_ | not_neg(e, p), p);
                }
        } else if (!strcmp(fmt, "bitext")) {
                /* ...,instruction,intent,... (columns 3 and 4) */
                int first = 1;
                while (!rc && csv_record(f, &rec, cols, 5) >= 4) {
                        if (first && !(first = 0) && !strcmp(cols[3], "intent"))
                                continue;
                        const catmap_t *m = catmap_find(bitext_map, cols[3]);
                        unsigned unknown = BITEXT_UNKNOWN | (m ? m->unknown : 0);
                        ex_add(e, cols[2], strlen(cols[2]), 1, neg_of(e, m ? m->pos : 0),
                               (ALL_INTENTS & ~unknown) | not_neg(e, m ? m->pos : 0),
                               m ? m->pos : 0);
                }
        } else if (!strcmp(fmt, "banking77")) {
                int first = 1;
                while (!rc && csv_record(f, &rec, cols, 2) >= 2) {
                        if (first && !(first = 0) && !strcmp(cols[1], "category"))
                                continue;
                        const catmap_t *m = catmap_find(banking_map, cols[1]);
                        unsigned unknown = BANKING_UNKNOWN | (m ? m->unknown : 0);
                        ex_add(e, cols[0], strlen(cols[0]), 1, neg_of(e, m ? m->pos : 0),
                               (ALL_INTENTS & ~unknown) | not_neg(e, m ? m->pos : 0),
                               m ? m->pos : 0);
                }
        } else if (!strcmp(fmt, "sms")) {
                while (!rc && (len = getline(&line, &cap, f)) > 0) {
                        chomp(line, &len);
                        if (split_tabs(line, cols, 2) < 2)
                                continue;
                        unsigned p = !strcmp(cols[0], "spam") ? BIT(SC_INTENT_SPAM) : 0;
                        ex_add(e, cols[1], strlen(cols[1]), 1, -1, BIT(SC_INTENT_SPAM),
                               p);
                }
        } else if (!strcmp(fmt, "vader")) {
                /* id<TAB>mean rating -4..4<TAB>text: English */
                while (!rc && (len = getline(&line, &cap, f)) > 0) {
                        chomp(line, &len);
                        if (split_tabs(line, cols, 3) < 3)
                                continue;
                        double m = atof(cols[1]);
                        int s = m > band ? 2 : m < -band ? 0 : 1;
                        ex_add(e, cols[2], strlen(cols[2]), 1, s, 0, 0);
                }
        } else {
                snprintf(err, errsz, "%s: unknown format '%s'", spec, fmt);
                rc = -1;
        }
        free(line);
        sc_buf_free(&rec);
        sc_buf_free(&acc);
        if (f)
                fclose(f);
        if (!rc && e->n == before) {
                snprintf(err, errsz, "%s: no examples", spec);
                rc = -1;
        }
        return rc;
}

/* ---- figures -------------------------------------------------------------- */

typedef struct figs_s {
        long conf[3][3]; /* [gold][predicted] */
        long tp[SC_INTENT_CNT], fp[SC_INTENT_CNT], fn[SC_INTENT_CNT], tn[SC_INTENT_CNT];
        long n_sent, n_int[SC_INTENT_CNT];
        /* calibration: expected calibration error over 10 bins */
        double cal_p[SC_MODEL_OUT][10], cal_y[SC_MODEL_OUT][10];
        long cal_n[SC_MODEL_OUT][10];
        int calibrated;
} figs_t;

static void figs_sent(figs_t *g, int gold, int pred)
{
        g->conf[gold][pred]++;
        g->n_sent++;
}

static void figs_intent(figs_t *g, int k, int gold, int pred)
{
        g->tp[k] += gold && pred;
        g->fp[k] += !gold && pred;
        g->fn[k] += gold && !pred;
        g->tn[k] += !gold && !pred;
        g->n_int[k]++;
}

static void figs_cal(figs_t *g, int o, double p, int y)
{
        int b = (int)(p * 10);
        if (b > 9)
                b = 9;
        g->cal_p[o][b] += p;
        g->cal_y[o][b] += y;
        g->cal_n[o][b]++;
        g->calibrated = 1;
}

static double ece(const figs_t *g, int o)
{
        double e = 0;
        long n = 0;
        for (int b = 0; b < 10; b++)
                n += g->cal_n[o][b];
        for (int b = 0; b < 10 && n; b++)
                if (g->cal_n[o][b])
                        e += fabs(g->cal_p[o][b] - g->cal_y[o][b]) / (double)n;
        return e;
}

static double f1(double p, double r)
{
        return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

static void figs_print(const figs_t *g, const char *name)
{
        if (g->n_sent) {
                long right = 0;
                double f1sum = 0, rsum = 0;
                int classes = 0;
                printf("== %s: %ld posts\n", name, g->n_sent);
                printf("sentiment per class (P / R / F1 / gold count):\n");
                for (int i = 0; i < 3; i++) {
                        long tp = g->conf[i][i], gold = 0, pred = 0;
                        for (int j = 0; j < 3; j++) {
                                gold += g->conf[i][j];
                                pred += g->conf[j][i];
                        }
                        double p = pred ? (double)tp / pred : 0,
                               r = gold ? (double)tp / gold : 0;
                        printf("  %-9s %.3f / %.3f / %.3f / %ld\n", sent_names[i], p, r,
                               f1(p, r), gold);
                        /* macro over the classes the set has (pol has no neutral) */
                        if (gold) {
                                f1sum += f1(p, r);
                                rsum += r;
                                classes++;
                        }
                        right += tp;
                }
                printf("sentiment: accuracy %.3f, macro-F1 %.3f, macro-recall %.3f\n",
                       (double)right / g->n_sent, f1sum / classes, rsum / classes);
                printf("confusion (rows gold, columns predicted): negative neutral "
                       "positive\n");
                for (int i = 0; i < 3; i++)
                        printf("  %-9s %7ld %7ld %7ld\n", sent_names[i], g->conf[i][0],
                               g->conf[i][1], g->conf[i][2]);
        } else
                printf("== %s\n", name);
        int any = 0;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                any |= g->n_int[k] > 0;
        if (!any)
                goto cal;
        double fsum = 0;
        long stp = 0, sfp = 0, sfn = 0;
        int counted = 0;
        printf("intents (P / R / F1 / gold count / labelled):\n");
        for (int k = 0; k < SC_INTENT_CNT; k++) {
                if (!g->n_int[k])
                        continue;
                long tp = g->tp[k], fp = g->fp[k], fn = g->fn[k];
                double p = tp + fp ? (double)tp / (tp + fp) : 0;
                double r = tp + fn ? (double)tp / (tp + fn) : 0;
                printf("  %-16s %.3f / %.3f / %.3f / %ld / %ld\n", sc_intent_name(k), p,
                       r, f1(p, r), tp + fn, g->n_int[k]);
                if (tp + fn) {
                        fsum += f1(p, r);
                        counted++;
                }
                stp += tp;
                sfp += fp;
                sfn += fn;
        }
        double mp = stp + sfp ? (double)stp / (stp + sfp) : 0;
        double mr = stp + sfn ? (double)stp / (stp + sfn) : 0;
        printf("intents macro-F1 %.3f, micro-F1 %.3f\n", counted ? fsum / counted : 0,
               f1(mp, mr));
cal:
        if (!g->calibrated)
                return;
        printf("calibration (expected calibration error, 10 bins):");
        static const char *const on[SC_MODEL_OUT] = {
            "negative", "neutral",  "positive", "complaint", "question",
            "praise",   "purchase", "churn",    "crisis",    "spam"};
        for (int o = 0; o < SC_MODEL_OUT; o++) {
                long n = 0;
                for (int b = 0; b < 10; b++)
                        n += g->cal_n[o][b];
                if (n)
                        printf(" %s %.3f", on[o], ece(g, o));
        }
        printf("\n");
}

/* ---- shared loading ------------------------------------------------------ */

static const char *env_or(const char *name, const char *dflt)
{
        const char *v = getenv(name);
        return v && *v ? v : dflt;
}

sc_classifier_t *sc_ctl_load_classifier(const char *dir, const char *model,
                                        int rules_only);

/* The rules from dir, plus the model unless rules_only (the shipped one
 * when model is NULL; a missing shipped model is reported and skipped). */
sc_classifier_t *sc_ctl_load_classifier(const char *dir, const char *model,
                                        int rules_only)
{
        char err[512];
        if (!dir)
                dir =
                    env_or("SOCIALCARE_CLASSIFY_DATA_DIR", SC_CLASSIFY_DEFAULT_DATA_DIR);
        sc_classifier_t *c = sc_classifier_load(dir, err, sizeof(err));
        if (!c) {
                fprintf(stderr, "classify: %s\n", err);
                return NULL;
        }
        if (rules_only)
                return c;
        int explicit = model != NULL;
        if (!model)
                model = env_or("SOCIALCARE_CLASSIFY_MODEL", SC_CLASSIFY_DEFAULT_MODEL);
        if (sc_classifier_load_model(c, model, err, sizeof(err))) {
                fprintf(stderr, "classify: %s%s\n", err, explicit ? "" : " (rules only)");
                if (explicit) {
                        sc_classifier_destroy(c);
                        return NULL;
                }
        }
        return c;
}

/* ---- eval ----------------------------------------------------------------- */

static const char *eval_usage =
    "Usage: socialcarectl eval [--model FILE | --rules] [--data DIR] [--lang pl|en]\n"
    "                          [--format tsv|vader] [--band 0.5] [-v] SET...\n"
    "SET is FORMAT:PATH (formats as in `socialcarectl train --help`) or a PATH read\n"
    "with --format (tsv: lang<TAB>sentiment<TAB>intents<TAB>text, as\n"
    "tests/classify/posts.tsv; vader: id<TAB>mean rating<TAB>text, gold positive\n"
    "above +band, negative below -band). Prints per-class P/R/F1, accuracy,\n"
    "macro-F1, macro-recall and the confusion matrix for sentiment, and per-intent\n"
    "P/R/F1 where the set labels intents. The shipped model is used unless --rules\n"
    "(the rule engine alone) or --model. --lang is a language hint for sets\n"
    "without one (the tsv set's language is gold, not a hint). -v lists misses.\n";

int sc_ctl_eval_main(int argc, char **argv)
{
        const char *dir = NULL, *format = "tsv", *lang = NULL, *model = NULL;
        double band = 0.5;
        int c, verbose = 0, rules = 0;
        static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                             {"format", required_argument, 0, 'f'},
                                             {"lang", required_argument, 0, 'l'},
                                             {"band", required_argument, 0, 'b'},
                                             {"model", required_argument, 0, 'm'},
                                             {"rules", no_argument, 0, 'r'},
                                             {"verbose", no_argument, 0, 'v'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        while ((c = getopt_long(argc, argv, "d:f:l:b:m:rvh", opts, NULL)) != -1) {
                if (c == 'd')
                        dir = optarg;
                else if (c == 'f')
                        format = optarg;
                else if (c == 'l')
                        lang = optarg;
                else if (c == 'b')
                        band = atof(optarg);
                else if (c == 'm')
                        model = optarg;
                else if (c == 'r')
                        rules = 1;
                else if (c == 'v')
                        verbose = 1;
                else {
                        fputs(eval_usage, c == 'h' ? stdout : stderr);
                        return c == 'h' ? 0 : 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "eval: no input file (see --help)\n");
                return 2;
        }
        sc_classifier_t *cls = sc_ctl_load_classifier(dir, model, rules);
        if (!cls)
                return 1;
        printf("classifier %s\n", sc_classifier_version(cls));
        sc_classify_t *cl = sc_classify_new(10000);
        int rc = 0;
        for (int fi = optind; fi < argc && !rc; fi++) {
                char spec[4200], err[512] = "";
                if (strchr(argv[fi], ':') && strncmp(argv[fi], "/", 1) &&
                    strncmp(argv[fi], ".", 1))
                        snprintf(spec, sizeof(spec), "%s", argv[fi]);
                else
                        snprintf(spec, sizeof(spec), "%s:%s", format, argv[fi]);
                exs_t e = {0};
                if (read_set(&e, spec, band, err, sizeof(err))) {
                        fprintf(stderr, "eval: %s\n", err);
                        exs_free(&e);
                        rc = 1;
                        break;
                }
                int tsv = !strncmp(spec, "tsv:", 4);
                figs_t g;
                memset(&g, 0, sizeof(g));
                for (size_t i = 0; i < e.n; i++) {
                        const ex_t *x = &e.v[i];
                        sc_classification_t r;
                        if (sc_classify_text(cl, cls, x->text, strlen(x->text),
                                             tsv ? NULL : lang, &r, NULL))
                                continue;
                        int pred = sent_index(r.label);
                        if (x->sentiment >= 0)
                                figs_sent(&g, x->sentiment, pred);
                        for (int k = 0; k < SC_INTENT_CNT; k++)
                                if (x->known & BIT(k))
                                        figs_intent(&g, k, (x->pos >> k) & 1,
                                                    (r.intent_mask >> k) & 1);
                        if (verbose && ((x->sentiment >= 0 && pred != x->sentiment) ||
                                        ((r.intent_mask ^ x->pos) & x->known)))
                                printf("miss: gold %s pred %s %.2f intents %#x/%#x: %s\n",
                                       x->sentiment >= 0 ? sent_names[x->sentiment] : "?",
                                       r.label, r.score, x->pos, r.intent_mask, x->text);
                }
                figs_print(&g, argv[fi]);
                exs_free(&e);
        }
        sc_classify_destroy(cl);
        sc_classifier_destroy(cls);
        return rc;
}

/* ---- train ---------------------------------------------------------------- */

static void quiet(const char *s)
{
        (void)s;
}

typedef struct inst_s {
        struct feature_node *x; /* into the node pool */
} inst_t;

/* Deterministic PRNG for the folds (the platform's rand() is not ours). */
static uint64_t rng_next(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static double dot(const double *w, const struct feature_node *x)
{
        double s = 0;
        for (; x->index != -1; x++)
                s += w[x->index - 1] * x->value;
        return s;
}

/* Trains one binary LR on the rows in idx (y +1/-1); w gets n weights
 * oriented so that a positive decision means y = +1. */
static int train_one(struct feature_node **xs, const double *ys, const size_t *idx,
                     size_t cnt, int n, double C, unsigned seed, double *w)
{
        struct problem prob = {.l = (int)cnt, .n = n, .bias = 1};
        prob.y = sc_malloc(cnt * sizeof(double));
        prob.x = sc_malloc(cnt * sizeof(*prob.x));
        int pos = 0, neg = 0;
        for (size_t i = 0; i < cnt; i++) {
                prob.y[i] = ys[idx[i]];
                prob.x[i] = xs[idx[i]];
                pos += ys[idx[i]] > 0;
                neg += ys[idx[i]] < 0;
        }
        memset(w, 0, (size_t)n * sizeof(double));
        if (!pos || !neg) { /* one class only: a constant */
                w[n - 1] = pos ? 4 : -4;
                free(prob.y);
                free(prob.x);
                return 0;
        }
        struct parameter par = {.solver_type = L2R_LR_DUAL, .eps = 0.1, .C = C};
        srand(seed);
        struct model *m = train(&prob, &par);
        free(prob.y);
        free(prob.x);
        if (!m)
                return -1;
        double sign = m->label[0] > 0 ? 1 : -1;
        for (int i = 0; i < n && i < m->nr_feature + 1; i++)
                w[i] = sign * m->w[i];
        free_and_destroy_model(&m);
        return 0;
}

/* Platt scaling on out-of-fold decision values: a, b minimising the log
 * loss of sigmoid(a * s + b), by Newton's method (Platt 1999, with the
 * smoothed targets of Lin, Lin & Weng 2007). */
static void platt(const double *s, const double *y, size_t n, double *pa, double *pb)
{
        double np = 0, nn = 0;
        for (size_t i = 0; i < n; i++)
                if (y[i] > 0)
                        np++;
                else
                        nn++;
        double hi = (np + 1) / (np + 2), lo = 1 / (nn + 2), a = 1, b = 0;
        for (int it = 0; it < 100; it++) {
                double g1 = 0, g2 = 0, h11 = 1e-9, h22 = 1e-9, h21 = 0;
                for (size_t i = 0; i < n; i++) {
                        double t = y[i] > 0 ? hi : lo;
                        double p = 1 / (1 + exp(-(a * s[i] + b)));
                        double d = p - t, q = p * (1 - p);
                        g1 += d * s[i];
                        g2 += d;
                        h11 += q * s[i] * s[i];
                        h22 += q;
                        h21 += q * s[i];
                }
                double det = h11 * h22 - h21 * h21;
                if (fabs(det) < 1e-12)
                        break;
                double da = (h22 * g1 - h21 * g2) / det, db = (h11 * g2 - h21 * g1) / det;
                a -= da;
                b -= db;
                if (fabs(da) < 1e-7 && fabs(db) < 1e-7)
                        break;
        }
        *pa = a;
        *pb = b;
}

/* Whether sets a and b have one format (FORMAT[+neg][@W] before the ':'). */
static int same_format(const exs_t *e, int a, int b)
{
        size_t na = strcspn(e->set_name[a], ":"), nb = strcspn(e->set_name[b], ":");
        return na == nb && !strncmp(e->set_name[a], e->set_name[b], na);
}

/* Whether set s is the first of two or more sets of its format. */
static int format_head(const exs_t *e, int s)
{
        int later = 0;
        for (int t = 0; t < e->set_cnt; t++)
                if (t != s && same_format(e, s, t)) {
                        if (t < s)
                                return 0;
                        later = 1;
                }
        return later;
}

/* The out-of-fold calibrated log-odds of every distinct example, for tuning
 * and checking outside the trainer: lang set sentiment known pos z0..z9
 * (nan where the output was not trained or the example does not know it),
 * then what the decision takes from the rules (irony, neg_cue, the rules'
 * complaint) and the three sentiment log-odds of every example (nan where
 * not trained), labelled or not. */
static int write_oof(const char *path, const exs_t *e, const double *oofz,
                     const sc_model_spec_t *spec, const sc_classification_t *rules)
{
        FILE *f = fopen(path, "w");
        if (!f)
                return -1;
        fprintf(f,
                "# lang set sentiment known pos z[%d] irony neg_cue rule_complaint "
                "zs[3]\n",
                SC_MODEL_OUT);
        for (size_t i = 0; i < e->n; i++) {
                const ex_t *x = &e->v[i];
                if (i && x->group == e->v[i - 1].group)
                        continue;
                fprintf(f, "%d %d %d %u %u", x->lang, x->set, x->sentiment, x->known,
                        x->pos);
                for (int o = 0; o < SC_MODEL_OUT; o++) {
                        unsigned need = o == SC_OUT_NEG ? SENT_KNOWN | NOT_NEG_KNOWN
                                        : o < 3         ? SENT_KNOWN
                                                        : BIT(o - 3);
                        if (spec->out[x->lang][o].present && (x->known & need))
                                fprintf(f, " %.5f", oofz[(size_t)o * e->n + i]);
                        else
                                fprintf(f, " nan");
                }
                const sc_classification_t *r = &rules[i];
                fprintf(f, " %d %d %.4f", r->irony, r->neg_cue,
                        r->intent[SC_INTENT_COMPLAINT]);
                for (int o = 0; o < 3; o++)
                        if (spec->out[x->lang][o].present)
                                fprintf(f, " %.5f", oofz[(size_t)o * e->n + i]);
                        else
                                fprintf(f, " nan");
                fputc('\n', f);
        }
        return fclose(f) ? -1 : 0;
}

/* --shift LANG:OUTPUT=D: D added to an output's calibrated log-odds (its
 * Platt b), moving the decision: the label is the most probable sentiment
 * and an intent is reported at p >= 0.5, so a negative shift of neutral
 * calls fewer posts neutral. */
static int parse_shift(const char *arg, double shift[SC_MODEL_LANGS][SC_MODEL_OUT],
                       const char *const *out_names)
{
        char name[32];
        double d;
        int l = !strncmp(arg, "pl:", 3) ? 0 : !strncmp(arg, "en:", 3) ? 1 : -1;
        if (l < 0 || sscanf(arg + 3, "%31[a-z_]=%lf", name, &d) != 2 || !isfinite(d))
                return -1;
        for (int o = 0; o < SC_MODEL_OUT; o++)
                if (!strcmp(name, out_names[o])) {
                        shift[l][o] = d;
                        return 0;
                }
        return -1;
}

/* --lang-C LANG[:sentiment|:intents]=C: one language's C, for its three
 * sentiment models, its intent models, or both. */
static int parse_lang_C(const char *arg, double lang_C[SC_MODEL_LANGS][2])
{
        int l = !strncmp(arg, "pl", 2) ? 0 : !strncmp(arg, "en", 2) ? 1 : -1;
        const char *eq = strchr(arg, '=');
        if (l < 0 || !eq)
                return -1;
        size_t gl = (size_t)(eq - arg - 2);
        int lo = 0, hi = 1;
        if (gl == 10 && !strncmp(arg + 2, ":sentiment", 10))
                hi = 0;
        else if (gl == 8 && !strncmp(arg + 2, ":intents", 8))
                lo = 1;
        else if (gl)
                return -1;
        char *end;
        double v = strtod(eq + 1, &end);
        if (*end || !(v > 0) || !isfinite(v))
                return -1;
        for (int g = lo; g <= hi; g++)
                lang_C[l][g] = v;
        return 0;
}

static const char *train_usage =
    "Usage: socialcarectl train -o MODEL [--folds 5] [--seed 1] [-C 1] [--bits 18]\n"
    "                           [--data DIR] [--no-platt] [--shift LANG:OUTPUT=D]...\n"
    "                           [--lang-C pl|en[:sentiment|:intents]=C] [--oof FILE]\n"
    "                           SET...\n"
    "Trains, per language, the three sentiment models and one model per intent\n"
    "(L2-regularised logistic regression, LIBLINEAR dual solver) over hashed\n"
    "features and the rules' scores, cross-validates them (k folds, printing\n"
    "per-class P/R/F1, accuracy, macro-F1, macro-recall and the confusion matrix\n"
    "per language and per set), calibrates with Platt scaling on the\n"
    "out-of-fold scores, and writes MODEL (same sets and seed, same bytes).\n"
    "--shift adds D to an output's calibrated log-odds (the decision moves: the\n"
    "label is the most probable sentiment, an intent is reported at p >= 0.5);\n"
    "the figures printed are of the shifted outputs, decided as the worker\n"
    "decides (sc_classify_decide). --oof writes every example's out-of-fold\n"
    "log-odds and the rules' cues to FILE. --lang-C: one language's C (for\n"
    "its sentiment models, its intent models, or both).\n"
    "SET is FORMAT:PATH, or FORMAT@W:PATH to count each example W times (its\n"
    "copies stay in one fold); FORMAT+neg (complaints, bitext, banking77): the\n"
    "set's complaints are negative posts too, its other posts not negative:\n"
    "  tsv:F        lang<TAB>sentiment<TAB>intents<TAB>text (team format; ? = not\n"
    "               labelled, intents comma-separated or -)\n"
    "  labels:pl:L:T  the team's labels L (line<TAB>sentiment<TAB>intents) of the\n"
    "               lines of text file T\n"
    "  semeval:F    id<TAB>positive|neutral|negative<TAB>text (English sentiment)\n"
    "  pol:F        id<TAB>Positive|Negative<TAB>text (Polish sentiment)\n"
    "  complaints:F id,text,label,domain CSV (English complaint yes/no)\n"
    "  bitext:F     bitext customer-support CSV (intents mapped, see MODEL.md)\n"
    "  banking77:F  text,category CSV (intents mapped, see MODEL.md)\n"
    "  sms:F        ham|spam<TAB>text (English spam)\n"
    "  vader:F      id<TAB>mean rating<TAB>text (English sentiment, |mean|>0.5)\n";

/* what sc_ctl_train_main's steps share: the examples, the options and
 * the training buffers (owned by sc_ctl_train_main) */
typedef struct train_s {
        exs_t *e;
        sc_classify_t *cl;
        sc_classifier_t *cls;
        int folds, use_platt, nfeat;
        unsigned seed, bits;
        size_t buckets;
        double (*shift)[SC_MODEL_OUT];
        double (*lang_C)[2];
        const char *const *out_names;
        struct feature_node *pool, **xs;
        size_t pool_cap, pool_n, *start, *sub, *trn, tmp_cap;
        double *ys, *w, *oof_raw, *oofz;
        int *fold;
        unsigned char *rule_sent, *rule_mask;
        sc_classification_t *rules; /* the rules' reading, for the decision */
        float *(*wq)[SC_MODEL_OUT];
        uint32_t *tmp;
        sc_model_spec_t *spec;
} train_t;

static const char *const lang_names[2] = {"pl", "en"};

/* every example's LIBLINEAR row and what the rules alone say of it, then
 * the folds */
static void build_rows(train_t *t)
{
        exs_t *e = t->e;
        unsigned bits = t->bits, seed = t->seed;
        int folds = t->folds, nfeat = t->nfeat, rc = 0;
        size_t buckets = t->buckets, pool_cap = t->pool_cap, pool_n = t->pool_n;
        size_t tmp_cap = t->tmp_cap, *start = t->start, *sub = t->sub;
        struct feature_node *pool = t->pool, **xs = t->xs;
        uint32_t *tmp = t->tmp;
        unsigned char *rule_sent = t->rule_sent, *rule_mask = t->rule_mask;
        int *fold = t->fold;
        sc_classify_t *cl = t->cl;
        sc_classifier_t *cls = t->cls;
        for (size_t i = 0; i < e->n && !rc; i++) {
                const sc_feats_t *f;
                int lang;
                static const char *const hint[2] = {"pl", "en"};
                start[i] = pool_n;
                if (sc_classify_features(cl, cls, e->v[i].text, strlen(e->v[i].text),
                                         hint[e->v[i].lang], bits, 0, &lang, &f)) {
                        e->v[i].known = 0; /* not valid UTF-8: left out */
                        e->v[i].sentiment = -1;
                }
                size_t n = e->v[i].known ? f->n : 0;
                t->rules[i] = *sc_classify_rules_of_last(cl);
                rule_sent[i] = n ? (f->dense[SC_DENSE_LABEL_POS]   ? 2
                                    : f->dense[SC_DENSE_LABEL_NEG] ? 0
                                                                   : 1)
                                 : 1;
                rule_mask[i] = 0;
                for (int k = 0; n && k < SC_INTENT_CNT; k++)
                        if (f->dense[SC_DENSE_INTENT + k] >= 0.5f)
                                rule_mask[i] |= (unsigned char)BIT(k);
                SC_GROW(tmp, tmp_cap, n);
                SC_GROW(pool, pool_cap, pool_n + n + SC_DENSE_USED + 2);
                if (n) {
                        memcpy(tmp, f->idx, n * sizeof(*tmp));
                        qsort(tmp, n, sizeof(*tmp), cmp_u32);
                        double v = 1.0 / sqrt((double)n);
                        for (size_t j = 0; j < n; j++) {
                                if (j && tmp[j] == tmp[j - 1]) {
                                        pool[pool_n - 1].value += v;
                                        continue;
                                }
                                pool[pool_n].index = (int)tmp[j] + 1;
                                pool[pool_n++].value = v;
                        }
                        for (int k = 0; k < SC_DENSE_USED; k++)
                                if (f->dense[k] != 0) {
                                        pool[pool_n].index = (int)buckets + 1 + k;
                                        pool[pool_n++].value = f->dense[k];
                                }
                }
                pool[pool_n].index = nfeat;
                pool[pool_n++].value = 1;
                pool[pool_n].index = -1;
                pool[pool_n++].value = 0;
        }
        for (size_t i = 0; i < e->n && !rc; i++)
                xs[i] = pool + start[i];
        /* folds: a seeded shuffle dealt round-robin, the same for every model
         * so that the three sentiment models' out-of-fold scores line up */
        uint64_t st = 0x9E3779B97F4A7C15ULL ^ seed;
        size_t *gfold = rc ? NULL : sc_calloc(e->groups + 1, sizeof(*gfold));
        for (size_t i = 0; i < e->groups && !rc; i++)
                gfold[i] = i;
        for (size_t i = e->groups; i > 1 && !rc; i--) {
                size_t j = (size_t)(rng_next(&st) % i), t = gfold[i - 1];
                gfold[i - 1] = gfold[j];
                gfold[j] = t;
        }
        for (size_t i = 0; i < e->groups && !rc; i++)
                sub[gfold[i]] = folds ? i % (size_t)folds : 0;
        for (size_t i = 0; i < e->n && !rc; i++)
                fold[i] = (int)sub[e->v[i].group];
        free(gfold);
        t->pool = pool;
        t->pool_cap = pool_cap;
        t->pool_n = pool_n;
        t->tmp = tmp;
        t->tmp_cap = tmp_cap;
}

/* trains output o of language l (cross-validated, then on all its
 * examples) into t->spec; 0, or what train_one returned */
static int train_output(train_t *t, int l, int o)
{
        const exs_t *e = t->e;
        int folds = t->folds, use_platt = t->use_platt, nfeat = t->nfeat, rc = 0;
        unsigned seed = t->seed;
        size_t buckets = t->buckets, *sub = t->sub, *trn = t->trn;
        double *ys = t->ys, *w = t->w, *oof_raw = t->oof_raw, *oofz = t->oofz;
        double(*shift)[SC_MODEL_OUT] = t->shift, (*lang_C)[2] = t->lang_C;
        const char *const *out_names = t->out_names;
        struct feature_node **xs = t->xs;
        const int *fold = t->fold;
        float *(*wq)[SC_MODEL_OUT] = t->wq;
        sc_model_spec_t *spec = t->spec;
        unsigned need = o == SC_OUT_NEG ? SENT_KNOWN | NOT_NEG_KNOWN
                        : o < 3         ? SENT_KNOWN
                                        : BIT(o - 3);
        size_t cnt = 0, npos = 0, dcnt = 0, dpos = 0;
        for (size_t i = 0; i < e->n; i++) {
                const ex_t *x = &e->v[i];
                if (x->lang != l || !(x->known & need))
                        continue;
                int yes = o < 3 ? x->sentiment == o : (x->pos & need) != 0;
                ys[i] = yes ? 1 : -1;
                npos += yes;
                sub[cnt++] = i;
                if (!i || x->group != e->v[i - 1].group) {
                        dcnt++; /* distinct examples, not copies */
                        dpos += yes;
                }
        }
        if (dcnt < MIN_LABELLED || dpos < MIN_POSITIVE || dcnt - dpos < MIN_POSITIVE) {
                printf("%s %s: %zu labelled, %zu positive: not trained "
                       "(the rules decide)\n",
                       lang_names[l], out_names[o], dcnt, dpos);
                fflush(stdout);
                return 0;
        }
        double a = 1, b = 0;
        if (folds) {
                for (int k = 0; k < folds && !rc; k++) {
                        size_t nt = 0;
                        for (size_t i = 0; i < cnt; i++)
                                if (fold[sub[i]] != k)
                                        trn[nt++] = sub[i];
                        rc = train_one(xs, ys, trn, nt, nfeat, lang_C[l][o >= 3],
                                       seed + (unsigned)k, w);
                        for (size_t i = 0; i < cnt && !rc; i++)
                                if (fold[sub[i]] == k)
                                        oof_raw[sub[i]] = dot(w, xs[sub[i]]);
                        /* the examples this output has no label for are
                         * scored too (by a model that never saw them), as
                         * the worker scores every post: the decision reads
                         * the sentiment with the intents */
                        for (size_t i = 0; i < e->n && !rc; i++)
                                if (e->v[i].lang == l && !(e->v[i].known & need) &&
                                    fold[i] == k)
                                        oof_raw[i] = dot(w, xs[i]);
                }
                double *sv = sc_malloc(cnt * sizeof(double)),
                       *yv = sc_malloc(cnt * sizeof(double));
                for (size_t i = 0; i < cnt && !rc; i++) {
                        sv[i] = oof_raw[sub[i]];
                        yv[i] = ys[sub[i]];
                }
                if (!rc && use_platt)
                        platt(sv, yv, cnt, &a, &b);
                for (size_t i = 0; i < e->n && !rc; i++)
                        if (e->v[i].lang == l)
                                oofz[(size_t)o * e->n + i] =
                                    a * oof_raw[i] + b + shift[l][o];
                free(sv);
                free(yv);
        }
        if (!rc)
                rc = train_one(xs, ys, sub, cnt, nfeat, lang_C[l][o >= 3], seed, w);
        if (rc)
                return rc;
        wq[l][o] = sc_malloc(buckets * sizeof(float));
        for (size_t i = 0; i < buckets; i++)
                wq[l][o][i] = (float)w[i];
        sc_model_out_t *u = &spec->out[l][o];
        u->present = 1;
        u->n_train = (uint32_t)cnt;
        u->w = wq[l][o];
        for (int k = 0; k < SC_DENSE_USED; k++)
                u->dense[k] = (float)w[buckets + (size_t)k];
        u->bias = (float)w[nfeat - 1];
        u->platt_a = (float)a;
        u->platt_b = (float)(b + shift[l][o]);
        printf("%s %s: %zu labelled, %zu positive (%zu, %zu with weights), "
               "Platt a %.3f b %.3f",
               lang_names[l], out_names[o], dcnt, dpos, cnt, npos, a, b);
        if (shift[l][o] != 0)
                printf(", decision shift %+.2f", shift[l][o]);
        printf("\n");
        fflush(stdout);
        return 0;
}

/* language l's cross-validated figures, overall and per set, and the
 * rules' alone */
static void print_cv(const train_t *t, int l)
{
        const exs_t *e = t->e;
        int folds = t->folds;
        const double *oofz = t->oofz;
        const unsigned char *rule_sent = t->rule_sent, *rule_mask = t->rule_mask;
        const sc_model_spec_t *spec = t->spec;
        unsigned present = 0;
        for (int o = 0; o < SC_MODEL_OUT; o++)
                present |= spec->out[l][o].present ? 1u << o : 0;
        /* every example's out-of-fold log-odds side by side, as the worker
         * has them */
        double *z = sc_malloc(e->n * SC_MODEL_OUT * sizeof(*z) + 1);
        for (size_t i = 0; i < e->n; i++)
                for (int o = 0; o < SC_MODEL_OUT; o++)
                        z[i * SC_MODEL_OUT + o] = oofz[(size_t)o * e->n + i];
        /* cross-validated figures for this language, overall and per set */
        for (int set = -1; set < 2 * e->set_cnt; set++) {
                /* past the sets: all the sets of one format together */
                int grp = set >= e->set_cnt ? set - e->set_cnt : -1;
                if (grp >= 0 && !format_head(e, grp))
                        continue;
                figs_t g;
                memset(&g, 0, sizeof(g));
                /* sentiment from the classes that were trained (a set
                 * without neutral examples decides between the other two) */
                int sent_ok = spec->out[l][0].present + spec->out[l][1].present +
                                  spec->out[l][2].present >=
                              2;
                for (size_t i = 0; i < e->n; i++) {
                        const ex_t *x = &e->v[i];
                        if (x->lang != l ||
                            (set >= 0 &&
                             (grp >= 0 ? !same_format(e, x->set, grp) : x->set != set)) ||
                            (i && x->group == e->v[i - 1].group))
                                continue; /* weighted copies count once */
                        /* the product's decision on the out-of-fold scores */
                        sc_classification_t r = t->rules[i];
                        const double *zi = z + i * SC_MODEL_OUT;
                        int best = sc_classify_decide(present, zi, &r, NULL);
                        if (sent_ok && x->sentiment >= 0) {
                                for (int k = 0; k < 3 && set < 0; k++)
                                        if (spec->out[l][k].present)
                                                figs_cal(&g, k, 1 / (1 + exp(-zi[k])),
                                                         x->sentiment == k);
                                figs_sent(&g, x->sentiment, best);
                        }
                        for (int k = 0; k < SC_INTENT_CNT; k++) {
                                int o = SC_OUT_INTENT + k;
                                if (!(x->known & BIT(k)) || !spec->out[l][o].present)
                                        continue;
                                double p = 1 / (1 + exp(-zi[o]));
                                int gold = (x->pos >> k) & 1;
                                figs_intent(&g, k, gold, (r.intent_mask >> k) & 1);
                                if (set < 0)
                                        figs_cal(&g, o, p, gold);
                        }
                }
                if (!g.n_sent && !g.n_int[0] && !g.n_int[1] && !g.n_int[2] &&
                    !g.n_int[3] && !g.n_int[4] && !g.n_int[5] && !g.n_int[6])
                        continue;
                char name[600];
                if (grp >= 0)
                        snprintf(name, sizeof(name), "cv %s %.*s:* (%d folds)",
                                 lang_names[l], (int)strcspn(e->set_name[grp], ":"),
                                 e->set_name[grp], folds);
                else
                        snprintf(name, sizeof(name), "cv %s %s (%d folds)", lang_names[l],
                                 set < 0 ? "all sets" : e->set_name[set], folds);
                figs_print(&g, name);
                if (set >= 0)
                        continue;
                /* the rule engine on the same examples and labels */
                memset(&g, 0, sizeof(g));
                for (size_t i = 0; i < e->n; i++) {
                        const ex_t *x = &e->v[i];
                        if (x->lang != l || (i && x->group == e->v[i - 1].group))
                                continue;
                        if (x->sentiment >= 0)
                                figs_sent(&g, x->sentiment, rule_sent[i]);
                        for (int k = 0; k < SC_INTENT_CNT; k++)
                                if (x->known & BIT(k))
                                        figs_intent(&g, k, (x->pos >> k) & 1,
                                                    (rule_mask[i] >> k) & 1);
                }
                snprintf(name, sizeof(name), "rules alone %s all sets", lang_names[l]);
                figs_print(&g, name);
        }
        free(z);
}

/* what the command line asks of sc_ctl_train_main */
typedef struct train_args_s {
        const char *dir, *outp, *oofp;
        int folds, use_platt;
        unsigned seed, bits;
        double C;
        double shift[SC_MODEL_LANGS][SC_MODEL_OUT];
        double lang_C[SC_MODEL_LANGS][2]; /* [sentiment, intents]; 0: -C */
} train_args_t;

static const char *const out_names[SC_MODEL_OUT] = {
    "negative", "neutral",         "positive",   "complaint", "question",
    "praise",   "purchase_intent", "churn_risk", "crisis",    "spam"};

/* -1: go on and train, else the exit code */
static int parse_args(int argc, char **argv, train_args_t *a)
{
        int c;
        static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                             {"output", required_argument, 0, 'o'},
                                             {"folds", required_argument, 0, 'k'},
                                             {"seed", required_argument, 0, 's'},
                                             {"bits", required_argument, 0, 'B'},
                                             {"no-platt", no_argument, 0, 'P'},
                                             {"oof", required_argument, 0, 'O'},
                                             {"shift", required_argument, 0, 'S'},
                                             {"lang-C", required_argument, 0, 'L'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        while ((c = getopt_long(argc, argv, "d:o:k:s:C:B:Ph", opts, NULL)) != -1) {
                if (c == 'd')
                        a->dir = optarg;
                else if (c == 'o')
                        a->outp = optarg;
                else if (c == 'k')
                        a->folds = atoi(optarg);
                else if (c == 's')
                        a->seed = (unsigned)strtoul(optarg, NULL, 10);
                else if (c == 'C')
                        a->C = atof(optarg);
                else if (c == 'B')
                        a->bits = (unsigned)atoi(optarg);
                else if (c == 'P')
                        a->use_platt = 0;
                else if (c == 'O')
                        a->oofp = optarg;
                else if (c == 'L') {
                        if (parse_lang_C(optarg, a->lang_C)) {
                                fprintf(stderr,
                                        "train: --lang-C %s: want "
                                        "pl|en[:sentiment|:intents]=C\n",
                                        optarg);
                                return 2;
                        }
                } else if (c == 'S') {
                        if (parse_shift(optarg, a->shift, out_names)) {
                                fprintf(stderr,
                                        "train: --shift %s: want pl|en:OUTPUT=D\n",
                                        optarg);
                                return 2;
                        }
                } else {
                        fputs(train_usage, c == 'h' ? stdout : stderr);
                        return c == 'h' ? 0 : 2;
                }
        }
        if (!a->outp || optind >= argc || a->folds < 0 || a->folds == 1 || a->bits < 8 ||
            a->bits > 24 || a->C <= 0) {
                fputs(train_usage, stderr);
                return 2;
        }
        for (int l = 0; l < SC_MODEL_LANGS; l++)
                for (int g = 0; g < 2; g++)
                        if (a->lang_C[l][g] == 0)
                                a->lang_C[l][g] = a->C;
        return -1;
}

static void train_free(train_t *t)
{
        for (int l = 0; l < SC_MODEL_LANGS; l++)
                for (int o = 0; o < SC_MODEL_OUT; o++)
                        free(t->wq[l][o]);
        free(t->tmp);
        free(t->pool);
        free(t->start);
        free(t->xs);
        free(t->ys);
        free(t->w);
        free(t->oof_raw);
        free(t->oofz);
        free(t->fold);
        free(t->rule_sent);
        free(t->rule_mask);
        free(t->rules);
        free(t->sub);
        free(t->trn);
}

int sc_ctl_train_main(int argc, char **argv)
{
        train_args_t args = {
            .folds = 5, .use_platt = 1, .seed = 1, .bits = SC_MODEL_BITS, .C = 1};
        int prc = parse_args(argc, argv, &args);
        if (prc >= 0)
                return prc;
        const char *dir = args.dir, *outp = args.outp, *oofp = args.oofp;
        int folds = args.folds, use_platt = args.use_platt;
        unsigned seed = args.seed, bits = args.bits;
        double(*shift)[SC_MODEL_OUT] = args.shift, (*lang_C)[2] = args.lang_C;
        set_print_string_function(quiet);
        exs_t e = {0};
        char err[512] = "";
        for (int i = optind; i < argc; i++)
                if (read_set(&e, argv[i], 0.5, err, sizeof(err))) {
                        fprintf(stderr, "train: %s\n", err);
                        exs_free(&e);
                        return 1;
                }
        sc_classifier_t *cls = sc_ctl_load_classifier(dir, NULL, 1);
        if (!cls) {
                exs_free(&e);
                return 1;
        }
        sc_classify_t *cl = sc_classify_new(10000);
        /* features of every example, as LIBLINEAR rows: hashed buckets
         * (1-based), the dense rule features after them, then the bias */
        size_t buckets = (size_t)1 << bits;
        int nfeat = (int)buckets + SC_DENSE_USED + 1;
        size_t pool_cap = e.n * 64 + 1024, pool_n = 0;
        struct feature_node *pool = sc_malloc(pool_cap * sizeof(*pool));
        size_t *start = sc_malloc(e.n * sizeof(*start));
        struct feature_node **xs = sc_malloc(e.n * sizeof(*xs));
        double *ys = sc_malloc(e.n * sizeof(*ys)),
               *w = sc_malloc((size_t)nfeat * sizeof(*w));
        double *oof_raw = sc_malloc(e.n * sizeof(double));
        double *oofz = sc_malloc(SC_MODEL_OUT * e.n * sizeof(double));
        int *fold = sc_malloc(e.n * sizeof(*fold));
        /* what the rules alone say of each example, to compare with */
        unsigned char *rule_sent = sc_malloc(e.n), *rule_mask = sc_malloc(e.n);
        size_t *sub = sc_malloc(e.n * sizeof(*sub)), *trn = sc_malloc(e.n * sizeof(*trn));
        float *wq[SC_MODEL_LANGS][SC_MODEL_OUT] = {{0}};
        uint32_t *tmp = NULL;
        size_t tmp_cap = 0;
        int rc = 0;
        sc_model_spec_t spec;
        memset(&spec, 0, sizeof(spec));
        spec.bits = bits;
        train_t t = {.e = &e,
                     .cl = cl,
                     .cls = cls,
                     .folds = folds,
                     .use_platt = use_platt,
                     .nfeat = nfeat,
                     .seed = seed,
                     .bits = bits,
                     .buckets = buckets,
                     .shift = shift,
                     .lang_C = lang_C,
                     .out_names = out_names,
                     .pool = pool,
                     .xs = xs,
                     .pool_cap = pool_cap,
                     .pool_n = pool_n,
                     .start = start,
                     .sub = sub,
                     .trn = trn,
                     .tmp_cap = tmp_cap,
                     .ys = ys,
                     .w = w,
                     .oof_raw = oof_raw,
                     .oofz = oofz,
                     .fold = fold,
                     .rule_sent = rule_sent,
                     .rule_mask = rule_mask,
                     .rules = sc_calloc(e.n ? e.n : 1, sizeof(sc_classification_t)),
                     .wq = wq,
                     .tmp = tmp,
                     .spec = &spec};
        build_rows(&t);
        for (int l = 0; l < SC_MODEL_LANGS && !rc; l++) {
                for (int o = 0; o < SC_MODEL_OUT && !rc; o++)
                        rc = train_output(&t, l, o);
                if (rc || !folds)
                        continue;
                print_cv(&t, l);
        }
        if (!rc && folds && oofp && write_oof(oofp, &e, oofz, &spec, t.rules)) {
                fprintf(stderr, "train: %s: cannot write\n", oofp);
                rc = 1;
        }
        if (!rc && sc_model_write(&spec, outp, err, sizeof(err))) {
                fprintf(stderr, "train: %s\n", err);
                rc = 1;
        }
        if (!rc) {
                sc_model_t *m = sc_model_load(outp, err, sizeof(err));
                if (!m) {
                        fprintf(stderr, "train: written model does not load: %s\n", err);
                        rc = 1;
                } else {
                        printf("model %s: %s (%zu examples)\n", outp, sc_model_version(m),
                               e.n);
                        sc_model_destroy(m);
                }
        } else if (rc < 0) {
                fprintf(stderr, "train: out of memory or training failed\n");
                rc = 1;
        }
        train_free(&t);
        sc_classify_destroy(cl);
        sc_classifier_destroy(cls);
        exs_free(&e);
        return rc;
}
