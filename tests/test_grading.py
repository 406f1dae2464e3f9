"""`vxlab grade`: each step of the seed judged by state and behaviour, done / not done / wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vxlab.features import graders
from vxlab.features.host_switch import port_mode
from vxlab.features.lxd import container_on, lxd_answers, pool_and_root
from vxlab.features.router import marks_connections, nat_out, rule_to_table
from vxlab.features.spec import Task, Verdict
from vxlab.live.grading import CHAPTERS, by_chapter, complete, lab_tasks
from vxlab.live.judging import Graded, hint_for, judge
from vxlab.live.remote import Result
from vxlab.live.snapshot import Snapshot
from vxlab.model.lab import Lab
from vxlab.model.stages import SECTION_TITLES, chapter
from vxlab.model.topology import HostPort
from vxlab.validate.load import build_lab


@pytest.fixture(scope="module")
def lab() -> Lab:
    return build_lab({"group": 0})


# -- the graders, on what the programs print --------------------------------------------------


ON_NOW = "net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n"
OFF_NOW = "net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n"
# `systemd-analyze cat-config sysctl.d` on a Debian 12 VM of the lab, its files in boot order.
BOOT_FILES = (
    "# /etc/sysctl.d/10-lxd-inotify.conf\nfs.inotify.max_user_instances = 1024\n\n"
    "# /usr/lib/sysctl.d/50-pid-max.conf\n#  This file is part of systemd.\nkernel.pid_max = 4194304\n\n"
    "# /etc/sysctl.d/99-sysctl.conf\n#net.ipv4.ip_forward=1\n"
)
ROUTED_AT_BOOT = BOOT_FILES + "net.ipv4.ip_forward=1\nnet.ipv6.conf.all.forwarding=1\n"


def now_and_at_boot(now: str, files: str) -> str:
    return f"{now}{graders.AT_BOOT}\n{files}"


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (now_and_at_boot(ON_NOW, ROUTED_AT_BOOT), "done"),
        (now_and_at_boot(OFF_NOW, BOOT_FILES), "not done"),
        (now_and_at_boot(ON_NOW, BOOT_FILES), "wrong"),
        (now_and_at_boot(OFF_NOW, ROUTED_AT_BOOT), "wrong"),
        (now_and_at_boot(ON_NOW, ROUTED_AT_BOOT + "# /etc/sysctl.d/99-z.conf\nnet.ipv4.ip_forward = 0\n"), "wrong"),
        (now_and_at_boot(ON_NOW, BOOT_FILES + "-net/ipv4/ip_forward = 1\nnet/ipv6/conf/all/forwarding=1\n"), "done"),
        (now_and_at_boot(ON_NOW, BOOT_FILES + "; net.ipv4.ip_forward=1\n# net.ipv6.conf.all.forwarding=1\n"), "wrong"),
        (
            now_and_at_boot(ON_NOW.replace("forwarding = 1", "forwarding = 0"), BOOT_FILES + "net.ipv4.ip_forward=1\n"),
            "wrong",
        ),
    ],
    ids=[
        "on-now-and-at-boot",
        "neither",
        "sysctl-w-only",
        "file-not-applied",
        "a-later-file-turns-it-off",
        "slash-names-and-ignored-failures",
        "commented-out",
        "ipv6-off-now-and-at-boot",
    ],
)
def test_routing_now_and_after_a_reboot(out: str, verdict: Verdict) -> None:
    assert graders.sysctls_now_and_at_boot("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding")(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n", "done"),
        ("net.ipv4.ip_forward = 0\nnet.ipv6.conf.all.forwarding = 0\n", "not done"),
        ("net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 0\n", "wrong"),
    ],
)
def test_routing_sysctls(out: str, verdict: Verdict) -> None:
    assert graders.sysctls_on("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding")(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("2: sw-vlan7    inet 10.0.7.220/24 brd 10.0.7.255 scope global sw-vlan7", "done"),
        ("2: sw-vlan7    inet 10.0.7.220/16 scope global sw-vlan7", "wrong"),
        ("2: sw-vlan7    inet 10.0.7.9/24 scope global sw-vlan7", "not done"),
        ('Device "sw-vlan7" does not exist.', "not done"),
    ],
)
def test_an_address_with_its_prefix_length(out: str, verdict: Verdict) -> None:
    assert graders.holds_addresses("10.0.7.220/24")(out)[0] == verdict


def _link(name: str, address: str, prefix: int, vlan: int | None) -> dict[str, object]:
    info = {"linkinfo": {"info_kind": "vlan", "info_data": {"id": vlan}}} if vlan is not None else {}
    return {"ifname": name, "addr_info": [{"local": address, "prefixlen": prefix}], **info}


@pytest.mark.parametrize(
    ("links", "verdict"),
    [
        ([_link("enp0s1.220", "172.20.0.1", 24, 220)], "done"),
        ([_link("uplink220", "172.20.0.1", 24, 220)], "done"),  # a student's own name
        ([_link("enp0s1.221", "172.20.0.1", 24, 221)], "wrong"),
        ([_link("enp0s1", "172.20.0.1", 24, None)], "wrong"),
        ([_link("enp0s1.220", "172.20.0.1", 16, 220)], "wrong"),
        ([], "not done"),
    ],
)
def test_an_address_on_its_vlan_sub_interface_whatever_its_name(links: list[object], verdict: Verdict) -> None:
    assert graders.address_on_vlan("172.20.0.1/24", 220)(json.dumps(links))[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"), [("active\n", "done"), ("inactive\n", "not done"), ("failed\n", "wrong"), ("", "not done")]
)
def test_a_service(out: str, verdict: Verdict) -> None:
    assert graders.service_active(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("2 packets transmitted, 2 received, 0% packet loss", "done"),
        ("2 packets transmitted, 0 received, 100% packet loss", "wrong"),
        ("ping: connect: Network is unreachable", "not done"),
    ],
)
def test_a_ping(out: str, verdict: Verdict) -> None:
    assert graders.replies(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("vxlanBlueGreen,key=7 remote_ip=172.21.0.2\n", "done"),
        ('tun0,"key=7 remote_ip=172.21.0.2"\n', "done"),
        ("vxlanBlueGreen,key=8 remote_ip=172.21.0.2\n", "wrong"),
        ("vxlanBlueGreen,key=7 remote_ip=172.21.0.3\n", "wrong"),
        ("", "not done"),
    ],
)
def test_a_vxlan_port_by_its_remote_and_vni(out: str, verdict: Verdict) -> None:
    assert graders.vxlan_tunnel("172.21.0.2", 7)(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("C-3PO-BLUE\n7\n", "done"),
        ("C-3PO-BLUE\n8\n", "wrong"),
        ("sw-vlan7\n0\n", "wrong"),  # a bridge of its own
        ("ovs-vsctl: no bridge named sw-vlan7\novs-vsctl: no bridge named sw-vlan7\n", "not done"),
    ],
)
def test_a_fake_bridge_of_the_tenants_bridge_on_the_segment_vlan(out: str, verdict: Verdict) -> None:
    assert graders.fake_bridge("C-3PO-BLUE", 7)(out)[0] == verdict


def lxd_state(instances: list[dict[str, object]] | None = None, **parts: object) -> str:
    state: dict[str, object] = {
        "server": {"environment": {"server_version": "5.0.2"}},
        "pools": [{"name": "default", "driver": "btrfs"}],
        "profile": {"devices": {"root": {"type": "disk", "path": "/", "pool": "default"}}},
        "instances": instances or [],
    }
    return json.dumps({**state, **parts})


def instance(status: str, nic: dict[str, str]) -> dict[str, object]:
    return {"name": "blueC0", "status": status, "expanded_devices": {"eth0": {"type": "nic", **nic}}}


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (lxd_state([instance("Running", {"parent": "sw-vlan7"})]), "done"),
        (lxd_state([instance("Stopped", {"parent": "sw-vlan7"})]), "wrong"),
        (lxd_state([instance("Running", {"network": "lxdbr0"})]), "wrong"),
        (lxd_state([]), "not done"),
        (json.dumps({"error": "no LXD socket"}), "not done"),
    ],
    ids=["running-on-the-svi", "stopped", "on-another-bridge", "not-there", "no-lxd"],
)
def test_a_container_runs_on_the_segment(out: str, verdict: Verdict) -> None:
    assert container_on("blueC0", "sw-vlan7")(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (lxd_state(), "done"),
        (json.dumps({"error": "no LXD socket: LXD is not installed, or not running"}), "not done"),
        ("python3: not found", "not done"),
    ],
    ids=["answers", "no-socket", "no-python"],
)
def test_lxd_answers(out: str, verdict: Verdict) -> None:
    assert lxd_answers(out)[0] == verdict


def test_a_socket_nobody_listens_on_is_said_in_one_line() -> None:
    refused = "Traceback (most recent call last):\n  File ...\nConnectionRefusedError: [Errno 111] Connection refused\n"
    assert lxd_answers(refused) == (
        "not done",
        "LXD does not answer: ConnectionRefusedError: [Errno 111] Connection refused",
    )


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("inet 10.0.7.11/24 brd 10.0.7.255", "done"),
        ("inet 10.0.7.200/24 brd 10.0.7.255", "wrong"),
        ("", "not done"),
    ],
)
def test_an_address_from_the_dhcp_range(out: str, verdict: Verdict) -> None:
    assert graders.addresses_in("10.0.7.0/24", "10.0.7.10", "10.0.7.90")(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("  my state normal at 1 2026/11/30 10:00:00;\n  partner state normal at 1 2026/11/30 10:00:00;", "done"),
        ("  my state communications-interrupted at 1;\n  partner state normal at 1;", "wrong"),
        ("", "not done"),
    ],
)
def test_the_dhcp_failover_pair(out: str, verdict: Verdict) -> None:
    assert graders.failover_normal(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [("inet 10.0.7.220/24", "done"), ("inet 10.0.7.220/24\ninet 10.0.7.222/24", "wrong")],
)
def test_a_vrrp_backup_holds_no_vip(out: str, verdict: Verdict) -> None:
    assert graders.holds_none("10.0.7.222/24")(out)[0] == verdict


@pytest.mark.parametrize(
    ("port", "out", "verdict"),
    [
        (HostPort("blue", "tap2", "", "access", (220,), 1500), "220\n[]\n", "done"),
        (HostPort("blue", "tap2", "", "access", (220,), 1500), "221\n[]\n", "wrong"),
        (HostPort("red", "tap1", "", "trunk", (28, 220, 221), 1500), "[]\n[28, 220, 221]\n", "done"),
        (HostPort("red", "tap1", "", "trunk", (28, 220, 221), 1500), "[]\n[28, 220]\n", "wrong"),
        (HostPort("red", "tap1", "", "trunk", (28,), 1500), 'ovs-vsctl: no row "tap1" in table Port\n', "not done"),
    ],
)
def test_a_host_switch_port(port: HostPort, out: str, verdict: Verdict) -> None:
    assert port_mode(port)(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("32765:\tfrom all fwmark 0xdc lookup 10", "done"),
        ("32765:\tfrom all fwmark 0xdc lookup 11", "wrong"),
        ("100:\tfrom all fwmark 0xdc lookup 11\n32765:\tfrom all fwmark 0xdc lookup 10", "wrong"),
        ("32765:\tfrom all fwmark 0xdc lookup 10\n32766:\tfrom all fwmark 0xdc lookup 11", "done"),
        ("0:\tfrom all lookup 255", "not done"),
    ],
)
def test_a_fwmark_rule_by_table_number(out: str, verdict: Verdict) -> None:
    assert rule_to_table(220, 10)(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("-P POSTROUTING ACCEPT\n-A POSTROUTING -o enp0s1.28 -j MASQUERADE", "done"),
        ("-A POSTROUTING -s 10.0.7.0/24 -o enp0s1.28 -j SNAT --to-source 192.0.2.2", "done"),
        ("-A POSTROUTING -o enp0s1.220 -j MASQUERADE", "wrong"),
        ("-A POSTROUTING -j MASQUERADE", "wrong"),
        ("-A POSTROUTING -o enp0s1.28 -j MASQUERADE\n-A POSTROUTING -j MASQUERADE", "wrong"),
        ("-A POSTROUTING ! -o enp0s1.28 -j MASQUERADE", "wrong"),
        ("-A POSTROUTING -o enp0s1.280 -j MASQUERADE", "wrong"),
        ("-P POSTROUTING ACCEPT", "not done"),
    ],
)
def test_nat_towards_the_upstream(out: str, verdict: Verdict) -> None:
    assert nat_out("enp0s1.28")(out)[0] == verdict


MANGLE = (
    "-A PREROUTING -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff\n"
    "-A PREROUTING -s 10.0.7.0/24 -i enp0s1.220 -j MARK --set-xmark 0xdc/0xffffffff\n"
    "-A PREROUTING -s 10.0.7.0/24 -i enp0s1.221 -j MARK --set-xmark 0xdd/0xffffffff\n"
    "-A PREROUTING -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff\n"
)


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (MANGLE, "done"),
        (MANGLE.replace("0xdd", "0xde"), "wrong"),
        (MANGLE.replace("--save-mark", "--set-mark 1"), "wrong"),
        (MANGLE.replace("0xdc", "0xXX").replace("0xdd", "0xdc").replace("0xXX", "0xdd"), "wrong"),
        (MANGLE.replace("-i enp0s1.220 ", "").replace("-i enp0s1.221 ", ""), "wrong"),
        (MANGLE.replace("-A PREROUTING -s", "-A FORWARD -s"), "wrong"),
        ("\n".join([MANGLE.splitlines()[i] for i in (0, 3, 1, 2)]), "wrong"),
        ("\n".join([MANGLE.splitlines()[i] for i in (1, 2, 0, 3)]), "wrong"),
        ("\n".join([MANGLE.splitlines()[i] for i in (0, 2, 1, 3)]), "done"),
        ("-P PREROUTING ACCEPT", "not done"),
    ],
    ids=[
        "seed-order",
        "a-mark-of-no-tenant",
        "no-save",
        "marks-swapped",
        "no-input-link",
        "marked-in-forward",
        "save-before-the-marks",
        "restore-after-the-marks",
        "tenants-in-another-order",
        "no-mark",
    ],
)
def test_mangle_rules_mark_each_tenant(out: str, verdict: Verdict) -> None:
    assert marks_connections({"enp0s1.220": 220, "enp0s1.221": 221})(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (lxd_state(), "done"),
        (lxd_state(profile={"devices": {}}), "wrong"),
        (lxd_state(profile={"devices": {"root": {"type": "disk", "path": "/", "pool": "other"}}}), "wrong"),
        (lxd_state(pools=[]), "not done"),
        ("", "not done"),
    ],
    ids=["pool-and-root", "no-root-disk", "root-on-a-missing-pool", "no-pool", "no-answer"],
)
def test_lxd_initialised(out: str, verdict: Verdict) -> None:
    assert pool_and_root(out)[0] == verdict


# -- the tasks of a lab ------------------------------------------------------------------------


@pytest.mark.parametrize("ch", ["3", "4", "5", "6"])
def test_every_chapter_students_build_is_graded(lab: Lab, ch: str) -> None:
    assert lab_tasks(lab, [ch])


@pytest.mark.parametrize("sub", sorted(k for k in SECTION_TITLES if k.count(".") and chapter(k) in "56"))
def test_every_step_of_the_tenants_chapters_is_graded(lab: Lab, sub: str) -> None:
    assert [t for t in lab_tasks(lab) if t.section == sub]


def test_tasks_come_in_the_seed_order(lab: Lab) -> None:
    sections = [tuple(int(p) for p in t.section.split(".")) for t in lab_tasks(lab)]
    assert sections == sorted(sections)


def test_every_task_is_a_section_of_the_seed_with_its_title(lab: Lab) -> None:
    assert [t.section for t in lab_tasks(lab) if t.section not in SECTION_TITLES] == []


def test_a_hint_names_the_section_and_its_title() -> None:
    assert hint_for("5.8") == (
        "see §5.8 of the manual (Configure keepalived for IPv4 and IPv6 gateway resiliency between Blue and Green "
        "tenants)"
    )


def test_grading_never_reads_a_file_vxlab_writes(lab: Lab) -> None:
    """Students write their own files: a task judges state, never the text of vxlab's file."""
    from vxlab.build.render import render_lab

    paths = {f.path for m in render_lab(lab) for f in m.files}
    assert [t.name for t in lab_tasks(lab) if any(p in t.command for p in paths)] == []


# -- a task run ----------------------------------------------------------------------------------

TASK = Task("5.2", "routing", "blueTenant", "sysctl x", graders.service_active)
CT_TASK = Task("5.7", "dhcpd", "blueDHCP", "systemctl is-active isc-dhcp-server", graders.service_active, "container")


@pytest.mark.parametrize(
    ("task", "result", "verdict"),
    [
        (TASK, Result(0, "active\n", ""), "done"),
        (TASK, Result(255, "", "ssh: connect to host 127.0.0.1 port 23901: Connection refused"), "not done"),
        (CT_TASK, Result(1, "", "Error: Instance not found"), "not done"),
        (TASK, Result(3, "failed\n", ""), "wrong"),
    ],
    ids=["done", "vm-unreachable", "no-container", "wrong"],
)
def test_a_task_graded_on_its_result(lab: Lab, task: Task, result: Result, verdict: Verdict) -> None:
    snapshot = Snapshot(lab, "dev", "now")
    snapshot.add(task.machine, task.command, result)
    assert judge(task, snapshot).verdict == verdict


def test_a_task_the_snapshot_did_not_observe_is_not_done(lab: Lab) -> None:
    graded = judge(TASK, Snapshot(lab, "dev", "now"))
    assert (graded.verdict, graded.observed) == ("not done", "not observed in the snapshot")


def _g(section: str, verdict: Verdict) -> Graded:
    return Graded(section, "x", "m", verdict, "", "", "")


def test_a_chapter_is_complete_when_every_step_is_done() -> None:
    grades = by_chapter([_g("5.1", "done"), _g("5.2", "done"), _g("6.1", "done"), _g("6.2", "wrong")])
    assert [(g.section, g.state, g.done, g.total) for g in grades] == [
        ("5", "complete", 2, 2),
        ("6", "incomplete", 1, 2),
    ]


def test_a_chapter_nothing_of_which_is_done_is_not_started() -> None:
    assert by_chapter([_g("6.1", "not done"), _g("6.2", "not done")])[0].state == "not started"


@pytest.mark.parametrize(
    ("verdicts", "whole"), [(["done", "done"], True), (["done", "wrong"], False), (["not done"], False), ([], False)]
)
def test_a_grade_is_complete_when_every_step_is_done(verdicts: list[Verdict], whole: bool) -> None:
    assert complete([_g("5.1", v) for v in verdicts]) is whole


def test_chapters_graded_are_the_seeds_three_to_seven() -> None:
    assert CHAPTERS == ("3", "4", "5", "6", "7")


def test_grade_junit_names_the_verdict_and_the_hint(tmp_path: Path) -> None:
    from vxlab.cli.grade import write_junit

    write_junit(tmp_path / "g.xml", "ci", [Graded("6.2", "routing", "g", "wrong", "0", "1", "see §6.2")], 1.0)
    text = (tmp_path / "g.xml").read_text()
    assert 'type="wrong"' in text and "hint: see §6.2" in text


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        ("1450\n", "done"),
        ("1500\n", "wrong"),
        ("cat: /sys/class/net/sw-vlan7/mtu: No such file or directory", "not done"),
    ],
)
def test_the_segment_mtu(out: str, verdict: Verdict) -> None:
    absent = ("cat: /sys/class/net/sw-vlan7/mtu: No such file or directory",)
    assert graders.equals("1450", absent=absent)(out)[0] == verdict


def _ip_j(link: str, mtu: int, *addresses: str) -> str:
    info = [
        {"family": "inet6" if ":" in a else "inet", "local": a.split("/")[0], "prefixlen": int(a.split("/")[1])}
        for a in addresses
    ]
    return json.dumps(
        [{"ifname": "lo", "mtu": 65536, "addr_info": []}, {"ifname": link, "mtu": mtu, "addr_info": info}]
    )


@pytest.mark.parametrize(
    ("out", "verdict"),
    [
        (_ip_j("sw-vlan7", 1450, "10.0.7.220/24", "fe80:7::dc/64"), "done"),
        (_ip_j("sw-vlan7", 1450, "10.0.7.220/16", "fe80:7::dc/64"), "wrong"),
        (_ip_j("sw-vlan7", 1450), "not done"),
        (_ip_j("other", 1450, "10.0.7.220/24", "fe80:7::dc/64"), "not done"),
    ],
    ids=["both-on-the-link", "a-prefix-wrong", "none", "on-another-link"],
)
def test_addresses_on_one_link_of_the_json_read(out: str, verdict: Verdict) -> None:
    assert graders.on_link("sw-vlan7", graders.holds_addresses("10.0.7.220/24", "fe80:7::dc/64"))(out)[0] == verdict


@pytest.mark.parametrize(
    ("out", "verdict"),
    [(_ip_j("sw-vlan7", 1450), "done"), (_ip_j("sw-vlan7", 1500), "wrong"), (_ip_j("other", 1450), "not done")],
    ids=["segment-mtu", "default-mtu", "no-svi"],
)
def test_the_svi_mtu_from_the_json_read(out: str, verdict: Verdict) -> None:
    assert graders.mtu_of("sw-vlan7", 1450)(out)[0] == verdict
