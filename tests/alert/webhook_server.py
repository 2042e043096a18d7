#!/usr/bin/env python3
"""A real HTTP webhook receiver on loopback for the alert tests.

Every request is appended as one JSON line to --log (written and flushed
before the response is sent) with the path, the X-Socialcare-* headers, the
body, whether the signature verified, and the status answered.

Behaviour by path (first segment):
  /ok/...            200
  /flaky/...?fail=N  500 for the first N requests of an alert id, then 200
  /bad/...           400
  /slow/...?s=S      sleep S seconds (default 3), then 200
  anything else      404
Signatures are checked as docs/WEBHOOKS.md tells receivers to: HMAC-SHA256
over "<timestamp>.<body>" with the secret, constant-time compare, timestamp
no older than 5 minutes.
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--port-file")
ap.add_argument("--log", required=True)
ap.add_argument("--secret", default="")
args = ap.parse_args()

lock = threading.Lock()
seen = {}


def verify(secret, ts, body, sig):
    try:
        if abs(time.time() - int(ts)) > 300:
            return False
    except (TypeError, ValueError):
        return False
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v1=" + mac, sig or "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        kind = u.path.strip("/").split("/")[0]
        aid = self.headers.get("X-Socialcare-Alert-Id", "")
        ts = self.headers.get("X-Socialcare-Timestamp", "")
        sig = self.headers.get("X-Socialcare-Signature", "")
        with lock:
            seen[(u.path, aid)] = seen.get((u.path, aid), 0) + 1
            nth = seen[(u.path, aid)]
        status = 404
        if kind == "ok":
            status = 200
        elif kind == "flaky":
            status = 500 if nth <= int(q.get("fail", ["2"])[0]) else 200
        elif kind == "bad":
            status = 400
        elif kind == "slow":
            time.sleep(float(q.get("s", ["3"])[0]))
            status = 200
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        rec = {
            "path": u.path, "alert_id": aid, "ts": ts, "sig": sig,
            "attempt": self.headers.get("X-Socialcare-Attempt", ""),
            "sig_ok": verify(args.secret, ts, body, sig),
            "status": status, "body": parsed, "t": time.time(),
        }
        with lock:
            with open(args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
                f.flush()
        out = b'{"ok":true}' if status == 200 else b'{"ok":false}'
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", args.port), Handler)
if args.port_file:
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
