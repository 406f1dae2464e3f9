"""Collisions between class groups that share a hypervisor, found before anything is created.

Every value a group places on the shared host (bridge VLANs, taps, MACs, VM names, the SVI
and its namespace, subnets routed by the host) and every identifier that must stay unique
across the class (VNI, VRIDs) is listed with the config key that sets it; two stacks on one
hypervisor may not share any of them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from urllib.parse import urlsplit

from vxlab.errors import ConfigError, config_key
from vxlab.model import Lab, mac_for_tap
from vxlab.render import lxd_forwards, ssh_forwards

Net = IPv4Network | IPv6Network


@dataclass(frozen=True)
class Claim:
    what: str  # "VLAN", "tap", "MAC", "VNI", "VRID", "name", "subnet"
    value: str | Net
    path: tuple[str, ...]


# Spellings of "this machine" in a libvirt URI or ssh_host.
_LOCAL_HOSTS = frozenset({"", "localhost", "localhost.localdomain", "::1", "[::1]"})


def _host(name: str | None) -> str:
    name = (name or "").lower()
    if name in _LOCAL_HOSTS or name.startswith("127.") or name == socket.gethostname().lower():
        return "localhost"
    return name


def hypervisor_host(lab: Lab) -> str:
    """The machine that runs the stack's libvirt: "localhost" for this one, however spelled."""
    uri_host = urlsplit(lab.hypervisor.libvirt_uri).hostname
    return _host(uri_host) if uri_host else _host(lab.hypervisor.ssh_host)


def hypervisor_of(lab: Lab) -> str:
    """One spelling per hypervisor: `qemu:///system` and `qemu+ssh://root@127.0.0.1/system` are
    the same libvirt daemon, so both stacks' claims meet."""
    uri = urlsplit(lab.hypervisor.libvirt_uri)
    driver = uri.scheme.split("+")[0]
    return f"{driver}://{hypervisor_host(lab)}{uri.path or '/'}"


def claims(lab: Lab) -> Iterator[Claim]:
    """What a group takes on its hypervisor, with the key that sets each value."""
    prefix = lab.hypervisor.mac_prefix
    yield Claim("VLAN", str(lab.upstream.vlan), ("upstream", "vlan"))
    yield Claim("name", lab.upstream.svi, ("upstream", "svi"))
    yield Claim("tap", str(lab.router.tap), ("router", "tap"))
    yield Claim("MAC", mac_for_tap(prefix, lab.router.tap), ("router", "tap"))
    yield Claim("name", lab.router.name, ("router", "name"))
    for color, t in lab.tenants.items():
        yield Claim("VLAN", str(t.link_vlan), ("tenants", color, "link_vlan"))
        yield Claim("tap", str(t.tap), ("tenants", color, "tap"))
        yield Claim("MAC", mac_for_tap(prefix, t.tap), ("tenants", color, "tap"))
        yield Claim("name", t.name, ("tenants", color, "name"))
        yield Claim("subnet", t.router_ipv4.network, ("tenants", color, "router_ipv4"))
        yield Claim("subnet", t.router_ipv6.network, ("tenants", color, "router_ipv6"))
    if lab.hypervisor.svi_netns:
        yield Claim("name", lab.hypervisor.svi_netns, ("hypervisor", "svi_netns"))
    for fwd in ssh_forwards(lab) + lxd_forwards(lab):
        yield Claim("port", str(fwd.port), ("hypervisor", "ssh_forward_base"))
    yield Claim("VNI", str(lab.segment.vni), ("segment", "vni"))
    yield Claim("VRID", str(lab.vrrp.vrid4), ("vrrp", "vrid4"))
    yield Claim("VRID", str(lab.vrrp.vrid6), ("vrrp", "vrid6"))
    yield Claim("subnet", lab.upstream.host_ipv4.network, ("upstream", "host_ipv4"))
    yield Claim("subnet", lab.upstream.host_ipv6.network, ("upstream", "host_ipv6"))
    yield Claim("subnet", lab.segment.ipv4, ("segment", "ipv4"))
    yield Claim("subnet", lab.segment.ipv6, ("segment", "ipv6"))


def _clash(a: Claim, b: Claim) -> bool:
    if a.what != b.what:
        return False
    if isinstance(a.value, str) or isinstance(b.value, str):
        return a.value == b.value
    return a.value.version == b.value.version and a.value.overlaps(b.value)


def check_collisions(labs: Mapping[str, Lab]) -> None:
    """Raise for the first value two stacks on one hypervisor both claim."""
    stacks = sorted(labs)
    for i, first in enumerate(stacks):
        for second in stacks[i + 1 :]:
            a, b = labs[first], labs[second]
            if hypervisor_of(a) != hypervisor_of(b):
                continue
            _check_switch(first, a, second, b)
            for ca in claims(a):
                for cb in claims(b):
                    if _clash(ca, cb):
                        raise ConfigError(
                            config_key(cb.path),
                            f"{cb.what} {cb.value} collides with {ca.value} of stack {first} "
                            f"({config_key(ca.path)}) on hypervisor {hypervisor_of(b)}",
                            "give the stacks different group numbers or a different value here",
                            second,
                        )


def _check_switch(first: str, a: Lab, second: str, b: Lab) -> None:
    """One bridge is one switch: the same datapath and uplink for every stack on it, and an
    uplink port belongs to one bridge only."""
    ha, hb = a.hypervisor, b.hypervisor
    if ha.bridge == hb.bridge:
        for field, va, vb in (("datapath_type", ha.datapath_type, hb.datapath_type), ("uplink", ha.uplink, hb.uplink)):
            if va != vb:
                raise ConfigError(
                    config_key(("hypervisor", field)),
                    f"bridge {ha.bridge} has {field} {va} in stack {first} but {vb} here",
                    f"state the same hypervisor.{field} for every stack on bridge {ha.bridge}",
                    second,
                )
    elif ha.uplink is not None and ha.uplink == hb.uplink:
        raise ConfigError(
            config_key(("hypervisor", "uplink")),
            f"port {hb.uplink} is already the uplink of bridge {ha.bridge} (stack {first}), not of {hb.bridge}",
            "use the same bridge as that stack, or another uplink",
            second,
        )
