#!/usr/bin/env bash
# socialcarectl train on a small set this test makes itself (nothing from
# ../shared): cross-validated figures printed, a learnable toy set learnt,
# the same bytes from the same data and seed, other bytes from another seed,
# and the model used by eval and classify; a damaged model is refused.
set -euo pipefail
CTL=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/toy.tsv" <<'PY'
import random, sys
r = random.Random(7)
pos = ["great", "love", "wonderful", "thanks", "brilliant", "super", "świetny", "dziękuję", "polecam", "kocham"]
neg = ["broken", "awful", "refund", "never", "worst", "cold", "zepsuty", "beznadziejny", "zwrot", "zimne"]
neu = ["tomorrow", "train", "monday", "meeting", "weather", "jutro", "pociąg", "poniedziałek", "pogoda", "spotkanie"]
filler = {"en": ["the", "my", "today", "it", "is", "was", "and", "this"],
          "pl": ["jest", "się", "nie", "mam", "na", "to", "że", "tak"]}
with open(sys.argv[1], "w") as f:
    f.write("# toy set: lang<TAB>sentiment<TAB>intents<TAB>text\n")
    for i in range(600):
        lang = "en" if i % 2 else "pl"
        k = r.randrange(3)
        words = [r.choice([neg, neu, pos][k][:5] if lang == "en" else [neg, neu, pos][k][5:]) for _ in range(2)]
        words += [r.choice(filler[lang]) for _ in range(4)]
        r.shuffle(words)
        intents = "complaint" if k == 0 else "-"
        f.write("%s\t%s\t%s\t%s\n" % (lang, ["negative", "neutral", "positive"][k], intents, " ".join(words)))
PY
"$CTL" train --folds 3 --seed 1 --bits 16 -o "$work/a.model" "tsv:$work/toy.tsv" >"$work/a.out"
"$CTL" train --folds 3 --seed 1 --bits 16 -o "$work/b.model" "tsv:$work/toy.tsv" >"$work/b.out"
"$CTL" train --folds 3 --seed 2 --bits 16 -o "$work/c.model" "tsv:$work/toy.tsv" >"$work/c.out"
cat "$work/a.out"
cmp "$work/a.model" "$work/b.model" || { echo "FAIL: same data and seed, different bytes"; exit 1; }
cmp -s "$work/a.model" "$work/c.model" && { echo "FAIL: the seed changes nothing"; exit 1; }
python3 - "$work/a.out" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
for lang in ("pl", "en"):
    blk = out.split("== cv %s all sets (3 folds)" % lang)[1].split("==")[0]
    acc = float(re.search(r"accuracy ([0-9.]+)", blk).group(1))
    assert acc >= 0.9, (lang, acc)
    assert re.search(r"negative\s+\d+\s+\d+\s+\d+", blk), "no confusion matrix"
    assert "macro-recall" in blk and "complaint" in blk, blk
    f1 = float(re.search(r"complaint\s+[0-9.]+ / [0-9.]+ / ([0-9.]+)", blk).group(1))
    assert f1 >= 0.9, (lang, f1)
assert "not trained (the rules decide)" in out  # question etc. have no data
print("train: CV figures printed, toy set learnt")
PY
ev=$("$CTL" eval --model "$work/a.model" "tsv:$work/toy.tsv")
echo "$ev" | grep -q "classifier sc-lin-1+" || { echo "FAIL: eval does not name the model"; exit 1; }
acc=$(echo "$ev" | sed -n 's/.*accuracy \([0-9.]*\).*/\1/p' | head -1)
python3 -c "import sys; assert float(sys.argv[1]) >= 0.9, sys.argv[1]" "$acc"
ver=$(echo "great love" | "$CTL" classify --model "$work/a.model" |
  python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(r["classifier_version"], r["sentiment"]["label"])')
case "$ver" in "sc-lin-1+"????????" positive") ;; *) echo "FAIL: classify said $ver"; exit 1 ;; esac
# a damaged model is refused, with a reason
cp "$work/a.model" "$work/bad.model"
printf '\x55' | dd of="$work/bad.model" bs=1 seek=5000 conv=notrunc 2>/dev/null
if "$CTL" eval --model "$work/bad.model" "tsv:$work/toy.tsv" 2>"$work/err"; then
  echo "FAIL: damaged model accepted"; exit 1
fi
grep -q "checksum" "$work/err" || { cat "$work/err"; echo "FAIL: no reason given"; exit 1; }
head -c 1000 "$work/a.model" >"$work/short.model"
! "$CTL" eval --model "$work/short.model" "tsv:$work/toy.tsv" 2>/dev/null || { echo "FAIL: truncated model accepted"; exit 1; }
# a decision shift moves the label: pl neutral pushed far down is never chosen
"$CTL" train --folds 3 --seed 1 --bits 16 --shift pl:neutral=-30 --oof "$work/s.oof" \
  -o "$work/s.model" "tsv:$work/toy.tsv" >"$work/s.out"
grep -q "pl neutral: .*decision shift -30.00" "$work/s.out" || { echo "FAIL: shift not reported"; exit 1; }
python3 - "$work/s.out" "$work/s.oof" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
blk = out.split("== cv pl all sets (3 folds)")[1].split("==")[0]
rows = {m.group(1): [int(x) for x in m.groups()[1:]]
        for m in re.finditer(r"^  (negative|neutral|positive)\s+(\d+)\s+(\d+)\s+(\d+)$", blk, re.M)}
assert rows and all(r[1] == 0 for r in rows.values()), rows  # no pl post called neutral
oof = [l.split() for l in open(sys.argv[2]) if not l.startswith("#")]
assert len(oof) == 600 and all(len(r) == 21 for r in oof), len(oof)
print("train: --shift moves the decision, --oof has every example")
PY
# FORMAT+neg: a complaints set's complaints become negative sentiment examples
python3 - "$work/c.csv" <<'PY'
import random, sys
r = random.Random(3)
with open(sys.argv[1], "w") as f:
    f.write("id,text,label,domain\n")
    for i in range(300):
        c = i % 2
        w = ["broken", "refund", "late", "missing"] if c else ["thanks", "hello", "question", "today"]
        f.write('%d,"@shop %s %s %s",%d,retail\n' % (i, r.choice(w), r.choice(w), r.choice(w), c))
PY
"$CTL" train --folds 3 --seed 1 --bits 16 -o "$work/n.model" "complaints+neg:$work/c.csv" \
  "tsv:$work/toy.tsv" >"$work/n.out"
grep -A3 "== cv en complaints+neg:" "$work/n.out" | grep -q "negative .* / 150$" ||
  { grep -A4 "== cv en complaints" "$work/n.out"; echo "FAIL: +neg complaints are not negative examples"; exit 1; }
"$CTL" train --folds 3 --seed 1 --bits 16 -o "$work/m.model" "complaints:$work/c.csv" \
  "tsv:$work/toy.tsv" >"$work/m.out"
grep -A1 "== cv en complaints:" "$work/m.out" | grep -q "sentiment" &&
  { echo "FAIL: a complaints set without +neg labels sentiment"; exit 1; }
# --lang-C: one language's C for one output group changes that language's model only
"$CTL" train --folds 0 --seed 1 --bits 16 --lang-C pl:sentiment=0.01 -o "$work/l.model" \
  "tsv:$work/toy.tsv" >/dev/null
"$CTL" train --folds 0 --seed 1 --bits 16 -o "$work/k.model" "tsv:$work/toy.tsv" >/dev/null
cmp -s "$work/l.model" "$work/k.model" && { echo "FAIL: --lang-C changes nothing"; exit 1; }
for bad in xx=1 pl:sentiment=0 pl:foo=1 pl=; do
  if "$CTL" train --folds 0 --bits 16 --lang-C "$bad" -o "$work/x.model" "tsv:$work/toy.tsv" \
    >/dev/null 2>&1; then echo "FAIL: --lang-C $bad accepted"; exit 1; fi
done
if "$CTL" train --folds 0 --bits 16 --shift pl:nosuch=1 -o "$work/x.model" "tsv:$work/toy.tsv" \
  >/dev/null 2>&1; then echo "FAIL: --shift to an unknown output accepted"; exit 1; fi
echo "train: PASS"
