"""Seed §5.7 and §6.7: an ISC DHCP failover pair, one server in each tenant's DHCP container,
and the client containers that lease from it."""

from __future__ import annotations

from typing import Any

from vxlab.features.common import IFUPDOWN, INTERFACES, SHELL_VARS
from vxlab.features.spec import Checker, Feature, FileSpec, Machine, RenderedFile, Sandbox, result
from vxlab.model.lab import Lab, Tenant

DHCPD_CONF = "/etc/dhcp/dhcpd.conf"


def _server_context(lab: Lab, tenant: Tenant | None, machine: str) -> dict[str, Any]:
    assert tenant is not None  # a tenant's container
    server, partner = tenant.dhcp_server, lab.peer_of(tenant).dhcp_server
    ports = lab.dhcp.failover
    own, peer = (
        (ports.primary_port, ports.secondary_port)
        if server.role == "primary"
        else (ports.secondary_port, ports.primary_port)
    )
    return {"server": server, "partner": partner, "own_port": own, "peer_port": peer}


def _client_context(lab: Lab, tenant: Tenant | None, machine: str) -> dict[str, Any]:
    return {"client": machine}


def check_dhcpd(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    conf = run.put("dhcpd.conf", f.content)
    leases = run.put("dhcpd.leases", "")
    return result(run.run(["dhcpd", "-4", "-t", "-q", "-cf", str(conf), "-lf", str(leases)]))


FEATURE = Feature(
    name="dhcp-failover",
    title="an ISC DHCP failover pair in the two DHCP containers, and their clients",
    seed_sections=("5.7", "6.7"),
    files=(
        FileSpec("dhcp-server", "container/interfaces-dhcp-server.j2", INTERFACES, "ifupdown", context=_server_context),
        FileSpec("dhcp-server", "container/isc-dhcp-server.default.j2", "/etc/default/isc-dhcp-server", "shell-vars"),
        FileSpec("dhcp-server", "container/dhcpd.conf.j2", DHCPD_CONF, "dhcpd", context=_server_context),
        FileSpec("client", "container/interfaces-client.j2", INTERFACES, "ifupdown", context=_client_context),
    ),
    services={"dhcp-server": {"isc-dhcp-server": DHCPD_CONF}},
    checkers={
        "ifupdown": IFUPDOWN,
        "shell-vars": SHELL_VARS,
        "dhcpd": Checker("dhcpd -t", check_dhcpd, ("dhcpd",), debian=("isc-dhcp-server",)),
    },
)
