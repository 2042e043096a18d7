#include "sc_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "sc_alloc.h"

struct sc_http_s {
        struct MHD_Daemon *daemon;
        sc_metrics_t *metrics;
        sc_health_cb *live;
        sc_health_cb *ready;
        void *opaque;
        int port;
};

/* Idle keep-alive connections from scrapers would otherwise stay open forever. */
#define SC_HTTP_TIMEOUT_S 30

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
                             const char *type, const char *body, size_t len)
{
        struct MHD_Response *r =
            MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
        if (!r)
                return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, MHD_HTTP_METHOD_GET);
        enum MHD_Result ret = MHD_queue_response(conn, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
                                  const char *body)
{
        return reply(conn, status, "text/plain; charset=utf-8", body, strlen(body));
}

static enum MHD_Result serve_metrics(sc_http_t *h, struct MHD_Connection *conn)
{
        sc_buf_t out = SC_BUF_INIT;
        if (sc_metrics_render(h->metrics, &out) < 0) {
                sc_buf_free(&out);
                return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                  "out of memory\n");
        }
        enum MHD_Result ret = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4",
                                    out.data ? out.data : "", out.len);
        sc_buf_free(&out);
        return ret;
}

static enum MHD_Result serve_health(sc_http_t *h, struct MHD_Connection *conn,
                                    sc_health_cb *cb)
{
        if (!cb)
                return reply_text(conn, MHD_HTTP_OK, "ok\n");
        sc_buf_t detail = SC_BUF_INIT;
        int ok = cb(h->opaque, &detail);
        enum MHD_Result ret;
        if (ok) {
                /* The callback may leave "ok" or nothing in detail: the body of a
                 * healthy probe is fixed so checks can match it. */
                ret = reply_text(conn, MHD_HTTP_OK, "ok\n");
        } else {
                while (detail.len && (detail.data[detail.len - 1] == '\n'))
                        detail.data[--detail.len] = '\0';
                if (!detail.len)
                        sc_buf_puts(&detail, "unhealthy");
                if (sc_buf_putc(&detail, '\n') < 0)
                        ret =
                            reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "unhealthy\n");
                else
                        ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                    "text/plain; charset=utf-8", detail.data, detail.len);
        }
        sc_buf_free(&detail);
        return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
        static int seen;
        sc_http_t *h = cls;
        (void)version;
        (void)upload_data;

        /* Answer only once the request is fully read: replying from the first
         * call would leave a request body unread and break keep-alive. */
        if (!*con_cls) {
                *con_cls = &seen;
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;
                return MHD_YES;
        }

        int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        sc_health_cb *cb = NULL;
        if (strcmp(url, "/metrics") == 0) {
                if (is_get)
                        return serve_metrics(h, conn);
        } else if (strcmp(url, "/healthz") == 0) {
                cb = h->live;
        } else if (strcmp(url, "/readyz") == 0) {
                cb = h->ready;
        } else {
                return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
        }
        if (!is_get)
                return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  "method not allowed\n");
        return serve_health(h, conn, cb);
}

sc_http_t *sc_http_new(const char *bind, int port, sc_metrics_t *m, sc_health_cb *live,
                       sc_health_cb *ready, void *opaque, char *errstr,
                       size_t errstr_size)
{
        const char *shown = bind ? bind : "0.0.0.0";
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        if (port < 0 || port > 65535 ||
            (bind && inet_pton(AF_INET, bind, &sa.sin_addr) != 1)) {
                snprintf(errstr, errstr_size, "cannot listen on %s:%d: %s", shown, port,
                         strerror(EINVAL));
                return NULL;
        }
        sa.sin_port = htons((uint16_t)port);

        sc_http_t *h = sc_calloc(1, sizeof(*h));
        h->metrics = m;
        h->live = live;
        h->ready = ready;
        h->opaque = opaque;

        errno = 0;
        h->daemon = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, handle, h,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)SC_HTTP_TIMEOUT_S, MHD_OPTION_END);
        if (!h->daemon) {
                /* MHD reports nothing itself (no error log); errno is what the
                 * failed socket call left, usually EADDRINUSE or EACCES. */
                int err = errno;
                snprintf(errstr, errstr_size, "cannot listen on %s:%d: %s", shown, port,
                         err ? strerror(err) : "cannot start HTTP daemon");
                free(h);
                return NULL;
        }
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info && info->port ? info->port : port;
        return h;
}

int sc_http_port(const sc_http_t *h)
{
        return h ? h->port : 0;
}

void sc_http_destroy(sc_http_t *h)
{
        if (!h)
                return;
        MHD_stop_daemon(h->daemon);
        free(h);
}
