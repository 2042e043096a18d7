#!/usr/bin/env python3
"""Puts the figures of a `socialcarectl train` run (its stdout, as train.sh
prints it) into MODEL.md: the classifier_version line and the block between
<!-- cv --> and <!-- /cv -->. Usage: services/classify/card.py TRAIN_LOG"""
import re, sys, os

log = open(sys.argv[1]).read()
card_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MODEL.md")
card = open(card_path).read()
version = re.search(r"^model .*: (sc-lin-1\+[0-9a-f]{8}) \((\d+) examples\)$", log, re.M)
card = re.sub(r"classifier_version: `sc-lin-1\+[0-9a-f]{8}`",
              "classifier_version: `%s`" % version.group(1), card)

def block(title):
    m = re.search(r"^== %s.*?(?=^== |^model |\Z)" % re.escape(title), log, re.M | re.S)
    return m.group(0).rstrip() if m else ""

def clean(s):
    return re.sub(r"(/[^ :]+)?/(shared/data|wt/[^/]+)/", "", s)

out = ["```", clean("\n".join(l for l in log.splitlines() if "labelled" in l and ":" in l
                              and not l.startswith((" ", "intents")))), "```", ""]
for lang, name in (("pl", "Polish"), ("en", "English")):
    out += ["### %s: cross-validated (5 folds, out-of-fold, after Platt scaling and the decision shifts)" % name, "",
            "```", clean(block("cv %s all sets" % lang)), "```", "",
            "The rule engine alone on the same examples and labels:", "",
            "```", clean(block("rules alone %s all sets" % lang)), "```", ""]
    per = re.findall(r"^== cv %s (?!all).*?(?=^== |^model |\Z)" % lang, log, re.M | re.S)
    lines = []
    for p in per:
        head = clean(p.splitlines()[0])
        figs = [l for l in p.splitlines() if l.startswith(("sentiment:", "intents macro"))]
        lines.append(head + "\n" + "\n".join(figs))
    out += ["Per set:", "", "```", "\n".join(lines), "```", ""]
body = "\n".join(out)
card = re.sub(r"<!-- cv -->.*<!-- /cv -->", lambda m: "<!-- cv -->\n" + body + "<!-- /cv -->",
              card, flags=re.S)
open(card_path, "w").write(card)
print("MODEL.md: %s" % version.group(1))
