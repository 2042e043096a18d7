#include "sc_post.h"

#include "sc_avro.h"

#include <string.h>

int sc_post_to_avro(const sc_post_t *p, avro_value_t *rec)
{
        avro_value_t author, rating, branch;
        if (sc_avro_set_str(rec, "event_id", p->event_id) ||
            sc_avro_set_str(rec, "brand", p->brand) ||
            sc_avro_set_str(rec, "platform", p->platform) ||
            sc_avro_set_str(rec, "post_id", p->post_id) ||
            sc_avro_set_opt_str(rec, "parent_id", p->parent_id) ||
            sc_avro_set_opt_str(rec, "thread_id", p->thread_id) ||
            sc_avro_get(rec, "author", &author) ||
            sc_avro_set_str(&author, "id", p->author_id) ||
            sc_avro_set_opt_str(&author, "handle", p->author_handle) ||
            sc_avro_set_long(&author, "followers", p->author_followers) ||
            sc_avro_set_bool(&author, "verified", p->author_verified) ||
            sc_avro_set_bool(rec, "is_brand", p->is_brand) ||
            sc_avro_set_strn(rec, "text", p->text ? p->text : "",
                             p->text ? p->text_len : 0) ||
            sc_avro_set_opt_str(rec, "lang_hint", p->lang_hint) ||
            sc_avro_set_opt_str(rec, "url", p->url) ||
            sc_avro_set_long(rec, "created_at", p->created_at) ||
            sc_avro_set_long(rec, "received_at", p->received_at) ||
            sc_avro_get(rec, "rating", &rating))
                return -1;
        if (p->rating)
                return avro_value_set_branch(&rating, 1, &branch) ||
                               avro_value_set_int(&branch, p->rating)
                           ? -1
                           : 0;
        return avro_value_set_branch(&rating, 0, &branch) || avro_value_set_null(&branch)
                   ? -1
                   : 0;
}

int sc_post_from_avro(avro_value_t *rec, sc_post_t *p)
{
        avro_value_t author;
        if (sc_avro_get(rec, "author", &author))
                return -1;
        p->event_id = sc_avro_str(rec, "event_id", NULL);
        p->brand = sc_avro_str(rec, "brand", NULL);
        p->platform = sc_avro_str(rec, "platform", NULL);
        p->post_id = sc_avro_str(rec, "post_id", NULL);
        p->parent_id = sc_avro_str(rec, "parent_id", NULL);
        p->thread_id = sc_avro_str(rec, "thread_id", NULL);
        p->author_id = sc_avro_str(&author, "id", NULL);
        p->author_handle = sc_avro_str(&author, "handle", NULL);
        p->author_followers = sc_avro_long(&author, "followers", 0);
        p->author_verified = sc_avro_bool(&author, "verified", 0);
        p->is_brand = sc_avro_bool(rec, "is_brand", 0);
        p->text = sc_avro_str(rec, "text", &p->text_len);
        p->lang_hint = sc_avro_str(rec, "lang_hint", NULL);
        p->url = sc_avro_str(rec, "url", NULL);
        p->rating = (int)sc_avro_long(rec, "rating", 0);
        p->created_at = sc_avro_long(rec, "created_at", 0);
        p->received_at = sc_avro_long(rec, "received_at", 0);
        /* An empty optional id is none, not a thread or parent named "". */
        if (p->parent_id && !*p->parent_id)
                p->parent_id = NULL;
        if (p->thread_id && !*p->thread_id)
                p->thread_id = NULL;
        if (sc_post_missing(p) || !p->text)
                return -1;
        return 0;
}

const char *sc_post_missing(const sc_post_t *p)
{
        if (!p->event_id || !*p->event_id)
                return "event_id";
        if (!p->brand || !*p->brand)
                return "brand";
        if (!p->platform || !*p->platform)
                return "platform";
        if (!p->post_id || !*p->post_id)
                return "post_id";
        if (!p->author_id || !*p->author_id)
                return "author.id";
        return NULL;
}

int sc_post_write(const sc_post_t *p, sc_buf_t *out)
{
        size_t start = out->len;
        int bad =
            sc_avro_w_cstr(out, p->event_id) || sc_avro_w_cstr(out, p->brand) ||
            sc_avro_w_cstr(out, p->platform) || sc_avro_w_cstr(out, p->post_id) ||
            sc_avro_w_opt_str(out, p->parent_id) ||
            sc_avro_w_opt_str(out, p->thread_id) || sc_avro_w_cstr(out, p->author_id) ||
            sc_avro_w_opt_str(out, p->author_handle) ||
            sc_avro_w_long(out, p->author_followers) ||
            sc_avro_w_bool(out, p->author_verified) || sc_avro_w_bool(out, p->is_brand) ||
            sc_avro_w_str(out, p->text ? p->text : "", p->text ? p->text_len : 0) ||
            sc_avro_w_opt_str(out, p->lang_hint) || sc_avro_w_opt_str(out, p->url) ||
            (p->rating ? sc_avro_w_long(out, 1) || sc_avro_w_long(out, p->rating)
                       : sc_avro_w_long(out, 0)) ||
            sc_avro_w_long(out, p->created_at) || sc_avro_w_long(out, p->received_at);
        if (bad) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_post_encode(const sc_post_t *p, const sc_avro_codec_t *c, sc_buf_t *out)
{
        size_t start = out->len;
        if (sc_avro_frame_begin(c, out) || sc_post_write(p, out)) {
                out->len = start;
                return -1;
        }
        return 0;
}

int sc_post_created_plausible(const sc_post_t *p, int64_t now_ms)
{
        return p->created_at >= 0 && p->created_at <= now_ms + 366LL * 86400000;
}

int sc_post_read_body(sc_avro_rd_t *r, sc_post_t *p)
{
        p->event_id = sc_avro_r_str(r, NULL);
        p->brand = sc_avro_r_str(r, NULL);
        p->platform = sc_avro_r_str(r, NULL);
        p->post_id = sc_avro_r_str(r, NULL);
        p->parent_id = sc_avro_r_opt_str(r);
        p->thread_id = sc_avro_r_opt_str(r);
        p->author_id = sc_avro_r_str(r, NULL);
        p->author_handle = sc_avro_r_opt_str(r);
        p->author_followers = sc_avro_r_long(r);
        p->author_verified = sc_avro_r_bool(r);
        p->is_brand = sc_avro_r_bool(r);
        p->text = sc_avro_r_str(r, &p->text_len);
        p->lang_hint = sc_avro_r_opt_str(r);
        p->url = sc_avro_r_opt_str(r);
        int64_t branch = sc_avro_r_long(r);
        p->rating = branch == 1 ? (int)sc_avro_r_int(r) : 0;
        if (branch != 0 && branch != 1)
                r->bad = 1;
        p->created_at = sc_avro_r_long(r);
        p->received_at = sc_avro_r_long(r);
        if (p->parent_id && !*p->parent_id)
                p->parent_id = NULL;
        if (p->thread_id && !*p->thread_id)
                p->thread_id = NULL;
        return sc_post_missing(p) ? -1 : 0;
}

static int read_body(sc_avro_rd_t *r, void *out)
{
        return sc_post_read_body(r, out);
}

int sc_post_decode(sc_avro_codec_t *c, const void *frame, size_t len, sc_buf_t *scratch,
                   sc_post_t *p, char *errstr, size_t errstr_size)
{
        return sc_avro_rd_record(c, frame, len, scratch, read_body, p, "Post",
                                 "Post without event_id, brand, platform, post_id or "
                                 "author.id",
                                 errstr, errstr_size);
}
