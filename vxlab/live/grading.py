"""`vxlab grade`'s core: every step of the seed's sections 3 to 7 judged on a running lab as the
students left it, each one done, not done or wrong, with what was seen, what was expected and
the section of the manual to read again.

Sections 3 to 6 are the registry's grading tasks (state and behaviour: addresses, links, rules,
daemons, replies); section 7 is `vxlab check`'s own checks, each one done when it passes and
wrong when it does not. Nothing here reads a configuration file's text: students write theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from vxlab import features
from vxlab.features.spec import DONE, NOT_DONE, WRONG, Observation, Task
from vxlab.live import behaviour
from vxlab.live.checks import lab_checks
from vxlab.live.judging import Graded, judge, observe_tasks, traffic_tasks
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import Snapshot, utc_now
from vxlab.model.lab import Lab
from vxlab.model.stages import chapter, section_title

CHAPTERS = ("3", "4", "5", "6", "7")


def lab_tasks(lab: Lab, chapters: Iterable[str] = CHAPTERS) -> list[Task]:
    """The registry's grading tasks of `chapters`, in section order (a stable sort keeps each
    feature's own order within a section)."""
    wanted = set(chapters)
    tasks = [t for f in features.REGISTRY if f.tasks for t in f.tasks(lab) if chapter(t.section) in wanted]
    return sorted(tasks, key=lambda t: tuple(int(p) for p in t.section.split(".")))


def section_seven(lab: Lab) -> list[Task]:
    """The seed's §7 checks (not vxlab's extras: students are graded on the manual)."""
    return [c for c in lab_checks(lab) if chapter(c.section) == "7"]


def grade_tasks(lab: Lab, chapters: Iterable[str]) -> list[Task]:
    chapters = tuple(chapters)
    return lab_tasks(lab, chapters) + (section_seven(lab) if "7" in chapters else [])


def grade_snapshot(snapshot: Snapshot, chapters: Iterable[str] = CHAPTERS) -> list[Graded]:
    """Every step of `chapters` judged on the snapshot (its traffic checks when it made them)."""
    chapters = tuple(chapters)
    tasks = grade_tasks(snapshot.lab, chapters) + (traffic_tasks(snapshot) if "7" in chapters else [])
    # The behaviour steps were graded by doing them (vxlab.live.behaviour); the snapshot keeps them.
    done_by_doing = [g for g in behaviour.kept(snapshot.notes) if chapter(g.section) in chapters]
    return [judge(t, snapshot) for t in tasks] + done_by_doing


def snapshot_lab(
    shell: LabShell,
    lab: Lab,
    stack: str,
    tasks: list[Task],
    traffic: bool,
    extra: Sequence[Observation] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """A snapshot of the running lab holding what `tasks` (and the traffic checks, and `extra`)
    observe."""
    snapshot = Snapshot(lab, stack, utc_now())
    observe_tasks(shell, lab, tasks, snapshot, traffic, sleep, extra)
    return snapshot


def grade_lab(
    shell: LabShell, lab: Lab, stack: str, chapters: Iterable[str] = CHAPTERS, traffic: bool = True
) -> tuple[Snapshot, list[Graded]]:
    """Every step of `chapters` on the running lab: one snapshot, then judged."""
    chapters = tuple(chapters)
    snapshot = snapshot_lab(shell, lab, stack, grade_tasks(lab, chapters), traffic and "7" in chapters)
    snapshot.chapters = chapters
    return snapshot, grade_snapshot(snapshot, chapters)


@dataclass(frozen=True)
class SectionGrade:
    section: str  # a chapter: "5"
    title: str
    done: int
    not_done: int
    wrong: int

    @property
    def total(self) -> int:
        return self.done + self.not_done + self.wrong

    @property
    def state(self) -> str:
        if self.done == self.total:
            return "complete"
        return "not started" if self.not_done == self.total else "incomplete"


def by_chapter(graded: list[Graded]) -> list[SectionGrade]:
    out = []
    for ch in sorted({chapter(g.section) for g in graded}, key=int):
        mine = [g for g in graded if chapter(g.section) == ch]
        out.append(
            SectionGrade(
                ch,
                section_title(ch),
                sum(g.verdict == DONE for g in mine),
                sum(g.verdict == NOT_DONE for g in mine),
                sum(g.verdict == WRONG for g in mine),
            )
        )
    return out


def complete(graded: list[Graded]) -> bool:
    return bool(graded) and all(g.verdict == DONE for g in graded)
