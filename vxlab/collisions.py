"""Collisions between class groups that share a hypervisor, found before anything is created.

Every value a group places on the shared host (bridge VLANs, taps, MACs, VM names, the SVI
and its namespace, subnets routed by the host) and every identifier that must stay unique
across the class (VNI, VRIDs) is listed with the config key that sets it; two stacks on one
hypervisor may not share any of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from vxlab.errors import ConfigError, config_key
from vxlab.model import Lab, mac_for_tap
from vxlab.render import lxd_forwards, ssh_forwards

Net = IPv4Network | IPv6Network


@dataclass(frozen=True)
class Claim:
    what: str  # "VLAN", "tap", "MAC", "VNI", "VRID", "name", "subnet"
    value: str | Net
    path: tuple[str, ...]


def hypervisor_of(lab: Lab) -> str:
    return f"{lab.hypervisor.ssh_host or 'localhost'} {lab.hypervisor.libvirt_uri}"


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
            if a.hypervisor.bridge == b.hypervisor.bridge and a.hypervisor.datapath_type != b.hypervisor.datapath_type:
                raise ConfigError(
                    config_key(("hypervisor", "datapath_type")),
                    f"bridge {a.hypervisor.bridge} is {a.hypervisor.datapath_type} in stack {first} "
                    f"but {b.hypervisor.datapath_type} here",
                    "use one datapath type for a shared bridge",
                    second,
                )
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
