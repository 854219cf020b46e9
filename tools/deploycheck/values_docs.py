#!/usr/bin/env python3
"""The chart's parameter table, from the `## @param key description` comments of values.yaml.

  values_docs.py VALUES README --write   rewrite the table between the PARAMETERS markers in README
  values_docs.py VALUES README --check   fail if the table is stale, or if a value is undocumented

A value counts as documented when an @param names it or one of its parents (e.g. `functions`
documents the whole map); list items are written with [0] (kafka.topics[0].name).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

BEGIN, END = "<!-- PARAMETERS:BEGIN -->", "<!-- PARAMETERS:END -->"
PARAM = re.compile(r"^\s*## @param (\S+) (.+)$")
SECTION = re.compile(r"^\s*## @section (.+)$")


def leaves(node, prefix=""):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, list) and node and all(isinstance(i, dict) for i in node):
        yield from leaves(node[0], f"{prefix}[0]")
    else:
        yield prefix


def lookup(values, key):
    node = values
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        if part.startswith("["):
            idx = int(part[1:-1])
            node = node[idx] if isinstance(node, list) and len(node) > idx else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def render(values_path: Path) -> tuple[str, list[str]]:
    values = yaml.safe_load(values_path.read_text())
    rows, documented = [], []
    for line in values_path.read_text().splitlines():
        if m := SECTION.match(line):
            rows.append(f"\n### {m.group(1)}\n\n| Key | Description | Default |\n|---|---|---|")
        elif m := PARAM.match(line):
            key, desc = m.group(1), m.group(2).replace("|", "\\|")
            documented.append(key)
            default = json.dumps(lookup(values, key), separators=(",", ":"))
            if len(default) > 80:
                default = "see values.yaml"
            rows.append(f"| `{key}` | {desc} | `{default}` |")
    missing = []
    for leaf in leaves(values):
        if not any(leaf == d or leaf.startswith(d + ".") or leaf.startswith(d + "[") for d in documented):
            missing.append(leaf)
    return "\n".join(rows).strip() + "\n", missing


def main() -> int:
    values_path, readme_path, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    table, missing = render(values_path)
    readme = readme_path.read_text()
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    updated = readme[:start] + "\n" + table + readme[end:]
    if mode == "--write":
        readme_path.write_text(updated)
    ok = True
    if missing:
        ok = False
        print("undocumented values (add a `## @param` line):", *missing, sep="\n  ")
    if mode == "--check" and updated != readme:
        ok = False
        print(f"{readme_path} parameter table is stale: run tools/deploycheck/values_docs.py {values_path} {readme_path} --write")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
