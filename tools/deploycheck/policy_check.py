#!/usr/bin/env python3
"""Policy check for rendered Kubernetes manifests (offline).

Every pod template must meet the Pod Security Standard "restricted" profile
(https://kubernetes.io/docs/concepts/security/pod-security-standards/) plus this project's rules:

  restricted (PSS)                          ours
  ----------------                          ----
  no hostNetwork / hostPID / hostIPC        readOnlyRootFilesystem: true on every container
  no hostPath, only allowed volume types    resource requests and limits on every container
  no privileged, no hostPort                automountServiceAccountToken: false
  allowPrivilegeEscalation: false           long-running pods probe GET /health (liveness+readiness)
  capabilities drop ALL (add only           Dapr-enabled pods check app health on /health
    NET_BIND_SERVICE)                       the event subscriber keeps >= 1 replica (HPA and Deployment)
  runAsNonRoot: true, runAsUser != 0        HTTPRoute rules for the API match a method
  seccompProfile RuntimeDefault/Localhost
  no unsafe sysctls, procMount Default
  seLinux type limited, no custom user/role

Usage: policy_check.py [--subscriber NAME] FILE...   (files hold multi-document YAML)
Exit status 1 and one line per violation when anything fails.
"""
from __future__ import annotations

import argparse
import re
import sys

import yaml

ALLOWED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                        "persistentVolumeClaim", "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
ALLOWED_SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
# The Gateway API CRD's CEL rules for Exact/PathPrefix path values (CEL is not part of the JSON
# schema kubeconform checks, so the ones that matter for our routes are repeated here).
PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$")


def gateway_path_errors(value: str) -> list[str]:
    errs = []
    if not value.startswith("/"):
        errs.append("must start with '/'")
    for bad in ("//", "/./", "/../", "%2f", "%2F", "#"):
        if bad in value:
            errs.append(f"must not contain {bad!r}")
    if value.endswith(("/..", "/.")):
        errs.append("must not end with '/.' or '/..'")
    if not PATH_CHARS.match(value):
        errs.append("contains characters the Gateway API rejects")
    return errs


WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}


def pod_spec_of(doc: dict):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return doc.get("metadata") or {}, spec
    if kind == "CronJob":
        tpl = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    else:
        tpl = spec.get("template") or {}
    return tpl.get("metadata") or {}, tpl.get("spec") or {}


def check_pod(where: str, meta: dict, pod: dict, long_running: bool) -> list[str]:
    errs: list[str] = []
    psc = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            errs.append(f"{where}: {key} must not be true")
    for vol in pod.get("volumes") or []:
        types = set(vol) - {"name"}
        bad = types - ALLOWED_VOLUME_TYPES
        if bad:
            errs.append(f"{where}: volume {vol.get('name')!r} uses disallowed type(s) {sorted(bad)}")
    for sysctl in psc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            errs.append(f"{where}: unsafe sysctl {sysctl.get('name')!r}")
    if pod.get("automountServiceAccountToken") is not False:
        errs.append(f"{where}: automountServiceAccountToken must be false")
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    pod_nonroot = psc.get("runAsNonRoot")
    if psc.get("runAsUser") == 0:
        errs.append(f"{where}: pod runAsUser must not be 0")
    if (psc.get("seLinuxOptions") or {}).get("type") not in ALLOWED_SELINUX_TYPES:
        errs.append(f"{where}: pod seLinuxOptions.type not allowed")

    containers = []
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for c in pod.get(field) or []:
            containers.append((field, c))
    if not containers:
        errs.append(f"{where}: no containers")
    for field, c in containers:
        cw = f"{where} {field[:-1]} {c.get('name')!r}"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            errs.append(f"{cw}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            errs.append(f"{cw}: allowPrivilegeEscalation must be false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            errs.append(f"{cw}: capabilities.drop must contain ALL")
        extra = set(caps.get("add") or []) - {"NET_BIND_SERVICE"}
        if extra:
            errs.append(f"{cw}: capabilities.add not allowed: {sorted(extra)}")
        nonroot = sc.get("runAsNonRoot", pod_nonroot)
        if nonroot is not True:
            errs.append(f"{cw}: runAsNonRoot must be true (container or pod)")
        if sc.get("runAsUser") == 0:
            errs.append(f"{cw}: runAsUser must not be 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type", pod_seccomp)
        if seccomp not in ("RuntimeDefault", "Localhost"):
            errs.append(f"{cw}: seccompProfile must be RuntimeDefault or Localhost")
        if sc.get("procMount") not in (None, "Default"):
            errs.append(f"{cw}: procMount must be Default")
        if (sc.get("seLinuxOptions") or {}).get("type") not in ALLOWED_SELINUX_TYPES:
            errs.append(f"{cw}: seLinuxOptions.type not allowed")
        if sc.get("readOnlyRootFilesystem") is not True:
            errs.append(f"{cw}: readOnlyRootFilesystem must be true")
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                errs.append(f"{cw}: hostPort not allowed")
        res = c.get("resources") or {}
        if not (res.get("requests") and res.get("limits")):
            errs.append(f"{cw}: resources.requests and resources.limits are required")
        if long_running and field == "containers":
            for probe in ("livenessProbe", "readinessProbe"):
                path = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
                if path != "/health":
                    errs.append(f"{cw}: {probe} must be httpGet /health")
    ann = meta.get("annotations") or {}
    if ann.get("dapr.io/enabled") == "true":
        if ann.get("dapr.io/app-health-check-path") != "/health":
            errs.append(f"{where}: Dapr app health check path must be /health")
        if ann.get("dapr.io/sidecar-seccomp-profile-type") != "RuntimeDefault":
            errs.append(f"{where}: dapr.io/sidecar-seccomp-profile-type must be RuntimeDefault")
    return errs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriber", default="on-task-event",
                        help="component name of the event subscriber (kept at >= 1 replica)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    errs: list[str] = []
    pods = 0
    for path in args.files:
        with open(path, encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]
        for doc in docs:
            kind = doc.get("kind")
            meta = doc.get("metadata") or {}
            labels = meta.get("labels") or {}
            where = f"{path}: {kind}/{meta.get('name')}"
            component = labels.get("app.kubernetes.io/component")
            if kind in WORKLOAD_KINDS:
                pod_meta, pod = pod_spec_of(doc)
                is_hook = "helm.sh/hook" in (meta.get("annotations") or {})
                long_running = kind in {"Deployment", "StatefulSet", "DaemonSet"} and not is_hook
                errs.extend(check_pod(where, pod_meta, pod, long_running))
                pods += 1
                if kind == "Deployment" and component == args.subscriber:
                    if "replicas" in (doc.get("spec") or {}) and int(doc["spec"]["replicas"]) < 1:
                        errs.append(f"{where}: the subscriber must keep at least one replica")
            if kind == "HorizontalPodAutoscaler" and component == args.subscriber:
                if int((doc.get("spec") or {}).get("minReplicas", 1)) < 1:
                    errs.append(f"{where}: the subscriber's minReplicas must be >= 1")
            if kind == "HTTPRoute":
                for rule in (doc.get("spec") or {}).get("rules") or []:
                    for match in rule.get("matches") or []:
                        if component not in (None, "ui") and not match.get("method"):
                            errs.append(f"{where}: API route match without a method: {match}")
                        path = match.get("path") or {}
                        if path.get("type", "PathPrefix") in ("Exact", "PathPrefix"):
                            for problem in gateway_path_errors(str(path.get("value", "/"))):
                                errs.append(f"{where}: path {path.get('value')!r} {problem}")
    for e in errs:
        print(f"POLICY: {e}")
    print(f"policy check: {pods} pod templates, {len(errs)} violations", file=sys.stderr)
    return 1 if errs or pods == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
