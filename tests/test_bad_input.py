"""Bad input: one ConfigError naming the exact config key, before anything is rendered."""

from __future__ import annotations

from typing import Any

import pytest

from vxlab.errors import ConfigError
from vxlab.load import build_lab

BLUE = ("tenants", "blue")
GREEN = ("tenants", "green")


def nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """`("a", "b"), 1` -> `{"a": {"b": 1}}`: a stack config stating one key."""
    for part in reversed(path):
        value = {part: value}
    return value  # type: ignore[no-any-return]


def merge(*configs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for config in configs:
        for key, value in config.items():
            out[key] = merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


CASES = [
    # (case id, stack config, the key the message must name)
    ("vni-not-a-number", nest(("segment", "vni"), "WhereIsMyTCAM"), "vxlab:segment.vni"),
    ("vni-zero", nest(("segment", "vni"), 0), "vxlab:segment.vni"),
    ("vni-too-big", nest(("segment", "vni"), 16777216), "vxlab:segment.vni"),
    ("vlan-zero", nest(("upstream", "vlan"), 0), "vxlab:upstream.vlan"),
    ("vlan-4095", nest((*BLUE, "link_vlan"), 4095), "vxlab:tenants.blue.link_vlan"),
    ("bridge-name-too-long", nest((*GREEN, "ovs_bridge"), "C-3PO-GREEN-BRIDGE"), "vxlab:tenants.green.ovs_bridge"),
    ("svi-name-bad-character", nest(("segment", "svi"), "sw vlan7"), "vxlab:segment.svi"),
    ("router-subinterface-too-long", nest(("router", "nic"), "enp0s1abcdefg"), "vxlab:router.nic"),
    ("tenant-address-outside-link", nest((*BLUE, "tenant_ipv4"), "172.16.99.2/24"), "vxlab:tenants.blue.tenant_ipv4"),
    ("svi-address-outside-segment", nest((*GREEN, "svi_ipv6"), "2001:db8:8::dd/64"), "vxlab:tenants.green.svi_ipv6"),
    ("router-upstream-outside", nest(("router", "upstream_ipv4"), "198.18.29.200/24"), "vxlab:router.upstream_ipv4"),
    ("gateway-outside-upstream", nest(("upstream", "gateway4"), "198.18.27.1"), "vxlab:upstream.gateway4"),
    ("vip-in-dhcp-range", nest(("vrrp", "vip4"), "192.0.2.50/24"), "vxlab:vrrp.vip4"),
    ("svi-in-dhcp-range", nest((*BLUE, "svi_ipv4"), "192.0.2.20/24"), "vxlab:tenants.blue.svi_ipv4"),
    (
        "dhcp-server-in-range",
        nest((*GREEN, "dhcp_server", "ipv4"), "192.0.2.80/24"),
        "vxlab:tenants.green.dhcp_server.ipv4",
    ),
    ("dhcp-range-outside-subnet", nest(("dhcp", "range_end"), "192.0.3.90"), "vxlab:dhcp.range_end"),
    ("dhcp-range-reversed", nest(("dhcp", "range_start"), "192.0.2.95"), "vxlab:dhcp.range_end"),
    ("vrrp-priorities-equal", nest((*GREEN, "vrrp_priority"), 220), "vxlab:tenants.green.vrrp_priority"),
    ("vrrp-priority-255", nest((*BLUE, "vrrp_priority"), 255), "vxlab:tenants.blue.vrrp_priority"),
    ("vrrp-priority-zero", nest((*BLUE, "vrrp_priority"), 0), "vxlab:tenants.blue.vrrp_priority"),
    ("vrids-shared", nest(("vrrp", "vrid6"), 74), "vxlab:vrrp.vrid6"),
    ("vip6-not-link-local", nest(("vrrp", "vip6"), "2001:db8:7::de/64"), "vxlab:vrrp.vip6"),
    ("radvd-source-not-vip", nest(("radvd", "ra_source"), "fe80:7::dc"), "vxlab:radvd.ra_source"),
    ("radvd-prefix-not-segment", nest(("radvd", "prefix"), "2001:db8:8::/64"), "vxlab:radvd.prefix"),
    ("overlay-mtu-too-big", nest(("segment", "mtu"), 9000), "vxlab:segment.mtu"),
    ("underlay-mtu-too-small", nest(("segment", "underlay_mtu"), 1480), "vxlab:segment.underlay_mtu"),
    ("duplicate-vm-name", nest((*GREEN, "name"), "blueTenant"), "vxlab:tenants.green.name"),
    ("duplicate-container-name", nest((*GREEN, "clients"), ["greenC0", "blueC1"]), "vxlab:tenants.green.clients"),
    ("duplicate-tap-mac", nest((*GREEN, "tap"), 220), "vxlab:tenants.green.tap"),
    ("duplicate-address", nest(("upstream", "host_ipv4"), "198.18.28.200/24"), "vxlab:upstream.host_ipv4"),
    ("failover-ports-equal", nest(("dhcp", "failover", "secondary_port"), 519), "vxlab:dhcp.failover.secondary_port"),
    ("two-primaries", nest((*GREEN, "dhcp_server", "role"), "primary"), "vxlab:tenants.green.dhcp_server.role"),
    ("mac-prefix-multicast", nest(("hypervisor", "mac_prefix"), "bb:ad:ca:fe"), "vxlab:hypervisor.mac_prefix"),
    ("mac-prefix-global", nest(("hypervisor", "mac_prefix"), "b8:ad:ca:fe"), "vxlab:hypervisor.mac_prefix"),
    ("unknown-key", nest((*BLUE, "prioirty"), 230), "vxlab:tenants.blue.prioirty"),
    ("unknown-tenant", nest(("tenants", "red"), {}), "vxlab:tenants.red"),
    ("group-out-of-range", {"group": 41}, "vxlab:group"),
    ("group-not-a-number", {"group": "one"}, "vxlab:group"),
    ("link-vlan-equals-upstream", nest((*BLUE, "link_vlan"), 28), "vxlab:tenants.blue.link_vlan"),
    (
        "subnets-overlap",
        merge(nest((*GREEN, "router_ipv4"), "172.16.220.129/25"), nest((*GREEN, "tenant_ipv4"), "172.16.220.130/25")),
        "vxlab:tenants.green.router_ipv4",
    ),
    ("same-routing-table", nest((*GREEN, "table_id"), 220), "vxlab:tenants.green.table_id"),
    (
        "segment-not-64",
        merge(nest(("segment", "ipv6"), "2001:db8:7::/56"), nest(("radvd", "prefix"), "2001:db8:7::/56")),
        "vxlab:segment.ipv6",
    ),
]


@pytest.mark.parametrize(("config", "key"), [pytest.param(c, k, id=i) for i, c, k in CASES])
def test_bad_input_names_the_key(config: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_lab(config)
    assert caught.value.key == key


@pytest.mark.parametrize(("config", "key"), [pytest.param(c, k, id=i) for i, c, k in CASES])
def test_bad_input_message_is_one_line_with_a_fix(config: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_lab(config)
    line = caught.value.line()
    assert "\n" not in line
    assert line.startswith(f"{key}: ")
    assert "; fix: " in line


def test_seed_config_is_accepted() -> None:
    assert build_lab({}).segment.vni == 7
