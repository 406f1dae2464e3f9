"""RouterVM: redRouter, its files (interfaces, sysctl, routing tables, iptables) and their reloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.steps import remote_steps
from components.vm import LabVM, LabVMArgs
from vxlab.build.provision import VmPlan, vm_steps
from vxlab.features.common import INTERFACES
from vxlab.features.spec import Machine
from vxlab.model.lab import Lab


@dataclass
class RouterVMArgs:
    lab: Lab
    plan: VmPlan
    machine: Machine | None  # its files in the stage's plan; None when the stage leaves it to the students
    provider: libvirt.Provider
    # The engine's SSH to the VM, given the host key the VM is made with (pinned, not trusted on first use).
    connect: Callable[[pulumi.Input[str]], command.remote.ConnectionArgs]
    switch: pulumi.Resource  # the domain needs its tap


class RouterVM(pulumi.ComponentResource):
    def __init__(self, name: str, args: RouterVMArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vxlab:index:RouterVM", name, None, opts)
        self.vm = LabVM(
            name,
            LabVMArgs(args.lab, args.plan, args.provider, after=[args.switch]),
            pulumi.ResourceOptions(parent=self),
        )
        connection = args.connect(self.vm.host_public_key)
        # Out of the stage's plan the router is the students' to configure: vxlab runs nothing inside.
        steps = vm_steps(args.lab, args.machine) if args.machine is not None else []
        self.steps = remote_steps(steps, connection, self, name, [self.vm.domain], deleted_with=self.vm.domain)
        self.network: pulumi.Resource | None = self.steps.get(f"file:{INTERFACES}")
        self.register_outputs({"domain": self.vm.domain.name})
