#include "sc_metrics.h"
#include "sc_alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* C11 has no atomic double: the value lives as its bit pattern in a uint64_t,
 * which is lock-free on every platform we build for. */
struct sc_counter_s {
        _Atomic uint64_t bits;
};

struct sc_gauge_s {
        _Atomic uint64_t bits;
};

struct sc_histogram_s {
        double *bounds;
        size_t bound_cnt;
        /* Per bucket (not cumulative) so an observation touches one counter;
         * bound_cnt + 1 entries, the last one is the +Inf bucket. */
        _Atomic uint64_t *buckets;
        _Atomic uint64_t sum_bits;
};

struct series {
        char *labels; /* as given by the caller, "" for none */
        char *full;   /* worker label prepended, what is rendered */
        union {
                sc_counter_t counter;
                sc_gauge_t gauge;
                sc_histogram_t hist;
        } u;
};

/* Series sharing a name form one family so the exposition has a single HELP
 * and TYPE line per name, as Prometheus requires. */
struct family {
        char *name;
        char *help;
        enum metric_type type;
        struct series **series;
        size_t cnt, cap;
};

struct sc_metrics_s {
        pthread_mutex_t lock;
        char *worker_label; /* "" when the registry has no worker name */
        struct family **fams;
        size_t cnt, cap;
};

static uint64_t dbl_bits(double v)
{
        uint64_t b;
        memcpy(&b, &v, sizeof(b));
        return b;
}

static double bits_dbl(uint64_t b)
{
        double v;
        memcpy(&v, &b, sizeof(v));
        return v;
}

static void atomic_dbl_add(_Atomic uint64_t *p, double v)
{
        uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(
            p, &old, dbl_bits(bits_dbl(old) + v), memory_order_relaxed,
            memory_order_relaxed))
                ;
}

static double atomic_dbl_load(_Atomic uint64_t *p)
{
        return bits_dbl(atomic_load_explicit(p, memory_order_relaxed));
}

/* Label values must escape backslash, quote and newline; HELP text only
 * backslash and newline. */
static int put_escaped(sc_buf_t *b, const char *s, int quote)
{
        int rc = 0;
        for (; *s; s++) {
                if (*s == '\\')
                        rc |= sc_buf_puts(b, "\\\\");
                else if (*s == '\n')
                        rc |= sc_buf_puts(b, "\\n");
                else if (*s == '"' && quote)
                        rc |= sc_buf_puts(b, "\\\"");
                else
                        rc |= sc_buf_putc(b, *s);
        }
        return rc;
}

/* Shortest form that reads back to the same double, so bucket bounds show as
 * le="0.005" rather than the 17-digit expansion. */
static void fmt_double(char *dst, size_t n, double v)
{
        if (isnan(v)) {
                snprintf(dst, n, "NaN");
        } else if (isinf(v)) {
                snprintf(dst, n, "%s", v > 0 ? "+Inf" : "-Inf");
        } else {
                snprintf(dst, n, "%.15g", v);
                if (strtod(dst, NULL) != v)
                        snprintf(dst, n, "%.17g", v);
        }
}

static int put_double(sc_buf_t *b, double v)
{
        char tmp[32];
        fmt_double(tmp, sizeof(tmp), v);
        return sc_buf_puts(b, tmp);
}

sc_metrics_t *sc_metrics_new(const char *worker)
{
        sc_metrics_t *m = sc_calloc(1, sizeof(*m));
        sc_buf_t b = SC_BUF_INIT;
        int rc = sc_buf_puts(&b, "");
        if (worker) {
                rc |= sc_buf_puts(&b, "worker=\"");
                rc |= put_escaped(&b, worker, 1);
                rc |= sc_buf_putc(&b, '"');
        }
        if (rc || pthread_mutex_init(&m->lock, NULL) != 0) {
                sc_buf_free(&b);
                free(m);
                return NULL;
        }
        m->worker_label = b.data;
        return m;
}

static void series_free(struct series *s, enum metric_type type)
{
        if (!s)
                return;
        if (type == METRIC_HISTOGRAM) {
                free(s->u.hist.bounds);
                free(s->u.hist.buckets);
        }
        free(s->labels);
        free(s->full);
        free(s);
}

static void family_free(struct family *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->cnt; i++)
                series_free(f->series[i], f->type);
        free(f->series);
        free(f->name);
        free(f->help);
        free(f);
}

void sc_metrics_destroy(sc_metrics_t *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->cnt; i++)
                family_free(m->fams[i]);
        free(m->fams);
        free(m->worker_label);
        pthread_mutex_destroy(&m->lock);
        free(m);
}

/* Called with the lock held. */
static struct family *family_get(sc_metrics_t *m, const char *name, const char *help,
                                 enum metric_type type)
{
        for (size_t i = 0; i < m->cnt; i++)
                if (strcmp(m->fams[i]->name, name) == 0)
                        return m->fams[i];
        SC_GROW(m->fams, m->cap, m->cnt + 1);
        struct family *f = sc_calloc(1, sizeof(*f));
        f->name = sc_strdup(name);
        f->help = sc_strdup(help ? help : "");
        f->type = type;
        m->fams[m->cnt++] = f;
        return f;
}

static char *join_labels(const char *worker_label, const char *labels)
{
        sc_buf_t b = SC_BUF_INIT;
        int rc = sc_buf_puts(&b, worker_label);
        if (*worker_label && *labels)
                rc |= sc_buf_putc(&b, ',');
        rc |= sc_buf_puts(&b, labels);
        if (rc) {
                sc_buf_free(&b);
                return NULL;
        }
        return b.data;
}

/* Finds or creates the series; *created tells the caller to initialise the
 * value part. Called with the lock held. */
static struct series *series_get(sc_metrics_t *m, const char *name, const char *help,
                                 enum metric_type type, const char *labels, int *created)
{
        *created = 0;
        if (!labels)
                labels = "";
        struct family *f = family_get(m, name, help, type);
        /* Reusing a name with another type would render an invalid exposition;
         * it is a programming error and NULL handles are harmless. */
        if (!f || f->type != type)
                return NULL;
        for (size_t i = 0; i < f->cnt; i++)
                if (strcmp(f->series[i]->labels, labels) == 0)
                        return f->series[i];
        SC_GROW(f->series, f->cap, f->cnt + 1);
        struct series *s = sc_calloc(1, sizeof(*s));
        s->labels = sc_strdup(labels);
        s->full = join_labels(m->worker_label, labels);
        if (!s->full) {
                series_free(s, METRIC_COUNTER);
                return NULL;
        }
        f->series[f->cnt++] = s;
        *created = 1;
        return s;
}

sc_counter_t *sc_metrics_counter(sc_metrics_t *m, const char *name, const char *help,
                                 const char *labels)
{
        if (!m || !name)
                return NULL;
        int created;
        pthread_mutex_lock(&m->lock);
        struct series *s = series_get(m, name, help, METRIC_COUNTER, labels, &created);
        if (s && created)
                atomic_init(&s->u.counter.bits, dbl_bits(0));
        pthread_mutex_unlock(&m->lock);
        return s ? &s->u.counter : NULL;
}

sc_gauge_t *sc_metrics_gauge(sc_metrics_t *m, const char *name, const char *help,
                             const char *labels)
{
        if (!m || !name)
                return NULL;
        int created;
        pthread_mutex_lock(&m->lock);
        struct series *s = series_get(m, name, help, METRIC_GAUGE, labels, &created);
        if (s && created)
                atomic_init(&s->u.gauge.bits, dbl_bits(0));
        pthread_mutex_unlock(&m->lock);
        return s ? &s->u.gauge : NULL;
}

sc_histogram_t *sc_metrics_histogram(sc_metrics_t *m, const char *name, const char *help,
                                     const char *labels, const double *bounds,
                                     size_t bound_cnt)
{
        if (!m || !name || (bound_cnt && !bounds))
                return NULL;
        int created;
        pthread_mutex_lock(&m->lock);
        struct series *s = series_get(m, name, help, METRIC_HISTOGRAM, labels, &created);
        if (s && created) {
                sc_histogram_t *h = &s->u.hist;
                /* +1 so a zero-length malloc never masquerades as failure. */
                h->bounds = sc_malloc((bound_cnt + 1) * sizeof(*h->bounds));
                h->buckets = sc_malloc((bound_cnt + 1) * sizeof(*h->buckets));
                if (!h->bounds || !h->buckets) {
                        /* The series is already linked in: leave it valid
                         * and empty rather than unlinking it. */
                        free(h->bounds);
                        free(h->buckets);
                        h->bounds = NULL;
                        h->buckets = NULL;
                        h->bound_cnt = 0;
                        s = NULL;
                } else {
                        if (bound_cnt)
                                memcpy(h->bounds, bounds, bound_cnt * sizeof(*bounds));
                        h->bound_cnt = bound_cnt;
                        for (size_t i = 0; i <= bound_cnt; i++)
                                atomic_init(&h->buckets[i], 0);
                }
                atomic_init(&h->sum_bits, dbl_bits(0));
        } else if (s && !s->u.hist.buckets) {
                s = NULL; /* a previous allocation failed */
        }
        pthread_mutex_unlock(&m->lock);
        return s ? &s->u.hist : NULL;
}

void sc_counter_add(sc_counter_t *c, double v)
{
        if (c)
                atomic_dbl_add(&c->bits, v);
}

void sc_gauge_set(sc_gauge_t *g, double v)
{
        if (g)
                atomic_store_explicit(&g->bits, dbl_bits(v), memory_order_relaxed);
}

void sc_histogram_observe(sc_histogram_t *h, double v)
{
        if (!h || !h->buckets)
                return;
        size_t i = 0;
        /* Few buckets (a dozen at most): a linear scan beats a binary search. */
        while (i < h->bound_cnt && v > h->bounds[i])
                i++;
        atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
        atomic_dbl_add(&h->sum_bits, v);
}

/* name{labels[,extra]} value */
static int put_sample(sc_buf_t *b, const char *name, const char *suffix,
                      const char *labels, const char *extra, double v)
{
        int rc = sc_buf_puts(b, name);
        rc |= sc_buf_puts(b, suffix);
        if (*labels || extra) {
                rc |= sc_buf_putc(b, '{');
                rc |= sc_buf_puts(b, labels);
                if (*labels && extra)
                        rc |= sc_buf_putc(b, ',');
                if (extra)
                        rc |= sc_buf_puts(b, extra);
                rc |= sc_buf_putc(b, '}');
        }
        rc |= sc_buf_putc(b, ' ');
        rc |= put_double(b, v);
        rc |= sc_buf_putc(b, '\n');
        return rc;
}

static int render_histogram(sc_buf_t *b, const char *name, struct series *s)
{
        sc_histogram_t *h = &s->u.hist;
        if (!h->buckets)
                return 0;
        /* _count is the total of the same bucket reads rather than a counter
         * of its own: observers run concurrently, and a separately read count
         * could disagree with the +Inf bucket, which Prometheus rejects. */
        uint64_t cum = 0;
        int rc = 0;
        for (size_t i = 0; i <= h->bound_cnt; i++) {
                char le[48], num[32];
                cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
                fmt_double(num, sizeof(num), i < h->bound_cnt ? h->bounds[i] : INFINITY);
                snprintf(le, sizeof(le), "le=\"%s\"", num);
                rc |= put_sample(b, name, "_bucket", s->full, le, (double)cum);
        }
        rc |= put_sample(b, name, "_sum", s->full, NULL, atomic_dbl_load(&h->sum_bits));
        rc |= put_sample(b, name, "_count", s->full, NULL, (double)cum);
        return rc;
}

int sc_metrics_render(sc_metrics_t *m, sc_buf_t *out)
{
        if (!m)
                return 0;
        static const char *const type_names[] = {"counter", "gauge", "histogram"};
        int rc = 0;
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->cnt; i++) {
                const struct family *f = m->fams[i];
                if (!f->cnt)
                        continue;
                rc |= sc_buf_printf(out, "# HELP %s ", f->name);
                rc |= put_escaped(out, f->help, 0);
                rc |=
                    sc_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
                for (size_t j = 0; j < f->cnt; j++) {
                        struct series *s = f->series[j];
                        if (f->type == METRIC_HISTOGRAM)
                                rc |= render_histogram(out, f->name, s);
                        else if (f->type == METRIC_GAUGE)
                                rc |= put_sample(out, f->name, "", s->full, NULL,
                                                 atomic_dbl_load(&s->u.gauge.bits));
                        else
                                rc |= put_sample(out, f->name, "", s->full, NULL,
                                                 atomic_dbl_load(&s->u.counter.bits));
                }
        }
        pthread_mutex_unlock(&m->lock);
        return rc ? -1 : 0;
}
