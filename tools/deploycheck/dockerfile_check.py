#!/usr/bin/env python3
"""Static checks of the Dockerfiles (no Docker engine here, so nothing is built).

For every docker/Dockerfile.*:
  * every FROM names a pinned tag or digest (no implicit or explicit :latest);
  * the final stage runs as a non-root USER given numerically (so runAsNonRoot can verify it);
  * the final stage has a HEALTHCHECK and an ENTRYPOINT or CMD;
  * COPY --from=<stage> names an earlier stage; COPY sources from the build context exist in the
    repository and are not excluded by the Dockerfile's own .dockerignore;
  * no ADD of remote URLs, no `curl | sh`.
Usage: dockerfile_check.py REPO_ROOT
"""
from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path


def logical_lines(text: str):
    """Dockerfile instructions with line continuations joined and comments dropped."""
    buf = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        # Docker drops comment lines and empty lines, also inside a continued instruction.
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        yield buf.strip()
        buf = ""
    if buf.strip():
        yield buf.strip()


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore semantics, simplified: last matching pattern wins, ! re-includes."""
    result = False
    for pat in patterns:
        neg = pat.startswith("!")
        p = pat[1:] if neg else pat
        p = p.rstrip("/")
        if p.startswith("**/"):
            hit = fnmatch.fnmatch(path, p[3:]) or fnmatch.fnmatch(path, p) or ("/" + p[3:] + "/") in ("/" + path + "/")
        else:
            hit = fnmatch.fnmatch(path, p) or path.startswith(p + "/")
        if hit:
            result = not neg
    return result


KNOWN = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
         "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"}


def check(dockerfile: Path, repo: Path) -> list[str]:
    errs: list[str] = []
    text = dockerfile.read_text()
    lines = list(logical_lines(text))
    args = {}
    stages: list[str] = []
    final_user = final_health = final_cmd = None
    ignore_file = dockerfile.with_name(dockerfile.name + ".dockerignore")
    patterns = []
    if ignore_file.exists():
        patterns = [l.strip() for l in ignore_file.read_text().splitlines() if l.strip() and not l.startswith("#")]
    else:
        errs.append(f"{dockerfile.name}: no {ignore_file.name} (the whole repository would be the build context)")
    for line in lines:
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "ARG":
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip('"')
        elif instr not in KNOWN:
            errs.append(f"{dockerfile.name}: unknown instruction {instr!r} (a broken line continuation?)")
        if instr == "FROM":
            parts = rest.split()
            image = parts[0]
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), image)
            if "@sha256:" not in image:
                tag = image.rsplit("/", 1)[-1]
                if ":" not in tag or tag.endswith(":latest"):
                    errs.append(f"{dockerfile.name}: FROM {image}: pin a version tag or digest")
            stages.append(parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages)))
            final_user = final_health = final_cmd = None
        elif instr == "USER":
            final_user = rest.strip()
        elif instr == "HEALTHCHECK":
            final_health = rest
        elif instr in ("CMD", "ENTRYPOINT"):
            final_cmd = rest
        elif instr == "ADD" and re.search(r"https?://", rest):
            errs.append(f"{dockerfile.name}: ADD of a remote URL")
        elif instr == "RUN" and re.search(r"curl[^|]*\|\s*(ba)?sh", rest):
            errs.append(f"{dockerfile.name}: curl | sh")
        elif instr == "COPY":
            tokens = [t for t in rest.split() if not t.startswith("--chown") and not t.startswith("--chmod")]
            from_stage = next((t.split("=", 1)[1] for t in tokens if t.startswith("--from=")), None)
            srcs = [t for t in tokens if not t.startswith("--")][:-1]
            if from_stage is not None:
                if from_stage not in stages:
                    errs.append(f"{dockerfile.name}: COPY --from={from_stage}: no such earlier stage")
                continue
            for src in srcs:
                if src in (".", "./"):
                    continue
                rel = src.rstrip("/")
                if not (repo / rel).exists():
                    errs.append(f"{dockerfile.name}: COPY {src}: not in the repository")
                elif ignored(rel, patterns):
                    errs.append(f"{dockerfile.name}: COPY {src}: excluded by {ignore_file.name}")
    if not final_user:
        errs.append(f"{dockerfile.name}: final stage has no USER")
    else:
        uid = final_user.split(":")[0]
        if not uid.isdigit() or uid == "0":
            errs.append(f"{dockerfile.name}: USER {final_user}: use a numeric non-root uid")
    if not final_health:
        errs.append(f"{dockerfile.name}: final stage has no HEALTHCHECK")
    if not final_cmd:
        errs.append(f"{dockerfile.name}: final stage has no ENTRYPOINT/CMD")
    return errs


def main() -> int:
    repo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    files = sorted(p for p in (repo / "docker").glob("Dockerfile*") if not p.name.endswith(".dockerignore"))
    errs: list[str] = []
    for f in files:
        errs.extend(check(f, repo))
    for e in errs:
        print(f"DOCKERFILE: {e}")
    print(f"dockerfile check: {len(files)} Dockerfiles, {len(errs)} problems", file=sys.stderr)
    return 1 if errs or not files else 0


if __name__ == "__main__":
    sys.exit(main())
