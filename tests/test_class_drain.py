"""`vxlab class drain HOST`: the moves planned before anything is touched (a class that does not
fit elsewhere refused in one line), then per group the students' lab kept, the lab destroyed,
placed on its new host, brought up, the students' files written back and the steps to redo
listed. The engine, the lab and the hosts are fakes here; the lab run drains a real host."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT
from tests.test_class_place import GROUP, INVENTORY, LOOP
from vxlab.base.errors import ConfigError
from vxlab.cli import class_drain
from vxlab.cli.class_drain import drain_class
from vxlab.engine.classrun import Progress
from vxlab.features.spec import DONE, NOT_DONE, Verdict
from vxlab.live.judging import Graded
from vxlab.live.keep import KeptFile
from vxlab.live.moves import DRAIN_DIR, MOVED
from vxlab.live.snapshot import Snapshot
from vxlab.model.inventory import Inventory, load_inventory
from vxlab.place.current import placed_of
from vxlab.place.reported import Reported
from vxlab.validate.load import load_lab, load_stack_config


def on(uri: str) -> str:
    return GROUP.replace("    domain_type: qemu\n", f'    domain_type: qemu\n    libvirt_uri: "{uri}"\n')


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    (tmp_path / "Pulumi.group01.yaml").write_text(on("qemu:///system").format(n=1))
    monkeypatch.setattr(
        class_drain, "ask", lambda inventory: {"local": Reported(24017, 19000), "loop": Reported(24017, 19000)}
    )
    return tmp_path


def where(project: Path) -> dict[str, str]:
    stacks = [p.name.split(".")[1] for p in project.glob("Pulumi.*.yaml")]
    return placed_of(load_inventory(project), {s: load_stack_config(project, s) for s in stacks})


def args() -> argparse.Namespace:
    return argparse.Namespace(key=Path("/k"), known_hosts=None)


def test_a_drain_moves_each_group_of_the_host_to_one_with_room(project: Path) -> None:
    assert class_drain.planned_moves(project, load_inventory(project), "local") == {"group01": "loop"}


def test_a_drain_with_no_room_elsewhere_is_refused_in_one_line_with_nothing_moved(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "Pulumi.group02.yaml").write_text(on(LOOP).format(n=2))
    code = drain_class(args(), project, "local")
    lines = capsys.readouterr().out.splitlines()
    assert (code, len(lines), lines[0].endswith("; nothing moved")) == (1, 1, True)
    assert where(project) == {"group01": "local", "group02": "loop"}


def test_only_the_hosts_that_receive_are_asked_what_they_have_free(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def ask(inventory: Inventory) -> dict[str, Reported]:
        asked.extend(h.name for h in inventory.hypervisors)
        return {h.name: Reported(24017, 19000) for h in inventory.hypervisors}

    monkeypatch.setattr(class_drain, "ask", ask)
    class_drain.planned_moves(project, load_inventory(project), "local")
    assert asked == ["loop"]


def test_a_host_the_inventory_does_not_list_is_refused_naming_host(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"^HOST: 'elsewhere' is none of inventory.yaml's hypervisors"):
        drain_class(args(), project, "elsewhere")


def test_a_drain_without_a_host_says_how_to_name_one(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"vxlab class drain HOST"):
        drain_class(args(), project, None)


def test_a_host_with_no_group_has_nothing_to_drain(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = drain_class(args(), project, "loop")
    assert (code, capsys.readouterr().out) == (0, "vxlab class drain: no group on loop\n")


STEP = ("5.8", "keepalived runs", "g1-blueTenant")


def graded(verdict: Verdict) -> list[Graded]:
    return [Graded(STEP[0], STEP[1], STEP[2], verdict, "", "", "see §5.8")]


class FakeShell:
    def __init__(self, lab: object, key: object, known_hosts: object = None) -> None:
        self.lab = lab

    def __enter__(self) -> FakeShell:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@pytest.fixture
def moved(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The drain of `local` with every outside effect recorded in order."""
    calls: list[str] = []
    grades = iter([graded(DONE), graded(NOT_DONE)])
    kept = [KeptFile("g1-blueTenant", "vm", "/etc/keepalived/keepalived.conf", 0o644, "vrrp\n")]

    def engine(project_: Path, action: str, key: Path) -> Any:
        def run_one(stack: str, p: Progress) -> str:
            uri = load_stack_config(project, stack)["hypervisor"]["libvirt_uri"]
            calls.append(f"{action} {stack} on {uri}")
            return ""

        return run_one

    def grade(shell: FakeShell, lab: Any, stack: str, chapters: Any, traffic: bool) -> tuple[Snapshot, list[Graded]]:
        calls.append("grade")
        return Snapshot(lab, stack, "now"), next(grades)

    monkeypatch.setattr(class_drain, "engine_action", engine)
    monkeypatch.setattr(class_drain, "host_ready", lambda project, log: calls.append("host ready"))
    monkeypatch.setattr(class_drain, "LabShell", FakeShell)
    monkeypatch.setattr(class_drain, "load_checked", lambda project, stack: load_lab(project, stack))
    monkeypatch.setattr(class_drain, "grade_lab", grade)

    def recorded(name: str, result: Any) -> Any:
        def call(*args: object) -> Any:
            calls.append(name)
            return result

        return call

    monkeypatch.setattr(class_drain, "keep_files", recorded("keep", (kept, [])))
    monkeypatch.setattr(class_drain, "restore_files", recorded("restore", (kept, [])))
    assert drain_class(args(), project, "local") == 0
    return calls


def test_a_group_is_kept_destroyed_placed_brought_up_and_given_its_files_back_in_that_order(
    moved: list[str],
) -> None:
    assert moved == [
        "host ready",
        "grade",
        "keep",
        "destroy group01 on qemu:///system",
        f"up group01 on {LOOP}",
        "restore",
        "grade",
    ]


def test_a_moved_group_states_its_new_hypervisor(project: Path, moved: list[str]) -> None:
    assert where(project) == {"group01": "loop"}


def test_the_students_files_are_kept_in_the_drain_folder(project: Path, moved: list[str]) -> None:
    copies = list((project / DRAIN_DIR / "group01").glob("*/files/g1-blueTenant/etc/keepalived/keepalived.conf"))
    assert [c.read_text() for c in copies] == ["vrrp\n"]


def test_the_steps_done_before_and_not_after_are_listed_to_redo(project: Path, moved: list[str]) -> None:
    text = next((project / DRAIN_DIR / "group01").glob(f"*/{MOVED}")).read_text()
    assert "restored g1-blueTenant: /etc/keepalived/keepalived.conf" in text
    assert "to redo: §5.8 g1-blueTenant: keepalived runs (see §5.8)" in text
