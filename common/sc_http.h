/* The operations endpoint of every worker (libmicrohttpd, its own thread):
 *   GET /metrics  Prometheus text from the registry
 *   GET /healthz  200 "ok" while live, 503 with the reason otherwise
 *   GET /readyz   200 when ready to work (broker and Redis reachable)
 * The health callbacks run on the HTTP thread: they must only read state the
 * worker publishes atomically. */
#ifndef SC_HTTP_H
#define SC_HTTP_H
#include <stddef.h>

#include "sc_buf.h"
#include "sc_metrics.h"

typedef struct sc_http_s sc_http_t;

/* Returns 1 when healthy; may append a one-line reason to detail. */
typedef int(sc_health_cb)(void *opaque, sc_buf_t *detail);

/* bind: "0.0.0.0", "127.0.0.1" or NULL (all). port 0 picks a free port (see
 * sc_http_port). m, live and ready must outlive the server. */
sc_http_t *sc_http_new(const char *bind, int port, sc_metrics_t *m, sc_health_cb *live,
                       sc_health_cb *ready, void *opaque, char *errstr,
                       size_t errstr_size);
int sc_http_port(const sc_http_t *h);
void sc_http_destroy(sc_http_t *h);

#endif
