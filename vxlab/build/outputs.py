"""What a student can paste: how to reach every machine, its addresses, the group's numbers."""

from __future__ import annotations

from typing import Any

from vxlab.build.provision import vm_plans
from vxlab.model.lab import Lab


def lab_outputs(lab: Lab) -> dict[str, Any]:
    uri = lab.hypervisor.libvirt_uri
    vms: dict[str, Any] = {}
    for plan in vm_plans(lab):
        vms[plan.name] = {
            "ssh": f"ssh {lab.lab_user.name}@{plan.ssh_host}" + (f" -p {plan.ssh_port}" if plan.ssh_port != 22 else ""),
            "console": f"virsh -c {uri} console {plan.name}",
            "mac": plan.mac,
            "port": f"{plan.tap} ({plan.port_mode})",
        }
    router = lab.router
    vms[router.name]["addresses"] = [str(router.upstream_ipv4), str(router.upstream_ipv6)] + [
        str(a) for t in lab.tenants.values() for a in (t.router_ipv4, t.router_ipv6, t.router_ll)
    ]
    containers: dict[str, Any] = {}
    dynamic = f"DHCP from {lab.dhcp.range_start}-{lab.dhcp.range_end}"
    slaac = f"SLAAC in {lab.segment.ipv6}"
    for t in lab.tenants.values():
        vms[t.name]["addresses"] = [str(a) for a in (t.tenant_ipv4, t.tenant_ipv6, t.svi_ipv4, t.svi_ipv6, t.svi_ll)]
        containers[t.dhcp_server.name] = {
            "on": t.name,
            "ipv4": str(t.dhcp_server.ipv4),
            "ipv6": slaac,
            "shell": f"lxc exec {t.dhcp_server.name} -- bash (on {t.name})",
        }
        for client in t.clients:
            containers[client] = {
                "on": t.name,
                "ipv4": dynamic,
                "ipv6": slaac,
                "shell": f"lxc exec {client} -- bash (on {t.name})",
            }
    return {
        "vms": vms,
        "containers": containers,
        "vips": {"ipv4": str(lab.vrrp.vip4), "ipv6": str(lab.vrrp.vip6), "master": lab.master().name},
        "vlans": {
            "upstream": lab.upstream.vlan,
            **{c: t.link_vlan for c, t in lab.tenants.items()},
            "segment": lab.segment.vlan,
        },
        "vni": lab.segment.vni,
    }
