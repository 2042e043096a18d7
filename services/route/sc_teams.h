/* The top-level `teams:` section of the deployment file: who handles routed
 * posts, on which business calendar, and the first-response SLA target per
 * priority.
 *
 *   teams:
 *     care:
 *       name: Customer care              # optional, for people
 *       calendar: office_pl              # an id of `calendars:`; default "24x7"
 *       sla: {urgent: 15m, high: 30m, normal: 1h, low: 4h}
 *       queue_topic: care.queue.care     # optional; default care.queue.<id>
 *
 * A priority missing from sla means "no SLA" for it (due_at null). */
#ifndef SC_TEAMS_H
#define SC_TEAMS_H
#include <stddef.h>
#include <stdint.h>

#include "sc_calendar.h"
#include "sc_vocab.h"
#include "sc_yaml.h"

/* Priorities are the vocabulary's (sc_vocab.h: SC_PRIO_*, most urgent first,
 * the order "at least high" relies on; sc_prio_parse). This name is "normal"
 * for an index out of range (what route writes for an unknown priority). */
const char *sc_priority_name(int prio);

typedef struct sc_team_s {
        const char *id;
        const char *name;
        const char *queue_topic;
        const char *calendar_id;
        const sc_calendar_t *calendar;       /* borrowed from the calendars given */
        int64_t sla_ms[SC_PRIO_CNT];         /* -1: no SLA for that priority */
        const char *sla_policy[SC_PRIO_CNT]; /* "<team>/<priority>", NULL without SLA */
} sc_team_t;

typedef struct sc_teams_s sc_teams_t;

/* Parses root's `teams:` map. calendars must outlive the result (teams point
 * at its calendars). file names the source in messages ("file:line: ...");
 * may be NULL. Caller frees with sc_teams_destroy(). */
sc_teams_t *sc_teams_new(const sc_yaml_node_t *root, const sc_calendars_t *calendars,
                         const char *file, char *errstr, size_t errstr_size);
void sc_teams_destroy(sc_teams_t *t);
size_t sc_teams_count(const sc_teams_t *t);
const sc_team_t *sc_teams_at(const sc_teams_t *t, size_t i);
/* Index of the team with that id, or -1. */
int sc_teams_find(const sc_teams_t *t, const char *id);

/* The first-response deadline of a post created at created_ms with this
 * priority: sla target of business time on the team's calendar, the clock
 * starting at created_ms. -1 when the team has no SLA for the priority (or
 * its calendar never opens). No allocation. */
int64_t sc_team_due_at(const sc_team_t *t, int prio, int64_t created_ms);

#endif
