/* The Schema Registry reply, as a worker reads it at start: sc_avro_codec()
 * with a registry URL POSTs the schema and parses the reply body (status and
 * JSON {"id": N}). A real HTTP server (libmicrohttpd on 127.0.0.1, a free
 * port) answers every request with the input: byte 0 picks the status (200
 * mostly, sometimes 404/500/201), the rest is the body. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "sc_avro.h"

static struct MHD_Daemon *daemon_;
static char url[64];
static const uint8_t *reply;
static size_t reply_len;
static unsigned reply_status;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *u,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
        (void)cls, (void)u, (void)method, (void)version, (void)upload;
        if (!*state) { /* first call: headers only */
                *state = conn;
                return MHD_YES;
        }
        if (*upload_size) { /* the schema being registered: ignored */
                *upload_size = 0;
                return MHD_YES;
        }
        struct MHD_Response *r = MHD_create_response_from_buffer(reply_len, (void *)reply,
                                                                 MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type",
                                "application/vnd.schemaregistry.v1+json");
        enum MHD_Result rc = MHD_queue_response(conn, reply_status, r);
        MHD_destroy_response(r);
        return rc;
}

static void init(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer,
                                   NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                   MHD_OPTION_END);
        /* port 0 above is "any free port": ask which one we got */
        const union MHD_DaemonInfo *di =
            daemon_ ? MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        if (!di) {
                fprintf(stderr, "cannot start the HTTP server\n");
                abort();
        }
        snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)di->port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const unsigned statuses[] = {200, 200, 200, 200, 200, 201, 404, 500};
        if (!daemon_)
                init();
        if (size < 1)
                return 0;
        reply_status = statuses[data[0] & 7];
        reply = data + 1;
        reply_len = size - 1;
        char err[1024];
        sc_avro_t *a = sc_avro_new(SC_SOURCE_DIR "/schemas", url, err, sizeof(err));
        FUZZ_CHECK(a != NULL);
        /* One attempt per input: a 5xx is retried for a minute in the workers. */
        sc_avro_set_registry_timeouts(a, 2000, 0);
        sc_avro_codec_t *c =
            sc_avro_codec(a, "Post", "social.posts-value", err, sizeof(err));
        if (c) {
                FUZZ_CHECK(reply_status == 200);
                FUZZ_CHECK(sc_avro_codec_id(c) >= 0);
        } else {
                FUZZ_CHECK(err[0] != '\0');
        }
        sc_avro_destroy(a);
        return 0;
}
