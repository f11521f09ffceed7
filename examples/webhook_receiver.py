#!/usr/bin/env python3
"""A webhook receiver for the demo: verifies each delivery as the Standard
Webhooks specification says (https://www.standardwebhooks.com/), with the
Python standard library only, and counts the events it accepted by type.

usage: webhook_receiver.py PORT_FILE SECRET_FILE COUNTS_FILE
  Listens on 127.0.0.1 (a free port, written to PORT_FILE), reads the
  endpoint's signing secret (whsec_...) from SECRET_FILE when a delivery
  arrives, and rewrites COUNTS_FILE as JSON after each one:
  {"deliveries": N, "rejected": N, "events": {"SENT": N, ...}, "duplicates": N}.
  Runs until SIGTERM.
"""
import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024
TOLERANCE_SECONDS = 5 * 60  # the specification's suggested replay window

port_file, secret_file, counts_file = sys.argv[1:4]
counts = {"deliveries": 0, "rejected": 0, "events": {}, "duplicates": 0}
seen = set()
lock = threading.Lock()  # one delivery is in flight per endpoint; this is for safety


def verified(headers, body):
    try:
        with open(secret_file, encoding="ascii") as f:
            secret = f.read().strip()
        key = base64.b64decode(secret.removeprefix("whsec_"))
        msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
        if abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
            return False
        signed = f"{msg_id}.{stamp}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")]
        return any(hmac.compare_digest(expected, s) for s in offered)
    except (OSError, KeyError, ValueError, TypeError, AttributeError):
        return False


def record(ok, body):
    counts["deliveries" if ok else "rejected"] += 1
    if ok:
        for event in json.loads(body).get("data", []):
            if event["id"] in seen:
                counts["duplicates"] += 1
                continue
            seen.add(event["id"])
            counts["events"][event["type"]] = counts["events"].get(event["type"], 0) + 1
    with open(counts_file + ".tmp", "w", encoding="ascii") as f:
        json.dump(counts, f)
    os.replace(counts_file + ".tmp", counts_file)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY))
        ok = length <= MAX_BODY and verified(self.headers, body)
        self.send_response(204 if ok else 401)
        self.end_headers()
        with lock:
            record(ok, body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(port_file, "w", encoding="ascii") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
