"""`vxlab class [show] [--html FILE] [--json]`: every stack of the project in one table,
collisions marked, and where a stack is deployed its state and its last `vxlab check`.

`vxlab class place [--stacks S ...]`: each group without a hypervisor placed on one of the
inventory's (vxlab.cli.class_place).

`vxlab class drain HOST`: every group on one of the inventory's hypervisors moved to the others,
the students' files with them (vxlab.cli.class_drain).

`vxlab class up|destroy|check|grade [--stacks S ...] [--parallel N]`: that action on several
stacks at once (default: every stack; with an inventory, the hypervisors at once and each
host's groups at its own parallel limit), `up` and `destroy` through Pulumi's Automation API (the
engine and state `scripts/pulumi` uses), `check` as `vxlab check`, `grade` as `vxlab grade` and
then the class judged as one (vxlab.cli.class_grade: the matrix, the gradebook); a progress line
per running stack, a summary table, exit status 1 if any stack failed, and each stack's log in
.vxlab/logs/."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from vxlab.artifacts import grade_history
from vxlab.artifacts.classview import (
    StackRow,
    check_text,
    class_rows,
    grade_cell,
    last_check,
    last_grade,
    state_text,
    text_table,
)
from vxlab.base.errors import ConfigError
from vxlab.build.render import render_template
from vxlab.cli.check import add_key_arg
from vxlab.cli.class_drain import drain_class
from vxlab.cli.class_grade import grade_class
from vxlab.cli.class_place import host_view, load_table, place_class
from vxlab.cli.common import find_project
from vxlab.engine.classrun import Action, Progress, log_path, run_hosts, summary, verb_command
from vxlab.engine.stack_actions import engine_action, host_ready
from vxlab.live.grading import CHAPTERS
from vxlab.model.inventory import INVENTORY_FILE
from vxlab.place.current import groups_by_host, read_placement
from vxlab.validate.load import list_stacks, load_checked

ACTIONS = ("show", "place", "up", "destroy", "check", "grade", "drain")
# The outputs the class view shows of a deployed stack.
SHOWN_OUTPUTS = ("vips", "handout", "diagram", "vni")


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "class", help="every stack of the project in one table; up, destroy or check several at once"
    )
    parser.add_argument("action", nargs="?", choices=ACTIONS, default="show", help="what to do (default: show)")
    parser.add_argument("host", nargs="?", default=None, help="drain: the inventory's hypervisor to empty")
    parser.add_argument("--stacks", nargs="+", default=None, help="the stacks to act on (default: every stack)")
    parser.add_argument("--parallel", type=int, default=2, help="stacks acted on at once (default: 2)")
    add_key_arg(parser)
    parser.add_argument("--project", type=Path, default=None, help="project folder (default: find Pulumi.yaml)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument(
        "--html", type=Path, default=None, help="also write the table (grade: the class matrix) as an HTML page here"
    )
    grading = parser.add_argument_group("grade")
    grading.add_argument(
        "--section", action="append", choices=CHAPTERS, help="grade only this chapter (repeat for several)"
    )
    grading.add_argument("--csv", type=Path, default=None, help="write the gradebook (Moodle's CSV grade import)")
    grading.add_argument("--junit", type=Path, default=None, help="write a JUnit XML report, a suite per group")
    grading.add_argument(
        "--roster", type=Path, default=None, help="`stack,email` per student: the CSV gets a row per student"
    )
    grading.add_argument("--no-traffic", action="store_true", help="skip the TCP transfers and full-size pings")
    grading.add_argument(
        "--behaviour", action="store_true", help="also grade the failovers by doing them (vxlab grade --behaviour)"
    )
    parser.add_argument("--no-state", action="store_true", help="do not ask the engine which stacks are deployed")
    parser.add_argument(
        "--dry-run", action="store_true", help="place: say where each group would go, write no stack file"
    )


def _add_state(project: Path, rows: list[StackRow]) -> str:
    """The engine's view of each stack (through the Automation API); returns why it is unknown, or ""."""
    try:
        # Imported here: the Pulumi SDK is an extra (pip install vxlab[pulumi]).
        from vxlab.engine import automation

        found = automation.deployed(project, automation.engine_env(project))
    except Exception as exc:
        return f"engine state unknown: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}"
    for row in rows:
        if row.stack in found:
            state = found[row.stack]
            shown = {k: state["outputs"][k] for k in SHOWN_OUTPUTS if k in state["outputs"]}
            row.deployed = {**state, "outputs": shown}
    return ""


def run(args: argparse.Namespace) -> int:
    project = (args.project or find_project(Path.cwd())).resolve()
    if args.action != "show":
        return act(args, project)
    rows = class_rows(project)
    for row in rows:
        row.last_check = last_check(project, row.stack)
        row.last_grade = last_grade(project, row.stack)
        row.progress = grade_history.progress_text(grade_history.read(project, row.stack))
    note = "" if args.no_state else _add_state(project, rows)
    if note:
        print(f"vxlab: {note}", file=sys.stderr)
    hosts = host_view(project, [r.stack for r in rows if not r.error])
    loads = "" if hosts is None else load_table(hosts[1], hosts[2])
    for row in rows:
        if hosts is not None and row.stack in hosts[0]:
            row.hypervisor = hosts[0][row.stack]
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        page = render_template(
            "class/class.html.j2",
            rows=rows,
            project=project.name,
            state_text=state_text,
            check_text=check_text,
            chapters=CHAPTERS,
            grade_cell=grade_cell,
            loads=loads,
        )
        args.html.write_text(page)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        print(text_table(rows), end="")
        print(f"\n{loads}" if loads else "", end="")
    return 1 if any(r.collisions or r.error for r in rows) else 0


def _chosen_stacks(project: Path, named: list[str] | None) -> list[str]:
    """The stacks to act on, each loaded and checked against the others before anything runs."""
    known = list_stacks(project)
    stacks = named or known
    for stack in stacks:
        if stack not in known:
            raise ConfigError("--stacks", f"no stack {stack} (Pulumi.{stack}.yaml)", f"name one of {', '.join(known)}")
        load_checked(project, stack)
    return stacks


def _check_action(project: Path, key: Path, known_hosts: Path | None) -> Action:
    def run_one(stack: str, p: Progress) -> str:
        command = verb_command("check", stack, project, key, known_hosts)
        with p.log.open("a") as log:
            proc = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=log, text=True)
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                if line.startswith(("pass ", "FAIL ")):
                    p.step()
            code = proc.wait()
        result = last_check(project, stack)
        detail = f"{result['passed']}/{result['passed'] + result['failed']} passed" if result else f"exit {code}"
        if code != 0:
            raise RuntimeError(detail)
        return detail

    return run_one


def _lanes(project: Path, stacks: list[str], action: str, parallel: int) -> list[tuple[list[Progress], int]]:
    """The stacks per hypervisor, each at its inventory's parallel limit (without an inventory,
    or for groups not placed: one lane at --parallel). Up refuses a group not placed."""
    found = read_placement(project, stacks)
    if found is None:
        return [([Progress(s, action, log_path(project, s, action)) for s in stacks], parallel)]
    inventory, placed = found
    lanes = []
    for host, members in groups_by_host(placed, stacks).items():
        if host is None and action == "up":
            raise ConfigError(
                "--stacks",
                f"{', '.join(members)} not placed on a hypervisor of {INVENTORY_FILE}",
                "run `vxlab class place`",
            )
        limit = parallel if host is None else inventory.entry(host).capacity.parallel
        lanes.append(([Progress(s, action, log_path(project, s, action), host or "") for s in members], limit))
    return lanes


def act(args: argparse.Namespace, project: Path) -> int:
    stacks = _chosen_stacks(project, args.stacks)
    key = args.key.expanduser()
    if args.action == "grade":
        return grade_class(args, project, stacks)
    if args.action == "place":
        return place_class(args, project, stacks)
    if args.action == "drain":
        return drain_class(args, project, args.host)
    lanes = _lanes(project, stacks, args.action, args.parallel)
    action: Action
    if args.action == "check":
        action = _check_action(project, key, args.known_hosts)
    else:
        if args.action == "up":
            host_ready(project, log_path(project, "class", "host"))
        action = engine_action(project, args.action, key)
    ok = run_hosts(lanes, action, lambda line: print(f"vxlab class: {line}", flush=True))
    print(summary([p for members, _ in lanes for p in members]), end="")
    return 0 if ok else 1
