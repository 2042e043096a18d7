#!/usr/bin/env python3
"""A multi-brand conversation set for the attribution replay test, with the
figures it must produce, computed here from how the conversations were
written (which brand each customer addressed), not from ingest's rule.

  attr_gen.py DAY OUT_DIR [SEED]

DAY is YYYY-MM-DD (UTC); every post and reply is created that day. Writes
  OUT_DIR/raw.jsonl      raw inputs, in created_at order (canonical and X v2)
  OUT_DIR/expected.json  per brand: received, needs_reply, replied,
                         reply_rate, frt_median_s, frt_avg_s;
                         and "copies": records per brand with multi_brand all

Brands (tests/ingest/attr.yaml, listed alphabetically on purpose): the
deployment order is the wrong answer whenever it differs from the
conversation. A customer post needs a reply when it says "help" or "pomocy"
(the route rules of attr.yaml); a brand reply answers the post named by its
parent_id. Conversations:
  answer      a brand's post; a customer answers it, starting with "@A" and
              naming a competitor B ("@A u @B taniej?"), or naming only B
              ("@B jest lepszy niż wy"); A replies; sometimes B butts in (B's
              reply counts for nobody)
  several     a customer names B first, then A; B replies; sometimes A too
  followup    customer -> A; A replies; the customer answers A's reply
              without naming anyone (thread/parent lookup) -> A again
  plain       a customer answers A's post naming no brand at all
  keyword     no handle: a keyword ("Żuczka", "netfon") names the brand,
              several keywords: the earliest wins
  thanks      a post that needs no reply (sometimes answered anyway)
  xreply      X v2: a tweet answering the brand account (in_reply_to_user_id)
              that starts with another brand's handle
Handles are followed by ’s, …, an emoji, a comma, "!" or a space, in any case.
"""
import json
import random
import sys
from datetime import datetime, timezone

BRANDS = {  # id: (x handle, x account id, keyword used in texts)
    "bankit": ("BankitPL", "501", "Bankit"),
    "ekspres": ("EkspresCares", "502", "ekspres24"),
    "kwik": ("KwikMarket", "503", "Kwik Market"),
    "netfon": ("NetfonHelp", "504", "Netfon"),
    "zuczek": ("zuczek_pl", "505", "Żuczka"),
}
IDS = sorted(BRANDS)
TAILS = ["’s", "…", " 😡", ",", "!", " ", "’s"]
COMPLAINTS = ["mój rachunek jest zły", "the app crashes at login", "zamówienie nie dotarło",
              "nie działa od rana", "my card was blocked", "czekam trzy dni"]
THANKS = ["dzięki, już działa", "thanks, all good now", "super obsługa 👍"]


def handle(b, rnd):
    h = BRANDS[b][0]
    h = rnd.choice([h, h.lower(), h.upper(), h])
    return "@" + h + rnd.choice(TAILS)


class Gen:
    def __init__(self, day, seed):
        self.rnd = random.Random(seed)
        self.t0 = int(datetime.strptime(day, "%Y-%m-%d").replace(
            tzinfo=timezone.utc).timestamp() * 1000)
        self.events = []   # (created_ms, seq, raw json)
        self.posts = {}    # customer post id -> dict(brand, help, created, mentions)
        self.replies = []  # (brand of the replying account, parent id, created)
        self.brand_posts = {}  # brand-authored post id -> brand
        self.seq = 0
        self.n = 0

    def pid(self):
        self.n += 1
        return "c%d" % self.n

    def at(self, minute):
        return self.t0 + minute * 60000

    def emit(self, created, raw):
        self.seq += 1
        self.events.append((created, self.seq, raw))

    @staticmethod
    def iso(ms):
        return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def canonical(self, pid, author_id, handle_, text, created, parent=None, thread=None):
        self.emit(created, {"platform": "x", "post_id": pid, "parent_id": parent,
                            "thread_id": thread, "text": text,
                            "author": {"id": author_id, "handle": handle_, "followers": 10},
                            "created_at": self.iso(created)})

    def brand_post(self, b, created, text, parent=None, thread=None):
        pid = self.pid()
        self.canonical(pid, BRANDS[b][1], BRANDS[b][0], text, created, parent, thread)
        self.brand_posts[pid] = b
        if parent:
            self.replies.append((b, parent, created))
        return pid

    def customer(self, brand, created, text, mentions, need, parent=None, thread=None,
                 user=None):
        pid = self.pid()
        u = user or "u%d" % self.rnd.randrange(100000)
        self.canonical(pid, u, "user_" + u, text, created, parent, thread)
        self.posts[pid] = dict(brand=brand, help=need, created=created, mentions=mentions)
        return pid

    def conversation(self, kind):
        r = self.rnd
        a, b = r.sample(IDS, 2)
        m = r.randrange(8 * 60, 15 * 60)  # start between 08:00 and 15:00
        need = r.random() < 0.8
        helpw = (" help" if r.random() < 0.5 else " pomocy") if need else ""
        delay = r.choice([2, 5, 12, 30, 45, 90, 150, 240])
        if kind == "answer":
            p0 = self.brand_post(a, self.at(m), "Nowa oferta od nas! 🎉")
            if r.random() < 0.5:
                text = "%s u %s taniej, %s%s" % (handle(a, r), handle(b, r),
                                                 r.choice(COMPLAINTS), helpw)
            else:  # the competitor first: only the conversation says A
                text = "%s jest lepszy niż wy, %s%s" % (handle(b, r), r.choice(COMPLAINTS),
                                                        helpw)
            c = self.customer(a, self.at(m + 3), text, [a, b] if "taniej" in text else [b],
                              need, parent=p0, thread=p0)
            if r.random() < 0.3:
                self.brand_post(b, self.at(m + 4), "@user u nas zawsze taniej!", c, p0)
            if r.random() < 0.85:
                self.brand_post(a, self.at(m + 3 + delay), "@user już sprawdzamy", c, p0)
        elif kind == "several":
            c = self.customer(b, self.at(m), "%s i %s, %s%s" % (
                handle(b, r), handle(a, r), r.choice(COMPLAINTS), helpw), [b, a], need)
            if r.random() < 0.8:
                self.brand_post(b, self.at(m + delay), "@user przepraszamy", c, c)
            if r.random() < 0.3:
                self.brand_post(a, self.at(m + delay + 1), "@user zapraszamy do nas", c, c)
        elif kind == "followup":
            c = self.customer(a, self.at(m), "%s %s help" % (handle(a, r), r.choice(
                COMPLAINTS)), [a], True, user="f%d" % self.n)
            r1 = self.brand_post(a, self.at(m + 10), "@user prosimy o DM", c, c)
            c2 = self.customer(a, self.at(m + 20), "nadal nie działa%s" % helpw, [], need,
                               parent=r1, thread=c)
            if r.random() < 0.7:
                self.brand_post(a, self.at(m + 20 + delay), "@user naprawione", c2, c)
        elif kind == "plain":
            p0 = self.brand_post(a, self.at(m), "Awaria usunięta.")
            c = self.customer(a, self.at(m + 1), "u mnie dalej nie%s" % helpw, [], need,
                              parent=p0, thread=p0)
            if r.random() < 0.75:
                self.brand_post(a, self.at(m + 1 + delay), "@user sprawdzimy", c, p0)
        elif kind == "keyword":
            # earliest keyword wins; never the deployment order
            c = self.customer(a, self.at(m), "Wczoraj w %s, dziś %s: %s%s" % (
                BRANDS[a][2], BRANDS[b][2], r.choice(COMPLAINTS), helpw), [a, b], need)
            if r.random() < 0.8:
                self.brand_post(a, self.at(m + delay), "@user przykro nam", c, c)
        elif kind == "thanks":
            c = self.customer(a, self.at(m), "%s %s" % (handle(a, r), r.choice(THANKS)),
                              [a], False)
            if r.random() < 0.3:
                self.brand_post(a, self.at(m + 5), "@user 💙", c, c)
        elif kind == "xreply":
            p0 = self.brand_post(a, self.at(m), "Zapraszamy do sklepów.")
            pid = self.pid()
            created = self.at(m + 2)
            text = "%s %s odpisz, %s%s" % (handle(b, r), handle(a, r), r.choice(COMPLAINTS),
                                           helpw)
            self.emit(created, {"data": {
                "id": pid, "text": text, "author_id": "x%d" % self.n,
                "in_reply_to_user_id": BRANDS[a][1], "conversation_id": p0,
                "referenced_tweets": [{"type": "replied_to", "id": p0}],
                "created_at": self.iso(created)},
                "includes": {"users": [{"id": "x%d" % self.n, "username": "xuser%d" % self.n}]}})
            self.posts[pid] = dict(brand=a, help=need, created=created, mentions=[b, a])
            if r.random() < 0.8:
                self.brand_post(a, self.at(m + 2 + delay), "@xuser sprawdzamy", pid, p0)

    def expected(self):
        out = {}
        for b in IDS:
            mine = {p: v for p, v in self.posts.items() if v["brand"] == b}
            need = {p: v for p, v in mine.items() if v["help"]}
            first = {}
            for rb, parent, created in self.replies:
                if rb == b and parent in need:
                    first[parent] = min(first.get(parent, created), created)
            frts = sorted((first[p] - need[p]["created"]) / 1000 for p in first)
            k = len(frts)
            med = (frts[k // 2] if k % 2 else (frts[k // 2 - 1] + frts[k // 2]) / 2) if k else 0
            out[b] = dict(received=len(mine), needs_reply=len(need), replied=k,
                          reply_rate=k / len(need) if need else 0, frt_median_s=med,
                          frt_avg_s=sum(frts) / k if k else 0)
        # multi_brand all: a customer post goes to its brand and to every brand
        # it names; a brand's own post only to that brand.
        copies = {b: 0 for b in IDS}
        for v in self.posts.values():
            for b in set([v["brand"]] + v["mentions"]):
                copies[b] += 1
        for b in self.brand_posts.values():
            copies[b] += 1
        return dict(brands=out, copies=copies, inputs=len(self.events))


def main():
    day, out = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 13
    g = Gen(day, seed)
    kinds = ["answer"] * 8 + ["several"] * 6 + ["followup"] * 4 + ["plain"] * 4 + \
        ["keyword"] * 4 + ["thanks"] * 2 + ["xreply"] * 4
    for i in range(120):
        g.conversation(kinds[i % len(kinds)])
    g.events.sort(key=lambda e: (e[0], e[1]))
    with open(out + "/raw.jsonl", "w") as f:
        for _, _, raw in g.events:
            f.write(json.dumps(raw, ensure_ascii=False) + "\n")
    with open(out + "/expected.json", "w") as f:
        json.dump(g.expected(), f, indent=1)


if __name__ == "__main__":
    main()
