#!/usr/bin/env python3
"""Generate kubeconform-compatible, standalone, strict JSON schemas offline.

Sources (all fetched as Go module zips, so no network beyond the Go module proxy):
  * Kubernetes' OpenAPI v2 document (k8s.io/kubernetes api/openapi-spec/swagger.json);
  * CustomResourceDefinition YAML files (Dapr's charts/dapr/crds, Gateway API's config/crd/...).

Layout written (matches kubeconform's template
``OUT/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json``):
  * core kinds:   OUT/v1/<kind>_v1.json
  * group kinds:  OUT/<group>/<kind>_<version>.json

"Strict" means: objects that declare properties reject unknown ones (additionalProperties: false),
unless the source explicitly preserves unknown fields. apiVersion and kind are pinned with enums.
Values that Kubernetes accepts as "int or string" or quantities accept both forms; optional fields
accept null (the API server treats null as absent).
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import yaml

DROP_KEYS = {"description", "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy",
             "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
             "x-kubernetes-group-version-kind", "x-kubernetes-unions", "x-kubernetes-validations",
             "x-kubernetes-embedded-resource", "example", "externalDocs", "x-kubernetes-selectable-fields"}

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}


def allow_null(schema: dict) -> dict:
    """Let an optional field be null, as the API server does."""
    t = schema.get("type")
    if isinstance(t, str):
        schema = dict(schema)
        schema["type"] = [t, "null"]
    elif "oneOf" in schema and not any(s.get("type") == "null" for s in schema["oneOf"]):
        schema = dict(schema)
        schema["oneOf"] = schema["oneOf"] + [{"type": "null"}]
    return schema


def normalise(schema, strict: bool):
    """Recursively clean one OpenAPI (v2 or v3 structural) schema node into JSON schema."""
    if isinstance(schema, list):
        return [normalise(s, strict) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("format") == "int-or-string" or schema.get("x-kubernetes-int-or-string"):
        return dict(INT_OR_STRING)
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    nullable = bool(schema.get("nullable"))
    out = {}
    for key, value in schema.items():
        if key in DROP_KEYS or key in ("nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string"):
            continue
        if key == "properties":
            required = set(schema.get("required", []))
            props = {}
            for name, sub in value.items():
                sub_n = normalise(sub, strict)
                if name not in required:
                    sub_n = allow_null(sub_n)
                props[name] = sub_n
            out[key] = props
        elif key in ("items", "additionalProperties", "not"):
            out[key] = normalise(value, strict) if isinstance(value, (dict, list)) else value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [normalise(v, strict) for v in value]
        else:
            out[key] = value
    if strict and "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if nullable:
        out = allow_null(out)
    return out


class Inliner:
    """Inline ``#/definitions/...`` references of the Kubernetes swagger document."""

    def __init__(self, definitions: dict):
        self.definitions = definitions

    def inline(self, node, stack: tuple):
        if isinstance(node, list):
            return [self.inline(n, stack) for n in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            name = node["$ref"].split("/")[-1]
            if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
                return dict(INT_OR_STRING)
            if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
                return dict(QUANTITY)
            if name in stack:  # recursive types (e.g. JSONSchemaProps): stop, accept anything
                return {}
            return self.inline(self.definitions[name], stack + (name,))
        return {k: self.inline(v, stack) for k, v in node.items()}


def write(out_dir: Path, group: str, version: str, kind: str, schema: dict) -> Path:
    directory = out_dir / (group if group else version)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind.lower()}_{version}.json"
    path.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True))
    return path


def pin(schema: dict, group: str, version: str, kind: str) -> dict:
    api_version = f"{group}/{version}" if group else version
    schema = copy.deepcopy(schema)
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}
    req = set(schema.get("required", [])) | {"apiVersion", "kind"}
    schema["required"] = sorted(req)
    schema["type"] = "object"
    return schema


def from_swagger(swagger_path: Path, out_dir: Path) -> int:
    doc = json.loads(swagger_path.read_text())
    defs = doc["definitions"]
    inliner = Inliner(defs)
    count = 0
    for name, definition in defs.items():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            group, version, kind = gvk.get("group", ""), gvk["version"], gvk["kind"]
            if kind.endswith("List") or "properties" not in definition:
                continue
            if not ({"apiVersion", "kind", "metadata"} <= set(definition["properties"])):
                continue  # option/event types that are not stored objects
            resolved = inliner.inline(definition, (name,))
            schema = pin(normalise(resolved, strict=True), group, version, kind)
            write(out_dir, group, version, kind, schema)
            count += 1
    return count


def from_crds(paths: list[Path], out_dir: Path) -> int:
    count = 0
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            group, kind = spec["group"], spec["names"]["kind"]
            for version in spec["versions"]:
                if not version.get("served", True):
                    continue
                raw = (version.get("schema") or {}).get("openAPIV3Schema")
                if raw is None:
                    continue
                schema = normalise(raw, strict=True)
                props = schema.setdefault("properties", {})
                props["metadata"] = {"type": "object"}
                schema = pin(schema, group, version["name"], kind)
                write(out_dir, group, version["name"], kind, schema)
                count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swagger", type=Path, help="Kubernetes OpenAPI v2 swagger.json")
    parser.add_argument("--crd", type=Path, action="append", default=[],
                        help="a CRD YAML file or a folder of them (repeatable)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    total = 0
    if args.swagger:
        total += from_swagger(args.swagger, args.out)
    crd_files: list[Path] = []
    for p in args.crd:
        crd_files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    total += from_crds(crd_files, args.out)
    print(f"wrote {total} schemas to {args.out}", file=sys.stderr)
    return 0 if total else 1


if __name__ == "__main__":
    sys.exit(main())
