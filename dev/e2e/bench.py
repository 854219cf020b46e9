#!/usr/bin/env python3
"""Load run through the gateway on the real distributed topology (run by `dev/e2e.sh bench`).

Phase 1: `loadgen run --scenario create` paced at BENCH_RATE (200/s) for BENCH_SECONDS (20 s).
Phase 2: the same, closed loop (no pacing): the ceiling on this machine.
For each phase: sustained creates/s and errors (loadgen), create -> audit latency p50/p99/max from
the audit log (recorded_at - occurred_at of every task.created of the phase: the pipeline outbox ->
daprd -> Kafka -> daprd -> on_task_event -> PostgreSQL), nothing lost (tasks created == audit
entries), CPU per created task of every process (utime+stime from /proc/<pid>/stat, before/after),
RSS of every process. Prints a report and writes it to .cache/e2e/bench.txt.
"""

import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("TODO_CACHE_DIR", os.path.join(ROOT, ".cache"))
GW = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
DATABASE_URL = os.environ["DATABASE_URL"]
KAFKA_PORT = os.environ.get("KAFKA_PORT", "9092")
RATE = int(os.environ.get("BENCH_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
CONC = int(os.environ.get("BENCH_CONCURRENCY", "16"))
CEILING_SECONDS = int(os.environ.get("BENCH_CEILING_SECONDS", "10"))
LOADGEN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "loadgen")
TICK = os.sysconf("SC_CLK_TCK")
REPORT = []


def say(s=""):
    print(s, flush=True)
    REPORT.append(s)


def psql(sql):
    r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", " ", DATABASE_URL, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode:
        raise RuntimeError(r.stderr)
    return r.stdout.strip()


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def children(pid):
    out = []
    for st in glob.glob("/proc/[0-9]*/stat"):
        s = read(st)
        if not s:
            continue
        fields = s[s.rfind(")") + 2:].split()
        if fields[1] == str(pid):
            out.append(int(st.split("/")[2]))
    return out


def processes():
    """name -> [pids] of everything the topology runs."""
    procs = {}
    for f in sorted(glob.glob(os.path.join(CACHE, "run", "up", "*.pid"))):
        name = os.path.basename(f)[:-4]
        pid = int(read(f).split()[0])
        procs[name] = [pid]
    kp = read(os.path.join(CACHE, "run", f"kafka{'' if KAFKA_PORT == '9092' else '-' + KAFKA_PORT}.pid")).strip()
    if kp:
        procs["kafka"] = [int(kp)]
    ng = read(os.path.join(CACHE, "run", "nginx.pid")).strip()
    if ng:
        procs["nginx"] = [int(ng)] + children(int(ng))
    pg = glob.glob(os.path.join(CACHE, "pg", "data", "postmaster.pid"))
    if pg:
        master = int(read(pg[0]).split()[0])
        procs["postgres"] = [master] + children(master)
    for st in glob.glob("/proc/[0-9]*/cmdline"):
        if "redis-server" in read(st).replace("\0", " ") and "56379" in read(st).replace("\0", " "):
            procs["redis"] = [int(st.split("/")[2])]
    return procs


def cpu_ticks(pid, with_children=False):
    s = read(f"/proc/{pid}/stat")
    if not s:
        return 0
    f = s[s.rfind(")") + 2:].split()
    t = int(f[11]) + int(f[12])  # utime, stime
    if with_children:
        t += int(f[13]) + int(f[14])  # cutime, cstime (postgres backends that exited)
    return t


def snapshot(procs):
    return {name: sum(cpu_ticks(p, with_children=(name == "postgres" and i == 0)) for i, p in enumerate(pids))
            for name, pids in procs.items()}


def mem_kb(pid, field):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def pss_kb(pid):
    for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def loadgen(args):
    r = subprocess.run([LOADGEN, "run", "--base", GW, "--scenario", "create"] + args,
                       capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(f"loadgen failed: {r.stderr[-500:]}")
    line = r.stdout.strip().splitlines()[-1]
    kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
    return line, kv


def drain(since, secs=120):
    """Waits until every task created since `since` has its task.created audited."""
    deadline = time.monotonic() + secs
    while True:
        tasks, audited = map(int, psql(
            f"SELECT (SELECT count(*) FROM tasks WHERE created_at >= '{since}'), "
            f"(SELECT count(*) FROM audit_log WHERE event_type = 'task.created' AND occurred_at >= '{since}')").split())
        if audited >= tasks or time.monotonic() >= deadline:
            return tasks, audited
        time.sleep(0.5)


def phase(label, args, procs):
    since = psql("SELECT now()")
    before = snapshot(procs)
    t0 = time.monotonic()
    line, kv = loadgen(args)
    wall = time.monotonic() - t0
    after = snapshot(procs)
    t_drain = time.monotonic()
    tasks, audited = drain(since)
    drain_s = time.monotonic() - t_drain
    p50, p99, mx = psql(
        "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), "
        "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(max(ms)::numeric, 1) FROM "
        "(SELECT extract(epoch FROM recorded_at - occurred_at) * 1000 AS ms FROM audit_log "
        f"WHERE event_type = 'task.created' AND occurred_at >= '{since}') x").split()
    outbox_left = int(psql("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
    say(f"## {label}")
    say(f"loadgen: {line}")
    say(f"tasks created {tasks}, task.created audited {audited} (lost {tasks - audited}), outbox unpublished {outbox_left}, "
        f"audit caught up {drain_s:.1f} s after the load ended")
    say(f"create -> audit (recorded_at - occurred_at): p50 {p50} ms, p99 {p99} ms, max {mx} ms")
    total = sum(after[n] - before[n] for n in after) / TICK
    say(f"CPU during the run: {total:.1f} CPU-s in {wall:.1f} s wall = {total / wall:.2f} cores; "
        f"per created task {total / max(tasks, 1) * 1000:.2f} CPU-ms")
    per = sorted(((after[n] - before[n]) / TICK, n) for n in after)[::-1]
    say("CPU-ms per created task by process: " + ", ".join(
        f"{n} {cs / max(tasks, 1) * 1000:.2f}" for cs, n in per if cs > 0))
    return {"rps": float(kv.get("rps", 0)), "errors": int(kv.get("errors", 0)), "requests": int(kv.get("requests", 0)),
            "tasks": tasks, "audited": audited, "p50": float(p50), "p99": float(p99), "max": float(mx)}


def main():
    result_file = sys.argv[2] if sys.argv[1:2] == ["--result"] else None
    if not os.access(LOADGEN, os.X_OK):
        subprocess.run(["cargo", "build", "--release", "-p", "loadgen"], cwd=ROOT, check=True)
    procs = processes()
    say(f"# distributed load run {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: {os.cpu_count()} cores, "
        f"load average before {os.getloadavg()[0]:.2f}")
    say("processes: " + ", ".join(f"{n}({len(p)})" for n, p in sorted(procs.items())))
    # Warm-up: connection pools, JIT of Kafka, daprd's producers.
    loadgen(["--concurrency", "4", "--seconds", "3", "--rate", "50"])
    drain(psql("SELECT now() - interval '1 minute'"), 30)
    target = phase(f"paced: {RATE}/s, concurrency {CONC}, {SECONDS} s",
                   ["--concurrency", str(CONC), "--seconds", str(SECONDS), "--rate", str(RATE)], procs)
    ceiling = phase(f"closed loop (ceiling): concurrency {CONC}, {CEILING_SECONDS} s",
                    ["--concurrency", str(CONC), "--seconds", str(CEILING_SECONDS)], procs)
    say("## memory after the runs (RSS; PostgreSQL: sum of PSS over its processes)")
    rows = []
    for n, pids in sorted(processes().items()):
        if n == "postgres":
            rows.append(f"postgres {sum(pss_kb(p) for p in pids) / 1024:.0f} MiB PSS ({len(pids)} processes)")
        elif n == "nginx":
            rows.append(f"nginx {sum(mem_kb(p, 'VmRSS') for p in pids) / 1024:.0f} MiB")
        else:
            rows.append(f"{n} {mem_kb(pids[0], 'VmRSS') / 1024:.0f} MiB (peak {mem_kb(pids[0], 'VmHWM') / 1024:.0f})")
    for r in rows:
        say("rss " + r)
    say(f"load average after {os.getloadavg()[0]:.2f}")

    checks = [
        (f"sustained >= {RATE * 0.95:.0f} creates/s", target["rps"] >= RATE * 0.95),
        ("no errors", target["errors"] == 0 and ceiling["errors"] == 0),
        ("nothing lost", target["tasks"] == target["audited"] and ceiling["tasks"] == ceiling["audited"]),
        ("create -> audit p99 <= 250 ms at the target rate", target["p99"] <= 250),
    ]
    say("## verdict")
    for what, ok in checks:
        say(f"{'PASS' if ok else 'FAIL'} {what}")
    with open(os.path.join(CACHE, "e2e", "bench.txt"), "w") as f:
        f.write("\n".join(REPORT) + "\n")
    passed = sum(1 for _, ok in checks if ok)
    if result_file:
        with open(result_file, "w") as f:
            f.write(f"{passed} {len(checks) - passed}\n")
    return 0 if passed == len(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
