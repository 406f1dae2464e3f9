"""The judges of `vxlab check` and `vxlab drill`, on outputs captured from the real programs."""

from __future__ import annotations

from typing import Any

import pytest

from vxlab.features import graders
from vxlab.features.spec import STATE_LANE, Grader, Verdict
from vxlab.live.bounds import failover_bound
from vxlab.live.checks import lab_checks
from vxlab.live.drill_logs import ping_gap
from vxlab.model.lab import Lab

PING_OK = """PING 9.9.9.9 (9.9.9.9) 56(84) bytes of data.

--- 9.9.9.9 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 2004ms
"""
PING_LOST = PING_OK.replace("3 received, 0%", "0 received, 100%")
FDB = """5
 port  VLAN  MAC                Age
    1     7  3a:98:95:a9:6b:44    1
    5     7  00:16:3e:b2:71:28    1
    2     7  00:16:3e:1e:f5:70    1
"""
CONNTRACK = (
    "icmp     1 29 src=192.0.2.20 dst=9.9.9.9 type=8 code=0 id=7 src=9.9.9.9 dst=198.18.28.200 type=0 code=0 id=7 "
    "mark=221 use=1\n"
    "udp      17 3 src=198.18.28.200 dst=9.9.9.9 sport=1 dport=53 src=9.9.9.9 dst=198.18.28.200 mark=0 use=1\n"
)
SVI = """6: sw-vlan7    inet 192.0.2.221/24 brd 192.0.2.255 scope global sw-vlan7
6: sw-vlan7    inet 192.0.2.222/24 scope global secondary sw-vlan7
6: sw-vlan7    inet6 fe80:7::de/64 scope link nodad
"""


@pytest.mark.parametrize(("output", "verdict"), [(PING_OK, "done"), (PING_LOST, "wrong"), ("", "not done")])
def test_ping_judge(output: str, verdict: Verdict) -> None:
    assert graders.replies(output)[0] == verdict


@pytest.mark.parametrize(
    ("output", "verdict"),
    [
        ("2: eth0    inet 192.0.2.53/24 brd 192.0.2.255 scope global dynamic eth0", "done"),
        ("2: eth0    inet 192.0.2.95/24 brd 192.0.2.255 scope global dynamic eth0", "wrong"),
        ("2: eth0    inet 10.0.0.5/24 scope global eth0", "wrong"),
        ("", "not done"),
    ],
)
def test_dhcp_address_must_be_in_the_range(output: str, verdict: Verdict) -> None:
    assert graders.addresses_in("192.0.2.0/24", "192.0.2.10", "192.0.2.90")(output)[0] == verdict


def test_slaac_address_in_prefix() -> None:
    out = "2: eth0    inet6 2001:db8:7:0:216:3eff:fe2d:4f16/64 scope global dynamic mngtmpaddr"
    assert graders.addresses_in("2001:db8:7::/64")(out)[0] == "done"


@pytest.mark.parametrize(
    ("output", "verdict"),
    [
        ("default via fe80:7::de dev eth0 proto ra metric 1024 expires 1328sec hoplimit 64 pref medium", "done"),
        ("default via fe80::1 dev eth0 proto ra metric 1024", "wrong"),
        ("", "not done"),
        (
            "default via fe80:7::de dev eth0 proto ra metric 1024 pref medium\n"
            "default via fe80::216:3eff:fe00:1 dev eth0 proto ra metric 1024 pref medium",
            "wrong",
        ),
        (
            "default proto ra metric 1024 pref medium\n"
            "\tnexthop via fe80:7::de dev eth0 weight 1\n\tnexthop via fe80::216:3eff:fe00:1 dev eth0 weight 1",
            "wrong",
        ),
    ],
    ids=["the-vip", "another-router", "none", "a-second-default-beside-the-vip", "a-second-next-hop"],
)
def test_default_route_via_vip(output: str, verdict: Verdict) -> None:
    assert graders.route_via("fe80:7::de")(output)[0] == verdict


@pytest.mark.parametrize(
    ("grader", "verdict"),
    [
        (graders.holds_addresses("192.0.2.222/24", "fe80:7::de/64"), "done"),
        (graders.holds_none("192.0.2.222/24", "fe80:7::de/64"), "wrong"),
    ],
    ids=["master", "backup"],
)
def test_vip_holder(grader: Grader, verdict: Verdict) -> None:
    assert grader(SVI)[0] == verdict


@pytest.mark.parametrize(
    ("fdb", "verdict"),
    [
        (FDB, "done"),
        (FDB.replace("    5     7", "    3     7"), "wrong"),
        ("5\n port  VLAN  MAC                Age\n", "not done"),
    ],
    ids=["both-sides", "local-only", "nothing-learnt"],
)
def test_fdb_needs_macs_from_both_sides_of_the_tunnel(fdb: str, verdict: Verdict) -> None:
    assert graders.fdb_both_sides(7, "vxlanGreenBlue")(fdb)[0] == verdict


@pytest.mark.parametrize(("mark", "verdict"), [(221, "done"), (220, "wrong")])
def test_conntrack_marks(mark: int, verdict: Verdict) -> None:
    assert graders.conntrack_marked(mark, "192.0.2.0/24")(CONNTRACK)[0] == verdict


def test_no_conntrack_entry_from_the_segment_is_not_done() -> None:
    assert graders.conntrack_marked(221, "192.0.2.0/24")(CONNTRACK.splitlines()[1])[0] == "not done"


def test_ping_gap_is_the_longest_silence_minus_the_interval() -> None:
    out = (
        "\n".join(
            f"[{t:.6f}] 64 bytes from 9.9.9.9: icmp_seq={i} ttl=63 time=1.0 ms"
            for i, t in enumerate([100.00, 100.05, 100.10, 103.60, 103.65])
        )
        + "\n--- 9.9.9.9 ping statistics ---\n80 packets transmitted, 5 received, 93% packet loss\n"
    )
    assert ping_gap(out, interval=0.05) == (3.45, 75)


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        # fall 3 x interval 1 s, then Master_Down_Interval of the backup (priority 220):
        # 3 x 1 + (256 - 220) x 1 / 256 = 3.14 s, plus the 2 s margin
        ("probe-cut", 8.14),
        ("master-crash", 5.14),
        ("link-down", 5.14),
        ("dhcp-peer-down", 30.0),
    ],
)
def test_drill_failover_bound_follows_vrrpv3_and_the_seed_timers(dev_lab: Lab, scenario: str, expected: float) -> None:
    assert failover_bound(dev_lab, scenario) == expected


@pytest.mark.parametrize(
    ("scenario", "expected"),
    # (rise 3 + 1) x 1 s + the failing check's 1 s ping wait, then the master's (221)
    # Master_Down_Interval 3 + 35 / 256 s, + 2 s (+ a boot)
    [("probe-cut", 10.14), ("link-down", 10.14), ("master-crash", 250.14)],
)
def test_drill_failback_bound_waits_for_the_check_to_rise(dev_lab: Lab, scenario: str, expected: float) -> None:
    from vxlab.live.bounds import failback_bound

    assert failback_bound(dev_lab, scenario) == expected


def test_the_seeds_scenario_is_probe_cut(dev_lab: Lab) -> None:
    assert failover_bound(dev_lab, "probe-cut") == 8.14


def outcome(scenario: str, failover: float, failures: list[str] | None = None) -> Any:
    from vxlab.live.drill_report import Outcome

    o = Outcome(scenario, "g", "b", 5.14, failover, 1.0, 1.0, 0, 0, 8.14, 3.0, 3.0, 0.1, 0.1, failures=failures or [])
    o.judge()
    return o


@pytest.mark.parametrize(("failover", "passed"), [(4.0, True), (5.14, True), (5.2, False), (float("inf"), False)])
def test_a_run_passes_only_within_its_bounds(failover: float, passed: bool) -> None:
    assert outcome("master-crash", failover).passed is passed


def test_runs_are_summarized_min_median_max_with_their_failures() -> None:
    from vxlab.live.drill_report import summarize

    s = summarize([outcome("master-crash", 3.0), outcome("master-crash", 4.0), outcome("master-crash", 9.0)])
    assert s["master-crash"]["figures"]["failover_s"] == {"min": 3.0, "median": 4.0, "max": 9.0}
    assert s["master-crash"]["failed_runs"] == 1
    assert s["master-crash"]["failures"] == ["VIP move 9.0 s > bound 5.14 s"]


def test_every_container_is_checked_six_times(dev_lab: Lab) -> None:
    per_machine: dict[str, int] = {}
    for check in lab_checks(dev_lab):
        per_machine[check.machine] = per_machine.get(check.machine, 0) + 1
    assert {m: n for m, n in per_machine.items() if m.endswith(("DHCP", "C0", "C1"))} == {
        name: 6 for name in ("blueDHCP", "blueC0", "blueC1", "greenDHCP", "greenC0", "greenC1")
    }


@pytest.mark.parametrize("family", [4, 6])
def test_conntrack_checks_make_their_own_traffic_from_the_master_side(dev_lab: Lab, family: int) -> None:
    check = next(c for c in lab_checks(dev_lab) if c.name.startswith(f"IPv{family} conntrack"))
    probe = dev_lab.internet.probe4 if family == 4 else dev_lab.internet.probe6
    assert check.traffic is not None
    assert (check.traffic.machine, check.traffic.where, check.traffic.command) == (
        dev_lab.master().clients[0],
        "container",
        f"ping -{family} -c 3 -i 0.2 -W 2 {probe}",
    )


@pytest.mark.parametrize("tenant", ["blueTenant", "greenTenant"])
def test_the_fdb_is_read_after_the_vxlan_ping_that_fills_it(dev_lab: Lab, tenant: str) -> None:
    checks = lab_checks(dev_lab)
    fdb = next(c for c in checks if c.machine == tenant and c.name.startswith("bridge FDB"))
    ping = next(c for c in checks if c.machine == tenant and c.name.startswith("VXLAN IPv4"))
    assert fdb.traffic is not None and fdb.traffic.key == ping.observation.key


@pytest.mark.parametrize(
    ("address", "inside"),
    [("192.0.2.9", False), ("192.0.2.10", True), ("192.0.2.50", True), ("192.0.2.90", True), ("192.0.2.100", False)],
)
def test_drill_compares_leases_with_the_range_as_addresses(dev_lab: Lab, address: str, inside: bool) -> None:
    from vxlab.live.drill_logs import in_lease_range

    assert in_lease_range(dev_lab, [address]) == ([address] if inside else [])


# `ip -o monitor address dev sw-vlan7` on the backup while the master's port went down, then up
# (captured on the ci lab), after the snapshot the watch takes when it starts.
MONITOR = """snapshot 5: sw-vlan7    inet 10.39.7.220/24 brd 10.39.7.255 scope global sw-vlan7\\       valid_lft forever
snapshot 5: sw-vlan7    inet6 fe80:7::dc/64 scope link \\       valid_lft forever preferred_lft forever
5: sw-vlan7    inet 10.39.7.222/24 scope global secondary sw-vlan7\\       valid_lft forever preferred_lft forever
5: sw-vlan7    inet6 fe80:7::de/64 scope link nodad \\       valid_lft forever preferred_lft forever
Deleted 5: sw-vlan7    inet6 fe80:7::de/64 scope link nodad \\       valid_lft forever preferred_lft forever
Deleted 5: sw-vlan7    inet 10.39.7.222/24 scope global secondary sw-vlan7\\       valid_lft forever
""".splitlines()
CI_VIPS = {"10.39.7.222", "fe80:7::de"}


@pytest.mark.parametrize(
    ("lines_read", "held"),
    [
        (2, set()),
        (3, {"10.39.7.222"}),
        (4, CI_VIPS),
        (5, {"10.39.7.222"}),
        (6, set()),
    ],
    ids=["snapshot", "vip4-added", "both-added", "vip6-deleted", "both-deleted"],
)
def test_the_vip_watch_follows_the_monitor_line_by_line(lines_read: int, held: set[str]) -> None:
    from vxlab.live.drill_logs import vips_after

    state: set[str] = set()
    for line in MONITOR[:lines_read]:
        state = vips_after(line.removeprefix("snapshot "), state, CI_VIPS)
    assert state == held


def test_the_vip_watch_ignores_the_tenants_own_addresses() -> None:
    from vxlab.live.drill_logs import vips_after

    assert vips_after(MONITOR[0].removeprefix("snapshot "), {"fe80:7::de"}, CI_VIPS) == {"fe80:7::de"}


def test_medians_are_rounded_like_the_figures() -> None:
    from vxlab.live.drill_report import summarize

    s = summarize([outcome("link-down", 2.42), outcome("link-down", 2.97)])
    assert s["link-down"]["figures"]["failover_s"]["median"] == 2.695


def test_conntrack_names_the_marks_it_found_instead() -> None:
    other = CONNTRACK.replace("mark=221", "mark=230")
    assert graders.conntrack_marked(221, "192.0.2.0/24")(other) == (
        "wrong",
        "0 entries from 192.0.2.0/24 with mark=221; others: mark=230 x1",
    )


@pytest.mark.parametrize(
    "name",
    ["VXLAN IPv4", "VXLAN IPv6 link-local", "reaches the IPv4 probe", "reaches the IPv6 probe", "IPv4 conntrack"],
)
def test_active_probes_are_looked_at_again_before_they_fail(dev_lab: Lab, name: str) -> None:
    matching = [c for c in lab_checks(dev_lab) if c.name.startswith(name)]
    assert matching and all(c.relook for c in matching)


@pytest.mark.parametrize("held", ["holds both VIPs", "holds no VIP"])
def test_where_the_vips_are_is_looked_at_again_in_the_state_lane(dev_lab: Lab, held: str) -> None:
    matching = [c for c in lab_checks(dev_lab) if held in c.name]
    assert matching and all(c.relook and c.observation.lane == STATE_LANE for c in matching)


@pytest.mark.parametrize("name", ["IPv4 from the DHCP range", "SLAAC address in", "IPv4 default route via the VIP"])
def test_state_reads_are_judged_on_one_look(dev_lab: Lab, name: str) -> None:
    matching = [c for c in lab_checks(dev_lab) if c.name.startswith(name)]
    assert matching and not any(c.relook for c in matching)
