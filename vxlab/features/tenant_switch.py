"""Seed §5.1-5.2 and §6.1-6.2: each tenant's OVS bridge with the fake-bridge SVI of the
segment VLAN and the VXLAN port to the other tenant, and routing on."""

from __future__ import annotations

import shlex

from vxlab.features.common import IFUPDOWN, INTERFACES, NETWORK_RELOAD, SYSCTL, routing_sysctl
from vxlab.features.spec import Feature, FileSpec, Machine, Step
from vxlab.model.lab import Lab


def _segment_steps(lab: Lab, machine: Machine) -> list[Step]:
    """The VXLAN segment carries VRRP only once both underlays are up: wait for the peer's."""
    peer = lab.peer_of(next(t for t in lab.tenants.values() if t.name == machine.name))
    wait_svi = f"until ip link show dev {lab.segment.svi} >/dev/null 2>&1; do sleep 1; done"
    wait_peer = f"until ping -c 1 -W 1 {peer.tenant_ipv4.ip} >/dev/null; do sleep 2; done"
    return [
        Step(
            name="segment",
            create=f"{wait_svi}; timeout 900 sh -c {shlex.quote(wait_peer)}",
            delete="echo 'nothing to undo: a wait'",
            after=(f"file:{INTERFACES}",),
        )
    ]


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
)
