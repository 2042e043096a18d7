#!/usr/bin/env bash
# socialcarectl classify: one JSON object a line with the fields people and
# the evaluation rely on; --json posts; topics from the deployment file.
set -euo pipefail
CTL=$1 src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(printf '%s\n' "nie dziala mi internet od rana" "Great job guys 🙄" "Polecam, super obsługa!" |
      "$CTL" classify -c "$src/config/socialcare.yaml" --brand telko)
json=$(printf '%s\n' '{"text":"Szukam kredytu, jakie macie oprocentowanie?","brand":"bankowo","author":{"followers":250000,"verified":true}}' \
  '{"text":"Dzięki, już działa","brand":"telko","is_brand":true}' |
  "$CTL" classify --json -c "$src/config/socialcare.yaml")
python3 - "$out" "$json" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert len(rows) == 3
for r in rows:
    for k in ("lang", "sentiment", "intents", "topics", "priority", "needs_reply", "explain"):
        assert k in r, (k, r)
    assert r["explain"], r
a, b, c = rows
assert a["lang"] == "pl" and a["sentiment"]["label"] == "negative" and a["needs_reply"]
assert "complaint" in [i["name"] for i in a["intents"]] and a["topics"] == ["internet"]
assert b["sentiment"]["label"] == "negative" and any("sarcasm" in e for e in b["explain"])
assert c["sentiment"]["label"] == "positive" and not c["needs_reply"]
j = [json.loads(l) for l in sys.argv[2].splitlines()]
assert "purchase_intent" in [i["name"] for i in j[0]["intents"]] and j[0]["topics"] == ["loans"], j[0]
assert not j[1]["needs_reply"], "a brand's own post never needs a reply"
print("ctl classify: ok")
PY
