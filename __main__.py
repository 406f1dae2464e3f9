"""vxlab: one class group's VXLAN/OVS/LXD lab (see README)."""

from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components import HostSwitch, HostSwitchArgs, RouterVM, RouterVMArgs, TenantVM, TenantVMArgs
from components.config import load_checked_lab
from vxlab.artifacts import handout
from vxlab.base.errors import ConfigError
from vxlab.build.outputs import lab_outputs
from vxlab.build.provision import vm_plans
from vxlab.build.render import plan_lab
from vxlab.model.naming import stack_label
from vxlab.validate import hostcheck

try:
    # The project folder Pulumi runs us in (a scratch copy links this file from elsewhere).
    lab = load_checked_lab(Path.cwd())
except ConfigError as err:
    # One line naming the key, and no resource registered.
    raise pulumi.RunError(err.line()) from None

refusal = hostcheck.host_refusal(lab, pulumi.get_stack())
if refusal and not pulumi.runtime.is_dry_run():
    raise pulumi.RunError(refusal)  # before `up` changes anything on a host that cannot run the lab
if refusal:
    pulumi.log.warn(refusal)

label = stack_label(lab.group)
private_key = pulumi.Config("vxlab").require_secret("ssh_private_key")
# What this stage installs: a VM the plan leaves out is the students' to configure.
machines = {m.name: m for m in plan_lab(lab)}
plans = {p.name: p for p in vm_plans(lab)}
hypervisor = libvirt.Provider(f"{label}-libvirt", uri=lab.hypervisor.libvirt_uri)


def ssh(vm: str) -> Callable[[pulumi.Input[str]], command.remote.ConnectionArgs]:
    def connect(host_key: pulumi.Input[str]) -> command.remote.ConnectionArgs:
        return command.remote.ConnectionArgs(
            host=plans[vm].ssh_host,
            port=plans[vm].ssh_port,
            user="root",
            private_key=private_key,
            host_key=host_key,
            dial_error_limit=90,
            per_dial_timeout=10,
        )

    return connect


switch = HostSwitch(f"{label}-switch", HostSwitchArgs(lab, machines["host"], private_key))
router = RouterVM(
    lab.router.name,
    RouterVMArgs(lab, plans[lab.router.name], machines.get(lab.router.name), hypervisor, ssh(lab.router.name), switch),
)
tenants: list[TenantVM] = []
for t in lab.tenants.values():
    previous = (tenants[-1] if tenants else router).vm.domain
    tenants.append(
        TenantVM(
            t.name,
            TenantVMArgs(
                lab,
                t,
                plans[t.name],
                machines,
                hypervisor,
                ssh(t.name),
                switch,
                [router.network] if router.network else [],
                previous_vm=previous,
            ),
        )
    )

for key, value in lab_outputs(lab).items():
    pulumi.export(key, value)
# Where scripts/lab-up leaves the handout and the diagram (not resources: a priority change must
# touch only the keepalived file that holds it).
for key, value in handout.paths(Path.cwd(), pulumi.get_stack()).items():
    pulumi.export(key, value)
# The VMs' pinned SSH host keys, as a known_hosts file for `vxlab check --known-hosts`.
pulumi.export(
    "known_hosts",
    pulumi.Output.all(router.vm.known_host, *[t.vm.known_host for t in tenants]).apply(
        lambda lines: "\n".join(lines) + "\n"
    ),
)
