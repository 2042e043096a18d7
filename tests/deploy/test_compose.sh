#!/usr/bin/env bash
# docker-compose.yml, Dockerfile and deploy/ without a Docker engine (none runs
# in CI): `docker-compose config` must accept the file (docker-compose 1.29
# from Debian), and the stack it describes must be complete:
#  - kafka (KRaft), kafka-init, redis, every worker, prometheus, grafana;
#  - every worker: its binary, restart policy, /healthz healthcheck, non-root,
#    metrics port, deployment file, waits for kafka-init and a healthy redis;
#  - kafka-init creates every topic a worker reads or writes (taken from the
#    workers' sources and the teams of config/socialcare.yaml) and its .dlq;
#  - prometheus scrapes every worker service; provisioning files exist;
#  - the Dockerfile is multi-stage, non-root, with a HEALTHCHECK.
set -euo pipefail
root=$1
cd "$root"
fail() { echo "FAIL: $*"; exit 1; }
command -v docker-compose >/dev/null || fail "docker-compose not installed (scripts/deps.sh --test)"
work=$(mktemp -d /tmp/sc-compose.XXXXXX)
trap 'rm -rf "$work"' EXIT
docker-compose -f docker-compose.yml config >"$work/config.yml" || fail "docker-compose config rejects docker-compose.yml"

# The interpreter docker-compose itself runs on has PyYAML (a dependency).
PY=$(head -1 "$(command -v docker-compose)" | sed -n 's/^#!//p')
"$PY" -c 'import yaml' 2>/dev/null || PY=python3

# Topics the workers use, from their sources: *.input_topics and
# *_topic defaults in services/*/main.c, care.queue.<team> for the teams of
# the deployment file; a .dlq for every consumed topic.
"$PY" - "$root" >"$work/needed.txt" <<'PY'
import glob, re, sys, yaml
root = sys.argv[1]
need = set()
for path in glob.glob(f"{root}/services/*/main.c"):
    src = open(path, encoding="utf-8").read()
    for lit in re.findall(r'"((?:social|care)\.[a-z0-9_.,]*[a-z0-9_])"', src):
        need.update(lit.split(","))
    for lit in re.findall(r'\.input_topics\s*=\s*"([^"]+)"', src):
        for t in lit.split(","):
            need.add(t.strip() + ".dlq")
cfg = yaml.safe_load(open(f"{root}/config/socialcare.yaml", encoding="utf-8")) or {}
for team in (cfg.get("teams") or {}):
    need.add(f"care.queue.{team}")
for t in sorted(need):
    print(t)
PY

"$PY" - "$work/config.yml" "$root" "$work/needed.txt" <<'PY'
import os, re, subprocess, sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
root = sys.argv[2]
needed = open(sys.argv[3]).read().split()
svc = cfg.get("services", {})
problems = []
def fail(msg):
    problems.append(msg)

for s in ("kafka", "kafka-init", "redis", "ingest", "classify", "route", "track", "alert",
          "prometheus", "grafana"):
    if s not in svc:
        fail(f"service {s} missing")
kenv = svc.get("kafka", {}).get("environment", {})
if kenv.get("KAFKA_PROCESS_ROLES") != "broker,controller":
    fail("kafka is not KRaft (KAFKA_PROCESS_ROLES)")

def healthcheck(name):
    hc = svc.get(name, {}).get("healthcheck")
    if not hc or not hc.get("test"):
        fail(f"{name}: no healthcheck")
        return ""
    t = hc["test"]
    return " ".join(t) if isinstance(t, list) else t

for name in ("kafka", "redis", "prometheus", "grafana"):
    healthcheck(name)
    if svc.get(name, {}).get("restart") != "unless-stopped":
        fail(f"{name}: restart policy is not unless-stopped")

# Workers: every worker the source tree has, plus the five of the pipeline.
workers = {"ingest", "classify", "route", "track", "alert"}
for d in os.listdir(f"{root}/services"):
    cm = f"{root}/services/{d}/CMakeLists.txt"
    if os.path.exists(cm) and f"add_executable(socialcare-{d}" in open(cm).read():
        workers.add(d)
workers -= {"devbroker", "ctl"}
for w in sorted(workers):
    s = svc.get(w)
    if not s:
        fail(f"worker {w} has no service")
        continue
    cmd = s.get("command")
    cmd = " ".join(cmd) if isinstance(cmd, list) else (cmd or "")
    if f"socialcare-{w}" not in cmd:
        fail(f"{w}: does not run socialcare-{w}")
    if s.get("restart") != "unless-stopped":
        fail(f"{w}: restart policy is not unless-stopped")
    if "/healthz" not in healthcheck(w):
        fail(f"{w}: healthcheck does not probe /healthz")
    user = str(s.get("user", ""))
    if not user or user.split(":")[0] in ("0", "root"):
        fail(f"{w}: no non-root user")
    env = s.get("environment", {})
    if str(env.get("SOCIALCARE_METRICS_PORT")) != "9100":
        fail(f"{w}: SOCIALCARE_METRICS_PORT is not 9100")
    for k in ("SOCIALCARE_KAFKA_BOOTSTRAP_SERVERS", "SOCIALCARE_REDIS_URL", "SOCIALCARE_CONFIG"):
        if not env.get(k):
            fail(f"{w}: {k} not set")
    vols = " ".join(str(v) for v in s.get("volumes", []))
    if "config/socialcare.yaml" not in vols or env.get("SOCIALCARE_CONFIG", "") not in vols:
        fail(f"{w}: deployment file not mounted at SOCIALCARE_CONFIG")
    dep = s.get("depends_on", {})
    if not isinstance(dep, dict) or \
       dep.get("kafka-init", {}).get("condition") != "service_completed_successfully" or \
       dep.get("redis", {}).get("condition") != "service_healthy":
        fail(f"{w}: must wait for kafka-init (completed) and redis (healthy)")

init = svc.get("kafka-init", {})
if init.get("depends_on", {}).get("kafka", {}).get("condition") != "service_healthy":
    fail("kafka-init must wait for a healthy kafka")
if init.get("restart", "no") != "no":
    fail("kafka-init is one-shot: restart must be no")

# kafka-init's topics: run its script against a stand-in for kafka-topics.sh.
env = {k: str(v) for k, v in init.get("environment", {}).items()}
script = None
for v in init.get("volumes", []):
    v = str(v)
    if "create-topics.sh" in v:
        script = v.split(":")[0]
if not script or not os.path.exists(script):
    fail("kafka-init does not mount deploy/kafka/create-topics.sh")
else:
    fake = os.path.join(os.path.dirname(sys.argv[3]), "kafka-topics.sh")
    log = fake + ".log"
    with open(fake, "w") as f:
        f.write(f'#!/bin/sh\necho "$@" >>{log}\n')
    os.chmod(fake, 0o755)
    run_env = dict(os.environ, **env, KAFKA_TOPICS=fake)
    subprocess.run(["bash", script], env=run_env, check=True, stdout=subprocess.DEVNULL)
    created = {}
    for line in open(log):
        m = re.search(r"--create .*--topic (\S+) .*--partitions (\S+)", line)
        if m:
            created[m.group(1)] = line
            if "retention.ms=" not in line:
                fail(f"topic {m.group(1)} without retention.ms")
    for t in needed:
        if t not in created:
            fail(f"kafka-init does not create {t}, which a worker uses")
    for t in ("care.alerts.webhook.dlq",):
        if t not in created:
            fail(f"kafka-init does not create {t}")
if str(kenv.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")).lower() != "false" and not problems:
    print("note: kafka auto-creates topics")

# Prometheus scrapes every worker; provisioning files are mounted and exist.
prom_vols = [str(v) for v in svc.get("prometheus", {}).get("volumes", [])]
prom_file = [v.split(":")[0] for v in prom_vols if v.split(":")[1:2] == ["/etc/prometheus/prometheus.yml"]]
if not prom_file or not os.path.exists(prom_file[0]):
    fail("prometheus.yml not mounted from deploy/")
else:
    prom = yaml.safe_load(open(prom_file[0]))
    targets = {}
    for job in prom.get("scrape_configs", []):
        for sc in job.get("static_configs", []):
            for t in sc.get("targets", []):
                if t.endswith(":9100"):
                    targets[t.split(":")[0]] = job["job_name"]
        for sd in job.get("dns_sd_configs", []):
            if sd.get("port") == 9100:
                for n in sd.get("names", []):
                    targets[n] = job["job_name"]
    for w in sorted(workers):
        if f"{w}" not in targets:
            fail(f"prometheus does not scrape {w}:9100")
    for rf in prom.get("rule_files", []):
        if not any(v.split(":")[1:2] == [rf] and os.path.exists(v.split(":")[0]) for v in prom_vols):
            fail(f"prometheus rule file {rf} not mounted from an existing file")
for v in svc.get("grafana", {}).get("volumes", []):
    v = str(v)
    if v.startswith("/") and not os.path.exists(v.split(":")[0]) and ":" in v and "/var/lib/grafana" != v.split(":")[1]:
        fail(f"grafana mounts {v.split(':')[0]}, which does not exist")
gv = " ".join(str(v) for v in svc.get("grafana", {}).get("volumes", []))
for d in ("provisioning/datasources", "provisioning/dashboards", "dashboards"):
    p = f"{root}/deploy/grafana/{d}"
    if p not in gv and f"./deploy/grafana/{d}" not in gv:
        fail(f"grafana does not mount deploy/grafana/{d}")
    if not os.path.isdir(p) or not os.listdir(p):
        fail(f"deploy/grafana/{d} is missing or empty")

for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PY

# Dockerfile: multi-stage, runtime without compilers, non-root, healthcheck.
[ "$(grep -c '^FROM ' Dockerfile)" -ge 2 ] || fail "Dockerfile is not multi-stage"
runtime=$(awk '/^FROM /{n++} n>=2' Dockerfile)
grep -q -- '-dev\b\|build-essential\|cmake' <<<"$runtime" && fail "runtime stage installs build packages"
grep -q '^USER [1-9][0-9]*' <<<"$runtime" || fail "runtime stage does not run as a numeric non-root USER"
grep -q '^HEALTHCHECK .*healthz' <<<"$runtime" || grep -q 'healthz' <<<"$(grep -A2 '^HEALTHCHECK' Dockerfile)" ||
  fail "no HEALTHCHECK on /healthz"
grep -q 'curl' <<<"$(grep -A3 'apt-get install' <<<"$runtime")" || fail "HEALTHCHECK uses curl but the runtime stage lacks it"
grep -q 'COPY --from=build /opt/socialcare/bin' <<<"$runtime" || fail "runtime does not copy only bin + share"
grep -q -- '--strip' Dockerfile || fail "binaries are not stripped"
grep -qx 'build' .dockerignore && grep -qx '.git' .dockerignore || fail ".dockerignore must exclude build and .git"
echo "ok: docker-compose.yml, deploy/ and Dockerfile consistent"
