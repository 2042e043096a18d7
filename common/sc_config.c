#include "sc_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sc_alloc.h"
#include "sc_log.h"

#ifndef SC_SCHEMAS_DIR
#define SC_SCHEMAS_DIR SC_SOURCE_DIR "/schemas"
#endif

#define UNBOUNDED 1, 0

/* Settings every worker has. */
static const sc_conf_def_t common_defs[] = {
    {"log.level", SC_CONF_STR, "info", UNBOUNDED, "error, warn, info or debug"},
    {"log.format", SC_CONF_STR, "text", UNBOUNDED, "text or json (one object a line)"},
    {"redis.url", SC_CONF_STR, "redis://127.0.0.1:6379/0", UNBOUNDED,
     "redis://[:password@]host:port[/db], unix:///path or "
     "redis+cluster://[:password@]host:port[,host:port...] (cluster "
     "seeds)" SC_CONF_RESTART},
    {"redis.timeout_ms", SC_CONF_INT, "2000", 50, 60000,
     "connect and command timeout" SC_CONF_RESTART},
    {"schema_registry.url", SC_CONF_STR, "", UNBOUNDED,
     "Confluent Schema Registry base URL; empty: local ids from "
     "schemas/ids.map" SC_CONF_RESTART},
    {"schema_registry.timeout_ms", SC_CONF_INT, "5000", 100, 60000,
     "registry request timeout" SC_CONF_RESTART},
    {"schema_registry.wait_ms", SC_CONF_INT, "60000", 0, 3600000,
     "a registry down at start is retried this long (each attempt logged), "
     "then the worker exits; never replaced by local ids" SC_CONF_RESTART},
    {"schemas.dir", SC_CONF_STR, SC_SCHEMAS_DIR, UNBOUNDED,
     "folder of the .avsc files" SC_CONF_RESTART},
    {"metrics.port", SC_CONF_INT, "0", 0, 65535,
     "port of /metrics, /healthz, /readyz; 0: off" SC_CONF_RESTART},
    {"metrics.bind", SC_CONF_STR, "0.0.0.0", UNBOUNDED,
     "address the metrics port binds" SC_CONF_RESTART},
    {"messages.max_bytes", SC_CONF_INT, "1000000", 16384, 1000000000,
     "largest record a worker produces (key + value + headers): the producer's "
     "message.max.bytes; keep it at or below the brokers' message.max.bytes and the "
     "topics' max.message.bytes (Kafka's default 1048588). Dead letters are cut to "
     "fit" SC_CONF_RESTART},
    SC_CONF_END,
};

/* Runtime settings, one set per worker, named "<worker>.<key>". */
static const sc_conf_def_t runtime_defs[] = {
    {"input_topics", SC_CONF_STR, "", UNBOUNDED,
     "topics consumed (comma separated)" SC_CONF_RESTART},
    {"group_id", SC_CONF_STR, "", UNBOUNDED,
     "consumer group (default socialcare-<worker>)" SC_CONF_RESTART},
    {"batch_size", SC_CONF_INT, "500", 1, 100000, "messages handed to one process call"},
    {"batch_wait_ms", SC_CONF_INT, "50", 0, 10000,
     "longest wait to fill a batch before processing what arrived"},
    {"max_inflight", SC_CONF_INT, "100000", 100, 10000000,
     "undelivered input messages before consuming pauses"},
    {"tick_ms", SC_CONF_INT, "1000", 10, 600000, "period of the worker's timer"},
    {"retry_backoff_max_ms", SC_CONF_INT, "10000", 100, 600000,
     "longest wait between retries of a batch during an outage"},
    {"dlq_suffix", SC_CONF_STR, ".dlq", UNBOUNDED, "dead-letter topic = input + suffix"},
    SC_CONF_END,
};

typedef struct setting_s {
        const sc_conf_def_t *def;
        char *name; /* full name (runtime defs are prefixed) */
        char *value;
        char origin[320];
} setting_t;

typedef struct kafka_prop_s {
        char *role; /* NULL: both clients */
        char *name;
        char *value;
        char origin[320];
} kafka_prop_t;

struct sc_config_s {
        char *worker;
        setting_t *settings;
        size_t setting_cnt;
        kafka_prop_t *kafka;
        size_t kafka_cnt, kafka_cap;
        sc_yaml_t *yaml;
        char *file;
};

static void add_setting(sc_config_t *c, const sc_conf_def_t *d, const char *prefix)
{
        setting_t *s = &c->settings[c->setting_cnt++];
        size_t n = strlen(d->name) + (prefix ? strlen(prefix) + 1 : 0) + 1;
        s->def = d;
        s->name = sc_malloc(n);
        if (prefix)
                snprintf(s->name, n, "%s.%s", prefix, d->name);
        else
                snprintf(s->name, n, "%s", d->name);
        s->value = sc_strdup(d->def ? d->def : "");
        snprintf(s->origin, sizeof(s->origin), "default");
}

static size_t count_defs(const sc_conf_def_t *d)
{
        size_t n = 0;
        while (d && d[n].name)
                n++;
        return n;
}

sc_config_t *sc_config_new(const char *worker, const sc_conf_def_t *worker_defs)
{
        sc_config_t *c = sc_calloc(1, sizeof(*c));
        c->worker = sc_strdup(worker);
        size_t n =
            count_defs(common_defs) + count_defs(runtime_defs) + count_defs(worker_defs);
        c->settings = sc_calloc(n, sizeof(*c->settings));
        for (const sc_conf_def_t *d = common_defs; d->name; d++)
                add_setting(c, d, NULL);
        for (const sc_conf_def_t *d = runtime_defs; d->name; d++)
                add_setting(c, d, worker);
        for (const sc_conf_def_t *d = worker_defs; d && d->name; d++)
                add_setting(c, d, NULL);
        return c;
}

void sc_config_destroy(sc_config_t *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->setting_cnt; i++) {
                free(c->settings[i].name);
                free(c->settings[i].value);
        }
        for (size_t i = 0; i < c->kafka_cnt; i++) {
                free(c->kafka[i].role);
                free(c->kafka[i].name);
                free(c->kafka[i].value);
        }
        free(c->settings);
        free(c->kafka);
        sc_yaml_destroy(c->yaml);
        free(c->file);
        free(c->worker);
        free(c);
}

static setting_t *find(const sc_config_t *c, const char *name)
{
        for (size_t i = 0; i < c->setting_cnt; i++)
                if (!strcmp(c->settings[i].name, name))
                        return &c->settings[i];
        return NULL;
}

static void set_kafka(sc_config_t *c, const char *role, const char *name,
                      const char *value, const char *origin)
{
        for (size_t i = 0; i < c->kafka_cnt; i++) {
                kafka_prop_t *k = &c->kafka[i];
                if (!strcmp(k->name, name) &&
                    ((!role && !k->role) ||
                     (role && k->role && !strcmp(role, k->role)))) {
                        free(k->value);
                        k->value = sc_strdup(value);
                        snprintf(k->origin, sizeof(k->origin), "%s", origin);
                        return;
                }
        }
        SC_GROW(c->kafka, c->kafka_cap, c->kafka_cnt + 1);
        kafka_prop_t *k = &c->kafka[c->kafka_cnt++];
        k->role = role ? sc_strdup(role) : NULL;
        k->name = sc_strdup(name);
        k->value = sc_strdup(value);
        snprintf(k->origin, sizeof(k->origin), "%s", origin);
}

/* "kafka.consumer.x" -> role consumer, property x. */
static void split_kafka(const char *name, const char **role, const char **prop)
{
        *role = NULL;
        *prop = name;
        if (!strncmp(name, "consumer.", 9)) {
                *role = "consumer";
                *prop = name + 9;
        } else if (!strncmp(name, "producer.", 9)) {
                *role = "producer";
                *prop = name + 9;
        }
}

int sc_config_set(sc_config_t *c, const char *name, const char *value, char *errstr,
                  size_t errstr_size)
{
        if (!strncmp(name, "kafka.", 6)) {
                const char *role, *prop;
                split_kafka(name + 6, &role, &prop);
                if (!*prop) {
                        snprintf(errstr, errstr_size, "empty kafka property name");
                        return -1;
                }
                set_kafka(c, role, prop, value, "flag");
                return 0;
        }
        setting_t *s = find(c, name);
        if (!s) {
                snprintf(errstr, errstr_size, "unknown setting '%s' (see --help)", name);
                return -1;
        }
        free(s->value);
        s->value = sc_strdup(value);
        snprintf(s->origin, sizeof(s->origin), "flag");
        return 0;
}

static int is_common_section(const char *key)
{
        for (const sc_conf_def_t *d = common_defs; d->name; d++) {
                size_t n = strlen(key);
                if (!strncmp(d->name, key, n) && d->name[n] == '.')
                        return 1;
        }
        return 0;
}

/* Flattens a map into dotted names and stores known ones. Unknown scalars
 * are errors in the common sections and directly in this worker's section;
 * deeper maps and sequences of the worker's section are structured data the
 * worker parses itself. */
static int load_map(sc_config_t *c, const sc_yaml_node_t *map, const char *prefix,
                    int strict, int depth, char *errstr, size_t errstr_size)
{
        for (const sc_yaml_node_t *n = map->child; n; n = n->next) {
                char name[256];
                snprintf(name, sizeof(name), "%s.%s", prefix, n->key);
                if (n->type == SC_YAML_MAP) {
                        if (load_map(c, n, name, strict, depth + 1, errstr,
                                     errstr_size) == -1)
                                return -1;
                        continue;
                }
                if (n->type == SC_YAML_SEQ) {
                        if (strict) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: '%s' must be a single value",
                                         sc_yaml_name(c->yaml), n->line, name);
                                return -1;
                        }
                        continue;
                }
                setting_t *s = find(c, name);
                if (!s) {
                        if (strict || depth == 0) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: unknown setting '%s' (see --help)",
                                         sc_yaml_name(c->yaml), n->line, name);
                                return -1;
                        }
                        continue;
                }
                free(s->value);
                s->value = sc_strdup(n->value ? n->value : "");
                snprintf(s->origin, sizeof(s->origin), "%s:%d", sc_yaml_name(c->yaml),
                         n->line);
        }
        return 0;
}

static void load_kafka(sc_config_t *c, const sc_yaml_node_t *map, const char *role,
                       const char *prefix)
{
        for (const sc_yaml_node_t *n = map->child; n; n = n->next) {
                char name[256], origin[96];
                if (prefix)
                        snprintf(name, sizeof(name), "%s.%s", prefix, n->key);
                else
                        snprintf(name, sizeof(name), "%s", n->key);
                if (n->type == SC_YAML_MAP) {
                        if (!prefix && !role &&
                            (!strcmp(n->key, "consumer") || !strcmp(n->key, "producer")))
                                load_kafka(c, n, n->key, NULL);
                        else
                                load_kafka(c, n, role, name);
                        continue;
                }
                if (n->type != SC_YAML_SCALAR)
                        continue;
                snprintf(origin, sizeof(origin), "%s:%d", sc_yaml_name(c->yaml), n->line);
                set_kafka(c, role, name, n->value ? n->value : "", origin);
        }
}

int sc_config_load_file(sc_config_t *c, const char *path, char *errstr,
                        size_t errstr_size)
{
        sc_yaml_t *y = sc_yaml_load_file(path, errstr, errstr_size);
        if (!y)
                return -1;
        sc_yaml_destroy(c->yaml);
        c->yaml = y;
        free(c->file);
        c->file = sc_strdup(path);
        const sc_yaml_node_t *root = sc_yaml_root(y);
        if (!root)
                return 0;
        if (root->type != SC_YAML_MAP) {
                snprintf(errstr, errstr_size, "%s:%d: the deployment file must be a map",
                         path, root->line);
                return -1;
        }
        for (const sc_yaml_node_t *n = root->child; n; n = n->next) {
                if (!strcmp(n->key, "kafka")) {
                        if (n->type != SC_YAML_MAP) {
                                snprintf(errstr, errstr_size,
                                         "%s:%d: kafka must be a map", path, n->line);
                                return -1;
                        }
                        load_kafka(c, n, NULL, NULL);
                        continue;
                }
                int own = !strcmp(n->key, c->worker);
                if (!own && !is_common_section(n->key))
                        continue; /* brands, teams, other workers' sections */
                if (n->type != SC_YAML_MAP) {
                        if (n->type == SC_YAML_SCALAR && (!n->value || !*n->value))
                                continue; /* "section:" left empty */
                        snprintf(errstr, errstr_size, "%s:%d: '%s' must be a map", path,
                                 n->line, n->key);
                        return -1;
                }
                if (load_map(c, n, n->key, !own, 0, errstr, errstr_size) == -1)
                        return -1;
        }
        return 0;
}

/* SOCIALCARE_REDIS_URL -> matches setting "redis.url" by its env form. */
static int env_matches(const char *setting, const char *env)
{
        for (; *setting && *env; setting++, env++) {
                char s = *setting == '.' ? '_' : (char)toupper((unsigned char)*setting);
                if (s != *env)
                        return 0;
        }
        return !*setting && !*env;
}

int sc_config_load_env(sc_config_t *c, char *errstr, size_t errstr_size)
{
        extern char **environ;
        (void)errstr;
        (void)errstr_size;
        for (char **e = environ; *e; e++) {
                if (strncmp(*e, "SOCIALCARE_", 11))
                        continue;
                const char *eq = strchr(*e, '=');
                if (!eq)
                        continue;
                char key[256];
                size_t klen = (size_t)(eq - (*e + 11));
                if (klen >= sizeof(key))
                        continue;
                memcpy(key, *e + 11, klen);
                key[klen] = '\0';
                char origin[300];
                snprintf(origin, sizeof(origin), "env SOCIALCARE_%s", key);
                if (!strncmp(key, "KAFKA_", 6)) {
                        char prop[256];
                        size_t i;
                        for (i = 0; key[6 + i]; i++)
                                prop[i] = key[6 + i] == '_'
                                              ? '.'
                                              : (char)tolower((unsigned char)key[6 + i]);
                        prop[i] = '\0';
                        const char *role, *name;
                        split_kafka(prop, &role, &name);
                        if (*name)
                                set_kafka(c, role, name, eq + 1, origin);
                        continue;
                }
                for (size_t i = 0; i < c->setting_cnt; i++) {
                        setting_t *s = &c->settings[i];
                        if (env_matches(s->name, key)) {
                                free(s->value);
                                s->value = sc_strdup(eq + 1);
                                snprintf(s->origin, sizeof(s->origin), "%s", origin);
                        }
                }
        }
        return 0;
}

static int parse_bool(const char *v, int *out)
{
        static const char *yes[] = {"true", "yes", "on", "1"},
                          *no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
                if (!strcasecmp(v, yes[i])) {
                        *out = 1;
                        return 0;
                }
                if (!strcasecmp(v, no[i])) {
                        *out = 0;
                        return 0;
                }
        }
        return -1;
}

static int check_value(const setting_t *s, char *errstr, size_t errstr_size)
{
        const sc_conf_def_t *d = s->def;
        char *end;
        double v;
        switch (d->type) {
        case SC_CONF_STR:
                return 0;
        case SC_CONF_BOOL: {
                int b;
                if (parse_bool(s->value, &b) == 0)
                        return 0;
                snprintf(errstr, errstr_size, "%s (%s): '%s' is not a boolean", s->name,
                         s->origin, s->value);
                return -1;
        }
        case SC_CONF_INT:
                errno = 0;
                v = (double)strtoll(s->value, &end, 10);
                if (errno || end == s->value || *end) {
                        snprintf(errstr, errstr_size, "%s (%s): '%s' is not an integer",
                                 s->name, s->origin, s->value);
                        return -1;
                }
                break;
        case SC_CONF_DOUBLE:
                errno = 0;
                v = strtod(s->value, &end);
                if (errno || end == s->value || *end || !isfinite(v)) {
                        snprintf(errstr, errstr_size, "%s (%s): '%s' is not a number",
                                 s->name, s->origin, s->value);
                        return -1;
                }
                break;
        default:
                return -1;
        }
        if (d->min <= d->max && (v < d->min || v > d->max)) {
                snprintf(errstr, errstr_size, "%s (%s): %s is out of range [%g, %g]",
                         s->name, s->origin, s->value, d->min, d->max);
                return -1;
        }
        return 0;
}

int sc_config_validate(const sc_config_t *c, char *errstr, size_t errstr_size)
{
        for (size_t i = 0; i < c->setting_cnt; i++)
                if (check_value(&c->settings[i], errstr, errstr_size) == -1)
                        return -1;
        if (sc_log_level_parse(sc_config_str(c, "log.level")) < 0) {
                snprintf(errstr, errstr_size,
                         "log.level: '%s' is not error|warn|info|debug",
                         sc_config_str(c, "log.level"));
                return -1;
        }
        const char *fmt = sc_config_str(c, "log.format");
        if (strcmp(fmt, "text") && strcmp(fmt, "json")) {
                snprintf(errstr, errstr_size, "log.format: '%s' is not text|json", fmt);
                return -1;
        }
        return 0;
}

static setting_t *must_find(const sc_config_t *c, const char *name, sc_conf_type_t type)
{
        setting_t *s = find(c, name);
        if (!s || s->def->type != type) {
                sc_log(SC_LOG_ERROR, "BUG: setting '%s' is not declared with that type",
                       name);
                abort();
        }
        return s;
}

const char *sc_config_str(const sc_config_t *c, const char *name)
{
        return must_find(c, name, SC_CONF_STR)->value;
}

int64_t sc_config_int(const sc_config_t *c, const char *name)
{
        return strtoll(must_find(c, name, SC_CONF_INT)->value, NULL, 10);
}

int sc_config_is_default(const sc_config_t *c, const char *name)
{
        const setting_t *s = find(c, name);
        return !s || !strcmp(s->origin, "default");
}

double sc_config_double(const sc_config_t *c, const char *name)
{
        return strtod(must_find(c, name, SC_CONF_DOUBLE)->value, NULL);
}

int sc_config_bool(const sc_config_t *c, const char *name)
{
        int b = 0;
        parse_bool(must_find(c, name, SC_CONF_BOOL)->value, &b);
        return b;
}

const sc_yaml_node_t *sc_config_tree(const sc_config_t *c)
{
        return c->yaml ? sc_yaml_root(c->yaml) : NULL;
}

const char *sc_config_file(const sc_config_t *c)
{
        return c->file;
}

rd_kafka_conf_t *sc_config_kafka_conf(const sc_config_t *c, const char *role,
                                      char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char kerr[256];
        /* Shared properties first so role-specific ones win. */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < c->kafka_cnt; i++) {
                        const kafka_prop_t *k = &c->kafka[i];
                        if (pass == 0 ? k->role != NULL
                                      : (!k->role || strcmp(k->role, role)))
                                continue;
                        if (rd_kafka_conf_set(conf, k->name, k->value, kerr,
                                              sizeof(kerr)) != RD_KAFKA_CONF_OK) {
                                snprintf(errstr, errstr_size, "kafka.%s%s%s (%s): %s",
                                         k->role ? k->role : "", k->role ? "." : "",
                                         k->name, k->origin, kerr);
                                rd_kafka_conf_destroy(conf);
                                return NULL;
                        }
                }
        }
        return conf;
}

static int needs_restart(const setting_t *s)
{
        const char *h = s->def->help;
        size_t n = h ? strlen(h) : 0, m = strlen(SC_CONF_RESTART);
        return n >= m && !strcmp(h + n - m, SC_CONF_RESTART);
}

static int same_kafka(const sc_config_t *a, const sc_config_t *b)
{
        if (a->kafka_cnt != b->kafka_cnt)
                return 0;
        for (size_t i = 0; i < a->kafka_cnt; i++) {
                const kafka_prop_t *x = &a->kafka[i], *y = &b->kafka[i];
                if (strcmp(x->role ? x->role : "", y->role ? y->role : "") ||
                    strcmp(x->name, y->name) || strcmp(x->value, y->value))
                        return 0;
        }
        return 1;
}

size_t sc_config_restart_changes(const sc_config_t *old, const sc_config_t *c, char *out,
                                 size_t out_size)
{
        size_t n = 0, len = 0;
        if (out_size)
                out[0] = '\0';
        for (size_t i = 0; i < c->setting_cnt; i++) {
                const setting_t *s = &c->settings[i];
                const setting_t *o = find(old, s->name);
                if (!needs_restart(s) || (o && !strcmp(o->value, s->value)))
                        continue;
                if (len < out_size)
                        len += (size_t)snprintf(out + len, out_size - len, "%s%s",
                                                n ? ", " : "", s->name);
                n++;
        }
        if (!same_kafka(old, c)) {
                if (len < out_size)
                        snprintf(out + len, out_size - len, "%skafka.*", n ? ", " : "");
                n++;
        }
        return n;
}

const char *sc_config_kafka_get(const sc_config_t *c, const char *role, const char *name)
{
        const char *shared = NULL;
        for (size_t i = 0; i < c->kafka_cnt; i++) {
                const kafka_prop_t *k = &c->kafka[i];
                if (strcmp(k->name, name))
                        continue;
                if (!k->role)
                        shared = k->value;
                else if (role && !strcmp(k->role, role))
                        return k->value;
        }
        return shared;
}

static int is_secret(const char *name)
{
        return strstr(name, "password") || strstr(name, "secret") ||
               strstr(name, ".pem") || strstr(name, "token") ||
               strstr(name, "sasl.oauthbearer.config");
}

/* redis://:pw@host -> redis://:***@host */
static void mask_url(const char *v, char *out, size_t n)
{
        const char *at = strchr(v, '@'), *scheme = strstr(v, "://");
        if (!at || !scheme || at < scheme) {
                snprintf(out, n, "%s", v);
                return;
        }
        snprintf(out, n, "%.*s***%s", (int)(scheme + 3 - v), v, at);
}

void sc_config_print(const sc_config_t *c, FILE *fp)
{
        char masked[512];
        fprintf(fp, "# %s configuration (value  # origin)\n", c->worker);
        for (size_t i = 0; i < c->setting_cnt; i++) {
                const setting_t *s = &c->settings[i];
                const char *v = s->value;
                if (is_secret(s->name) && *v)
                        v = "********";
                else if (strstr(s->name, "url")) {
                        mask_url(v, masked, sizeof(masked));
                        v = masked;
                }
                fprintf(fp, "%s = %s  # %s\n", s->name, v, s->origin);
        }
        for (size_t i = 0; i < c->kafka_cnt; i++) {
                const kafka_prop_t *k = &c->kafka[i];
                fprintf(fp, "kafka.%s%s%s = %s  # %s\n", k->role ? k->role : "",
                        k->role ? "." : "", k->name,
                        is_secret(k->name) ? "********" : k->value, k->origin);
        }
}

void sc_config_print_help(const sc_config_t *c, FILE *fp)
{
        static const char *types[] = {"string", "integer", "number", "boolean"};
        fprintf(
            fp,
            "Settings (YAML section.key; env SOCIALCARE_SECTION_KEY; -o name=value):\n");
        for (size_t i = 0; i < c->setting_cnt; i++) {
                const setting_t *s = &c->settings[i];
                const sc_conf_def_t *d = s->def;
                fprintf(fp, "  %-34s %-8s default %s", s->name, types[d->type],
                        d->def && *d->def ? d->def : "\"\"");
                if (d->min <= d->max)
                        fprintf(fp, " [%g..%g]", d->min, d->max);
                fprintf(fp, "\n      %s\n", d->help);
        }
        fprintf(fp,
                "  kafka.<property>                   any librdkafka property, passed "
                "unchanged\n"
                "  kafka.consumer.<property>          consumer only\n"
                "  kafka.producer.<property>          producer only\n"
                "      e.g. SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS, "
                "SOCIALCARE_KAFKA_SASL_PASSWORD\n");
}
