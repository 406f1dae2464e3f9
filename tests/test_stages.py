"""Stages: how much of the seed vxlab builds, and what it leaves to the students."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_program import by_name, resources
from vxlab.base.errors import ConfigError
from vxlab.model.lab import Lab
from vxlab.model.stages import (
    STAGE_NAMES,
    built_vms,
    section_title,
    stage_named,
    stage_of_section,
    stage_rank,
    vm_sections,
)
from vxlab.validate.load import build_lab

BUILT = {
    "hosts": set(),
    "router": {"redRouter"},
    "blue": {"redRouter", "blueTenant"},
    "full": {"redRouter", "blueTenant", "greenTenant"},
}


def _lab(stage: str | None = None) -> Lab:
    config: dict[str, Any] = {"group": 0} | ({"stage": stage} if stage else {})
    return build_lab(config)


def test_a_stack_that_states_no_stage_builds_the_whole_lab() -> None:
    assert _lab().stage == "full"


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_a_stage_configures_the_vms_of_its_chapters(stage: str) -> None:
    assert set(built_vms(_lab(stage), stage)) == BUILT[stage]  # type: ignore[arg-type]


def test_each_vm_is_one_chapter_of_the_seed() -> None:
    assert vm_sections(_lab()) == {"redRouter": "4", "blueTenant": "5", "greenTenant": "6"}


@pytest.mark.parametrize(
    ("asked", "stage"),
    [("3", "hosts"), ("4", "router"), ("5", "blue"), ("5.8", "blue"), ("6", "full"), ("7", "full"), ("full", "full")],
)
def test_catch_up_reaches_the_lowest_stage_that_builds_the_section(asked: str, stage: str) -> None:
    assert stage_named(asked) == stage


@pytest.mark.parametrize("asked", ["2", "8", "router2", ""])
def test_a_section_no_stage_builds_is_refused_naming_the_choices(asked: str) -> None:
    with pytest.raises(ValueError, match="hosts, router, blue, full"):
        stage_named(asked)


def test_stages_rise_in_the_seed_order() -> None:
    assert [stage_rank(s) for s in ("hosts", "router", "blue", "full")] == [0, 1, 2, 3]
    assert stage_of_section("6.7") == "full"


@pytest.mark.parametrize("section", ["3.4", "4.2", "5.1", "5.8", "6.7", "7.5"])
def test_every_graded_section_has_the_seed_title(section: str) -> None:
    assert section_title(section)


def test_a_stage_the_seed_does_not_have_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError) as err:
        _lab("tenants")
    assert "vxlab:stage" in err.value.line()


def _vm_steps(stage: str, vm: str) -> list[str]:
    return [
        r["name"]
        for r in resources("dev", f'stage="{stage}"')
        if r["type"] == "command:remote:Command" and r["name"].startswith(f"{vm}-")
    ]


@pytest.mark.parametrize(("stage", "vm"), [(s, vm) for s in STAGE_NAMES for vm in BUILT["full"]])
def test_the_program_runs_steps_only_in_the_vms_the_stage_builds(stage: str, vm: str) -> None:
    assert bool(_vm_steps(stage, vm)) == (vm in BUILT[stage])


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_every_stage_boots_the_three_vms(stage: str) -> None:
    domains = [r for r in resources("dev", f'stage="{stage}"') if r["type"] == "libvirt:index/domain:Domain"]
    assert len(domains) == 3


@pytest.mark.parametrize(("stage", "containers"), [("router", 0), ("blue", 3), ("full", 6)])
def test_containers_come_with_their_tenants_chapter(stage: str, containers: int) -> None:
    made = [r for r in resources("dev", f'stage="{stage}"') if r["type"] == "lxd:index/instance:Instance"]
    assert len(made) == containers


def test_a_tenant_keeps_the_students_containers_before_vxlab_makes_its_own() -> None:
    rs = by_name("dev")
    keep = rs["blueTenant-students-containers"]
    first = rs["blueDHCP"]
    assert keep["urn"] in first["dependencies"]
    assert "lxc move" in keep["inputs"]["create"]
    assert "lxc delete" not in keep["inputs"]["create"] + keep["inputs"]["delete"]


@pytest.mark.parametrize(
    ("stage", "chapters"), [("hosts", ["4", "5", "6"]), ("router", ["5", "6"]), ("blue", ["6"]), ("full", [])]
)
def test_the_handout_of_a_stage_lists_the_chapters_left_to_the_students(stage: str, chapters: list[str]) -> None:
    from vxlab.artifacts.handout import students_chapters

    assert [c.number for c in students_chapters(_lab(stage))] == chapters


def test_the_handout_tells_students_how_to_grade_themselves() -> None:
    from vxlab.artifacts.handout import html

    page = html(_lab("router"), "group00", "<svg></svg>")
    assert "vxlab grade --stack group00 --section N" in page
    assert "§6.8 Configure keepalived" in page


def test_catch_up_to_a_section_no_stage_builds_names_the_option_and_the_choices() -> None:
    from tests.test_cli import vxlab

    done = vxlab("catch-up", "--stack", "dev", "--to", "9")
    assert done.returncode == 2
    assert "--to: got '9'" in done.stderr and "hosts, router, blue, full" in done.stderr


def test_catch_up_to_a_stage_the_lab_has_reached_changes_nothing() -> None:
    from tests.test_cli import vxlab

    done = vxlab("catch-up", "--stack", "dev", "--to", "router")
    assert done.returncode == 0
    assert "dev is at stage full: it already builds §3, §4, §5, §6, §7" in done.stdout


PLANNED = {
    "hosts": {"host"},
    "router": {"host", "redRouter"},
    "blue": {"host", "redRouter", "blueTenant", "blueDHCP", "blueC0", "blueC1"},
    "full": {"host", "redRouter", "blueTenant", "blueDHCP", "blueC0", "blueC1"}
    | {"greenTenant", "greenDHCP", "greenC0", "greenC1"},
}


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_the_plan_of_a_stage_holds_the_machines_it_configures(stage: str) -> None:
    from vxlab.build.render import plan_lab

    assert {m.name for m in plan_lab(_lab(stage))} == PLANNED[stage]


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_a_planned_machine_gets_every_file_of_the_reference(stage: str) -> None:
    from vxlab.build.render import plan_lab, render_lab

    reference = {m.name: m.files for m in render_lab(_lab(stage))}
    assert all(m.files == reference[m.name] for m in plan_lab(_lab(stage)))


def test_the_plan_of_another_stage_renders_the_reference_the_students_are_left() -> None:
    from vxlab.build.render import plan_lab

    assert {m.name for m in plan_lab(_lab("hosts"), "full")} == PLANNED["full"]


@pytest.mark.parametrize(("stage", "machines"), [("hosts", ["host"]), ("full", sorted(PLANNED["full"]))])
def test_render_writes_what_the_stage_installs(tmp_path: Path, stage: str, machines: list[str]) -> None:
    from tests.test_cli import vxlab

    out = tmp_path / "out"
    done = vxlab("render", "--stack", "dev", "--stage", stage, "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == machines
