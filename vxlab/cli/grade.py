"""`vxlab grade --stack NAME`: the seed's sections 3 to 7 judged on the running lab as the
students left it, step by step: done, not done or wrong, with what was seen, what was expected
and the section of the manual to read again. Exit 0 when every graded step is done."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from vxlab.artifacts import grade_history, junit
from vxlab.artifacts.classview import save_grade
from vxlab.base.errors import ConfigError
from vxlab.cli.check import add_key_arg, rounds_line
from vxlab.cli.common import add_stack_args, find_project, load_checked_args
from vxlab.live import behaviour
from vxlab.live import snapshot as snapshots
from vxlab.live.drill import run_scenario
from vxlab.live.grading import CHAPTERS, by_chapter, complete, grade_lab, grade_snapshot
from vxlab.live.judging import Graded, not_running
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import utc_now


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "grade", help="grade the running lab per seed section: done, not done or wrong, with hints"
    )
    add_stack_args(parser, required=False)
    add_key_arg(parser)
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="grade a snapshot saved by `vxlab snapshot` (or --save-snapshot) instead of the running lab",
    )
    parser.add_argument("--save-snapshot", type=Path, help="also save the snapshot this grade judged here")
    parser.add_argument(
        "--section",
        action="append",
        choices=CHAPTERS,
        help="grade only this chapter of the seed (repeat for several; default: 3 to 7, or with --from the "
        "chapters the snapshot was taken for)",
    )
    parser.add_argument(
        "--history", action="store_true", help="show every grade of the stack so far and each chapter's progress"
    )
    parser.add_argument("--json", action="store_true", help="print the steps and the chapters as JSON")
    parser.add_argument("--junit", type=Path, help="also write a JUnit XML report here (one case per step)")
    parser.add_argument(
        "--no-traffic", action="store_true", help="in §7, skip the TCP transfers and the full-size pings"
    )
    parser.add_argument(
        "--behaviour",
        action="store_true",
        help="also grade what the lab survives by doing it: the master's probe cut (the VIPs must move and come "
        "back), the primary DHCP server stopped (its partner must lease); each fault is undone (about 2 minutes)",
    )


def _line(g: Graded) -> str:
    line = f"{g.verdict:<9} {g.section:<5} {g.machine:<18} {g.name:<58} {g.observed}"
    if g.verdict != "done":
        line += f"\n{'':<16}expected: {g.expected}\n{'':<16}hint: {g.hint}"
    return line


def write_junit(path: Path, stack: str, graded: list[Graded], seconds: float) -> None:
    path.write_text(junit.text(junit.suite(stack, graded, seconds)))


def show_history(args: argparse.Namespace) -> int:
    if args.stack is None:
        raise ConfigError("--stack", "missing", "name the stack whose grades to show")
    records = grade_history.read(args.project or find_project(Path.cwd()), args.stack)
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        print("\n".join(grade_history.history_lines(args.stack, records)))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.history:
        return show_history(args)
    chapters = tuple(sorted(set(args.section or CHAPTERS), key=int))
    start = time.monotonic()
    if args.source is not None:
        if args.stack is not None or args.save_snapshot is not None:
            raise ConfigError("--from", "given with --stack or --save-snapshot", "grade a saved snapshot alone")
        snapshot = snapshots.load(args.source)
        # By default, the chapters the snapshot was taken for.
        chapters = tuple(sorted(set(args.section or snapshot.chapters or CHAPTERS), key=int))
        graded = grade_snapshot(snapshot, chapters)
    else:
        if args.stack is None:
            raise ConfigError("--stack", "missing", "name the stack to grade, or pass --from FILE")
        lab = load_checked_args(args)
        with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
            snapshot, graded = grade_lab(shell, lab, args.stack, chapters, traffic=not args.no_traffic)
            if args.behaviour and behaviour.chapter_of(lab) in chapters:
                steps = behaviour.behaviour_steps(lab, lambda scenario: run_scenario(shell, lab, scenario))
                behaviour.keep(snapshot.notes, steps)
                graded += steps
        if args.save_snapshot is not None:
            snapshot.save(args.save_snapshot)
    seconds = time.monotonic() - start
    stack, stage = snapshot.stack, snapshot.lab.stage
    sections = by_chapter(graded)
    now = utc_now()
    if args.json:
        print(
            json.dumps(
                {
                    "stack": stack,
                    "stage": stage,
                    "taken": snapshot.taken,
                    "complete": complete(graded),
                    "chapters": [{**s.__dict__, "state": s.state, "total": s.total} for s in sections],
                    "steps": [g.as_dict() for g in graded],
                },
                indent=2,
            )
        )
    else:
        for g in graded:
            print(_line(g))
        print()
        for s in sections:
            print(f"§{s.section} {s.title}: {s.state}, {s.done}/{s.total} done, {s.not_done} not done, {s.wrong} wrong")
        print("complete" if complete(graded) else "not complete")
        source = f"the snapshot of {snapshot.taken}" if args.source else f"{seconds:.1f} s: {rounds_line(snapshot)}"
        print(f"graded {len(graded)} steps from {source}")
        down = not_running(snapshot)
        if down:
            print(f"vxlab: {down}")
    if args.junit:
        write_junit(args.junit, stack, graded, seconds)
    if args.source is None:
        project = args.project or find_project(Path.cwd())
        how = ("no-traffic" if args.no_traffic else "live") + ("+behaviour" if args.behaviour else "")
        record = grade_history.record_of(graded, time=now, stage=stage, source=how, taken=snapshot.taken)
        if args.save_snapshot is not None:
            record["snapshot"] = str(args.save_snapshot)
        grade_history.append(project, stack, record)
        save_grade(
            project,
            stack,
            {
                "time": now,
                "stage": stage,
                "chapters": {
                    s.section: {"done": s.done, "total": s.total, "state": s.state, "time": now} for s in sections
                },
            },
        )
    return 0 if complete(graded) else 1
