"""A class graded at once: every group's steps side by side (the matrix an instructor projects),
each group's chapters summed up, and the gradebook's CSV. Pure: built from the groups' judged
steps (`vxlab class grade` grades each group's snapshot, vxlab.live.grading).

The gradebook file follows Moodle's grade import (Grades → Import → CSV file,
`grade/import/csv` in Moodle's source): a header row, one column that identifies the user
(mapped from `Email address` to the user's email), one numeric column per grade item (each
mapped to a new grade item named by its header), decimal points, `-` where there is no grade, no
value above the default maximum of 100, and a feedback column. Moodle grades users, not groups:
with a roster (`stack,email` per line) each member of a group gets the group's row; without one,
the file has one row per group and its first column is the group, for a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from xml.etree import ElementTree as ET

from vxlab.artifacts import junit as junit_xml
from vxlab.base.errors import ConfigError
from vxlab.features.spec import DONE
from vxlab.live.grading import SectionGrade, by_chapter
from vxlab.live.judging import Graded
from vxlab.model.stages import section_title

# A step of the matrix: its section, and its rank among that section's steps. Every group's
# steps come from the same model in the same order, so (section, rank) names the same step in
# every group, whatever the group's own names and addresses in it.
StepKey = tuple[str, int]
MISSING = "missing"  # the group has no such step (another stage or a grade that failed)
IDENTIFIER = "Email address"
GROUP_COLUMN = "Group"
MAX_GRADE = 100


@dataclass(frozen=True)
class GroupGrade:
    stack: str
    group: int | None
    stage: str
    taken: str  # when its snapshot was taken, UTC
    graded: tuple[Graded, ...] = ()
    seconds: float = 0.0  # the group's own grade, snapshot and judging
    error: str = ""  # why it could not be graded

    # Read once per cell of the matrix and the gradebook: computed once per group.
    @cached_property
    def chapters(self) -> list[SectionGrade]:
        return by_chapter(list(self.graded))

    @cached_property
    def by_step(self) -> dict[StepKey, Graded]:
        return dict(zip(step_keys(self.graded), self.graded, strict=True))


def step_keys(graded: Iterable[Graded]) -> list[StepKey]:
    seen: dict[str, int] = {}
    keys = []
    for g in graded:
        seen[g.section] = seen.get(g.section, 0) + 1
        keys.append((g.section, seen[g.section]))
    return keys


def _section_order(section: str) -> tuple[int, ...]:
    return tuple(int(p) for p in section.split(".") if p.isdigit())


@dataclass(frozen=True)
class Column:
    key: StepKey
    name: str  # as the first group that has it words it

    @property
    def label(self) -> str:
        return f"§{self.key[0]} #{self.key[1]}"


def columns(groups: Sequence[GroupGrade]) -> list[Column]:
    """Every step any group was graded on, in the manual's order."""
    named: dict[StepKey, str] = {}
    for g in groups:
        for key, step in g.by_step.items():
            named.setdefault(key, step.name)
    return [Column(k, named[k]) for k in sorted(named, key=lambda k: (_section_order(k[0]), k[1]))]


@dataclass(frozen=True)
class Cell:
    verdict: str  # done, not done, wrong, or MISSING
    text: str  # what the step is and what was seen, for a tooltip

    @property
    def css(self) -> str:
        return self.verdict.replace(" ", "-")


def cell(group: GroupGrade, column: Column) -> Cell:
    step = group.by_step.get(column.key)
    if step is None:
        return Cell(MISSING, f"{column.name}: not graded for {group.stack}")
    return Cell(step.verdict, f"{step.machine}: {step.name}: {step.verdict}, {step.observed}")


@dataclass(frozen=True)
class StepSpread:
    """How the class did on one step: the counts of each verdict, for the matrix's last row."""

    column: Column
    done: int
    of: int


def spread(groups: Sequence[GroupGrade], cols: Sequence[Column]) -> list[StepSpread]:
    graded = [g for g in groups if not g.error]
    return [StepSpread(c, sum(cell(g, c).verdict == DONE for g in graded), len(graded)) for c in cols]


def percent(s: SectionGrade) -> str:
    return f"{100 * s.done / s.total:.2f}" if s.total else "-"


def total_percent(group: GroupGrade) -> str:
    steps = len(group.graded)
    return f"{100 * sum(g.verdict == DONE for g in group.graded) / steps:.2f}" if steps else "-"


def feedback(group: GroupGrade) -> str:
    """The gradebook's feedback: what is left, by section."""
    if group.error:
        return f"not graded: {group.error}"
    left = [g for g in group.graded if g.verdict != DONE]
    if not left:
        return "complete"
    by_section: dict[str, int] = {}
    for g in left:
        by_section[g.section] = by_section.get(g.section, 0) + 1
    return "left: " + ", ".join(
        f"§{s} {n}" for s, n in sorted(by_section.items(), key=lambda kv: _section_order(kv[0]))
    )


def grade_columns(chapters: Sequence[str]) -> list[str]:
    return [f"vxlab §{ch} {section_title(ch)} (%)" for ch in chapters] + ["vxlab total (%)"]


def gradebook(
    groups: Sequence[GroupGrade], chapters: Sequence[str], roster: Mapping[str, Sequence[str]] | None = None
) -> str:
    """The CSV text: with a roster one row per student, else one row per group."""
    header = ([IDENTIFIER] if roster is not None else []) + [GROUP_COLUMN] + grade_columns(chapters)
    header.append("vxlab feedback")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for g in groups:
        by_ch = {s.section: s for s in g.chapters}
        marks = ["-" if g.error or ch not in by_ch else percent(by_ch[ch]) for ch in chapters]
        row = [g.stack, *marks, "-" if g.error else total_percent(g), feedback(g)]
        if roster is None:
            writer.writerow(row)
        else:
            for member in roster.get(g.stack, ()):
                writer.writerow([member, *row])
    return out.getvalue()


def read_roster(path: Path, stacks: Iterable[str]) -> dict[str, list[str]]:
    """`stack,email` per line (a header line `stack,email` may come first); every graded group
    needs one member at least, and nobody is in two groups."""
    if not path.is_file():
        raise ConfigError("--roster", f"no file {path}", "write one line `stack,email` per student")
    members: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for n, row in enumerate(csv.reader(path.read_text().splitlines()), start=1):
        if not row or (n == 1 and [c.strip().lower() for c in row] == ["stack", "email"]):
            continue
        if len(row) != 2 or not row[0].strip() or "@" not in row[1]:
            raise ConfigError("--roster", f"line {n} of {path} is {','.join(row)!r}", "write `stack,email`")
        stack, email = row[0].strip(), row[1].strip()
        if email in seen and seen[email] != stack:
            raise ConfigError("--roster", f"{email} is in {seen[email]} and {stack}", "put each student in one group")
        seen[email] = stack
        members.setdefault(stack, []).append(email)
    missing = [s for s in stacks if s not in members]
    if missing:
        raise ConfigError("--roster", f"no student for {', '.join(missing)}", f"add a line `stack,email` to {path}")
    return members


@dataclass
class ClassGrade:
    groups: list[GroupGrade]
    chapters: tuple[str, ...]
    seconds: float = 0.0  # the whole class, wall clock
    parallel: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[Column]:
        return columns(self.groups)

    def summary_lines(self) -> list[str]:
        lines = []
        for g in self.groups:
            if g.error:
                lines.append(f"{g.stack:<10} not graded: {g.error}")
                continue
            chapters = ", ".join(f"§{s.section} {s.done}/{s.total}" for s in g.chapters)
            lines.append(f"{g.stack:<10} stage {g.stage:<7} {chapters}  total {total_percent(g)}%  ({g.seconds:.1f} s)")
        own = sum(g.seconds for g in self.groups)
        lines.append(
            f"{len(self.groups)} groups graded in {self.seconds:.1f} s, {self.parallel} at once "
            f"(one after the other: {own:.1f} s)"
        )
        return lines


def section_spans(cols: Sequence[Column]) -> list[tuple[str, int]]:
    """The matrix's header: each section once, over as many columns as it has steps."""
    spans: list[tuple[str, int]] = []
    for c in cols:
        if spans and spans[-1][0] == c.key[0]:
            spans[-1] = (c.key[0], spans[-1][1] + 1)
        else:
            spans.append((c.key[0], 1))
    return spans


def html(graded: ClassGrade, project: str, time: str) -> str:
    """The page an instructor projects: the chapters per group, then every step as a coloured cell."""
    # Imported here: rendering pulls in the templates' environment, which the CSV does not need.
    from vxlab.build.render import render_template

    cols = graded.columns
    return render_template(
        "class/grade.html.j2",
        graded=graded,
        project=project,
        time=time,
        cols=cols,
        cell=cell,
        spreads=spread(graded.groups, cols),
        spans=section_spans(cols),
        title=section_title,
        total=total_percent,
        chapters_of=lambda g: {s.section: s for s in g.chapters},
    )


def junit(graded: ClassGrade) -> str:
    """One JUnit testsuite per group, one case per step, for a CI that shows test reports."""
    suites = ET.Element("testsuites", name="vxlab-class-grade", time=f"{graded.seconds:.1f}")
    for g in graded.groups:
        junit_xml.suite(g.stack, g.graded, g.seconds, parent=suites, error=g.error)
    return junit_xml.text(suites)
