"""LabVM: the building block both VM components share (volumes, cloud-init seed, domain)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_libvirt as libvirt

from components.steps import local_steps
from vxlab.build.domain import guest_cmdline, kernel_cmdlines
from vxlab.build.provision import VmPlan, cloud_init_seed_step, host_key_step, known_hosts_name, seed_folder
from vxlab.model.lab import Lab


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
        folder = seed_folder(lab)
        key_step = host_key_step(plan, folder)
        self.host_key = local_steps([key_step], self, name)[key_step.name]
        # The seed carries the host key, so it is built once the key exists (a secret until then).
        seed = self.host_key.stdout.apply(lambda out: cloud_init_seed_step(plan, folder, json.loads(out)))
        step = seed.apply(lambda s: s[0])
        self.seed_image = command.local.Command(
            f"{name}-cloud-init-seed",
            create=step.apply(lambda s: s.create),
            delete=step.apply(lambda s: s.delete),
            stdin=step.apply(lambda s: s.stdin or ""),
            interpreter=["/bin/bash", "-c"],
            add_previous_output_in_env=False,
            logging=command.local.Logging.STDERR,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.host_key]),
        )
        # The image's path names its content by digest only: nothing secret to hide in a diff.
        iso = pulumi.Output.unsecret(seed.apply(lambda s: s[1]))
        self.host_public_key: pulumi.Output[str] = pulumi.Output.unsecret(
            self.host_key.stdout.apply(lambda out: str(json.loads(out)["public"]))
        )
        # Type and key only, as the pinned file has them (the comment is no part of the key).
        self.known_host = self.host_public_key.apply(lambda key: " ".join([known_hosts_name(plan), *key.split()[:2]]))
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
            cmdlines=kernel_cmdlines(guest_cmdline(lab)) if lab.images.kernel else None,
            running=True,
            # Started by libvirt when the hypervisor boots, once its host switch is back (the
            # switch script's `up`, which `scripts/lab-host up` runs before libvirtd).
            autostart=True,
            opts=child,
        )
        self.register_outputs({"name": plan.name, "mac": plan.mac, "tap": plan.tap, "id": self.domain.id})
