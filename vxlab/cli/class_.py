"""`vxlab class [--html FILE] [--json]`: every stack of the project in one table, collisions
marked, and where a stack is deployed its state and its last `vxlab check`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from vxlab.classview import StackRow, check_text, class_rows, last_check, state_text, text_table
from vxlab.cli.common import find_project
from vxlab.errors import ConfigError
from vxlab.render import render_template

ENGINE_TIMEOUT_S = 60


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("class", help="every stack of the project in one table")
    parser.add_argument("--project", type=Path, default=None, help="project folder (default: find Pulumi.yaml)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--html", type=Path, default=None, help="also write the table as an HTML page here")
    parser.add_argument("--no-state", action="store_true", help="do not ask the engine which stacks are deployed")
    parser.add_argument(
        "--pulumi", default=None, help="the Pulumi engine to ask (default: the project's scripts/pulumi, or pulumi)"
    )


def _engine(project: Path, chosen: str | None) -> list[str]:
    if chosen:
        return [chosen]
    wrapper = project / "scripts" / "pulumi"
    if wrapper.is_file() and os.access(wrapper, os.X_OK):
        return [str(wrapper)]
    found = shutil.which("pulumi")
    if not found:
        raise ConfigError("--no-state", "no Pulumi engine found", "run scripts/setup, or pass --no-state")
    return [found]


def _pulumi_json(engine: list[str], project: Path, *args: str) -> Any:
    done = subprocess.run(
        [*engine, *args, "--json"], cwd=project, capture_output=True, text=True, timeout=ENGINE_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    return json.loads(done.stdout or "null")


def _add_state(project: Path, rows: list[StackRow], chosen: str | None) -> str:
    """The engine's view of each stack; returns why it is unknown, or ""."""
    engine = _engine(project, chosen)
    try:
        listed = {s["name"].split("/")[-1]: s for s in _pulumi_json(engine, project, "stack", "ls") or []}
    except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return f"engine state unknown: {exc}"
    for row in rows:
        found = listed.get(row.stack)
        if not found or not found.get("resourceCount"):
            continue
        try:
            outputs = _pulumi_json(engine, project, "stack", "output", "--stack", row.stack)
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
            outputs = {"error": str(exc)}
        row.deployed = {
            "resources": found.get("resourceCount", 0),
            "last_update": found.get("lastUpdate", ""),
            "update_in_progress": found.get("updateInProgress", False),
            "outputs": {k: outputs.get(k) for k in ("vips", "handout", "diagram", "vni") if k in outputs},
        }
    return ""


def run(args: argparse.Namespace) -> int:
    project = args.project or find_project(Path.cwd())
    rows = class_rows(project)
    for row in rows:
        row.last_check = last_check(project, row.stack)
    note = "" if args.no_state else _add_state(project, rows, args.pulumi)
    if note:
        print(f"vxlab: {note}", file=sys.stderr)
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        page = render_template(
            "class/class.html.j2", rows=rows, project=project.name, state_text=state_text, check_text=check_text
        )
        args.html.write_text(page)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        print(text_table(rows), end="")
    return 1 if any(r.collisions or r.error for r in rows) else 0
