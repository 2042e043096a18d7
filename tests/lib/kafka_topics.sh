#!/usr/bin/env bash
# kafka-topics.sh as deploy/kafka/create-topics.sh calls it (--list, --create
# --if-not-exists --topic T --partitions N --replication-factor N --config K=V),
# done with `socialcarectl topics create` ($SC_CTL): one source for the topic
# list, no JVM per topic. Only what create-topics.sh uses is understood.
set -euo pipefail
b="" t="" p=3 r=1 cfg=() list=0
while [ $# -gt 0 ]; do
  case $1 in
    --bootstrap-server) b=$2; shift ;;
    --topic) t=$2; shift ;;
    --partitions) p=$2; shift ;;
    --replication-factor) r=$2; shift ;;
    --config) cfg+=(-c "$2"); shift ;;
    --list) list=1 ;;
    --create|--if-not-exists) ;;
    *) echo "kafka_topics.sh: unsupported $1" >&2; exit 2 ;;
  esac
  shift
done
if [ $list -eq 1 ]; then
  exec kcat -L -b "$b" -m 5 -q >/dev/null
fi
exec "${SC_CTL:?SC_CTL: socialcarectl}" topics create -b "$b" -p "$p" -r "$r" "${cfg[@]}" "$t"
