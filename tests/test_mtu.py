"""The MTU chain: what VXLAN adds, what the overlay may announce, what every underlay hop carries."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from tests.test_bad_input import merge, nest
from vxlab.build.render import render_lab
from vxlab.model.mtu import (
    full_size_payload,
    max_overlay_mtu,
    router_nic_mtu,
    tap_mtu,
    vxlan_overhead,
)
from vxlab.model.topology import host_ports
from vxlab.validate.load import build_lab


def jumbo() -> dict[str, Any]:
    return merge(nest(("segment", "underlay_mtu"), 9000), nest(("segment", "mtu"), 8950))


@pytest.mark.parametrize(
    ("version", "tagged", "overhead"),
    [(4, False, 50), (4, True, 54), (6, False, 70), (6, True, 74)],
)
def test_vxlan_overhead_counts_outer_ip_udp_vxlan_and_inner_ethernet(version: int, tagged: bool, overhead: int) -> None:
    assert vxlan_overhead(version, tagged) == overhead


def test_the_lab_carries_the_segment_untagged_over_the_vxlan() -> None:
    assert vxlan_overhead(4) == 50


@pytest.mark.parametrize(("underlay", "overlay"), [(1500, 1450), (9000, 8950), (1400, 1350)])
def test_largest_overlay_mtu_fits_the_underlay(underlay: int, overlay: int) -> None:
    lab = build_lab(merge(nest(("segment", "underlay_mtu"), underlay), nest(("segment", "mtu"), overlay)))
    assert max_overlay_mtu(lab) == overlay


@pytest.mark.parametrize(("mtu", "family", "payload"), [(1450, 4, 1422), (1450, 6, 1402), (8950, 4, 8922)])
def test_full_size_ping_payload_makes_a_packet_of_exactly_the_mtu(mtu: int, family: int, payload: int) -> None:
    assert full_size_payload(mtu, family) == payload


@pytest.mark.parametrize(("underlay", "router"), [(1500, 1500), (9000, 9000), (1400, 1500)])
def test_router_nic_carries_the_underlay_and_the_upstream(underlay: int, router: int) -> None:
    lab = build_lab(merge(nest(("segment", "underlay_mtu"), underlay), nest(("segment", "mtu"), underlay - 50)))
    assert router_nic_mtu(lab) == router


def test_every_host_tap_carries_its_vm_nic_mtu() -> None:
    lab = build_lab(jumbo())
    assert {p.vm: p.mtu for p in host_ports(lab)} == {
        lab.router.name: 9000,
        lab.tenants["blue"].name: 9000,
        lab.tenants["green"].name: 9000,
    }
    assert tap_mtu(lab, lab.router.name) == 9000


def _file(config: dict[str, Any], machine: str, path: str) -> str:
    machines = {m.name: m for m in render_lab(build_lab(config))}
    return machines[machine].file(path).content


@pytest.mark.parametrize("color", ["blue", "green"])
def test_vxlan_port_is_an_access_port_of_the_segment_vlan(color: Literal["blue", "green"]) -> None:
    lab = build_lab({})
    text = _file({}, lab.tenants[color].name, "/etc/network/interfaces")
    port = text.split(f"iface {lab.tenants[color].vxlan_port} inet manual", 1)[1]
    assert f"ovs_options tag={lab.segment.vlan} vlan_mode=access" in port


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("iface enp0s1 inet manual", "mtu 9000"),
        ("iface enp0s1.28 inet static", "mtu 1500"),
        ("iface enp0s1.220 inet static", "mtu 9000"),
        ("iface enp0s1.221 inet static", "mtu 9000"),
    ],
)
def test_jumbo_underlay_reaches_every_router_link_but_the_upstream(line: str, expected: str) -> None:
    text = _file(jumbo(), "redRouter", "/etc/network/interfaces")
    stanza = text.split(line, 1)[1].split("\niface ", 1)[0].split("\nauto ", 1)[0]
    assert f"    {expected}\n" in stanza


@pytest.mark.parametrize("tap", ["tap20", "tap220", "tap221"])
def test_jumbo_underlay_reaches_the_host_taps(tap: str) -> None:
    text = _file(jumbo(), "host", "/usr/local/lib/vxlab/vxlab-seed/host-switch.sh")
    assert f"-- set Interface {tap} mtu_request=9000" in text


@pytest.mark.parametrize(
    ("path", "announcement"),
    [
        ("/etc/radvd.conf", "AdvLinkMTU 8950;"),
        ("/etc/network/interfaces", "ovs_mtu 8950"),
    ],
)
def test_tenants_announce_the_overlay_mtu(path: str, announcement: str) -> None:
    assert announcement in _file(jumbo(), "blueTenant", path)


def test_dhcp_hands_out_the_overlay_mtu() -> None:
    assert "option interface-mtu 8950;" in _file(jumbo(), "blueDHCP", "/etc/dhcp/dhcpd.conf")
