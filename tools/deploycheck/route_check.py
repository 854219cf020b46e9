#!/usr/bin/env python3
"""Resolve requests against rendered Gateway API HTTPRoutes, the way a conformant Gateway does, and
compare with the routing table the service needs (the same table as gateway/todo.conf for compose).

Matching (Gateway API v1 HTTPRoute):
  * Exact: the path equals the value; PathPrefix: element-wise prefix ("/api/tasks/" and "/api/tasks"
    both match "/api/tasks" and "/api/tasks/x", never "/api/tasksx"); a match's method must equal;
  * precedence across all rules of all routes: Exact over PathPrefix, then the longest path value,
    then a match with a method over one without; ties go to the route name (alphabetical).
Usage: route_check.py RENDERED.yaml   (without a UI route, requests the UI would take must find no route)
"""
from __future__ import annotations

import sys

import yaml

# (method, path, expected backend Service suffix); "ui" is the UI, None means no route (404).
EXPECTED = [
    ("GET", "/api/tasks", "list-tasks"),
    ("GET", "/api/tasks/", "list-tasks"),
    ("HEAD", "/api/tasks", "list-tasks"),
    ("POST", "/api/tasks", "create-task"),
    ("POST", "/api/tasks/", "create-task"),
    ("GET", "/api/tasks/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f", "list-tasks"),
    ("PATCH", "/api/tasks/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f", "update-task"),
    ("DELETE", "/api/tasks/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f", "delete-task"),
    ("POST", "/api/tasks/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f/complete", "complete-task"),
    ("GET", "/api/tasks/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f/history", "list-tasks"),
    ("GET", "/api/activity", "list-tasks"),
    ("GET", "/api/notifications", "list-tasks"),
    ("GET", "/api/tags", "list-tasks"),
    ("POST", "/api/notifications/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f/read", "list-tasks"),
    ("GET", "/openapi.json", "list-tasks"),
    ("GET", "/docs", "list-tasks"),
    ("GET", "/docs/index.css", "list-tasks"),
    ("GET", "/redoc", "list-tasks"),
    ("GET", "/", "ui"),
    ("GET", "/tasks/view", "ui"),
    ("GET", "/_next/static/chunks/app.js", "ui"),
    # Dapr-only routes of on-task-event are never reachable from outside.
    ("GET", "/dapr/subscribe", "ui"),
    ("POST", "/events/task-events", "ui"),
    ("POST", "/cron/reminders", "ui"),
    # No function takes these: they fall through to the UI (which answers 404/405).
    ("PUT", "/api/tasks/0b6e3c2a-1f00-4f5e-9a55-5b7f0c1d2e3f", "ui"),
    ("POST", "/api/activity", "ui"),
]


def segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def matches(match: dict, method: str, path: str) -> bool:
    p = match.get("path") or {"type": "PathPrefix", "value": "/"}
    value, kind = p.get("value", "/"), p.get("type", "PathPrefix")
    if match.get("method") and match["method"] != method:
        return False
    if kind == "Exact":
        return path == value
    if kind == "PathPrefix":
        want, have = segments(value), segments(path)
        return have[: len(want)] == want
    raise ValueError(f"path type {kind} not modelled")


def resolve(routes: list[dict], method: str, path: str):
    candidates = []
    for route in routes:
        for rule in route["spec"].get("rules", []):
            for match in rule.get("matches") or [{}]:
                if matches(match, method, path):
                    p = match.get("path") or {"type": "PathPrefix", "value": "/"}
                    key = (0 if p.get("type") == "Exact" else 1, -len(p.get("value", "/")),
                           0 if match.get("method") else 1, route["metadata"]["name"])
                    backend = rule["backendRefs"][0]["name"]
                    candidates.append((key, backend))
    return min(candidates)[1] if candidates else None


def main() -> int:
    path = sys.argv[1]
    docs = [d for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
    routes = [d for d in docs if d.get("kind") == "HTTPRoute"]
    with_ui = any((r["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "ui" for r in routes)
    if not routes:
        print(f"{path}: no HTTPRoutes")
        return 1
    failures = 0
    for method, req_path, want in EXPECTED:
        if want == "ui" and not with_ui:
            want = None
        got = resolve(routes, method, req_path)
        ok = (got is None and want is None) or (got is not None and want is not None and got.endswith("-" + want))
        print(f"{'ok  ' if ok else 'FAIL'} {method:6} {req_path:60} -> {got}  (want {want})")
        failures += 0 if ok else 1
    print(f"route check: {len(EXPECTED)} requests, {failures} misrouted", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
