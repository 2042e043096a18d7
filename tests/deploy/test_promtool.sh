#!/usr/bin/env bash
# deploy/prometheus with the real Prometheus tools (Debian's prometheus):
# promtool check config / check rules, and the unit tests of every alert rule
# (deploy/prometheus/tests/*.yml, promtool test rules). Every alert in
# alerts.yml must be exercised by a unit test.
set -euo pipefail
src=$1
P=$src/deploy/prometheus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v promtool >/dev/null || { echo "FAIL: promtool missing (scripts/deps.sh --test)"; exit 1; }
# The config names the rule file by its path in the container
# (/etc/prometheus, docker-compose.yml): checked here beside a copy of it.
sed "s|/etc/prometheus/alerts.yml|$P/alerts.yml|" "$P/prometheus.yml" >"$work/prometheus.yml"
promtool check config "$work/prometheus.yml"
promtool check rules "$P/alerts.yml"
promtool test rules "$P"/tests/*.yml
python3 - "$P/alerts.yml" "$P"/tests/*.yml <<'PY'
import re, sys
rules = set(re.findall(r"^\s*- alert:\s*(\S+)", open(sys.argv[1]).read(), re.M))
tested = set()
for f in sys.argv[2:]:
    tested |= set(re.findall(r"^\s*alertname:\s*(\S+)", open(f).read(), re.M))
missing = sorted(rules - tested)
assert rules and not missing, "alert rules without a unit test: %s" % missing
print("promtool: %d alert rules, each unit-tested" % len(rules))
PY
# The unit tests can fail: a rule with a changed threshold must break them.
sed 's/rate(socialcare_dlq_messages_total\[5m\])) > 0.1/rate(socialcare_dlq_messages_total[5m])) > 5/' \
  "$P/alerts.yml" >"$work/alerts.yml"
sed "s|\.\./alerts.yml|$work/alerts.yml|" "$P/tests/alerts_test.yml" >"$work/t.yml"
if promtool test rules "$work/t.yml" >/dev/null 2>&1; then
  echo "FAIL: the unit tests pass with a changed DeadLetters threshold"; exit 1
fi
echo "promtool: PASS"
