/* socialcare-route: Avro Enriched (social.posts.enriched) -> Avro Routed on
 * the team's queue topic (care.queue.<team>) and on care.routed, keyed by
 * brand. Rules (sc_rules) pick team, priority, tags and needs_reply; the
 * team's SLA on its business calendar gives due_at. Stateless: no Redis.
 * SIGHUP rebuilds calendars, teams and rules; a bad config keeps the running
 * set (the runtime logs why). The brand's own posts produce nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_avro.h"
#include "sc_calendar.h"
#include "sc_log.h"
#include "sc_post.h"
#include "sc_routed.h"
#include "sc_rules.h"
#include "sc_teams.h"
#include "sc_time.h"
#include "sc_worker.h"

static const sc_conf_def_t route_defs[] = {
    {"route.default_team", SC_CONF_STR, "care", 1, 0,
     "team of posts no rule matches (a brand may set its own)"},
    {"route.routed_topic", SC_CONF_STR, "care.routed", 1, 0,
     "topic of every decision (dashboards, track)"},
    {"route.max_text_bytes", SC_CONF_INT, "10000", 64, 1048576,
     "text looked at by keyword conditions"},
    SC_CONF_END,
};

/* Everything a config builds, swapped as one on SIGHUP. */
typedef struct ruleset_s {
        sc_calendars_t *cals;
        sc_teams_t *teams;
        sc_rules_t *rules;
        sc_counter_t **team_posts;   /* [team * 2 + drop] */
        sc_counter_t **rule_matches; /* [rule], [rule_cnt] = default */
} ruleset_t;

typedef struct route_s {
        const char *routed_topic;
        sc_avro_codec_t *in, *out;
        ruleset_t *rs;
        sc_route_scratch_t scratch;
        sc_buf_t payload;
        sc_buf_t scratch_in; /* the Enriched record's strings */
        sc_enriched_t enriched;
        sc_routed_t routed;
        sc_counter_t *own_post;
} route_t;

static void ruleset_destroy(ruleset_t *rs)
{
        if (!rs)
                return;
        sc_rules_destroy(rs->rules);
        sc_teams_destroy(rs->teams);
        sc_calendars_destroy(rs->cals);
        free(rs->team_posts);
        free(rs->rule_matches);
        free(rs);
}

static ruleset_t *ruleset_new(const sc_config_t *c, const sc_brands_t *brands,
                              char *errstr, size_t errstr_size)
{
        const char *file = sc_config_file(c) ? sc_config_file(c) : "config";
        const sc_yaml_node_t *root = sc_config_tree(c);
        ruleset_t *rs = sc_calloc(1, sizeof(*rs));
        char err[400];
        rs->cals = sc_calendars_new(root, err, sizeof(err));
        if (!rs->cals) {
                snprintf(errstr, errstr_size, "%s: %s", file, err);
                goto fail;
        }
        rs->teams = sc_teams_new(root, rs->cals, file, errstr, errstr_size);
        if (!rs->teams)
                goto fail;
        rs->rules =
            sc_rules_new(root, brands, rs->teams, sc_config_str(c, "route.default_team"),
                         file, errstr, errstr_size);
        if (!rs->rules)
                goto fail;
        return rs;
fail:
        ruleset_destroy(rs);
        return NULL;
}

/* Every series with known labels exists from the start (exported as 0). */
static void ruleset_metrics(ruleset_t *rs, sc_metrics_t *m)
{
        size_t tn = sc_teams_count(rs->teams), rn = sc_rules_count(rs->rules);
        rs->team_posts = sc_calloc(tn * 2, sizeof(*rs->team_posts));
        rs->rule_matches = sc_calloc(rn + 1, sizeof(*rs->rule_matches));
        char labels[200];
        for (size_t t = 0; t < tn; t++)
                for (int d = 0; d < 2; d++) {
                        snprintf(labels, sizeof(labels), "team=\"%s\",decision=\"%s\"",
                                 sc_teams_at(rs->teams, t)->id,
                                 d ? "drop_spam" : "queue");
                        rs->team_posts[t * 2 + (size_t)d] = sc_metrics_counter(
                            m, "socialcare_route_posts_total",
                            "Posts routed, by team and decision", labels);
                }
        for (size_t i = 0; i <= rn; i++) {
                snprintf(labels, sizeof(labels), "rule=\"%s\"",
                         i < rn ? sc_rules_rule_id(rs->rules, i) : "default");
                rs->rule_matches[i] = sc_metrics_counter(
                    m, "socialcare_route_rule_matches_total",
                    "Posts decided by each rule ('default': no rule matched)", labels);
        }
}

static int route_init(sc_worker_t *w, void **statep, char *errstr, size_t errstr_size)
{
        const sc_config_t *c = sc_worker_config(w);
        route_t *s = sc_calloc(1, sizeof(*s));
        *statep = s;
        s->routed_topic = sc_config_str(c, "route.routed_topic");
        s->scratch.max_text = (size_t)sc_config_int(c, "route.max_text_bytes");
        char subject[300];
        snprintf(subject, sizeof(subject), "%s-value", s->routed_topic);
        s->in = sc_avro_codec(sc_worker_avro(w), "Enriched", NULL, errstr, errstr_size);
        s->out = s->in ? sc_avro_codec(sc_worker_avro(w), "Routed", subject, errstr,
                                       errstr_size)
                       : NULL;
        if (!s->out)
                return -1;
        s->rs = ruleset_new(c, sc_worker_brands(w), errstr, errstr_size);
        if (!s->rs)
                return -1;
        sc_metrics_t *m = sc_worker_metrics(w);
        ruleset_metrics(s->rs, m);
        s->own_post =
            sc_metrics_counter(m, "socialcare_route_ignored_total",
                               "Posts not routed, by reason", "reason=\"own_post\"");
        sc_log(SC_LOG_INFO, "route: %zu teams, %zu calendars, %s",
               sc_teams_count(s->rs->teams), sc_calendars_count(s->rs->cals),
               sc_rules_summary(s->rs->rules));
        return 0;
}

/* The fields the rules look at, from the Enriched record. */
static void route_post(const sc_enriched_t *e, sc_route_post_t *rp)
{
        const sc_post_t *p = &e->post;
        memset(rp, 0, sizeof(*rp));
        rp->brand = p->brand;
        rp->platform = sc_platform_parse(p->platform, strlen(p->platform));
        rp->followers = p->author_followers;
        rp->verified = p->author_verified;
        rp->is_reply = p->parent_id != NULL;
        rp->text = p->text;
        rp->text_len = p->text_len;
        rp->lang = sc_lang_parse(e->language, strlen(e->language));
        rp->label = sc_label_parse(e->label, strlen(e->label));
        rp->score = e->score;
        for (int k = 0; k < SC_INTENT_CNT; k++)
                rp->intent[k] = (e->intent_mask >> k) & 1 ? e->intent[k] : 0;
        rp->topics = e->topics;
        rp->topic_lens = e->topic_lens;
        rp->topic_cnt = e->topic_cnt;
        rp->reach = e->reach;
        rp->priority = sc_prio_parse(e->priority, strlen(e->priority));
        if (rp->priority < 0)
                rp->priority = SC_PRIO_NORMAL;
        rp->needs_reply = e->needs_reply;
}

/* Routed: the Enriched body verbatim, then the decision. */
static int encode(route_t *s, const rd_kafka_message_t *rkm, const sc_team_t *team,
                  const sc_route_decision_t *d, int64_t due, int64_t now)
{
        sc_buf_t *o = &s->payload;
        int sla = due >= 0;
        sc_routed_t *r = &s->routed;
        r->team = team->id;
        r->priority = sc_priority_name(d->priority);
        r->tags = d->tags;
        r->tag_cnt = d->tag_cnt;
        r->needs_reply = d->needs_reply;
        r->decision = d->drop ? "drop_spam" : "queue";
        r->rule_id = d->rule_id;
        r->sla_policy = sla ? team->sla_policy[d->priority] : NULL;
        r->sla_target_s =
            sla ? SC_OPT_LONG(team->sla_ms[d->priority] / 1000) : SC_OPT_NONE;
        r->calendar = sla ? team->calendar_id : NULL;
        r->due_at = sla ? SC_OPT_LONG(due) : SC_OPT_NONE;
        r->routed_at = now;
        return sc_avro_frame_begin(s->out, o) ||
                       sc_buf_append(o, (const char *)rkm->payload + SC_AVRO_FRAME_HEADER,
                                     rkm->len - SC_AVRO_FRAME_HEADER) ||
                       sc_routed_write_decision(r, o)
                   ? -1
                   : 0;
}

static int route_process(sc_worker_t *w, void *state, sc_msg_t *msgs, size_t n)
{
        route_t *s = state;
        const ruleset_t *rs = s->rs; /* one set for the whole batch */
        int64_t now = sc_now_ms();
        for (size_t i = 0; i < n; i++) {
                rd_kafka_message_t *rkm = msgs[i].rkm;
                char err[256];
                sc_route_post_t rp;
                int rc = sc_enriched_decode(s->in, rkm->payload, rkm->len, &s->scratch_in,
                                            &s->enriched, err, sizeof(err));
                if (rc) {
                        if (sc_worker_dead_letter(
                                w, &msgs[i],
                                rc == SC_REC_MISSING ? "missing_field" : "bad_avro", err))
                                return SC_FATAL;
                        continue;
                }
                const sc_post_t p = s->enriched.post;
                route_post(&s->enriched, &rp);
                /* ingest already bounds created_at; a record written to the
                 * topic by anything else must not reach the calendar math
                 * with an instant no post can have. */
                if (!sc_post_created_plausible(&p, now)) {
                        if (sc_worker_dead_letter(w, &msgs[i], "bad_timestamp",
                                                  "post created_at before 1970 or more "
                                                  "than a year ahead"))
                                return SC_FATAL;
                        continue;
                }
                if (p.is_brand) {
                        sc_counter_add(s->own_post, 1);
                        continue;
                }
                sc_route_decision_t d;
                sc_rules_eval(rs->rules, &s->scratch, &rp, &d);
                const sc_team_t *team = sc_teams_at(rs->teams, (size_t)d.team);
                int64_t due = d.drop || !d.needs_reply
                                  ? -1
                                  : sc_team_due_at(team, d.priority, p.created_at);
                sc_buf_reset(&s->payload);
                if (encode(s, rkm, team, &d, due, now)) {
                        if (sc_worker_dead_letter(w, &msgs[i], "encode_error",
                                                  "out of memory encoding Routed"))
                                return SC_FATAL;
                        continue;
                }
                size_t klen = strlen(p.brand);
                if ((!d.drop &&
                     sc_worker_produce(w, &msgs[i], team->queue_topic, p.brand, klen,
                                       s->payload.data, s->payload.len, NULL) == -1) ||
                    sc_worker_produce(w, &msgs[i], s->routed_topic, p.brand, klen,
                                      s->payload.data, s->payload.len, NULL) == -1) {
                        if (sc_worker_dead_letter(w, &msgs[i], "produce_error",
                                                  sc_worker_errstr(w)))
                                return SC_FATAL;
                        continue;
                }
                sc_counter_add(rs->team_posts[(size_t)d.team * 2 + (d.drop ? 1 : 0)], 1);
                sc_counter_add(rs->rule_matches[d.rule >= 0 ? (size_t)d.rule
                                                            : sc_rules_count(rs->rules)],
                               1);
        }
        return SC_OK;
}

/* Called between batches: the next batch sees the new set, no batch sees
 * half of each. */
static int route_reload(sc_worker_t *w, void *state, const sc_config_t *c, char *errstr,
                        size_t errstr_size)
{
        route_t *s = state;
        ruleset_t *rs = ruleset_new(c, sc_worker_brands(w), errstr, errstr_size);
        if (!rs)
                return -1;
        ruleset_metrics(rs, sc_worker_metrics(w));
        ruleset_destroy(s->rs);
        s->rs = rs;
        sc_log(SC_LOG_INFO, "route reloaded: %zu teams, %zu calendars, %s",
               sc_teams_count(rs->teams), sc_calendars_count(rs->cals),
               sc_rules_summary(rs->rules));
        return 0;
}

static int route_check(const sc_config_t *c, char *errstr, size_t errstr_size)
{
        char err[400];
        sc_brands_t *b = sc_brands_new(sc_config_tree(c), err, sizeof(err));
        if (!b) {
                snprintf(errstr, errstr_size, "%s: %s", sc_config_file(c), err);
                return -1;
        }
        ruleset_t *rs = ruleset_new(c, b, errstr, errstr_size);
        int rc = rs ? 0 : -1;
        ruleset_destroy(rs);
        sc_brands_destroy(b);
        return rc;
}

static void route_destroy(void *state)
{
        route_t *s = state;
        if (!s)
                return;
        ruleset_destroy(s->rs);
        sc_buf_free(&s->scratch.fold);
        sc_buf_free(&s->payload);
        sc_buf_free(&s->scratch_in);
        free(s);
}

static const sc_worker_ops_t ops = {
    .name = "route",
    .description = "Enriched posts -> team queues with priority and SLA due time",
    .input_topics = "social.posts.enriched",
    .dlq_reasons = "bad_avro,missing_field,bad_timestamp,encode_error,produce_error",
    .conf_defs = route_defs,
    .init = route_init,
    .process = route_process,
    .reload = route_reload,
    .destroy = route_destroy,
    .check_config = route_check,
};

int main(int argc, char **argv)
{
        return sc_worker_main(argc, argv, &ops);
}
