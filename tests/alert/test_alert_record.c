/* common/sc_alert_record against Avro-C and schemas/alert.avsc: what the
 * direct writer writes, Avro-C's generic reader reads back field by field
 * (and Avro-C writes the same bytes); what Avro-C's generic writer writes,
 * the direct reader reads back field by field. Every truncation, a trailing
 * byte, an unknown kind and too many post ids are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alert_record.h"
#include "sc_test.h"

static int same(const char *a, const char *b)
{
        return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Avro-C's own accessors, so the comparison does not go through sc_avro. */
static avro_value_t field(avro_value_t *rec, const char *name)
{
        avro_value_t f;
        CHECK(avro_value_get_by_name(rec, name, &f, NULL) == 0);
        return f;
}

static const char *g_str(avro_value_t *rec, const char *name)
{
        avro_value_t f = field(rec, name);
        const char *s;
        size_t n;
        CHECK(avro_value_get_string(&f, &s, &n) == 0);
        return s;
}

/* A ["null", T] union: NULL for null, else the branch in *out. */
static avro_value_t *g_opt(avro_value_t *rec, const char *name, avro_value_t *out)
{
        avro_value_t u = field(rec, name);
        int d;
        CHECK(avro_value_get_discriminant(&u, &d) == 0);
        if (d == 0)
                return NULL;
        CHECK(avro_value_get_current_branch(&u, out) == 0);
        return out;
}

static const char *g_opt_str(avro_value_t *rec, const char *name)
{
        avro_value_t b;
        const char *s;
        size_t n;
        if (!g_opt(rec, name, &b))
                return NULL;
        CHECK(avro_value_get_string(&b, &s, &n) == 0);
        return s;
}

static int64_t g_opt_long(avro_value_t *rec, const char *name)
{
        avro_value_t b;
        int64_t v;
        if (!g_opt(rec, name, &b))
                return 0;
        CHECK(avro_value_get_long(&b, &v) == 0);
        return v;
}

static int64_t g_long(avro_value_t *rec, const char *name)
{
        avro_value_t f = field(rec, name);
        int64_t v;
        CHECK(avro_value_get_long(&f, &v) == 0);
        return v;
}

static double g_double(avro_value_t *rec, const char *name)
{
        avro_value_t f = field(rec, name);
        double v;
        CHECK(avro_value_get_double(&f, &v) == 0);
        return v;
}

static void check_same_value(avro_value_t *v, const sc_alert_t *a)
{
        CHECK_STR(g_str(v, "alert_id"), a->id);
        CHECK_STR(g_str(v, "kind"), sc_alert_kind_name(a->kind));
        CHECK_STR(g_str(v, "severity"), sc_alert_severity_name(a->severity));
        CHECK_STR(g_str(v, "brand"), a->brand);
        CHECK(same(g_opt_str(v, "topic"), a->topic));
        CHECK_STR(g_str(v, "title"), a->title);
        CHECK_STR(g_str(v, "summary"), a->summary);
        CHECK_INT(g_opt_long(v, "window_start"), a->window_start);
        CHECK_INT(g_opt_long(v, "window_end"), a->window_end);
        CHECK_INT(g_long(v, "count"), a->count);
        CHECK(g_double(v, "baseline_mean") == a->baseline_mean);
        CHECK(g_double(v, "baseline_stddev") == a->baseline_stddev);
        avro_value_t arr = field(v, "post_event_ids"), item;
        size_t n;
        CHECK(avro_value_get_size(&arr, &n) == 0);
        CHECK_INT(n, a->post_id_cnt);
        for (size_t i = 0; i < n; i++) {
                const char *s;
                size_t len;
                CHECK(avro_value_get_by_index(&arr, i, &item, NULL) == 0);
                CHECK(avro_value_get_string(&item, &s, &len) == 0);
                CHECK_STR(s, a->post_ids[i]);
        }
        CHECK(same(g_opt_str(v, "url"), a->url));
        CHECK_INT(g_long(v, "created_at"), a->created_at);
}

static void check_same(const sc_alert_t *a, const sc_alert_t *b)
{
        CHECK_STR(a->id, b->id);
        CHECK_INT(a->kind, b->kind);
        CHECK_INT(a->severity, b->severity);
        CHECK_STR(a->brand, b->brand);
        CHECK(same(a->topic, b->topic));
        CHECK_STR(a->title, b->title);
        CHECK_STR(a->summary, b->summary);
        CHECK_INT(a->window_start, b->window_start);
        CHECK_INT(a->window_end, b->window_end);
        CHECK_INT(a->count, b->count);
        CHECK(a->baseline_mean == b->baseline_mean);
        CHECK(a->baseline_stddev == b->baseline_stddev);
        CHECK_INT(a->post_id_cnt, b->post_id_cnt);
        for (size_t i = 0; i < a->post_id_cnt; i++)
                CHECK_STR(a->post_ids[i], b->post_ids[i]);
        CHECK(same(a->url, b->url));
        CHECK_INT(a->created_at, b->created_at);
}

static void set_str(avro_value_t *rec, const char *name, const char *s)
{
        avro_value_t f = field(rec, name);
        CHECK(avro_value_set_string(&f, s) == 0);
}

static void set_opt(avro_value_t *rec, const char *name, const char *s, int64_t l,
                    int is_long)
{
        avro_value_t u = field(rec, name), b;
        int present = is_long ? l != 0 : s != NULL;
        CHECK(avro_value_set_branch(&u, present, &b) == 0);
        if (!present)
                CHECK(avro_value_set_null(&b) == 0);
        else if (is_long)
                CHECK(avro_value_set_long(&b, l) == 0);
        else
                CHECK(avro_value_set_string(&b, s) == 0);
}

/* a through Avro-C's generic writer. */
static void generic_write(sc_avro_codec_t *c, const sc_alert_t *a, sc_buf_t *out)
{
        char err[256];
        avro_value_t *v = sc_avro_codec_value(c), f, item;
        set_str(v, "alert_id", a->id);
        set_str(v, "kind", sc_alert_kind_name(a->kind));
        set_str(v, "severity", sc_alert_severity_name(a->severity));
        set_str(v, "brand", a->brand);
        set_opt(v, "topic", a->topic, 0, 0);
        set_str(v, "title", a->title);
        set_str(v, "summary", a->summary);
        set_opt(v, "window_start", NULL, a->window_start, 1);
        set_opt(v, "window_end", NULL, a->window_end, 1);
        f = field(v, "count");
        CHECK(avro_value_set_long(&f, a->count) == 0);
        f = field(v, "baseline_mean");
        CHECK(avro_value_set_double(&f, a->baseline_mean) == 0);
        f = field(v, "baseline_stddev");
        CHECK(avro_value_set_double(&f, a->baseline_stddev) == 0);
        f = field(v, "post_event_ids");
        for (size_t i = 0; i < a->post_id_cnt; i++) {
                CHECK(avro_value_append(&f, &item, NULL) == 0);
                CHECK(avro_value_set_string(&item, a->post_ids[i]) == 0);
        }
        set_opt(v, "url", a->url, 0, 0);
        f = field(v, "created_at");
        CHECK(avro_value_set_long(&f, a->created_at) == 0);
        sc_buf_reset(out);
        CHECK(sc_avro_encode(c, out, err, sizeof(err)) == 0);
}

int main(void)
{
        char err[256];
        sc_avro_t *avro = sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        CHECK(avro != NULL);
        sc_avro_codec_t *c = sc_avro_codec(avro, "Alert", NULL, err, sizeof(err));
        CHECK(c != NULL);
        static const char *ids[120];
        char idbuf[120][16];
        for (int i = 0; i < 120; i++) {
                snprintf(idbuf[i], sizeof(idbuf[i]), "x:%d", i);
                ids[i] = idbuf[i];
        }
        const char *two[] = {"x:1", "fb:\"2\" zażółć"};
        sc_alert_t cases[] = {
            {.kind = SC_ALERT_SPIKE,
             .severity = SC_SEV_CRITICAL,
             .id = "spike:telko:internet:1763631960000",
             .brand = "telko",
             .topic = "internet",
             .title = "Negative spike for telko / internet",
             .summary = "12 posts in 15 min (baseline 1.5 ± 0.5)\nnew line",
             .window_start = 1763631960000LL,
             .window_end = 1763632860000LL,
             .count = 12,
             .baseline_mean = 1.5,
             .baseline_stddev = 0.25,
             .post_ids = two,
             .post_id_cnt = 2,
             .url = "https://x.com/1",
             .created_at = 1763632861000LL},
            {.kind = SC_ALERT_SLA_RECOVERED,
             .severity = SC_SEV_WARNING,
             .id = "sla_recovered:e",
             .brand = "b",
             .title = "",
             .summary = "",
             .created_at = -1},
            {.kind = SC_ALERT_INFLUENCER_NEGATIVE,
             .severity = SC_SEV_INFO,
             .id = "influencer_negative:x:9",
             .brand = "bankowo",
             .title = "t",
             .summary = "s",
             .window_start = -5,
             .count = -3,
             .baseline_mean = -1e300,
             .post_ids = ids,
             .post_id_cnt = 100,
             .created_at = 0},
        };
        sc_buf_t direct = SC_BUF_INIT, generic = SC_BUF_INIT, scratch = SC_BUF_INIT;
        const char *got_ids[100];
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
                const sc_alert_t *a = &cases[k];
                /* direct writer -> Avro-C reader */
                sc_buf_reset(&direct);
                CHECK(sc_alert_encode(a, c, &direct) == 0);
                avro_value_t *v;
                CHECK(sc_avro_decode(c, direct.data, direct.len, &v, err, sizeof(err)) ==
                      0);
                check_same_value(v, a);
                /* Avro-C writer -> direct reader, and the same bytes */
                generic_write(c, a, &generic);
                CHECK_INT(generic.len, direct.len);
                CHECK(memcmp(generic.data, direct.data, direct.len) == 0);
                sc_alert_t b;
                CHECK(sc_alert_decode(generic.data, generic.len, &scratch, got_ids, 100,
                                      &b) == 0);
                check_same(a, &b);
                /* every truncation, a trailing byte */
                for (size_t n = 0; n < direct.len; n++)
                        CHECK(sc_alert_decode(direct.data, n, &scratch, got_ids, 100,
                                              &b) == -1);
                sc_buf_putc(&direct, 0);
                CHECK(sc_alert_decode(direct.data, direct.len, &scratch, got_ids, 100,
                                      &b) == -1);
        }
        /* more post ids than the caller has room for */
        sc_alert_t many = cases[2];
        many.post_id_cnt = 101;
        sc_buf_reset(&direct);
        CHECK(sc_alert_encode(&many, c, &direct) == 0);
        sc_alert_t b;
        CHECK(sc_alert_decode(direct.data, direct.len, &scratch, got_ids, 100, &b) == -1);
        /* a kind outside the vocabulary */
        many = cases[1];
        many.kind = SC_ALERT_KIND_CNT;
        sc_buf_reset(&direct);
        CHECK(sc_alert_encode(&many, c, &direct) == 0);
        avro_value_t *v;
        CHECK(sc_avro_decode(c, direct.data, direct.len, &v, err, sizeof(err)) == 0);
        CHECK_STR(g_str(v, "kind"), "unknown");
        CHECK(sc_alert_decode(direct.data, direct.len, &scratch, got_ids, 100, &b) == -1);
        sc_buf_free(&direct);
        sc_buf_free(&generic);
        sc_buf_free(&scratch);
        sc_avro_destroy(avro);
        TEST_DONE();
}
