#include "sc_routed.h"

#include <stdio.h>
#include <string.h>

int sc_routed_write_decision(const sc_routed_t *r, sc_buf_t *out)
{
        size_t start = out->len;
        int bad = sc_avro_w_cstr(out, r->team) || sc_avro_w_cstr(out, r->priority) ||
                  sc_avro_w_array_begin(out, r->tag_cnt);
        for (size_t i = 0; i < r->tag_cnt && !bad; i++)
                bad = sc_avro_w_cstr(out, r->tags[i]);
        bad = bad || sc_avro_w_array_end(out) || sc_avro_w_bool(out, r->needs_reply) ||
              sc_avro_w_cstr(out, r->decision) || sc_avro_w_cstr(out, r->rule_id) ||
              sc_avro_w_opt_str(out, r->sla_policy) ||
              sc_avro_w_opt_long(out, r->sla_target_s) ||
              sc_avro_w_opt_str(out, r->calendar) || sc_avro_w_opt_long(out, r->due_at) ||
              sc_avro_w_long(out, r->routed_at);
        if (bad) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_routed_write(const sc_routed_t *r, sc_buf_t *out)
{
        size_t start = out->len;
        if (sc_enriched_write(&r->enriched, out) || sc_routed_write_decision(r, out)) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_routed_encode(const sc_routed_t *r, const sc_avro_codec_t *c, sc_buf_t *out)
{
        size_t start = out->len;
        if (sc_avro_frame_begin(c, out) || sc_routed_write(r, out)) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_routed_read_body(sc_avro_rd_t *r, sc_routed_t *out)
{
        int rc = sc_enriched_read_body(r, &out->enriched);
        out->team = sc_avro_r_str(r, NULL);
        out->priority = sc_avro_r_str(r, NULL);
        out->tags = out->tag_store;
        out->tag_cnt = 0;
        for (int64_t n; (n = sc_avro_r_block(r)) > 0;)
                for (int64_t i = 0; i < n && !r->bad; i++) {
                        const char *t = sc_avro_r_str(r, NULL);
                        if (out->tag_cnt < SC_ROUTED_MAX_TAGS)
                                out->tag_store[out->tag_cnt++] = t;
                }
        out->needs_reply = sc_avro_r_bool(r);
        out->decision = sc_avro_r_str(r, NULL);
        out->rule_id = sc_avro_r_str(r, NULL);
        out->sla_policy = sc_avro_r_opt_str(r);
        out->sla_target_s = sc_avro_r_opt_long(r);
        out->calendar = sc_avro_r_opt_str(r);
        out->due_at = sc_avro_r_opt_long(r);
        out->routed_at = sc_avro_r_long(r);
        return rc;
}

static int read_body(sc_avro_rd_t *r, void *out)
{
        return sc_routed_read_body(r, out);
}

int sc_routed_decode(sc_avro_codec_t *c, const void *frame, size_t len, sc_buf_t *scratch,
                     sc_routed_t *out, char *errstr, size_t errstr_size)
{
        return sc_avro_rd_record(c, frame, len, scratch, read_body, out, "Routed",
                                 "Routed without a complete post (event_id, brand, "
                                 "platform, post_id, author.id)",
                                 errstr, errstr_size);
}
