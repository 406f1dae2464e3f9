"""`vxlab catch-up --stack NAME --to SECTION`: bring a group that is behind to a chapter of the
seed. The reference configuration of every section up to SECTION is applied on top of what the
students built, by raising the stack's `vxlab:stage` and running `pulumi up`: first the students'
files and containers it takes over (each kept, never deleted), then the engine's preview, then,
once confirmed (or with --yes), the update."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from vxlab.artifacts import grade_history
from vxlab.base.errors import ConfigError
from vxlab.build.render import plan_lab
from vxlab.cli.check import add_key_arg
from vxlab.cli.common import add_stack_args, find_project, load_checked_args
from vxlab.engine.automation import engine_env, select
from vxlab.live.grading import CHAPTERS, grade_lab
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import utc_now
from vxlab.live.students import students_work
from vxlab.model.stages import STAGE_NAMES, STAGE_SECTIONS, built_vms, stage_named, stage_rank


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "catch-up", help="apply the reference configuration up to a section of the seed on a students' lab"
    )
    add_stack_args(parser)
    add_key_arg(parser)
    parser.add_argument(
        "--to",
        required=True,
        help=f"a chapter of the seed (3 to 7) or a stage ({', '.join(STAGE_NAMES)}): the sections up to it are built",
    )
    parser.add_argument("--yes", action="store_true", help="update without asking once the preview is shown")
    parser.add_argument("--preview-only", action="store_true", help="show what it would do, change nothing")


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    project = args.project or find_project(Path.cwd())
    try:
        target = stage_named(args.to)
    except ValueError as err:
        raise ConfigError("--to", f"got {args.to!r}", str(err)) from None
    if stage_rank(target) <= stage_rank(lab.stage):
        print(f"{args.stack} is at stage {lab.stage}: it already builds §{', §'.join(STAGE_SECTIONS[lab.stage])}")
        return 0
    new = [vm for vm in built_vms(lab, target) if vm not in built_vms(lab, lab.stage)]
    print(f"catch-up {args.stack}: stage {lab.stage} -> {target}, vxlab configures {', '.join(new)}")
    machines = {m.name: m for m in plan_lab(lab, target)}
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        if not args.preview_only:
            kept = keep_students_lab(shell, project, args.stack, target)
            print(f"  the students' lab as it was, graded and kept: {kept}")
        taken = students_work(shell, lab, machines, new)
    for line in taken or [
        "nothing is replaced: vxlab's files are not there yet, and no container bears a name of vxlab's"
    ]:
        print(f"  {line}")

    stack = select(project, args.stack, engine_env(project))
    stack.set_config("vxlab:stage", auto.ConfigValue(target))
    applied = False
    try:
        stack.preview(diff=True, on_output=print)
        if args.preview_only or not (args.yes or _confirmed()):
            return 0
        stack.up(on_output=print)
        applied = True
    finally:
        if not applied:  # the stack file states the stage it was built at
            stack.set_config("vxlab:stage", auto.ConfigValue(lab.stage))
    print(f"{args.stack} is at stage {target}: `vxlab grade --stack {args.stack}` judges it")
    return 0


def keep_students_lab(shell: LabShell, project: Path, stack: str, target: str) -> Path:
    """The evidence of the students' own work, before the reference replaces it: a snapshot
    (no traffic: it is the state that is replaced) and a line in the group's grade history."""
    lab = shell.lab
    now = utc_now()
    snapshot, graded = grade_lab(shell, lab, stack, CHAPTERS, traffic=False)
    path = grade_history.snapshot_path(project, stack, f"before-catch-up-to-{target}", now)
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save(path)
    record = grade_history.record_of(graded, time=now, stage=lab.stage, source="catch-up", taken=snapshot.taken)
    grade_history.append(project, stack, {**record, "snapshot": str(path)})
    return path


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        print("not confirmed: run again with --yes to update", file=sys.stderr)
        return False
    return input("update the lab as previewed? [y/N] ").strip().lower() in ("y", "yes")
