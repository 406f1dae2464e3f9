"""Every grade of a group, kept: one JSON line per grade in `.vxlab/grades/STACK.history.jsonl`
(when, the stage, the tool's version, where it was judged from, every step's verdict), so an
instructor sees when a group worked and how its chapters progressed, and a grade never replaces
the evidence of the one before it. Appending a line is atomic enough for one writer per stack:
`vxlab grade` runs once per stack at a time (a class grade runs one per stack)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from vxlab.artifacts.classview import GRADES_DIR
from vxlab.live.grading import by_chapter
from vxlab.live.judging import Graded

SNAPSHOTS_DIR = Path(".vxlab") / "snapshots"


def tool_version() -> str:
    try:
        return metadata.version("vxlab")
    except metadata.PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


def history_path(project: Path, stack: str) -> Path:
    return project / GRADES_DIR / f"{stack}.history.jsonl"


def record_of(graded: Sequence[Graded], *, time: str, stage: str, source: str, taken: str) -> dict[str, Any]:
    """One grade as the history keeps it: the chapters' counts for the overview, every step's
    verdict for the detail (what was seen stays in the snapshot, if one was kept)."""
    return {
        "time": time,
        "taken": taken,
        "stage": stage,
        "version": tool_version(),
        "source": source,
        "chapters": {s.section: {"done": s.done, "total": s.total, "state": s.state} for s in by_chapter(list(graded))},
        "steps": [[g.section, g.machine, g.name, g.verdict] for g in graded],
    }


def append(project: Path, stack: str, record: dict[str, Any]) -> Path:
    path = history_path(project, stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
    return path


def read(project: Path, stack: str) -> list[dict[str, Any]]:
    """The group's grades, oldest first; a line cut short (a grade killed while writing) is skipped."""
    path = history_path(project, stack)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@dataclass(frozen=True)
class ChapterProgress:
    chapter: str
    counts: tuple[tuple[str, int, int], ...]  # (time, done, total), oldest first

    def text(self) -> str:
        """`§5 0/21 → 12/21 → 21/21`: what each grade of the chapter found, repeats folded."""
        shown: list[str] = []
        for _, done, total in self.counts:
            cell = f"{done}/{total}"
            if not shown or shown[-1] != cell:
                shown.append(cell)
        return f"§{self.chapter} " + " → ".join(shown)


def progress(records: Sequence[dict[str, Any]]) -> list[ChapterProgress]:
    """Per chapter of the seed, what each grade that judged it found."""
    chapters = sorted({ch for r in records for ch in r.get("chapters", {})}, key=int)
    return [
        ChapterProgress(
            ch,
            tuple(
                (r["time"], r["chapters"][ch]["done"], r["chapters"][ch]["total"])
                for r in records
                if ch in r.get("chapters", {})
            ),
        )
        for ch in chapters
    ]


def history_lines(stack: str, records: Sequence[dict[str, Any]]) -> list[str]:
    """`vxlab grade --history`: one line per grade, then each chapter's progress."""
    if not records:
        return [f"{stack}: never graded"]
    lines = []
    for r in records:
        chapters = ", ".join(
            f"§{ch} {c['done']}/{c['total']}" for ch, c in sorted(r["chapters"].items(), key=lambda kv: int(kv[0]))
        )
        lines.append(f"{r['time']}  stage {r['stage']:<7} {r['source']:<10} {chapters}  (vxlab {r['version']})")
    lines.append("")
    lines += [p.text() for p in progress(records)]
    first, last = records[0]["time"], records[-1]["time"]
    lines.append(f"{len(records)} grades from {first} to {last}")
    return lines


def progress_text(records: Sequence[dict[str, Any]]) -> str:
    """The class view's one cell: each chapter's progress over the group's grades."""
    if not records:
        return "never graded"
    return f"{len(records)} grades: " + "; ".join(p.text() for p in progress(records))


def snapshot_path(project: Path, stack: str, what: str, time: str) -> Path:
    """Where a snapshot kept for the record goes: `.vxlab/snapshots/STACK/TIME-WHAT.json`."""
    return project / SNAPSHOTS_DIR / stack / f"{time.replace(':', '')}-{what}.json"
