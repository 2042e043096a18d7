/* Rule evaluation per post with a realistic rule set: 10 brands, 4 teams,
 * 10 global rules + 5 per brand (60 rules; keyword, topic, intent,
 * sentiment, reach and platform conditions), on decoded posts that end up
 * spread over early, late and default matches. Reported: rule evaluation
 * alone, then evaluation + due_at on the team's business calendar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_bench.h"
#include "sc_brands.h"
#include "sc_buf.h"
#include "sc_calendar.h"
#include "sc_rules.h"
#include "sc_teams.h"
#include "sc_yaml.h"

static const char *const brand_ids[10] = {"telko",  "bankowo", "burgerhub", "autofix",
                                          "energo", "lotnik",  "sklepik",   "kolej",
                                          "ubezp",  "apteka"};

static void build_config(sc_buf_t *y)
{
        sc_buf_puts(y, "brands:\n");
        for (int b = 0; b < 10; b++)
                sc_buf_printf(y,
                              "  - id: %s\n    topics:\n      billing: [\"faktur*\", "
                              "\"rachun*\"]\n      outage: [\"awari*\", \"nie dziala\"]\n"
                              "      product%d: [\"produkt*\"]\n",
                              brand_ids[b], b);
        sc_buf_puts(
            y,
            "calendars:\n  office_pl:\n    timezone: Europe/Warsaw\n    hours:\n"
            "      mon-fri: \"08:00-20:00\"\n      sat: \"09:00-15:00\"\n"
            "    holidays: [\"01-01\", \"11-11\", \"12-24\", \"12-25\", \"12-26\"]\n"
            "  always:\n    hours: 24/7\n"
            "teams:\n"
            "  care: {calendar: office_pl, sla: {urgent: 15m, high: 30m, normal: 1h, "
            "low: 4h}}\n"
            "  sales: {calendar: office_pl, sla: {urgent: 30m, high: 1h, normal: 2h, "
            "low: 8h}}\n"
            "  pr: {calendar: always, sla: {urgent: 15m, high: 30m, normal: 2h, low: "
            "8h}}\n"
            "  community: {calendar: office_pl, sla: {high: 1h, normal: 4h, low: 1d}}\n"
            "route:\n  default_team: care\n  rules:\n"
            "    - id: spam\n      when: {intents: spam, intent_min_confidence: 0.5}\n"
            "      then: {drop: spam}\n"
            "    - id: crisis\n      when: {intents: crisis}\n"
            "      then: {team: pr, priority: urgent}\n"
            "    - id: crisis-words\n      when: {keywords: [\"zatruci*\", \"wyciek "
            "danych\", \"data leak\", \"food poisoning\", \"pozar*\", \"wybuch*\"]}\n"
            "      then: {team: pr, priority: urgent}\n"
            "    - id: influencer\n      when: {sentiment: negative, followers_min: "
            "10000}\n      then: {team: pr, priority: high}\n"
            "    - id: verified\n      when: {verified: true, sentiment: [negative, "
            "neutral]}\n      then: {team: pr}\n"
            "    - id: purchase\n      when: {intents: purchase_intent, "
            "intent_min_confidence: 0.4}\n      then: {team: sales, tags: [lead]}\n"
            "    - id: praise\n      when: {intents: praise, sentiment: [positive, "
            "neutral]}\n      then: {team: community}\n"
            "    - id: reviews\n      when: {platform: review, score_max: -0.3}\n"
            "      then: {team: care, priority: high, tags: [review]}\n"
            "    - id: forum-replies\n      when: {platform: [forum, comment], reply: "
            "true}\n      then: {team: community}\n"
            "    - id: care\n      when: {intents: [complaint, question, churn_risk]}\n"
            "      then: {team: care}\n"
            "  brands:\n");
        for (int b = 0; b < 10; b++)
                sc_buf_printf(
                    y,
                    "    %s:\n      rules:\n"
                    "        - id: %s-churn\n          when: {intents_all: [complaint, "
                    "churn_risk], followers_max: 9999}\n          then: {team: sales, "
                    "priority: high, tags: [retention]}\n"
                    "        - id: %s-billing\n          when: {topics: [billing], "
                    "sentiment: negative}\n          then: {team: care, tags: "
                    "[billing]}\n"
                    "        - id: %s-outage-words\n          when: {keywords: "
                    "[\"awari*\", "
                    "\"nie dziala\", \"outage\", \"brak zasiegu\", \"zerwane\"], "
                    "priority_at_least: high}\n          then: {team: care, priority: "
                    "urgent, tags: [outage]}\n"
                    "        - id: %s-product\n          when: {topics: [product%d], "
                    "language: en}\n          then: {team: sales}\n"
                    "        - id: %s-big-reach\n          when: {reach_min: 50000}\n"
                    "          then: {team: pr, priority: high}\n",
                    brand_ids[b], brand_ids[b], brand_ids[b], brand_ids[b], brand_ids[b],
                    b, brand_ids[b]);
}

#define NPOSTS 12

int main(int argc, char **argv)
{
        long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
        char err[512];
        sc_buf_t y = SC_BUF_INIT;
        build_config(&y);
        sc_yaml_t *doc =
            sc_yaml_load_string(y.data, y.len, "bench.yaml", err, sizeof(err));
        const sc_yaml_node_t *root = doc ? sc_yaml_root(doc) : NULL;
        sc_brands_t *brands = root ? sc_brands_new(root, err, sizeof(err)) : NULL;
        sc_calendars_t *cals = brands ? sc_calendars_new(root, err, sizeof(err)) : NULL;
        sc_teams_t *teams =
            cals ? sc_teams_new(root, cals, "bench", err, sizeof(err)) : NULL;
        sc_rules_t *rules =
            teams ? sc_rules_new(root, brands, teams, NULL, "bench", err, sizeof(err))
                  : NULL;
        if (!rules) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        printf("%s, %zu brands\n", sc_rules_summary(rules), sc_brands_count(brands));

        static const char *const texts[] = {
            "@telko_pl nie dziala mi internet od rana, router miga na czerwono. Ile mam "
            "jeszcze czekac?!",
            "Trzeci dzień bez światłowodu. To jest skandal, zmieniam operatora jak tylko "
            "skończy się umowa.",
            "Dzięki za szybką wymianę routera, działa super 👍",
            "do you have a roaming package for the UK? Going to London next week",
            "Ktoś właśnie wypłacił mi 2000 zł z konta, nie autoryzowałam tego! Czy to "
            "wyciek danych? Pilnie proszę o kontakt",
            "Szukam kredytu hipotecznego, jakie macie oprocentowanie?",
            "Waited 50 minutes for a cold burger. Never again.",
            "Po wczorajszym burgerze cała rodzina ma zatrucie pokarmowe. Byliśmy w "
            "szpitalu.",
            "Czy macie opcje wegańskie? Chętnie zamówię na firmową imprezę dla 30 osób.",
            "🚀🚀 FREE crypto giveaway!!! follow me and click bit.ly/xyz to claim 1000 "
            "USDT",
            "Faktura za ten miesiąc jest dwa razy wyższa niż zwykle, co się dzieje?",
            "Great job, third outage this week 🙄 seriously considering switching",
        };
        static const char *const billing[] = {"billing"}, *const outage[] = {"outage"};
        sc_route_post_t posts[NPOSTS];
        for (int i = 0; i < NPOSTS; i++) {
                sc_route_post_t *p = &posts[i];
                memset(p, 0, sizeof(*p));
                p->brand = brand_ids[(i * 7) % 10];
                p->platform = i % 5 == 4 ? SC_PLATFORM_REVIEW : SC_PLATFORM_X;
                p->lang = i % 3 == 0 ? SC_LANG_EN : SC_LANG_PL;
                p->label = i % 3 == 2 ? SC_LABEL_POSITIVE : SC_LABEL_NEGATIVE;
                p->score = p->label == SC_LABEL_POSITIVE ? 0.6 : -0.5;
                p->followers = p->reach = i == 1 ? 15400 : 250;
                p->priority = i % 4 == 0 ? SC_PRIO_HIGH : SC_PRIO_NORMAL;
                p->needs_reply = 1;
                p->text = texts[i];
                p->text_len = strlen(texts[i]);
                p->topics = i % 2 ? billing : outage;
                p->topic_cnt = 1;
        }
        posts[0].intent[SC_INTENT_COMPLAINT] = 0.9;
        posts[1].intent[SC_INTENT_CHURN] = 0.9;
        posts[2].intent[SC_INTENT_PRAISE] = 0.8;
        posts[3].intent[SC_INTENT_QUESTION] = 0.9;
        posts[5].intent[SC_INTENT_PURCHASE] = 0.9;
        posts[6].intent[SC_INTENT_COMPLAINT] = 0.7;
        posts[9].intent[SC_INTENT_SPAM] = 0.98;
        posts[10].intent[SC_INTENT_QUESTION] = 0.6;

        sc_route_scratch_t scratch = {SC_BUF_INIT, 10000};
        sc_route_decision_t d;
        for (int i = 0; i < NPOSTS; i++) { /* warm up, and show where posts land */
                sc_rules_eval(rules, &scratch, &posts[i], &d);
                printf("%s%s", i ? ", " : "rules hit: ", d.rule_id);
        }
        printf("\n");
        int64_t created = 1795400000000; /* Thu 2026-11-19 */
        uint64_t sink = 0;
        uint64_t a0 = sc_bench_allocs(), t0 = sc_bench_now_ns();
        for (long k = 0; k < rounds; k++)
                for (int i = 0; i < NPOSTS; i++) {
                        sc_rules_eval(rules, &scratch, &posts[i], &d);
                        sink += (uint64_t)d.team;
                }
        uint64_t t1 = sc_bench_now_ns(), a1 = sc_bench_allocs();
        sc_bench_report("route rule evaluation (60 rules, 10 brands)",
                        (uint64_t)rounds * NPOSTS, t1 - t0, a1 - a0);

        a0 = sc_bench_allocs();
        t0 = sc_bench_now_ns();
        for (long k = 0; k < rounds; k++)
                for (int i = 0; i < NPOSTS; i++) {
                        sc_rules_eval(rules, &scratch, &posts[i], &d);
                        const sc_team_t *t = sc_teams_at(teams, (size_t)d.team);
                        /* created_at walks through the week: nights, weekends */
                        int64_t due = sc_team_due_at(
                            t, d.priority, created + (k % 97) * 3600 * 1000 + i);
                        sink += (uint64_t)due;
                }
        t1 = sc_bench_now_ns();
        a1 = sc_bench_allocs();
        sc_bench_report("route rule evaluation + due_at", (uint64_t)rounds * NPOSTS,
                        t1 - t0, a1 - a0);
        if (sink == 42)
                printf("\n");
        sc_buf_free(&scratch.fold);
        sc_rules_destroy(rules);
        sc_teams_destroy(teams);
        sc_calendars_destroy(cals);
        sc_brands_destroy(brands);
        sc_yaml_destroy(doc);
        sc_buf_free(&y);
        return 0;
}
