/* Settings: one declarative table per worker (name, type, default, bounds,
 * help) on top of the common table; values come from the deployment file
 * (socialcare.yaml), then SOCIALCARE_* environment variables, then
 * -o name=value flags, in that order of precedence (last wins).
 *
 * Naming: a setting "redis.url" is `redis: {url: ...}` in YAML and
 * SOCIALCARE_REDIS_URL in the environment. Everything under `kafka:` is handed
 * to librdkafka unchanged (SOCIALCARE_KAFKA_SASL_PASSWORD -> sasl.password);
 * `kafka.consumer:` / `kafka.producer:` sub-maps apply to one client only.
 * Sections of other workers are ignored; unknown keys in this worker's
 * sections are errors with the line number. */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>

#include "sc_yaml.h"

typedef enum {
        SC_CONF_STR,
        SC_CONF_INT,
        SC_CONF_DOUBLE,
        SC_CONF_BOOL,
} sc_conf_type_t;

typedef struct sc_conf_def_s {
        const char *name; /* dotted: "ingest.max_text_bytes" */
        sc_conf_type_t type;
        const char *def; /* default, as text */
        double min, max; /* bounds for INT and DOUBLE (min > max: unbounded) */
        const char *help;
} sc_conf_def_t;

/* Ends the help of a setting a SIGHUP cannot apply (it shows in --help):
 * "port of ..." SC_CONF_RESTART. See sc_config_restart_changes(). */
#define SC_CONF_RESTART " [restart]"

/* Terminates a table. */
#define SC_CONF_END                                                                      \
        {                                                                                \
                NULL, SC_CONF_STR, NULL, 0, 0, NULL                                      \
        }

typedef struct sc_config_s sc_config_t;

/* worker: "ingest", "classify", ... (its YAML section). worker_defs may be
 * NULL; it is not copied and must outlive the config. */
sc_config_t *sc_config_new(const char *worker, const sc_conf_def_t *worker_defs);
void sc_config_destroy(sc_config_t *c);

/* Loads the deployment file; keeps its tree for the structured sections
 * (brands, teams, routing, calendars, alerts). Returns 0 or -1. */
int sc_config_load_file(sc_config_t *c, const char *path, char *errstr,
                        size_t errstr_size);
/* Applies SOCIALCARE_* from the environment. */
int sc_config_load_env(sc_config_t *c, char *errstr, size_t errstr_size);
/* Sets one value ("name=value" as given by -o). kafka.* accepted as is. */
int sc_config_set(sc_config_t *c, const char *name, const char *value, char *errstr,
                  size_t errstr_size);
/* Checks types and bounds of every value. Returns 0 or -1. */
int sc_config_validate(const sc_config_t *c, char *errstr, size_t errstr_size);

/* Typed getters: the name must be in the tables (abort otherwise: a typo is
 * a programming error). Strings are owned by the config. */
const char *sc_config_str(const sc_config_t *c, const char *name);
int64_t sc_config_int(const sc_config_t *c, const char *name);
double sc_config_double(const sc_config_t *c, const char *name);
int sc_config_bool(const sc_config_t *c, const char *name);
/* 1 when no file, environment or flag set the setting. */
int sc_config_is_default(const sc_config_t *c, const char *name);

/* The deployment document, or NULL when none was loaded. Owned by c. */
const sc_yaml_node_t *sc_config_tree(const sc_config_t *c);
const char *sc_config_file(const sc_config_t *c);

/* A new librdkafka conf with every kafka.* setting (plus the
 * kafka.consumer.* or kafka.producer.* ones for that role) set unchanged.
 * role: "consumer" or "producer". Caller owns the result. */
rd_kafka_conf_t *sc_config_kafka_conf(const sc_config_t *c, const char *role,
                                      char *errstr, size_t errstr_size);

/* The value the deployment set for a kafka property (role-specific first),
 * or NULL when it was left to the runtime's default. */
const char *sc_config_kafka_get(const sc_config_t *c, const char *role, const char *name);

/* Settings a reload cannot apply: those whose help ends with " [restart]"
 * (the clients and connections made at start: redis.*, schema_registry.*,
 * schemas.dir, metrics.*, messages.max_bytes, <worker>.input_topics,
 * <worker>.group_id; a worker may mark its own) and kafka.*. Returns how many
 * differ between old and c; out gets their names, comma separated. */
size_t sc_config_restart_changes(const sc_config_t *old, const sc_config_t *c, char *out,
                                 size_t out_size);

/* --print-config: every setting with its value and origin; secrets masked. */
void sc_config_print(const sc_config_t *c, FILE *fp);
/* --help: the tables. */
void sc_config_print_help(const sc_config_t *c, FILE *fp);

#endif
