"""Bad input, second round (issue 21): values each daemon accepts but the lab or another group
cannot live with, read the way the Pulumi engine reads them; and sensible input no longer refused.
Each family's members are parametrized; every refusal names its key in one line."""

from __future__ import annotations

import base64
import secrets
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_bad_input import BLUE, GREEN, merge, nest
from vxlab.base import hosts
from vxlab.base.errors import ConfigError
from vxlab.build.render import render_lab
from vxlab.model.defaults import derive
from vxlab.model.lab import Lab
from vxlab.validate.collisions import check_collisions
from vxlab.validate.load import build_lab, config_from_pulumi, read_stack_file

DEV = build_lab({})
CI_LIKE = {"hypervisor": {"svi_netns": "vxlab-t", "ssh_forward_base": 24900, "uplink": None}}


def refused(config: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build_lab(config)
    return caught.value


def lab(group: int, **sections: Any) -> Lab:
    return build_lab({"group": group, **sections})


# -- 1. addresses that parse but mean nothing here ---------------------------------------------

MEANINGLESS = [
    ("segment-multicast", nest(("segment", "ipv4"), "224.1.7.0/24"), "vxlab:segment.ipv4"),
    ("segment-link-local-ipv6", nest(("segment", "ipv6"), "fe80:7::/64"), "vxlab:segment.ipv6"),
    ("segment-ipv6-multicast", nest(("segment", "ipv6"), "ff05:7::/64"), "vxlab:segment.ipv6"),
    ("upstream-reserved", nest(("upstream", "host_ipv4"), "240.0.28.20/24"), "vxlab:upstream.host_ipv4"),
    ("link-this-network", nest((*BLUE, "router_ipv4"), "0.16.220.1/24"), "vxlab:tenants.blue.router_ipv4"),
    ("link-loopback", nest((*GREEN, "router_ipv4"), "127.16.221.1/24"), "vxlab:tenants.green.router_ipv4"),
    ("segment-ipv4-link-local", nest(("segment", "ipv4"), "169.254.7.0/24"), "vxlab:segment.ipv4"),
    ("gateway-broadcast", nest(("upstream", "gateway4"), "198.18.28.255"), "vxlab:upstream.gateway4"),
    ("gateway-network-address", nest(("upstream", "gateway4"), "198.18.28.0"), "vxlab:upstream.gateway4"),
    ("probe-ipv4-mapped", nest(("internet", "probe6"), "::ffff:9.9.9.9"), "vxlab:internet.probe6"),
    ("probe-site-local", nest(("internet", "probe6"), "fec0::9"), "vxlab:internet.probe6"),
    ("dns-on-the-router", nest(("internet", "dns4"), "198.18.28.200"), "vxlab:internet.dns4"),
    ("dns-in-the-segment", nest(("internet", "dns6"), "2001:db8:7::53"), "vxlab:internet.dns6"),
    ("dns-on-a-vip", nest(("internet", "dns4"), "192.0.2.222"), "vxlab:internet.dns4"),
    ("dns-on-a-tenant-link", nest(("internet", "dns4"), "172.16.220.53"), "vxlab:internet.dns4"),
    ("probe-this-network", nest(("internet", "probe4"), "0.0.0.7"), "vxlab:internet.probe4"),
    ("probe-as-a-boolean", nest(("internet", "probe4"), True), "vxlab:internet.probe4"),
    ("probe-as-a-number", nest(("internet", "probe4"), 3232235776), "vxlab:internet.probe4"),
    ("subnet-as-a-number", nest(("segment", "ipv4"), 7), "vxlab:segment.ipv4"),
]


@pytest.mark.parametrize(("config", "key"), [pytest.param(c, k, id=i) for i, c, k in MEANINGLESS])
def test_an_address_that_means_nothing_here_is_refused_by_its_key(config: dict[str, Any], key: str) -> None:
    assert refused(config).key == key


def test_a_resolver_on_the_upstream_network_is_accepted() -> None:
    """The hypervisor (on the upstream VLAN) may well run one."""
    build_lab(nest(("internet", "dns4"), "198.18.28.20"))


@pytest.mark.parametrize(
    ("probe", "field"),
    [("198.19.4.9", "probe4"), ("172.20.4.9", "probe4"), ("2001:db8:104:1c::9", "probe6")],
)
def test_a_probe_inside_another_groups_subnet_on_the_same_hypervisor_is_refused(probe: str, field: str) -> None:
    mine = lab(3, internet={field: probe})
    with pytest.raises(ConfigError) as caught:
        check_collisions({"a": mine, "b": lab(4)})
    assert (caught.value.key, caught.value.stack) == (f"vxlab:internet.{field}", "a")


# -- 2. which hypervisor is which ---------------------------------------------------------------

REMOTE = {"libvirt_uri": "qemu+ssh://root@hv1/system", "ssh_host": "hv1"}


@pytest.mark.parametrize(
    ("hypervisor", "key"),
    [
        pytest.param({"libvirt_uri": "qemu+ssh://root@hv1/system"}, "vxlab:hypervisor.libvirt_uri", id="remote-no-ssh"),
        pytest.param({"ssh_host": "hv1"}, "vxlab:hypervisor.ssh_host", id="ssh-host-with-local-libvirt"),
        pytest.param(
            {"libvirt_uri": "qemu+ssh://root@[:::::]/system", "ssh_host": "hv1"},
            "vxlab:hypervisor.libvirt_uri",
            id="uri-ipv6-malformed",
        ),
        pytest.param(
            {"libvirt_uri": "qemu+ssh://root@hv1/system", "ssh_host": "2001:db8:::7"},
            "vxlab:hypervisor.ssh_host",
            id="ssh-host-ipv6-malformed",
        ),
        pytest.param(
            {"libvirt_uri": "qemu+ssh://root@[2001:db8::7]/system", "ssh_host": "fe80::1::2"},
            "vxlab:hypervisor.ssh_host",
            id="ssh-host-two-double-colons",
        ),
    ],
)
def test_a_hypervisor_named_inconsistently_is_refused(hypervisor: dict[str, Any], key: str) -> None:
    assert refused({"hypervisor": hypervisor}).key == key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({}, {"libvirt_uri": "qemu:///session"}, id="system-and-session"),
        pytest.param(
            {"libvirt_uri": "qemu+ssh://root@[2001:db8::7]/system", "ssh_host": "2001:db8::7"},
            {"libvirt_uri": "qemu+ssh://root@[2001:DB8:0::7]/system", "ssh_host": "2001:db8:0:0::7"},
            id="one-ipv6-address-two-spellings",
        ),
        pytest.param(
            {"libvirt_uri": "qemu+ssh://root@HV1./system", "ssh_host": "hv1"},
            {"libvirt_uri": "qemu+ssh://root@hv1/system", "ssh_host": "hv1"},
            id="name-case-and-trailing-dot",
        ),
    ],
)
def test_two_stacks_on_one_machine_collide_however_it_is_spelled(first: dict[str, Any], second: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        check_collisions({"a": lab(3, hypervisor=first), "b": lab(3, hypervisor=second)})


@pytest.mark.parametrize(
    ("names", "hosts_text", "other"),
    [
        (["hv1"], "192.0.2.7 hv1 hv1.lab\n", "192.0.2.7"),
        (["192.0.2.7"], "192.0.2.7 hv1 hv1.lab # the lab server\n", "hv1.lab"),
        (["2001:db8::7"], "2001:db8:0::7 hv6\n", "hv6"),
    ],
)
def test_a_host_name_and_its_address_are_one_machine(names: list[str], hosts_text: str, other: str) -> None:
    assert hosts.canonical(other) in hosts.aliases(names, hosts_text)


# -- 3. what the guest will do with a value -----------------------------------------------------

GUEST = [
    ("eth0-without-ifnames", nest(("router", "nic"), "eth0"), "vxlab:router.nic"),
    (
        "ifnames0-with-predictable-name",
        nest(("images", "cmdline"), "root=/dev/vda rw console=ttyS0 net.ifnames=0"),
        "vxlab:images.cmdline",
    ),
    ("host-bridge-slot", nest((*BLUE, "nic"), "enp0s0"), "vxlab:tenants.blue.nic"),
    ("q35-lpc-slot", nest((*GREEN, "nic"), "enp0s31"), "vxlab:tenants.green.nic"),
    ("slot-past-31", nest(("router", "nic"), "enp0s40"), "vxlab:router.nic"),
    ("pc-piix3-slot", nest(("hypervisor", "machine"), "pc"), "vxlab:hypervisor.machine"),
    ("user-is-group-sudo", nest(("lab_user", "name"), "sudo"), "vxlab:lab_user.name"),
    ("user-is-group-kvm", nest(("lab_user", "name"), "kvm"), "vxlab:lab_user.name"),
    ("user-is-group-users", nest(("lab_user", "name"), "users"), "vxlab:lab_user.name"),
    ("lxd-on-sshd-port", nest(("lxd", "port"), 22), "vxlab:lxd.port"),
    ("failover-on-dhcp-port", nest(("dhcp", "failover", "primary_port"), 67), "vxlab:dhcp.failover.primary_port"),
    (
        "failover-on-client-port",
        nest(("dhcp", "failover", "secondary_port"), 68),
        "vxlab:dhcp.failover.secondary_port",
    ),
    ("traffic-server-on-sshd", nest(("internet", "traffic_port"), 22), "vxlab:internet.traffic_port"),
    ("svi-named-like-bridge", nest(("upstream", "svi"), "dsw-host"), "vxlab:upstream.svi"),
    ("svi-named-like-tap", nest(("upstream", "svi"), "tap220"), "vxlab:upstream.svi"),
    ("svi-named-like-uplink", nest(("upstream", "svi"), "eno1"), "vxlab:upstream.svi"),
    ("svi-too-long-for-its-veth", merge(CI_LIKE, nest(("upstream", "svi"), "upstream-vl28")), "vxlab:upstream.svi"),
    ("container-name-ends-with-dash", nest((*BLUE, "clients"), ["blueC0-", "blueC1"]), "vxlab:tenants.blue.clients.0"),
    (
        "dhcp-server-name-ends-with-dash",
        nest((*GREEN, "dhcp_server", "name"), "greenDHCP-"),
        "vxlab:tenants.green.dhcp_server.name",
    ),
    ("vm-name-ends-with-dash", nest(("router", "name"), "redRouter-"), "vxlab:router.name"),
]


@pytest.mark.parametrize(("config", "key"), [pytest.param(c, k, id=i) for i, c, k in GUEST])
def test_a_value_the_guest_cannot_use_is_refused_by_its_key(config: dict[str, Any], key: str) -> None:
    assert refused(config).key == key


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(
            merge(
                nest(("images", "cmdline"), "root=/dev/vda rw net.ifnames=0"),
                nest(("router", "nic"), "eth0"),
                nest(BLUE, {"nic": "eth0"}),
                nest(GREEN, {"nic": "eth0"}),
            ),
            id="eth0-with-ifnames0",
        ),
        pytest.param(nest(("router", "nic"), "enp0s7"), id="another-free-q35-slot"),
        pytest.param(
            merge(
                nest(("hypervisor", "machine"), "pc"),
                nest(("router", "nic"), "enp0s3"),
                nest(BLUE, {"nic": "enp0s3"}),
                nest(GREEN, {"nic": "enp0s3"}),
            ),
            id="pc-slot-3",
        ),
    ],
)
def test_a_nic_the_guest_will_have_is_accepted(config: dict[str, Any]) -> None:
    build_lab(config)


# -- 4. SSH public keys, as OpenSSH reads them --------------------------------------------------


def _rsa_key(bits: int) -> str:
    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    def mpint(n: int) -> bytes:
        return field(n.to_bytes((n.bit_length() + 8) // 8, "big"))

    modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    return "ssh-rsa " + base64.b64encode(field(b"ssh-rsa") + mpint(65537) + mpint(modulus)).decode() + " rsa"


def _ed25519(payload: bytes) -> str:
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", len(payload)) + payload
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " test"


GOOD_ED25519 = _ed25519(b"k" * 32)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(_rsa_key(768), id="rsa-768"),
        pytest.param(_rsa_key(1023), id="rsa-1023"),
        pytest.param(GOOD_ED25519[:50], id="truncated"),
        pytest.param(_ed25519(b"vxlab-example-key-not-for-use"), id="ed25519-29-bytes"),
    ],
)
def test_a_key_openssh_cannot_read_is_refused(key: str) -> None:
    assert refused(nest(("lab_user", "ssh_public_key"), key)).key == "vxlab:lab_user.ssh_public_key"


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(_rsa_key(1024), id="rsa-1024"),
        pytest.param(_rsa_key(2048), id="rsa-2048"),
        pytest.param(GOOD_ED25519 + "\n", id="yaml-block-trailing-newline"),
    ],
)
def test_a_key_openssh_reads_is_accepted(key: str) -> None:
    assert build_lab(nest(("lab_user", "ssh_public_key"), key)).lab_user.ssh_public_key == key.strip()


def test_a_key_pasted_as_a_yaml_block_reads_as_its_line(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.t.yaml"
    stack.write_text(f"config:\n  vxlab:lab_user:\n    ssh_public_key: |\n      {GOOD_ED25519}\n")
    config = config_from_pulumi(read_stack_file(stack))
    assert build_lab(config).lab_user.ssh_public_key == GOOD_ED25519


# -- 5. how Pulumi reads the file ----------------------------------------------------------------


def stack_text(tmp_path: Path, text: str) -> dict[str, Any]:
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(text)
    return config_from_pulumi(read_stack_file(path))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        pytest.param(
            "config:\n  vxlab:dhcp:\n    default_lease_time: 10:00\n",
            "vxlab:dhcp.default_lease_time",
            id="base-60-is-a-string",
        ),
        pytest.param("config:\n  vxlab:vrrp:\n    track_uplink: on\n", "vxlab:vrrp.track_uplink", id="on-is-a-word"),
        pytest.param("config:\n  vxlab:vrrp:\n    track_uplink: yes\n", "vxlab:vrrp.track_uplink", id="yes-is-a-word"),
        pytest.param("config:\n  vxlab:segment:\n    vni: 2001-12-14\n", "vxlab:segment.vni", id="date-is-a-string"),
    ],
)
def test_yaml_11_scalars_are_read_as_the_engine_reads_them(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_lab(stack_text(tmp_path, text))
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("text", "value"),
    [("0o17", 15), ("017", 15), ("0x1F", 31), ("1_000", 1000)],
)
def test_integers_are_read_as_go_yaml_reads_them(tmp_path: Path, text: str, value: int) -> None:
    assert stack_text(tmp_path, f"config:\n  vxlab:segment:\n    vni: {text}\n")["segment"]["vni"] == value


def test_merge_keys_are_honoured(tmp_path: Path) -> None:
    text = (
        "config:\n  vxlab:tenants:\n    blue: &tenant\n      ram_mib: 2048\n      vcpus: 2\n"
        "    green:\n      <<: *tenant\n      vcpus: 1\n"
    )
    tenants = build_lab(stack_text(tmp_path, text)).tenants
    assert (tenants["green"].ram_mib, tenants["green"].vcpus, tenants["blue"].vcpus) == (2048, 1, 2)


@pytest.mark.parametrize("namespace", ["VXLAB", "vxIab", "vx\u0445lab", "vxlab ", "vxlb", "vlxab", "vxlabs"])
def test_a_namespace_that_is_almost_vxlab_is_named(tmp_path: Path, namespace: str) -> None:
    with pytest.raises(ConfigError) as caught:
        stack_text(tmp_path, f'config:\n  "{namespace}:group": 3\n')
    assert caught.value.key == f"{namespace}:group"


@pytest.mark.parametrize("namespace", ["libvirt", "lxd", "pulumi", "command"])
def test_another_providers_namespace_is_left_alone(tmp_path: Path, namespace: str) -> None:
    assert stack_text(tmp_path, f"config:\n  {namespace}:uri: x\n  vxlab:group: 3\n") == {"group": 3}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("config:\n  vxlab:group: " + "[" * 5000 + "]" * 5000 + "\n", id="deep-flow-nesting"),
        pytest.param("config:\n  ? [a, b]\n  : 1\n", id="sequence-as-key"),
        pytest.param("config:\n  ? {a: 1}\n  : 1\n", id="mapping-as-key"),
        pytest.param("config:\n  vxlab:tenants:\n    ? [blue]\n    : {}\n", id="sequence-as-nested-key"),
        pytest.param('config:\n  vxlab:group: "' + "[" * 5000 + "]" * 5000 + '"\n', id="deep-json-string"),
    ],
)
def test_hostile_structure_gets_the_one_line_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_lab(stack_text(tmp_path, text))
    assert "\n" not in str(caught.value)


# -- 6. refused though fine ---------------------------------------------------------------------


def test_stacks_on_two_bridges_may_reuse_vlans() -> None:
    a = lab(1, hypervisor={"bridge": "dsw-a", "uplink": None})
    b = lab(2, hypervisor={"bridge": "dsw-b", "uplink": None}, upstream={"vlan": a.upstream.vlan})
    check_collisions({"a": a, "b": b})


def test_stacks_on_one_bridge_may_not_reuse_a_vlan() -> None:
    a = lab(1)
    with pytest.raises(ConfigError) as caught:
        check_collisions({"a": a, "b": lab(2, upstream={"vlan": a.upstream.vlan})})
    assert caught.value.key == "vxlab:upstream.vlan"


def test_the_same_router_link_local_on_both_tenant_links_is_accepted() -> None:
    both = lab(0, tenants={"blue": {"router_ll": "fe80::1/64"}, "green": {"router_ll": "fe80::1/64"}})
    assert both.tenants["blue"].router_ll == both.tenants["green"].router_ll


def test_the_same_link_local_twice_on_the_segment_is_refused() -> None:
    assert refused(nest((*GREEN, "svi_ll"), "fe80:7::dc/64")).key == "vxlab:tenants.green.svi_ll"


@pytest.mark.parametrize("groups", [(1, 2), (1, 2, 3)])
def test_groups_may_all_use_the_seeds_segment_addresses(groups: tuple[int, ...]) -> None:
    seed = build_lab({})
    seg = {"ipv4": str(seed.segment.ipv4), "ipv6": str(seed.segment.ipv6)}
    check_collisions({f"g{g}": lab(g, segment=seg) for g in groups})


# -- no input of any kind is a traceback -------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=40)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from([*Lab.model_fields, "group", "ssh_private_key"]) | st.text(max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS.map(lambda k: f"vxlab:{k}"), VALUES, max_size=4))
def test_any_config_gets_a_rendered_lab_or_a_config_error(raw: dict[str, Any]) -> None:
    """What `vxlab validate`, `render` and `pulumi preview` do with a stack: load, check against
    the project's other stacks, render every file."""
    try:
        config = config_from_pulumi(raw)
        config.setdefault("group", 7)
        fuzzed = build_lab(config)
        check_collisions({"fuzzed": fuzzed, "dev": DEV})
        render_lab(fuzzed)
    except ConfigError as err:
        assert "\n" not in str(err)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200) | st.builds(lambda body: "config:\n" + body, st.text(max_size=200)))
def test_any_stack_file_gets_a_config_or_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pulumi.fuzz.yaml"
    path.write_text(text)
    try:
        build_lab(config_from_pulumi(read_stack_file(path)))
    except ConfigError as err:
        assert "\n" not in str(err)


def _leaves(node: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    return [path]


LEAVES = _leaves(derive(7, {}))
LEAF_VALUES = SCALARS | st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True) | st.integers(0, 70000)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAVES), LEAF_VALUES)
def test_any_one_value_changed_gets_a_rendered_lab_or_a_config_error(path: tuple[str, ...], value: Any) -> None:
    try:
        changed = build_lab({"group": 7, **nest(path, value)})
        check_collisions({"changed": changed, "dev": DEV})
        render_lab(changed)
    except ConfigError as err:
        assert "\n" not in str(err)
