#!/usr/bin/env python3
"""A stand-in for on_task_event, used by dev/smoke/dapr-smoke.sh to check the Dapr path
(daprd + Kafka + Redis + the resources in dapr/) before the real function exists.

It follows the contract on_task_event must follow (DESIGN §3, PITFALLS "Dapr"):
  GET  /health                 200
  GET  /dapr/subscribe         programmatic subscription to the dead-letter topic only
                               (task-events itself comes from dapr/subscription.yaml)
  POST /events/task-events     {"status": "SUCCESS"}; "DROP" for type smoke.poison;
                               "RETRY" the first time it sees an event of type smoke.flaky
  POST /events/dlq             records dead-lettered events
  POST /cron/reminders, /cron/outbox   200 (cron bindings)
Every request that reaches a route is appended as one JSON line to --record, with the time it
arrived (time.time()), so the smoke script can check and time deliveries.
If APP_API_TOKEN is set, requests without the matching dapr-api-token header get 401.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN_FLAKY = set()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record", required=True)
    args = ap.parse_args()
    token = os.environ.get("APP_API_TOKEN", "")
    record_file = open(args.record, "a", buffering=1)

    def record(entry):
        entry["at"] = time.time()
        with LOCK:
            record_file.write(json.dumps(entry) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the second waits for the peer's
        # delayed ACK (~40 ms) and every delivery behind it on the partition waits too.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def reply(self, code, body=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def authorized(self):
            if token and self.headers.get("dapr-api-token") != token:
                self.reply(401, {"detail": "missing or wrong dapr-api-token"})
                return False
            return True

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            if self.path == "/health":
                return self.reply(200, {"status": "ok"})
            if not self.authorized():
                return
            if self.path == "/dapr/subscribe":
                return self.reply(200, [
                    {"pubsubname": "pubsub", "topic": "task-events-dlq", "route": "/events/dlq"},
                ])
            self.reply(404, {"detail": "Not Found"})

        def do_OPTIONS(self):
            self.reply(200 if self.path.startswith("/cron/") else 404)

        def do_POST(self):
            raw = self.body()
            if not self.authorized():
                return
            if self.path in ("/cron/reminders", "/cron/outbox"):
                record({"route": self.path})
                return self.reply(200)
            if self.path not in ("/events/task-events", "/events/dlq"):
                return self.reply(404, {"detail": "Not Found"})
            try:
                event = json.loads(raw)
            except ValueError:
                record({"route": self.path, "malformed": True})
                return self.reply(200, {"status": "DROP"})
            entry = {
                "route": self.path,
                "id": event.get("id"),
                "type": event.get("type"),
                "source": event.get("source"),
                "topic": event.get("topic"),
                "pubsubname": event.get("pubsubname"),
                "data": event.get("data"),
                "content_type": self.headers.get("Content-Type"),
            }
            status = "SUCCESS"
            if self.path == "/events/task-events":
                if entry["type"] == "smoke.poison":
                    status = "DROP"
                elif entry["type"] == "smoke.flaky":
                    with LOCK:
                        first = entry["id"] not in SEEN_FLAKY
                        SEEN_FLAKY.add(entry["id"])
                    if first:
                        status = "RETRY"
            entry["answer"] = status
            record(entry)
            self.reply(200, {"status": status})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
