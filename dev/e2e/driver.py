#!/usr/bin/env python3
"""End-to-end tests of the distributed mode, run by dev/e2e.sh against the topology dev/up.sh
started (gateway, every function with its own daprd, Kafka, PostgreSQL, Redis).

Python 3 standard library only. Every test is bounded in time (SIGALRM) and every wait loop has
its own deadline. Usage: driver.py [--result FILE] [TEST ...]   (default: every test, in order)

Environment (from dev/e2e.sh / .cache/run/up/env): GATEWAY_URL, DAPR_API_TOKEN, DATABASE_URL,
KAFKA_PORT, E2E_PROFILE (for restarting a killed daprd through dev/up.sh), E2E_WEBHOOK_PORT (the
notification webhook this driver serves; on-task-event's bindings.http posts to it).
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GW = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")
DAPR_TOKEN = os.environ.get("DAPR_API_TOKEN", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
KAFKA_PORT = os.environ.get("KAFKA_PORT", "9092")
PROFILE = os.environ.get("E2E_PROFILE", "debug")
RUN = uuid.uuid4().hex[:8]  # tags every title this run creates

# Ports from functions/README.md; replica 2 adds 10.
CREATE_1, CREATE_2 = "http://127.0.0.1:8101", "http://127.0.0.1:8111"
DAPRD_CREATE, DAPRD_UPDATE, DAPRD_COMPLETE = 3501, 3502, 3503


class Fail(Exception):
    pass


# --- the notification webhook -------------------------------------------------------------------
# What on-task-event delivers through its Dapr output binding (bindings.http) arrives here. The
# first delivery of each notification is refused with a 500, so the test also sees the retry.

WEBHOOK = {"lock": threading.Lock(), "posts": []}  # posts: (status answered, parsed body)


class WebhookHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            data = json.loads(body or b"null")
        except ValueError:
            data = {"unparsed": body.decode("utf-8", "replace")}
        key = data.get("id") if isinstance(data, dict) else None
        with WEBHOOK["lock"]:
            seen = any(isinstance(b, dict) and b.get("id") == key for _, b in WEBHOOK["posts"])
            status = 200 if seen else 500
            WEBHOOK["posts"].append((status, data))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def start_webhook():
    port = int(os.environ.get("E2E_WEBHOOK_PORT", "0") or 0)
    if not port:
        return None
    server = ThreadingHTTPServer(("127.0.0.1", port), WebhookHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def webhook_posts(task_id):
    with WEBHOOK["lock"]:
        return [(st, b) for st, b in WEBHOOK["posts"] if isinstance(b, dict) and b.get("task_id") == task_id]


class TimeUp(Exception):
    pass


def log(msg):
    print(f"  [{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- HTTP -------------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise Fail(f"not JSON (HTTP {self.status}): {self.body[:300]!r}")

    def header(self, name):
        return self.headers.get(name.lower())


def http(method, url, body=None, headers=None, timeout=10.0, raw=None, ctype="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    h = {"accept": "application/json"}
    if data is not None:
        h["content-type"] = ctype
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Resp(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def expect(resp, status, what):
    if resp.status != status:
        raise Fail(f"{what}: expected HTTP {status}, got {resp.status}: {resp.body[:300]!r}")
    return resp


def create(title, base=GW, extra=None, headers=None, timeout=10.0):
    body = {"title": title}
    body.update(extra or {})
    return http("POST", f"{base}/api/tasks", body, headers=headers, timeout=timeout)


def history(task_id):
    r = http("GET", f"{GW}/api/tasks/{task_id}/history?limit=200")
    if r.status == 404:
        return []
    return expect(r, 200, f"history of {task_id}").json()["events"]


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def wait_until(what, secs, fn, interval=0.1):
    """Polls fn() until it returns something truthy; Fail after secs."""
    deadline = time.monotonic() + secs
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise Fail(f"{what}: not after {secs:.0f}s")
        time.sleep(interval)


def wait_audit(task_id, event_type, secs, count=1, interval=0.1):
    """Waits until task_id's history holds `count` events of event_type; returns them."""
    def probe():
        evs = [e for e in history(task_id) if e["event_type"] == event_type]
        return evs if len(evs) >= count else None
    return wait_until(f"{event_type} of task {task_id} in the audit log", secs, probe, interval)


def wait_all_audited(ids, event_type, secs):
    """Waits until every task in ids has event_type in its history; returns {id: entry}."""
    deadline = time.monotonic() + secs
    found = {}
    while True:
        for tid in [t for t in ids if t not in found]:
            evs = [e for e in history(tid) if e["event_type"] == event_type]
            if evs:
                found[tid] = evs[0]
        if len(found) == len(ids):
            return found
        if time.monotonic() >= deadline:
            missing = [t for t in ids if t not in found]
            raise Fail(f"{len(missing)} of {len(ids)} tasks have no {event_type} in the audit log "
                       f"after {secs:.0f}s (e.g. {missing[:3]}); outbox: {outbox_state(missing[:5])}")
        time.sleep(0.25)


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# --- helpers around the topology --------------------------------------------------------------

def psql(sql, timeout=15):
    r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", DATABASE_URL, "-c", sql],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise Fail(f"psql failed: {r.stderr.strip()[:300]}")
    return r.stdout.strip()


def outbox_state(task_ids):
    if not task_ids:
        return "-"
    try:
        ids = ",".join(f"'{t}'" for t in task_ids)
        return psql(f"SELECT string_agg(event_type || ' published=' || (published_at IS NOT NULL) || "
                    f"' attempts=' || attempts || coalesce(' err=' || left(last_error, 80), ''), '; ') "
                    f"FROM outbox WHERE task_id IN ({ids})") or "no rows"
    except Exception as e:  # noqa: BLE001 - diagnostics only
        return f"(unknown: {e})"


def sh(args, timeout, what):
    t0 = time.monotonic()
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise Fail(f"{what} failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-600:]}")
    return time.monotonic() - t0, r.stdout


def dapr_publish(daprd_port, cloudevent, partition_key, raw=None):
    url = (f"http://127.0.0.1:{daprd_port}/v1.0/publish/pubsub/task-events"
           f"?metadata.partitionKey={partition_key}")
    body = raw if raw is not None else json.dumps(cloudevent).encode()
    return http("POST", url, raw=body, ctype="application/cloudevents+json",
                headers={"dapr-api-token": DAPR_TOKEN})


def port_open(port):
    import socket
    s = socket.socket()
    s.settimeout(0.3)
    try:
        return s.connect_ex(("127.0.0.1", port)) == 0
    finally:
        s.close()


def kafka_consume(topic, timeout_ms=6000):
    """Every record of topic (key and value), read from the beginning with Kafka's console consumer."""
    r = subprocess.run(
        ["bash", "dev/kafka.sh", "tool", "org.apache.kafka.tools.consumer.ConsoleConsumer",
         "--bootstrap-server", f"127.0.0.1:{KAFKA_PORT}", "--topic", topic, "--from-beginning",
         "--timeout-ms", str(timeout_ms), "--property", "print.key=true",
         "--property", "key.separator=\t", "--group", f"e2e-{RUN}-{uuid.uuid4().hex[:6]}"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout_ms / 1000 + 60)
    # The console consumer ends with a TimeoutException (non-zero) once the topic is drained.
    out = []
    for line in r.stdout.splitlines():
        key, _, value = line.partition("\t")
        out.append((key, value))
    return out


# --- the tests --------------------------------------------------------------------------------

def test_audit_latency():
    """(a) A task created through the gateway reaches the audit log through Kafka; create -> audit latency."""
    n = 20
    pipeline_ms, observed_ms = [], []
    for i in range(n):
        t0 = time.monotonic()
        r = expect(create(f"e2e audit {RUN} #{i}"), 201, "create through the gateway")
        task = r.json()
        ev = wait_audit(task["id"], "task.created", 30, interval=0.01)[0]
        observed_ms.append((time.monotonic() - t0) * 1000)
        if ev["source"] != "create-task":
            raise Fail(f"audit entry source is {ev['source']!r}, expected 'create-task'")
        if ev["task_id"] != task["id"] or ev["payload"].get("title") != task["title"]:
            raise Fail(f"audit entry does not describe the task: {ev}")
        pipeline_ms.append((parse_ts(ev["recorded_at"]) - parse_ts(ev["timestamp"])).total_seconds() * 1000)
    # The same event is in the global activity feed.
    act = expect(http("GET", f"{GW}/api/activity?event_type=task.created&task_id={task['id']}"),
                 200, "activity").json()
    if act.get("total") != 1 or act["events"][0]["task_id"] != task["id"]:
        raise Fail(f"activity feed for task {task['id']}: {act}")
    return (f"{n} tasks; pipeline (recorded_at - timestamp) p50 {statistics.median(pipeline_ms):.0f} ms, "
            f"max {max(pipeline_ms):.0f} ms; POST -> visible in history p50 {statistics.median(observed_ms):.0f} ms, "
            f"max {max(observed_ms):.0f} ms")


def test_recurring_once():
    """(b) Completing a recurring task creates exactly one next occurrence; redelivery and re-completion create nothing more."""
    day = (datetime.now(timezone(timedelta(hours=1))) + timedelta(days=2)).date()
    due = f"{day.isoformat()}T09:00:00+01:00"
    r = expect(create(f"e2e recurring {RUN}", extra={"recurrence_rule": "daily", "due_date": due,
                                                      "timezone": "Europe/Paris"}), 201, "create recurring")
    task = r.json()
    tid = task["id"]
    if not task.get("is_recurring"):
        raise Fail(f"created task is not recurring: {task}")
    t0 = time.monotonic()
    done = expect(http("POST", f"{GW}/api/tasks/{tid}/complete"), 200, "complete").json()
    if done["status"] != "completed":
        raise Fail(f"complete answered status {done['status']!r}")

    def series():
        return expect(http("GET", f"{GW}/api/tasks?series_id={tid}&limit=50"), 200, "series").json()

    s = wait_until("next occurrence in the series", 30, lambda: (lambda x: x if x["total"] >= 2 else None)(series()))
    latency = time.monotonic() - t0
    nxt = [t for t in s["tasks"] if t["id"] != tid]
    if s["total"] != 2 or len(nxt) != 1:
        raise Fail(f"series {tid} should hold 2 tasks, holds {s['total']}: {[t['id'] for t in s['tasks']]}")
    nxt = nxt[0]
    expected_due = parse_ts(due) + timedelta(days=1)
    if parse_ts(nxt["due_date"]) != expected_due or nxt["status"] != "pending":
        raise Fail(f"next occurrence due {nxt['due_date']} status {nxt['status']}, expected {iso(expected_due)} pending")
    wait_audit(tid, "task.recurring.triggered", 20)
    wait_audit(nxt["id"], "task.created", 20)

    # Redelivery: publish the very same task.completed CloudEvent again (from the outbox).
    ce = json.loads(psql(f"SELECT cloudevent FROM outbox WHERE task_id = '{tid}' "
                         f"AND event_type = 'task.completed' ORDER BY seq LIMIT 1"))
    expect(dapr_publish(DAPRD_COMPLETE, ce, tid), 204, "re-publishing task.completed through daprd")
    # Re-completion: toggle back to pending, then complete again (a new task.completed event).
    expect(http("POST", f"{GW}/api/tasks/{tid}/complete"), 200, "un-complete")
    expect(http("POST", f"{GW}/api/tasks/{tid}/complete"), 200, "re-complete")
    # Same partition key, so once the second task.completed is audited the redelivered one
    # (published before it) has been handled too.
    wait_audit(tid, "task.completed", 30, count=2)
    time.sleep(2)
    s = series()
    if s["total"] != 2:
        raise Fail(f"after redelivery and re-completion the series holds {s['total']} tasks, expected 2: "
                   f"{[(t['id'], t['due_date']) for t in s['tasks']]}")
    triggered = [e for e in history(tid) if e["event_type"] == "task.recurring.triggered"]
    if len(triggered) != 1:
        raise Fail(f"{len(triggered)} task.recurring.triggered events for {tid}, expected 1")
    return f"next occurrence due {nxt['due_date']} after {latency * 1000:.0f} ms; redelivery + re-completion: still 2 in the series"


def test_reminder_notification():
    """(c) A reminder yields a notification (cron binding -> task.reminder.due -> notification consumer)."""
    now = datetime.now(timezone.utc)
    remind = now + timedelta(seconds=2)
    r = expect(create(f"e2e reminder {RUN}", extra={"due_date": iso(now + timedelta(hours=1)),
                                                     "reminder_at": iso(remind)}), 201, "create with reminder")
    tid = r.json()["id"]

    def find():
        body = expect(http("GET", f"{GW}/api/notifications?unread=true&limit=200"), 200, "notifications").json()
        return next((n for n in body["notifications"] if n["task_id"] == tid), None)

    n = wait_until("notification for the reminder", 45, find, interval=0.25)
    late = (parse_ts(n["created_at"]) - remind).total_seconds()
    if f"e2e reminder {RUN}" not in n["message"] and n.get("title") != f"e2e reminder {RUN}":
        raise Fail(f"notification does not name the task: {n}")
    wait_audit(tid, "task.reminder.due", 10)
    # Marking it read goes through the gateway to list_tasks.
    expect(http("POST", f"{GW}/api/notifications/{n['id']}/read"), 204, "mark read through the gateway")
    if find():
        raise Fail("notification still unread after POST /api/notifications/{id}/read")
    # Delivered through the real bindings.http output binding to our webhook: the first attempt
    # is refused (500), the retry on a later cron tick is accepted, and delivered_at is set.
    delivery = "no webhook configured (E2E_WEBHOOK_PORT unset)"
    if os.environ.get("E2E_WEBHOOK_PORT"):
        def delivered():
            posts = webhook_posts(tid)
            return posts if any(st == 200 for st, _ in posts) else None

        posts = wait_until("the webhook to accept the notification", 40, delivered, interval=0.25)
        if posts[0][0] != 500:
            raise Fail(f"the first delivery should have been the refused one: {posts}")
        body = posts[-1][1]
        if body.get("id") != n["id"] or body.get("title") != f"e2e reminder {RUN}":
            raise Fail(f"webhook body does not carry the notification: {body}")

        def marked():
            lst = expect(http("GET", f"{GW}/api/notifications?limit=200"), 200, "notifications").json()
            m = next((x for x in lst["notifications"] if x["id"] == n["id"]), None)
            return m if m and m.get("delivered_at") else None

        wait_until("delivered_at on the notification", 15, marked, interval=0.25)
        delivery = f"webhook refused the first delivery, accepted attempt {len(posts)}"
    # The reminder fires once: no second notification for the task.
    time.sleep(6)
    body = expect(http("GET", f"{GW}/api/notifications?limit=200"), 200, "notifications").json()
    mine = [x for x in body["notifications"] if x["task_id"] == tid]
    if len(mine) != 1:
        raise Fail(f"{len(mine)} notifications for the reminder, expected 1")
    if os.environ.get("E2E_WEBHOOK_PORT") and sum(1 for st, _ in webhook_posts(tid) if st == 200) != 1:
        raise Fail(f"the webhook accepted the notification more than once: {webhook_posts(tid)}")
    return (f"notification {late:.1f} s after reminder_at (cron every 5 s); {delivery}; "
            "marked read through the gateway")


def test_idempotency_two_replicas():
    """(d) Idempotency-Key holds across two create_task replicas (two processes, one Redis state store)."""
    if not port_open(8111):
        raise Fail("create_task replica 2 (port 8111) is not running: CREATE_TASK_REPLICAS=2 expected")
    title = f"e2e idem {RUN}"
    key = f"e2e-{uuid.uuid4()}"
    a = expect(create(title, base=CREATE_1, headers={"Idempotency-Key": key}), 201, "first request, replica 1")
    b = create(title, base=CREATE_2, headers={"Idempotency-Key": key})
    if b.status == 409:
        hint = ""
        logf = os.path.join(os.environ.get("TODO_LOG_DIR", os.path.join(ROOT, ".cache", "logs")), "create_task.log")
        try:
            with open(logf) as f:
                warn = [line for line in f if "could not store the Idempotency-Key response" in line]
            if warn:
                hint = (f"; replica 1 logged 'could not store the Idempotency-Key response' {len(warn)} time(s), last: "
                        f"{warn[-1].strip()[:300]}")
        except OSError:
            pass
        raise Fail("same key on replica 2 after replica 1 answered 201: got 409 'still being processed' instead of "
                   "the replayed response (the completed response was never stored over the pending record)" + hint)
    expect(b, 201, "same key, replica 2")
    if b.header("idempotent-replayed") != "true":
        raise Fail(f"replica 2 did not replay the first response (headers {b.headers})")
    if a.json()["id"] != b.json()["id"]:
        raise Fail(f"replica 2 answered a different task: {a.json()['id']} vs {b.json()['id']}")
    # The same key with a different body is refused, on either replica.
    c = create(title + " other", base=CREATE_1, headers={"Idempotency-Key": key})
    if c.status != 422:
        raise Fail(f"key reused with another body: expected 422, got {c.status} {c.body[:200]!r}")

    # Concurrent: the same key at the same moment on both replicas; retries until a final answer.
    title2 = f"e2e idem-concurrent {RUN}"
    key2 = f"e2e-{uuid.uuid4()}"
    results = {}
    barrier = threading.Barrier(2)

    def send(base):
        barrier.wait(5)
        deadline = time.monotonic() + 15
        codes = []
        while True:
            r = create(title2, base=base, headers={"Idempotency-Key": key2})
            codes.append(r.status)
            if r.status != 409 or time.monotonic() >= deadline:
                results[base] = (r, codes)
                return
            time.sleep(float(r.header("retry-after") or 1) / 4)

    threads = [threading.Thread(target=send, args=(b,)) for b in (CREATE_1, CREATE_2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if len(results) != 2:
        raise Fail("concurrent requests did not finish")
    ids = set()
    for base, (r, codes) in results.items():
        if r.status != 201:
            raise Fail(f"{base}: final answer {r.status} (codes {codes}) {r.body[:200]!r}")
        ids.add(r.json()["id"])
    replayed = sum(1 for r, _ in results.values() if r.header("idempotent-replayed") == "true")
    if len(ids) != 1 or replayed != 1:
        raise Fail(f"concurrent same-key requests: ids {ids}, replayed {replayed} (expected one id, one replay)")
    for t in (title, title2):
        found = expect(http("GET", f"{GW}/api/tasks?search={urllib.request.quote(t)}&limit=50"), 200, "search").json()
        exact = [x for x in found["tasks"] if x["title"] == t]
        if len(exact) != 1:
            raise Fail(f"{len(exact)} tasks titled {t!r}, expected exactly 1")
    codes = {b: c for b, (_, c) in results.items()}
    return f"sequential: same id, replayed; concurrent: one task (codes {codes[CREATE_1]} / {codes[CREATE_2]})"


def test_kafka_outage():
    """(e) Events published while Kafka is down arrive after it is back; nothing lost."""
    n = 20
    dt_stop, _ = sh(["bash", "dev/kafka.sh", "stop"], 60, "dev/kafka.sh stop")
    log(f"Kafka stopped in {dt_stop:.1f}s")
    ids, lat = [], []
    try:
        for i in range(n):
            t0 = time.monotonic()
            r = create(f"e2e kafka-down {RUN} #{i}")
            lat.append(time.monotonic() - t0)
            expect(r, 201, f"create #{i} while Kafka is down")
            ids.append(r.json()["id"])
        time.sleep(2)
        early = [t for t in ids if any(e["event_type"] == "task.created" for e in history(t))]
        if early:
            raise Fail(f"{len(early)} events reached the audit log while Kafka was down: is Kafka really stopped?")
        pending = int(psql("SELECT count(*) FROM outbox WHERE published_at IS NULL AND task_id IN (%s)"
                           % ",".join(f"'{t}'" for t in ids)))
        if pending != n:
            raise Fail(f"{pending} of {n} outbox rows unpublished while Kafka is down, expected all")
    finally:
        dt_start, _ = sh(["bash", "dev/kafka.sh", "start"], 180, "dev/kafka.sh start")
    log(f"Kafka back in {dt_start:.1f}s; {n} creates answered 201 (max {max(lat) * 1000:.0f} ms)")
    t0 = time.monotonic()
    wait_all_audited(ids, "task.created", 150)
    return (f"{n}/{n} creates 201 while Kafka was down (max {max(lat) * 1000:.0f} ms); all {n} audited "
            f"{time.monotonic() - t0:.1f} s after Kafka was back (restart took {dt_start:.0f} s)")


def daprd_instances():
    """Names of the daprd instances dev/up.sh started (create_task.daprd, create_task.2.daprd, ...)."""
    _, out = sh(["bash", "dev/up.sh", "status"], 30, "dev/up.sh status")
    return [line.split(":")[0] for line in out.splitlines()
            if line.split(":")[0].endswith(".daprd") and ": running" in line]


def kill_daprd(name):
    _, out = sh(["bash", "dev/up.sh", "pid", name], 20, f"dev/up.sh pid {name}")
    pid = int(out.strip())
    os.kill(pid, signal.SIGKILL)
    return pid


def restart_dead(what):
    dt, _ = sh(["bash", "dev/up.sh", "--profile", PROFILE], 150, f"dev/up.sh (restart of {what})")
    return dt


def unpublished(ids):
    return int(psql("SELECT count(*) FROM outbox WHERE published_at IS NULL AND task_id IN (%s)"
                    % ",".join(f"'{t}'" for t in ids)))


def test_daprd_killed():
    """(f) A daprd killed (SIGKILL) and restarted loses nothing: create_task's alone, then every sidecar."""
    # 1. create_task's sidecar alone. Other writers' relays share the outbox, so they may publish
    #    replica 1's events before its sidecar is back: either way nothing may be lost.
    pid = kill_daprd("create_task.daprd")
    wait_until("daprd port 3501 closed", 10, lambda: not port_open(DAPRD_CREATE))
    log(f"killed create_task.daprd (pid {pid})")
    ids = []
    for i in range(10):
        for base, where in ((CREATE_1, "replica 1"), (GW, "gateway")):
            r = expect(create(f"e2e daprd-killed {RUN} {where} #{i}", base=base), 201,
                       f"create via {where} while create_task.daprd is dead")
            ids.append(r.json()["id"])
    time.sleep(1)
    held1 = unpublished(ids[0::2])
    dt = restart_dead("create_task.daprd")
    if not port_open(DAPRD_CREATE):
        raise Fail("dev/up.sh did not bring create_task.daprd back")
    log(f"{held1}/10 of replica 1's events still in the outbox after 1 s; dev/up.sh restarted the daprd in {dt:.1f}s")
    t0 = time.monotonic()
    wait_all_audited(ids, "task.created", 120)
    t_one = time.monotonic() - t0

    # 2. Every sidecar at once (the consumer's too): nothing can publish or deliver; the writes
    #    still succeed, the outbox holds every event, and all arrive after the restart.
    names = daprd_instances()
    for name in names:
        kill_daprd(name)
    wait_until("every daprd port closed", 15,
               lambda: not any(port_open(p) for p in (3501, 3502, 3503, 3504, 3505, 3506)))
    log(f"killed {len(names)} sidecars: {', '.join(names)}")
    ids2 = []
    for i in range(10):
        r = expect(create(f"e2e all-daprd-killed {RUN} #{i}"), 201, "create while every daprd is dead")
        ids2.append(r.json()["id"])
    done = expect(http("POST", f"{GW}/api/tasks/{ids[1]}/complete"), 200, "complete while every daprd is dead").json()
    time.sleep(3)
    held2 = unpublished(ids2)
    if held2 != len(ids2):
        raise Fail(f"only {held2} of {len(ids2)} events held in the outbox with every sidecar dead")
    dt = restart_dead("every daprd")
    log(f"dev/up.sh restarted {len(names)} sidecars in {dt:.1f}s")
    t0 = time.monotonic()
    wait_all_audited(ids2, "task.created", 120)
    wait_audit(done["id"], "task.completed", 60)
    # The restarted sidecars publish again at once.
    r = expect(create(f"e2e daprd-back {RUN}", base=CREATE_1), 201, "create after the restart")
    wait_audit(r.json()["id"], "task.created", 20)
    return (f"create_task.daprd killed: {len(ids)}/{len(ids)} creates 201, all audited {t_one:.1f} s after the "
            f"restart ({held1}/10 still held at restart: the other relays publish too); every sidecar killed: "
            f"{len(ids2)}/{len(ids2)} creates 201, all held in the outbox, all audited {time.monotonic() - t0:.1f} s after the restart")


def test_poison_dead_letter():
    """(g) A poison event goes to task-events-dlq without blocking its partition."""
    task = expect(create(f"e2e poison {RUN}"), 201, "create").json()
    tid = task["id"]
    wait_audit(tid, "task.created", 30)
    now = iso(datetime.now(timezone.utc))
    unknown = {"specversion": "1.0", "id": str(uuid.uuid4()), "type": "task.exploded", "source": "e2e",
               "subject": tid, "time": now, "datacontenttype": "application/json",
               "data": {"event_type": "task.exploded", "task_id": tid, "timestamp": now, "payload": {}}}
    malformed = {"specversion": "1.0", "id": str(uuid.uuid4()), "type": "task.created", "source": "e2e",
                 "subject": tid, "time": now, "datacontenttype": "application/json",
                 "data": "this is not an event"}
    for ce in (unknown, malformed):
        expect(dapr_publish(DAPRD_UPDATE, ce, tid), 204, f"publish poison {ce['id']} through daprd")
    t0 = time.monotonic()
    # A normal event after the poison, same partition key (the task id).
    expect(http("PATCH", f"{GW}/api/tasks/{tid}", {"title": f"e2e poison {RUN} renamed"}), 200, "update")
    wait_audit(tid, "task.updated", 20)
    unblocked = time.monotonic() - t0
    bad = [e for e in history(tid) if e["id"] in (unknown["id"], malformed["id"])]
    if bad:
        raise Fail(f"poison events reached the audit log: {bad}")
    want = {unknown["id"]: "unknown type", malformed["id"]: "malformed data"}
    seen, keys = {}, {}
    deadline = time.monotonic() + 60
    while len(seen) < len(want):
        for key, value in kafka_consume("task-events-dlq"):
            try:
                rec = json.loads(value)
            except ValueError:
                continue
            if rec.get("id") in want:
                seen[rec["id"]] = rec
                keys[rec["id"]] = key
        if len(seen) < len(want) and time.monotonic() >= deadline:
            raise Fail(f"not on task-events-dlq after 60s: {[want[i] for i in want if i not in seen]}")
    wrong = {i: k for i, k in keys.items() if k != tid}
    if wrong:
        raise Fail(f"dead-lettered records not keyed by the task id {tid}: {wrong}")
    return (f"both poison events on task-events-dlq (keyed by the task id); the next event on the "
            f"partition was audited {unblocked * 1000:.0f} ms after the poison was published")


TESTS = [
    ("audit_latency", test_audit_latency, 120),
    ("recurring_once", test_recurring_once, 120),
    ("reminder_notification", test_reminder_notification, 120),
    ("idempotency_two_replicas", test_idempotency_two_replicas, 60),
    ("poison_dead_letter", test_poison_dead_letter, 150),
    ("kafka_outage", test_kafka_outage, 420),
    ("daprd_killed", test_daprd_killed, 330),
]


def main():
    args = sys.argv[1:]
    result_file = None
    if args[:1] == ["--result"]:
        result_file, args = args[1], args[2:]
    names = [t[0] for t in TESTS]
    unknown = [a for a in args if a not in names]
    if unknown:
        print(f"unknown test(s) {unknown}; known: {names}", file=sys.stderr)
        return 2
    chosen = [t for t in TESTS if not args or t[0] in args]
    skip = set(os.environ.get("E2E_SKIP", "").split())

    def on_alarm(signum, frame):
        raise TimeUp()

    signal.signal(signal.SIGALRM, on_alarm)
    start_webhook()
    passed, failed, skipped = 0, [], 0
    for name, fn, limit in chosen:
        if name in skip:
            skipped += 1
            print(f"SKIP {name} (E2E_SKIP)", flush=True)
            continue
        print(f"--- {name}: {fn.__doc__.strip()}", flush=True)
        t0 = time.monotonic()
        signal.alarm(limit)
        try:
            detail = fn()
            signal.alarm(0)
            passed += 1
            print(f"PASS {name} ({time.monotonic() - t0:.1f}s): {detail}", flush=True)
        except TimeUp:
            failed.append(name)
            print(f"FAIL {name}: did not finish within its {limit}s limit", flush=True)
        except Fail as e:
            signal.alarm(0)
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {e}", flush=True)
        except Exception:  # noqa: BLE001 - a crash in a test is a failure of that test
            signal.alarm(0)
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): unexpected error\n{traceback.format_exc()}", flush=True)
    if result_file:
        with open(result_file, "w") as f:
            f.write(f"{passed} {len(failed)} {skipped} {' '.join(failed)}\n")
    print(f"driver finished: {passed} passed, {len(failed)} failed, {skipped} skipped"
          f"{(' (' + ', '.join(failed) + ')') if failed else ''}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
