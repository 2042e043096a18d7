/* The deployment file as every worker loads it: sc_config (common sections,
 * kafka passthrough, validation, --print-config), then the structured
 * sections parsed from the same tree: brands, calendars (with their time
 * zones), teams, route's rule compiler, alert's webhook targets. Whatever
 * compiles is also used once (rules evaluated, an SLA due time computed), as
 * a worker would right after loading. */
#include "fuzz.h"
#include "sc_alerts.h"
#include "sc_brands.h"
#include "sc_calendar.h"
#include "sc_config.h"
#include "sc_rules.h"
#include "sc_teams.h"

static FILE *devnull;

static void use_rules(const sc_rules_t *rules, const sc_brands_t *brands,
                      const sc_teams_t *teams)
{
        static const char *topics[] = {"internet", "billing"};
        static const size_t topic_lens[] = {8, 7};
        sc_route_scratch_t scratch = {SC_BUF_INIT, 0};
        const sc_brand_t *b = sc_brands_count(brands) ? sc_brands_at(brands, 0) : NULL;
        sc_route_post_t p = {
            .brand = b ? b->id : "telko",
            .platform = SC_PLATFORM_X,
            .lang = SC_LANG_PL,
            .label = SC_LABEL_NEGATIVE,
            .score = -0.8,
            .intent = {[SC_INTENT_COMPLAINT] = 0.9, [SC_INTENT_CHURN] = 0.7},
            .topics = topics,
            .topic_lens = topic_lens,
            .topic_cnt = 2,
            .reach = 12000,
            .followers = 5000,
            .priority = SC_PRIO_NORMAL,
            .needs_reply = 1,
            .text = "Internet nie działa, rezygnuję z abonamentu! #telko",
        };
        p.text_len = strlen(p.text);
        sc_route_decision_t d;
        sc_rules_eval(rules, &scratch, &p, &d);
        FUZZ_CHECK(d.team >= 0 && (size_t)d.team < sc_teams_count(teams));
        FUZZ_CHECK(d.rule_id != NULL);
        for (size_t i = 0; i < sc_rules_count(rules); i++)
                FUZZ_CHECK(sc_rules_rule_id(rules, i) != NULL);
        (void)sc_rules_summary(rules);
        sc_buf_free(&scratch.fold);
}

static void use_teams(const sc_teams_t *teams)
{
        const int64_t t0 = 1795000000000; /* 2026-11-18 */
        for (size_t i = 0; i < sc_teams_count(teams) && i < 8; i++) {
                const sc_team_t *t = sc_teams_at(teams, i);
                for (int prio = 0; prio < SC_PRIO_CNT; prio++) {
                        int64_t due = sc_team_due_at(t, prio, t0);
                        FUZZ_CHECK(due == -1 || due >= t0);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!devnull)
                devnull = fopen("/dev/null", "w");
        char path[64], err[1024];
        fuzz_memfile(data, size, path);

        sc_config_t *c = sc_config_new("fuzz", NULL);
        if (sc_config_load_file(c, path, err, sizeof(err)) == 0 &&
            sc_config_validate(c, err, sizeof(err)) == 0) {
                sc_config_print(c, devnull);
                rd_kafka_conf_t *kc =
                    sc_config_kafka_conf(c, "producer", err, sizeof(err));
                if (kc)
                        rd_kafka_conf_destroy(kc);
        }
        const sc_yaml_node_t *root = sc_config_tree(c);
        if (root) {
                sc_brands_t *brands = sc_brands_new(root, err, sizeof(err));
                sc_calendars_t *cals = sc_calendars_new(root, err, sizeof(err));
                sc_teams_t *teams =
                    cals ? sc_teams_new(root, cals, path, err, sizeof(err)) : NULL;
                if (teams)
                        use_teams(teams);
                sc_rules_t *rules = brands && teams
                                        ? sc_rules_new(root, brands, teams, "care", path,
                                                       err, sizeof(err))
                                        : NULL;
                if (rules)
                        use_rules(rules, brands, teams);
                if (brands) {
                        static const char text[] = "Mój router od Telko znowu nie działa";
                        (void)sc_brands_match_text(brands, text, sizeof(text) - 1);
                        (void)sc_brands_by_account(brands, "x", "telko_pl", "1");
                }
                sc_alert_target_t *targets = NULL;
                size_t target_cnt = 0;
                if (sc_alert_targets_parse(root, path, &targets, &target_cnt, err,
                                           sizeof(err)) == 0)
                        sc_alert_targets_free(targets, target_cnt);
                sc_rules_destroy(rules);
                sc_teams_destroy(teams);
                sc_calendars_destroy(cals);
                sc_brands_destroy(brands);
        }
        sc_config_destroy(c);
        return 0;
}
