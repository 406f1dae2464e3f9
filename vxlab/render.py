"""Rendering: every file the lab writes, per machine, from the validated model.

Templates live in `files/` (one per feature) and see only the model and values derived here;
StrictUndefined turns any missing value into an error instead of an empty string.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

import jinja2

from vxlab.model import Lab, Tenant, mac_for_tap
from vxlab.mtu import UPSTREAM_MTU, router_nic_mtu, tap_mtu, tunnel_remote
from vxlab.naming import stack_label

FILES_DIR = Path(__file__).resolve().parent.parent / "files"

Role = Literal["host", "router", "tenant", "dhcp-server", "client"]
# What checks a file: each kind has one checker in vxlab.daemons.
Kind = Literal[
    "ifupdown",
    "sysctl",
    "rt_tables",
    "iptables",
    "ip6tables",
    "radvd",
    "keepalived",
    "script",
    "host-switch",
    "tmpfiles",
    "lxd-preseed",
    "dhcpd",
    "shell-vars",
]

KEEPALIVED_NOTIFY = "/usr/local/bin/keepalived_notify.sh"
# keepalived's names for the checks: its log names them, and the drill reads that log.
TRACK_SCRIPTS = {4: "keepalived_check_ipv4", 6: "keepalived_check_ipv6"}
KEEPALIVED_STATUS = "/run/keepalived_status"
# How long a failing keepalived check waits for its probe's reply (the checks' `ping -W`).
CHECK_PING_WAIT_S = 1
SYSCTL_PATH = "/etc/sysctl.d/90-vxlab-routing.conf"
INTERFACES = "/etc/network/interfaces"


def check_commands(lab: Lab) -> dict[int, str]:
    """What keepalived runs every check interval, per family: ping itself, not the seed's bash
    wrapper scripts. On a TCG guest starting bash doubled each check's cost: with both checks
    running every second a tenant idled at 35 % of a core with the wrappers, 18 % without (5 %
    with keepalived stopped), and a class runs several groups on one hypervisor."""
    return {
        family: f"/usr/bin/ping -{family} -c 1 -W {CHECK_PING_WAIT_S} {probe}"
        for family, probe in ((4, lab.internet.probe4), (6, lab.internet.probe6))
    }


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: str
    kind: Kind
    mode: int = 0o644


@dataclass(frozen=True)
class Machine:
    name: str
    role: Role
    files: tuple[RenderedFile, ...]

    def file(self, path: str) -> RenderedFile:
        return next(f for f in self.files if f.path == path)


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


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(FILES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # XML and HTML templates escape every value; the other files are not markup.
        autoescape=jinja2.select_autoescape(enabled_extensions=("xslt.j2", "html.j2"), default_for_string=False),
    )


def render_template(name: str, **context: Any) -> str:
    return _env().get_template(name).render(context)


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


def _tenant_view(lab: Lab, color: str, t: Tenant) -> dict[str, Any]:
    return {**t.__dict__, "color": color, "subif": lab.router_subif(t.link_vlan)}


class _Renderer:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.label = stack_label(lab.group)
        self.base: dict[str, Any] = {
            **{name: getattr(lab, name) for name in type(lab).model_fields},
            "label": self.label,
            "managed": f"Managed by vxlab ({self.label}): edit the stack config, not this file.",
            "tenants": [_tenant_view(lab, c, t) for c, t in lab.tenants.items()],
            "up_if": lab.router_subif(lab.upstream.vlan),
            "upstream_net4": lab.upstream.host_ipv4.network,
            "upstream_net6": lab.upstream.host_ipv6.network,
            "router_mtu": router_nic_mtu(lab),
            "upstream_mtu": UPSTREAM_MTU,
        }

    def file(self, template: str, path: str, kind: Kind, mode: int = 0o644, **extra: Any) -> RenderedFile:
        content = _env().get_template(template).render({**self.base, **extra})
        return RenderedFile(path, content, kind, mode)

    def host(self) -> Machine:
        lab = self.lab
        extra: dict[str, Any] = {
            "ports": host_ports(lab),
            "routes": host_routes(lab),
            "forwards": ssh_forwards(lab) + lxd_forwards(lab),
            "internet_addresses": internet_addresses(lab),
        }
        return Machine(
            "host",
            "host",
            (
                self.file(
                    "host/host-switch.sh.j2",
                    host_switch_path(lab),
                    "host-switch",
                    0o755,
                    **extra,
                ),
                self.file("common/sysctl-routing.j2", host_sysctl_path(lab), "sysctl"),
            ),
        )

    def router(self) -> Machine:
        return Machine(
            self.lab.router.name,
            "router",
            (
                self.file("router/interfaces.j2", INTERFACES, "ifupdown"),
                self.file("common/sysctl-routing.j2", SYSCTL_PATH, "sysctl"),
                self.file("router/rt_tables.j2", "/etc/iproute2/rt_tables.d/vxlab.conf", "rt_tables"),
                self.file("router/rules.v4.j2", "/etc/iptables/rules.v4", "iptables"),
                self.file("router/rules.v6.j2", "/etc/iptables/rules.v6", "ip6tables"),
            ),
        )

    def tenant(self, t: Tenant) -> Machine:
        lab = self.lab
        ctx: dict[str, Any] = {
            "tenant": t,
            "peer": lab.peer_of(t),
            "tunnel_remote": tunnel_remote(lab, t),
            "notify_script": KEEPALIVED_NOTIFY,
            "track_scripts": TRACK_SCRIPTS,
            "status_file": KEEPALIVED_STATUS,
            "state": "MASTER" if lab.master() is t else "BACKUP",
            "instance4": lab.vrrp_instance(4),
            "instance6": lab.vrrp_instance(6),
            "check_commands": check_commands(lab),
        }
        return Machine(
            t.name,
            "tenant",
            (
                self.file("tenant/interfaces.j2", INTERFACES, "ifupdown", **ctx),
                self.file("common/sysctl-routing.j2", SYSCTL_PATH, "sysctl"),
                self.file("tenant/radvd.conf.j2", "/etc/radvd.conf", "radvd"),
                self.file("tenant/keepalived.conf.j2", "/etc/keepalived/keepalived.conf", "keepalived", **ctx),
                self.file("tenant/keepalived_notify.sh.j2", KEEPALIVED_NOTIFY, "script", 0o755, **ctx),
                self.file(
                    "tenant/tmpfiles-keepalived.conf.j2", "/etc/tmpfiles.d/vxlab-keepalived.conf", "tmpfiles", **ctx
                ),
                self.file(
                    "tenant/lxd-preseed.yaml.j2",
                    "/etc/vxlab/lxd-preseed.yaml",
                    "lxd-preseed",
                    https_address=lxd_address(lab, t),
                    lxd=lab.lxd,
                ),
            ),
        )

    def dhcp_server(self, t: Tenant) -> Machine:
        lab = self.lab
        server, partner = t.dhcp_server, lab.peer_of(t).dhcp_server
        ports = lab.dhcp.failover
        own, peer = (
            (ports.primary_port, ports.secondary_port)
            if server.role == "primary"
            else (ports.secondary_port, ports.primary_port)
        )
        ctx: dict[str, Any] = {"server": server, "partner": partner, "own_port": own, "peer_port": peer}
        return Machine(
            server.name,
            "dhcp-server",
            (
                self.file("container/interfaces-dhcp-server.j2", INTERFACES, "ifupdown", **ctx),
                self.file("container/isc-dhcp-server.default.j2", "/etc/default/isc-dhcp-server", "shell-vars"),
                self.file("container/dhcpd.conf.j2", "/etc/dhcp/dhcpd.conf", "dhcpd", **ctx),
            ),
        )

    def client(self, name: str) -> Machine:
        return Machine(
            name, "client", (self.file("container/interfaces-client.j2", INTERFACES, "ifupdown", client=name),)
        )


def render_lab(lab: Lab) -> list[Machine]:
    """Every machine of the lab with every file vxlab writes on it."""
    r = _Renderer(lab)
    machines = [r.host(), r.router()]
    for t in lab.tenants.values():
        machines.append(r.tenant(t))
        machines.append(r.dhcp_server(t))
        machines.extend(r.client(c) for c in t.clients)
    return machines


def write_tree(machines: list[Machine], out: Path) -> list[Path]:
    """`out/<machine>/<absolute path>` for every file; returns what was written."""
    written = []
    for machine in machines:
        for f in machine.files:
            target = out / machine.name / f.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.content)
            target.chmod(f.mode)
            written.append(target)
    return written
