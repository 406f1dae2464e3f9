"""The class at a glance: every stack of the project, its numbers, its collisions, its state.

Rows are built from the stacks' models (pure); the deployed state (the engine's stack list and
outputs, the last `vxlab check`) is read by the caller and handed in, so this stays testable
without an engine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vxlab.base.errors import ConfigError
from vxlab.model.lab import Lab
from vxlab.validate.collisions import check_collisions, hypervisor_of
from vxlab.validate.load import list_stacks, load_lab

CHECKS_DIR = Path(".vxlab") / "checks"
GRADES_DIR = Path(".vxlab") / "grades"


@dataclass
class StackRow:
    stack: str
    group: int | None = None
    vlans: str = ""  # upstream / blue link / green link / segment
    taps: str = ""
    vni: int | None = None
    vrids: str = ""
    subnets: list[str] = field(default_factory=list)
    vms: list[str] = field(default_factory=list)
    hypervisor: str = ""
    error: str = ""  # the stack's file does not load
    collisions: list[str] = field(default_factory=list)
    deployed: dict[str, Any] | None = None  # resources, last update, outputs
    last_check: dict[str, Any] | None = None
    stage: str = ""
    last_grade: dict[str, Any] | None = None  # per chapter of the seed, and when
    progress: str = ""  # every grade so far, per chapter (vxlab.artifacts.grade_history)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def row_of(stack: str, lab: Lab) -> StackRow:
    blue, green = lab.tenants["blue"], lab.tenants["green"]
    return StackRow(
        stack=stack,
        group=lab.group,
        vlans=f"{lab.upstream.vlan} / {blue.link_vlan} / {green.link_vlan} / {lab.segment.vlan}",
        taps=f"{lab.router.tap} / {blue.tap} / {green.tap}",
        vni=lab.segment.vni,
        vrids=f"{lab.vrrp.vrid4} / {lab.vrrp.vrid6}",
        subnets=[
            str(lab.upstream.host_ipv4.network),
            str(lab.upstream.host_ipv6.network),
            str(lab.segment.ipv4),
            str(lab.segment.ipv6),
        ],
        vms=[lab.router.name, blue.name, green.name],
        stage=lab.stage,
        hypervisor=hypervisor_of(lab),
    )


def collisions(labs: dict[str, Lab]) -> dict[str, list[str]]:
    """Every pair of stacks that collide, each side told which value and which other stack."""
    found: dict[str, list[str]] = {name: [] for name in labs}
    names = sorted(labs)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            try:
                check_collisions({first: labs[first], second: labs[second]})
            except ConfigError as err:
                found[first].append(f"with {second}: {err.key}: {err.problem}")
                found[second].append(f"with {first}: {err.key}: {err.problem}")
    return found


def class_rows(project: Path) -> list[StackRow]:
    """One row per stack file of the project, collisions marked, broken files reported."""
    rows: dict[str, StackRow] = {}
    labs: dict[str, Lab] = {}
    for stack in list_stacks(project):
        try:
            labs[stack] = load_lab(project, stack)
            rows[stack] = row_of(stack, labs[stack])
        except ConfigError as err:
            rows[stack] = StackRow(stack=stack, error=err.line())
    for stack, clashes in collisions(labs).items():
        rows[stack].collisions = clashes
    return [rows[s] for s in sorted(rows, key=lambda s: (rows[s].group is None, rows[s].group or 0, s))]


def _summary(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def last_check(project: Path, stack: str) -> dict[str, Any] | None:
    return _summary(project / CHECKS_DIR / f"{stack}.json")


def last_grade(project: Path, stack: str) -> dict[str, Any] | None:
    return _summary(project / GRADES_DIR / f"{stack}.json")


def save_grade(project: Path, stack: str, result: dict[str, Any]) -> Path:
    """Where `vxlab grade` leaves its summary per chapter for `vxlab class`: each chapter keeps
    the last time it was graded (grading one chapter leaves the others' as they were)."""
    path = project / GRADES_DIR / f"{stack}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = last_grade(project, stack) or {}
    chapters = {**previous.get("chapters", {}), **result.get("chapters", {})}
    path.write_text(json.dumps({**result, "chapters": chapters}, indent=2) + "\n")
    return path


@dataclass(frozen=True)
class GradeCell:
    state: str  # complete, incomplete, not started, ungraded
    text: str


def grade_cell(row: StackRow, chapter: str) -> GradeCell:
    """One chapter's last grade for the class view: `complete` or `done/total`, and when."""
    c = (row.last_grade or {}).get("chapters", {}).get(chapter)
    if c is None:
        return GradeCell("ungraded", "not graded")
    done = "complete" if c["done"] == c["total"] else f"{c['done']}/{c['total']} done"
    return GradeCell(str(c.get("state", "")), f"{done} at {c['time']}")


def grade_text(row: StackRow) -> str:
    """`§3 complete, §4 complete, §5 4/19 …` with the time of the last grade."""
    g = row.last_grade
    if not g or not g.get("chapters"):
        return "never graded"
    return ", ".join(f"§{ch} {grade_cell(row, ch).text}" for ch in sorted(g["chapters"], key=int))


def save_check(project: Path, stack: str, result: dict[str, Any]) -> Path:
    """Where `vxlab check` leaves its summary for `vxlab class`."""
    path = project / CHECKS_DIR / f"{stack}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def state_text(row: StackRow) -> str:
    if row.deployed is None:
        return "not deployed"
    if row.deployed.get("update_in_progress"):
        return f"update in progress, {row.deployed.get('resources', 0)} resources"
    return f"{row.deployed.get('resources', 0)} resources, updated {row.deployed.get('last_update') or '?'}"


def check_text(row: StackRow) -> str:
    c = row.last_check
    if not c:
        return "never checked"
    return f"{c['passed']}/{c['passed'] + c['failed']} passed at {c['time']}"


COLUMNS = ("stack", "group", "VLANs up/blue/green/seg", "taps", "VNI", "VRIDs", "subnets", "VMs", "hypervisor")


def cells(row: StackRow) -> list[str]:
    if row.error:
        return [row.stack, "?", f"broken: {row.error}", "", "", "", "", "", ""]
    return [
        row.stack,
        str(row.group),
        row.vlans,
        row.taps,
        str(row.vni),
        row.vrids,
        ", ".join(row.subnets),
        ", ".join(row.vms),
        row.hypervisor,
    ]


def aligned(table: Sequence[Sequence[str]]) -> list[str]:
    """Rows as padded columns for the terminal, the first one a header underlined with dashes."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def text_table(rows: list[StackRow]) -> str:
    """A table for the terminal, then each stack's collisions and state below it."""
    lines = aligned([list(COLUMNS)] + [cells(r) for r in rows])
    lines.append("")
    for r in rows:
        if r.error:
            continue
        mark = "COLLIDES " + "; ".join(r.collisions) if r.collisions else "no collision"
        lines.append(f"{r.stack}: {mark}; {state_text(r)}; {check_text(r)}")
        lines.append(f"{r.stack}: stage {r.stage or '?'}; graded {grade_text(r)}")
        if r.progress:
            lines.append(f"{r.stack}: progress {r.progress}")
    return "\n".join(lines) + "\n"
