#!/usr/bin/env python3
"""Validate a compose file offline: the Compose Specification JSON schema, then this project's rules.

Schema: compose-spec.json from the github.com/compose-spec/compose-go/v2 module (the schema docker
compose itself validates with). Project rules:
  * every depends_on target exists and uses a valid condition;
  * every function service has a `<name>-dapr` sidecar sharing its network namespace
    (network_mode: "service:<name>") with --app-id <name>, --app-port = the function's PORT,
    --resources-path pointing at the mounted repository dapr/ folder and /health app health checks;
  * the gateway starts after every routed function is healthy and mounts the repository's gateway config;
  * bind-mounted repository paths exist; every long-running service has a healthcheck or is a sidecar;
  * Kafka runs in KRaft mode (process.roles, no ZooKeeper anywhere).
Usage: compose_check.py --schema compose-spec.json docker/compose.yaml
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jsonschema
import yaml

ROUTED = ["create-task", "update-task", "complete-task", "delete-task", "list-tasks"]
FUNCTIONS = ROUTED + ["on-task-event"]


def flag(command: list, name: str):
    """Value of `--name value` in a daprd command list (None when absent)."""
    for i, item in enumerate(command):
        if item == name and i + 1 < len(command):
            return command[i + 1]
        if isinstance(item, str) and item.startswith(name + "="):
            return item.split("=", 1)[1]
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schema", required=True, type=Path)
    ap.add_argument("compose", type=Path)
    args = ap.parse_args()

    schema = json.loads(args.schema.read_text())
    doc = yaml.safe_load(args.compose.read_text())
    errors: list[str] = []

    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    for err in sorted(validator_cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        errors.append(f"schema: {where}: {err.message}")

    services = doc.get("services") or {}
    base = args.compose.parent
    text = json.dumps(doc).lower()  # parsed content only: comments may mention it
    if "zookeeper" in text:
        errors.append("ZooKeeper must not appear: Kafka runs in KRaft mode")

    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for dep, spec in deps.items():
            if dep not in services:
                errors.append(f"{name}: depends_on unknown service {dep!r}")
            cond = (spec or {}).get("condition", "service_started")
            if cond not in ("service_started", "service_healthy", "service_completed_successfully"):
                errors.append(f"{name}: depends_on {dep}: bad condition {cond!r}")
            if cond == "service_healthy" and dep in services and "healthcheck" not in services[dep]:
                errors.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else (vol or {}).get("source", "")
            if source.startswith((".", "/")) and not (base / source).exists():
                errors.append(f"{name}: bind mount source {source} does not exist (relative to {base})")
        nm = svc.get("network_mode", "")
        if nm.startswith("service:") and nm.split(":", 1)[1] not in services:
            errors.append(f"{name}: network_mode points at unknown service {nm}")
        is_sidecar = nm.startswith("service:")
        one_shot = svc.get("restart") == "no"
        if not is_sidecar and not one_shot and "healthcheck" not in svc:
            errors.append(f"{name}: long-running service without a healthcheck")

    for fn in FUNCTIONS:
        svc = services.get(fn)
        if svc is None:
            errors.append(f"function service {fn} missing")
            continue
        env = svc.get("environment") or {}
        for key in ("PORT", "DATABASE_URL", "DAPR_HTTP_PORT", "APP_API_TOKEN", "DAPR_API_TOKEN", "LOG_FORMAT"):
            if key not in env:
                errors.append(f"{fn}: environment lacks {key}")
        if not svc.get("read_only"):
            errors.append(f"{fn}: root file system should be read-only")
        sidecar = services.get(f"{fn}-dapr")
        if sidecar is None:
            errors.append(f"{fn}: no daprd sidecar service {fn}-dapr")
            continue
        if sidecar.get("network_mode") != f"service:{fn}":
            errors.append(f"{fn}-dapr: network_mode must be service:{fn}")
        cmd = sidecar.get("command") or []
        if flag(cmd, "--app-id") != fn:
            errors.append(f"{fn}-dapr: --app-id must be {fn}")
        if str(flag(cmd, "--app-port")) != str(env.get("PORT")):
            errors.append(f"{fn}-dapr: --app-port {flag(cmd, '--app-port')} != {fn} PORT {env.get('PORT')}")
        if str(flag(cmd, "--dapr-http-port")) != str(env.get("DAPR_HTTP_PORT")):
            errors.append(f"{fn}-dapr: --dapr-http-port != {fn} DAPR_HTTP_PORT")
        if flag(cmd, "--app-health-check-path") != "/health" or "--enable-app-health-check" not in cmd:
            errors.append(f"{fn}-dapr: app health checks on /health must be enabled")
        resources = flag(cmd, "--resources-path")
        mounts = [v for v in sidecar.get("volumes") or [] if isinstance(v, str)]
        if not any(m.split(":")[1] == resources and m.split(":")[0].rstrip("/").endswith("dapr") for m in mounts):
            errors.append(f"{fn}-dapr: --resources-path {resources} is not the mounted repository dapr/ folder")
        denv = sidecar.get("environment") or {}
        for key in ("KAFKA_BROKERS", "REDIS_HOST"):
            if key not in denv:
                errors.append(f"{fn}-dapr: environment lacks {key} (the dapr/ components read it)")

    gw = services.get("gateway")
    if gw is None:
        errors.append("gateway service missing")
    else:
        deps = gw.get("depends_on") or {}
        for fn in ROUTED:
            if (deps.get(fn) or {}).get("condition") != "service_healthy":
                errors.append(f"gateway: must wait for {fn} to be healthy")
        mounted = " ".join(v for v in gw.get("volumes") or [] if isinstance(v, str))
        for required in ("gateway/todo.conf", "gateway/upstreams.compose.conf"):
            if required not in mounted:
                errors.append(f"gateway: does not mount the repository's {required}")

    kafka = services.get("kafka") or {}
    kenv = kafka.get("environment") or {}
    if "broker,controller" not in str(kenv.get("KAFKA_PROCESS_ROLES", "")):
        errors.append("kafka: KAFKA_PROCESS_ROLES must be broker,controller (KRaft)")

    for e in errors:
        print(f"COMPOSE: {e}")
    print(f"compose check: {len(services)} services, {len(errors)} problems", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
