"""Seed §5.7 and §6.7: an ISC DHCP failover pair, one server in each tenant's DHCP container,
and the client containers that lease from it."""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Any

from vxlab.features import graders
from vxlab.features.common import IFUPDOWN, INTERFACES, SHELL_VARS, default_route
from vxlab.features.spec import (
    Checker,
    ConfigPath,
    Feature,
    FileSpec,
    Machine,
    RenderedFile,
    RuleContext,
    Sandbox,
    Task,
    output,
    result,
)
from vxlab.model.lab import DhcpServer, Lab, Tenant
from vxlab.model.stages import last_tenant, vm_sections

DHCPD_CONF = "/etc/dhcp/dhcpd.conf"


def failover_ports(lab: Lab, server: DhcpServer) -> tuple[int, int]:
    """The server's own failover port and its peer's: the primary's is `primary_port`."""
    ports = lab.dhcp.failover
    if server.role == "primary":
        return ports.primary_port, ports.secondary_port
    return ports.secondary_port, ports.primary_port


def _server_context(lab: Lab, tenant: Tenant | None, machine: str) -> dict[str, Any]:
    assert tenant is not None  # a tenant's container
    server, partner = tenant.dhcp_server, lab.peer_of(tenant).dhcp_server
    own, peer = failover_ports(lab, server)
    return {"server": server, "partner": partner, "own_port": own, "peer_port": peer}


def _client_context(lab: Lab, tenant: Tenant | None, machine: str) -> dict[str, Any]:
    return {"client": machine}


def check_dhcpd(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    conf = run.put("dhcpd.conf", f.content)
    leases = run.put("dhcpd.leases", "")
    return result(run.run(["dhcpd", "-4", "-t", "-q", "-cf", str(conf), "-lf", str(leases)]))


DHCLIENT_CONF = "/etc/dhcp/dhclient.conf"
# What dhclient prints for each error of its configuration file: `FILE line N: ...`.
_CONF_ERROR = re.compile(r"line \d+: ")


def check_dhclient(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    """dhclient reads the file with its own parser (-n: it configures no interface, and with no
    broadcast interface in a fresh network namespace it stops right after); it has no check mode,
    so a run is good when it printed no `line N:` error."""
    conf = run.put("dhclient.conf", f.content)
    proc = run.in_namespaces(
        f"exec dhclient -n -1 -d -cf {conf} -lf {run.dir}/leases -pf {run.dir}/pid -sf /bin/true", timeout=30
    )
    diagnostics = output(proc)
    return (not _CONF_ERROR.search(diagnostics)), diagnostics


def rules(r: RuleContext) -> None:
    """One primary and one secondary on two ports, sane lease times, a range of free host addresses."""
    lab = r.lab
    failover = lab.dhcp.failover
    if failover.primary_port == failover.secondary_port:
        r.fail(
            (("dhcp", "failover", "primary_port"), ("dhcp", "failover", "secondary_port")),
            f"both failover peers use port {failover.primary_port}",
            "use two different ports (the seed uses 519 and 520)",
        )
    roles = sorted(t.dhcp_server.role for t in lab.tenants.values())
    if roles != ["primary", "secondary"]:
        r.fail(
            (("tenants", "blue", "dhcp_server", "role"), ("tenants", "green", "dhcp_server", "role")),
            f"the DHCP servers' roles are {roles}",
            "make one DHCP server primary and the other secondary",
        )
    if lab.dhcp.max_lease_time < lab.dhcp.default_lease_time:
        r.fail(
            (("dhcp", "max_lease_time"),), "shorter than default_lease_time", "set max_lease_time >= default_lease_time"
        )
    _range(r)


def _range(r: RuleContext) -> None:
    lab = r.lab
    seg4 = lab.segment.ipv4
    start, end = lab.dhcp.range_start, lab.dhcp.range_end
    usable = [a for a in (start, end) if a not in seg4 or a in (seg4.network_address, seg4.broadcast_address)]
    if usable:
        r.fail(
            (("dhcp", "range_start"), ("dhcp", "range_end")),
            f"the DHCP range {start}-{end} is not inside the usable hosts of {seg4}",
            f"choose a range between {seg4.network_address + 1} and {seg4.broadcast_address - 1}",
        )
    if start > end:
        r.fail((("dhcp", "range_end"),), f"range_end {end} is before range_start {start}", "swap them")
    fixed: list[tuple[ConfigPath, IPv4Address]] = [(("vrrp", "vip4"), lab.vrrp.vip4.ip)]
    for color, t in lab.tenants.items():
        fixed.append((("tenants", color, "svi_ipv4"), t.svi_ipv4.ip))
        fixed.append((("tenants", color, "dhcp_server", "ipv4"), t.dhcp_server.ipv4.ip))
    for path, address in fixed:
        if start <= address <= end:
            r.fail(
                (path,),
                f"{address} lies inside the DHCP range {start}-{end}",
                "move the address out of the range or shrink the range",
            )


LEASES = "/var/lib/dhcp/dhcpd.leases"


def static_address(lab: Lab, tenant: Tenant, section: str) -> Task:
    server = tenant.dhcp_server
    return Task(
        section,
        f"{server.name} holds its static address",
        server.name,
        "ip -o -4 addr show dev eth0",
        graders.holds_addresses(str(server.ipv4)),
        where="container",
        expect=str(server.ipv4),
    )


def leased(lab: Lab, client: str, section: str) -> Task:
    d = lab.dhcp
    return Task(
        section,
        "IPv4 from the DHCP range",
        client,
        "ip -o -4 addr show dev eth0",
        graders.addresses_in(str(lab.segment.ipv4), str(d.range_start), str(d.range_end)),
        where="container",
        expect=f"an address in {d.range_start}-{d.range_end}",
    )


def dhcp_default_route(lab: Lab, tenant: Tenant, container: str, section: str) -> Task:
    """The container's IPv4 default route is the VIP, and no other: a client's comes with its
    lease (`option routers`), the server's is its own static `gateway`."""
    vip = lab.vrrp.vip4.ip
    source = (
        "the DHCP server container's `gateway`"
        if container == tenant.dhcp_server.name
        else "both DHCP servers' `option routers`"
    )
    return default_route(
        container, 4, vip, section, f"{source} must be the VIP {vip}, and no static default route may stay beside it"
    )


def failover_state(lab: Lab, server: str, section: str) -> Task:
    """The server's failover state and its partner's, as it last wrote them (both normal)."""
    return Task(
        section,
        f"{server} and its failover peer are both normal",
        server,
        f"grep -E '(my|partner) state' {LEASES} 2>/dev/null | tail -n 2",
        graders.failover_normal,
        where="container",
        expect="my state normal, partner state normal",
        hint="both servers' failover peer declarations must name each other's address and port",
    )


def _tasks(lab: Lab) -> list[Task]:
    tasks: list[Task] = []
    for t in lab.tenants.values():
        n, server = vm_sections(lab)[t.name], t.dhcp_server
        tasks += [
            static_address(lab, t, f"{n}.7"),
            Task(
                f"{n}.7",
                "the ISC DHCP server runs",
                server.name,
                "systemctl is-active isc-dhcp-server",
                graders.service_active,
                where="container",
                expect="active",
            ),
        ]
        tasks += [leased(lab, c, f"{n}.7") for c in t.clients]
        tasks += [dhcp_default_route(lab, t, c, f"{n}.7") for c in t.containers]
    # The pair is whole once both tenants' sections are done: the later one checks it.
    n = vm_sections(lab)[last_tenant(lab).name]
    tasks += [failover_state(lab, t.dhcp_server.name, f"{n}.7") for t in lab.tenants.values()]
    return tasks


FEATURE = Feature(
    name="dhcp-failover",
    title="an ISC DHCP failover pair in the two DHCP containers, and their clients",
    seed_sections=("5.7", "6.7"),
    files=(
        FileSpec("dhcp-server", "container/interfaces-dhcp-server.j2", INTERFACES, "ifupdown", context=_server_context),
        FileSpec("dhcp-server", "container/isc-dhcp-server.default.j2", "/etc/default/isc-dhcp-server", "shell-vars"),
        FileSpec("dhcp-server", "container/dhcpd.conf.j2", DHCPD_CONF, "dhcpd", context=_server_context),
        FileSpec("client", "container/interfaces-client.j2", INTERFACES, "ifupdown", context=_client_context),
        FileSpec("client", "container/dhclient.conf.j2", DHCLIENT_CONF, "dhclient", context=_client_context),
    ),
    services={"dhcp-server": {"isc-dhcp-server": DHCPD_CONF}},
    checkers={
        "ifupdown": IFUPDOWN,
        "shell-vars": SHELL_VARS,
        "dhcpd": Checker("dhcpd -t", check_dhcpd, ("dhcpd",), debian=("isc-dhcp-server",)),
        "dhclient": Checker(
            "dhclient -n in a netns", check_dhclient, ("unshare", "dhclient"), debian=("isc-dhcp-client",)
        ),
    },
    rules=rules,
    tasks=_tasks,
)
