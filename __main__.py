"""vxlab: one class group's VXLAN/OVS/LXD lab (see README)."""

from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components import HostSwitch, HostSwitchArgs, RouterVM, RouterVMArgs, TenantVM, TenantVMArgs
from components.config import load_checked_lab
from vxlab.errors import ConfigError
from vxlab.naming import stack_label
from vxlab.outputs import lab_outputs
from vxlab.provision import vm_plans
from vxlab.render import render_lab

try:
    # The project folder Pulumi runs us in (a scratch copy links this file from elsewhere).
    lab = load_checked_lab(Path.cwd())
except ConfigError as err:
    # One line naming the key, and no resource registered.
    raise pulumi.RunError(err.line()) from None

label = stack_label(lab.group)
private_key = pulumi.Config("vxlab").require_secret("ssh_private_key")
machines = {m.name: m for m in render_lab(lab)}
plans = {p.name: p for p in vm_plans(lab)}
hypervisor = libvirt.Provider(f"{label}-libvirt", uri=lab.hypervisor.libvirt_uri)


def ssh(vm: str) -> command.remote.ConnectionArgs:
    return command.remote.ConnectionArgs(
        host=plans[vm].ssh_host,
        port=plans[vm].ssh_port,
        user="root",
        private_key=private_key,
        dial_error_limit=90,
        per_dial_timeout=10,
    )


switch = HostSwitch(f"{label}-switch", HostSwitchArgs(lab, machines["host"], private_key))
router = RouterVM(
    lab.router.name,
    RouterVMArgs(lab, plans[lab.router.name], machines[lab.router.name], hypervisor, ssh(lab.router.name), switch),
)
tenants: list[TenantVM] = []
for t in lab.tenants.values():
    previous = (tenants[-1] if tenants else router).vm.domain
    tenants.append(
        TenantVM(
            t.name,
            TenantVMArgs(
                lab, t, plans[t.name], machines, hypervisor, ssh(t.name), switch, [router.network], previous_vm=previous
            ),
        )
    )

for key, value in lab_outputs(lab).items():
    pulumi.export(key, value)
