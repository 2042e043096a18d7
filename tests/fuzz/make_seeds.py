#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (seed-* files) from
the repository's own samples, config and schemas, plus two TZif files copied
from /usr/share/zoneinfo (public domain). Reproducers found by fuzzing are
committed beside them under other names (crash-*, see docs/DEVELOPING.md)
and are never touched here. Run from anywhere: python3 tests/fuzz/make_seeds.py
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- Avro binary, driven by the .avsc files ---------------------------------
def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def load_schemas():
    named = {}
    for fn in sorted(os.listdir(os.path.join(ROOT, "schemas"))):
        if fn.endswith(".avsc"):
            with open(os.path.join(ROOT, "schemas", fn)) as f:
                s = json.load(f)
            named[s["namespace"] + "." + s["name"]] = s
    return named


SAMPLE = {"event_id": "x:1861000000000000001", "brand": "telko", "platform": "x",
          "post_id": "1861000000000000001", "text": "Internet nie działa od rana! #telko",
          "label": "negative", "name": "crisis", "kind": "breach", "team": "care",
          "priority": "high", "language": "pl", "handle": "kasia_wro"}


def encode(schema, named, field="", variant=0):
    """variant 0: optional fields set, arrays of two; 1: nulls, empty arrays."""
    if isinstance(schema, str):
        if schema in named:
            return encode(named[schema], named, field, variant)
        schema = {"type": schema}
    if isinstance(schema, list):  # union
        if "null" in schema and (variant == 1 or len(schema) == 1):
            return zigzag(schema.index("null"))
        i = next(k for k, b in enumerate(schema) if b != "null")
        return zigzag(i) + encode(schema[i], named, field, variant)
    t = schema["type"]
    if isinstance(t, (dict, list)) or t in named:
        return encode(t, named, field, variant)
    if t == "record":
        named.setdefault(schema.get("namespace", "socialcare") + "." + schema["name"], schema)
        return b"".join(encode(f["type"], named, f["name"], variant) for f in schema["fields"])
    if t == "string":
        return (lambda s: zigzag(len(s)) + s)(SAMPLE.get(field, field or "s").encode())
    if t in ("long", "int"):
        return zigzag({"created_at": 1795100000000, "received_at": 1795100001000,
                       "due_at": 1795103600000, "rating": 4}.get(field, 250))
    if t == "boolean":
        return b"\x01"
    if t == "double":
        return struct.pack("<d", -0.75)
    if t == "enum":
        return zigzag(0)
    if t == "array":
        if variant == 1:
            return zigzag(0)
        item = encode(schema["items"], named, field + "_item", variant)
        return zigzag(2) + item + item + zigzag(0)
    raise ValueError(t)


def avro_seeds():
    named = load_schemas()
    records = ["Post", "Enriched", "Routed", "SlaEvent", "Alert"]
    for i, r in enumerate(records):
        for v in (0, 1):
            body = encode(named["socialcare." + r], dict(named), variant=v)
            put("avro", "%s-%d" % (r.lower(), v), bytes([i]) + body)
            if r == "Enriched":
                put("enriched", "enriched-%d" % v, body)
        # the same record with its own frame header (byte 0 bit 3)
        put("avro", "%s-framed" % r.lower(),
            bytes([8 | i]) + b"\0" + struct.pack(">i", i + 1) + encode(
                named["socialcare." + r], dict(named)))


def json_seeds():
    with open(os.path.join(ROOT, "samples", "sample-posts.jsonl"), "rb") as f:
        lines = [l.strip() for l in f if l.strip()]
    for i, l in enumerate(lines):
        put("ingest", "sample-%02d" % i, b"\0" + l)
        if i % 3 == 0:
            put("json", "sample-%02d" % i, l)
    for fmt, name in ((1, "canonical"), (2, "x"), (3, "facebook"), (4, "instagram"),
                      (5, "review")):
        put("ingest", "format-" + name, bytes([fmt | 8]) + lines[min(fmt, len(lines) - 1)])
    put("json", "edge", '[1,-0.5e-3,true,false,null,"\\u0105\\ud83d\\ude00",{"a":{}},[]]')
    put("json", "schema", open(os.path.join(ROOT, "schemas", "post.avsc"), "rb").read())


def registry_seeds():
    put("registry", "ok", b"\0" + b'{"id":42}')
    put("registry", "string-id", b"\0" + b'{"id":"7","version":3}')
    put("registry", "error", b"\7" + b'{"error_code":50001,"message":"boom"}')
    put("registry", "not-found", b"\6" + b'{"error_code":40401,"message":"Subject not found"}')


def yaml_seeds():
    cfg = open(os.path.join(ROOT, "config", "socialcare.yaml"), "rb").read()
    put("config", "socialcare", cfg)
    put("yaml", "socialcare", cfg)
    small = ("kafka: {bootstrap.servers: 127.0.0.1:9092, producer: {linger.ms: 5}}\n"
             "redis: {url: redis://127.0.0.1:6379/0}\n"
             "brands:\n  - id: telko\n    keywords: [telko]\n"
             "calendars:\n  office:\n    timezone: Europe/Warsaw\n"
             "    hours: {mon-fri: '08:00-20:00'}\n    holidays: ['2026-12-25']\n"
             "teams:\n  care: {calendar: office, sla: {high: 30m, normal: 4h}}\n"
             "route:\n  default_team: care\n  rules:\n"
             "    - {id: r1, when: {sentiment: negative}, then: {team: care, priority: high}}\n"
             "alert:\n  targets:\n    - {id: ops, url: 'http://127.0.0.1:9/hook', format: json}\n")
    put("config", "small", small)
    put("yaml", "small", small)
    put("yaml", "anchors", "a: &x {k: [1, 2.5, true, ~]}\nb: *x\nc: |\n  text\n  block\n")


def tz_seeds():
    for name in ("Europe/Warsaw", "America/Sao_Paulo", "Australia/Lord_Howe"):
        p = os.path.join("/usr/share/zoneinfo", name)
        if os.path.exists(p):
            dst = os.path.join(CORPUS, "tz", "seed-" + name.replace("/", "_"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(p, dst)
    for i, s in enumerate(["CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30",
                           "EST5EDT", "AAA3BBB,J60/25,300/-1", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"]):
        put("tz", "posix-%d" % i, s)


if __name__ == "__main__":
    avro_seeds()
    json_seeds()
    registry_seeds()
    yaml_seeds()
    tz_seeds()
