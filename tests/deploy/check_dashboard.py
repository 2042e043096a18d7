#!/usr/bin/env python3
"""Static checks of the Grafana/Prometheus deployment files, and the metric
families they query.

  check_dashboard.py static ROOT      validate; print one queried family a line
  check_dashboard.py live ROOT BUILT SCRAPE...
      BUILT: comma-separated workers whose binary exists; SCRAPE: exposition
      files of the running workers. Every queried family must be exported by
      one of them, except families owned by a worker that is not built (SKIP).

Needs only the standard library (no PyYAML in CI): the YAML files read here
are this repository's own, in a simple shape, and read with regexes.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops"))
import expo  # noqa: E402

METRIC = re.compile(r"\b(socialcare_[a-zA-Z0-9_]+)")
# Families a worker other than ingest/classify owns (the brief's metric names).
OWNERS = [("socialcare_route_", "route"), ("socialcare_track_", "track"),
          ("socialcare_brand_", "track"), ("socialcare_sla_", "track"),
          ("socialcare_alerts_", "alert"), ("socialcare_webhook_", "alert")]

problems = []


def problem(msg):
    problems.append(msg)


def family(name):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def check_static(root):
    ds = read(root, "deploy/grafana/provisioning/datasources/prometheus.yml")
    m = re.search(r"^\s*uid:\s*(\S+)", ds, re.M)
    uid = m.group(1) if m else None
    if not uid:
        problem("datasource provisioning has no uid")
    if not re.search(r"url:\s*http://prometheus:9090", ds):
        problem("datasource does not point at the prometheus service")

    prov = read(root, "deploy/grafana/provisioning/dashboards/socialcare.yml")
    m = re.search(r"^\s*path:\s*(\S+)", prov, re.M)
    dash_path = m.group(1) if m else None
    compose = read(root, "docker-compose.yml")
    if not dash_path or f"./deploy/grafana/dashboards:{dash_path}:ro" not in compose:
        problem(f"dashboards provider path {dash_path} is not where compose mounts "
                "deploy/grafana/dashboards")

    try:
        d = json.loads(read(root, "deploy/grafana/dashboards/socialcare.json"))
    except ValueError as e:
        problem(f"socialcare.json is not valid JSON: {e}")
        return set()
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        problem(f"schemaVersion {d.get('schemaVersion')} (want >= 36)")
    if not d.get("uid") or not d.get("title"):
        problem("dashboard without uid or title")
    names = {v.get("name") for v in d.get("templating", {}).get("list", [])}
    if "brand" not in names:
        problem("no brand template variable")
    for v in d.get("templating", {}).get("list", []):
        if v.get("datasource", {}).get("uid") != uid:
            problem(f"variable {v.get('name')}: datasource uid is not {uid}")

    families = set()
    ids = set()
    all_panels = []
    for p in d.get("panels", []):
        all_panels.append(p)
        all_panels.extend(p.get("panels", []))
    if len(all_panels) < 10:
        problem(f"only {len(all_panels)} panels")
    for p in all_panels:
        pid, title = p.get("id"), p.get("title")
        if pid in ids or not isinstance(pid, int):
            problem(f"panel id {pid} ({title}) missing or not unique")
        ids.add(pid)
        if p.get("type") == "row":
            continue
        gp = p.get("gridPos", {})
        if not all(isinstance(gp.get(k), int) for k in ("h", "w", "x", "y")) or \
                gp["x"] + gp["w"] > 24:
            problem(f"panel {title}: bad gridPos {gp}")
        if p.get("datasource", {}).get("uid") != uid:
            problem(f"panel {title}: datasource uid is not {uid}")
        targets = p.get("targets") or []
        if not targets:
            problem(f"panel {title}: no targets")
        for t in targets:
            expr = t.get("expr", "")
            if not expr.strip():
                problem(f"panel {title}: target {t.get('refId')} without expr")
            if t.get("datasource", {}).get("uid") != uid:
                problem(f"panel {title}: target datasource uid is not {uid}")
            if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
                problem(f"panel {title}: unbalanced expr {expr}")
            found = {family(n) for n in METRIC.findall(expr)}
            if not found:
                problem(f"panel {title}: expr names no socialcare_ metric: {expr}")
            families |= found

    # Alert rules are queries too.
    alerts = read(root, "deploy/prometheus/alerts.yml")
    for expr in re.findall(r"^\s*expr:\s*(.+)$", alerts, re.M):
        families |= {family(n) for n in METRIC.findall(expr)}

    # Prometheus jobs <-> compose services.
    prom = read(root, "deploy/prometheus/prometheus.yml")
    for rf in re.findall(r"^\s*-\s*(/etc/prometheus/\S+)", prom, re.M):
        if f":{rf}:ro" not in compose:
            problem(f"prometheus rule file {rf} is not mounted by docker-compose.yml")
    services = set(subprocess.run(
        ["docker-compose", "-f", os.path.join(root, "docker-compose.yml"), "config",
         "--services"], check=True, capture_output=True, text=True).stdout.split())
    # Each job: "- job_name: X" then its dns_sd_configs names or static targets.
    jobs = re.split(r"^\s*-\s*job_name:\s*", prom, flags=re.M)[1:]
    if not jobs:
        problem("prometheus.yml: no jobs found")
    scraped = set()
    for block in jobs:
        job = block.split()[0]
        if job == "prometheus":
            continue
        hosts = []
        for names in re.findall(r"names:\s*\[([^\]]*)\]", block):
            port = re.search(r"port:\s*(\d+)", block)
            hosts += [(h, port.group(1) if port else "")
                      for h in re.findall(r'"([^"]+)"', names)]
        for targets in re.findall(r"targets:\s*\[([^\]]*)\]", block):
            hosts += [tuple(t.partition(":")[::2]) for t in re.findall(r'"([^"]+)"', targets)]
        if not hosts:
            problem(f"prometheus job {job}: no targets")
        for host, port in hosts:
            if host not in services:
                problem(f"prometheus job {job}: target {host} is not a compose service")
            if port != "9100":
                problem(f"prometheus job {job}: {host} is not scraped on the metrics port 9100")
            scraped.add(host)
        if job not in services:
            problem(f"prometheus job {job} is not named after a compose service")
    for w in ("ingest", "classify", "route", "track", "alert"):
        if w not in services:
            problem(f"compose has no {w} service")
        if w not in scraped:
            problem(f"prometheus does not scrape {w}")
    return families


def owner(fam):
    for prefix, w in OWNERS:
        if fam.startswith(prefix):
            return w
    return None


def main(argv):
    if len(argv) < 3 or argv[1] not in ("static", "live"):
        print(__doc__, file=sys.stderr)
        return 2
    families = check_static(argv[2])
    if argv[1] == "static":
        for p in problems:
            print("FAIL:", p)
        if problems:
            return 1
        for f in sorted(families):
            print(f)
        return 0
    built = set(filter(None, argv[3].split(",")))
    exported = {}
    for path in argv[4:]:
        try:
            types, _ = expo.parse(open(path, encoding="utf-8").read())
        except expo.ExpoError as e:
            problem(f"{path}: {e}")
            continue
        for f in types:
            exported.setdefault(f, []).append(os.path.basename(path))
    skipped = []
    for f in sorted(families):
        if f in exported:
            continue
        w = owner(f)
        if w and w not in built:
            skipped.append(f"{f} ({w} not built)")
            continue
        problem(f"{f} is queried by the dashboard or alert rules but no worker exports it")
    for s in skipped:
        print("SKIP:", s)
    for p in problems:
        print("FAIL:", p)
    if problems:
        return 1
    print(f"ok: {len(families) - len(skipped)} queried families exported, "
          f"{len(skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
