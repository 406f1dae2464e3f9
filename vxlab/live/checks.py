"""The seed's section 7 as tasks, declared from the model: the same record, graders and
observations as the chapters' grading steps (a §7 step that states what a chapter already
judged is that chapter's task with section 7), judged on a snapshot of the running lab.
`vxlab check` passes when every one of them is done."""

from __future__ import annotations

from vxlab import features
from vxlab.features import graders
from vxlab.features.common import ping
from vxlab.features.dhcp_failover import dhcp_default_route, leased, static_address
from vxlab.features.keepalived import vips_on
from vxlab.features.radvd import ra_default_route, slaac_address
from vxlab.features.spec import Observation, Task
from vxlab.model.lab import Lab, Tenant


def vxlan_pings(lab: Lab, t: Tenant, peer: Tenant) -> list[Task]:
    """7.1: a tenant reaches the other across the VXLAN, over IPv4 and link-local IPv6."""
    svi = lab.segment.svi
    return [
        Task(
            "7.1",
            f"VXLAN {label} to {peer.name}",
            t.name,
            ping(target),
            graders.replies,
            expect=f"replies from {address}",
            relook=True,
        )
        for label, address, target in (
            ("IPv4", peer.svi_ipv4.ip, peer.svi_ipv4.ip),
            ("IPv6 link-local", peer.svi_ll.ip, f"{peer.svi_ll.ip}%{svi}"),
        )
    ]


def lab_checks(lab: Lab) -> list[Task]:
    seg, net = lab.segment, lab.internet
    checks: list[Task] = []
    for t, peer in lab.tenant_pairs():
        checks += vxlan_pings(lab, t, peer)
        checks.append(
            Task(
                "7.1",
                "bridge FDB learns both sides on the segment VLAN",
                t.name,
                f"ovs-vsctl get Interface {t.vxlan_port} ofport; ovs-appctl fdb/show {t.ovs_bridge}",
                graders.fdb_both_sides(seg.vlan, t.vxlan_port),
                expect=f"MACs learnt on VLAN {seg.vlan} behind a local port and behind {t.vxlan_port}",
                # read after the VXLAN ping: an idle lab's entries age out
                traffic=Observation(t.name, "vm", ping(peer.svi_ipv4.ip)),
            )
        )
    master = lab.master()
    for t in lab.tenants.values():
        checks.append(vips_on(lab, t, "7.3", held=t is master))
        for c in t.containers:
            checks += [
                leased(lab, c, "7.2") if c != t.dhcp_server.name else static_address(lab, t, "7.2"),
                slaac_address(lab, c, "7.2"),
            ]
            checks += [dhcp_default_route(lab, t, c, "7.3"), ra_default_route(lab, c, "7.3")]
            checks += [
                Task(
                    "7.4",
                    f"reaches the IPv{family} probe",
                    c,
                    ping(probe, family),
                    graders.replies,
                    where="container",
                    expect=f"replies from {probe}",
                    relook=True,
                )
                for family, probe in ((4, net.probe4), (6, net.probe6))
            ]
    client = master.clients[0]  # its traffic leaves through the VIPs' owner, the master
    checks += [
        Task(
            "7.5",
            f"IPv{family} conntrack entries marked {master.fwmark}",
            lab.router.name,
            f"conntrack -L -f ipv{family} 2>/dev/null",
            graders.conntrack_marked(master.fwmark, str(prefix)),
            expect=f"entries from {prefix} with mark={master.fwmark} (after a ping from {client})",
            traffic=Observation(client, "container", ping(probe, family)),
            relook=True,
        )
        for family, prefix, probe in ((4, seg.ipv4, net.probe4), (6, seg.ipv6, net.probe6))
    ]
    # What the registry's features add of their own.
    checks += [c for feature in features.REGISTRY if feature.checks for c in feature.checks(lab)]
    return checks
