#include "sc_sla_event.h"

#include <stdio.h>
#include <string.h>

int sc_sla_event_write(const sc_sla_record_t *e, sc_buf_t *out)
{
        size_t start = out->len;
        int bad = sc_avro_w_cstr(out, e->event_id) || sc_avro_w_cstr(out, e->kind) ||
                  sc_avro_w_cstr(out, e->post_event_id) ||
                  sc_avro_w_cstr(out, e->brand) || sc_avro_w_cstr(out, e->platform) ||
                  sc_avro_w_cstr(out, e->post_id) || sc_avro_w_cstr(out, e->team) ||
                  sc_avro_w_cstr(out, e->priority) ||
                  sc_avro_w_long(out, e->created_at) || sc_avro_w_long(out, e->due_at) ||
                  sc_avro_w_opt_long(out, e->replied_at) ||
                  sc_avro_w_opt_long(out, e->frt_s) || sc_avro_w_opt_str(out, e->url) ||
                  sc_avro_w_cstr(out, e->text) || sc_avro_w_long(out, e->emitted_at);
        if (bad) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_sla_event_encode(const sc_sla_record_t *e, const sc_avro_codec_t *c, sc_buf_t *out)
{
        size_t start = out->len;
        if (sc_avro_frame_begin(c, out) || sc_sla_event_write(e, out)) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_sla_event_read_body(sc_avro_rd_t *r, sc_sla_record_t *out)
{
        out->event_id = sc_avro_r_str(r, NULL);
        out->kind = sc_avro_r_str(r, NULL);
        out->post_event_id = sc_avro_r_str(r, NULL);
        out->brand = sc_avro_r_str(r, NULL);
        out->platform = sc_avro_r_str(r, NULL);
        out->post_id = sc_avro_r_str(r, NULL);
        out->team = sc_avro_r_str(r, NULL);
        out->priority = sc_avro_r_str(r, NULL);
        out->created_at = sc_avro_r_long(r);
        out->due_at = sc_avro_r_long(r);
        out->replied_at = sc_avro_r_opt_long(r);
        out->frt_s = sc_avro_r_opt_long(r);
        out->url = sc_avro_r_opt_str(r);
        out->text = sc_avro_r_str(r, NULL);
        out->emitted_at = sc_avro_r_long(r);
        return !*out->event_id || !*out->kind || !*out->post_event_id || !*out->brand
                   ? SC_REC_MISSING
                   : 0;
}

static int read_body(sc_avro_rd_t *r, void *out)
{
        return sc_sla_event_read_body(r, out);
}

int sc_sla_event_decode(sc_avro_codec_t *c, const void *frame, size_t len,
                        sc_buf_t *scratch, sc_sla_record_t *out, char *errstr,
                        size_t errstr_size)
{
        return sc_avro_rd_record(
            c, frame, len, scratch, read_body, out, "SlaEvent",
            "SlaEvent without event_id, kind, post_event_id or brand", errstr,
            errstr_size);
}
