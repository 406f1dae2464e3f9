"""`vxlab class grade [--stacks ...] [--section N] [--parallel N] [--html F] [--csv F] [--junit F]
[--roster F] [--no-traffic]`: every group graded at once (`--parallel` at a time), each by
`vxlab grade` in its own process (so each group's history gets its line and its snapshot is
kept in .vxlab/snapshots/STACK/), then the class judged from those snapshots: a summary per
group, the matrix of every step (HTML), the gradebook (CSV, Moodle's grade import) and JUnit.
Exit 0 when every group was graded, complete or not; 1 when a group could not be graded."""

from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from vxlab.artifacts import class_grade, grade_history
from vxlab.engine.classrun import Action, Progress, log_path, run_all, summary, verb_command
from vxlab.live import snapshot as snapshots
from vxlab.live.grading import CHAPTERS, grade_snapshot
from vxlab.live.snapshot import utc_now


def _grade_action(
    project: Path,
    args: argparse.Namespace,
    chapters: tuple[str, ...],
    now: str,
    found: dict[str, class_grade.GroupGrade],
) -> Action:
    lock = threading.Lock()

    def run_one(stack: str, p: Progress) -> str:
        kept = grade_history.snapshot_path(project, stack, "class-grade", now)
        kept.parent.mkdir(parents=True, exist_ok=True)
        command = verb_command("grade", stack, project, args.key.expanduser(), args.known_hosts)
        command += ["--save-snapshot", str(kept), "--json"]
        command += [f"--section={ch}" for ch in chapters] + (["--no-traffic"] if args.no_traffic else [])
        command += ["--behaviour"] if args.behaviour else []
        started = time.monotonic()
        with p.log.open("a") as log:
            proc = subprocess.run(command, cwd=project, stdout=subprocess.PIPE, stderr=log, text=True, check=False)
            log.write(proc.stdout)
        # `vxlab grade` exits 1 on an incomplete lab: that is a grade, not a failure. No
        # snapshot means it could not look at the lab at all.
        if not kept.is_file():
            lines = [ln for ln in p.log.read_text().splitlines() if ln.strip()]
            raise RuntimeError(lines[-1] if lines else f"vxlab grade exited {proc.returncode}")
        snapshot = snapshots.load(kept)
        graded = grade_snapshot(snapshot, chapters)
        group = class_grade.GroupGrade(
            stack, snapshot.lab.group, snapshot.lab.stage, snapshot.taken, tuple(graded), time.monotonic() - started
        )
        with lock:
            found[stack] = group
        p.steps = len(graded)
        done = sum(g.ok for g in graded)
        return f"{done}/{len(graded)} done, total {class_grade.total_percent(group)}%"

    return run_one


def grade_class(args: argparse.Namespace, project: Path, stacks: list[str]) -> int:
    chapters = tuple(sorted(set(args.section or CHAPTERS), key=int))
    # Before any lab is asked: a roster that does not cover the class is refused now.
    roster = class_grade.read_roster(args.roster, stacks) if args.roster else None
    now = utc_now()
    found: dict[str, class_grade.GroupGrade] = {}
    progress = [Progress(stack, "grade", log_path(project, stack, "grade")) for stack in stacks]
    start = time.monotonic()
    ok = run_all(
        progress,
        _grade_action(project, args, chapters, now, found),
        args.parallel,
        lambda line: print(f"vxlab class: {line}", flush=True),
    )
    groups = [
        found.get(p.stack) or class_grade.GroupGrade(p.stack, None, "", "", error=p.detail or p.state) for p in progress
    ]
    graded = class_grade.ClassGrade(groups, chapters, time.monotonic() - start, max(1, args.parallel))
    print(summary(progress), end="")
    print("\n".join(graded.summary_lines()))
    writers: list[tuple[Path | None, Callable[[], str]]] = [
        (args.html, lambda: class_grade.html(graded, project.name, now)),
        (args.csv, lambda: class_grade.gradebook(groups, chapters, roster)),
        (args.junit, lambda: class_grade.junit(graded)),
    ]
    for path, text in writers:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text())
            print(f"written: {path}")
    if args.json:
        print(
            json.dumps(
                {
                    "seconds": round(graded.seconds, 1),
                    "parallel": graded.parallel,
                    "groups": [
                        {
                            "stack": g.stack,
                            "stage": g.stage,
                            "error": g.error,
                            "seconds": round(g.seconds, 1),
                            "chapters": {s.section: {"done": s.done, "total": s.total} for s in g.chapters},
                        }
                        for g in groups
                    ],
                },
                indent=2,
            )
        )
    return 0 if ok else 1
