"""The derive phase: groups get disjoint plans, and group 0 is the seed's lab."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vxlab.base.errors import ConfigError
from vxlab.build.render import render_lab
from vxlab.model.lab import Lab, is_valid_ifname, mac_for_tap
from vxlab.model.naming import MAX_GROUP
from vxlab.model.topology import host_ports, lxd_endpoint, lxd_forwards
from vxlab.validate.collisions import check_collisions, claims
from vxlab.validate.load import build_lab, load_lab

groups = st.integers(min_value=0, max_value=MAX_GROUP)


@cache
def lab_of(group: int) -> Lab:
    return build_lab({"group": group})


@settings(max_examples=60, deadline=None)
@given(st.sets(groups, min_size=2, max_size=12))
def test_any_set_of_groups_shares_a_hypervisor_without_collision(chosen: set[int]) -> None:
    check_collisions({f"g{g}": lab_of(g) for g in chosen})


@settings(max_examples=40, deadline=None)
@given(groups, groups)
def test_two_groups_claim_nothing_in_common(a: int, b: int) -> None:
    if a == b:
        return
    mine = {(c.what, str(c.value)) for c in claims(lab_of(a))}
    theirs = {(c.what, str(c.value)) for c in claims(lab_of(b))}
    assert mine.isdisjoint(theirs)


@pytest.mark.parametrize("group", range(MAX_GROUP + 1))
def test_every_group_passes_the_lab_rules(group: int) -> None:
    assert lab_of(group).group == group


@pytest.mark.parametrize("group", range(MAX_GROUP + 1))
def test_every_group_keeps_interface_names_within_15_characters(group: int) -> None:
    lab = lab_of(group)
    names = [
        lab.upstream.svi,
        lab.hypervisor.bridge,
        lab.segment.svi,
        *(p.tap for p in host_ports(lab)),
        *(lab.router_subif(v) for v in (lab.upstream.vlan, *(t.link_vlan for t in lab.tenants.values()))),
        *(n for t in lab.tenants.values() for n in (t.ovs_bridge, t.vxlan_port)),
    ]
    assert all(is_valid_ifname(n) for n in names), names


def test_same_group_twice_is_rejected_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        check_collisions({"a": lab_of(3), "b": lab_of(3)})
    assert caught.value.key == "vxlab:upstream.vlan"
    assert caught.value.stack == "b"


def test_groups_on_different_hypervisors_may_repeat_values() -> None:
    remote = build_lab(
        {"group": 3, "hypervisor": {"libvirt_uri": "qemu+ssh://root@hv2.example/system", "ssh_host": "hv2.example"}}
    )
    check_collisions({"a": lab_of(3), "b": remote})


def test_overlapping_routed_subnet_across_stacks_is_rejected() -> None:
    other = build_lab({"group": 4, "tenants": {"blue": {"router_ipv4": "172.20.3.1/24"}}})
    with pytest.raises(ConfigError) as caught:
        check_collisions({"a": lab_of(3), "b": other})
    assert caught.value.key == "vxlab:tenants.blue.router_ipv4"


@pytest.mark.parametrize(
    ("field", "seed_value"),
    [
        ("upstream.vlan", 28),
        ("router.tap", 20),
        ("tenants.blue.tap", 220),
        ("tenants.green.tap", 221),
        ("segment.vlan", 7),
        ("vrrp.vrid4", 74),
        ("vrrp.vrid6", 76),
        ("tenants.green.vrrp_priority", 221),
        ("tenants.blue.vrrp_priority", 220),
        ("dhcp.failover.primary_port", 519),
    ],
)
def test_group_zero_keeps_the_seed_numbers(field: str, seed_value: int) -> None:
    node: object = lab_of(0)
    for part in field.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    assert node == seed_value


@pytest.mark.parametrize(
    ("tap", "mac"),
    [(20, "ba:ad:ca:fe:00:14"), (220, "ba:ad:ca:fe:00:dc"), (221, "ba:ad:ca:fe:00:dd"), (4041, "ba:ad:ca:fe:0f:c9")],
)
def test_mac_is_prefix_then_tap_number_on_two_bytes(tap: int, mac: str) -> None:
    assert mac_for_tap("ba:ad:ca:fe", tap) == mac


def test_group_stack_machine_names_carry_the_group() -> None:
    assert {m.name for m in render_lab(lab_of(7))} == {
        "host",
        "g07-redRouter",
        "g07-blueTenant",
        "g07-greenTenant",
        "g07-blueDHCP",
        "g07-greenDHCP",
        "g07-blueC0",
        "g07-blueC1",
        "g07-greenC0",
        "g07-greenC1",
    }


def test_the_higher_priority_tenant_is_master(dev_lab: Lab) -> None:
    assert dev_lab.master().name == "greenTenant"


def ci_like(group: int, base: int) -> Lab:
    return build_lab(
        {"group": group, "hypervisor": {"svi_netns": f"ns{group}", "uplink": None, "ssh_forward_base": base}}
    )


def test_lxd_relays_follow_the_ssh_relays() -> None:
    lab = ci_like(39, 23900)
    assert [(f.name, f.port, f.address, f.target_port) for f in lxd_forwards(lab)] == [
        ("g39-blueTenant-lxd", 23903, "172.20.39.2", 8443),
        ("g39-greenTenant-lxd", 23904, "172.21.39.2", 8443),
    ]


@pytest.mark.parametrize(("base", "clashes"), [(23904, True), (23905, False)])
def test_a_stack_whose_relays_overlap_anothers_lxd_relays_is_rejected(base: int, clashes: bool) -> None:
    labs = {"a": ci_like(38, 23900), "b": ci_like(39, base)}
    if clashes:
        with pytest.raises(ConfigError) as caught:
            check_collisions(labs)
        assert caught.value.key == "vxlab:hypervisor.ssh_forward_base"
    else:
        check_collisions(labs)


@pytest.mark.parametrize(
    ("stack", "endpoint"), [("dev", "https://172.16.220.2:8443"), ("ci", "https://127.0.0.1:23903")]
)
def test_the_engine_reaches_blues_lxd_api(project: Path, stack: str, endpoint: str) -> None:
    lab = load_lab(project, stack)
    assert lxd_endpoint(lab, lab.tenants["blue"]) == endpoint
