"""Derived topology: the facts every phase reads about a group's lab that are not a file's
content: the host switch's ports and routes, the loopback relays, where each API listens, the
group's folders on the hypervisor. Validation (collisions), building and checks read them here."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Literal
from urllib.parse import urlsplit

from vxlab.model.lab import Lab, Tenant, mac_for_tap
from vxlab.model.mtu import tap_mtu
from vxlab.model.naming import stack_label


@dataclass(frozen=True)
class HostPort:
    vm: str
    tap: str
    mac: str
    mode: Literal["access", "trunk"]
    vlans: tuple[int, ...]
    mtu: int

    @property
    def ovs_options(self) -> str:
        if self.mode == "access":
            return f"tag={self.vlans[0]} vlan_mode=access"
        return f"vlan_mode=trunk trunks={','.join(str(v) for v in self.vlans)}"


@dataclass(frozen=True)
class HostRoute:
    net: IPv4Network | IPv6Network
    via: str

    @property
    def version(self) -> int:
        return self.net.version


@dataclass(frozen=True)
class Forward:
    name: str
    port: int  # on the host's loopback
    address: str
    target_port: int


def ssh_forwards(lab: Lab) -> list[Forward]:
    """Loopback ports relayed to each VM's SSH when the lab lives in a namespace (router, blue, green)."""
    base = lab.hypervisor.ssh_forward_base
    if base is None:
        return []
    vms = [(lab.router.name, lab.router.upstream_ipv4.ip)] + [(t.name, t.tenant_ipv4.ip) for t in lab.tenants.values()]
    return [Forward(name, base + i, str(address), 22) for i, (name, address) in enumerate(vms)]


def lxd_forwards(lab: Lab) -> list[Forward]:
    """Loopback ports relayed to each tenant's LXD API, right after the SSH relays (blue, green)."""
    base = lab.hypervisor.ssh_forward_base
    if base is None:
        return []
    first = base + len(ssh_forwards(lab))
    return [
        Forward(f"{t.name}-lxd", first + i, str(t.tenant_ipv4.ip), lab.lxd.port)
        for i, t in enumerate(lab.tenants.values())
    ]


def lxd_address(lab: Lab, tenant: Tenant) -> str:
    """Where the tenant's LXD API listens: its underlay address only."""
    return f"{tenant.tenant_ipv4.ip}:{lab.lxd.port}"


def lxd_endpoint(lab: Lab, tenant: Tenant) -> str:
    """The URL the engine reaches the tenant's LXD API at: a loopback relay, or the API itself."""
    relay = {f.name: f.port for f in lxd_forwards(lab)}.get(f"{tenant.name}-lxd")
    return f"https://127.0.0.1:{relay}" if relay else f"https://{lxd_address(lab, tenant)}"


def host_dir(lab: Lab) -> str:
    """The group's own folder on the hypervisor."""
    return f"/usr/local/lib/vxlab/{stack_label(lab.group)}"


def host_switch_path(lab: Lab) -> str:
    return f"{host_dir(lab)}/host-switch.sh"


def host_sysctl_path(lab: Lab) -> str:
    """With the SVI in a namespace the routing sysctls belong to that namespace only: the file
    stays in the group's folder, out of /etc/sysctl.d, so the host's own boot never applies it."""
    if lab.hypervisor.svi_netns:
        return f"{host_dir(lab)}/sysctl.conf"
    return f"/etc/sysctl.d/90-{stack_label(lab.group)}.conf"


def internet_addresses(lab: Lab) -> list[str]:
    """The probe targets and resolvers, as host addresses (for the namespace that emulates them)."""
    i = lab.internet
    return sorted({f"{a}/{a.max_prefixlen}" for a in (i.probe4, i.dns4, i.probe6, i.dns6)})


def host_ports(lab: Lab) -> list[HostPort]:
    """The group's tap ports on the host bridge: the router trunks its VLANs, tenants are access."""
    links = [t.link_vlan for t in lab.tenants.values()]
    ports = [
        HostPort(
            lab.router.name,
            f"tap{lab.router.tap}",
            mac_for_tap(lab.hypervisor.mac_prefix, lab.router.tap),
            "trunk",
            (lab.upstream.vlan, *links),
            tap_mtu(lab, lab.router.name),
        )
    ]
    ports += [
        HostPort(
            t.name,
            f"tap{t.tap}",
            mac_for_tap(lab.hypervisor.mac_prefix, t.tap),
            "access",
            (t.link_vlan,),
            tap_mtu(lab, t.name),
        )
        for t in lab.tenants.values()
    ]
    return ports


def host_routes(lab: Lab) -> list[HostRoute]:
    """What the host routes through the router: the tenant links, so it reaches the tenants.
    (The segment itself is only in the router's per-tenant tables, as in the seed.)"""
    via4, via6 = str(lab.router.upstream_ipv4.ip), str(lab.router.upstream_ipv6.ip)
    routes = [HostRoute(t.router_ipv4.network, via4) for t in lab.tenants.values()]
    routes += [HostRoute(t.router_ipv6.network, via6) for t in lab.tenants.values()]
    return routes


def uri_on_hypervisor(lab: Lab) -> str:
    """The libvirt URI for a command that runs on the hypervisor itself (`virsh` in a fault):
    `qemu+ssh://root@host/system` is `qemu:///system` there."""
    if lab.hypervisor.ssh_host is None:
        return lab.hypervisor.libvirt_uri
    uri = urlsplit(lab.hypervisor.libvirt_uri)
    return f"{uri.scheme.split('+')[0]}://{uri.path or '/system'}"
