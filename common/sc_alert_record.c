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

/* scratch is reserved for the whole body up front (each string needs at most
 * its encoded bytes plus a NUL), so string pointers stay valid as it fills. */
typedef struct rd_s {
        const unsigned char *p, *end;
        sc_buf_t *scratch;
        int bad;
} rd_t;

static int64_t rd_long(rd_t *r)
{
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end) {
                        r->bad = 1;
                        return 0;
                }
                unsigned char b = *r->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        }
        r->bad = 1;
        return 0;
}

static double rd_double(rd_t *r)
{
        double d = 0;
        if (r->end - r->p < 8) {
                r->bad = 1;
                return 0;
        }
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
                u = (u << 8) | r->p[i];
        memcpy(&d, &u, sizeof(d));
        r->p += 8;
        return d;
}

static const char *rd_str(rd_t *r)
{
        int64_t n = rd_long(r);
        if (r->bad || n < 0 || n > r->end - r->p) {
                r->bad = 1;
                return NULL;
        }
        const char *s = r->scratch->data + r->scratch->len;
        sc_buf_append(r->scratch, r->p, (size_t)n);
        sc_buf_putc(r->scratch, '\0');
        r->p += n;
        return s;
}

/* Union branch: 0 null, 1 the value; anything else is malformed. */
static int rd_branch(rd_t *r)
{
        int64_t b = rd_long(r);
        if (b != 0 && b != 1)
                r->bad = 1;
        return b == 1 && !r->bad;
}

static const char *rd_opt_str(rd_t *r)
{
        return rd_branch(r) ? rd_str(r) : NULL;
}

static int64_t rd_opt_long(rd_t *r)
{
        return rd_branch(r) ? rd_long(r) : 0;
}

/* Array block header: item count of the next block (0 = end). */
static int64_t rd_block(rd_t *r)
{
        int64_t n = rd_long(r);
        if (n < 0) {
                if (n == INT64_MIN) { /* no positive count (and -n is UB) */
                        r->bad = 1;
                        return 0;
                }
                n = -n;
                if (rd_long(r) < 0) /* block size in bytes */
                        r->bad = 1;
        }
        if (n > r->end - r->p)
                r->bad = 1;
        return r->bad ? 0 : n;
}

static int rd_kind(rd_t *r, int (*parse)(const char *))
{
        const char *s = rd_str(r);
        int k = s ? parse(s) : -1;
        if (k < 0)
                r->bad = 1;
        return k;
}

int sc_alert_decode(const void *frame, size_t len, sc_buf_t *scratch, const char **ids,
                    size_t max_ids, sc_alert_t *a)
{
        memset(a, 0, sizeof(*a));
        if (len < 5)
                return -1;
        sc_buf_reset(scratch);
        /* Strings: at most the body's bytes, plus one NUL per string (every
         * string takes at least one byte of the body). */
        if (sc_buf_reserve(scratch, 2 * len))
                return -1;
        rd_t r = {.p = (const unsigned char *)frame + 5,
                  .end = (const unsigned char *)frame + len,
                  .scratch = scratch};
        a->id = rd_str(&r);
        a->kind = rd_kind(&r, sc_alert_kind_parse);
        a->severity = rd_kind(&r, sc_alert_severity_parse);
        a->brand = rd_str(&r);
        a->topic = rd_opt_str(&r);
        a->title = rd_str(&r);
        a->summary = rd_str(&r);
        a->window_start = rd_opt_long(&r);
        a->window_end = rd_opt_long(&r);
        a->count = rd_long(&r);
        a->baseline_mean = rd_double(&r);
        a->baseline_stddev = rd_double(&r);
        size_t cnt = 0;
        for (int64_t n; !r.bad && (n = rd_block(&r)) > 0;)
                for (int64_t i = 0; i < n && !r.bad; i++) {
                        const char *s = rd_str(&r);
                        if (cnt == max_ids)
                                r.bad = 1;
                        else
                                ids[cnt++] = s;
                }
        a->post_ids = ids;
        a->post_id_cnt = cnt;
        a->url = rd_opt_str(&r);
        a->created_at = rd_long(&r);
        return r.bad || r.p != r.end ? -1 : 0;
}
