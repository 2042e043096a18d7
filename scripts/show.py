#!/usr/bin/env python3
"""Pretty-prints `socialcarectl consume` JSON lines for the demo."""
import datetime, json, sys

def unwrap(v):
    # Avro JSON wraps union values as {"type": value}
    if isinstance(v, dict) and len(v) == 1:
        return next(iter(v.values()))
    return v

def post_line(p):
    who = unwrap(p["author"].get("handle")) or p["author"]["id"]
    text = p["text"].replace("\n", " ")
    if len(text) > 90:
        text = text[:87] + "..."
    return "%-9s %-10s %-16s %s%s" % (p["brand"], p["platform"], "@" + str(who),
                                        "[brand reply] " if p["is_brand"] else "", text)

mode = sys.argv[1]
recs = [json.loads(l) for l in sys.stdin if l.strip()]
if mode == "records":
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    for r in recs[:limit]:
        v = r["value"]
        if r.get("schema") == "Post":
            print("   " + post_line(v))
        elif r.get("schema") == "Enriched":
            ints = ", ".join("%s %.2f" % (i["name"], i["confidence"]) for i in v["intents"]) or "-"
            print("   " + post_line(v["post"]))
            print("      lang %s  sentiment %s %+.2f  intents: %s  topics: %s  priority %s  needs_reply %s"
                  % (v["language"], v["sentiment"]["label"], v["sentiment"]["score"], ints,
                     ",".join(v["topics"]) or "-", v["priority"], v["needs_reply"]))
        elif r.get("schema") == "Routed":
            e = v["enriched"]
            due = unwrap(v.get("due_at"))
            if due:
                due = datetime.datetime.fromtimestamp(due / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            print("   " + post_line(e["post"]))
            print("      -> team %-9s priority %-7s rule %-20s due %s  sentiment %s  intents %s"
                  % (v["team"], v["priority"], v["rule_id"], due if due else "-",
                     e["sentiment"]["label"], ",".join(i["name"] for i in e["intents"]) or "-"))
        else:
            print("   ", json.dumps(v, ensure_ascii=False)[:200])
    if len(recs) > limit:
        print("   ... and %d more" % (len(recs) - limit))
elif mode == "dlq":
    for r in recs:
        h = r.get("headers", {})
        print("   %-18s %s" % (h.get("sc-error-reason"), h.get("sc-error-detail", "")[:100]))
elif mode == "alerts":
    for r in recs:
        v = r["value"]
        print("   %-8s %-20s %-9s %s" % (v["severity"], v["kind"], v["brand"], v["title"][:90]))
