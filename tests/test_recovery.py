"""Whole-machine faults: their commands, their bounds, and how the wait for traffic is judged."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.live.bounds import MARGIN_S, master_down_interval
from vxlab.live.drill_report import Outcome
from vxlab.live.recovery import (
    NOT_RUNNING_YET,
    PROBE_BYTES,
    ROUTER_BOOT_S,
    TENANT_BOOT_S,
    Back,
    GatedProbe,
    carried_traffic,
    fault_of,
    moved,
    probe_command,
    probe_ok,
    recovery_bound,
    restored_bound,
    restored_states,
    running_command,
    wait_for_traffic,
)
from vxlab.live.remote import Result
from vxlab.live.traffic_server import payload
from vxlab.model.lab import Lab
from vxlab.validate.load import load_lab

SHA = hashlib.sha256(payload(PROBE_BYTES)).hexdigest()
ONE = f"vxlab-curl 200 {PROBE_BYTES} 0.1\n{SHA}  /tmp/vxlab-get\n"
FAILED = "curl: (7) Failed to connect\nvxlab-curl 000 0 0.0\n" + "e3b0" + "0" * 60 + "  /tmp/vxlab-get\n"
ADDRESS = "7: eth0    inet 10.39.7.49/24 brd 10.39.7.255 scope global dynamic eth0\n"
BOTH = ADDRESS + ONE + ONE


@pytest.mark.parametrize(
    ("out", "ok"),
    [
        pytest.param(BOTH, True, id="address-and-both-families"),
        pytest.param(ADDRESS + ONE + FAILED, False, id="ipv6-down"),
        pytest.param(ADDRESS + FAILED + ONE, False, id="ipv4-down"),
        pytest.param(ONE + ONE, False, id="no-address"),
        pytest.param("", False, id="container-unreachable"),
    ],
)
def test_a_probe_passes_only_with_an_address_and_both_families_moving_data(out: str, ok: bool) -> None:
    assert probe_ok(out) is ok


def test_probe_downloads_over_each_family_from_the_groups_server() -> None:
    command = probe_command(load_lab(PROJECT, "ci"))
    assert f"http://203.0.113.9:8080/bytes/{PROBE_BYTES}" in command
    assert f"http://[2001:db8:ffff::9]:8080/bytes/{PROBE_BYTES}" in command


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_each_container_is_timed_from_the_fault_to_its_first_passing_probe() -> None:
    clock = Clock()
    back_at = {"a": 10.0, "b": 30.0}

    def probe(containers: list[str]) -> dict[str, Result]:
        clock.now += 1.0
        return {c: Result(0, BOTH if clock.now >= back_at[c] else FAILED + FAILED, "") for c in containers}

    flowing = wait_for_traffic(["a", "b"], probe, 0.0, 100.0, clock, clock.sleep)
    assert 10.0 <= flowing["a"].seconds < 14.0
    assert 30.0 <= flowing["b"].seconds < 34.0
    assert flowing["a"].ipv4 == "10.39.7.49"


def test_every_waiting_container_is_probed_in_one_round() -> None:
    clock = Clock()
    rounds: list[list[str]] = []

    def probe(containers: list[str]) -> dict[str, Result]:
        rounds.append(containers)
        clock.now += 1.0
        return {c: Result(0, BOTH if c == "a" else "", "") for c in containers}

    wait_for_traffic(["a", "b"], probe, 0.0, 5.0, clock, clock.sleep)
    assert rounds[0] == ["a", "b"] and all(r == ["b"] for r in rounds[1:])


def test_a_container_that_never_moves_data_is_infinite() -> None:
    clock = Clock()

    def probe(containers: list[str]) -> dict[str, Result]:
        clock.now += 1.0
        return {c: Result(0, BOTH if c == "a" else "", "") for c in containers}

    assert wait_for_traffic(["a", "b"], probe, 0.0, 50.0, clock, clock.sleep)["b"].seconds == float("inf")


@pytest.mark.parametrize(
    ("after", "seconds", "moved_away"),
    [("10.39.7.49", 250.0, False), ("10.39.7.51", 250.0, True), ("10.39.7.51", 400.0, False)],
    ids=["kept-its-address", "moved-with-a-valid-lease", "moved-after-its-lease-could-end"],
)
def test_a_container_back_on_another_address_while_its_lease_was_valid_fails(
    dev_lab: Lab, after: str, seconds: float, moved_away: bool
) -> None:
    found = moved(dev_lab, {"blueC0": "10.39.7.49"}, {"blueC0": Back(seconds, after)})
    assert bool(found) is moved_away


def test_router_crash_kills_and_starts_the_router_only(dev_lab: Lab) -> None:
    fault = fault_of(dev_lab, "router-crash")
    assert fault.make == ("virsh -c qemu:///system destroy redRouter",)
    assert fault.undo == ("virsh -c qemu:///system start redRouter",)


def test_power_cut_kills_every_vm_of_the_group_before_starting_any(dev_lab: Lab) -> None:
    fault = fault_of(dev_lab, "power-cut")
    assert [c.split()[-1] for c in fault.make] == ["redRouter", "blueTenant", "greenTenant"]
    assert all(" destroy " in c for c in fault.make) and all(" start " in c for c in fault.undo)


@pytest.mark.parametrize(("scenario", "boot"), [("router-crash", ROUTER_BOOT_S), ("power-cut", TENANT_BOOT_S)])
def test_recovery_bound_is_a_boot_plus_the_checks_rising_and_the_master_claiming(
    dev_lab: Lab, scenario: str, boot: float
) -> None:
    c, master = dev_lab.vrrp.check, dev_lab.master()
    rise = (c.rise + 1) * c.interval
    expected = boot + rise + master_down_interval(dev_lab, master.vrrp_priority) + MARGIN_S
    assert recovery_bound(dev_lab, scenario) == round(expected, 2)


def test_power_cut_allows_more_than_a_router_crash(dev_lab: Lab) -> None:
    assert recovery_bound(dev_lab, "power-cut") > recovery_bound(dev_lab, "router-crash")


def test_power_cut_restoration_includes_the_dhcp_pair_returning_to_normal(dev_lab: Lab) -> None:
    assert restored_bound(dev_lab, "power-cut") > recovery_bound(dev_lab, "power-cut")
    assert restored_bound(dev_lab, "router-crash") == recovery_bound(dev_lab, "router-crash")


def test_a_host_reboot_takes_the_groups_host_side_down_after_its_vms(dev_lab: Lab) -> None:
    fault = fault_of(dev_lab, "host-reboot")
    assert [c.split()[-2:] for c in fault.make[:3]] == [
        ["destroy", "redRouter"],
        ["destroy", "blueTenant"],
        ["destroy", "greenTenant"],
    ]
    assert fault.make[-1] == "/usr/local/lib/vxlab/vxlab-seed/host-switch.sh down"


def test_a_host_reboot_boots_the_switch_then_only_the_domains_that_autostart(dev_lab: Lab) -> None:
    fault = fault_of(dev_lab, "host-reboot")
    assert fault.undo[0] == "/usr/local/lib/vxlab/vxlab-seed/host-switch.sh up"
    assert all(
        "Autostart: +enable" in c and c.endswith(f" start {vm}")
        for c, vm in zip(fault.undo[1:], ("redRouter", "blueTenant", "greenTenant"), strict=True)
    )


@pytest.mark.parametrize(("scenario", "pair"), [("router-crash", False), ("power-cut", True), ("host-reboot", True)])
def test_the_dhcp_pair_must_be_normal_again_after_the_whole_group_restarted(scenario: str, pair: bool) -> None:
    assert restored_states(scenario) is pair


def test_the_switch_script_brings_the_namespaces_routing_back_on_up() -> None:
    from vxlab.build.render import render_lab
    from vxlab.model.topology import host_switch_path, host_sysctl_path

    lab = load_lab(PROJECT, "ci")
    host = next(m for m in render_lab(lab) if m.role == "host")
    script = host.file(host_switch_path(lab)).content
    up = script[script.index("up() {") : script.index("down() {")]
    assert f"in_ns sysctl -q -p {host_sysctl_path(lab)}" in up


def _outcome(scenario: str, notes: dict[str, object], failures: list[str]) -> Outcome:
    return Outcome(scenario, "g", "g", 189.0, 70.0, 70.0, 70.0, 0, 0, 189.0, 72.0, 189.0, 0.0, 0.0, notes, failures)


CLEAN = {"passed": 36, "failed": []}


def test_a_passed_recoverys_traffic_after_is_the_next_runs_traffic_before() -> None:
    carried = carried_traffic(_outcome("router-crash", {"traffic_after": CLEAN}, []))
    assert carried is not None
    assert (carried["passed"], carried["failed"]) == (36, [])
    assert "previous run" in carried["carried"]


@pytest.mark.parametrize(
    "previous",
    [
        pytest.param(None, id="first-run"),
        pytest.param(_outcome("master-crash", {"containers_back": True}, []), id="after-a-vrrp-scenario"),
        pytest.param(_outcome("router-crash", {"traffic_after": CLEAN}, ["VIP move 200 s > bound 189 s"]), id="failed"),
        pytest.param(
            _outcome("power-cut", {"traffic_after": {"passed": 35, "failed": ["g39-blueC0 IPv6"]}}, []),
            id="traffic-failing-after",
        ),
    ],
)
def test_the_traffic_before_a_fault_is_measured_when_no_clean_recovery_came_right_before(
    previous: Outcome | None,
) -> None:
    assert carried_traffic(previous) is None


def test_the_running_test_prints_each_container_whose_init_is_in_its_lxd_cgroup() -> None:
    command = running_command(["g39-blueC0", "g39-blueC1"])
    assert command == (
        "{ read -r p < /sys/fs/cgroup/lxc.payload.g39-blueC0/init.scope/cgroup.procs; } 2>/dev/null "
        "&& echo g39-blueC0; "
        "{ read -r p < /sys/fs/cgroup/lxc.payload.g39-blueC1/init.scope/cgroup.procs; } 2>/dev/null "
        "&& echo g39-blueC1; true"
    )


def test_the_running_test_names_only_containers_whose_init_is_listed(tmp_path: Path) -> None:
    for name, procs in (("up", "1894\n"), ("stopped", "")):
        scope = tmp_path / f"lxc.payload.{name}" / "init.scope"
        scope.mkdir(parents=True)
        (scope / "cgroup.procs").write_text(procs)
    command = running_command(["up", "stopped", "gone"], str(tmp_path))
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("up\n", "")


class _Tenant:
    """A tenant as the gate sees it: which containers run by now; what was asked."""

    def __init__(self, running: set[str]) -> None:
        self.runs = running
        self.asked: list[list[str]] = []
        self.probed: list[list[str]] = []

    def running(self, waiting: list[str]) -> set[str]:
        self.asked.append(waiting)
        return self.runs & set(waiting)

    def probing(self, ready: list[str]) -> dict[str, Result]:
        self.probed.append(ready)
        return {c: Result(0, BOTH, "") for c in ready}


def test_a_container_not_running_yet_is_not_probed_and_says_why() -> None:
    tenant = _Tenant({"a"})
    results = GatedProbe(tenant.running, tenant.probing)(["a", "b"])
    assert tenant.probed == [["a"]]
    assert (probe_ok(results["a"].out), results["b"].err) == (True, NOT_RUNNING_YET)


def test_a_container_once_seen_running_is_not_asked_about_again() -> None:
    tenant = _Tenant({"a"})
    gated = GatedProbe(tenant.running, tenant.probing)
    gated(["a", "b"])
    gated(["a", "b"])
    assert tenant.asked == [["a", "b"], ["b"]]


def test_nothing_is_probed_while_no_container_runs() -> None:
    tenant = _Tenant(set())
    GatedProbe(tenant.running, tenant.probing)(["a", "b"])
    assert tenant.probed == []
