"""Every judge on snapshots recorded from a real `ci` lab, no SSH: done on the finished lab, not
done on the lab at stage `router` (the tenants left to the students), wrong on the students'
mistakes made by hand. `tests/snapshots/README.md` says how each was made; a judge whose case
no hand-made mistake on a running lab can show is tested on captured output in test_grading.py,
and named in SHOWN_ELSEWHERE with the reason."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tests.snapshots import recordings
from vxlab.features.spec import Task, Verdict
from vxlab.live import snapshot as snapshots
from vxlab.live.checks import lab_checks
from vxlab.live.grading import CHAPTERS, grade_snapshot, grade_tasks
from vxlab.live.judging import NOT_OBSERVED, Graded, judge, traffic_tasks
from vxlab.live.snapshot import Snapshot

RECORDED = Path(__file__).parent / "snapshots"
ROUTER, BLUE, GREEN, HOST = "g39-redRouter", "g39-blueTenant", "g39-greenTenant", "host"
TRACKS = "each VRRP instance keepalived runs tracks a script"


@cache
def recorded(name: str) -> Snapshot:
    return snapshots.load(RECORDED / f"{name}.json")


def tasks_of(snapshot: Snapshot) -> list[Task]:
    """What `vxlab snapshot` observes: every grading step, vxlab's own checks, the traffic checks."""
    extras = [c for c in lab_checks(snapshot.lab) if c.section == "extra"]
    return grade_tasks(snapshot.lab, CHAPTERS) + extras + traffic_tasks(snapshot)


def step(snapshot: str, section: str, machine: str, name: str) -> tuple[Task, Graded]:
    s = recorded(snapshot)
    task = next(t for t in tasks_of(s) if (t.section, t.machine, t.name) == (section, machine, name))
    return task, judge(task, s)


def judge_name(task: Task) -> str:
    return task.grade.__qualname__.split(".")[0]


# (judge, snapshot, section, machine, step): one case per judge and verdict.
CASES: list[tuple[str, Verdict, str, str, str, str]] = [
    ("address_on_vlan", "done", "ci-full", "4.3", ROUTER, "198.19.39.200/24 on a VLAN 3928 sub-interface"),
    ("address_on_vlan", "not done", "ci-stage-router", "5.1", BLUE, "2001:db8:127:dc::2/64 on enp0s1"),
    ("address_on_vlan", "wrong", "ci-mistakes", "5.1", BLUE, "2001:db8:127:dc::2/64 on enp0s1"),
    ("addresses_in", "done", "ci-full", "5.6", "g39-blueDHCP", "SLAAC address in 2001:db8:127:7::/64"),
    ("addresses_in", "not done", "ci-mistakes", "5.6", "g39-blueC1", "SLAAC address in 2001:db8:127:7::/64"),
    ("addresses_in", "wrong", "ci-mistakes", "6.7", "g39-greenC1", "IPv4 from the DHCP range"),
    ("conntrack_marked", "done", "ci-full", "7.5", ROUTER, "IPv4 conntrack entries marked 221"),
    ("conntrack_marked", "not done", "ci-stage-router", "7.5", ROUTER, "IPv4 conntrack entries marked 221"),
    ("conntrack_marked", "wrong", "ci-mistakes", "7.5", ROUTER, "IPv4 conntrack entries marked 221"),
    ("container_on", "done", "ci-full", "5.5", BLUE, "g39-blueDHCP runs, its NIC on sw-vlan7"),
    ("container_on", "not done", "ci-stage-router", "5.5", BLUE, "g39-blueDHCP runs, its NIC on sw-vlan7"),
    ("container_on", "wrong", "ci-mistakes", "5.5", BLUE, "g39-blueC1 runs, its NIC on sw-vlan7"),
    ("downloaded", "done", "ci-full", "7.4", "g39-blueDHCP", "IPv4 TCP download of 1 MiB"),
    ("downloaded", "not done", "ci-mistakes", "7.4", "g39-blueC1", "IPv4 TCP download of 1 MiB"),
    ("downloaded", "wrong", "ci-mistakes", "7.4", "g39-blueDHCP", "IPv4 TCP download of 1 MiB"),
    ("equals", "done", "ci-full", "3.6", HOST, "g39-redRouter runs"),
    ("equals", "not done", "ci-vm-off", "3.6", HOST, "g39-blueTenant runs"),
    ("equals", "wrong", "ci-host-mistakes", "3.6", HOST, "g39-greenTenant runs"),
    ("failover_normal", "done", "ci-full", "6.7", "g39-blueDHCP", "g39-blueDHCP and its failover peer are both normal"),
    (
        "failover_normal",
        "not done",
        "ci-stage-router",
        "6.7",
        "g39-blueDHCP",
        "g39-blueDHCP and its failover peer are both normal",
    ),
    (
        "failover_normal",
        "wrong",
        "ci-mistakes",
        "6.7",
        "g39-blueDHCP",
        "g39-blueDHCP and its failover peer are both normal",
    ),
    ("fake_bridge", "done", "ci-full", "5.1", BLUE, "sw-vlan7 is a fake bridge of C-3PO-BLUE on VLAN 7"),
    ("fake_bridge", "not done", "ci-stage-router", "5.1", BLUE, "sw-vlan7 is a fake bridge of C-3PO-BLUE on VLAN 7"),
    ("fake_bridge", "wrong", "ci-tenant-mistakes", "5.1", BLUE, "sw-vlan7 is a fake bridge of C-3PO-BLUE on VLAN 7"),
    ("fdb_both_sides", "done", "ci-full", "7.1", BLUE, "bridge FDB learns both sides on the segment VLAN"),
    ("fdb_both_sides", "not done", "ci-stage-router", "7.1", BLUE, "bridge FDB learns both sides on the segment VLAN"),
    ("fdb_both_sides", "wrong", "ci-vxlan-split", "7.1", BLUE, "bridge FDB learns both sides on the segment VLAN"),
    ("follows", "done", "ci-full", "extra", BLUE, "clock follows redRouter"),
    ("follows", "not done", "ci-stage-router", "extra", BLUE, "clock follows redRouter"),
    ("follows", "wrong", "ci-tenant-mistakes", "extra", BLUE, "clock follows redRouter"),
    ("holds_addresses", "done", "ci-full", "3.4", HOST, "the host SVI vlan3928 holds its addresses on VLAN 3928"),
    (
        "holds_addresses",
        "not done",
        "ci-stage-router",
        "5.1",
        BLUE,
        "the SVI sw-vlan7 holds the tenant's segment addresses",
    ),
    (
        "holds_addresses",
        "wrong",
        "ci-host-mistakes",
        "3.4",
        HOST,
        "the host SVI vlan3928 holds its addresses on VLAN 3928",
    ),
    ("holds_none", "done", "ci-full", "6.8", BLUE, "g39-blueTenant holds no VIP (VRRP backup)"),
    ("holds_none", "wrong", "ci-tenant-mistakes", "6.8", BLUE, "g39-blueTenant holds no VIP (VRRP backup)"),
    ("lxd_answers", "done", "ci-full", "5.3", BLUE, "LXD is installed and answers"),
    ("lxd_answers", "not done", "ci-lxd-stopped", "5.3", BLUE, "LXD is installed and answers"),
    ("marks_connections", "done", "ci-full", "4.4", ROUTER, "IPv4 mangle rules mark each tenant's connections"),
    (
        "marks_connections",
        "not done",
        "ci-router-undone",
        "4.4",
        ROUTER,
        "IPv4 mangle rules mark each tenant's connections",
    ),
    ("marks_connections", "wrong", "ci-mistakes", "4.4", ROUTER, "IPv4 mangle rules mark each tenant's connections"),
    ("mtu_of", "done", "ci-full", "5.1", BLUE, "sw-vlan7 carries the segment's MTU (1450)"),
    ("mtu_of", "not done", "ci-stage-router", "5.1", BLUE, "sw-vlan7 carries the segment's MTU (1450)"),
    ("mtu_of", "wrong", "ci-tenant-mistakes", "5.1", BLUE, "sw-vlan7 carries the segment's MTU (1450)"),
    ("nat_out", "done", "ci-full", "4.4", ROUTER, "IPv4 NAT towards the upstream"),
    ("nat_out", "not done", "ci-router-undone", "4.4", ROUTER, "IPv4 NAT towards the upstream"),
    ("nat_out", "wrong", "ci-mistakes", "4.4", ROUTER, "IPv6 NAT towards the upstream"),
    ("pool_and_root", "done", "ci-full", "5.4", BLUE, "LXD has a storage pool and a default profile with a root disk"),
    (
        "pool_and_root",
        "not done",
        "ci-stage-router",
        "5.4",
        BLUE,
        "LXD has a storage pool and a default profile with a root disk",
    ),
    ("port_mode", "done", "ci-full", "3.4", HOST, "tap3930 in trunk mode on VLANs 3928,3940,3941"),
    ("port_mode", "not done", "ci-tap-unplugged", "3.4", HOST, "tap3940 in access mode on VLAN 3940"),
    ("port_mode", "wrong", "ci-host-mistakes", "3.4", HOST, "tap3940 in access mode on VLAN 3940"),
    ("replies", "done", "ci-full", "4.3", ROUTER, "g39-redRouter reaches g39-blueTenant on its link"),
    ("replies", "not done", "ci-mistakes", "7.4", "g39-blueC1", "reaches the IPv4 probe"),
    ("replies", "wrong", "ci-mistakes", "7.4", "g39-blueDHCP", "reaches the IPv4 probe"),
    ("route_via", "done", "ci-full", "3.5", HOST, "the host routes g39-blueTenant's link via g39-redRouter"),
    (
        "route_via",
        "not done",
        "ci-host-mistakes",
        "3.5",
        HOST,
        "the host routes g39-blueTenant's link via g39-redRouter",
    ),
    ("route_via", "wrong", "ci-mistakes", "7.3", "g39-blueC0", "IPv4 default route via the VIP"),
    ("rule_to_table", "done", "ci-full", "4.2", ROUTER, "IPv4 fwmark 220 selects table 220 (blue)"),
    ("rule_to_table", "not done", "ci-router-undone", "4.2", ROUTER, "IPv4 fwmark 220 selects table 220 (blue)"),
    ("rule_to_table", "wrong", "ci-mistakes", "4.2", ROUTER, "IPv4 fwmark 220 selects table 220 (blue)"),
    ("service_active", "done", "ci-full", "5.6", BLUE, "radvd runs"),
    ("service_active", "not done", "ci-mistakes", "6.7", "g39-greenDHCP", "the ISC DHCP server runs"),
    ("service_active", "wrong", "ci-mistakes", "5.6", BLUE, "radvd runs"),
    ("sysctls_on", "done", "ci-full", "3.5", HOST, "the host routes IPv4 and IPv6"),
    ("sysctls_on", "wrong", "ci-host-mistakes", "3.5", HOST, "the host routes IPv4 and IPv6"),
    ("sysctls_now_and_at_boot", "done", "ci-full", "4.1", ROUTER, "g39-redRouter routes IPv4 and IPv6"),
    ("sysctls_now_and_at_boot", "not done", "ci-router-undone", "4.1", ROUTER, "g39-redRouter routes IPv4 and IPv6"),
    ("sysctls_now_and_at_boot", "wrong", "ci-mistakes", "5.2", BLUE, "g39-blueTenant routes IPv4 and IPv6"),
    ("tracks_in", "done", "ci-full", "6.8", GREEN, TRACKS),
    ("tracks_in", "not done", "ci-untracked", "5.8", BLUE, TRACKS),
    ("tracks_in", "wrong", "ci-untracked", "6.8", GREEN, TRACKS),
    ("uploaded", "done", "ci-full", "7.4", "g39-blueDHCP", "IPv4 TCP upload of 1 MiB"),
    ("uploaded", "not done", "ci-mistakes", "7.4", "g39-blueC1", "IPv4 TCP upload of 1 MiB"),
    ("uploaded", "wrong", "ci-mistakes", "7.4", "g39-blueDHCP", "IPv4 TCP upload of 1 MiB"),
    ("vxlan_tunnel", "done", "ci-full", "5.1", BLUE, "a VXLAN port to g39-greenTenant with VNI 39007"),
    ("vxlan_tunnel", "not done", "ci-stage-router", "5.1", BLUE, "a VXLAN port to g39-greenTenant with VNI 39007"),
    ("vxlan_tunnel", "wrong", "ci-vxlan-split", "5.1", BLUE, "a VXLAN port to g39-greenTenant with VNI 39007"),
]

# (judge, verdict) no recording shows, and why; each is tested on captured output in test_grading.py.
SHOWN_ELSEWHERE: dict[tuple[str, Verdict], str] = {
    ("holds_none", "not done"): "a backup holds a VIP or it does not: there is no step left undone",
    ("lxd_answers", "wrong"): "LXD answers or it does not: there is no wrong LXD",
    ("pool_and_root", "wrong"): "LXD refuses to drop the root disk of a profile its containers use",
    ("sysctls_on", "not done"): "the group's namespace is vxlab's: host-switch.sh routes before any step",
}


@pytest.mark.parametrize(
    ("judged_by", "verdict", "snapshot", "section", "machine", "name"),
    CASES,
    ids=[f"{c[0]}-{c[1]}".replace(" ", "-") for c in CASES],
)
def test_a_judge_on_a_recorded_lab(
    judged_by: str, verdict: Verdict, snapshot: str, section: str, machine: str, name: str
) -> None:
    task, graded = step(snapshot, section, machine, name)
    assert judge_name(task) == judged_by
    assert graded.verdict == verdict, graded.observed


def _judges() -> list[str]:
    return sorted({judge_name(t) for t in tasks_of(recorded("ci-full"))})


@pytest.mark.parametrize("judged_by", _judges())
@pytest.mark.parametrize("verdict", ["done", "not done", "wrong"])
def test_every_judge_has_each_verdict_on_a_recorded_lab(judged_by: str, verdict: Verdict) -> None:
    shown = {(j, v) for j, v, *_ in CASES}
    assert (judged_by, verdict) in shown or (judged_by, verdict) in SHOWN_ELSEWHERE


@pytest.mark.parametrize(
    "snapshot",
    [
        "ci-full",
        "ci-stage-router",
        "ci-mistakes",
        "ci-host-mistakes",
        "ci-tenant-mistakes",
        "ci-vxlan-split",
        "ci-untracked",
        "ci-second-default",
        "ci-own-gateway",
        "ci-router-beside",
        "ci-not-persisted",
        "ci-router-undone",
        "ci-lxd-stopped",
    ],
)
def test_every_step_a_recording_was_taken_for_was_observed(snapshot: str) -> None:
    s = recorded(snapshot)
    missing = [g for g in grade_snapshot(s, s.chapters or CHAPTERS) if g.observed == NOT_OBSERVED]
    assert missing == []


@pytest.mark.parametrize(
    ("machine", "family"),
    [
        ("g39-blueC0", 4),
        ("g39-blueC0", 6),
        ("g39-blueC1", 6),
        ("g39-blueDHCP", 6),
        ("g39-greenC0", 6),
        ("g39-greenC1", 6),
        ("g39-greenDHCP", 6),
    ],
)
def test_a_second_default_route_beside_the_vip_is_wrong(machine: str, family: int) -> None:
    """The backup's radvd without `AdvRASrcAddress` (every container learns a second IPv6
    router) and a static IPv4 default left in blueC0: the VIP's route is still there, first."""
    _, graded = step("ci-second-default", "7.3", machine, f"IPv{family} default route via the VIP")
    assert (
        graded.verdict,
        graded.observed.startswith(f"default via {('10.39.7.222', 'fe80:7::de')[family == 6]} "),
    ) == (
        "wrong",
        True,
    )


# (snapshot, section, machine, step, what the hint must name): a mistake a student could type, made
# by hand on a real lab (README.md there says how), graded wrong at the step the students typed it
# in, not only where its effect shows later (§7) or nowhere, with a hint that leads to the fix.
PLAUSIBLE: list[tuple[str, str, str, str, str]] = [
    ("ci-second-default", "5.6", "g39-blueC0", "IPv6 default route via the VIP", "AdvRASrcAddress"),
    ("ci-second-default", "6.6", "g39-greenC1", "IPv6 default route via the VIP", "AdvRASrcAddress"),
    ("ci-second-default", "5.7", "g39-blueC0", "IPv4 default route via the VIP", "no static default route"),
    ("ci-own-gateway", "5.7", "g39-blueC0", "IPv4 default route via the VIP", "`option routers`"),
    ("ci-own-gateway", "6.7", "g39-greenC1", "IPv4 default route via the VIP", "`option routers`"),
    ("ci-router-beside", "4.2", ROUTER, "IPv4 fwmark 220 selects table 220 (blue)", "ip -4 rule del pref"),
    ("ci-router-beside", "4.4", ROUTER, "IPv4 NAT towards the upstream", "`-o enp0s1.3928` on every NAT rule"),
    ("ci-router-beside", "4.4", ROUTER, "IPv4 mangle rules mark each tenant's connections", "(`-i LINK`)"),
    ("ci-router-beside", "4.4", ROUTER, "IPv6 mangle rules mark each tenant's connections", "in this order"),
    ("ci-untracked", "6.8", GREEN, TRACKS, "add a track_script block"),
    ("ci-not-persisted", "4.1", ROUTER, "g39-redRouter routes IPv4 and IPv6", "`sysctl -w` alone is lost"),
    ("ci-not-persisted", "6.2", GREEN, "g39-greenTenant routes IPv4 and IPv6", "a file alone waits"),
]


@pytest.mark.parametrize(
    ("snapshot", "section", "machine", "name", "fix"),
    PLAUSIBLE,
    ids=[f"{c[0]}-{c[1]}-{c[2]}-{c[3]}".replace(" ", "-") for c in PLAUSIBLE],
)
def test_a_plausible_mistake_is_wrong_at_its_own_step(
    snapshot: str, section: str, machine: str, name: str, fix: str
) -> None:
    _, graded = step(snapshot, section, machine, name)
    assert (graded.verdict, fix in graded.hint) == ("wrong", True), graded


@pytest.mark.parametrize(
    ("machine", "section", "half"),
    [
        (ROUTER, "4.1", "net.ipv6.conf.all.forwarding off after the next boot"),
        (GREEN, "6.2", "net.ipv4.ip_forward set for the boot, not applied now"),
    ],
)
def test_routing_on_in_one_place_only_says_which_half_is_missing(machine: str, section: str, half: str) -> None:
    _, graded = step("ci-not-persisted", section, machine, f"{machine} routes IPv4 and IPv6")
    assert graded.observed.endswith(half)


ROUTES_WRONG = {("IPv4 default route via the VIP", "wrong")}


@pytest.mark.parametrize(
    ("chapter", "not_ok"), [("3", set()), ("4", set()), ("5", ROUTES_WRONG), ("6", ROUTES_WRONG), ("7", ROUTES_WRONG)]
)
def test_dhcp_servers_giving_their_own_tenant_as_router_read_wrong_only_in_the_routes(
    chapter: str, not_ok: set[tuple[str, str]]
) -> None:
    """Each server's `option routers` its own tenant's SVI: every transfer, probe and full-size
    ping gets through (the tenants route), yet no failover follows the clients."""
    s = recorded("ci-own-gateway")
    assert {(g.name, g.verdict) for g in grade_snapshot(s) if g.section.split(".")[0] == chapter and not g.ok} == (
        not_ok
    )


def test_nat_without_an_output_link_breaks_the_vxlan_it_masquerades() -> None:
    """`-j MASQUERADE` with no `-o` rewrites the tenants' VXLAN underlay too: the peers' tunnel ports
    drop frames from the router's address, and each tenant takes the VIPs (a split)."""
    s = recorded("ci-router-beside")
    split = [g for g in grade_snapshot(s) if g.name.endswith("holds no VIP (VRRP backup)")]
    assert {g.verdict for g in split} == {"wrong"}


# Made by hand on the hypervisor, as README.md says: recordings.py does not make them.
BY_HAND = {"ci-host-mistakes", "ci-vm-off", "ci-tap-unplugged"}


@pytest.mark.parametrize("name", sorted(p.stem for p in RECORDED.glob("*.json")))
def test_every_recording_says_how_it_was_made(name: str) -> None:
    readme = (RECORDED / "README.md").read_text()
    assert (f"| `{name}.json` |" in readme, name in recordings.BY_NAME or name in BY_HAND) == (True, True)


@pytest.mark.parametrize("name", list(recordings.BY_NAME))
def test_every_recording_the_runner_makes_is_here(name: str) -> None:
    assert (RECORDED / f"{name}.json").is_file()


@pytest.mark.parametrize("name", list(recordings.BY_NAME))
def test_a_recording_of_a_mistake_undoes_every_machine_it_touched(name: str) -> None:
    r = recordings.BY_NAME[name]
    assert {m for m, _ in r.make} == {m for m, _ in r.undo}


def test_the_finished_lab_is_graded_complete() -> None:
    assert all(g.ok for g in grade_snapshot(recorded("ci-full")))
