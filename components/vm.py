"""LabVM: the building block both VM components share (volumes, cloud-init seed, domain)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_libvirt as libvirt

from components.steps import local_steps
from vxlab.domain import kernel_cmdlines
from vxlab.model import Lab
from vxlab.naming import stack_label
from vxlab.provision import VmPlan, cloud_init_seed_step


@dataclass
class LabVMArgs:
    lab: Lab
    plan: VmPlan
    provider: libvirt.Provider
    # What its libvirt resources wait for: the host switch (the tap), and the previous VM's domain.
    # The libvirt provider can hang for good when it works on several volumes and domains at once
    # on one connection (measured here: no libvirt call returned for 10 minutes), so the lab's
    # VMs are made one after another (about a second each).
    after: Sequence[pulumi.Resource] = ()


def seed_folder(lab: Lab) -> str:
    """Where the engine's machine keeps the group's cloud-init seed images until they are uploaded."""
    return str(Path.home() / ".cache" / "vxlab" / "cloud-init" / stack_label(lab.group))


class LabVM(pulumi.ComponentResource):
    """A copy-on-write clone of the master image, booted with a cloud-init seed, its NIC in the
    host switch's tap for this VM, a serial console.

    The seed is an image built locally and uploaded as a plain volume, not a CloudInitDisk: the
    provider reads a CloudInitDisk back by downloading it over a libvirt stream, and go-libvirt
    can deadlock there (the stream's last packet arrives while the caller deregisters; measured
    twice here: once creating three VMs, once on `pulumi refresh`). A volume is read back with
    StorageVolGetInfo only."""

    def __init__(self, name: str, args: LabVMArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("vxlab:index:LabVM", name, None, opts)
        lab, plan = args.lab, args.plan
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        step, iso = cloud_init_seed_step(plan, seed_folder(lab))
        self.seed_image = local_steps([step], self, name)[step.name]
        self.volume = libvirt.Volume(
            f"{name}-disk",
            name=f"{plan.name}.qcow2",
            pool=lab.images.pool,
            base_volume_name=lab.images.master,
            base_volume_pool=lab.images.pool,
            format="qcow2",
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(args.after))),
        )
        self.seed = libvirt.Volume(
            f"{name}-seed",
            name=f"{plan.name}-seed.iso",
            pool=lab.images.pool,
            source=iso,
            # No format: libvirt's dir pool probes the upload and reports "iso"; a stated format
            # would differ from that on every read, and format is force-new.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.volume, self.seed_image])),
        )
        self.domain = libvirt.Domain(
            f"{name}-domain",
            name=plan.name,
            type=lab.hypervisor.domain_type,
            machine=lab.hypervisor.machine,
            memory=plan.ram_mib,
            vcpu=plan.vcpus,
            # cloud-init's NoCloud source finds the seed by its label on any disk.
            disks=[libvirt.DomainDiskArgs(volume_id=self.volume.id), libvirt.DomainDiskArgs(volume_id=self.seed.id)],
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
