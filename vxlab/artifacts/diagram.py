"""The group's topology drawn from the model: Graphviz source built here, laid out by `dot`.

Each machine is one node whose label is a table of its interfaces (from `vxlab.model.addressing`),
each interface a port the links attach to, so every address sits next to the wire it is on.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from pathlib import Path

import graphviz

from vxlab.model.addressing import Interface, interfaces
from vxlab.model.lab import Lab
from vxlab.model.naming import stack_label
from vxlab.model.topology import host_ports

FORMATS = ("svg", "png", "gv")
# A4 landscape in inches, less a 1 cm margin: dot scales the drawing down to fit.
A4_LANDSCAPE = "10.9,7.5"
PNG_DPI = "200"
FONT = "DejaVu Sans"
COLORS = {"host": "#eeeeee", "router": "#f4c7c3", "blue": "#c9daf8", "green": "#d9ead3", "internet": "#fff2cc"}


def _port(name: str) -> str:
    """A table cell's PORT: letters and digits only, so dot never reads part of it as a compass point."""
    return "p_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _row(i: Interface) -> str:
    addresses = "<br/>".join(escape(a) for a in (*i.ipv4, *i.ipv6)) or " "
    detail = " · ".join(x for x in (i.vlan_text and f"VLAN {i.vlan_text}", i.mac) if x)
    first = f"<b>{escape(i.name)}</b>" + (f"<br/>{escape(detail)}" if detail else "")
    note = f'<br/><font point-size="8">{escape(i.note)}</font>' if i.note else ""
    return f'<tr><td port="{_port(i.name)}" align="left">{first}</td><td align="left">{addresses}{note}</td></tr>'


def _container(name: str, nic: Interface, color: str) -> str:
    """A container in one narrow column, so six fit under the tenants on a landscape page."""
    lines = [f"{escape(nic.name)} · VLAN {nic.vlan_text}", *(escape(a) for a in (*nic.ipv4, *nic.ipv6))]
    return (
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="{color}">'
        f'<tr><td port="{_port(nic.name)}"><b>{escape(name)}</b></td></tr>'
        f'<tr><td>{"<br/>".join(lines)}<br/><font point-size="8">{escape(nic.note)}</font></td></tr></table>>'
    )


def _table(title: str, rows: Iterable[Interface], color: str) -> str:
    body = "".join(_row(i) for i in rows)
    return (
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="{color}">'
        f'<tr><td colspan="2"><b>{escape(title)}</b></td></tr>{body}</table>>'
    )


def diagram(lab: Lab, stack: str) -> graphviz.Graph:
    """The whole group: Internet and upstream, host switch, router, both tenants, six containers."""
    rows = interfaces(lab)

    def of(machine: str) -> list[Interface]:
        return [i for i in rows if i.machine == machine]

    hv, up, seg, vrrp = lab.hypervisor, lab.upstream, lab.segment, lab.vrrp
    g = graphviz.Graph(name=stack_label(lab.group), engine="dot")
    g.attr(
        "graph",
        label=f"vxlab {stack_label(lab.group)} (stack {stack}): VXLAN lab on Open vSwitch and LXD",
        labelloc="t",
        fontname=FONT,
        fontsize="16",
        rankdir="TB",
        nodesep="0.3",
        ranksep="0.5",
    )
    g.attr("node", shape="plaintext", fontname=FONT, fontsize="10")
    g.attr("edge", fontname=FONT, fontsize="9")

    net = lab.internet
    g.node(
        "internet",
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="{COLORS["internet"]}">'
        f"<tr><td><b>Internet</b> (probes and resolvers)</td></tr>"
        f"<tr><td>probe {net.probe4} · {net.probe6}<br/>DNS {net.dns4} · {net.dns6}</td></tr>"
        f"<tr><td>upstream gateway {up.gateway4} · {escape(str(up.gateway6))}</td></tr></table>>",
    )
    g.node("host", _table(f"host: OVS switch {hv.bridge}", of("host"), COLORS["host"]))
    g.node(lab.router.name, _table(f"{lab.router.name} (router VM)", of(lab.router.name), COLORS["router"]))
    g.edge("internet", f"host:{_port(up.svi)}", label=f"VLAN {up.vlan} (SVI {up.svi})")

    nics = {lab.router.name: lab.router.nic} | {t.name: t.nic for t in lab.tenants.values()}
    for port in host_ports(lab):
        vlans = ",".join(str(v) for v in port.vlans)
        g.edge(f"host:{_port(port.tap)}", f"{port.vm}:{_port(nics[port.vm])}", label=f"{port.mode} {vlans}")

    master = lab.master()
    for color, t in lab.tenants.items():
        with g.subgraph(name=f"cluster_{color}") as c:
            c.attr(label=f"{color} tenant", style="rounded", color="#888888", fontname=FONT)
            c.node(t.name, _table(f"{t.name} (tenant VM, LXD)", of(t.name), COLORS[color]))
            with c.subgraph(name=f"{color}_containers") as row:
                row.attr(rank="same")
                for container in t.containers:
                    (nic,) = of(container)
                    row.node(container, _container(container, nic, COLORS[color]))
                    c.edge(f"{t.name}:{_port(seg.svi)}", f"{container}:{_port(nic.name)}")

    blue, green = lab.tenants["blue"], lab.tenants["green"]
    g.edge(
        f"{blue.name}:{_port(blue.vxlan_port)}",
        f"{green.name}:{_port(green.vxlan_port)}",
        label=f"VXLAN VNI {seg.vni}",
        style="dashed",
        penwidth="2",
        constraint="false",
    )
    backup = lab.peer_of(master)
    g.node(
        "vrrp",
        f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="#ffffff">'
        f"<tr><td><b>VRRPv3 gateway</b> (VRIDs {vrrp.vrid4} / {vrrp.vrid6}, advert {vrrp.advert_int} s)</td></tr>"
        f"<tr><td>VIP {vrrp.vip4} · {escape(str(vrrp.vip6))}</td></tr>"
        f"<tr><td>master {master.name} ({master.vrrp_priority}) · backup {backup.name} "
        f"({backup.vrrp_priority})</td></tr>"
        f"<tr><td>segment {seg.ipv4} · {seg.ipv6}</td></tr></table>>",
    )
    g.edge("vrrp", f"{master.name}:{_port(seg.svi)}", style="dotted", label="holds the VIPs")
    return g


def source(lab: Lab, stack: str) -> str:
    return str(diagram(lab, stack).source)


def write(lab: Lab, stack: str, out: Path) -> Path:
    """Lay the diagram out into `out` (its suffix names the format: .svg, .png or .gv)."""
    fmt = out.suffix.lstrip(".")
    graph = diagram(lab, stack)
    if fmt == "gv":
        out.write_text(str(graph.source))
        return out
    if fmt == "png":
        # Scaled to a landscape A4 page. (An SVG scales itself: with `size`, Graphviz would write a
        # viewBox that disagrees with its own scale transform, and a browser crops the drawing.)
        graph.attr("graph", size=A4_LANDSCAPE, ratio="compress", dpi=PNG_DPI)
    out.write_bytes(graph.pipe(format=fmt))
    return out
