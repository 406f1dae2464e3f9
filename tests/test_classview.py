"""`vxlab class`: every stack in one table, collisions and broken files marked, state shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT, STACKS
from tests.test_cli import vxlab
from vxlab.artifacts.classview import StackRow, check_text, class_rows, last_check, save_check, state_text, text_table


@pytest.fixture
def two_groups(tmp_path: Path) -> Path:
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.group01.yaml").write_text("config:\n  vxlab:group: 1\n")
    (tmp_path / "Pulumi.group02.yaml").write_text("config:\n  vxlab:group: 2\n")
    return tmp_path


def test_one_row_per_stack_of_the_project() -> None:
    assert sorted(r.stack for r in class_rows(PROJECT)) == sorted(STACKS)


def test_rows_carry_the_derived_numbers(two_groups: Path) -> None:
    row = next(r for r in class_rows(two_groups) if r.stack == "group02")
    assert (row.group, row.vni, row.vrids, row.taps) == (2, 2007, "104 / 105", "230 / 240 / 241")


def test_the_project_stacks_do_not_collide() -> None:
    assert [r.collisions for r in class_rows(PROJECT)] == [[] for _ in STACKS]


def test_two_stacks_on_one_group_are_both_marked(two_groups: Path) -> None:
    (two_groups / "Pulumi.group02.yaml").write_text("config:\n  vxlab:group: 2\n  vxlab:segment:\n    vni: 1007\n")
    marked = {r.stack: r.collisions for r in class_rows(two_groups)}
    assert (marked["group01"][0].startswith("with group02: vxlab:"), "VNI 1007" in marked["group02"][0]) == (
        True,
        True,
    )


def test_a_broken_stack_file_is_a_row_with_its_error(two_groups: Path) -> None:
    (two_groups / "Pulumi.group02.yaml").write_text("config:\n  vxlab:group: 2\n  vxlab:segment:\n    vni: x\n")
    row = next(r for r in class_rows(two_groups) if r.stack == "group02")
    assert "vxlab:segment.vni" in row.error


def test_the_text_table_lists_every_stack_with_its_state(two_groups: Path) -> None:
    text = text_table(class_rows(two_groups))
    assert "group01: no collision; not deployed; never checked" in text


def test_a_saved_check_is_read_back(tmp_path: Path) -> None:
    save_check(tmp_path, "ci", {"time": "2026-11-27T12:00:00Z", "passed": 45, "failed": 1, "failures": ["x"]})
    row = StackRow("ci", last_check=last_check(tmp_path, "ci"))
    assert check_text(row) == "45/46 passed at 2026-11-27T12:00:00Z"


@pytest.mark.parametrize(
    ("deployed", "text"),
    [
        (None, "not deployed"),
        ({"resources": 65, "last_update": "2026-11-27T15:29:20Z"}, "65 resources, updated 2026-11-27T15:29:20Z"),
        ({"resources": 12, "update_in_progress": True}, "update in progress, 12 resources"),
    ],
)
def test_state_text(deployed: dict[str, object] | None, text: str) -> None:
    assert state_text(StackRow("ci", deployed=deployed)) == text


def test_class_json_has_a_row_per_stack() -> None:
    result = vxlab("class", "--json", "--no-state")
    assert (result.returncode, sorted(r["stack"] for r in json.loads(result.stdout))) == (0, sorted(STACKS))


def test_class_exits_1_when_stacks_collide(two_groups: Path) -> None:
    (two_groups / "Pulumi.group02.yaml").write_text("config:\n  vxlab:group: 2\n  vxlab:segment:\n    vni: 1007\n")
    assert vxlab("class", "--no-state", cwd=two_groups).returncode == 1


@pytest.mark.parametrize("action", ["up", "destroy", "check"])
def test_acting_on_an_unknown_stack_is_refused_before_anything_runs(two_groups: Path, action: str) -> None:
    result = vxlab("class", action, "--stacks", "group09", cwd=two_groups)
    assert (result.returncode, result.stderr.startswith("vxlab: --stacks: no stack group09")) == (2, True)


def test_acting_on_colliding_stacks_is_refused_before_anything_runs(two_groups: Path) -> None:
    (two_groups / "Pulumi.group02.yaml").write_text("config:\n  vxlab:group: 2\n  vxlab:segment:\n    vni: 1007\n")
    result = vxlab("class", "up", "--stacks", "group01", cwd=two_groups)
    assert (result.returncode, "collides" in result.stderr, (two_groups / ".vxlab").exists()) == (2, True, False)


def _fake_script(project: Path, name: str, body: str) -> None:
    script = project / "scripts" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)


def test_the_shared_host_is_made_ready_once_with_its_log_kept(tmp_path: Path) -> None:
    from vxlab.engine.stack_actions import host_ready

    _fake_script(tmp_path, "build-images", "echo images built")
    _fake_script(tmp_path, "lab-host", 'echo "lab-host $1"')
    log = tmp_path / ".vxlab" / "logs" / "class-host.log"
    host_ready(tmp_path, log)
    assert log.read_text() == "images built\nlab-host up\n"


def test_a_failing_host_step_names_its_script_and_log(tmp_path: Path) -> None:
    from vxlab.base.errors import ConfigError
    from vxlab.engine.stack_actions import host_ready

    _fake_script(tmp_path, "build-images", "exit 3")
    log = tmp_path / ".vxlab" / "logs" / "class-host.log"
    with pytest.raises(ConfigError, match="scripts/build-images failed"):
        host_ready(tmp_path, log)


def test_the_class_view_keeps_each_chapters_last_grade(tmp_path: Path) -> None:
    from vxlab.artifacts.classview import StackRow, grade_cell, last_grade, save_grade

    save_grade(tmp_path, "g1", {"time": "t1", "chapters": {"5": {"done": 3, "total": 9, "time": "t1"}}})
    save_grade(tmp_path, "g1", {"time": "t2", "chapters": {"6": {"done": 9, "total": 9, "time": "t2"}}})
    row = StackRow("g1", last_grade=last_grade(tmp_path, "g1"))
    assert [grade_cell(row, ch).text for ch in ("5", "6", "7")] == [
        "3/9 done at t1",
        "complete at t2",
        "not graded",
    ]
