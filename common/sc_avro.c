#include "sc_avro.h"

#include <curl/curl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_alloc.h"
#include "sc_json.h"
#include "sc_log.h"
#include "sc_time.h"

#define FRAME_HEADER SC_AVRO_FRAME_HEADER

typedef struct schema_file_s {
        char *fullname; /* "socialcare.Post" */
        char *name;     /* "Post" */
        char *json;
        struct schema_file_s *next;
} schema_file_t;

struct sc_avro_codec_s {
        char *record;
        char *subject;
        int32_t id;
        char *json;
        avro_schema_t schema;
        avro_value_iface_t *iface;
        avro_value_t value;
        avro_reader_t reader;
        avro_writer_t writer;
        sc_avro_t *avro;
        /* Other ids the registry gave this record (a writer registered it
         * under its own subject): definite answers cached, 8 at most. */
        int32_t alias_id[8];
        signed char alias_same[8];
        int alias_cnt;
        sc_avro_codec_t *next;
};

struct sc_avro_s {
        char *dir;
        char *registry_url;
        long registry_timeout_ms;
        long registry_wait_ms;
        schema_file_t *files;
        sc_avro_codec_t *codecs;
};

static char *read_file(const char *path, size_t *len)
{
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return NULL;
        sc_buf_t b = SC_BUF_INIT;
        char chunk[8192];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
                sc_buf_append(&b, chunk, n);
        fclose(fp);
        if (len)
                *len = b.len;
        if (!b.data)
                sc_buf_append(&b, "", 0);
        return b.data;
}

static int load_schema_files(sc_avro_t *a, char *errstr, size_t errstr_size)
{
        DIR *d = opendir(a->dir);
        if (!d) {
                snprintf(errstr, errstr_size, "schemas: cannot open folder %s", a->dir);
                return -1;
        }
        sc_json_t *jp = sc_json_new(64);
        struct dirent *de;
        int rc = 0;
        while (rc == 0 && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n < 6 || strcmp(de->d_name + n - 5, ".avsc"))
                        continue;
                char path[4096], jerr[256];
                snprintf(path, sizeof(path), "%s/%s", a->dir, de->d_name);
                size_t len;
                char *text = read_file(path, &len);
                const sc_jv_t *root =
                    text ? sc_json_parse(jp, text, len, jerr, sizeof(jerr)) : NULL;
                const char *name = sc_json_str(sc_json_get(root, "name"));
                const char *ns = sc_json_str(sc_json_get(root, "namespace"));
                if (!root || !name) {
                        snprintf(errstr, errstr_size, "schemas: %s: %s", path,
                                 text ? (root ? "no record name" : jerr) : "cannot read");
                        free(text);
                        rc = -1;
                        break;
                }
                schema_file_t *f = sc_calloc(1, sizeof(*f));
                f->name = sc_strdup(name);
                size_t fl = strlen(name) + (ns ? strlen(ns) + 1 : 0) + 1;
                f->fullname = sc_malloc(fl);
                snprintf(f->fullname, fl, "%s%s%s", ns ? ns : "", ns ? "." : "", name);
                f->json = text;
                f->next = a->files;
                a->files = f;
        }
        closedir(d);
        sc_json_destroy(jp);
        return rc;
}

static schema_file_t *find_file(sc_avro_t *a, const char *record)
{
        for (schema_file_t *f = a->files; f; f = f->next)
                if (!strcmp(f->name, record) || !strcmp(f->fullname, record))
                        return f;
        return NULL;
}

/* Replaces the first reference "ns.Name" to another file's record with that
 * record's definition, recursively, so the result parses on its own. */
static char *inline_schema(sc_avro_t *a, const schema_file_t *root, int depth)
{
        sc_buf_t b = SC_BUF_INIT;
        sc_buf_puts(&b, root->json);
        for (schema_file_t *f = a->files; f && depth < 8; f = f->next) {
                if (f == root)
                        continue;
                char quoted[512];
                snprintf(quoted, sizeof(quoted), "\"%s\"", f->fullname);
                char *at = strstr(b.data, quoted);
                if (!at)
                        continue;
                char *def = inline_schema(a, f, depth + 1);
                sc_buf_t nb = SC_BUF_INIT;
                sc_buf_append(&nb, b.data, (size_t)(at - b.data));
                sc_buf_puts(&nb, def);
                sc_buf_puts(&nb, at + strlen(quoted));
                free(def);
                sc_buf_free(&b);
                b = nb;
        }
        return b.data;
}

static int local_id(sc_avro_t *a, const char *fullname, int32_t *id, char *errstr,
                    size_t errstr_size)
{
        char path[4096], line[512];
        snprintf(path, sizeof(path), "%s/ids.map", a->dir);
        FILE *fp = fopen(path, "r");
        if (!fp) {
                snprintf(errstr, errstr_size, "schemas: cannot open %s", path);
                return -1;
        }
        int found = 0;
        while (!found && fgets(line, sizeof(line), fp)) {
                char name[256];
                long v;
                if (line[0] == '#' || sscanf(line, "%255s %ld", name, &v) != 2)
                        continue;
                if (!strcmp(name, fullname)) {
                        *id = (int32_t)v;
                        found = 1;
                }
        }
        fclose(fp);
        if (!found)
                snprintf(errstr, errstr_size, "schemas: %s has no id in %s", fullname,
                         path);
        return found ? 0 : -1;
}

static size_t curl_collect(char *p, size_t size, size_t n, void *opaque)
{
        sc_buf_append(opaque, p, size * n);
        return size * n;
}

/* One request to the registry: POST body to path, or GET when body is NULL.
 * Returns the HTTP status, or -1 when no answer came (connection refused,
 * timeout), with the reason in errstr; resp gets the body. */
static long registry_call(sc_avro_t *a, const char *path, const sc_buf_t *body,
                          sc_buf_t *resp, char *errstr, size_t errstr_size)
{
        sc_buf_t url = SC_BUF_INIT;
        char cerr[CURL_ERROR_SIZE] = "";
        long status = -1;
        const char *base = a->registry_url;
        size_t bl = strlen(base);
        while (bl && base[bl - 1] == '/')
                bl--;
        sc_buf_append(&url, base, bl);
        sc_buf_puts(&url, path);

        CURL *h = curl_easy_init();
        struct curl_slist *hdrs = curl_slist_append(
            NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
        curl_easy_setopt(h, CURLOPT_URL, url.data);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        if (body) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data);
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body->len);
        }
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, a->registry_timeout_ms);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, curl_collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
        CURLcode cc = curl_easy_perform(h);
        if (cc == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        else
                snprintf(errstr, errstr_size, "schema registry %s: %s", url.data,
                         *cerr ? cerr : curl_easy_strerror(cc));
        if (status >= 0 && status != 200)
                snprintf(errstr, errstr_size, "schema registry %s: HTTP %ld: %.200s",
                         url.data, status, resp->data ? resp->data : "");
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        sc_buf_free(&url);
        return status;
}

/* POST /subjects/<subject>/versions: registers (or finds) the schema and
 * returns its global id. Called once per codec at start, never per message.
 * A registry that does not answer (or answers 5xx) is retried with backoff
 * for up to registry_wait_ms, each failure logged: the codec never falls back
 * to local ids, a writer with a registry configured uses the registry's. */
static int registry_id(sc_avro_t *a, const char *subject, const char *json, int32_t *id,
                       char *errstr, size_t errstr_size)
{
        sc_buf_t body = SC_BUF_INIT, resp = SC_BUF_INIT, path = SC_BUF_INIT;
        int rc = -1, attempt = 0;
        long backoff = 200;
        int64_t deadline = sc_mono_ms() + a->registry_wait_ms;

        sc_buf_puts(&body, "{\"schema\":");
        sc_buf_json_str(&body, json, strlen(json));
        sc_buf_puts(&body, "}");
        sc_buf_printf(&path, "/subjects/%s/versions", subject);
        for (;;) {
                sc_buf_reset(&resp);
                long status =
                    registry_call(a, path.data, &body, &resp, errstr, errstr_size);
                attempt++;
                if (status == 200)
                        break;
                if ((status >= 0 && status < 500) || sc_mono_ms() + backoff > deadline) {
                        if (status < 0 || status >= 500) {
                                size_t n = strlen(errstr);
                                snprintf(errstr + n, errstr_size - n,
                                         " (gave up after %d attempts in %ld ms)",
                                         attempt, a->registry_wait_ms);
                        }
                        goto out;
                }
                sc_log(SC_LOG_WARN, "%s; attempt %d, retrying in %ld ms", errstr, attempt,
                       backoff);
                struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
        }
        sc_json_t *jp = sc_json_new(16);
        char jerr[128];
        int64_t v;
        const sc_jv_t *r =
            sc_json_parse(jp, resp.data ? resp.data : "", resp.len, jerr, sizeof(jerr));
        if (r && sc_json_int64(sc_json_get(r, "id"), &v) == 0 && v >= 0 &&
            v <= INT32_MAX) {
                *id = (int32_t)v;
                rc = 0;
                if (attempt > 1)
                        sc_log(SC_LOG_INFO,
                               "schema registry: %s is id %d (after %d attempts)",
                               subject, (int)v, attempt);
        } else {
                snprintf(errstr, errstr_size, "schema registry: no id in %.200s",
                         resp.data ? resp.data : "");
        }
        sc_json_destroy(jp);
out:
        sc_buf_free(&body);
        sc_buf_free(&resp);
        sc_buf_free(&path);
        return rc;
}

/* GET /schemas/ids/<id>: does the registry's schema <id> describe the same
 * record as codec c (Avro schema equality, so a registry that reformats the
 * text still matches)? 1 yes, 0 no, -1 no answer. */
static int registry_same(sc_avro_t *a, const sc_avro_codec_t *c, int32_t id)
{
        sc_buf_t resp = SC_BUF_INIT;
        char path[64], err[256];
        int same = -1;
        snprintf(path, sizeof(path), "/schemas/ids/%d", (int)id);
        long status = registry_call(a, path, NULL, &resp, err, sizeof(err));
        if (status == 200) {
                sc_json_t *jp = sc_json_new(16);
                char jerr[128];
                const sc_jv_t *r = sc_json_parse(jp, resp.data ? resp.data : "", resp.len,
                                                 jerr, sizeof(jerr));
                const sc_jv_t *js = sc_json_get(r, "schema");
                const char *text = sc_json_str(js);
                avro_schema_t other = NULL;
                same = 0;
                if (text && !avro_schema_from_json_length(text, strlen(text), &other)) {
                        same = avro_schema_equal(other, c->schema) ? 1 : 0;
                        avro_schema_decref(other);
                }
                sc_json_destroy(jp);
        } else if (status >= 400 && status < 500) {
                same = 0;
        } else {
                sc_log(SC_LOG_WARN, "%s", err);
        }
        sc_buf_free(&resp);
        return same;
}

sc_avro_t *sc_avro_new(const char *schemas_dir, const char *registry_url, char *errstr,
                       size_t errstr_size)
{
        sc_avro_t *a = sc_calloc(1, sizeof(*a));
        a->dir = sc_strdup(schemas_dir);
        a->registry_url = registry_url && *registry_url ? sc_strdup(registry_url) : NULL;
        a->registry_timeout_ms = 5000;
        a->registry_wait_ms = 60000;
        if (load_schema_files(a, errstr, errstr_size) == -1) {
                sc_avro_destroy(a);
                return NULL;
        }
        return a;
}

static void codec_destroy(sc_avro_codec_t *c)
{
        if (c->iface) {
                avro_value_decref(&c->value);
                avro_value_iface_decref(c->iface);
        }
        if (c->schema)
                avro_schema_decref(c->schema);
        if (c->reader)
                avro_reader_free(c->reader);
        if (c->writer)
                avro_writer_free(c->writer);
        free(c->record);
        free(c->subject);
        free(c->json);
        free(c);
}

void sc_avro_destroy(sc_avro_t *a)
{
        if (!a)
                return;
        while (a->codecs) {
                sc_avro_codec_t *n = a->codecs->next;
                codec_destroy(a->codecs);
                a->codecs = n;
        }
        while (a->files) {
                schema_file_t *n = a->files->next;
                free(a->files->fullname);
                free(a->files->name);
                free(a->files->json);
                free(a->files);
                a->files = n;
        }
        free(a->dir);
        free(a->registry_url);
        free(a);
}

sc_avro_codec_t *sc_avro_codec(sc_avro_t *a, const char *record, const char *subject,
                               char *errstr, size_t errstr_size)
{
        for (sc_avro_codec_t *c = a->codecs; c; c = c->next)
                if (!strcmp(c->record, record) &&
                    ((!subject && !c->subject) ||
                     (subject && c->subject && !strcmp(subject, c->subject))))
                        return c;

        schema_file_t *f = find_file(a, record);
        if (!f) {
                snprintf(errstr, errstr_size, "schemas: no record '%s' in %s", record,
                         a->dir);
                return NULL;
        }
        sc_avro_codec_t *c = sc_calloc(1, sizeof(*c));
        c->record = sc_strdup(record);
        c->subject = subject ? sc_strdup(subject) : NULL;
        c->avro = a;
        c->json = inline_schema(a, f, 0);
        if (avro_schema_from_json_length(c->json, strlen(c->json), &c->schema)) {
                snprintf(errstr, errstr_size, "schemas: %s: %s", f->fullname,
                         avro_strerror());
                codec_destroy(c);
                return NULL;
        }
        int idrc = a->registry_url && subject
                       ? registry_id(a, subject, c->json, &c->id, errstr, errstr_size)
                       : local_id(a, f->fullname, &c->id, errstr, errstr_size);
        if (idrc == -1) {
                codec_destroy(c);
                return NULL;
        }
        c->iface = avro_generic_class_from_schema(c->schema);
        if (!c->iface || avro_generic_value_new(c->iface, &c->value)) {
                snprintf(errstr, errstr_size, "schemas: %s: %s", f->fullname,
                         avro_strerror());
                if (c->iface)
                        avro_value_iface_decref(c->iface);
                c->iface = NULL;
                codec_destroy(c);
                return NULL;
        }
        static char empty[1];
        c->reader = avro_reader_memory(empty, 0);
        c->writer = avro_writer_memory(empty, 0);
        c->next = a->codecs;
        a->codecs = c;
        sc_log(SC_LOG_DEBUG, "codec %s subject %s id %d", record, subject ? subject : "-",
               (int)c->id);
        return c;
}

void sc_avro_set_registry_timeouts(sc_avro_t *a, long request_ms, long wait_ms)
{
        if (request_ms > 0)
                a->registry_timeout_ms = request_ms;
        if (wait_ms >= 0)
                a->registry_wait_ms = wait_ms;
}

int sc_avro_codec_accepts(sc_avro_codec_t *c, int32_t id)
{
        if (id == c->id)
                return 1;
        if (id < 0 || !c->avro->registry_url)
                return 0;
        for (int i = 0; i < c->alias_cnt; i++)
                if (c->alias_id[i] == id)
                        return c->alias_same[i];
        int n = (int)(sizeof(c->alias_id) / sizeof(c->alias_id[0]));
        if (c->alias_cnt == n)
                return 0;
        int same = registry_same(c->avro, c, id);
        if (same < 0)
                return 0; /* not cached: asked again when the registry answers */
        c->alias_id[c->alias_cnt] = id;
        c->alias_same[c->alias_cnt++] = (signed char)same;
        if (same)
                sc_log(SC_LOG_INFO, "schema registry: id %d is %s", (int)id, c->record);
        return same;
}

int32_t sc_avro_codec_id(const sc_avro_codec_t *c)
{
        return c->id;
}

const char *sc_avro_codec_schema_json(const sc_avro_codec_t *c)
{
        return c->json;
}

avro_value_t *sc_avro_codec_value(sc_avro_codec_t *c)
{
        avro_value_reset(&c->value);
        return &c->value;
}

int sc_avro_encode(sc_avro_codec_t *c, sc_buf_t *out, char *errstr, size_t errstr_size)
{
        size_t size;
        if (avro_value_sizeof(&c->value, &size)) {
                snprintf(errstr, errstr_size, "avro: %s", avro_strerror());
                return -1;
        }
        if (sc_buf_reserve(out, FRAME_HEADER + size) == -1) {
                snprintf(errstr, errstr_size, "avro: out of memory");
                return -1;
        }
        unsigned char *p = (unsigned char *)out->data + out->len;
        p[0] = 0;
        p[1] = (unsigned char)(c->id >> 24);
        p[2] = (unsigned char)(c->id >> 16);
        p[3] = (unsigned char)(c->id >> 8);
        p[4] = (unsigned char)c->id;
        avro_writer_memory_set_dest(c->writer, (char *)p + FRAME_HEADER, (int64_t)size);
        if (avro_value_write(c->writer, &c->value)) {
                snprintf(errstr, errstr_size, "avro: %s", avro_strerror());
                return -1;
        }
        out->len += FRAME_HEADER + size;
        out->data[out->len] = '\0';
        return 0;
}

int sc_avro_frame_begin(const sc_avro_codec_t *c, sc_buf_t *out)
{
        unsigned char h[FRAME_HEADER] = {
            0, (unsigned char)(c->id >> 24), (unsigned char)(c->id >> 16),
            (unsigned char)(c->id >> 8), (unsigned char)c->id};
        return sc_buf_append(out, h, sizeof(h));
}

int sc_avro_w_long(sc_buf_t *out, int64_t v)
{
        unsigned char b[10];
        size_t n = 0;
        uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
        while (z > 0x7F) {
                b[n++] = (unsigned char)((z & 0x7F) | 0x80);
                z >>= 7;
        }
        b[n++] = (unsigned char)z;
        return sc_buf_append(out, b, n);
}

int sc_avro_w_bool(sc_buf_t *out, int v)
{
        return sc_buf_putc(out, v ? 1 : 0);
}

int sc_avro_w_double(sc_buf_t *out, double v)
{
        uint64_t bits;
        unsigned char b[8];
        memcpy(&bits, &v, 8);
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char)(bits >> (8 * i));
        return sc_buf_append(out, b, 8);
}

int sc_avro_w_str(sc_buf_t *out, const char *s, size_t n)
{
        if (sc_avro_w_long(out, (int64_t)n))
                return -1;
        return n ? sc_buf_append(out, s, n) : 0;
}

int sc_avro_w_cstr(sc_buf_t *out, const char *s)
{
        return sc_avro_w_str(out, s ? s : "", s ? strlen(s) : 0);
}

int sc_avro_w_opt_str(sc_buf_t *out, const char *s)
{
        if (!s)
                return sc_avro_w_long(out, 0);
        return sc_avro_w_long(out, 1) || sc_avro_w_str(out, s, strlen(s)) ? -1 : 0;
}

int sc_avro_w_array_begin(sc_buf_t *out, size_t n)
{
        return n ? sc_avro_w_long(out, (int64_t)n) : 0;
}

int sc_avro_w_array_end(sc_buf_t *out)
{
        return sc_avro_w_long(out, 0);
}

int sc_avro_w_opt_long(sc_buf_t *out, sc_opt_long_t v)
{
        if (!v.present)
                return sc_avro_w_long(out, 0);
        return sc_avro_w_long(out, 1) || sc_avro_w_long(out, v.v) ? -1 : 0;
}

int sc_avro_rd_init(sc_avro_rd_t *r, const void *body, size_t len, sc_buf_t *scratch)
{
        r->p = body;
        r->end = r->p + len;
        r->scratch = scratch;
        r->bad = 0;
        sc_buf_reset(scratch);
        return sc_buf_reserve(scratch, len + 1);
}

int sc_avro_rd_frame(sc_avro_rd_t *r, sc_avro_codec_t *codec, const void *buf, size_t len,
                     sc_buf_t *scratch, char *errstr, size_t errstr_size)
{
        int32_t id = sc_avro_frame_id(buf, len);
        if (id < 0) {
                snprintf(errstr, errstr_size,
                         "not a Confluent Avro frame (magic byte/length)");
                return -1;
        }
        if (codec && !sc_avro_codec_accepts(codec, id)) {
                snprintf(errstr, errstr_size, "schema id %d, expected %d (%s)", (int)id,
                         (int)codec->id, codec->record);
                return -1;
        }
        if (sc_avro_rd_init(r, (const char *)buf + FRAME_HEADER, len - FRAME_HEADER,
                            scratch)) {
                snprintf(errstr, errstr_size, "out of memory");
                return -1;
        }
        return 0;
}

int sc_avro_rd_record(sc_avro_codec_t *codec, const void *buf, size_t len,
                      sc_buf_t *scratch, int (*read)(sc_avro_rd_t *r, void *out),
                      void *out, const char *record, const char *missing, char *errstr,
                      size_t errstr_size)
{
        sc_avro_rd_t r;
        if (sc_avro_rd_frame(&r, codec, buf, len, scratch, errstr, errstr_size))
                return -1;
        int rc = read(&r, out);
        if (sc_avro_rd_end(&r, record, errstr, errstr_size))
                return -1;
        if (rc) {
                snprintf(errstr, errstr_size, "%s", missing);
                return -2;
        }
        return 0;
}

int64_t sc_avro_r_long(sc_avro_rd_t *r)
{
        uint64_t v = 0;
        for (int shift = 0; !r->bad && shift < 64; shift += 7) {
                if (r->p >= r->end)
                        break;
                unsigned char b = *r->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        }
        r->bad = 1;
        return 0;
}

int32_t sc_avro_r_int(sc_avro_rd_t *r)
{
        int64_t v = sc_avro_r_long(r);
        if (v < INT32_MIN || v > INT32_MAX) {
                r->bad = 1;
                return 0;
        }
        return (int32_t)v;
}

int sc_avro_r_bool(sc_avro_rd_t *r)
{
        if (r->bad || r->p >= r->end) {
                r->bad = 1;
                return 0;
        }
        return *r->p++ != 0; /* as Avro-C: any byte but 0 is true */
}

double sc_avro_r_double(sc_avro_rd_t *r)
{
        if (r->bad || r->end - r->p < 8) {
                r->bad = 1;
                return 0;
        }
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
                u = (u << 8) | r->p[i];
        r->p += 8;
        double d;
        memcpy(&d, &u, sizeof(d));
        return d;
}

const char *sc_avro_r_str(sc_avro_rd_t *r, size_t *len)
{
        int64_t n = sc_avro_r_long(r);
        sc_buf_t *b = r->scratch;
        /* The copy fits the room reserved by sc_avro_rd_init (see sc_avro.h);
         * checked anyway so a misuse is an error, not an overflow. */
        if (r->bad || n < 0 || n > r->end - r->p || b->len + (size_t)n + 1 > b->cap) {
                r->bad = 1;
                if (len)
                        *len = 0;
                return "";
        }
        char *s = b->data + b->len;
        memcpy(s, r->p, (size_t)n);
        s[n] = '\0';
        b->len += (size_t)n + 1;
        r->p += n;
        if (len)
                *len = (size_t)n;
        return s;
}

const char *sc_avro_r_opt_str(sc_avro_rd_t *r)
{
        int64_t branch = sc_avro_r_long(r);
        if (branch == 1)
                return sc_avro_r_str(r, NULL);
        if (branch != 0)
                r->bad = 1;
        return NULL;
}

sc_opt_long_t sc_avro_r_opt_long(sc_avro_rd_t *r)
{
        int64_t branch = sc_avro_r_long(r);
        if (branch == 1) {
                int64_t v = sc_avro_r_long(r);
                return r->bad ? SC_OPT_NONE : SC_OPT_LONG(v);
        }
        if (branch != 0)
                r->bad = 1;
        return SC_OPT_NONE;
}

int64_t sc_avro_r_block(sc_avro_rd_t *r)
{
        int64_t n = sc_avro_r_long(r);
        if (n < 0) {
                /* INT64_MIN has no positive count (and -n is UB). */
                if (n == INT64_MIN) {
                        r->bad = 1;
                        return 0;
                }
                n = -n;
                if (sc_avro_r_long(r) < 0) /* the block's size in bytes */
                        r->bad = 1;
        }
        /* Every item takes at least one byte. */
        if (n > r->end - r->p)
                r->bad = 1;
        return r->bad ? 0 : n;
}

int sc_avro_rd_end(const sc_avro_rd_t *r, const char *record, char *errstr,
                   size_t errstr_size)
{
        if (!r->bad && r->p == r->end)
                return 0;
        if (r->bad)
                snprintf(errstr, errstr_size, "Avro body does not match %s", record);
        else
                snprintf(errstr, errstr_size, "%ld trailing bytes after the %s record",
                         (long)(r->end - r->p), record);
        return -1;
}

int32_t sc_avro_frame_id(const void *buf, size_t len)
{
        const unsigned char *p = buf;
        if (!p || len < FRAME_HEADER || p[0] != 0)
                return -1;
        return (int32_t)(((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) |
                         ((uint32_t)p[3] << 8) | p[4]);
}

/* Walks the binary body against the schema before Avro-C reads it, so a
 * hostile length ("a string of 2^60 bytes") is an error here instead of a
 * huge allocation inside avro_value_read(). */
typedef struct walk_s {
        const unsigned char *p, *end;
        int depth;
} walk_t;

static int walk_long(walk_t *w, int64_t *out)
{
        uint64_t v = 0;
        int shift = 0;
        for (;;) {
                if (w->p >= w->end || shift > 63)
                        return -1;
                unsigned char b = *w->p++;
                v |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                        break;
                shift += 7;
        }
        *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        return 0;
}

static int walk_skip(walk_t *w, int64_t n)
{
        if (n < 0 || n > w->end - w->p)
                return -1;
        w->p += n;
        return 0;
}

static int walk(walk_t *w, avro_schema_t s)
{
        int64_t n;
        if (++w->depth > 64)
                return -1;
        int rc = 0;
        switch (avro_typeof(s)) {
        case AVRO_NULL:
                break;
        case AVRO_BOOLEAN:
                rc = walk_skip(w, 1);
                break;
        case AVRO_INT32:
        case AVRO_INT64:
        case AVRO_ENUM:
                rc = walk_long(w, &n);
                if (rc == 0 && avro_typeof(s) == AVRO_ENUM &&
                    (n < 0 || n >= avro_schema_enum_number_of_symbols(s)))
                        rc = -1;
                /* Avro-C refuses an int out of range only once it has built
                 * part of the value, and leaks that part. */
                if (rc == 0 && avro_typeof(s) == AVRO_INT32 &&
                    (n < INT32_MIN || n > INT32_MAX))
                        rc = -1;
                break;
        case AVRO_FLOAT:
                rc = walk_skip(w, 4);
                break;
        case AVRO_DOUBLE:
                rc = walk_skip(w, 8);
                break;
        case AVRO_STRING:
        case AVRO_BYTES:
                rc = walk_long(w, &n) || walk_skip(w, n) ? -1 : 0;
                break;
        case AVRO_FIXED:
                rc = walk_skip(w, avro_schema_fixed_size(s));
                break;
        case AVRO_RECORD:
                for (size_t i = 0; rc == 0 && i < avro_schema_record_size(s); i++)
                        rc = walk(w, avro_schema_record_field_get_by_index(s, (int)i));
                break;
        case AVRO_UNION:
                rc = walk_long(w, &n);
                if (rc == 0 && (n < 0 || (size_t)n >= avro_schema_union_size(s)))
                        rc = -1;
                if (rc == 0)
                        rc = walk(w, avro_schema_union_branch(s, (int)n));
                break;
        case AVRO_ARRAY:
        case AVRO_MAP:
                for (;;) {
                        if (walk_long(w, &n)) {
                                rc = -1;
                                break;
                        }
                        if (n == 0)
                                break;
                        if (n < 0) {
                                int64_t bytes;
                                /* a negative size is malformed (and what
                                 * alert's direct reader rejects) */
                                if (n == INT64_MIN || walk_long(w, &bytes) || bytes < 0) {
                                        rc = -1;
                                        break;
                                }
                                n = -n;
                        }
                        /* Every item takes at least one byte unless the item
                         * type is null; bound the count by what is left. */
                        if (n > (w->end - w->p) + 1 && n > 1000000) {
                                rc = -1;
                                break;
                        }
                        avro_schema_t item = avro_typeof(s) == AVRO_ARRAY
                                                 ? avro_schema_array_items(s)
                                                 : avro_schema_map_values(s);
                        for (int64_t i = 0; rc == 0 && i < n; i++) {
                                if (avro_typeof(s) == AVRO_MAP) {
                                        int64_t kl;
                                        if (walk_long(w, &kl) || walk_skip(w, kl)) {
                                                rc = -1;
                                                break;
                                        }
                                }
                                rc = walk(w, item);
                        }
                        if (rc)
                                break;
                }
                break;
        case AVRO_LINK:
                rc = walk(w, avro_schema_link_target(s));
                break;
        default:
                rc = -1;
        }
        w->depth--;
        return rc;
}

int sc_avro_decode(sc_avro_codec_t *c, const void *buf, size_t len, avro_value_t **out,
                   char *errstr, size_t errstr_size)
{
        int32_t id = sc_avro_frame_id(buf, len);
        if (id < 0) {
                snprintf(errstr, errstr_size,
                         "not a Confluent Avro frame (magic byte/length)");
                return -1;
        }
        if (!sc_avro_codec_accepts(c, id)) {
                snprintf(errstr, errstr_size, "schema id %d, expected %d (%s)", (int)id,
                         (int)c->id, c->record);
                return -1;
        }
        walk_t w = {(const unsigned char *)buf + FRAME_HEADER,
                    (const unsigned char *)buf + len, 0};
        if (walk(&w, c->schema) == -1) {
                snprintf(errstr, errstr_size, "Avro body does not match %s at byte %ld",
                         c->record, (long)(w.p - (const unsigned char *)buf));
                return -1;
        }
        if (w.p != w.end) {
                snprintf(errstr, errstr_size, "%ld trailing bytes after the %s record",
                         (long)(w.end - w.p), c->record);
                return -1;
        }
        avro_value_reset(&c->value);
        avro_reader_memory_set_source(c->reader, (const char *)buf + FRAME_HEADER,
                                      (int64_t)(len - FRAME_HEADER));
        if (avro_value_read(c->reader, &c->value)) {
                snprintf(errstr, errstr_size, "avro: %s", avro_strerror());
                return -1;
        }
        *out = &c->value;
        return 0;
}

int sc_avro_get(avro_value_t *rec, const char *field, avro_value_t *out)
{
        return avro_value_get_by_name(rec, field, out, NULL) ? -1 : 0;
}

int sc_avro_set_strn(avro_value_t *rec, const char *field, const char *s, size_t n)
{
        avro_value_t f;
        if (sc_avro_get(rec, field, &f))
                return -1;
        /* Avro-C string sizes include the terminating NUL; s may not have one
         * at n, so give it a copy-free path only when it does. */
        if (s[n] == '\0')
                return avro_value_set_string_len(&f, s, n + 1) ? -1 : 0;
        char small[512];
        if (n < sizeof(small)) {
                memcpy(small, s, n);
                small[n] = '\0';
                return avro_value_set_string_len(&f, small, n + 1) ? -1 : 0;
        }
        char *tmp = sc_malloc(n + 1);
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        int rc = avro_value_set_string_len(&f, tmp, n + 1) ? -1 : 0;
        free(tmp);
        return rc;
}

int sc_avro_set_str(avro_value_t *rec, const char *field, const char *s)
{
        return sc_avro_set_strn(rec, field, s ? s : "", s ? strlen(s) : 0);
}

int sc_avro_set_long(avro_value_t *rec, const char *field, int64_t v)
{
        avro_value_t f;
        return sc_avro_get(rec, field, &f) || avro_value_set_long(&f, v) ? -1 : 0;
}

int sc_avro_set_double(avro_value_t *rec, const char *field, double v)
{
        avro_value_t f;
        return sc_avro_get(rec, field, &f) || avro_value_set_double(&f, v) ? -1 : 0;
}

int sc_avro_set_bool(avro_value_t *rec, const char *field, int v)
{
        avro_value_t f;
        return sc_avro_get(rec, field, &f) || avro_value_set_boolean(&f, v ? 1 : 0) ? -1
                                                                                    : 0;
}

int sc_avro_set_opt_str(avro_value_t *rec, const char *field, const char *s)
{
        avro_value_t f, b;
        if (sc_avro_get(rec, field, &f))
                return -1;
        if (!s)
                return avro_value_set_branch(&f, 0, &b) || avro_value_set_null(&b) ? -1
                                                                                   : 0;
        return avro_value_set_branch(&f, 1, &b) ||
                       avro_value_set_string_len(&b, s, strlen(s) + 1)
                   ? -1
                   : 0;
}

int sc_avro_set_opt_long(avro_value_t *rec, const char *field, const int64_t *v)
{
        avro_value_t f, b;
        if (sc_avro_get(rec, field, &f))
                return -1;
        if (!v)
                return avro_value_set_branch(&f, 0, &b) || avro_value_set_null(&b) ? -1
                                                                                   : 0;
        return avro_value_set_branch(&f, 1, &b) || avro_value_set_long(&b, *v) ? -1 : 0;
}

/* Resolves a ["null", T] union to its branch; plain fields pass through. */
static int resolve(avro_value_t *rec, const char *field, avro_value_t *out)
{
        avro_value_t f;
        if (sc_avro_get(rec, field, &f))
                return -1;
        if (avro_value_get_type(&f) == AVRO_UNION) {
                if (avro_value_get_current_branch(&f, out))
                        return -1;
                return avro_value_get_type(out) == AVRO_NULL ? -1 : 0;
        }
        *out = f;
        return 0;
}

const char *sc_avro_str(avro_value_t *rec, const char *field, size_t *len)
{
        avro_value_t f;
        const char *s;
        size_t size;
        if (resolve(rec, field, &f) || avro_value_get_type(&f) != AVRO_STRING ||
            avro_value_get_string(&f, &s, &size)) {
                if (len)
                        *len = 0;
                return NULL;
        }
        if (len)
                *len = size ? size - 1 : 0;
        return s;
}

int64_t sc_avro_long(avro_value_t *rec, const char *field, int64_t def)
{
        avro_value_t f;
        int64_t v;
        int32_t i;
        if (resolve(rec, field, &f))
                return def;
        if (avro_value_get_type(&f) == AVRO_INT32)
                return avro_value_get_int(&f, &i) ? def : i;
        return avro_value_get_long(&f, &v) ? def : v;
}

double sc_avro_double(avro_value_t *rec, const char *field, double def)
{
        avro_value_t f;
        double v;
        return resolve(rec, field, &f) || avro_value_get_double(&f, &v) ? def : v;
}

int sc_avro_bool(avro_value_t *rec, const char *field, int def)
{
        avro_value_t f;
        int v;
        return resolve(rec, field, &f) || avro_value_get_boolean(&f, &v) ? def : v;
}

int sc_avro_opt(avro_value_t *rec, const char *field, avro_value_t *out)
{
        return resolve(rec, field, out) == 0 ? 1 : 0;
}
