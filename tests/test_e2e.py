"""The e2e runs' shared library: scratch projects, reports, previews read, residue named from the model."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.engine.e2e import Failed, Report, drill, leftovers, run, scratch_project, touched, without_secrets
from vxlab.engine.lab_e2e import up_rows
from vxlab.validate.load import load_lab


@pytest.mark.parametrize(
    ("stack_file", "expected"),
    [
        ("config:\n  vxlab:group: 39\n", "config:\n  vxlab:group: 39\n"),
        ("encryptionsalt: v1:abc\nconfig:\n  vxlab:group: 39\n", "config:\n  vxlab:group: 39\n"),
        ("secretsprovider: passphrase\nencryptedkey: k\nconfig: {}\n", "config: {}\n"),
        (
            "config:\n  vxlab:ssh_private_key:\n    secure: v1:xyz\n  vxlab:group: 39\n",
            "config:\n  vxlab:group: 39\n",
        ),
    ],
    ids=["nothing-secret", "salt", "provider-and-key", "private-key"],
)
def test_a_scratch_stack_file_keeps_nothing_secret(stack_file: str, expected: str) -> None:
    assert without_secrets(stack_file) == expected


def test_a_scratch_project_links_the_checkout_except_what_runs_write(tmp_path: Path) -> None:
    scratch_project(PROJECT, tmp_path / "scratch")
    linked = {p.name for p in (tmp_path / "scratch").iterdir() if p.is_symlink()}
    assert {"vxlab", "scripts", "files", "Pulumi.yaml", "__main__.py"} <= linked
    assert not {"handouts", "out", ".git"} & {p.name for p in (tmp_path / "scratch").iterdir()}


def test_a_scratch_project_copies_every_stack_file(tmp_path: Path) -> None:
    scratch_project(PROJECT, tmp_path / "scratch")
    copied = {p.name for p in (tmp_path / "scratch").glob("Pulumi.*.yaml") if not p.is_symlink()}
    assert copied == {p.name for p in PROJECT.glob("Pulumi.*.yaml")}


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        (["same", "same"], []),
        (["same", "update"], ["r1"]),
        (["replace", "read", "refresh", "create"], ["r0", "r3"]),
    ],
    ids=["nothing", "one-update", "replace-and-create"],
)
def test_a_preview_touches_the_resources_it_would_change(ops: list[str], expected: list[str]) -> None:
    steps = [{"op": op, "urn": f"urn:pulumi:ci::vxlab::t::r{i}"} for i, op in enumerate(ops)]
    assert touched({"steps": steps}) == expected


@pytest.mark.parametrize("stack", ["ci", "ci2"])
def test_the_residue_a_lab_may_leave_is_named_from_its_model(stack: str) -> None:
    lab = load_lab(PROJECT, stack)
    left = leftovers(lab)
    assert left.domains == (lab.router.name, *(t.name for t in lab.tenants.values()))
    assert left.netns == lab.hypervisor.svi_netns
    assert all(tap.startswith("tap") for tap in left.taps) and len(left.taps) == 3


def test_two_groups_leave_no_trace_in_common() -> None:
    ci, ci2 = leftovers(load_lab(PROJECT, "ci")), leftovers(load_lab(PROJECT, "ci2"))
    assert not set(ci.domains + ci.taps + ci.folders) & set(ci2.domains + ci2.taps + ci2.folders)


def test_a_timed_step_is_reported_when_it_fails(tmp_path: Path) -> None:
    report = Report(tmp_path / "report.txt", "run")
    with pytest.raises(Failed), report.timed("step"):
        raise Failed("broken")
    assert (tmp_path / "report.txt").read_text() == "run: step: 0 s\n"


def test_a_failed_command_says_its_log_s_last_lines(tmp_path: Path) -> None:
    with pytest.raises(Failed, match="the reason"):
        run(["sh", "-c", "echo the reason; exit 3"], log=tmp_path / "log")


def test_a_command_runs_with_the_run_s_environment(tmp_path: Path) -> None:
    done = run(["sh", "-c", "echo $VXLAB_E2E_PROBE"], env={"VXLAB_E2E_PROBE": "seen"})
    assert done.stdout == "seen\n" and "VXLAB_E2E_PROBE" not in os.environ


SUMMARY = {
    "probe-cut": {
        "figures": {
            k: {"median": v}
            for k, v in {"failover_s": 4.0, "outage_ipv4_s": 0.1, "outage_ipv6_s": 0.1, "failback_s": 6.0}.items()
        },
        "failover_bound_s": 9.14,
        "failback_bound_s": 10.14,
        "failed_runs": 0,
    }
}


class FakeScratch:
    """What `drill` needs of a scratch project: its folder, key, and a `vxlab` verb that answers."""

    def __init__(self, folder: Path, code: int) -> None:
        self.dir, self.key, self.code = folder, folder / "key", code
        self.asked: tuple[str, ...] = ()

    def verb(self, *args: str, stack: str | None = None, stderr_log: Path) -> subprocess.CompletedProcess[str]:
        self.asked = args
        stderr_log.write_text("progress\n")
        return subprocess.CompletedProcess(list(args), self.code, json.dumps({"summary": SUMMARY}) + "\n", None)


def test_a_drill_s_scenarios_go_to_the_report(tmp_path: Path) -> None:
    report = Report(tmp_path / "report.txt", "run")
    drill(FakeScratch(tmp_path, 0), report, "ci", "vxlab drill", ["probe-cut"], prefix="ci ")  # type: ignore[arg-type]
    assert "run: drill: ci probe-cut: VIP move 4.0 s (bound 9.14)" in (tmp_path / "report.txt").read_text()


def test_a_drill_asks_for_each_scenario_with_the_run_s_key(tmp_path: Path) -> None:
    scratch = FakeScratch(tmp_path, 0)
    drill(scratch, Report(tmp_path / "r", "run"), "ci", "d", ["probe-cut", "link-down"], "--known-hosts", "k")  # type: ignore[arg-type]
    assert scratch.asked == (
        "drill",
        "--key",
        str(tmp_path / "key"),
        "--known-hosts",
        "k",
        "--scenario=probe-cut",
        "--scenario=link-down",
        "--json",
    )


def test_a_failed_drill_fails_the_run(tmp_path: Path) -> None:
    with pytest.raises(Failed, match="a drill scenario of ci failed"):
        drill(FakeScratch(tmp_path, 1), Report(tmp_path / "r", "run"), "ci", "d", ["probe-cut"])  # type: ignore[arg-type]


def test_the_lab_run_drills_every_scenario_somewhere_but_the_hypervisors_restart() -> None:
    """host-reboot is a power cut that also takes the group's host side down: measured by hand
    (docs/faults.md), it would add five minutes to a run that has none to spare. The behaviour
    steps of the class grade run their scenarios on both groups."""
    from vxlab.cli.drill import SCENARIOS
    from vxlab.engine.lab_e2e import DRILLS_ALONE, DRILLS_SIDE_BY_SIDE
    from vxlab.live.behaviour import BEHAVIOURS

    drilled = {s for scenarios in DRILLS_SIDE_BY_SIDE.values() for s in scenarios} | set(DRILLS_ALONE)
    assert drilled | {b.scenario for b in BEHAVIOURS} == set(SCENARIOS) - {"host-reboot"}


def test_the_crashes_that_reboot_a_vm_are_drilled_alone() -> None:
    from vxlab.engine.lab_e2e import DRILLS_ALONE

    assert {"master-crash", "router-crash", "power-cut"} <= set(DRILLS_ALONE)


@pytest.mark.parametrize("verdict", ["done", "not done", "wrong"])
def test_the_lab_run_reads_each_groups_step_verdict_from_the_class_grades_junit(tmp_path: Path, verdict: str) -> None:
    from vxlab.artifacts.class_grade import ClassGrade, GroupGrade, junit
    from vxlab.engine.lab_e2e import _junit_steps
    from vxlab.live.judging import Graded

    step = Graded("6.8", "the VIPs move: back", "g39-greenTenant", verdict, "seen", "expected", "hint")  # type: ignore[arg-type]
    other = Graded("6.8", "the VIPs move: back", "g38-greenTenant", "done", "seen", "expected", "hint")
    groups = [GroupGrade("ci", 39, "router", "now", (step,)), GroupGrade("ci2", 38, "full", "now", (other,))]
    (tmp_path / "class.xml").write_text(junit(ClassGrade(groups, ("6",))))
    assert _junit_steps(tmp_path / "class.xml") == {
        ("ci", "6.8", "g39-greenTenant", "the VIPs move: back"): verdict,
        ("ci2", "6.8", "g38-greenTenant", "the VIPs move: back"): "done",
    }


CLASS_UP_SUMMARY = """\
vxlab class: ci: up ok, 21 s, 71 steps, same 71
vxlab class: ci2: up ok, 315 s, 72 steps, create 71
stack  hypervisor  action  result  seconds  steps  detail
-----  ----------  ------  ------  -------  -----  ---------
ci     local       up      ok      21       71     same 71
ci2    loop        up      ok      315      72     create 71
"""


def test_the_class_ups_summary_gives_each_groups_host_seconds_and_changes() -> None:
    assert up_rows(CLASS_UP_SUMMARY) == {
        "ci": ("local", 21.0, {"same": 71}),
        "ci2": ("loop", 315.0, {"create": 71}),
    }
