/* The Avro readers of the Avro workers: sc_avro_decode (the pre-walk that
 * bounds lengths, then Avro-C) for every record a worker consumes, a walk
 * of the whole decoded value, and the field readers the workers apply to it
 * (sc_post_from_avro for Post and the Post inside Enriched/Routed,
 * sc_enriched_view, the sc_avro_* getters route/track/alert use), and the
 * direct readers of the record modules (sc_enriched, sc_routed,
 * sc_sla_event): they accept exactly the frames Avro-C accepts and read the
 * same post.
 *
 * Input: byte 0 picks the record (low 3 bits) and whether the rest is used
 * as is (bit 3: frame header included, to reach the magic/id checks) or
 * framed with the record's id (the default, so mutations hit the body). */
#include "fuzz.h"
#include "sc_alerts.h"
#include "sc_avro.h"
#include "sc_enriched.h"
#include "sc_post.h"
#include "sc_routed.h"
#include "sc_sla_event.h"

static const char *records[] = {"Post", "Enriched", "Routed", "SlaEvent", "Alert"};
#define NREC (sizeof(records) / sizeof(records[0]))
static sc_avro_t *avro;
static sc_avro_codec_t *codecs[NREC];
static sc_buf_t frame, scratch;

/* Avro-C keeps pointers where LeakSanitizer does not see them: codecs alive
 * at exit would be reported as leaks, so free them first. */
static void fini(void)
{
        sc_avro_destroy(avro);
        sc_buf_free(&frame);
        sc_buf_free(&scratch);
}

static void init(void)
{
        char err[512];
        sc_avro_t *a = avro =
            sc_avro_new(SC_SOURCE_DIR "/schemas", NULL, err, sizeof(err));
        for (size_t i = 0; a && i < NREC; i++)
                if (!(codecs[i] = sc_avro_codec(a, records[i], NULL, err, sizeof(err))))
                        a = NULL;
        if (!a) {
                fprintf(stderr, "init: %s\n", err);
                abort();
        }
        atexit(fini);
}

static void walk(avro_value_t *v, int depth)
{
        FUZZ_CHECK(depth <= 64);
        size_t n, size;
        const char *s;
        const void *bytes;
        avro_value_t child;
        int32_t i32;
        int64_t i64;
        int b;
        double d;
        float f;
        switch (avro_value_get_type(v)) {
        case AVRO_STRING:
                FUZZ_CHECK(avro_value_get_string(v, &s, &size) == 0);
                FUZZ_CHECK(size >= 1 && s[size - 1] == '\0');
                break;
        case AVRO_BYTES:
                FUZZ_CHECK(avro_value_get_bytes(v, &bytes, &size) == 0);
                break;
        case AVRO_INT32:
                FUZZ_CHECK(avro_value_get_int(v, &i32) == 0);
                break;
        case AVRO_INT64:
                FUZZ_CHECK(avro_value_get_long(v, &i64) == 0);
                break;
        case AVRO_BOOLEAN:
                FUZZ_CHECK(avro_value_get_boolean(v, &b) == 0);
                break;
        case AVRO_DOUBLE:
                FUZZ_CHECK(avro_value_get_double(v, &d) == 0);
                break;
        case AVRO_FLOAT:
                FUZZ_CHECK(avro_value_get_float(v, &f) == 0);
                break;
        case AVRO_ENUM:
                FUZZ_CHECK(avro_value_get_enum(v, &b) == 0);
                break;
        case AVRO_UNION:
                FUZZ_CHECK(avro_value_get_current_branch(v, &child) == 0);
                walk(&child, depth + 1);
                break;
        case AVRO_RECORD:
        case AVRO_ARRAY:
        case AVRO_MAP:
                FUZZ_CHECK(avro_value_get_size(v, &n) == 0);
                for (size_t i = 0; i < n; i++) {
                        FUZZ_CHECK(avro_value_get_by_index(v, i, &child, NULL) == 0);
                        walk(&child, depth + 1);
                }
                break;
        default:
                break;
        }
}

static void read_post(avro_value_t *rec)
{
        sc_post_t p;
        if (sc_post_from_avro(rec, &p))
                return;
        FUZZ_CHECK(p.event_id && p.brand && p.platform && p.post_id && p.text);
        FUZZ_CHECK(p.text[p.text_len] == '\0');
        (void)sc_post_created_plausible(&p, 1795500000000LL);
}

/* The getters route, track and alert call on their inputs. */
static void read_fields(avro_value_t *v)
{
        static const char *strs[] = {"team",  "priority", "calendar",      "kind",
                                     "brand", "platform", "post_event_id", "post_id",
                                     "url",   "text",     "language",      "id",
                                     "title", "summary",  "topic"};
        static const char *longs[] = {"due_at",       "created_at", "replied_at",
                                      "frt_ms",       "reach",      "count",
                                      "window_start", "window_end", "classified_at"};
        size_t len;
        for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
                const char *s = sc_avro_str(v, strs[i], &len);
                if (s)
                        FUZZ_CHECK(s[len] == '\0');
        }
        for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++)
                (void)sc_avro_long(v, longs[i], 0);
        (void)sc_avro_bool(v, "needs_reply", 0);
        (void)sc_avro_double(v, "priority_score", 0);
        avro_value_t f;
        if (sc_avro_get(v, "sentiment", &f) == 0) {
                (void)sc_avro_str(&f, "label", &len);
                (void)sc_avro_double(&f, "score", 0);
        }
}

static void same_post(avro_value_t *rec, const sc_post_t *d)
{
        sc_post_t p;
        FUZZ_CHECK(sc_post_from_avro(rec, &p) == 0);
        FUZZ_CHECK(!strcmp(p.event_id, d->event_id) && !strcmp(p.brand, d->brand));
        FUZZ_CHECK(p.text_len == d->text_len && !memcmp(p.text, d->text, p.text_len));
        FUZZ_CHECK((p.parent_id == NULL) == (d->parent_id == NULL));
        FUZZ_CHECK(p.created_at == d->created_at && p.rating == d->rating);
}

/* The record modules' direct reader of record r on the same frame; ok: what
 * sc_avro_decode said, v its value. */
static void direct(size_t r, const uint8_t *msg, size_t len, int ok, avro_value_t *v)
{
        static sc_enriched_t e;
        static sc_routed_t rt;
        static sc_sla_record_t sla;
        char err[256];
        avro_value_t post, enr;
        int rc;
        if (r == 0) {
                /* classify and track read social.posts with it */
                static sc_post_t p;
                rc = sc_post_decode(codecs[r], msg, len, &scratch, &p, err, sizeof(err));
                FUZZ_CHECK((rc != SC_REC_BAD) == ok);
                if (rc == 0)
                        same_post(v, &p);
                if (ok)
                        FUZZ_CHECK((rc == 0) ==
                                   (sc_post_from_avro(v, &(sc_post_t){0}) == 0));
        } else if (r == 1) {
                rc = sc_enriched_decode(codecs[r], msg, len, &scratch, &e, err,
                                        sizeof(err));
                FUZZ_CHECK((rc != SC_REC_BAD) == ok);
                if (rc == 0)
                        FUZZ_CHECK(sc_avro_get(v, "post", &post) == 0);
                if (rc == 0)
                        same_post(&post, &e.post);
        } else if (r == 2) {
                rc = sc_routed_decode(codecs[r], msg, len, &scratch, &rt, err,
                                      sizeof(err));
                FUZZ_CHECK((rc != SC_REC_BAD) == ok);
                if (rc == 0) {
                        FUZZ_CHECK(sc_avro_get(v, "enriched", &enr) == 0 &&
                                   sc_avro_get(&enr, "post", &post) == 0);
                        same_post(&post, &rt.enriched.post);
                        FUZZ_CHECK(rt.due_at.v == sc_avro_long(v, "due_at", 0));
                }
        } else if (r == 3) {
                rc = sc_sla_event_decode(codecs[r], msg, len, &scratch, &sla, err,
                                         sizeof(err));
                FUZZ_CHECK((rc != SC_REC_BAD) == ok);
                if (rc == 0)
                        FUZZ_CHECK(sla.frt_s.v == sc_avro_long(v, "frt_s", 0));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!codecs[0])
                init();
        if (size < 1)
                return 0;
        size_t r = (data[0] & 7) % NREC;
        sc_avro_codec_t *c = codecs[r];
        sc_buf_reset(&frame);
        if (data[0] & 8) {
                sc_buf_append(&frame, data + 1, size - 1);
        } else {
                FUZZ_CHECK(sc_avro_frame_begin(c, &frame) == 0);
                sc_buf_append(&frame, data + 1, size - 1);
        }
        /* an exact-size copy, so ASan sees any read past the end */
        uint8_t *msg = malloc(frame.len ? frame.len : 1);
        memcpy(msg, frame.data, frame.len);
        (void)sc_avro_frame_id(msg, frame.len);
        avro_value_t *v, post;
        char err[256];
        int ok = sc_avro_decode(c, msg, frame.len, &v, err, sizeof(err)) == 0;
        direct(r, msg, frame.len, ok, v);
        if (ok) {
                walk(v, 0);
                read_fields(v);
                if (r == 0)
                        read_post(v);
                else if (sc_avro_get(v, "post", &post) == 0)
                        read_post(&post);
                if (r == 1) {
                        sc_enriched_view_t ev;
                        (void)sc_enriched_view(v, &ev);
                }
        }
        free(msg);
        return 0;
}
