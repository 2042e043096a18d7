#include "sc_enriched.h"

#include <stdio.h>
#include <string.h>

int sc_enriched_write(const sc_enriched_t *e, sc_buf_t *out)
{
        size_t start = out->len, n = 0;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                n += (e->intent_mask >> k) & 1;
        int bad = sc_post_write(&e->post, out) ||
                  sc_avro_w_cstr(out, e->classifier_version) ||
                  sc_avro_w_cstr(out, e->language) || sc_avro_w_cstr(out, e->label) ||
                  sc_avro_w_double(out, e->score) || sc_avro_w_array_begin(out, n);
        for (int k = 0; k < SC_INTENT_CNT && !bad; k++)
                if ((e->intent_mask >> k) & 1)
                        bad = sc_avro_w_cstr(out, sc_intent_name(k)) ||
                              sc_avro_w_double(out, e->intent[k]);
        bad = bad || sc_avro_w_array_end(out) || sc_avro_w_array_begin(out, e->topic_cnt);
        for (size_t i = 0; i < e->topic_cnt && !bad; i++)
                bad = sc_avro_w_str(out, e->topics[i], e->topic_lens[i]);
        bad = bad || sc_avro_w_array_end(out) || sc_avro_w_long(out, e->reach) ||
              sc_avro_w_cstr(out, e->priority) ||
              sc_avro_w_double(out, e->priority_score) ||
              sc_avro_w_bool(out, e->needs_reply) ||
              sc_avro_w_long(out, e->classified_at);
        if (bad) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_enriched_encode(const sc_enriched_t *e, const sc_avro_codec_t *c, sc_buf_t *out)
{
        size_t start = out->len;
        if (sc_avro_frame_begin(c, out) || sc_enriched_write(e, out)) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_enriched_read_body(sc_avro_rd_t *r, sc_enriched_t *out)
{
        int missing = sc_post_read_body(r, &out->post);
        out->classifier_version = sc_avro_r_str(r, NULL);
        out->language = sc_avro_r_str(r, NULL);
        out->label = sc_avro_r_str(r, NULL);
        out->score = sc_avro_r_double(r);
        out->intent_mask = 0;
        memset(out->intent, 0, sizeof(out->intent));
        for (int64_t n; (n = sc_avro_r_block(r)) > 0;)
                for (int64_t i = 0; i < n && !r->bad; i++) {
                        size_t len;
                        const char *name = sc_avro_r_str(r, &len);
                        double c = sc_avro_r_double(r);
                        int k = sc_intent_parse(name, len);
                        if (k >= 0) {
                                out->intent_mask |= 1u << k;
                                out->intent[k] = c;
                        }
                }
        out->topic_cnt = 0;
        for (int64_t n; (n = sc_avro_r_block(r)) > 0;)
                for (int64_t i = 0; i < n && !r->bad; i++) {
                        size_t len;
                        const char *t = sc_avro_r_str(r, &len);
                        if (out->topic_cnt < SC_MAX_TOPICS) {
                                out->topics[out->topic_cnt] = t;
                                out->topic_lens[out->topic_cnt++] = len;
                        }
                }
        out->reach = sc_avro_r_long(r);
        out->priority = sc_avro_r_str(r, NULL);
        out->priority_score = sc_avro_r_double(r);
        out->needs_reply = sc_avro_r_bool(r);
        out->classified_at = sc_avro_r_long(r);
        return missing ? SC_REC_MISSING : 0;
}

static int read_body(sc_avro_rd_t *r, void *out)
{
        return sc_enriched_read_body(r, out);
}

int sc_enriched_decode(sc_avro_codec_t *c, const void *frame, size_t len,
                       sc_buf_t *scratch, sc_enriched_t *out, char *errstr,
                       size_t errstr_size)
{
        return sc_avro_rd_record(c, frame, len, scratch, read_body, out, "Enriched",
                                 "Enriched without a complete post (event_id, brand, "
                                 "platform, post_id, author.id)",
                                 errstr, errstr_size);
}
