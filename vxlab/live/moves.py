"""What a group's move to another hypervisor costs its students: the steps they had done that its
new lab does not, by the grade before and after (vxlab.cli.class_drain)."""

from __future__ import annotations

from pathlib import Path

from vxlab.live.judging import Graded

# Where `vxlab class drain` keeps each moved group's lab as it was: the snapshot before, the
# students' files, and MOVED (what was restored, what to redo).
DRAIN_DIR = Path(".vxlab") / "drain"
MOVED = "moved.txt"


def drain_folder(project: Path, stack: str, time: str) -> Path:
    return project / DRAIN_DIR / stack / time.replace(":", "")


def step_key(g: Graded) -> tuple[str, str, str]:
    return (g.section, g.name, g.machine)


def to_redo(before: list[Graded], after: list[Graded]) -> list[Graded]:
    """The steps done before the move and not done after it, in the order of the grade after."""
    done_before = {step_key(g) for g in before if g.ok}
    return [g for g in after if not g.ok and step_key(g) in done_before]


def redo_lines(steps: list[Graded]) -> list[str]:
    """One line per step, as `vxlab grade` names it, with the manual's section to read again."""
    return [f"§{g.section} {g.machine}: {g.name} ({g.hint})" for g in steps]
