#!/usr/bin/env python3
"""A minimal Confluent Schema Registry on loopback for tests: POST
/subjects/<subject>/versions assigns a global id per distinct schema text,
GET /schemas/ids/<id> returns it. Writes its port to the file given as argv[1]
and stops after argv[2] seconds (default 120) so it never outlives a test;
argv[3], if given, is the port to listen on (a registry that comes up late on
the address the workers were given)."""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

schemas, ids = {}, {}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        parts = self.path.strip("/").split("/")
        n = int(self.headers.get("Content-Length", 0))
        try:
            schema = json.loads(self.rfile.read(n))["schema"]
            json.loads(schema)
        except Exception as e:
            return self.reply(422, {"error_code": 42201, "message": str(e)})
        if len(parts) != 3 or parts[0] != "subjects" or parts[2] != "versions":
            return self.reply(404, {"error_code": 404, "message": "not found"})
        if schema not in ids:
            ids[schema] = 100 + len(ids)
            schemas[ids[schema]] = schema
        self.reply(200, {"id": ids[schema]})

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and int(parts[2]) in schemas:
            return self.reply(200, {"schema": schemas[int(parts[2])]})
        self.reply(404, {"error_code": 40403, "message": "Schema not found"})

ThreadingHTTPServer.allow_reuse_address = True
srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3]) if len(sys.argv) > 3 else 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
threading.Timer(float(sys.argv[2]) if len(sys.argv) > 2 else 120, srv.shutdown).start()
srv.serve_forever()
