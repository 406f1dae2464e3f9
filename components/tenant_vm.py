"""TenantVM: a tenant, its OVS/VXLAN, keepalived, radvd and LXD files, and its three containers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.steps import remote_steps
from components.vm import LabVM, LabVMArgs
from vxlab.model import Lab, Tenant
from vxlab.provision import VmPlan, container_steps, tenant_steps
from vxlab.render import Machine


@dataclass
class TenantVMArgs:
    lab: Lab
    tenant: Tenant
    plan: VmPlan
    machines: dict[str, Machine]  # every rendered machine, by name: the tenant's and its containers'
    provider: libvirt.Provider
    connection: command.remote.ConnectionArgs
    switch: pulumi.Resource  # the domain needs its tap
    underlay: Sequence[pulumi.Resource] = field(default_factory=list)  # what its steps wait for (the router)


class TenantVM(pulumi.ComponentResource):
    def __init__(self, name: str, args: TenantVMArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vxlab:index:TenantVM", name, None, opts)
        lab, tenant = args.lab, args.tenant
        self.vm = LabVM(
            name,
            LabVMArgs(lab, args.plan, args.provider),
            pulumi.ResourceOptions(parent=self, depends_on=[args.switch]),
        )
        vm_steps = tenant_steps(lab, args.machines[tenant.name])
        self.steps = remote_steps(vm_steps, args.connection, self, name, [self.vm.domain, *args.underlay])
        preseed = self.steps["file:/etc/vxlab/lxd-preseed.yaml"]
        self.containers = remote_steps(
            container_steps(lab, tenant, args.machines), args.connection, self, name, [preseed], known=self.steps
        )
        self.register_outputs({"domain": self.vm.domain.name})
