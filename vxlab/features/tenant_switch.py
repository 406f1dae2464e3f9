"""Seed §5.1-5.2 and §6.1-6.2: each tenant's OVS bridge with the fake-bridge SVI of the
segment VLAN and the VXLAN port to the other tenant, and routing on."""

from __future__ import annotations

import shlex

from vxlab.features import graders
from vxlab.features.common import (
    IFUPDOWN,
    INTERFACES,
    NETWORK_RELOAD,
    NETWORK_RELOADED,
    SYSCTL,
    routes_both_families,
    routing_sysctl,
)
from vxlab.features.spec import Feature, FileSpec, Machine, Step, Task
from vxlab.model.lab import Lab
from vxlab.model.mtu import tunnel_remote
from vxlab.model.stages import vm_sections


def _segment_steps(lab: Lab, machine: Machine) -> list[Step]:
    """The VXLAN segment carries VRRP only once both underlays are up: wait for this tenant's
    network restart to be over (a tenant the students configured has its SVI before it), then
    for the peer's underlay."""
    peer = lab.peer_of(next(t for t in lab.tenants.values() if t.name == machine.name))
    wait_reload = f"until [ -e {NETWORK_RELOADED} ]; do sleep 1; done"
    wait_svi = f"until ip link show dev {lab.segment.svi} >/dev/null 2>&1; do sleep 1; done"
    wait_peer = f"until ping -c 1 -W 1 {peer.tenant_ipv4.ip} >/dev/null; do sleep 2; done"
    return [
        Step(
            name="segment",
            create=(
                f"timeout 900 sh -c {shlex.quote(wait_reload)} && {wait_svi} && "
                f"timeout 900 sh -c {shlex.quote(wait_peer)}"
            ),
            delete="echo 'nothing to undo: a wait'",
            after=(f"file:{INTERFACES}",),
        )
    ]


def _tasks(lab: Lab) -> list[Task]:
    seg, tasks = lab.segment, []
    for t, peer in lab.tenant_pairs():
        n = vm_sections(lab)[t.name]
        tasks += [
            Task(
                f"{n}.1",
                f"{address} on {t.nic}",
                t.name,
                graders.ADDRESSES,
                graders.address_on_vlan(str(address), None),
                expect=f"{address} on {t.nic}, the link to {lab.router.name}",
            )
            for address in (t.tenant_ipv4, t.tenant_ipv6)
        ]
        tasks += [
            Task(
                f"{n}.1",
                f"the SVI {seg.svi} holds the tenant's segment addresses",
                t.name,
                graders.ADDRESSES,
                graders.on_link(seg.svi, graders.holds_addresses(str(t.svi_ipv4), str(t.svi_ipv6), str(t.svi_ll))),
                expect=f"{t.svi_ipv4}, {t.svi_ipv6} and {t.svi_ll}",
            ),
            Task(
                f"{n}.1",
                f"{seg.svi} is a fake bridge of {t.ovs_bridge} on VLAN {seg.vlan}",
                t.name,
                f"ovs-vsctl br-to-parent {seg.svi} -- br-to-vlan {seg.svi} 2>&1",
                graders.fake_bridge(t.ovs_bridge, seg.vlan),
                expect=f"parent {t.ovs_bridge}, VLAN {seg.vlan}",
            ),
            Task(
                f"{n}.1",
                f"a VXLAN port to {peer.name} with VNI {seg.vni}",
                t.name,
                "ovs-vsctl --data=bare --no-headings --format=csv --columns=name,options find Interface type=vxlan",
                graders.vxlan_tunnel(str(tunnel_remote(lab, t)), seg.vni),
                expect=f"remote_ip={tunnel_remote(lab, t)} key={seg.vni}",
            ),
            Task(
                f"{n}.1",
                f"{seg.svi} carries the segment's MTU ({seg.mtu})",
                t.name,
                graders.ADDRESSES,
                graders.mtu_of(seg.svi, seg.mtu),
                expect=f"{seg.mtu}: a full-size packet and its VXLAN header fit the {seg.underlay_mtu}-byte underlay",
            ),
            routes_both_families(t.name, f"{n}.2"),
        ]
    return tasks


FEATURE = Feature(
    name="tenant-switch",
    title="the tenants' OVS bridge, the sw-vlan7 SVI and the VXLAN tunnel port, routing on",
    seed_sections=("5.1", "5.2", "6.1", "6.2"),
    files=(
        FileSpec("tenant", "tenant/interfaces.j2", INTERFACES, "ifupdown", reload=NETWORK_RELOAD),
        routing_sysctl("tenant"),
    ),
    packages={"tenant": ("ifupdown", "openvswitch-switch", "iputils-ping")},
    checkers={"ifupdown": IFUPDOWN, "sysctl": SYSCTL},
    steps={"tenant": _segment_steps},
    tasks=_tasks,
)
