/* Offsets and pools of the worker runtime.
 *
 * Contract: every consumed input gets an sc_inflight_t with one pending
 * reference for "process() has not returned yet" plus one per undelivered
 * output or hold; it sits in its partition's ring in offset order. An
 * input's offset (and all before it) is stored only once it and every input
 * before it reached zero pending: the at-least-once rule. An entry orphaned
 * by a revoke (part NULL) is never stored. The pools keep released entries
 * and output contexts for reuse, so a warm worker does not allocate per
 * message. */
#include "sc_worker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_log.h"
#include "sc_time.h"

/* ---- pools ------------------------------------------------------------- */

sc_inflight_t *sc_wk_inflight_get(sc_worker_t *w)
{
        sc_inflight_t *f = w->free_inflight;
        if (f)
                w->free_inflight = f->next_free;
        else
                f = sc_malloc(sizeof(*f));
        memset(f, 0, sizeof(*f));
        f->gen = sc_wk_gen_ref(w);
        w->inflight_total++;
        return f;
}

void sc_wk_inflight_put(sc_worker_t *w, sc_inflight_t *f)
{
        sc_wk_gen_release(w, f->gen);
        f->gen = NULL;
        f->next_free = w->free_inflight;
        w->free_inflight = f;
        w->inflight_total--;
}

out_ctx_t *sc_wk_ctx_get(sc_worker_t *w)
{
        out_ctx_t *c = w->free_ctx;
        if (c)
                w->free_ctx = c->next_free;
        else
                c = sc_malloc(sizeof(*c));
        memset(c, 0, sizeof(*c));
        c->gen = sc_wk_gen_ref(w);
        return c;
}

void sc_wk_ctx_put(sc_worker_t *w, out_ctx_t *c)
{
        sc_wk_gen_release(w, c->gen);
        c->gen = NULL;
        c->next_free = w->free_ctx;
        w->free_ctx = c;
}

/* ---- offset tracking --------------------------------------------------- */

part_t *sc_wk_part_find(sc_worker_t *w, const char *topic, int32_t partition)
{
        for (part_t *p = w->parts; p; p = p->next)
                if (p->partition == partition && !strcmp(p->topic, topic))
                        return p;
        part_t *p = sc_calloc(1, sizeof(*p));
        p->topic = sc_strdup(topic);
        p->partition = partition;
        p->store_offset = -1;
        p->next = w->parts;
        w->parts = p;
        return p;
}

part_t *sc_wk_part_of(sc_worker_t *w, const rd_kafka_message_t *rkm)
{
        /* Topic handles are stable for the consumer's life: compare them
         * first so the common case is a pointer compare. */
        for (part_t *p = w->parts; p; p = p->next)
                if (p->rkt == rkm->rkt && p->partition == rkm->partition)
                        return p;
        part_t *p = sc_wk_part_find(w, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        p->rkt = rkm->rkt;
        return p;
}

void sc_wk_part_push(part_t *p, sc_inflight_t *f)
{
        if (p->cnt == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 1024;
                sc_inflight_t **ring = sc_malloc(cap * sizeof(*ring));
                for (size_t i = 0; i < p->cnt; i++)
                        ring[i] = p->ring[(p->head + i) % p->cap];
                free(p->ring);
                p->ring = ring;
                p->cap = cap;
                p->head = 0;
        }
        p->ring[(p->head + p->cnt) % p->cap] = f;
        p->cnt++;
}

/* Pops every finished message at the head of the ring: its offset (and all
 * before it) may now be stored. */
void sc_wk_part_advance(sc_worker_t *w, part_t *p)
{
        while (p->cnt) {
                sc_inflight_t *f = p->ring[p->head];
                if (f->pending > 0)
                        break;
                p->store_offset = f->offset + 1;
                p->dirty = 1;
                p->head = (p->head + 1) % p->cap;
                p->cnt--;
                sc_wk_inflight_put(w, f);
        }
}

void sc_wk_inflight_release(sc_worker_t *w, sc_inflight_t *f)
{
        if (--f->pending > 0)
                return;
        if (!f->part) {
                sc_wk_inflight_put(w, f); /* orphaned by a revoke */
                return;
        }
        sc_wk_part_advance(w, f->part);
}

void sc_wk_store_offsets(sc_worker_t *w)
{
        rd_kafka_topic_partition_list_t *list = NULL;
        for (part_t *p = w->parts; p; p = p->next) {
                if (!p->dirty)
                        continue;
                if (!list)
                        list = rd_kafka_topic_partition_list_new(4);
                rd_kafka_topic_partition_list_add(list, p->topic, p->partition)->offset =
                    p->store_offset;
                p->dirty = 0;
        }
        if (!list)
                return;
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(w->consumer, list);
        if (err && err != RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
                sc_log(SC_LOG_WARN, "offsets_store: %s", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(list);
}

sc_hold_t *sc_worker_hold(sc_worker_t *w, sc_msg_t *origin)
{
        (void)w;
        if (!origin)
                return NULL;
        origin->inflight->pending++;
        return (sc_hold_t *)origin->inflight;
}

void sc_worker_release(sc_worker_t *w, sc_hold_t *h)
{
        if (h)
                sc_wk_inflight_release(w, (sc_inflight_t *)h);
}

gen_t *sc_wk_gen_ref(sc_worker_t *w)
{
        if (w->gen)
                w->gen->refs++;
        return w->gen;
}

void sc_wk_gen_release(sc_worker_t *w, gen_t *g)
{
        if (!g || --g->refs > 0 || g == w->gen || g->pinned)
                return;
        for (gen_t **pp = &w->gens; *pp; pp = &(*pp)->next) {
                if (*pp == g) {
                        *pp = g->next;
                        break;
                }
        }
        sc_config_destroy(g->config);
        sc_brands_destroy(g->brands);
        free(g);
        sc_gauge_set(w->m_config_versions, (double)sc_wk_gen_count(w));
}

size_t sc_wk_gen_count(const sc_worker_t *w)
{
        size_t n = 0;
        for (const gen_t *g = w->gens; g; g = g->next)
                n++;
        return n;
}
