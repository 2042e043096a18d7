/* Routing rules: matching table (first match, per-brand before global, every
 * condition and action), validation errors with their line numbers, rules
 * that can never match, and due_at as route computes it through teams
 * (a DST change and a holiday in Europe/Warsaw). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_brands.h"
#include "sc_calendar.h"
#include "sc_rules.h"
#include "sc_teams.h"
#include "sc_test.h"
#include "sc_time.h"
#include "sc_yaml.h"

static const char base[] =
    "brands:\n"                                              /* 1 */
    "  - id: telko\n"                                        /* 2 */
    "    topics:\n"                                          /* 3 */
    "      internet: [\"internet*\"]\n"                      /* 4 */
    "      billing: [\"faktur*\"]\n"                         /* 5 */
    "  - id: bankowo\n"                                      /* 6 */
    "    topics:\n"                                          /* 7 */
    "      fraud: [\"oszust*\"]\n"                           /* 8 */
    "calendars:\n"                                           /* 9 */
    "  office_pl:\n"                                         /* 10 */
    "    timezone: Europe/Warsaw\n"                          /* 11 */
    "    hours:\n"                                           /* 12 */
    "      mon-fri: \"08:00-20:00\"\n"                       /* 13 */
    "      sat: \"09:00-15:00\"\n"                           /* 14 */
    "    holidays: [\"12-25\", \"12-26\", \"2026-11-11\"]\n" /* 15 */
    "  always:\n"                                            /* 16 */
    "    hours: 24/7\n"                                      /* 17 */
    "teams:\n"                                               /* 18 */
    "  care: {name: Customer care, calendar: office_pl, sla: {urgent: 15m, high: 30m, "
    "normal: 1h, low: 4h}}\n" /* 19 */
    "  sales: {calendar: office_pl, sla: {high: 1h, normal: 2h}, queue_topic: "
    "care.queue.sales-pl}\n" /* 20 */
    "  pr: {calendar: always, sla: {urgent: 15m, high: 30m, normal: 2h, low: 8h}}\n" /* 21
                                                                                      */
    "  community: {calendar: office_pl, sla: {normal: 8h}}\n"; /* 22 */
#define BASE_LINES 22

static const char rules_yaml[] =
    "route:\n"               /* 23 */
    "  default_team: care\n" /* 24 */
    "  rules:\n"             /* 25 */
    "    - id: spam\n"       /* 26 */
    "      when: {intents: spam, intent_min_confidence: 0.5}\n"
    "      then: {drop: spam, tags: [spam]}\n"
    "    - id: crisis\n"
    "      when: {intents: [crisis]}\n"
    "      then: {team: pr, priority: urgent, tags: [crisis, escalate]}\n"
    "    - id: influencer-negative\n"
    "      when: {sentiment: negative, followers_min: 10000}\n"
    "      then: {team: pr, priority: high}\n"
    "    - id: verified-any\n"
    "      when: {verified: true}\n"
    "      then: {team: pr}\n"
    "    - id: purchase\n"
    "      when: {intents: purchase_intent, intent_min_confidence: 0.4}\n"
    "      then: {team: sales, tags: [lead]}\n"
    "    - id: praise\n"
    "      when: {intents: praise, sentiment: [positive, neutral]}\n"
    "      then: {team: community, needs_reply: false}\n"
    "    - id: reviews-en\n"
    "      when: {platform: review, language: en}\n"
    "      then: {team: care, tags: [review]}\n"
    "    - id: leak-words\n"
    "      when: {keywords: [\"wyciek danych\", \"data leak\", \"zatru*\"]}\n"
    "      then: {team: pr, priority: urgent}\n"
    "    - id: very-negative\n"
    "      when: {score_max: -0.6}\n"
    "      then: {priority: high, tags: [angry]}\n"
    "    - id: big-reach-urgent\n"
    "      when: {reach_min: 5000, reach_max: 100000, priority_at_least: high}\n"
    "      then: {tags: [reach]}\n"
    "    - id: forum-reply\n"
    "      when: {platform: [forum, comment], reply: true}\n"
    "      then: {team: community, needs_reply: true}\n"
    "  brands:\n"
    "    telko:\n"
    "      default_team: care\n"
    "      rules:\n"
    "        - id: telko-billing\n"
    "          when: {topics: billing, intents_all: [complaint, churn_risk]}\n"
    "          then: {team: sales, priority: high, tags: [retention]}\n"
    "        - id: telko-internet-low\n"
    "          when: {topics: [internet], priority: [low, normal]}\n"
    "          then: {team: care, tags: [network]}\n"
    "    bankowo:\n"
    "      default_team: community\n"
    "      rules:\n"
    "        - id: bank-fraud\n"
    "          when: {topics_all: [fraud]}\n"
    "          then: {team: pr, priority: urgent}\n"
    "        - id: bank-low-followers\n"
    "          when: {followers_max: 10, language: pl}\n"
    "          then: {tags: [small]}\n";

typedef struct env_s {
        sc_yaml_t *y;
        sc_brands_t *brands;
        sc_calendars_t *cals;
        sc_teams_t *teams;
        sc_rules_t *rules;
        char err[512];
} env_t;

static void env_free(env_t *e)
{
        sc_rules_destroy(e->rules);
        sc_teams_destroy(e->teams);
        sc_calendars_destroy(e->cals);
        sc_brands_destroy(e->brands);
        sc_yaml_destroy(e->y);
        memset(e, 0, sizeof(*e));
}

/* 0 when everything loads; -1 with e->err otherwise. */
static int env_load(env_t *e, const char *route)
{
        memset(e, 0, sizeof(*e));
        size_t n = strlen(base) + strlen(route) + 1;
        char *text = malloc(n);
        snprintf(text, n, "%s%s", base, route);
        e->y =
            sc_yaml_load_string(text, strlen(text), "test.yaml", e->err, sizeof(e->err));
        free(text);
        if (!e->y)
                return -1;
        const sc_yaml_node_t *root = sc_yaml_root(e->y);
        e->brands = sc_brands_new(root, e->err, sizeof(e->err));
        e->cals = e->brands ? sc_calendars_new(root, e->err, sizeof(e->err)) : NULL;
        e->teams = e->cals
                       ? sc_teams_new(root, e->cals, "test.yaml", e->err, sizeof(e->err))
                       : NULL;
        e->rules = e->teams ? sc_rules_new(root, e->brands, e->teams, NULL, "test.yaml",
                                           e->err, sizeof(e->err))
                            : NULL;
        return e->rules ? 0 : -1;
}

static sc_route_post_t post(const char *brand)
{
        sc_route_post_t p;
        memset(&p, 0, sizeof(p));
        p.brand = brand;
        p.platform = SC_PLATFORM_X;
        p.lang = SC_LANG_PL;
        p.label = SC_LABEL_NEUTRAL;
        p.score = 0;
        p.priority = SC_PRIO_NORMAL;
        p.needs_reply = 1;
        p.reach = p.followers = 100;
        p.text = "";
        return p;
}

static sc_route_scratch_t scratch;

static sc_route_decision_t eval(const env_t *e, const sc_route_post_t *p)
{
        sc_route_decision_t d;
        memset(&d, 0xab, sizeof(d));
        sc_rules_eval(e->rules, &scratch, p, &d);
        return d;
}

static const char *team_of(const env_t *e, const sc_route_decision_t *d)
{
        return sc_teams_at(e->teams, (size_t)d->team)->id;
}

#define EXPECT(e, p, rule, team, prio)                                                   \
        do {                                                                             \
                sc_route_decision_t d_ = eval((e), &(p));                                \
                CHECK_STR(d_.rule_id, rule);                                             \
                CHECK_STR(team_of((e), &d_), team);                                      \
                CHECK_STR(sc_priority_name(d_.priority), prio);                          \
        } while (0)

static void test_matching(void)
{
        env_t e;
        if (env_load(&e, rules_yaml))
                fprintf(stderr, "%s\n", e.err);
        CHECK(e.rules != NULL);
        CHECK_INT(sc_rules_count(e.rules), 15);
        CHECK_STR(sc_rules_rule_id(e.rules, 0), "spam");

        /* nothing matches: the brand's default, then the global default */
        sc_route_post_t p = post("telko");
        EXPECT(&e, p, "default", "care", "normal");
        p.brand = "bankowo";
        EXPECT(&e, p, "default", "community", "normal");
        p.brand = "autofix"; /* not in route.brands: global rules + default */
        EXPECT(&e, p, "default", "care", "normal");
        p.brand = "nosuchbrand";
        EXPECT(&e, p, "default", "care", "normal");

        /* intents with a minimum confidence; drop + tags */
        p = post("telko");
        p.intent[SC_INTENT_SPAM] = 0.4;
        EXPECT(&e, p, "default", "care", "normal");
        p.intent[SC_INTENT_SPAM] = 0.5;
        sc_route_decision_t d = eval(&e, &p);
        CHECK_STR(d.rule_id, "spam");
        CHECK_INT(d.drop, 1);
        CHECK_INT(d.needs_reply, 0);
        CHECK_INT(d.tag_cnt, 1);
        CHECK_STR(d.tags[0], "spam");
        CHECK_STR(team_of(&e, &d), "care"); /* no team given: the default */

        /* first match wins: spam before crisis */
        p.intent[SC_INTENT_CRISIS] = 0.9;
        EXPECT(&e, p, "spam", "care", "normal");
        p.intent[SC_INTENT_SPAM] = 0;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "crisis");
        CHECK_STR(team_of(&e, &d), "pr");
        CHECK_STR(sc_priority_name(d.priority), "urgent");
        CHECK_INT(d.tag_cnt, 2);
        CHECK_STR(d.tags[1], "escalate");
        CHECK_INT(d.drop, 0);

        /* sentiment label + followers min */
        p = post("autofix");
        p.label = SC_LABEL_NEGATIVE;
        p.score = -0.3;
        p.followers = 9999;
        EXPECT(&e, p, "default", "care", "normal");
        p.followers = 10000;
        EXPECT(&e, p, "influencer-negative", "pr", "high");

        /* verified */
        p = post("autofix");
        p.verified = 1;
        EXPECT(&e, p, "verified-any", "pr", "normal");

        /* purchase: min confidence 0.4 */
        p = post("autofix");
        p.intent[SC_INTENT_PURCHASE] = 0.39;
        EXPECT(&e, p, "default", "care", "normal");
        p.intent[SC_INTENT_PURCHASE] = 0.41;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "purchase");
        CHECK_STR(team_of(&e, &d), "sales");
        CHECK_STR(d.tags[0], "lead");

        /* praise with a label list; needs_reply override */
        p = post("autofix");
        p.intent[SC_INTENT_PRAISE] = 0.8;
        p.label = SC_LABEL_POSITIVE;
        p.score = 0.7;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "praise");
        CHECK_STR(team_of(&e, &d), "community");
        CHECK_INT(d.needs_reply, 0);
        p.label = SC_LABEL_NEGATIVE;
        p.score = -0.1;
        EXPECT(&e, p, "default", "care", "normal");

        /* platform + language */
        p = post("autofix");
        p.platform = SC_PLATFORM_REVIEW;
        EXPECT(&e, p, "default", "care", "normal");
        p.lang = SC_LANG_EN;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "reviews-en");
        CHECK_STR(d.tags[0], "review");
        p.platform = -1; /* unknown platform matches no platform list */
        EXPECT(&e, p, "default", "care", "normal");

        /* keywords: phrases, stems, case and Polish diacritics folded */
        p = post("autofix");
        p.text = "Czy to WYCIEK DANYCH?! pilne";
        p.text_len = strlen(p.text);
        EXPECT(&e, p, "leak-words", "pr", "urgent");
        p.text = "Cała rodzina ma ZATRUCIE pokarmowe";
        p.text_len = strlen(p.text);
        EXPECT(&e, p, "leak-words", "pr", "urgent");
        p.text = "niezatrute jedzenie, data leaks are bad, wyciek-danych";
        p.text_len = strlen(p.text);
        EXPECT(&e, p, "leak-words", "pr",
               "urgent"); /* "wyciek-danych" folds to a phrase */
        p.text = "niezatrute jedzenie, data leaks are bad";
        p.text_len = strlen(p.text);
        EXPECT(&e, p, "default", "care", "normal"); /* stems anchor at a word start */

        /* score max */
        p = post("autofix");
        p.label = SC_LABEL_NEGATIVE;
        p.score = -0.6;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "very-negative");
        CHECK_STR(sc_priority_name(d.priority), "high");
        CHECK_STR(d.tags[0], "angry");

        /* reach range + priority at least */
        p = post("autofix");
        p.reach = 6000;
        p.priority = SC_PRIO_NORMAL;
        EXPECT(&e, p, "default", "care", "normal");
        p.priority = SC_PRIO_HIGH;
        EXPECT(&e, p, "big-reach-urgent", "care", "high");
        p.priority = SC_PRIO_URGENT;
        EXPECT(&e, p, "big-reach-urgent", "care", "urgent");
        p.reach = 100001;
        EXPECT(&e, p, "default", "care", "urgent");

        /* reply + platform list; needs_reply forced on */
        p = post("autofix");
        p.platform = SC_PLATFORM_COMMENT;
        p.needs_reply = 0;
        EXPECT(&e, p, "default", "care", "normal");
        p.is_reply = 1;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "forum-reply");
        CHECK_INT(d.needs_reply, 1);

        /* per-brand rules come before the global ones */
        static const char *const billing[] = {"billing"};
        static const size_t billing_len[] = {7};
        p = post("telko");
        p.topics = billing;
        p.topic_lens = billing_len;
        p.topic_cnt = 1;
        p.intent[SC_INTENT_COMPLAINT] = 0.6;
        EXPECT(&e, p, "default", "care", "normal"); /* intents_all needs both */
        p.intent[SC_INTENT_CHURN] = 0.3;
        d = eval(&e, &p);
        CHECK_STR(d.rule_id, "telko-billing");
        CHECK_STR(team_of(&e, &d), "sales");
        CHECK_STR(d.tags[0], "retention");
        p.brand = "bankowo"; /* the same post for another brand */
        EXPECT(&e, p, "default", "community", "normal");
        p.brand = "telko";
        p.intent[SC_INTENT_CRISIS] = 0.9; /* brand rule still first */
        EXPECT(&e, p, "telko-billing", "sales", "high");

        static const char *const two[] = {"mobile", "internet"};
        p = post("telko");
        p.topics = two;
        p.topic_cnt = 2;
        p.priority = SC_PRIO_LOW;
        EXPECT(&e, p, "telko-internet-low", "care", "low");
        p.priority = SC_PRIO_HIGH;
        EXPECT(&e, p, "default", "care", "high");
        p.intent[SC_INTENT_CRISIS] = 0.9; /* falls through to the global rules */
        EXPECT(&e, p, "crisis", "pr", "urgent");

        static const char *const fraud[] = {"fraud"};
        p = post("bankowo");
        p.topics = fraud;
        p.topic_cnt = 1;
        EXPECT(&e, p, "bank-fraud", "pr", "urgent");
        p = post("bankowo");
        p.followers = 5;
        EXPECT(&e, p, "bank-low-followers", "community", "normal");
        p.lang = SC_LANG_EN;
        EXPECT(&e, p, "default", "community", "normal");
        env_free(&e);
}

/* Each broken route section: the error names the right line and reason. */
static void test_validation(void)
{
        static const struct {
                const char *route;
                int line; /* relative to the route section's first line */
                const char *want;
        } cases[] = {
            {"route:\n  rules:\n    - id: a\n      when: {colour: red}\n      then: "
             "{team: "
             "care}\n",
             4, "unknown condition 'colour'"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: x}\n      then: "
             "{team: "
             "nope}\n",
             5, "unknown team 'nope'"},
            {"route:\n  rules:\n    - id: a\n      then: {team: care, colour: red}\n", 4,
             "unknown action 'colour'"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: myspace}\n      "
             "then: "
             "{team: care}\n",
             4, "unknown platform 'myspace'"},
            {"route:\n  rules:\n    - id: a\n      when:\n        language: de\n      "
             "then: {team: care}\n",
             5, "unknown language 'de'"},
            {"route:\n  rules:\n    - id: a\n      when: {sentiment: angry}\n      then: "
             "{team: care}\n",
             4, "unknown sentiment 'angry'"},
            {"route:\n  rules:\n    - id: a\n      when: {intents: [complaint, rant]}\n  "
             "   "
             " then: {team: care}\n",
             4, "unknown intent 'rant'"},
            {"route:\n  rules:\n    - id: a\n      when: {priority: [critical]}\n      "
             "then: "
             "{team: care}\n",
             4, "unknown priority 'critical'"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: x}\n      then: "
             "{priority: "
             "asap}\n",
             5, "unknown priority 'asap'"},
            {"route:\n  brands:\n    nosuch:\n      rules: []\n", 3,
             "unknown brand 'nosuch'"},
            {"route:\n  default_team: ghost\n", 2, "unknown default_team 'ghost'"},
            {"route:\n  brands:\n    telko:\n      default_team: ghost\n", 4,
             "unknown default_team 'ghost'"},
            {"route:\n  rules:\n    - id: a\n      when:\n        score_min: 0.5\n       "
             " "
             "score_max: 0.2\n      then: {team: care}\n",
             6, "score_min 0.5 > score_max 0.2"},
            {"route:\n  rules:\n    - id: a\n      when: {reach_min: 10, reach_max: 5}\n "
             "    "
             " then: {team: care}\n",
             4, "reach_min > reach_max"},
            {"route:\n  rules:\n    - id: a\n      when: {followers_min: 10, "
             "followers_max: "
             "5}\n      then: {team: care}\n",
             4, "followers_min > followers_max"},
            {"route:\n  rules:\n    - id: a\n      when:\n        sentiment: negative\n  "
             "   "
             "   score_min: 0.5\n      then: {team: care}\n",
             6, "can never match: a negative post never has a score"},
            {"route:\n  rules:\n    - id: a\n      when: {sentiment: positive, "
             "score_max: "
             "-0.2}\n      then: {team: care}\n",
             4, "can never match: a positive post"},
            {"route:\n  rules:\n    - id: a\n      when: {priority: low, "
             "priority_at_least: "
             "high}\n      then: {team: care}\n",
             4, "can never match: priority and priority_at_least"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: []}\n      then: "
             "{team: "
             "care}\n",
             4, "platform is an empty list"},
            {"route:\n  rules:\n    - id: catchall\n      then: {team: care}\n    - id: "
             "b\n  "
             "    when: {platform: x}\n      then: {team: pr}\n",
             5, "rule 'b' can never match: rule 'catchall' (line 25)"},
            {"route:\n  rules:\n    - id: wide\n      when: {platform: [x, facebook], "
             "intents: [complaint, question]}\n      then: {team: care}\n    - id: "
             "narrow\n "
             "     when: {platform: x, intents: complaint, language: pl}\n      then: "
             "{team: "
             "pr}\n",
             6, "rule 'narrow' can never match: rule 'wide'"},
            {"route:\n  rules:\n    - id: kw\n      when: {keywords: [awaria, "
             "\"brak*\"]}\n      then: {team: care}\n    - id: kw2\n      when: "
             "{keywords: "
             "[\"Awaria\"], platform: x}\n      then: {team: pr}\n",
             6, "rule 'kw2' can never match: rule 'kw'"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: x}\n      then: "
             "{team: "
             "care}\n    - id: a\n      when: {platform: review}\n      then: {team: "
             "care}\n",
             6, "duplicate rule id 'a' (first at line 25)"},
            {"route:\n  rules:\n    - when: {platform: x}\n      then: {team: care}\n", 3,
             "a rule needs an id"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: x}\n", 3,
             "rule 'a' has no then"},
            {"route:\n  rules:\n    - id: a\n      when: {intent_min_confidence: 0.5}\n  "
             "  "
             "  then: {team: care}\n",
             4, "intent_min_confidence without intents"},
            {"route:\n  rules:\n    - id: a\n      when: {score_min: 2}\n      then: "
             "{team: "
             "care}\n",
             4, "score_min must be a number in [-1, 1]"},
            {"route:\n  rules:\n    - id: a\n      when: {keywords: [\"a*b\"]}\n      "
             "then: "
             "{team: care}\n",
             4, "'*' is only allowed at the end"},
            {"route:\n  rules:\n    - id: a\n      when: {keywords: [\"!!!\"]}\n      "
             "then: "
             "{team: care}\n",
             4, "has no letters or digits"},
            {"route:\n  brands:\n    telko:\n      rules:\n        - id: a\n          "
             "when: "
             "{topics: [fraud]}\n          then: {team: care}\n",
             6, "unknown topic 'fraud' (not in brand telko topics)"},
            {"route:\n  rules:\n    - id: a\n      when: {topics: [nosuch]}\n      then: "
             "{team: care}\n",
             4, "unknown topic 'nosuch'"},
            {"route:\n  rules:\n    - id: a\n      when: {verified: maybe}\n      then: "
             "{team: care}\n",
             4, "verified must be true or false"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: x}\n      then: "
             "{drop: "
             "ham}\n",
             5, "drop takes only 'spam'"},
            {"route:\n  rules:\n    - id: default\n      then: {team: care}\n", 3,
             "rule id 'default'"},
            {"route:\n  rules:\n    - id: a\n      when: {platform: x}\n      then: {}\n",
             5, "then must be a map with at least one action"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                env_t e;
                int rc = env_load(&e, cases[i].route);
                char want_line[32];
                snprintf(want_line, sizeof(want_line),
                         "test.yaml:%d: ", BASE_LINES + cases[i].line);
                if (rc == 0 || !strstr(e.err, cases[i].want) ||
                    strncmp(e.err, want_line, strlen(want_line)))
                        fprintf(stderr, "case %zu: got \"%s\", want \"%s%s\"\n", i,
                                rc ? e.err : "(loaded)", want_line, cases[i].want);
                CHECK(rc == -1);
                CHECK(strstr(e.err, cases[i].want) != NULL);
                CHECK(!strncmp(e.err, want_line, strlen(want_line)));
                env_free(&e);
        }
        /* Fine: overlapping rules where the later one is not covered, and a
         * catch-all as the last rule. */
        env_t e;
        int rc =
            env_load(&e, "route:\n  rules:\n    - id: a\n      when: {platform: x, "
                         "language: pl}\n      then: {team: care}\n    - id: b\n      "
                         "when: {platform: x}\n      then: {team: pr}\n    - id: c\n   "
                         "   then: {team: sales}\n");
        if (rc)
                fprintf(stderr, "%s\n", e.err);
        CHECK_INT(rc, 0);
        env_free(&e);
        /* No rules at all: everything goes to the default team. */
        CHECK_INT(env_load(&e, "route:\n  default_team: pr\n  rules:\n  brands:\n    "
                               "telko: {default_team: sales}\n"),
                  0);
        sc_route_post_t p = post("telko");
        EXPECT(&e, p, "default", "sales", "normal");
        p.brand = "bankowo";
        EXPECT(&e, p, "default", "pr", "normal");
        env_free(&e);
}

static void test_teams(void)
{
        env_t e;
        char err[256];
        CHECK_INT(env_load(&e, rules_yaml), 0);
        const sc_team_t *sales =
            sc_teams_at(e.teams, (size_t)sc_teams_find(e.teams, "sales"));
        CHECK_STR(sales->queue_topic, "care.queue.sales-pl");
        const sc_team_t *care =
            sc_teams_at(e.teams, (size_t)sc_teams_find(e.teams, "care"));
        CHECK_STR(care->queue_topic, "care.queue.care");
        CHECK_STR(care->name, "Customer care");
        CHECK_STR(care->calendar_id, "office_pl");
        CHECK_INT(care->sla_ms[SC_PRIO_HIGH], 30 * 60000);
        CHECK_STR(care->sla_policy[SC_PRIO_HIGH], "care/high");
        CHECK(sales->sla_policy[SC_PRIO_LOW] == NULL);
        CHECK_INT(sc_team_due_at(sales, SC_PRIO_LOW, 0), -1); /* no SLA -> no due_at */
        CHECK_INT(sc_teams_find(e.teams, "nope"), -1);
        env_free(&e);

        static const struct {
                const char *teams;
                const char *want;
        } bad[] = {
            {"  x: {calendar: nowhere}\n",
             "test.yaml:23: team 'x': unknown calendar 'nowhere'"},
            {"  x: {sla: {critical: 5m}}\n",
             "test.yaml:23: team 'x': unknown priority 'critical'"},
            {"  x: {sla: {high: soon}}\n",
             "test.yaml:23: team 'x': sla high must be a positive"},
            {"  x: {colour: red}\n", "test.yaml:23: team 'x': unknown field 'colour'"},
            {"  X!: {}\n", "test.yaml:23: team id 'X!'"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char text[2048];
                snprintf(text, sizeof(text), "%s%s", base, bad[i].teams);
                sc_yaml_t *y =
                    sc_yaml_load_string(text, strlen(text), "t", err, sizeof(err));
                CHECK(y != NULL);
                sc_calendars_t *cs = sc_calendars_new(sc_yaml_root(y), err, sizeof(err));
                CHECK(cs != NULL);
                sc_teams_t *t =
                    sc_teams_new(sc_yaml_root(y), cs, "test.yaml", err, sizeof(err));
                if (t || !strstr(err, bad[i].want))
                        fprintf(stderr, "teams case %zu: got \"%s\"\n", i,
                                t ? "(ok)" : err);
                CHECK(t == NULL);
                CHECK(strstr(err, bad[i].want) != NULL);
                sc_calendars_destroy(cs);
                sc_yaml_destroy(y);
        }
}

static int64_t at(const char *iso)
{
        int64_t ms;
        if (sc_time_parse(iso, strlen(iso), &ms))
                abort();
        return ms;
}

/* due_at as route computes it: rule -> team + priority -> calendar. */
static void test_due_at(void)
{
        env_t e;
        CHECK_INT(env_load(&e, rules_yaml), 0);
        sc_route_post_t p = post("autofix");
        sc_route_decision_t d = eval(&e, &p); /* default: care, normal (1 h) */
        const sc_team_t *t = sc_teams_at(e.teams, (size_t)d.team);
        /* Friday 2026-03-27 19:30 CET (18:30Z): 30 min that evening, then
         * Saturday 09:00 local, which is after the switch to CEST on Sunday?
         * No: the switch is on Sunday 2026-03-29 02:00, Saturday is still CET. */
        CHECK_INT(sc_team_due_at(t, d.priority, at("2026-03-27T18:30:00Z")),
                  at("2026-03-28T08:30:00Z")); /* sat 09:30 CET */
        /* Saturday 14:30 CET (13:30Z): 30 min, Sunday closed (DST day), then
         * Monday 08:00 CEST = 06:00Z, +30 min. */
        CHECK_INT(sc_team_due_at(t, d.priority, at("2026-03-28T13:30:00Z")),
                  at("2026-03-30T06:30:00Z"));
        /* Autumn: Saturday 2026-10-24 14:45 CEST (12:45Z), 15 min left; Sunday
         * the 25th the clocks go back; Monday 08:00 CET = 07:00Z, +45 min. */
        CHECK_INT(sc_team_due_at(t, d.priority, at("2026-10-24T12:45:00Z")),
                  at("2026-10-26T07:45:00Z"));
        /* Holiday: Tuesday 2026-11-10 19:50 CET (18:50Z), 10 min, Wednesday
         * 11-11 is a holiday, Thursday 08:00 CET = 07:00Z + 50 min. */
        CHECK_INT(sc_team_due_at(t, d.priority, at("2026-11-10T18:50:00Z")),
                  at("2026-11-12T07:50:00Z"));
        /* crisis -> pr on the 24/7 calendar, urgent = 15 min wall clock */
        p.intent[SC_INTENT_CRISIS] = 1;
        d = eval(&e, &p);
        t = sc_teams_at(e.teams, (size_t)d.team);
        CHECK_STR(t->id, "pr");
        CHECK_INT(sc_team_due_at(t, d.priority, at("2026-12-25T23:55:00Z")),
                  at("2026-12-26T00:10:00Z"));
        /* community has no urgent SLA: due_at null */
        p = post("bankowo");
        p.priority = SC_PRIO_URGENT;
        d = eval(&e, &p);
        t = sc_teams_at(e.teams, (size_t)d.team);
        CHECK_STR(t->id, "community");
        CHECK_INT(sc_team_due_at(t, d.priority, at("2026-11-10T10:00:00Z")), -1);
        env_free(&e);
}

static void test_fold(void)
{
        sc_buf_t b = SC_BUF_INIT;
        CHECK_INT(sc_rules_fold(&b, "ŻÓŁTA Łódź, #Awaria!! x_y 5G",
                                strlen("ŻÓŁTA Łódź, #Awaria!! x_y 5G")),
                  0);
        CHECK_STR(b.data, " zolta lodz awaria x y 5g ");
        sc_buf_reset(&b);
        CHECK_INT(sc_rules_fold(&b, "", 0), 0);
        CHECK_STR(b.data, " ");
        sc_buf_reset(&b);
        CHECK_INT(sc_rules_fold(&b, "\xff\xfe ok \xf0\x9f\x91\x8d", 9), 0);
        CHECK_STR(b.data, " ok ");
        /* Lowercase forms longer than their source (U+023A, 2 bytes ->
         * U+2C65, 3 bytes) must not run past the buffer (ASan checks). */
        sc_buf_t src = SC_BUF_INIT;
        for (int i = 0; i < 600; i++)
                sc_buf_puts(&src, "\xc8\xba");
        for (int i = 0; i < 700; i++)
                sc_buf_putc(&src, 'a');
        sc_buf_free(&b); /* a fresh buffer: its capacity is exactly the reservation */
        CHECK_INT(sc_rules_fold(&b, src.data, src.len), 0);
        CHECK_INT(b.len, 1 + 600 * 3 + 700 + 1);
        CHECK(!memcmp(b.data + 1, "\xe2\xb1\xa5", 3));
        CHECK(b.data[b.len - 2] == 'a' && b.data[b.len - 1] == ' ');
        sc_buf_free(&src);
        sc_buf_free(&b);
}

int main(void)
{
        test_fold();
        test_matching();
        test_validation();
        test_teams();
        test_due_at();
        sc_buf_free(&scratch.fold);
        TEST_DONE();
}
