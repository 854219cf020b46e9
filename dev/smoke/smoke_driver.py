#!/usr/bin/env python3
"""Drives the Dapr smoke test against a running daprd + stand-in app (see dapr-smoke.sh).
Publishes structured CloudEvents through daprd's HTTP API, reads what the stand-in recorded,
exercises the state API against Redis, and prints timings. Exit code 0 = every check passed.
Every wait is bounded."""
import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

FAILURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)
    return ok


def http(method, url, body=None, headers=None, timeout=10):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def read_records(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except FileNotFoundError:
        pass
    return out


def wait_for(pred, timeout, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


def check_keys(args):
    print("kafka message keys:", flush=True)
    want = dict(l.rstrip("\n").split("\t") for l in open(args.published) if "\t" in l)
    found = {}
    for line in open(args.kafka_dump, errors="replace"):
        parts = line.rstrip("\n").split("\t", 1)
        if len(parts) == 2:
            try:
                found[json.loads(parts[1]).get("id")] = parts[0]
            except (ValueError, AttributeError):
                pass
    missing = [i for i in want if i not in found]
    wrong = [i for i in want if i in found and found[i] != want[i]]
    check(bool(want) and not missing and not wrong,
          f"every published event is in Kafka, keyed by its partitionKey "
          f"({len(want) - len(missing) - len(wrong)}/{len(want)}; missing {len(missing)}, wrong key {len(wrong)})")
    return 1 if FAILURES else 0


def publish_event(base, auth, etype, published="", timeout=30):
    task_id = str(uuid.uuid4())
    ev = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "dapr-smoke", "type": etype,
          "subject": task_id, "datacontenttype": "application/json",
          "data": {"event_type": etype, "task_id": task_id}}
    sent = time.time()
    try:
        code, body = http("POST", f"{base}/v1.0/publish/pubsub/task-events?metadata.partitionKey={task_id}",
                          json.dumps(ev).encode(), {"Content-Type": "application/cloudevents+json", **auth},
                          timeout=timeout)
    except OSError as e:  # timeout or connection error
        code, body = 0, str(e).encode()
    if code == 204 and published:
        with open(published, "a") as f:
            f.write(f"{ev['id']}\t{task_id}\n")
    return ev, sent, code, body, time.time() - sent


def outage_phase(args):
    base = args.dapr_http.rstrip("/")
    auth = {"dapr-api-token": args.token} if args.token else {}
    timings = {}
    if args.phase == "outage":
        print("Kafka down:", flush=True)
        code, _ = http("GET", f"{base}/v1.0/healthz")
        check(code == 204, f"daprd stays healthy while Kafka is down (healthz {code})")
        ev, _, code, body, took = publish_event(base, auth, "smoke.outage", timeout=30)
        timings["outage_publish_error_s"] = round(took, 2)
        check(code >= 500 and took < 15,
              f"publish fails fast instead of hanging ({code} after {took:.1f}s: {body[:90]!r})")
    else:
        print("Kafka back:", flush=True)
        t0 = time.time()
        deadline = t0 + 60
        while True:
            ev, sent, code, body, _ = publish_event(base, auth, "smoke.recovered", args.published)
            if code == 204 or time.time() > deadline:
                break
            time.sleep(0.5)
        timings["publish_recovery_s"] = round(time.time() - t0, 2)
        if check(code == 204, f"publish accepted again after {time.time() - t0:.1f}s (last {code})"):
            got = wait_for(lambda: [r for r in read_records(args.record)
                                    if r.get("route") == "/events/task-events" and r.get("id") == ev["id"]], 90)
            if check(bool(got), "the subscription resumed: the event was delivered"):
                timings["delivery_after_recovery_s"] = round(got[0]["at"] - sent, 2)
    print("timings: " + json.dumps(timings), flush=True)
    return 1 if FAILURES else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dapr-http", required=True, help="http://127.0.0.1:PORT")
    ap.add_argument("--record", required=True)
    ap.add_argument("--token", default="")
    ap.add_argument("--redis-cli", default="", help='redis-cli command prefix, e.g. "redis-cli -p 6379"')
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--kafka-dump", default="", help="file with 'key<TAB>value' lines read from task-events")
    ap.add_argument("--published", default="", help="write 'event-id<TAB>partition-key' lines here")
    ap.add_argument("--check-keys-only", action="store_true")
    ap.add_argument("--phase", choices=["main", "outage", "recovered"], default="main",
                    help="outage: Kafka is down, a publish must fail fast; "
                         "recovered: Kafka is back, publishing and delivery must resume")
    args = ap.parse_args()
    if args.check_keys_only:
        return check_keys(args)
    if args.phase != "main":
        return outage_phase(args)
    base = args.dapr_http.rstrip("/")
    auth = {"dapr-api-token": args.token} if args.token else {}
    run = uuid.uuid4().hex[:8]
    timings = {}

    def publish(etype, task_id=None, data=None):
        task_id = task_id or str(uuid.uuid4())
        ev = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "dapr-smoke",
            "type": etype,
            "subject": task_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "datacontenttype": "application/json",
            "data": data or {"event_type": etype, "task_id": task_id, "run": run},
        }
        if args.published:
            with open(args.published, "a") as f:
                f.write(f"{ev['id']}\t{task_id}\n")
        sent = time.time()
        code, body = http(
            "POST",
            f"{base}/v1.0/publish/pubsub/task-events?metadata.partitionKey={task_id}",
            json.dumps(ev).encode(),
            {"Content-Type": "application/cloudevents+json", **auth},
        )
        return ev, sent, code, body

    def received(route, eid):
        return [r for r in read_records(args.record) if r.get("route") == route and r.get("id") == eid]

    print("pub/sub (Kafka):", flush=True)
    if args.token:
        code, _ = http("POST", f"{base}/v1.0/publish/pubsub/task-events", b"{}",
                       {"Content-Type": "application/json"})
        check(code == 401, f"publish without dapr-api-token is refused (got {code})")

    ev, sent, code, body = publish("smoke.created")
    check(code == 204, f"publish structured CloudEvent -> 204 (got {code} {body[:200]!r})")
    got = wait_for(lambda: received("/events/task-events", ev["id"]), 90)
    if check(bool(got), "stand-in received the first event (declarative subscription)"):
        r = got[0]
        timings["first_delivery_s"] = round(r["at"] - sent, 3)
        check(r["type"] == ev["type"] and r["source"] == ev["source"], "id, type and source kept")
        check(r["topic"] == "task-events" and r["pubsubname"] == "pubsub",
              f"daprd added topic/pubsubname ({r['topic']}, {r['pubsubname']})")
        check(r.get("data", {}).get("run") == run, "data payload intact")

    # Steady state: sequential publishes, delivery latency per event.
    lat, pub_ms, sent_at = [], [], {}
    for i in range(args.events):
        t0 = time.time()
        ev_i, s, c, _ = publish("smoke.created")
        pub_ms.append((time.time() - t0) * 1000)
        if c == 204:
            sent_at[ev_i["id"]] = s
    check(len(sent_at) == args.events, f"{args.events} further publishes accepted")
    def all_in():
        recs = {r["id"]: r for r in read_records(args.record) if r.get("route") == "/events/task-events"}
        return all(k in recs for k in sent_at) and recs
    recs = wait_for(all_in, 60)
    if check(bool(recs), f"all {len(sent_at)} events delivered"):
        lat = sorted((recs[k]["at"] - v) * 1000 for k, v in sent_at.items())
        timings["publish_ms_p50"] = round(statistics.median(pub_ms), 1)
        timings["delivery_ms_p50"] = round(statistics.median(lat), 1)
        timings["delivery_ms_max"] = round(lat[-1], 1)

    # DROP -> dead-letter topic.
    ev, sent, code, _ = publish("smoke.poison")
    got = wait_for(lambda: received("/events/dlq", ev["id"]), 60)
    if check(code == 204 and bool(got), "DROP answer sends the event to task-events-dlq"):
        timings["drop_to_dlq_s"] = round(got[0]["at"] - sent, 3)
        first = received("/events/task-events", ev["id"])
        check(len(first) == 1, f"a DROPped event is not retried (delivered {len(first)}x)")

    # RETRY -> redelivered by the resiliency policy, then SUCCESS.
    ev, sent, code, _ = publish("smoke.flaky")
    got = wait_for(lambda: [r for r in received("/events/task-events", ev["id"]) if r["answer"] == "SUCCESS"], 60)
    if check(code == 204 and bool(got), "RETRY answer is redelivered (inbound retry policy)"):
        timings["retry_redelivery_s"] = round(got[0]["at"] - sent, 3)

    print("state (Redis):", flush=True)
    key = f"smoke-{run}"
    item = [{"key": key, "value": {"run": run, "n": 1},
             "options": {"concurrency": "first-write"}, "metadata": {"ttlInSeconds": "120"}}]
    t0 = time.time()
    code, body = http("POST", f"{base}/v1.0/state/statestore", item, {"Content-Type": "application/json", **auth})
    timings["state_save_ms"] = round((time.time() - t0) * 1000, 1)
    check(code == 204, f"first-write save of a new key -> 204 (got {code} {body[:200]!r})")
    item[0]["value"] = {"run": run, "n": 2}
    code, body = http("POST", f"{base}/v1.0/state/statestore", item, {"Content-Type": "application/json", **auth})
    # Dapr's Redis store refuses it, but as a generic save error (500 ERR_STATE_SAVE, "failed to
    # set key"), not as an ETag conflict (409): only requests that carry an ETag get 409.
    # Idempotency code must therefore treat a failed first-write as "maybe exists" and GET the key.
    refused = code >= 400 and (code == 409 or b"failed to set key" in body)
    check(refused, f"second first-write save without ETag is refused (got {code} {body[:120]!r})")
    t0 = time.time()
    code, body = http("GET", f"{base}/v1.0/state/statestore/{key}", headers=auth)
    timings["state_get_ms"] = round((time.time() - t0) * 1000, 1)
    ok = code == 200 and json.loads(body or b"null") == {"run": run, "n": 1}
    check(ok, f"get returns the first value (got {code} {body[:200]!r})")
    if args.redis_cli:
        cli = shlex.split(args.redis_cli)
        out = subprocess.run(cli + ["EXISTS", f"statestore||{key}"], capture_output=True, text=True, timeout=10)
        check(out.stdout.strip() == "1", "Redis holds the key as statestore||<key> (keyPrefix: name)")
        out = subprocess.run(cli + ["TTL", f"statestore||{key}"], capture_output=True, text=True, timeout=10)
        ttl = int(out.stdout.strip() or -2)
        check(0 < ttl <= 120, f"ttlInSeconds applied (TTL {ttl})")
    http("DELETE", f"{base}/v1.0/state/statestore/{key}", headers=auth)

    print("cron bindings:", flush=True)
    t0 = time.time()
    for route in ("/cron/reminders", "/cron/outbox"):
        got = wait_for(lambda: [r for r in read_records(args.record) if r.get("route") == route], 30, 0.2)
        check(bool(got), f"daprd POSTs {route}")
    timings["cron_wait_s"] = round(time.time() - t0, 1)

    print("timings: " + json.dumps(timings), flush=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
