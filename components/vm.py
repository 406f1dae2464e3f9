"""LabVM: the building block both VM components share (volume, cloud-init disk, domain)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_libvirt as libvirt

from vxlab.domain import kernel_cmdlines
from vxlab.model import Lab
from vxlab.provision import VmPlan


@dataclass
class LabVMArgs:
    lab: Lab
    plan: VmPlan
    provider: libvirt.Provider
    # What its libvirt resources wait for: the host switch (the tap), and the previous VM's domain.
    # The libvirt provider can hang for good when it uploads cloud-init disks and defines domains
    # concurrently on one connection (measured here: no libvirt call returned for 10 minutes),
    # so the lab's VMs are made one after another (about a second each).
    after: Sequence[pulumi.Resource] = ()


class LabVM(pulumi.ComponentResource):
    """A copy-on-write clone of the master image, booted with cloud-init, its NIC in the
    host switch's tap for this VM, a serial console."""

    def __init__(self, name: str, args: LabVMArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vxlab:index:LabVM", name, None, opts)
        lab, plan = args.lab, args.plan
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        first = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(args.after)))
        self.volume = libvirt.Volume(
            f"{name}-disk",
            name=f"{plan.name}.qcow2",
            pool=lab.images.pool,
            base_volume_name=lab.images.master,
            base_volume_pool=lab.images.pool,
            format="qcow2",
            opts=first,
        )
        self.cloudinit = libvirt.CloudInitDisk(
            f"{name}-cloudinit",
            name=f"{plan.name}-cloudinit.iso",
            pool=lab.images.pool,
            user_data=plan.user_data,
            network_config=plan.network_config,
            meta_data=f"instance-id: {plan.name}\nlocal-hostname: {plan.name}\n",
            opts=first,
        )
        self.domain = libvirt.Domain(
            f"{name}-domain",
            name=plan.name,
            type=lab.hypervisor.domain_type,
            machine=lab.hypervisor.machine,
            memory=plan.ram_mib,
            vcpu=plan.vcpus,
            cloudinit=self.cloudinit.id,
            disks=[libvirt.DomainDiskArgs(volume_id=self.volume.id)],
            # No source: the XSLT plugs the NIC into the host switch's own tap, and the provider
            # reads a tap back with no bridge, network or device (a source here would differ).
            network_interfaces=[libvirt.DomainNetworkInterfaceArgs(mac=plan.mac)],
            consoles=[libvirt.DomainConsoleArgs(type="pty", target_port="0", target_type="serial")],
            xml=libvirt.DomainXmlArgs(xslt=plan.domain_xslt),
            kernel=lab.images.kernel,
            initrd=lab.images.initrd,
            cmdlines=kernel_cmdlines(lab.images.cmdline) if lab.images.kernel else None,
            running=True,
            autostart=False,
            opts=child,
        )
        self.register_outputs({"name": plan.name, "mac": plan.mac, "tap": plan.tap, "id": self.domain.id})
