"""TenantVM: a tenant, its OVS/VXLAN, keepalived, radvd and LXD files, and its three containers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.containers import lxd_containers, lxd_provider
from components.steps import remote_steps
from components.vm import LabVM, LabVMArgs
from vxlab.build.provision import VmPlan, container_plans, lxd_steps, vm_steps
from vxlab.features.spec import Machine
from vxlab.model.lab import Lab, Tenant
from vxlab.model.topology import lxd_endpoint


@dataclass
class TenantVMArgs:
    lab: Lab
    tenant: Tenant
    plan: VmPlan
    machines: dict[str, Machine]  # the stage's plan, by name: the tenant and its containers when it builds them
    provider: libvirt.Provider
    # The engine's SSH to the VM, given the host key the VM is made with (pinned, not trusted on first use).
    connect: Callable[[pulumi.Input[str]], command.remote.ConnectionArgs]
    switch: pulumi.Resource  # the domain needs its tap
    underlay: Sequence[pulumi.Resource] = field(default_factory=list)  # what its steps wait for (the router)
    previous_vm: pulumi.Resource | None = None  # the domain made before this one (see LabVMArgs.after)


class TenantVM(pulumi.ComponentResource):
    def __init__(self, name: str, args: TenantVMArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vxlab:index:TenantVM", name, None, opts)
        lab, tenant = args.lab, args.tenant
        self.vm = LabVM(
            name,
            LabVMArgs(lab, args.plan, args.provider, after=[args.switch, *filter(None, [args.previous_vm])]),
            pulumi.ResourceOptions(parent=self),
        )
        self.containers: dict[str, pulumi.Resource] = {}
        if tenant.name in args.machines:
            self._configure(name, args)
        self.register_outputs({"domain": self.vm.domain.name})

    def _configure(self, name: str, args: TenantVMArgs) -> None:
        """The tenant's files, LXD and containers: when the stage's plan has them (else the
        tenant is the students' to configure and vxlab runs nothing inside)."""
        lab, tenant = args.lab, args.tenant
        connection = args.connect(self.vm.host_public_key)
        steps = vm_steps(lab, args.machines[tenant.name])
        domain = self.vm.domain
        self.steps = remote_steps(steps, connection, self, name, [domain, *args.underlay], deleted_with=domain)
        self.lxd_steps = remote_steps(
            lxd_steps(lab, tenant), connection, self, name, known=self.steps, deleted_with=domain
        )
        credentials = self.lxd_steps["lxd-client"]
        self.lxd = lxd_provider(f"{name}-lxd", tenant.name, lxd_endpoint(lab, tenant), credentials, self)
        self.containers = dict(
            lxd_containers(
                container_plans(lab, tenant, args.machines), self.lxd, self, list(self.lxd_steps.values()), domain
            )
        )
