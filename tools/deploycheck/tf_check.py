#!/usr/bin/env python3
"""Offline structural check of a Terraform folder (used when `terraform validate` cannot run
because the provider cannot be downloaded here).

Parses every *.tf file with python-hcl2 (a syntax error fails) and checks that
  * every `var.X`, `local.X`, `data.T.N` and `<resource type>.N` reference points at a declaration;
  * every variable has a description and a type, every output a description;
  * every resource and data source belongs to an allowed provider prefix (default: digitalocean_);
  * `count`-ed resources are referenced with an index ([0]) and others are not.
Usage: tf_check.py DIR [--provider-prefix digitalocean_]
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import hcl2

REF = re.compile(r"(?<![\w.])(var|local|data)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_][\w-]*))?")
RES_REF = re.compile(r"(?<![\w.\"])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)(\[[^\]]*\])?")


def walk_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from walk_strings(k)
            yield from walk_strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk_strings(v)


def unq(name: str) -> str:
    """python-hcl2 8 keeps the quotes of block labels ('"name"')."""
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def labelled(block: dict):
    """(label, body) pairs of a block mapping, skipping python-hcl2's bookkeeping keys."""
    for key, value in block.items():
        if not key.startswith("__"):
            yield unq(key), value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--provider-prefix", default="digitalocean_")
    args = ap.parse_args()

    errors: list[str] = []
    variables, locals_, outputs = {}, set(), {}
    resources: dict[tuple[str, str], dict] = {}
    datas: dict[tuple[str, str], dict] = {}
    bodies = []
    files = sorted(args.dir.glob("*.tf"))
    if not files:
        print(f"no .tf files in {args.dir}", file=sys.stderr)
        return 1
    for path in files:
        try:
            with path.open(encoding="utf-8") as fh:
                doc = hcl2.load(fh)
        except Exception as exc:  # noqa: BLE001 - any parse error is a failure
            errors.append(f"{path}: HCL parse error: {exc}")
            continue
        bodies.append((path, doc))
        for block in doc.get("variable", []):
            for name, body in labelled(block):
                variables[name] = body
        for block in doc.get("locals", []):
            locals_.update(name for name, _ in labelled(block))
        for block in doc.get("output", []):
            for name, body in labelled(block):
                outputs[name] = body
        for block in doc.get("resource", []):
            for rtype, named in labelled(block):
                for name, body in labelled(named):
                    resources[(rtype, name)] = body
        for block in doc.get("data", []):
            for dtype, named in labelled(block):
                for name, body in labelled(named):
                    datas[(dtype, name)] = body

    for name, body in variables.items():
        if not unq(str(body.get("description", ""))).strip():
            errors.append(f"variable {name}: no description")
        if "type" not in body:
            errors.append(f"variable {name}: no type")
    for name, body in outputs.items():
        if not unq(str(body.get("description", ""))).strip():
            errors.append(f"output {name}: no description")
    for (rtype, name) in list(resources) + list(datas):
        if not rtype.startswith(args.provider_prefix):
            errors.append(f"{rtype}.{name}: not a {args.provider_prefix}* type")

    counted = {k for k, v in resources.items() if "count" in v}
    for path, doc in bodies:
        for text in walk_strings({k: v for k, v in doc.items() if k != "terraform"}):
            for kind, first, second in REF.findall(text):
                if kind == "var" and first not in variables:
                    errors.append(f"{path.name}: undefined variable var.{first}")
                elif kind == "local" and first not in locals_:
                    errors.append(f"{path.name}: undefined local.{first}")
                elif kind == "data" and (first, second) not in datas:
                    errors.append(f"{path.name}: undefined data.{first}.{second}")
            for rtype, name, index in RES_REF.findall(text):
                if not rtype.startswith(args.provider_prefix):
                    continue
                if (rtype, name) in datas and text.find(f"data.{rtype}.{name}") >= 0:
                    continue
                if (rtype, name) not in resources:
                    errors.append(f"{path.name}: undefined resource {rtype}.{name}")
                elif (rtype, name) in counted and not index:
                    errors.append(f"{path.name}: {rtype}.{name} has count: reference it with an index")
                elif (rtype, name) not in counted and index:
                    errors.append(f"{path.name}: {rtype}.{name} has no count but is indexed")

    for e in sorted(set(errors)):
        print(f"TERRAFORM: {e}")
    print(f"terraform structure: {len(files)} files, {len(variables)} variables, {len(resources)} resources, "
          f"{len(datas)} data sources, {len(outputs)} outputs, {len(set(errors))} problems", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
