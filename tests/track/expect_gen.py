#!/usr/bin/env python3
"""Expected `socialcarectl stats --json` totals for track_feed --gen N BASE
(the rules are in track_feed.c gen()), computed independently of the
tracker, with no timer breach (time pinned before every due).

  expect_gen.py N STATS_JSON      exit 0 when the stats match, else print why
"""
import json
import sys


def expected(n):
    e = dict(received=0, needs_reply=0, replied=0, sla_hit=0, sla_missed=0, late=0,
             pending=0, with_due=0, replied_no_need=0, extra_replies=0, orphan_replies=0)
    hist = [0] * 6
    frts = []
    for i in range(n):
        nr = i % 10 != 9
        replies = []
        if i % 7 != 6:
            replies.append((i % 5) * 1200000)
        if i % 11 == 0:
            replies.append(5400000)
        e["received"] += 1
        if not nr:
            e["replied_no_need"] += len(replies)
            continue
        e["needs_reply"] += 1
        e["with_due"] += 1
        if not replies:
            e["pending"] += 1
            continue
        first = min(replies)
        e["replied"] += 1
        e["extra_replies"] += len(replies) - 1
        frts.append(first / 1000)
        if first <= 3600000:
            e["sla_hit"] += 1
        else:
            e["sla_missed"] += 1
            e["late"] += 1
        m = first / 60000
        b = 0 if m < 15 else 1 if m < 60 else 2 if m < 240 else 3 if m < 480 else 4 if m < 1440 else 5
        hist[b] += 1
    frts.sort()
    k = len(frts)
    med = (frts[k // 2] if k % 2 else (frts[k // 2 - 1] + frts[k // 2]) / 2) if k else 0
    e["frt_median_s"] = med
    e["frt_avg_s"] = sum(frts) / k if k else 0
    e["frt_business_median_s"] = med
    e["histogram"] = dict(zip(["0-15m", "15-60m", "1-4h", "4-8h", "8-24h", "24h+"], hist))
    return e


def main():
    n = int(sys.argv[1])
    s = json.load(open(sys.argv[2]))
    got = [b for b in s["brands"] if b["brand"] == "gen"][0]["total"]
    bad = []
    for k, v in expected(n).items():
        g = got.get(k)
        if isinstance(v, float) or k.startswith("frt"):
            if g is None or abs(g - v) > 1e-3:
                bad.append("%s: got %s want %s" % (k, g, v))
        elif g != v:
            bad.append("%s: got %s want %s" % (k, g, v))
    if bad:
        print("; ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
