"""The class graded as one, on snapshots recorded from a real lab (no SSH): the matrix lines up
every group's steps, the gradebook follows Moodle's CSV grade import, the JUnit report counts
what is left, and the matrix page shows each verdict's colour in a real browser."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from vxlab.artifacts import class_grade
from vxlab.artifacts.browser import open_page
from vxlab.base.errors import ConfigError
from vxlab.live import snapshot as snapshots
from vxlab.live.grading import CHAPTERS, grade_snapshot

RECORDED = Path(__file__).parent / "snapshots"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "out" / "screenshots"
WRONG_RGB = (238, 103, 92)  # .wrong in files/class/grade.html.j2
DONE_RGB = (129, 201, 149)


@cache
def group(stack: str, recording: str) -> class_grade.GroupGrade:
    s = snapshots.load(RECORDED / f"{recording}.json")
    return class_grade.GroupGrade(stack, s.lab.group, s.lab.stage, s.taken, tuple(grade_snapshot(s, CHAPTERS)), 1.5)


def the_class() -> class_grade.ClassGrade:
    broken = class_grade.GroupGrade("g3", None, "", "", error="no VM answers SSH")
    return class_grade.ClassGrade([group("g1", "ci-full"), group("g2", "ci-mistakes"), broken], CHAPTERS, 2.0, 2)


def test_every_groups_steps_line_up_in_one_column_each() -> None:
    cols = class_grade.columns(the_class().groups)
    assert len(cols) == len(group("g1", "ci-full").graded)


def test_a_column_names_the_same_step_in_every_group() -> None:
    full, mistakes = group("g1", "ci-full"), group("g2", "ci-mistakes")
    assert [(g.section, g.name) for g in full.graded] == [(g.section, g.name) for g in mistakes.graded]


@pytest.mark.parametrize(
    ("stack", "recording", "section", "rank", "verdict"),
    [
        ("g1", "ci-full", "4.2", 1, "done"),
        ("g2", "ci-mistakes", "4.2", 1, "wrong"),
        ("g2", "ci-mistakes", "6.7", 2, "not done"),
    ],
)
def test_a_cell_shows_the_groups_verdict_of_that_step(
    stack: str, recording: str, section: str, rank: int, verdict: str
) -> None:
    column = next(c for c in class_grade.columns([group(stack, recording)]) if c.key == (section, rank))
    assert class_grade.cell(group(stack, recording), column).verdict == verdict


def test_a_group_that_could_not_be_graded_has_no_cell_but_missing() -> None:
    broken = the_class().groups[2]
    column = class_grade.columns(the_class().groups)[0]
    assert class_grade.cell(broken, column).verdict == class_grade.MISSING


def test_the_finished_lab_totals_one_hundred_percent() -> None:
    assert class_grade.total_percent(group("g1", "ci-full")) == "100.00"


def test_the_spread_counts_the_groups_that_did_each_step() -> None:
    graded = the_class()
    rule = next(s for s in class_grade.spread(graded.groups, graded.columns) if s.column.key == ("4.2", 1))
    assert (rule.done, rule.of) == (1, 2)


# Moodle's grade import (grade/import/csv/classes/load_data.php, lib/csvlib.class.php): a header
# row of unique names, at least two columns, a user identified by one column, a grade value a
# number with a decimal point or `-` (no grade), none above the maximum of 100.
def moodle_import_problems(text: str, identifier: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    problems = []
    if len(header) < 2:
        problems.append("fewer than two columns")
    if len(set(h.strip() for h in header)) != len(header):
        problems.append("a column name twice")
    if identifier not in header:
        return [*problems, f"no {identifier} column"]
    ids = [r[header.index(identifier)] for r in body]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        problems.append("a user missing or twice")
    for r in body:
        if len(r) != len(header):
            problems.append(f"a row of {len(r)} fields under {len(header)} columns")
        for name, value in zip(header, r, strict=False):
            if name.endswith("(%)") and value != "-":
                try:
                    if not 0 <= float(value) <= 100:
                        problems.append(f"{name}: {value} out of 0..100")
                except ValueError:
                    problems.append(f"{name}: {value!r} is not a number")
    return problems


ROSTER = {"g1": ["ana@example.edu", "ben@example.edu"], "g2": ["cho@example.edu"], "g3": ["dev@example.edu"]}


def test_the_gradebook_with_a_roster_is_a_valid_moodle_import() -> None:
    graded = the_class()
    text = class_grade.gradebook(graded.groups, CHAPTERS, ROSTER)
    assert moodle_import_problems(text, class_grade.IDENTIFIER) == []


def test_the_gradebook_gives_each_student_their_groups_marks() -> None:
    graded = the_class()
    rows = list(csv.DictReader(io.StringIO(class_grade.gradebook(graded.groups, CHAPTERS, ROSTER))))
    assert [(r[class_grade.IDENTIFIER], r["Group"], r["vxlab total (%)"]) for r in rows][:3] == [
        ("ana@example.edu", "g1", "100.00"),
        ("ben@example.edu", "g1", "100.00"),
        ("cho@example.edu", "g2", class_grade.total_percent(group("g2", "ci-mistakes"))),
    ]


def test_the_gradebook_without_a_roster_has_a_row_per_group() -> None:
    graded = the_class()
    rows = list(csv.DictReader(io.StringIO(class_grade.gradebook(graded.groups, CHAPTERS))))
    assert [r["Group"] for r in rows] == ["g1", "g2", "g3"]


def test_a_group_not_graded_gets_no_grade_and_says_why() -> None:
    graded = the_class()
    row = list(csv.DictReader(io.StringIO(class_grade.gradebook(graded.groups, CHAPTERS))))[2]
    assert (row["vxlab total (%)"], row["vxlab feedback"]) == ("-", "not graded: no VM answers SSH")


def test_the_feedback_names_the_sections_left() -> None:
    assert class_grade.feedback(group("g2", "ci-mistakes")).startswith("left: §4.2 ")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("g1,ana@example.edu\n", "no student for g2"),
        ("g1,ana@example.edu\ng2\n", "line 2"),
        ("g1,ana@example.edu\ng2,ana@example.edu\n", "ana@example.edu is in g1 and g2"),
    ],
)
def test_a_roster_that_does_not_cover_the_class_is_refused(tmp_path: Path, content: str, problem: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(content)
    with pytest.raises(ConfigError) as err:
        class_grade.read_roster(roster, ["g1", "g2"])
    assert err.value.key == "--roster" and problem in err.value.problem


def test_the_junit_report_counts_each_groups_steps_left() -> None:
    suites = ET.fromstring(class_grade.junit(the_class()))
    failures = {s.get("name"): s.get("failures") for s in suites}
    mistakes = group("g2", "ci-mistakes")
    assert failures == {
        "vxlab-grade-g1": "0",
        "vxlab-grade-g2": str(sum(not g.ok for g in mistakes.graded)),
        "vxlab-grade-g3": "0",
    }


def pixels(png: bytes) -> set[tuple[int, ...]]:
    """The colours of an 8-bit RGB or RGBA PNG (what Chromium's screenshots are)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", data[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw, stride = zlib.decompress(idat), width * channels
    seen: set[tuple[int, ...]] = set()
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        seen.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return seen


@pytest.fixture(scope="module")
def matrix_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("class-grade") / "grade.html"
    page.write_text(class_grade.html(the_class(), "vxlab", "2026-12-04T23:00:00Z"))
    return page


def test_the_matrix_page_loads_without_a_problem_in_a_real_browser(matrix_page: Path) -> None:
    with open_page(matrix_page) as page:
        assert page.problems == []


@pytest.mark.parametrize(("css", "rgb"), [("wrong", WRONG_RGB), ("done", DONE_RGB)])
def test_the_matrix_colours_each_verdicts_cells(matrix_page: Path, css: str, rgb: tuple[int, int, int]) -> None:
    with open_page(matrix_page) as page:
        colours = page.evaluate(
            f"[...document.querySelectorAll('td.step.{css}')].map(c => getComputedStyle(c).backgroundColor)"
        )
    assert colours and set(colours) == {f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"}


@pytest.mark.parametrize("rgb", [WRONG_RGB, DONE_RGB])
def test_a_screenshot_of_the_matrix_shows_the_verdicts_colours(matrix_page: Path, rgb: tuple[int, int, int]) -> None:
    with open_page(matrix_page) as page:
        shot = page.screenshot()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "class-grade.png").write_bytes(shot)
    assert rgb in pixels(shot)
