/* Prometheus metrics registry. Series are created once (at start, or the
 * first time a label set is seen) and the returned handles are cached by the
 * caller: updating a series is a lock-free atomic add, safe while the HTTP
 * thread renders. The registry owns every series.
 *
 * Names follow Prometheus conventions and start with "socialcare_". labels is
 * the label set as Prometheus text without braces, e.g.
 * "topic=\"social.posts\",reason=\"bad_json\"", or NULL. */
#ifndef SC_METRICS_H
#define SC_METRICS_H
#include <stddef.h>

#include "sc_buf.h"

typedef struct sc_metrics_s sc_metrics_t;
typedef struct sc_counter_s sc_counter_t;
typedef struct sc_gauge_s sc_gauge_t;
typedef struct sc_histogram_s sc_histogram_t;

/* worker is added as a label to every series ("worker=\"ingest\""). */
sc_metrics_t *sc_metrics_new(const char *worker);
void sc_metrics_destroy(sc_metrics_t *m);

/* Same name + labels -> same handle. NULL only on out of memory. */
sc_counter_t *sc_metrics_counter(sc_metrics_t *m, const char *name, const char *help,
                                 const char *labels);
sc_gauge_t *sc_metrics_gauge(sc_metrics_t *m, const char *name, const char *help,
                             const char *labels);
/* bounds: ascending upper bounds, +Inf implied; copied. */
sc_histogram_t *sc_metrics_histogram(sc_metrics_t *m, const char *name, const char *help,
                                     const char *labels, const double *bounds,
                                     size_t bound_cnt);

/* All accept NULL (a worker running without metrics). */
void sc_counter_add(sc_counter_t *c, double v);
void sc_gauge_set(sc_gauge_t *g, double v);
void sc_histogram_observe(sc_histogram_t *h, double v);

/* Prometheus text exposition format 0.0.4, appended to out. */
int sc_metrics_render(sc_metrics_t *m, sc_buf_t *out);

#endif
