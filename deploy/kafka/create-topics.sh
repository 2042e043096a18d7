#!/usr/bin/env bash
# One-shot topic creation for the compose stack (service kafka-init). Every
# topic a worker reads or writes, with its dead-letter topic, is created up
# front with explicit partitions and retention: the broker runs with
# auto.create.topics.enable=false so a misspelt topic fails loudly instead of
# appearing with default settings. Idempotent (--if-not-exists).
#   BOOTSTRAP (kafka:9092), PARTITIONS (6), RETENTION_MS (7 d),
#   DLQ_RETENTION_MS (30 d), REPLICATION (1), TEAMS ("care sales pr community")
set -euo pipefail
BOOTSTRAP=${BOOTSTRAP:-kafka:9092}
PARTITIONS=${PARTITIONS:-6}
RETENTION_MS=${RETENTION_MS:-604800000}
DLQ_RETENTION_MS=${DLQ_RETENTION_MS:-2592000000}
REPLICATION=${REPLICATION:-1}
TEAMS=${TEAMS:-care sales pr community}
KT=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}

# Topics the workers read and write, in pipeline order. Keep in sync with the
# workers' *.input_topics / *.output_topic defaults (tests/deploy checks it).
TOPICS="social.posts.raw social.posts social.posts.enriched care.routed care.sla care.alerts"
for team in $TEAMS; do TOPICS="$TOPICS care.queue.$team"; done
# Dead letters: "<input topic>.dlq" for every consumed topic (sc_worker_dead_letter),
# and alert's parked webhook deliveries.
DLQS="social.posts.raw.dlq social.posts.dlq social.posts.enriched.dlq care.routed.dlq care.sla.dlq care.alerts.dlq care.alerts.webhook.dlq"

create() { # topic retention_ms
  "$KT" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$1" \
    --partitions "$PARTITIONS" --replication-factor "$REPLICATION" \
    --config retention.ms="$2" >/dev/null
  echo "topic $1 (partitions $PARTITIONS, retention.ms $2)"
}

for i in $(seq 1 60); do
  "$KT" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1 && break
  echo "waiting for $BOOTSTRAP ($i)"; sleep 2
done
for t in $TOPICS; do create "$t" "$RETENTION_MS"; done
for t in $DLQS; do create "$t" "$DLQ_RETENTION_MS"; done
echo "kafka-init: done"
