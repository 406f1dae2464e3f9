"""Bad input: one ConfigError naming the exact config key, before anything is rendered."""

from __future__ import annotations

from typing import Any

import pytest

from vxlab.base.errors import ConfigError
from vxlab.model.defaults import DEFAULT_SSH_KEY
from vxlab.validate.load import build_lab

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


# Schema and lab rules: values out of range, inconsistent or colliding inside one lab.
RULE_CASES = [
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
    ("overlay-mtu-one-byte-over", nest(("segment", "mtu"), 1451), "vxlab:segment.mtu"),
    ("underlay-mtu-too-small", nest(("segment", "underlay_mtu"), 1480), "vxlab:segment.underlay_mtu"),
    ("underlay-mtu-one-byte-short", nest(("segment", "underlay_mtu"), 1499), "vxlab:segment.underlay_mtu"),
    (
        "jumbo-overlay-over-jumbo-underlay",
        merge(nest(("segment", "underlay_mtu"), 9000), nest(("segment", "mtu"), 8960)),
        "vxlab:segment.mtu",
    ),
    ("traffic-port-zero", nest(("internet", "traffic_port"), 0), "vxlab:internet.traffic_port"),
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


ECDSA_KEY = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA7PsWqSAAzaOaC93AtpcpOi+2QvxZgi82Ck"
    "tTqkyeyb6qbHqAsfGp6V8AUsaAHbsm7BnPA9FEOsB6YuLcZkIrE= Lab key: group 5"
)
KEY_TYPE, KEY_DATA, _ = DEFAULT_SSH_KEY.split(" ", 2)


def key(value: str) -> dict[str, Any]:
    return nest(("lab_user", "ssh_public_key"), value)


# Free-form text that lands in YAML, XML, a URI or a command line: refused unless its
# consumer reads it as the one value it is.
FREE_FORM_CASES = [
    ("key-with-newline", key(f"{DEFAULT_SSH_KEY}\nssh-ed25519 {KEY_DATA} second"), "vxlab:lab_user.ssh_public_key"),
    ("key-is-private", key("-----BEGIN OPENSSH PRIVATE KEY-----"), "vxlab:lab_user.ssh_public_key"),
    ("key-is-prose", key("my key"), "vxlab:lab_user.ssh_public_key"),
    ("key-data-not-base64", key(f"{KEY_TYPE} not*base64 x"), "vxlab:lab_user.ssh_public_key"),
    ("key-type-mismatch", key(f"ssh-rsa {KEY_DATA} x"), "vxlab:lab_user.ssh_public_key"),
    ("key-type-only", key(KEY_TYPE), "vxlab:lab_user.ssh_public_key"),
    ("uri-with-shell", nest(("hypervisor", "libvirt_uri"), "qemu:///system; reboot"), "vxlab:hypervisor.libvirt_uri"),
    ("uri-not-libvirt", nest(("hypervisor", "libvirt_uri"), "system"), "vxlab:hypervisor.libvirt_uri"),
    (
        "uri-with-space",
        nest(("hypervisor", "libvirt_uri"), "qemu+ssh://root@h st/system"),
        "vxlab:hypervisor.libvirt_uri",
    ),
    ("ssh-host-with-user", nest(("hypervisor", "ssh_host"), "root@kvm1"), "vxlab:hypervisor.ssh_host"),
    ("machine-with-space", nest(("hypervisor", "machine"), "pc q35"), "vxlab:hypervisor.machine"),
    ("pool-with-slash", nest(("images", "pool"), "../default"), "vxlab:images.pool"),
    ("master-with-space", nest(("images", "master"), "debian 12.qcow2"), "vxlab:images.master"),
    ("master-empty", nest(("images", "master"), ""), "vxlab:images.master"),
    (
        "kernel-relative",
        merge(nest(("images", "kernel"), "vmlinuz"), nest(("images", "initrd"), "/boot/initrd.img")),
        "vxlab:images.kernel",
    ),
    (
        "initrd-with-quote",
        merge(nest(("images", "kernel"), "/boot/vmlinuz"), nest(("images", "initrd"), "/boot/in'itrd")),
        "vxlab:images.initrd",
    ),
    ("cmdline-with-newline", nest(("images", "cmdline"), "root=/dev/vda\ninit=/bin/sh"), "vxlab:images.cmdline"),
    ("cmdline-with-quote", nest(("images", "cmdline"), 'console="ttyS0'), "vxlab:images.cmdline"),
    (
        "container-image-with-space",
        nest(("images", "container_image"), "images:debian 12"),
        "vxlab:images.container_image",
    ),
    ("tarball-relative", nest(("images", "container_tarball"), "container.tar.gz"), "vxlab:images.container_tarball"),
    ("failover-name-with-space", nest(("dhcp", "failover", "name"), "failover partner"), "vxlab:dhcp.failover.name"),
]

# Values with valid syntax that a daemon or the kernel would refuse or misuse.
DAEMON_CASES = [
    ("gateway6-zone-index", nest(("upstream", "gateway6"), "fe80::1%eth0"), "vxlab:upstream.gateway6"),
    ("vip6-zone-index", nest(("vrrp", "vip6"), "fe80:7::de%1/64"), "vxlab:vrrp.vip6"),
    ("ra-source-zone-index", nest(("radvd", "ra_source"), "fe80:7::de%sw-vlan7"), "vxlab:radvd.ra_source"),
    ("address-without-prefix", nest(("upstream", "host_ipv4"), "198.18.28.20"), "vxlab:upstream.host_ipv4"),
    ("probe4-unspecified", nest(("internet", "probe4"), "0.0.0.0"), "vxlab:internet.probe4"),
    ("probe4-loopback", nest(("internet", "probe4"), "127.0.0.1"), "vxlab:internet.probe4"),
    ("probe4-multicast", nest(("internet", "probe4"), "224.0.0.1"), "vxlab:internet.probe4"),
    ("probe4-broadcast", nest(("internet", "probe4"), "255.255.255.255"), "vxlab:internet.probe4"),
    ("probe4-link-local", nest(("internet", "probe4"), "169.254.1.1"), "vxlab:internet.probe4"),
    ("probe4-is-the-vip", nest(("internet", "probe4"), "192.0.2.222"), "vxlab:internet.probe4"),
    ("probe4-in-a-tenant-link", nest(("internet", "probe4"), "172.16.221.9"), "vxlab:internet.probe4"),
    ("probe6-unspecified", nest(("internet", "probe6"), "::"), "vxlab:internet.probe6"),
    ("probe6-loopback", nest(("internet", "probe6"), "::1"), "vxlab:internet.probe6"),
    ("probe6-multicast", nest(("internet", "probe6"), "ff02::1"), "vxlab:internet.probe6"),
    ("probe6-link-local", nest(("internet", "probe6"), "fe80::1"), "vxlab:internet.probe6"),
    ("probe6-in-the-segment", nest(("internet", "probe6"), "2001:db8:7::9"), "vxlab:internet.probe6"),
    ("dns4-loopback", nest(("internet", "dns4"), "127.0.0.53"), "vxlab:internet.dns4"),
    ("dns6-multicast", nest(("internet", "dns6"), "ff05::1:3"), "vxlab:internet.dns6"),
    ("table-main", nest((*BLUE, "table_name"), "main"), "vxlab:tenants.blue.table_name"),
    ("table-local", nest((*GREEN, "table_name"), "local"), "vxlab:tenants.green.table_name"),
    ("table-default", nest((*BLUE, "table_name"), "default"), "vxlab:tenants.blue.table_name"),
    ("lab-user-root", nest(("lab_user", "name"), "root"), "vxlab:lab_user.name"),
    ("lab-user-daemon", nest(("lab_user", "name"), "daemon"), "vxlab:lab_user.name"),
    ("lab-user-systemd", nest(("lab_user", "name"), "systemd-network"), "vxlab:lab_user.name"),
    ("lab-user-underscore", nest(("lab_user", "name"), "_apt"), "vxlab:lab_user.name"),
    ("advert-below-a-centisecond", nest(("vrrp", "advert_int"), 0.005), "vxlab:vrrp.advert_int"),
    ("advert-not-in-centiseconds", nest(("vrrp", "advert_int"), 0.123), "vxlab:vrrp.advert_int"),
    ("advert-above-vrrpv3-maximum", nest(("vrrp", "advert_int"), 41), "vxlab:vrrp.advert_int"),
    ("track-uplink-not-a-boolean", nest(("vrrp", "track_uplink"), "yes"), "vxlab:vrrp.track_uplink"),
]

# A stated subnet moves what depends on it, unless the subnet cannot hold it.
SUBNET_CASES = [
    ("segment-too-small-for-derived", nest(("segment", "ipv4"), "10.9.0.0/28"), "vxlab:segment.ipv4"),
    ("upstream-too-small-for-router", nest(("upstream", "host_ipv4"), "198.51.100.20/27"), "vxlab:upstream.host_ipv4"),
    ("segment-not-a-subnet", nest(("segment", "ipv4"), "10.9.0.1/24"), "vxlab:segment.ipv4"),
]

CASES = RULE_CASES + FREE_FORM_CASES + DAEMON_CASES + SUBNET_CASES


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


@pytest.mark.parametrize(("config", "key"), [pytest.param(c, k, id=i) for i, c, k in CASES])
def test_bad_input_fix_is_words_not_pydantic_text(config: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_lab(config)
    for pydantic_words in ("should match pattern", "^[", "Input should", "Value error", "pydantic"):
        assert pydantic_words not in caught.value.line()


def test_seed_config_is_accepted() -> None:
    assert build_lab({}).segment.vni == 7


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(key(ECDSA_KEY), id="key-comment-with-colon-and-spaces"),
        pytest.param(key(f"{DEFAULT_SSH_KEY} "), id="key-with-trailing-space"),
        pytest.param(
            nest(("hypervisor",), {"libvirt_uri": "qemu+ssh://root@192.0.2.7/system", "ssh_host": "192.0.2.7"}),
            id="uri-over-ssh",
        ),
        pytest.param(
            nest(
                ("hypervisor",),
                {"libvirt_uri": "qemu+ssh://root@[2001:db8::7]:2222/system", "ssh_host": "2001:db8::7"},
            ),
            id="uri-ipv6",
        ),
        pytest.param(nest(("hypervisor", "libvirt_uri"), "qemu:///session"), id="uri-session"),
        pytest.param(nest(("images", "container_image"), "images:debian/12/cloud"), id="image-remote-alias"),
        pytest.param(nest(("internet", "probe4"), "203.0.113.9"), id="probe-documentation-address"),
        pytest.param(nest(("lab_user", "name"), "student_5"), id="lab-user-with-digit"),
        pytest.param(
            merge(nest(("segment", "underlay_mtu"), 9000), nest(("segment", "mtu"), 8950)), id="jumbo-underlay"
        ),
        pytest.param(
            merge(nest(("segment", "underlay_mtu"), 1400), nest(("segment", "mtu"), 1350)), id="small-underlay"
        ),
    ],
)
def test_sensible_input_is_accepted(config: dict[str, Any]) -> None:
    build_lab(config)


@pytest.mark.parametrize(
    ("stated", "path", "expected"),
    [
        (nest(("segment", "ipv4"), "10.99.0.0/24"), ("tenants", "blue", "svi_ipv4"), "10.99.0.220/24"),
        (nest(("segment", "ipv4"), "10.99.0.0/24"), ("tenants", "green", "dhcp_server", "ipv4"), "10.99.0.251/24"),
        (nest(("segment", "ipv4"), "10.99.0.0/24"), ("vrrp", "vip4"), "10.99.0.222/24"),
        (nest(("segment", "ipv4"), "10.99.0.0/24"), ("dhcp", "range_start"), "10.99.0.10"),
        (nest(("segment", "ipv4"), "10.99.0.0/16"), ("dhcp", "range_end"), "10.99.0.90"),
        (nest(("segment", "ipv6"), "2001:db8:99::/64"), ("tenants", "green", "svi_ipv6"), "2001:db8:99::dd/64"),
        (nest(("segment", "ipv6"), "2001:db8:99::/64"), ("radvd", "prefix"), "2001:db8:99::/64"),
        (nest(("upstream", "host_ipv4"), "198.51.100.20/24"), ("router", "upstream_ipv4"), "198.51.100.200/24"),
        (nest(("upstream", "host_ipv4"), "198.51.100.20/24"), ("upstream", "gateway4"), "198.51.100.1"),
        (nest(("upstream", "host_ipv6"), "2001:db8:1c::14/64"), ("router", "upstream_ipv6"), "2001:db8:1c::c8/64"),
        (nest((*BLUE, "router_ipv4"), "10.220.0.1/24"), (*BLUE, "tenant_ipv4"), "10.220.0.2/24"),
        (nest((*GREEN, "router_ipv6"), "2001:db8:dd::1/64"), (*GREEN, "tenant_ipv6"), "2001:db8:dd::2/64"),
        (nest(("vrrp", "vip6"), "fe80:7::99/64"), ("radvd", "ra_source"), "fe80:7::99"),
        (
            merge(nest(("segment", "ipv4"), "10.99.0.0/24"), nest(("vrrp", "vip4"), "10.99.0.1/24")),
            ("vrrp", "vip4"),
            "10.99.0.1/24",
        ),
    ],
)
def test_a_stated_subnet_moves_what_depends_on_it(stated: dict[str, Any], path: tuple[str, ...], expected: str) -> None:
    node: Any = build_lab(stated)
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    assert str(node) == expected
