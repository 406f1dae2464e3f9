"""`vxlab grade`'s core: every step of the seed's sections 3 to 7 judged on a running lab as the
students left it, each one done, not done or wrong, with what was seen, what was expected and
the section of the manual to read again.

Sections 3 to 6 are the registry's grading tasks (state and behaviour: addresses, links, rules,
daemons, replies); section 7 is `vxlab check`'s own checks, each one done when it passes and
wrong when it does not. Nothing here reads a configuration file's text: students write theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vxlab import features
from vxlab.features.spec import DONE, NOT_DONE, WRONG, Check, Task, Verdict
from vxlab.live.checks import Outcome, Runner, lab_checks, observe
from vxlab.live.remote import LabShell, Result
from vxlab.live.traffic_live import run_traffic_checks
from vxlab.model.lab import Lab
from vxlab.model.stages import chapter, section_title

CHAPTERS = ("3", "4", "5", "6", "7")
# What ssh prints when the VM does not answer, and lxc when the container is not there.
UNREACHABLE = ("Connection refused", "Connection timed out", "No route to host", "timed out after")
NO_CONTAINER = ("Instance not found", "not found")


@dataclass(frozen=True)
class Graded:
    section: str
    name: str
    machine: str
    verdict: Verdict
    observed: str
    expected: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        return {
            "section": self.section,
            "step": self.name,
            "machine": self.machine,
            "verdict": self.verdict,
            "observed": self.observed,
            "expected": self.expected,
            "hint": self.hint,
        }


def hint_for(section: str, extra: str = "") -> str:
    """Where in the manual: `§5.8 Configure keepalived ...`, then the task's own advice."""
    title = section_title(section)
    reference = f"see §{section} of the manual" + (f" ({title})" if title else "")
    return f"{reference}; {extra}" if extra else reference


def lab_tasks(lab: Lab, chapters: Iterable[str] = CHAPTERS) -> list[Task]:
    """The registry's grading tasks of `chapters`, in section order (a stable sort keeps each
    feature's own order within a section)."""
    wanted = set(chapters)
    tasks = [t for f in features.REGISTRY if f.tasks for t in f.tasks(lab) if chapter(t.section) in wanted]
    return sorted(tasks, key=lambda t: tuple(int(p) for p in t.section.split(".")))


def section_seven(lab: Lab) -> list[Check]:
    """The seed's §7 checks (not vxlab's extras: students are graded on the manual)."""
    return [c for c in lab_checks(lab) if chapter(c.section) == "7"]


def verdict_of(task: Task, result: Result) -> tuple[Verdict, str]:
    """A task's verdict on its command's result: a VM that does not answer or a container that
    is not there is a step not done, whatever the grader would make of the silence."""
    text = result.out + result.err
    if result.code == 255 and any(u in text for u in UNREACHABLE):
        return NOT_DONE, f"{task.machine} does not answer: {result.err.strip()[:120]}"
    if task.where == "container" and not result.ok and any(m in result.err for m in NO_CONTAINER):
        return NOT_DONE, f"no container {task.machine}"
    return task.grade(result.out if result.out.strip() or result.ok else result.out + result.err)


def grade_task(task: Task, run: Runner, host: Callable[[str], Result]) -> Graded:
    result = host(task.command) if task.where == "host" else run(task.machine, task.command, task.where == "container")
    verdict, observed = verdict_of(task, result)
    return Graded(
        task.section, task.name, task.machine, verdict, observed, task.expect, hint_for(task.section, task.hint)
    )


def graded_outcome(outcome: Outcome) -> Graded:
    """A §7 check's outcome: it passes, or the lab does not behave as the section shows."""
    c = outcome.check
    # A container that is not there yet: the chapters before §7 are not done, nothing is wrong.
    verdict = DONE if outcome.ok else NOT_DONE if "Instance not found" in outcome.observed else WRONG
    return Graded(c.section, c.name, c.machine, verdict, outcome.observed, c.expect, hint_for(c.section))


def grade_lab(
    shell: LabShell,
    lab: Lab,
    chapters: Iterable[str] = CHAPTERS,
    traffic: bool = True,
    report: Callable[[Graded], None] = lambda _: None,
) -> list[Graded]:
    """Every step of `chapters` on the running lab, reported as it is graded."""
    chapters = tuple(chapters)
    graded: list[Graded] = []

    def keep(g: Graded) -> None:
        graded.append(g)
        report(g)

    for task in lab_tasks(lab, chapters):
        keep(grade_task(task, shell.on, shell.host))
    if "7" in chapters:
        for check in section_seven(lab):
            keep(graded_outcome(observe(check, shell.on, time.sleep)))
        if traffic:
            for outcome in run_traffic_checks(shell, lab, shell.on):
                keep(graded_outcome(outcome))
    return graded


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
