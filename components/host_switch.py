"""HostSwitch: the hypervisor's side of one class group on the shared OVS bridge."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from components.steps import local_steps, remote_steps
from vxlab.build.provision import host_steps
from vxlab.features.spec import Machine
from vxlab.live.remote import hypervisor_host_key
from vxlab.model.lab import Lab
from vxlab.model.naming import stack_label
from vxlab.model.topology import host_ports


@dataclass
class HostSwitchArgs:
    lab: Lab
    machine: Machine  # the rendered "host" machine
    private_key: pulumi.Input[str]  # used only when the hypervisor is remote


class HostSwitch(pulumi.ComponentResource):
    """The shared bridge (created if missing, kept while other ports remain), this group's taps
    in access/trunk mode, the SVI with its addresses and routes, the routing sysctls."""

    def __init__(self, name: str, args: HostSwitchArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vxlab:index:HostSwitch", name, None, opts)
        lab = args.lab
        steps = host_steps(lab, args.machine)
        prefix = stack_label(lab.group)
        self.commands: dict[str, pulumi.Resource]
        if lab.hypervisor.ssh_host:
            connection = command.remote.ConnectionArgs(
                host=lab.hypervisor.ssh_host,
                user="root",
                private_key=args.private_key,
                # The key the libvirt URI's knownhosts file pins, as libvirt itself trusts it.
                host_key=hypervisor_host_key(lab),
            )
            self.commands = dict(remote_steps(steps, connection, self, prefix))
        else:
            self.commands = dict(local_steps(steps, self, prefix))
        self.ports = {p.tap: f"{p.mode} {','.join(map(str, p.vlans))}" for p in host_ports(lab)}
        self.register_outputs({"bridge": lab.hypervisor.bridge, "ports": self.ports, "svi": lab.upstream.svi})
