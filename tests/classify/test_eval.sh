#!/usr/bin/env bash
# The team's labelled test set (tests/classify/posts.tsv) through socialcarectl
# eval, with the shipped model and with the rules alone: the figures must not
# fall below what the closing notes report (a regression guard). The word lists
# were written while looking at this set, the model was not tuned on it: the
# model's guard is its own measured figure, not the rules'.
set -euo pipefail
guard() { # output min_accuracy min_intent_micro_f1
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
out, amin, fmin = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
acc = float(re.search(r"accuracy ([0-9.]+)", out).group(1))
f1 = float(re.search(r"micro-F1 ([0-9.]+)", out).group(1))
n = int(re.search(r": (\d+) posts", out).group(1))
assert n >= 200, n
assert acc >= amin, "sentiment accuracy %.3f < %.2f" % (acc, amin)
assert f1 >= fmin, "intent micro-F1 %.3f < %.2f" % (f1, fmin)
PY
}
out=$("$1" eval "$2")
echo "$out"
echo "$out" | grep -q "^classifier sc-lin-1+" || { echo "FAIL: the shipped model is not used"; exit 1; }
guard "$out" 0.85 0.85
out=$("$1" eval --rules "$2")
echo "$out"
guard "$out" 0.90 0.90
