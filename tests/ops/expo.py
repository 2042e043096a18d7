#!/usr/bin/env python3
"""Strict reader of the Prometheus text exposition format 0.0.4, for tests.

  expo.py check FILE              validate; exit 1 with the first problems
  expo.py sum FILE NAME [k=v ...] sum of the samples NAME whose labels match
  expo.py families FILE           one family name per line

Checks what Prometheus' own parser rejects or silently mangles: HELP and TYPE
at most once per family and before its samples, a family's samples in one
block, metric/label name syntax, label value escapes, duplicate series,
parseable values, histograms with _bucket/_sum/_count, ascending le bounds,
cumulative buckets, le="+Inf" present and equal to _count.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class ExpoError(Exception):
    pass


def parse_value(s, where):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    try:
        return float(s)
    except ValueError:
        raise ExpoError(f"{where}: bad value {s!r}")


def parse_labels(s, i, where):
    """s[i] == '{'; returns (labels dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise ExpoError(f"{where}: bad label name at {s[i:i + 20]!r}")
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise ExpoError(f"{where}: expected =\" after label {name}")
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise ExpoError(f"{where}: unterminated label value")
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise ExpoError(f"{where}: bad escape \\{nxt} in label {name}")
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise ExpoError(f"{where}: newline in label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise ExpoError(f"{where}: label {name} twice")
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
            continue
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        raise ExpoError(f"{where}: expected , or }} after label {name}")


def family_of(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[: -len(suf)]) in ("histogram", "summary"):
            return name[: -len(suf)]
    return name


def parse(text):
    """Returns (types {family: type}, samples [(name, labels, value)])."""
    if text and not text.endswith("\n"):
        raise ExpoError("exposition does not end with a newline")
    helps, types, samples = set(), {}, []
    seen_series = set()
    done_families = set()
    current = None
    for n, line in enumerate(text.split("\n")[:-1] if text else [], 1):
        where = f"line {n}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                fam = parts[2]
                if not NAME.fullmatch(fam):
                    raise ExpoError(f"{where}: bad metric name {fam!r}")
                if fam in done_families or (current and current != fam and fam in types):
                    raise ExpoError(f"{where}: {parts[1]} for {fam} after its samples")
                if parts[1] == "HELP":
                    if fam in helps:
                        raise ExpoError(f"{where}: second HELP for {fam}")
                    helps.add(fam)
                    if len(parts) == 4 and re.search(r"\\[^\\n]", parts[3]):
                        raise ExpoError(f"{where}: bad escape in HELP of {fam}")
                else:
                    if fam in types:
                        raise ExpoError(f"{where}: second TYPE for {fam}")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ExpoError(f"{where}: bad TYPE line {line!r}")
                    types[fam] = parts[3]
                if current != fam:
                    if current:
                        done_families.add(current)
                    current = fam
            continue
        m = NAME.match(line)
        if not m:
            raise ExpoError(f"{where}: bad sample line {line!r}")
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, where)
        rest = line[i:]
        if not rest.startswith(" "):
            raise ExpoError(f"{where}: expected a space before the value")
        fields = rest.split()
        if len(fields) not in (1, 2):
            raise ExpoError(f"{where}: expected value [timestamp], got {rest!r}")
        value = parse_value(fields[0], where)
        if len(fields) == 2 and not re.fullmatch(r"-?[0-9]+", fields[1]):
            raise ExpoError(f"{where}: bad timestamp {fields[1]!r}")
        fam = family_of(name, types)
        if fam in done_families:
            raise ExpoError(f"{where}: samples of {fam} are not in one block")
        if current != fam:
            if current:
                done_families.add(current)
            current = fam
        t = types.get(fam, "untyped")
        if t == "histogram":
            if name == fam:
                raise ExpoError(f"{where}: histogram {fam} sample without suffix")
            if name.endswith("_bucket") and "le" not in labels:
                raise ExpoError(f"{where}: {name} without le")
        if t == "counter" and not value >= 0:
            raise ExpoError(f"{where}: counter {name} is {value}")
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            raise ExpoError(f"{where}: duplicate series {name}{labels}")
        seen_series.add(key)
        samples.append((name, labels, value))
    check_histograms(types, samples)
    return types, samples


def check_histograms(types, samples):
    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for name, labels, value in samples:
            if not name.startswith(fam + "_"):
                continue
            base = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            g = groups.setdefault(base, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                g["buckets"].append((parse_value(labels["le"], fam), value))
            elif name == fam + "_sum":
                g["sum"] = value
            elif name == fam + "_count":
                g["count"] = value
        if not groups:
            raise ExpoError(f"histogram {fam} has no samples")
        for base, g in groups.items():
            b = g["buckets"]
            if not b or b[-1][0] != math.inf:
                raise ExpoError(f"histogram {fam}{dict(base)}: no le=\"+Inf\" bucket last")
            if any(b[k][0] >= b[k + 1][0] for k in range(len(b) - 1)):
                raise ExpoError(f"histogram {fam}{dict(base)}: le bounds not ascending")
            if any(b[k][1] > b[k + 1][1] for k in range(len(b) - 1)):
                raise ExpoError(f"histogram {fam}{dict(base)}: buckets not cumulative")
            if g["sum"] is None or g["count"] is None:
                raise ExpoError(f"histogram {fam}{dict(base)}: _sum or _count missing")
            if g["count"] != b[-1][1]:
                raise ExpoError(f"histogram {fam}{dict(base)}: _count {g['count']} "
                                f"!= +Inf bucket {b[-1][1]}")


def main(argv):
    if len(argv) < 3 or argv[1] not in ("check", "sum", "families"):
        print(__doc__, file=sys.stderr)
        return 2
    text = open(argv[2], encoding="utf-8").read()
    try:
        types, samples = parse(text)
    except ExpoError as e:
        print(f"exposition {argv[2]}: {e}", file=sys.stderr)
        return 1
    if argv[1] == "check":
        print(f"ok: {len(types)} families, {len(samples)} samples")
    elif argv[1] == "families":
        for f in sorted(types):
            print(f)
    else:
        want = dict(a.split("=", 1) for a in argv[4:])
        total = sum(v for name, labels, v in samples
                    if name == argv[3] and all(labels.get(k) == x for k, x in want.items()))
        print(f"{total:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
