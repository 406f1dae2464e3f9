"""The addressing plan: every interface of every machine of one group, derived from the model.

The diagram and the handout both draw from this list, so an address is written down once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vxlab.model.lab import Lab
from vxlab.model.topology import host_ports

Mode = Literal["access", "trunk", "tagged", "internal", "bridge", "vxlan", "nic"]
# A container's MAC is LXD's choice, made when it is launched.
LXD_MAC = "set by LXD"


@dataclass(frozen=True)
class Interface:
    machine: str
    name: str
    mode: Mode
    vlans: tuple[int, ...]
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    mac: str = ""
    note: str = ""

    @property
    def vlan_text(self) -> str:
        if not self.vlans:
            return ""
        listed = ",".join(str(v) for v in self.vlans)
        return f"trunk {listed}" if self.mode == "trunk" else listed


@dataclass(frozen=True)
class MachineRow:
    name: str
    role: Literal["host", "router", "tenant", "dhcp-server", "client"]
    on: str  # the machine it runs on: the hypervisor, or its tenant VM


def machines(lab: Lab) -> list[MachineRow]:
    rows = [MachineRow("host", "host", ""), MachineRow(lab.router.name, "router", "host")]
    for t in lab.tenants.values():
        rows.append(MachineRow(t.name, "tenant", "host"))
        rows.append(MachineRow(t.dhcp_server.name, "dhcp-server", t.name))
        rows.extend(MachineRow(c, "client", t.name) for c in t.clients)
    return rows


def _host(lab: Lab) -> list[Interface]:
    hv, up = lab.hypervisor, lab.upstream
    where = f"in namespace {hv.svi_netns}" if hv.svi_netns else "on the host"
    rows = [Interface("host", hv.bridge, "bridge", (), (), (), note=f"OVS distribution switch ({hv.datapath_type})")]
    if hv.uplink:
        rows.append(Interface("host", hv.uplink, "trunk", (), (), (), note="uplink"))
    rows.append(
        Interface(
            "host", up.svi, "internal", (up.vlan,), (str(up.host_ipv4),), (str(up.host_ipv6),), note=f"SVI, {where}"
        )
    )
    rows += [Interface("host", p.tap, p.mode, p.vlans, (), (), p.mac, note=f"to {p.vm}") for p in host_ports(lab)]
    return rows


def _router(lab: Lab) -> list[Interface]:
    r = lab.router
    mac = next(p.mac for p in host_ports(lab) if p.vm == r.name)
    vlans = (lab.upstream.vlan, *(t.link_vlan for t in lab.tenants.values()))
    rows = [
        Interface(r.name, r.nic, "trunk", vlans, (), (), mac, note=f"on host tap{r.tap}"),
        Interface(
            r.name,
            lab.router_subif(lab.upstream.vlan),
            "tagged",
            (lab.upstream.vlan,),
            (str(r.upstream_ipv4),),
            (str(r.upstream_ipv6),),
            note=f"upstream, default via {lab.upstream.gateway4} and {lab.upstream.gateway6}",
        ),
    ]
    rows += [
        Interface(
            r.name,
            lab.router_subif(t.link_vlan),
            "tagged",
            (t.link_vlan,),
            (str(t.router_ipv4),),
            (str(t.router_ipv6), str(t.router_ll)),
            note=f"to {t.name}, table {t.table_name} ({t.table_id}), fwmark {t.fwmark:#x}",
        )
        for t in lab.tenants.values()
    ]
    return rows


def _tenants(lab: Lab) -> list[Interface]:
    seg, rows = lab.segment, []
    for t in lab.tenants.values():
        peer = lab.peer_of(t)
        mac = next(p.mac for p in host_ports(lab) if p.vm == t.name)
        rows += [
            Interface(
                t.name,
                t.nic,
                "access",
                (t.link_vlan,),
                (str(t.tenant_ipv4),),
                (str(t.tenant_ipv6),),
                mac,
                note=f"underlay on host tap{t.tap}, MTU {seg.underlay_mtu}",
            ),
            Interface(t.name, t.ovs_bridge, "bridge", (), (), (), note=f"OVS bridge of the segment, MTU {seg.mtu}"),
            Interface(
                t.name,
                seg.svi,
                "internal",
                (seg.vlan,),
                (str(t.svi_ipv4),),
                (str(t.svi_ipv6), str(t.svi_ll)),
                note=f"fake-bridge SVI, VRRP priority {t.vrrp_priority}",
            ),
            Interface(
                t.name,
                t.vxlan_port,
                "vxlan",
                (),
                (),
                (),
                note=f"VXLAN VNI {seg.vni}, {t.tenant_ipv4.ip} to {peer.tenant_ipv4.ip} ({peer.name})",
            ),
        ]
    return rows


def _containers(lab: Lab) -> list[Interface]:
    seg, rows = lab.segment, []
    slaac = f"SLAAC in {seg.ipv6}"
    for t in lab.tenants.values():
        server = t.dhcp_server
        rows.append(
            Interface(
                server.name,
                "eth0",
                "nic",
                (seg.vlan,),
                (str(server.ipv4),),
                (slaac,),
                LXD_MAC,
                note=f"DHCP {server.role} on {t.name}",
            )
        )
        rows += [
            Interface(
                c,
                "eth0",
                "nic",
                (seg.vlan,),
                (f"DHCP {lab.dhcp.range_start}-{lab.dhcp.range_end}",),
                (slaac,),
                LXD_MAC,
                note=f"on {t.name}",
            )
            for c in t.clients
        ]
    return rows


def interfaces(lab: Lab) -> list[Interface]:
    """Every interface of every machine, machine by machine in `machines()` order."""
    return [*_host(lab), *_router(lab), *_tenants(lab), *_containers(lab)]
