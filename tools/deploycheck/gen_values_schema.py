#!/usr/bin/env python3
"""Write helm/todo-app/values.schema.json (run once by hand when values.yaml changes shape).

The schema is kept in this generator rather than hand-edited JSON so the shared pieces (resources,
autoscaling, a function entry) are defined once. `check-deploy.sh` fails if the committed file differs
from what this prints, so the two cannot drift.
"""
import json
import sys
from pathlib import Path

def obj(props, required=(), additional=False):
    s = {"type": "object", "properties": props, "additionalProperties": additional}
    if required:
        s["required"] = list(required)
    return s

STR = {"type": "string"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
QTY = {"oneOf": [{"type": "string", "pattern": r"^[0-9.]+(m|[KMGTPE]i?)?$"}, {"type": "number", "minimum": 0}]}
DNS1123 = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 40}
STRMAP = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
ANYMAP = {"type": "object"}
ANYLIST = {"type": "array"}
DURATION = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"}

RESOURCES = obj({
    "requests": obj({"cpu": QTY, "memory": QTY}),
    "limits": obj({"cpu": QTY, "memory": QTY}),
})
AUTOSCALING = obj({
    "enabled": BOOL,
    "minReplicas": {"type": "integer", "minimum": 1},
    "maxReplicas": {"type": "integer", "minimum": 1},
    "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
    "targetMemoryUtilizationPercentage": {"type": "integer", "minimum": 0, "maximum": 100},
})
PDB = obj({"enabled": BOOL, "maxUnavailable": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": r"^[0-9]+%$"}]}})
ROUTE = obj({
    "path": {"type": "string", "pattern": r"^/"},
    "pathType": {"enum": ["Exact", "PathPrefix", "RegularExpression"]},
    "methods": {"type": "array", "minItems": 1, "uniqueItems": True,
                "items": {"enum": ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]}},
}, required=("path", "methods"))
IMAGE = obj({"repository": STR, "tag": STR, "digest": {"type": "string", "pattern": r"^(sha256:[a-f0-9]{64})?$"},
             "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}})
ENV = {"type": "object", "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
       "additionalProperties": {"type": ["string", "number", "boolean"]}}

FUNCTION_COMMON = {
    "port": PORT,
    "replicas": {"type": "integer", "minimum": 0},
    "resources": RESOURCES,
    "autoscaling": AUTOSCALING,
    "pdb": PDB,
    "env": ENV,
    "nodeSelector": STRMAP,
    "tolerations": ANYLIST,
    "affinity": ANYMAP,
    "podAnnotations": STRMAP,
    "topologySpread": BOOL,
}
FUNCTION = obj({
    "enabled": BOOL,
    "image": IMAGE,
    "dapr": obj({"appId": DNS1123, "appPort": PORT}),
    "routes": {"type": "array", "items": ROUTE},
    **FUNCTION_COMMON,
})
SEC_CTX = ANYMAP
PEERS = {"type": "array", "items": ANYMAP}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "todo-app values",
    **obj({
        "global": ANYMAP,
        "nameOverride": STR,
        "fullnameOverride": STR,
        "commonLabels": STRMAP,
        "commonAnnotations": STRMAP,
        "image": obj({"registry": STR, "tag": STR, "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}}),
        "imagePullSecrets": {"type": "array", "items": obj({"name": STR}, required=("name",))},
        "serviceAccount": obj({"create": BOOL, "name": STR, "annotations": STRMAP, "automountToken": BOOL}),
        "config": obj({"logFormat": {"enum": ["json", "text"]}, "rustLog": STR, "corsOrigins": STR,
                        "dbMaxConnections": {"type": "integer", "minimum": 1, "maximum": 100},
                        "maxBodyBytes": {"type": "integer", "minimum": 1024},
                        "notifyBinding": STR, "extraEnv": ENV}),
        "secrets": obj({"create": BOOL, "existingSecret": STR, "databaseUrl": STR, "redisPassword": STR,
                        "kafkaPassword": STR}),
        "kafka": obj({
            "bootstrapServers": {"type": "string", "minLength": 1},
            "version": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+$"},
            "authType": {"enum": ["none", "password", "mtls"]},
            "saslUsername": STR,
            "saslMechanism": {"enum": ["SHA-512", "SHA-256", "PLAINTEXT"]},
            "tls": BOOL,
            "topics": {"type": "array", "items": obj({"name": STR, "partitions": {"type": "integer", "minimum": 1}},
                                                     required=("name",))},
        }),
        "redis": obj({"host": {"type": "string", "minLength": 1}, "tls": BOOL}),
        "dapr": obj({
            "enabled": BOOL,
            "pubsubName": DNS1123,
            "stateStoreName": DNS1123,
            "topic": {"type": "string", "minLength": 1},
            "deadLetterTopic": {"type": "string", "minLength": 1},
            "httpPort": PORT,
            "logLevel": {"enum": ["debug", "info", "warn", "error"]},
            "apiToken": obj({"enabled": BOOL, "existingSecret": STR, "existingAppSecret": STR}),
            "sidecar": obj({"resources": RESOURCES}),
            "subscription": obj({"enabled": BOOL, "route": {"type": "string", "pattern": "^/"}, "subscriber": STR}),
            "stateTtlSeconds": {"type": "integer", "minimum": 0},
            "cronBindings": {"type": "array", "items": obj({
                "name": DNS1123, "schedule": {"type": "string", "minLength": 1},
                "route": {"type": "string", "pattern": "^/"}}, required=("name", "schedule", "route"))},
            "outputBindings": {"type": "array", "items": obj({
                "name": DNS1123, "type": {"type": "string", "pattern": r"^bindings\."}, "version": STR,
                "metadata": {"type": "array", "items": ANYMAP}}, required=("name", "type"))},
            "resiliency": obj({"enabled": BOOL, "pubsubInboundMaxRetries": {"type": "integer", "minimum": 0},
                               "pubsubInboundMaxInterval": DURATION, "appTimeout": DURATION}),
            "configuration": obj({"tracingSamplingRate": {"type": "string", "pattern": r"^(0|1|0?\.[0-9]+|1\.0)$"},
                                  "otelEndpoint": STR,
                                  "apiAllowlist": {"type": "array", "uniqueItems": True, "items": {"enum": [
                                      "invoke", "state", "publish", "bindings", "secrets", "actors", "metadata",
                                      "configuration", "lock", "unlock", "crypto", "workflows", "jobs",
                                      "shutdown", "conversation"]}}}),
        }),
        "functionDefaults": obj(FUNCTION_COMMON),
        "functions": {"type": "object", "minProperties": 1, "propertyNames": DNS1123,
                      "additionalProperties": FUNCTION},
        "service": obj({"type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]}, "port": PORT}),
        "ui": obj({"enabled": BOOL, "image": IMAGE, "replicas": {"type": "integer", "minimum": 0}, "port": PORT,
                   "resources": RESOURCES, "pdb": PDB, "nodeSelector": STRMAP, "tolerations": ANYLIST,
                   "affinity": ANYMAP}),
        "gateway": obj({"create": BOOL, "name": STR, "namespace": STR, "className": STR, "sectionName": STR,
                        "port": PORT, "tls": obj({"enabled": BOOL, "secretName": STR}), "annotations": STRMAP}),
        "hostnames": {"type": "array", "items": {"type": "string", "pattern": r"^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}},
        "networkPolicy": obj({"enabled": BOOL, "ingressFrom": PEERS, "daprNamespace": STR, "dnsNamespace": STR,
                              "backendEgress": PEERS, "metricsFrom": PEERS}),
        "podSecurityContext": SEC_CTX,
        "uiPodSecurityContext": SEC_CTX,
        "containerSecurityContext": SEC_CTX,
        "probes": obj({
            "startup": obj({"failureThreshold": {"type": "integer", "minimum": 1}}),
            "liveness": obj({"periodSeconds": {"type": "integer", "minimum": 1},
                             "failureThreshold": {"type": "integer", "minimum": 1}}),
            "readiness": obj({"periodSeconds": {"type": "integer", "minimum": 1},
                              "failureThreshold": {"type": "integer", "minimum": 1}}),
        }),
        "tests": obj({"enabled": BOOL, "image": {"type": "string", "minLength": 1}, "baseUrl": STR}),
    }),
}
# The subscriber must never be scaled to zero: a pod without a sidecar has no subscription.
SCHEMA["properties"]["functions"]["properties"] = {
    "on-task-event": {"allOf": [FUNCTION, {"properties": {"replicas": {"minimum": 1}}}]}
}

def main() -> int:
    text = json.dumps(SCHEMA, indent=2, sort_keys=False) + "\n"
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        path = Path(sys.argv[2])
        if path.read_text() != text:
            print(f"{path} is stale: run tools/deploycheck/gen_values_schema.py > {path}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0

if __name__ == "__main__":
    sys.exit(main())
