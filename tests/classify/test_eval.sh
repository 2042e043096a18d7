#!/usr/bin/env bash
set -euo pipefail
out=$("$1" eval "$2")
echo "$out"
python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
acc = float(re.search(r"accuracy ([0-9.]+)", out).group(1))
f1 = float(re.search(r"intents macro-F1 ([0-9.]+)", out).group(1))
n = int(re.search(r": (\d+) posts", out).group(1))
assert n >= 200, n
assert acc >= 0.85, "sentiment accuracy %.3f < 0.85" % acc
assert f1 >= 0.85, "intent macro-F1 %.3f < 0.85" % f1
PY
