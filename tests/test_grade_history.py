"""Every grade of a group is kept, one line each: when, at which stage, every step's verdict, the
tool's version; the history and the class view show each chapter's progress over time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_class_grade import group
from vxlab.artifacts import grade_history


def graded_record(recording: str, time: str, source: str = "live") -> dict[str, object]:
    g = group("g1", recording)
    return grade_history.record_of(g.graded, time=time, stage=g.stage, source=source, taken=g.taken)


def test_a_record_keeps_every_steps_verdict() -> None:
    g = group("g1", "ci-mistakes")
    record = graded_record("ci-mistakes", "t1")
    assert record["steps"] == [[s.section, s.machine, s.name, s.verdict] for s in g.graded]


def test_a_record_names_the_tools_version() -> None:
    assert graded_record("ci-full", "t1")["version"] == grade_history.tool_version() != ""


def test_grades_are_appended_never_replaced(tmp_path: Path) -> None:
    grade_history.append(tmp_path, "g1", graded_record("ci-mistakes", "t1"))
    grade_history.append(tmp_path, "g1", graded_record("ci-full", "t2"))
    assert [r["time"] for r in grade_history.read(tmp_path, "g1")] == ["t1", "t2"]


def test_a_line_cut_short_is_skipped(tmp_path: Path) -> None:
    grade_history.append(tmp_path, "g1", graded_record("ci-full", "t1"))
    with grade_history.history_path(tmp_path, "g1").open("a") as out:
        out.write('{"time": "t2", "chap')
    assert [r["time"] for r in grade_history.read(tmp_path, "g1")] == ["t1"]


def test_a_stack_never_graded_has_no_history(tmp_path: Path) -> None:
    assert grade_history.history_lines("g9", grade_history.read(tmp_path, "g9")) == ["g9: never graded"]


@pytest.mark.parametrize(
    ("recordings", "chapter_four"),
    [
        (["ci-mistakes", "ci-full"], "§4 20/23 → 23/23"),
        (["ci-mistakes", "ci-mistakes", "ci-full"], "§4 20/23 → 23/23"),
        (["ci-full", "ci-mistakes"], "§4 23/23 → 20/23"),
    ],
)
def test_progress_shows_each_change_of_a_chapter(recordings: list[str], chapter_four: str) -> None:
    records = [graded_record(r, f"t{i}") for i, r in enumerate(recordings)]
    assert grade_history.progress(records)[1].text() == chapter_four


def test_the_class_view_cell_counts_the_grades() -> None:
    records = [graded_record("ci-mistakes", "t1"), graded_record("ci-full", "t2")]
    assert grade_history.progress_text(records).startswith("2 grades: §3 10/10; §4 20/23 → 23/23; ")


def test_the_history_lists_each_grade_then_the_progress() -> None:
    records = [graded_record("ci-mistakes", "t1", "catch-up"), graded_record("ci-full", "t2")]
    lines = grade_history.history_lines("g1", records)
    assert lines[0].startswith("t1  stage full    catch-up   §3 10/10, §4 20/23")
    assert lines[-1] == "2 grades from t1 to t2"


def test_a_kept_snapshot_is_filed_by_stack_and_time(tmp_path: Path) -> None:
    path = grade_history.snapshot_path(tmp_path, "g1", "class-grade", "2026-12-04T23:00:00Z")
    assert path == tmp_path / ".vxlab" / "snapshots" / "g1" / "2026-12-04T230000Z-class-grade.json"
