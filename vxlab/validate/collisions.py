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
from urllib.parse import urlsplit

from vxlab.base import hosts
from vxlab.base.errors import ConfigError, config_key
from vxlab.model.lab import Lab, mac_for_tap
from vxlab.model.topology import lxd_forwards, ssh_forwards

Net = IPv4Network | IPv6Network


@dataclass(frozen=True)
class Claim:
    what: str  # "VLAN", "tap", "MAC", "VNI", "VRID", "name", "subnet"
    value: str | Net
    path: tuple[str, ...]


def hypervisor_host(lab: Lab) -> str:
    """The machine that runs the stack's libvirt: "localhost" for this one, however spelled."""
    uri_host = hosts.uri_host(lab.hypervisor.libvirt_uri)
    return hosts.canonical(uri_host) if uri_host else hosts.canonical(lab.hypervisor.ssh_host)


def machine_aliases(lab: Lab) -> frozenset[str]:
    """Every spelling of the stack's hypervisor: its URI's host, its ssh_host, their /etc/hosts names."""
    return hosts.aliases([hypervisor_host(lab), lab.hypervisor.ssh_host])


def same_machine(a: Lab, b: Lab) -> bool:
    """Whether two stacks' labs share one hypervisor (its bridge, taps, names), whatever libvirt
    daemon they use on it (`qemu:///system` and `qemu:///session` are one machine)."""
    return bool(machine_aliases(a) & machine_aliases(b))


def hypervisor_of(lab: Lab) -> str:
    """One spelling per hypervisor: `qemu:///system` and `qemu+ssh://root@127.0.0.1/system` are
    the same libvirt daemon, so both stacks' claims meet."""
    uri = urlsplit(lab.hypervisor.libvirt_uri)
    driver = uri.scheme.split("+")[0]
    return f"{driver}://{hypervisor_host(lab)}{uri.path or '/'}"


def claims(lab: Lab) -> Iterator[Claim]:
    """What a group takes on its hypervisor, with the key that sets each value."""
    prefix = lab.hypervisor.mac_prefix
    bridge = lab.hypervisor.bridge  # VLAN ids are per bridge: two bridges are two switches
    yield Claim("VLAN", f"{lab.upstream.vlan} on {bridge}", ("upstream", "vlan"))
    yield Claim("name", lab.upstream.svi, ("upstream", "svi"))
    yield Claim("tap", str(lab.router.tap), ("router", "tap"))
    yield Claim("MAC", mac_for_tap(prefix, lab.router.tap), ("router", "tap"))
    yield Claim("name", lab.router.name, ("router", "name"))
    for color, t in lab.tenants.items():
        yield Claim("VLAN", f"{t.link_vlan} on {bridge}", ("tenants", color, "link_vlan"))
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
    # Not the segment's subnets: they live behind each group's router, which NATs them, and the
    # hypervisor routes none of them (render.host_routes), so groups may reuse the seed's numbers.


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
            if not same_machine(a, b):
                continue
            _check_switch(first, a, second, b)
            _check_probes(first, a, second, b)
            _check_probes(second, b, first, a)
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


def _check_probes(owner: str, lab: Lab, other: str, theirs: Lab) -> None:
    """A probe inside another group's subnets on the same hypervisor is answered by that group:
    the keepalived check would pass with the Internet gone."""
    nets = [(c.value, c.path) for c in claims(theirs) if not isinstance(c.value, str)]
    for field in ("probe4", "probe6"):
        probe = getattr(lab.internet, field)
        inside = next(((n, p) for n, p in nets if n.version == probe.version and probe in n), None)
        if inside is not None:
            raise ConfigError(
                config_key(("internet", field)),
                f"{probe} is inside {inside[0]} of stack {other} ({config_key(inside[1])}): "
                "that group would answer the check, not the Internet",
                "use an address on the Internet side",
                owner,
            )
