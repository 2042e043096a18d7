#include "sc_alert_record.h"

#include <string.h>

static const char *const kind_names[SC_ALERT_KIND_CNT] = {
    "spike",      "spike_resolved", "crisis_post", "influencer_negative",
    "sla_breach", "sla_recovered"};
/* sla_recovered has the severity of the breach it retracts, so it reaches
 * the targets the breach reached. */
static const int kind_sev[SC_ALERT_KIND_CNT] = {SC_SEV_CRITICAL, SC_SEV_INFO,
                                                SC_SEV_CRITICAL, SC_SEV_WARNING,
                                                SC_SEV_WARNING,  SC_SEV_WARNING};
static const char *const sev_names[SC_SEV_CNT] = {"info", "warning", "critical"};

const char *sc_alert_kind_name(int kind)
{
        return kind >= 0 && kind < SC_ALERT_KIND_CNT ? kind_names[kind] : "unknown";
}

int sc_alert_kind_parse(const char *name)
{
        for (int k = 0; k < SC_ALERT_KIND_CNT; k++)
                if (!strcmp(name, kind_names[k]))
                        return k;
        return -1;
}

int sc_alert_kind_severity(int kind)
{
        return kind >= 0 && kind < SC_ALERT_KIND_CNT ? kind_sev[kind] : SC_SEV_INFO;
}

const char *sc_alert_severity_name(int sev)
{
        return sev >= 0 && sev < SC_SEV_CNT ? sev_names[sev] : "info";
}

int sc_alert_severity_parse(const char *name)
{
        for (int s = 0; s < SC_SEV_CNT; s++)
                if (!strcmp(name, sev_names[s]))
                        return s;
        return -1;
}

/* ---- writer --------------------------------------------------------------- */

static int w_str(sc_buf_t *o, const char *s)
{
        return sc_avro_w_str(o, s ? s : "", s ? strlen(s) : 0);
}

static int w_opt_long(sc_buf_t *o, int64_t v)
{
        if (!v)
                return sc_avro_w_long(o, 0);
        return sc_avro_w_long(o, 1) || sc_avro_w_long(o, v);
}

int sc_alert_write(const sc_alert_t *a, sc_buf_t *o)
{
        int bad = w_str(o, a->id) || w_str(o, sc_alert_kind_name(a->kind)) ||
                  w_str(o, sc_alert_severity_name(a->severity)) || w_str(o, a->brand) ||
                  sc_avro_w_opt_str(o, a->topic) || w_str(o, a->title) ||
                  w_str(o, a->summary) || w_opt_long(o, a->window_start) ||
                  w_opt_long(o, a->window_end) || sc_avro_w_long(o, a->count) ||
                  sc_avro_w_double(o, a->baseline_mean) ||
                  sc_avro_w_double(o, a->baseline_stddev) ||
                  sc_avro_w_array_begin(o, a->post_id_cnt);
        for (size_t i = 0; i < a->post_id_cnt && !bad; i++)
                bad = w_str(o, a->post_ids[i]);
        bad = bad || sc_avro_w_array_end(o) || sc_avro_w_opt_str(o, a->url) ||
              sc_avro_w_long(o, a->created_at);
        return bad ? -1 : 0;
}

int sc_alert_encode(const sc_alert_t *a, const sc_avro_codec_t *codec, sc_buf_t *o)
{
        return sc_avro_frame_begin(codec, o) || sc_alert_write(a, o) ? -1 : 0;
}

/* ---- reader --------------------------------------------------------------- */

static int rd_kind(sc_avro_rd_t *r, int (*parse)(const char *))
{
        int k = parse(sc_avro_r_str(r, NULL));
        if (k < 0)
                r->bad = 1;
        return k;
}

int sc_alert_decode(const void *frame, size_t len, sc_buf_t *scratch, const char **ids,
                    size_t max_ids, sc_alert_t *a)
{
        memset(a, 0, sizeof(*a));
        /* The caller checked the frame's schema id. */
        sc_avro_rd_t r;
        if (len < SC_AVRO_FRAME_HEADER ||
            sc_avro_rd_init(&r, (const char *)frame + SC_AVRO_FRAME_HEADER,
                            len - SC_AVRO_FRAME_HEADER, scratch))
                return -1;
        a->id = sc_avro_r_str(&r, NULL);
        a->kind = rd_kind(&r, sc_alert_kind_parse);
        a->severity = rd_kind(&r, sc_alert_severity_parse);
        a->brand = sc_avro_r_str(&r, NULL);
        a->topic = sc_avro_r_opt_str(&r);
        a->title = sc_avro_r_str(&r, NULL);
        a->summary = sc_avro_r_str(&r, NULL);
        a->window_start = sc_avro_r_opt_long(&r).v; /* 0 for null */
        a->window_end = sc_avro_r_opt_long(&r).v;
        a->count = sc_avro_r_long(&r);
        a->baseline_mean = sc_avro_r_double(&r);
        a->baseline_stddev = sc_avro_r_double(&r);
        size_t cnt = 0;
        for (int64_t n; (n = sc_avro_r_block(&r)) > 0;)
                for (int64_t i = 0; i < n && !r.bad; i++) {
                        const char *s = sc_avro_r_str(&r, NULL);
                        if (cnt == max_ids)
                                r.bad = 1;
                        else
                                ids[cnt++] = s;
                }
        a->post_ids = ids;
        a->post_id_cnt = cnt;
        a->url = sc_avro_r_opt_str(&r);
        a->created_at = sc_avro_r_long(&r);
        return r.bad || r.p != r.end ? -1 : 0;
}
