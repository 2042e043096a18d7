#include "sc_teams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_alloc.h"
#include "sc_time.h"

const char *sc_priority_name(int prio)
{
        const char *name = sc_prio_name(prio);
        return name ? name : "normal";
}

struct sc_teams_s {
        sc_team_t *teams;
        size_t cnt;
};

void sc_teams_destroy(sc_teams_t *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->cnt; i++) {
                sc_team_t *m = &t->teams[i];
                free((char *)m->id);
                free((char *)m->name);
                free((char *)m->queue_topic);
                free((char *)m->calendar_id);
                for (int p = 0; p < SC_PRIO_CNT; p++)
                        free((char *)m->sla_policy[p]);
        }
        free(t->teams);
        free(t);
}

size_t sc_teams_count(const sc_teams_t *t)
{
        return t ? t->cnt : 0;
}

const sc_team_t *sc_teams_at(const sc_teams_t *t, size_t i)
{
        return t && i < t->cnt ? &t->teams[i] : NULL;
}

int sc_teams_find(const sc_teams_t *t, const char *id)
{
        for (size_t i = 0; t && id && i < t->cnt; i++)
                if (!strcmp(t->teams[i].id, id))
                        return (int)i;
        return -1;
}

int64_t sc_team_due_at(const sc_team_t *t, int prio, int64_t created_ms)
{
        if (!t || prio < 0 || prio >= SC_PRIO_CNT || t->sla_ms[prio] < 0 || !t->calendar)
                return -1;
        return sc_calendar_add(t->calendar, created_ms, t->sla_ms[prio]);
}

static int valid_id(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return 0;
        for (size_t i = 0; i < n; i++) {
                char ch = s[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                      ch == '-'))
                        return 0;
        }
        return 1;
}

static char *dup_printf(const char *a, const char *b, const char *c)
{
        size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
        char *s = sc_malloc(n);
        snprintf(s, n, "%s%s%s", a, b, c);
        return s;
}

#define FAIL(line, ...)                                                                  \
        do {                                                                             \
                int off_ = snprintf(errstr, errstr_size, "%s:%d: ", file, (line));       \
                if (off_ >= 0 && (size_t)off_ < errstr_size)                             \
                        snprintf(errstr + off_, errstr_size - (size_t)off_,              \
                                 __VA_ARGS__);                                           \
                goto fail;                                                               \
        } while (0)

static int parse_team(sc_team_t *m, const sc_yaml_node_t *n, const sc_calendars_t *cals,
                      const char *file, char *errstr, size_t errstr_size)
{
        for (int p = 0; p < SC_PRIO_CNT; p++)
                m->sla_ms[p] = -1;
        if (!valid_id(n->key))
                FAIL(n->line,
                     "team id '%s' must be 1-64 of [a-z0-9_-] (it names a topic)",
                     n->key);
        m->id = sc_strdup(n->key);
        if (n->type != SC_YAML_MAP)
                FAIL(n->line,
                     "team '%s' must be a map (name, calendar, sla, queue_topic)",
                     n->key);
        const char *cal = "24x7";
        int cal_line = n->line;
        for (const sc_yaml_node_t *k = n->child; k; k = k->next) {
                if (!strcmp(k->key, "name") || !strcmp(k->key, "calendar") ||
                    !strcmp(k->key, "queue_topic")) {
                        if (k->type != SC_YAML_SCALAR || !k->value || !*k->value)
                                FAIL(k->line, "team '%s': %s must be a non-empty string",
                                     n->key, k->key);
                        if (k->key[0] == 'n')
                                m->name = sc_strdup(k->value);
                        else if (k->key[0] == 'c') {
                                cal = k->value;
                                cal_line = k->line;
                        } else
                                m->queue_topic = sc_strdup(k->value);
                } else if (!strcmp(k->key, "sla")) {
                        if (k->type != SC_YAML_MAP)
                                FAIL(k->line,
                                     "team '%s': sla must map priority -> duration "
                                     "(urgent: 15m, ...)",
                                     n->key);
                        for (const sc_yaml_node_t *s = k->child; s; s = s->next) {
                                int p = sc_prio_parse(s->key, strlen(s->key));
                                int64_t ms;
                                if (p < 0)
                                        FAIL(s->line,
                                             "team '%s': unknown priority '%s' in sla "
                                             "(urgent, high, normal, low)",
                                             n->key, s->key);
                                if (s->type != SC_YAML_SCALAR || !s->value ||
                                    sc_duration_parse(s->value, &ms) || ms <= 0)
                                        FAIL(s->line,
                                             "team '%s': sla %s must be a positive "
                                             "duration like 15m, 1h, 2h30m",
                                             n->key, s->key);
                                m->sla_ms[p] = ms;
                        }
                } else {
                        FAIL(k->line,
                             "team '%s': unknown field '%s' (name, calendar, sla, "
                             "queue_topic)",
                             n->key, k->key);
                }
        }
        m->calendar = cals ? sc_calendars_find(cals, cal) : NULL;
        if (cals && !m->calendar)
                FAIL(cal_line, "team '%s': unknown calendar '%s' (not in calendars:)",
                     n->key, cal);
        m->calendar_id = sc_strdup(cal);
        if (!m->name)
                m->name = sc_strdup(m->id);
        if (!m->queue_topic)
                m->queue_topic = dup_printf("care.queue.", m->id, "");
        for (int p = 0; p < SC_PRIO_CNT; p++)
                if (m->sla_ms[p] >= 0)
                        m->sla_policy[p] = dup_printf(m->id, "/", sc_prio_name(p));
        return 0;
fail:
        return -1;
}

sc_teams_t *sc_teams_new(const sc_yaml_node_t *root, const sc_calendars_t *calendars,
                         const char *file, char *errstr, size_t errstr_size)
{
        if (!file)
                file = "config";
        sc_teams_t *t = sc_calloc(1, sizeof(*t));
        const sc_yaml_node_t *sec = root ? sc_yaml_get(root, "teams") : NULL;
        if (!sec || (sec->type == SC_YAML_SCALAR && (!sec->value || !*sec->value)))
                FAIL(root ? root->line : 0,
                     "no teams: section (route needs at least one team)");
        if (sec->type != SC_YAML_MAP || sec->count == 0)
                FAIL(sec->line, "teams must be a non-empty map of team id -> team");
        t->teams = sc_calloc(sec->count, sizeof(*t->teams));
        for (const sc_yaml_node_t *n = sec->child; n; n = n->next) {
                sc_team_t *m = &t->teams[t->cnt++];
                if (parse_team(m, n, calendars, file, errstr, errstr_size))
                        goto fail;
                for (size_t i = 0; i + 1 < t->cnt; i++)
                        if (!strcmp(t->teams[i].id, m->id))
                                FAIL(n->line, "duplicate team '%s'", m->id);
        }
        return t;
fail:
        sc_teams_destroy(t);
        return NULL;
}
