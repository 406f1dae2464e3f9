"""Whole-machine faults: their commands, their bounds, and how the wait for traffic is judged."""

from __future__ import annotations

import hashlib

import pytest

from tests.conftest import PROJECT
from vxlab.live.bounds import MARGIN_S, master_down_interval
from vxlab.live.recovery import (
    PROBE_BYTES,
    ROUTER_BOOT_S,
    TENANT_BOOT_S,
    Back,
    fault_of,
    moved,
    probe_command,
    probe_ok,
    recovery_bound,
    restored_bound,
    restored_states,
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
