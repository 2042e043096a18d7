/* socialcarectl stats: reply rate, first-response time and SLA figures read
 * from the tracker's Redis keys (docs/TRACKING.md), per brand and optionally
 * per platform or team, over a range of days (the brand's local days by
 * default). Medians are computed from every FRT value of the range. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_brands.h"
#include "sc_buf.h"
#include "sc_config.h"
#include "sc_redis.h"
#include "sc_rkey.h"
#include "sc_time.h"
#include "sc_track.h"

#define MAX_DAYS 3660

typedef struct vec_s {
        double *v;
        size_t n, cap;
} vec_t;

typedef struct group_s {
        char *name;
        int64_t c[SC_TRACK_CTR_CNT];
        vec_t frt, bfrt;
} group_t;

typedef struct brand_stats_s {
        char *brand;
        group_t all;
        group_t *groups;
        size_t group_cnt, group_cap;
} brand_stats_t;

static void vec_push(vec_t *v, double x)
{
        SC_PUSH(v->v, v->n, v->cap, x);
}

static group_t *group_of(brand_stats_t *b, const char *name, size_t len)
{
        for (size_t i = 0; i < b->group_cnt; i++)
                if (strlen(b->groups[i].name) == len &&
                    !memcmp(b->groups[i].name, name, len))
                        return &b->groups[i];
        SC_GROW(b->groups, b->group_cap, b->group_cnt + 1);
        group_t *g = &b->groups[b->group_cnt++];
        memset(g, 0, sizeof(*g));
        g->name = sc_strndup(name, len);
        return g;
}

static void group_free(group_t *g)
{
        free(g->name);
        free(g->frt.v);
        free(g->bfrt.v);
}

/* "platform|team|rest": the by-field (0 platform, 1 team) of s. */
static int split_group(const char *s, int by, const char **name, size_t *len)
{
        const char *a = strchr(s, '|');
        if (!a)
                return -1;
        if (by == 0) {
                *name = s;
                *len = (size_t)(a - s);
                return 0;
        }
        const char *b = strchr(a + 1, '|');
        if (!b)
                return -1;
        *name = a + 1;
        *len = (size_t)(b - a - 1);
        return 0;
}

static int parse_day(const char *s, int64_t *day)
{
        char buf[40];
        int64_t ms;
        if (strlen(s) != 10)
                return -1;
        snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
        if (sc_time_parse(buf, strlen(buf), &ms))
                return -1;
        *day = ms / 86400000;
        return 0;
}

static void fmt_dur(double s, char *out, size_t n)
{
        long long t = (long long)(s + 0.5);
        if (t < 60)
                snprintf(out, n, "%llds", t);
        else if (t < 3600)
                snprintf(out, n, "%lldm%02llds", t / 60, t % 60);
        else if (t < 86400)
                snprintf(out, n, "%lldh%02lldm", t / 3600, t % 3600 / 60);
        else
                snprintf(out, n, "%lldd%02lldh", t / 86400, t % 86400 / 3600);
}

typedef struct figures_s {
        double reply_rate, frt_median, frt_avg, bfrt_median, bfrt_avg;
        int has_rate;
} figures_t;

static figures_t figures(group_t *g)
{
        figures_t f = {0};
        const int64_t *c = g->c;
        f.has_rate = c[SC_TRACK_NEEDS_REPLY] > 0;
        f.reply_rate = f.has_rate
                           ? (double)c[SC_TRACK_REPLIED] / (double)c[SC_TRACK_NEEDS_REPLY]
                           : 0;
        f.frt_median = sc_track_median(g->frt.v, g->frt.n);
        f.bfrt_median = sc_track_median(g->bfrt.v, g->bfrt.n);
        f.frt_avg = c[SC_TRACK_REPLIED] ? (double)c[SC_TRACK_FRT_SUM_MS] / 1000.0 /
                                              (double)c[SC_TRACK_REPLIED]
                                        : 0;
        f.bfrt_avg = c[SC_TRACK_BFRT_N] ? (double)c[SC_TRACK_BFRT_SUM_MS] / 1000.0 /
                                              (double)c[SC_TRACK_BFRT_N]
                                        : 0;
        return f;
}

static void json_group(sc_buf_t *o, group_t *g, const char *by)
{
        figures_t f = figures(g);
        const int64_t *c = g->c;
        sc_buf_puts(o, "{");
        if (by) {
                sc_buf_printf(o, "\"%s\":", by);
                sc_buf_json_str(o, g->name, strlen(g->name));
                sc_buf_puts(o, ",");
        }
        sc_buf_printf(o,
                      "\"received\":%lld,\"needs_reply\":%lld,\"replied\":%lld,"
                      "\"reply_rate\":",
                      (long long)c[SC_TRACK_RECEIVED], (long long)c[SC_TRACK_NEEDS_REPLY],
                      (long long)c[SC_TRACK_REPLIED]);
        if (f.has_rate)
                sc_buf_printf(o, "%.6f", f.reply_rate);
        else
                sc_buf_puts(o, "null");
        sc_buf_printf(
            o,
            ",\"frt_median_s\":%.3f,\"frt_avg_s\":%.3f,"
            "\"frt_business_median_s\":%.3f,\"frt_business_avg_s\":%.3f,"
            "\"sla_hit\":%lld,\"sla_missed\":%lld,\"late\":%lld,\"pending\":%lld,"
            "\"with_due\":%lld,\"replied_no_need\":%lld,\"extra_replies\":%lld,"
            "\"orphan_replies\":%lld,\"histogram\":{",
            f.frt_median, f.frt_avg, f.bfrt_median, f.bfrt_avg,
            (long long)c[SC_TRACK_SLA_HIT], (long long)c[SC_TRACK_SLA_MISSED],
            (long long)c[SC_TRACK_LATE], (long long)c[SC_TRACK_PENDING],
            (long long)c[SC_TRACK_WITH_DUE], (long long)c[SC_TRACK_REPLIED_NO_NEED],
            (long long)c[SC_TRACK_EXTRA_REPLIES], (long long)c[SC_TRACK_ORPHAN_REPLIES]);
        for (int b = 0; b < 6; b++)
                sc_buf_printf(o, "%s\"%s\":%lld", b ? "," : "", sc_track_bucket_name(b),
                              (long long)c[SC_TRACK_FRT_B0 + b]);
        sc_buf_puts(o, "}}");
}

static void table_row(FILE *fp, const char *brand, group_t *g)
{
        figures_t f = figures(g);
        const int64_t *c = g->c;
        char rate[16], md[24], av[24], bm[24];
        if (f.has_rate)
                snprintf(rate, sizeof(rate), "%.1f%%", f.reply_rate * 100);
        else
                snprintf(rate, sizeof(rate), "-");
        fmt_dur(f.frt_median, md, sizeof(md));
        fmt_dur(f.frt_avg, av, sizeof(av));
        fmt_dur(f.bfrt_median, bm, sizeof(bm));
        fprintf(
            fp, "%-12s %-12s %8lld %8lld %8lld %7s %9s %9s %9s %7lld %7lld %5lld %7lld\n",
            brand, g->name ? g->name : "(all)", (long long)c[SC_TRACK_RECEIVED],
            (long long)c[SC_TRACK_NEEDS_REPLY], (long long)c[SC_TRACK_REPLIED], rate, md,
            av, bm, (long long)c[SC_TRACK_SLA_HIT], (long long)c[SC_TRACK_SLA_MISSED],
            (long long)c[SC_TRACK_LATE], (long long)c[SC_TRACK_PENDING]);
        fprintf(fp, "%-12s %-12s histogram:", "", "");
        for (int b = 0; b < 6; b++)
                fprintf(fp, " %s %lld%s", sc_track_bucket_name(b),
                        (long long)c[SC_TRACK_FRT_B0 + b], b < 5 ? " |" : "");
        fprintf(fp, "   (no need %lld, extra %lld, orphan %lld)\n",
                (long long)c[SC_TRACK_REPLIED_NO_NEED],
                (long long)c[SC_TRACK_EXTRA_REPLIES],
                (long long)c[SC_TRACK_ORPHAN_REPLIES]);
}

static void usage(FILE *fp)
{
        fprintf(
            fp,
            "Usage: socialcarectl stats [-c CONFIG] [--redis URL] [--brand B]\n"
            "         [--from YYYY-MM-DD --to YYYY-MM-DD] [--by platform|team]\n"
            "         [--tz local|utc] [--json]\n"
            "Reply rate, first-response time (median, average, business hours),\n"
            "histogram and SLA outcomes per brand, from the tracker's Redis keys.\n"
            "Days are the brand's local days (--tz local, default) or UTC days, by\n"
            "the inbound post's created_at. Default range: the last 7 days (UTC\n"
            "today included). Brands: --brand, else the config's brands plus every\n"
            "brand the tracker has seen (sc:brands). Config: -c, else\n"
            "$SOCIALCARE_CONFIG. Redis: --redis, else SOCIALCARE_REDIS_URL, else the\n"
            "config's redis.url.\n");
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct stats_opts_s {
        const char *url, *brand, *from, *to, *by, *cfg, *tz;
        int json;
} stats_opts_t;

/* -1 to go on, else the exit code. */
static int stats_args(int argc, char **argv, stats_opts_t *o)
{
        static const struct option longopts[] = {{"redis", required_argument, NULL, 'r'},
                                                 {"brand", required_argument, NULL, 'b'},
                                                 {"from", required_argument, NULL, 'f'},
                                                 {"to", required_argument, NULL, 't'},
                                                 {"by", required_argument, NULL, 'y'},
                                                 {"tz", required_argument, NULL, 'z'},
                                                 {"json", no_argument, NULL, 'j'},
                                                 {"config", required_argument, NULL, 'c'},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {NULL, 0, NULL, 0}};
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'r':
                        o->url = optarg;
                        break;
                case 'b':
                        o->brand = optarg;
                        break;
                case 'f':
                        o->from = optarg;
                        break;
                case 't':
                        o->to = optarg;
                        break;
                case 'y':
                        o->by = optarg;
                        break;
                case 'z':
                        o->tz = optarg;
                        break;
                case 'j':
                        o->json = 1;
                        break;
                case 'c':
                        o->cfg = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (o->by && strcmp(o->by, "platform") && strcmp(o->by, "team")) {
                fprintf(stderr, "stats: --by platform or --by team\n");
                return 2;
        }
        if (strcmp(o->tz, "local") && strcmp(o->tz, "utc")) {
                fprintf(stderr, "stats: --tz local or --tz utc\n");
                return 2;
        }
        return -1;
}

/* The brands to report into *names (sorted; the caller frees them): brand,
 * else the configured ones and those in sc:brands. */
static int brand_names(sc_redis_t *r, const sc_brands_t *brands, const char *brand,
                       const char *url, char ***namesp, size_t *name_cnt)
{
        redisReply **rep;
        size_t n;
        char **names;
        if (brand) {
                names = *namesp = sc_calloc(1, sizeof(*names));
                names[(*name_cnt)++] = sc_strdup(brand);
                return 0;
        }
        sc_redis_append(r, 2, (const char *[]){"SMEMBERS", SC_RKEY_BRANDS}, NULL);
        if (sc_redis_exec(r, &rep, &n) || n != 1) {
                fprintf(stderr, "stats: redis %s: %s\n", url, sc_redis_errstr(r));
                return -1;
        }
        size_t cap = (brands ? sc_brands_count(brands) : 0) + rep[0]->elements + 1;
        names = *namesp = sc_calloc(cap, sizeof(*names));
        for (size_t i = 0; brands && i < sc_brands_count(brands); i++)
                names[(*name_cnt)++] = sc_strdup(sc_brands_at(brands, i)->id);
        for (size_t i = 0; i < rep[0]->elements; i++) {
                const char *b = rep[0]->element[i]->str;
                int dup = 0;
                for (size_t j = 0; j < *name_cnt && !dup; j++)
                        dup = !strcmp(names[j], b);
                if (!dup)
                        names[(*name_cnt)++] = sc_strdup(b);
        }
        qsort(names, *name_cnt, sizeof(*names), cmp_str);
        return 0;
}

/* Per brand and day: its counters, its FRTs and its business FRTs. */
static void queue_reads(sc_redis_t *r, sc_redis_script_t *frt_read, char **names,
                        size_t name_cnt, int64_t d_from, int64_t d_to, char fam)
{
        for (size_t i = 0; i < name_cnt; i++)
                for (int64_t d = d_from; d <= d_to; d++) {
                        char day[16], key[600];
                        sc_time_format_day(d * 86400000LL, day);
                        sc_rkey_brand_s(key, sizeof(key), names[i], "d:%c:%s", fam, day);
                        sc_redis_append(r, 2, (const char *[]){"HGETALL", key}, NULL);
                        /* FRT values in either layout (an upgrade's old sorted sets). */
                        sc_rkey_brand_s(key, sizeof(key), names[i], "f:%c:%s", fam, day);
                        sc_redis_append_script(r, frt_read, 1, 1, (const char *[]){key},
                                               NULL);
                        sc_rkey_brand_s(key, sizeof(key), names[i], "bf:%c:%s", fam, day);
                        sc_redis_append_script(r, frt_read, 1, 1, (const char *[]){key},
                                               NULL);
                }
}

/* One day of brand b from its three replies (counters, FRTs, business FRTs);
 * byi: the group field (0 platform, 1 team) or -1. */
static void take_day(brand_stats_t *b, redisReply *const *rep, int byi)
{
        const redisReply *h = rep[0];
        for (size_t j = 0; h->type == REDIS_REPLY_ARRAY && j + 1 < h->elements; j += 2) {
                const char *f = h->element[j]->str;
                const char *cn = strrchr(f, '|');
                int ci = cn ? sc_track_counter_index(cn + 1, strlen(cn + 1)) : -1;
                if (ci < 0)
                        continue;
                int64_t v = strtoll(h->element[j + 1]->str, NULL, 10);
                b->all.c[ci] += v;
                const char *gn;
                size_t gl;
                if (byi >= 0 && !split_group(f, byi, &gn, &gl))
                        group_of(b, gn, gl)->c[ci] += v;
        }
        /* The bf hash holds only business FRTs that differ
         * from the FRT (a calendar other than 24x7): a
         * field of f missing from bf counts its FRT. */
        const redisReply *bz = rep[2];
        size_t bn = bz->type == REDIS_REPLY_ARRAY ? bz->elements / 2 : 0;
        const char **bm = bn ? sc_malloc(bn * sizeof(*bm)) : NULL;
        for (size_t j = 0; bm && j < bn; j++)
                bm[j] = bz->element[j * 2]->str;
        if (bm)
                qsort(bm, bn, sizeof(*bm), cmp_str);
        for (int z = 1; z <= 2; z++) {
                const redisReply *zr = rep[z];
                for (size_t j = 0; zr->type == REDIS_REPLY_ARRAY && j + 1 < zr->elements;
                     j += 2) {
                        const char *m = zr->element[j]->str;
                        /* FRT ms -> s */
                        double v = strtod(zr->element[j + 1]->str, NULL) / 1000;
                        int both =
                            z == 1 && !(bm && bsearch(&m, bm, bn, sizeof(*bm), cmp_str));
                        vec_push(z == 1 ? &b->all.frt : &b->all.bfrt, v);
                        if (both)
                                vec_push(&b->all.bfrt, v);
                        const char *gn;
                        size_t gl;
                        if (byi >= 0 && !split_group(m, byi, &gn, &gl)) {
                                group_t *g = group_of(b, gn, gl);
                                vec_push(z == 1 ? &g->frt : &g->bfrt, v);
                                if (both)
                                        vec_push(&g->bfrt, v);
                        }
                }
        }
        free(bm);
}

static void print_json(sc_buf_t *o, brand_stats_t *bs, size_t name_cnt, const char *dfrom,
                       const char *dto, const char *tz, const char *by)
{
        sc_buf_printf(o, "{\"from\":\"%s\",\"to\":\"%s\",\"tz\":\"%s\",\"brands\":[",
                      dfrom, dto, tz);
        for (size_t i = 0; i < name_cnt; i++) {
                sc_buf_printf(o, "%s{\"brand\":", i ? "," : "");
                sc_buf_json_str(o, bs[i].brand, strlen(bs[i].brand));
                sc_buf_puts(o, ",\"total\":");
                json_group(o, &bs[i].all, NULL);
                if (by) {
                        sc_buf_printf(o, ",\"by_%s\":[", by);
                        for (size_t g = 0; g < bs[i].group_cnt; g++) {
                                if (g)
                                        sc_buf_puts(o, ",");
                                json_group(o, &bs[i].groups[g], by);
                        }
                        sc_buf_puts(o, "]");
                }
                sc_buf_puts(o, "}");
        }
        sc_buf_puts(o, "]}\n");
        fputs(o->data, stdout);
}

static void print_table(brand_stats_t *bs, size_t name_cnt, const char *dfrom,
                        const char *dto, const char *tz, const char *by)
{
        printf("%s .. %s (%s days)\n", dfrom, dto, tz);
        printf("%-12s %-12s %8s %8s %8s %7s %9s %9s %9s %7s %7s %5s %7s\n", "brand",
               by ? by : "", "received", "need", "replied", "rate", "frt_med", "frt_avg",
               "bus_med", "sla_hit", "missed", "late", "pending");
        for (size_t i = 0; i < name_cnt; i++) {
                table_row(stdout, bs[i].brand, &bs[i].all);
                for (size_t g = 0; g < bs[i].group_cnt; g++)
                        table_row(stdout, "", &bs[i].groups[g]);
        }
}

int sc_ctl_stats_main(int argc, char **argv)
{
        stats_opts_t op = {.tz = "local"};
        int arc = stats_args(argc, argv, &op);
        if (arc >= 0)
                return arc;
        const char *url = op.url, *from = op.from, *to = op.to, *by = op.by;
        const char *cfg = op.cfg, *tz = op.tz;
        int64_t d_from, d_to, today = sc_now_ms() / 86400000;
        if ((from && parse_day(from, &d_from)) || (to && parse_day(to, &d_to))) {
                fprintf(stderr, "stats: dates are YYYY-MM-DD\n");
                return 2;
        }
        if (!to)
                d_to = from ? d_from + 6 : today;
        if (!from)
                d_from = d_to - 6;
        if (d_to < d_from || d_to - d_from >= MAX_DAYS) {
                fprintf(stderr,
                        "stats: --from must not be after --to (at most %d days)\n",
                        MAX_DAYS);
                return 2;
        }
        if (!cfg)
                cfg = getenv("SOCIALCARE_CONFIG");
        char errstr[512];
        sc_config_t *conf = sc_config_new("ctl", NULL);
        sc_brands_t *brands = NULL;
        if ((cfg && sc_config_load_file(conf, cfg, errstr, sizeof(errstr))) ||
            sc_config_load_env(conf, errstr, sizeof(errstr)) ||
            (cfg &&
             !(brands = sc_brands_new(sc_config_tree(conf), errstr, sizeof(errstr))))) {
                fprintf(stderr, "stats: %s\n", errstr);
                sc_config_destroy(conf);
                return 1;
        }
        if (!url)
                url = sc_config_str(conf, "redis.url");
        sc_redis_t *r = sc_redis_new(url, 5000, errstr, sizeof(errstr));
        if (!r) {
                fprintf(stderr, "stats: %s\n", errstr);
                sc_brands_destroy(brands);
                sc_config_destroy(conf);
                return 1;
        }
        sc_redis_script_t *frt_read = sc_redis_script(r, sc_track_frt_read_lua);
        if (frt_read)
                sc_redis_script_declares_keys(frt_read);
        int rc = 1;
        redisReply **rep;
        size_t n;
        char **names = NULL;
        size_t name_cnt = 0;
        brand_stats_t *bs = NULL;
        sc_buf_t o = SC_BUF_INIT;
        if (!frt_read) {
                fprintf(stderr, "stats: out of memory\n");
                goto out;
        }
        if (brand_names(r, brands, op.brand, url, &names, &name_cnt))
                goto out;
        queue_reads(r, frt_read, names, name_cnt, d_from, d_to,
                    strcmp(tz, "utc") ? 'l' : 'u');
        if (sc_redis_exec(r, &rep, &n)) {
                fprintf(stderr, "stats: redis %s: %s\n", url, sc_redis_errstr(r));
                goto out;
        }
        int byi = by ? (strcmp(by, "platform") ? 1 : 0) : -1;
        bs = sc_calloc(name_cnt ? name_cnt : 1, sizeof(*bs));
        size_t k = 0, days = (size_t)(d_to - d_from + 1);
        for (size_t i = 0; i < name_cnt; i++) {
                brand_stats_t *b = &bs[i];
                b->brand = names[i];
                for (size_t d = 0; d < days; d++, k += 3)
                        take_day(b, rep + k, byi);
        }
        char dfrom[16], dto[16];
        sc_time_format_day(d_from * 86400000LL, dfrom);
        sc_time_format_day(d_to * 86400000LL, dto);
        if (op.json)
                print_json(&o, bs, name_cnt, dfrom, dto, tz, by);
        else
                print_table(bs, name_cnt, dfrom, dto, tz, by);
        rc = 0;
out:
        for (size_t i = 0; bs && i < name_cnt; i++) {
                group_free(&bs[i].all);
                for (size_t g = 0; g < bs[i].group_cnt; g++)
                        group_free(&bs[i].groups[g]);
                free(bs[i].groups);
        }
        free(bs);
        for (size_t i = 0; i < name_cnt; i++)
                free(names[i]);
        free(names);
        sc_buf_free(&o);
        sc_redis_destroy(r);
        sc_brands_destroy(brands);
        sc_config_destroy(conf);
        return rc;
}
