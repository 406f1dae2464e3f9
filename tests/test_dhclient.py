"""The clients' dhclient.conf (issue 29): after a power cut a client asks again within seconds,
not dhclient's five minutes, and LXD starts each tenant's DHCP server before its clients."""

from __future__ import annotations

import pytest

from vxlab.build.provision import DHCP_SERVER_START_PRIORITY, container_plans
from vxlab.build.render import render_lab
from vxlab.features.dhcp_failover import DHCLIENT_CONF
from vxlab.features.spec import RenderedFile
from vxlab.model.lab import Lab
from vxlab.verify.daemons import check_file


def _client(lab: Lab) -> RenderedFile:
    return next(m for m in render_lab(lab) if m.role == "client").file(DHCLIENT_CONF)


@pytest.mark.parametrize(("statement", "key"), [("retry", "retry"), ("backoff-cutoff", "backoff_cutoff")])
def test_the_client_timers_come_from_the_model(dev_lab: Lab, statement: str, key: str) -> None:
    assert f"\n{statement} {getattr(dev_lab.dhcp.client, key)};\n" in _client(dev_lab).content


def test_the_client_still_asks_for_the_segments_mtu(dev_lab: Lab) -> None:
    assert "interface-mtu" in _client(dev_lab).content


def test_the_dhcp_servers_get_no_dhclient_conf(dev_lab: Lab) -> None:
    servers = [m for m in render_lab(dev_lab) if m.role == "dhcp-server"]
    assert servers and not any(f.path == DHCLIENT_CONF for m in servers for f in m.files)


@pytest.mark.parametrize("tenant", ["blueTenant", "greenTenant"])
def test_lxd_starts_the_dhcp_server_before_its_clients(dev_lab: Lab, tenant: str) -> None:
    t = next(t for t in dev_lab.tenants.values() if t.name == tenant)
    machines = {m.name: m for m in render_lab(dev_lab)}
    priority = {
        p.name: int(p.config.get("boot.autostart.priority", "0")) for p in container_plans(dev_lab, t, machines)
    }
    assert priority[t.dhcp_server.name] == DHCP_SERVER_START_PRIORITY
    assert all(priority[c] < DHCP_SERVER_START_PRIORITY for c in t.clients)


@pytest.mark.daemons
def test_dhclient_reads_the_rendered_file(dev_lab: Lab) -> None:
    machine = next(m for m in render_lab(dev_lab) if m.role == "client")
    verdict = check_file(machine.file(DHCLIENT_CONF), machine, dev_lab)
    assert verdict.ok, verdict.detail


@pytest.mark.daemons
@pytest.mark.parametrize(
    "content",
    ["retry ten;\n", "backoff-cutoff 5\nrequest subnet-mask;\n", "bogus-statement 3;\n"],
    ids=["not-a-number", "missing-semicolon", "unknown-statement"],
)
def test_dhclient_refuses_a_broken_conf(dev_lab: Lab, content: str) -> None:
    machine = next(m for m in render_lab(dev_lab) if m.role == "client")
    assert not check_file(RenderedFile(DHCLIENT_CONF, content, "dhclient"), machine, dev_lab).ok
