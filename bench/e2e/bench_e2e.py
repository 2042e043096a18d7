#!/usr/bin/env python3
"""Driver of bench_e2e.sh (which starts the broker, Redis and the workers).

Warm-up first (every worker joined and past its first batches), then the
counters are zeroed (CPU snapshot, CONFIG RESETSTAT on every redis-server) and
N posts are produced to social.posts.raw while the pipeline runs. Every worker
is polled (/metrics, every POLL s) until it has processed all its input:
a stage's time is from the first input produced to the poll at which it had
processed everything (for track: its Redis writes for the last post; for
alert: its last input, the care.sla events track produced included).
Everything is bounded in time; loopback only.

  bench_e2e.py CONF.json     (written by bench_e2e.sh)
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

POLL = 0.05
conf = json.load(open(sys.argv[1]))
# Posts in flight at most (see run): on the devbroker about 40 % of them can
# sit in one brand's partition of care.routed (~650 bytes a record), which
# must stay under its ~5 MiB; real Kafka keeps everything.
WINDOW = int(os.environ.get("SC_BENCH_WINDOW",
                            "20000" if conf["broker"] == "devbroker" else "100000"))
STALL = 30
N, W = conf["posts"], conf["warmup"]
HZ = conf["hz"]
workers = conf["workers"]          # name -> {"port", "pid", "redis"}
redis = conf["redis"]              # name -> {"port", "pid"}
others = conf.get("others", {})    # name -> pid (kafka-broker)
bootstrap = conf["bootstrap"]
TEXTS = ["Trzeci dzień bez internetu, @telko_pl to skandal, zmieniam operatora!",
         "Dzięki @telko_pl za szybką wymianę routera, działa super 👍",
         "Is the @burgerhub on Main St open late tonight? Starving 🍔",
         "@bankowo zablokowaliście mi kartę bez powodu, nikt nie odbiera infolinii",
         "My car broke down on the A4, does @autofix_pl do roadside help?"]
BRANDS = ["telko", "telko", "burgerhub", "bankowo", "autofix"]
# Inputs of each worker, in pipeline order, and who writes them.
INPUTS = {"ingest": ["social.posts.raw"], "classify": ["social.posts"],
          "route": ["social.posts.enriched"], "track": ["care.routed", "social.posts"],
          "alert": ["social.posts.enriched", "care.sla"]}
PRODUCER = {"social.posts": "ingest", "social.posts.enriched": "classify",
            "care.routed": "route", "care.sla": "track"}


def write_posts(path, prefix, n, t_end):
    # created_at spread over the 10 minutes before now: recent enough for
    # alert's spike counting and track's SLA timers to do their real work.
    with open(path, "w") as f:
        for i in range(n):
            k = i % len(TEXTS)
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                               time.gmtime(t_end - 600 + 600.0 * i / max(n, 1)))
            f.write(json.dumps({
                "platform": "x", "brand": BRANDS[k], "post_id": "%s%d" % (prefix, i),
                "author": {"id": "u%d" % (i % 5000), "handle": "user%d" % (i % 5000),
                           "followers": i % 10000},
                "text": TEXTS[k], "lang": "pl", "created_at": at},
                ensure_ascii=False) + "\n")


LINE = re.compile(r'^(socialcare_[a-z_]+)(\{[^}]*\})? (\S+)$')


def scrape(port):
    try:
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                      timeout=2).read().decode()
    except OSError:
        return None
    m = {"in": {}, "out": {}, "done": 0, "busy": 0}
    for line in body.splitlines():
        g = LINE.match(line)
        if not g:
            continue
        name, labels, v = g.group(1), g.group(2) or "", float(g.group(3))
        t = re.search(r'topic="([^"]+)"', labels)
        if name == "socialcare_messages_in_total" and t:
            m["in"][t.group(1)] = m["in"].get(t.group(1), 0) + v
        elif name == "socialcare_messages_out_total" and t:
            m["out"][t.group(1)] = m["out"].get(t.group(1), 0) + v
        elif name == "socialcare_processing_seconds_count":
            m["done"] = v
        elif name == "socialcare_processing_seconds_sum":
            m["busy"] = v
    return m


def snapshot():
    return {w: scrape(c["port"]) for w, c in workers.items()}


def finished(snap, want):
    """Workers that have processed every input expected of them: `want` posts
    at the head of the pipeline, what the upstream worker wrote after."""
    done = set()
    for w in INPUTS:
        if w not in workers:
            continue
        m = snap.get(w)
        if not m:
            continue
        ok = m["done"] >= sum(m["in"].values())
        for t in INPUTS[w]:
            p = PRODUCER.get(t)
            if p is None:
                need = want
            elif p not in workers:
                continue
            elif p == "ingest" or p == "classify" or p == "route":
                need = want
            else:  # care.sla: all track wrote, once track is done
                if p not in done or not snap.get(p):
                    ok = False
                    continue
                need = snap[p]["out"].get(t, 0)
            ok = ok and m["in"].get(t, 0) >= need
        if ok:
            done.add(w)
    return done


def progress(snap):
    """Posts every worker has consumed (the least of its per-post inputs)."""
    p = []
    for w in workers:
        m = snap.get(w)
        p.append(min(m["in"].get(t, 0) for t in INPUTS[w] if t != "care.sla") if m else 0)
    return min(p) if p else 0


BACKLOG = {}  # "topic->worker": [sum, samples, max] over the measured run


def backlog(snap, sent):
    """Records written to each worker's input and not consumed yet, and
    consumed but not processed yet ("in hand"): where the queue sits is the
    stage that limits the rate."""
    for w in workers:
        m = snap.get(w)
        if not m:
            continue
        for t in INPUTS[w]:
            p = PRODUCER.get(t)
            if p is None:
                made = sent
            elif p in workers and snap.get(p):
                made = snap[p]["out"].get(t, 0)
            else:
                continue
            yield "%s->%s" % (t, w), made - m["in"].get(t, 0)
        yield "%s in hand" % w, sum(m["in"].values()) - m["done"]


def run(path, count, want, timeout):
    """Produces the `count` lines of path to social.posts.raw, never more than
    WINDOW ahead of the slowest worker (the devbroker drops what a consumer
    more than ~5 MiB behind has not read yet), and polls until every worker
    has finished `want` posts. Returns ({worker: time first seen finished},
    {worker: time of its first batch}, the last snapshot, when the last post
    was handed to the producer), or None for the first on a timeout or when
    nothing moved for STALL s."""
    kc = subprocess.Popen(["kcat", "-P", "-b", bootstrap, "-t", "social.posts.raw"],
                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    src = open(path, "rb")
    deadline = time.time() + timeout
    end, first, t_fed = {}, {}, None
    base = snapshot()
    sent, offset = 0, want - count
    moved, last_done = time.time(), None
    try:
        while time.time() < deadline and time.time() - moved < STALL:
            snap = snapshot()
            now = time.time()
            while sent < count and offset + sent - progress(snap) < WINDOW:
                chunk = [src.readline() for _ in range(min(1000, count - sent))]
                kc.stdin.write(b"".join(chunk))
                sent += len(chunk)
            if t_fed is None:
                kc.stdin.flush()
            if sent == count and t_fed is None:
                kc.stdin.close()
                t_fed = now
            for k, v in backlog(snap, want - count + sent):
                b = BACKLOG.setdefault(k, [0, 0, 0])
                b[0] += v
                b[1] += 1
                b[2] = max(b[2], v)
            for w in finished(snap, want):
                end.setdefault(w, now)
            done = tuple(m["done"] if m else 0 for m in snap.values())
            if done != last_done:
                moved, last_done = now, done
            for w, m in snap.items():
                if m and base.get(w) and m["done"] > base[w]["done"]:
                    first.setdefault(w, now)
            if len(end) == len(workers):
                return end, first, snap, t_fed
            time.sleep(POLL)
        return None, first, snapshot(), t_fed
    finally:
        if not kc.stdin.closed:
            kc.stdin.close()
        kc.wait(timeout=60)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read().rsplit(")", 1)[1].split()
    return int(s[11]) + int(s[12])


def rcli(port, *args):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args),
                          capture_output=True, text=True, timeout=30).stdout


def cmdstats(port):
    c = {}
    for l in rcli(port, "info", "commandstats").splitlines():
        g = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", l)
        if g and g.group(1) not in ("info", "ping", "config|resetstat", "client|setname",
                                    "script|load", "flushall"):
            c[g.group(1)] = (int(g.group(2)), int(g.group(3)))
    return c


def low_watermarks():
    """Records the devbroker already dropped (its ~5 MiB per partition)."""
    out = []
    for t in ["social.posts.raw"] + list(PRODUCER):
        meta = subprocess.run(["kcat", "-L", "-b", bootstrap, "-t", t], capture_output=True,
                              text=True, timeout=30).stdout
        parts = re.findall(r"^\s*partition (\d+)", meta, re.M)
        if not parts:
            continue
        q = subprocess.run(["kcat", "-Q", "-b", bootstrap] +
                           sum([["-t", "%s:%s:-2" % (t, p)] for p in parts], []),
                           capture_output=True, text=True, timeout=30).stdout
        lo = sum(int(x) for x in re.findall(r"\[\d+\]\s+offset\s+(-?\d+)", q) if int(x) > 0)
        if lo:
            out.append("%s: %d" % (t, lo))
    return out


def main():
    work = conf["work"]
    write_posts(work + "/warmup.txt", "w", W, time.time())
    write_posts(work + "/posts.txt", "b", N, time.time())
    end, _, snap, _ = run(work + "/warmup.txt", W, W, 180)
    if end is None:
        print("bench_e2e: warm-up did not drain in 180 s: %s" % json.dumps(snap))
        return 1
    time.sleep(1)  # let alert's and track's timers settle
    for r in redis.values():
        rcli(r["port"], "config", "resetstat")
    pids = {w: c["pid"] for w, c in workers.items()}
    pids.update({"redis-server" + ("" if k == "all" else "(" + k + ")"): r["pid"]
                 for k, r in redis.items()})
    pids.update(others)
    cpu0 = {k: cpu_ticks(p) for k, p in pids.items()}
    busy0 = {w: m["busy"] for w, m in snapshot().items() if m}
    t0 = time.time()
    BACKLOG.clear()
    end, first, snap, t_prod = run(work + "/posts.txt", N, W + N, conf["timeout"])
    if end is None:
        lost = low_watermarks()
        print("bench_e2e: timed out (%d s) or stalled (%d s); processed: %s%s" % (
            conf["timeout"], STALL, ", ".join("%s %d" % (w, m["done"] - W) for w, m in snap.items()
                                       if m),
            "; the devbroker dropped records (~5 MiB per partition: use more partitions, "
            "fewer posts or --kafka): " + ", ".join(lost) if lost else ""))
        return 1
    cpu = {k: (cpu_ticks(p) - cpu0[k]) / HZ for k, p in pids.items()}
    last = max(end.values()) - t0
    broker = conf["broker"]
    print("e2e %s, %d partitions: %d posts (after %d warm-up) produced to "
          "social.posts.raw from t=0 to %.2f s, at most %d ahead of the slowest worker" % (
              broker, conf["partitions"], N, W, t_prod - t0, WINDOW))
    for w in INPUTS:
        if w in end:
            s = end[w] - t0
            print("e2e stage %-8s last input processed at %6.2f s: %7.0f posts/s "
                  "(first batch at %.2f s)" % (w, s, N / s, first.get(w, t0) - t0))
    stage = "alert" if "alert" in end else "track" if "track" in end else max(end, key=end.get)
    print("e2e pipeline raw -> %s: %d posts in %.2f s, %.0f posts/s sustained "
          "(first input to last output, +-%.2f s polling)" % (
              stage, N, last, N / last, POLL))
    print("e2e backlog, mean / max records over the run (a consumer's input not yet "
          "consumed; in hand: consumed, not yet processed): " + ", ".join(
              "%s %.0f / %d" % (k, v[0] / max(v[1], 1), v[2]) for k, v in BACKLOG.items()))
    print("e2e wall time in process() per post (Redis round trips and waiting for a "
          "core included): " + ", ".join(
              "%s %.1f us" % (w, (m["busy"] - busy0.get(w, 0)) * 1e6 / N)
              for w, m in snap.items() if m))
    wcpu = sum(v for k, v in cpu.items() if k in workers)
    print("e2e CPU per post (user+sys, steady state, no start-up): workers %.1f us (%s); "
          "%s" % (wcpu * 1e6 / N,
                  ", ".join("%s %.1f" % (k, v * 1e6 / N) for k, v in cpu.items()
                            if k in workers),
                  ", ".join("%s %.1f us" % (k, v * 1e6 / N) for k, v in cpu.items()
                            if k not in workers)))
    for name, r in redis.items():
        c = cmdstats(r["port"])
        calls = sum(v[0] for v in c.values())
        rows = sorted(c.items(), key=lambda kv: -kv[1][0])
        print("e2e redis commands per post%s: %.2f, by command calls / us per post "
              "(a script's calls counted; evalsha's time includes theirs): %s" % (
                  "" if name == "all" else " of " + name, calls / N,
                  ", ".join("%s %.2f / %.2f" % (k, v[0] / N, v[1] / N) for k, v in rows)))
    print("e2e allocs/post: not exported by the workers (see bench_ingest, bench_alert, "
          "bench_track for allocs per post)")
    return 0


sys.exit(main())
