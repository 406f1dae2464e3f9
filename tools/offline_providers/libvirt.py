"""Stand-in for pulumi-libvirt: Volume (copy-on-write clone), CloudInitDisk, Domain, via virsh.

Identifiers follow terraform-provider-libvirt: a volume's id is its path, a cloud-init disk's
id is `<path>;<uuid-ish>`, a domain's id is its UUID. Every domain change replaces the domain,
as most of the Terraform provider's domain arguments force a new resource.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from pulumi.provider.experimental import server
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    UpdateRequest,
    UpdateResponse,
)

from offline_providers.base import UNKNOWN, StandIn, diff_inputs, plain_map

VERSION = "0.5.4"
VOLUME_INPUTS = {"name", "pool", "baseVolumeName", "baseVolumePool", "baseVolumeId", "format", "size", "source"}
DISK_INPUTS = {"name", "pool", "userData", "metaData", "networkConfig"}
DOMAIN_INPUTS = {
    "name",
    "type",
    "memory",
    "vcpu",
    "cloudinit",
    "disks",
    "networkInterfaces",
    "consoles",
    "xml",
    "running",
    "autostart",
    "kernel",
    "initrd",
    "cmdlines",
    "machine",
    "arch",
}


class VirshFailed(Exception):
    pass


class LibvirtProvider(StandIn):
    def virsh(self, *args: str) -> str:
        uri = self.config.get("uri") or "qemu:///system"
        proc = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise VirshFailed(f"virsh {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout.strip()

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = request.urn.split("::")[-2]
        inputs = {"Volume": VOLUME_INPUTS, "CloudInitDisk": DISK_INPUTS}.get(kind.rsplit(":", 1)[-1], DOMAIN_INPUTS)
        return diff_inputs(request.old_state, request.new_inputs, inputs, replace_on=None)

    async def create(self, request: CreateRequest) -> CreateResponse:
        props = plain_map(request.properties)
        kind = request.urn.split("::")[-2].rsplit(":", 1)[-1]
        if request.preview:
            return CreateResponse("", dict(request.properties))
        creator = {"Volume": self._volume, "CloudInitDisk": self._cloudinit, "Domain": self._domain}[kind]
        resource_id = await asyncio.to_thread(creator, props)
        return CreateResponse(resource_id, dict(request.properties, id=PropertyValue(resource_id)))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        # Every change replaces (see diff): an update only carries unchanged inputs forward.
        return UpdateResponse(dict(request.news))

    async def delete(self, request: DeleteRequest) -> None:
        await asyncio.to_thread(
            self._delete,
            request.urn.split("::")[-2].rsplit(":", 1)[-1],
            request.resource_id,
            plain_map(request.properties),
        )

    def _delete(self, kind: str, resource_id: str, props: dict[str, Any]) -> None:
        if kind == "Domain":
            if resource_id in self.virsh("list", "--all", "--uuid").split():
                if resource_id in self.virsh("list", "--uuid").split():
                    self.virsh("destroy", resource_id)
                self.virsh("undefine", resource_id)
        else:
            path = resource_id.split(";")[0]
            if path in self.virsh("vol-list", props["pool"], "--details").split():
                self.virsh("vol-delete", "--pool", props["pool"], Path(path).name)

    # -- creators -----------------------------------------------------------------------------
    def _volume(self, p: dict[str, Any]) -> str:
        pool, name, base_pool = p["pool"], p["name"], p.get("baseVolumePool") or p["pool"]
        base = p["baseVolumeName"]
        capacity = self.virsh("vol-info", "--pool", base_pool, base, "--bytes").split("Capacity:")[1].split()[0]
        base_path = self.virsh("vol-path", "--pool", base_pool, base)
        self.virsh(
            "vol-create-as",
            pool,
            name,
            capacity,
            "--format",
            p.get("format") or "qcow2",
            "--backing-vol",
            base_path,
            "--backing-vol-format",
            "qcow2",
        )
        return self.virsh("vol-path", "--pool", pool, name)

    def _cloudinit(self, p: dict[str, Any]) -> str:
        with tempfile.TemporaryDirectory(prefix="vxlab-cidata-") as tmp:
            d = Path(tmp)
            (d / "user-data").write_text(p.get("userData") or "")
            (d / "meta-data").write_text(p.get("metaData") or "")
            files = ["user-data", "meta-data"]
            if p.get("networkConfig"):
                (d / "network-config").write_text(p["networkConfig"])
                files.append("network-config")
            iso = d / "cidata.iso"
            subprocess.run(
                ["genisoimage", "-quiet", "-output", str(iso), "-volid", "cidata", "-joliet", "-rock", *files],
                cwd=d,
                check=True,
                capture_output=True,
            )
            self.virsh("vol-create-as", p["pool"], p["name"], str(iso.stat().st_size), "--format", "raw")
            self.virsh("vol-upload", "--pool", p["pool"], p["name"], str(iso))
        path = self.virsh("vol-path", "--pool", p["pool"], p["name"])
        return f"{path};{uuid.uuid4()}"

    def _domain(self, p: dict[str, Any]) -> str:
        xml = domain_xml(p)
        xslt = (p.get("xml") or {}).get("xslt")
        if xslt:
            xml = transform(xml, xslt)
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(xml)
            f.flush()
            self.virsh("define", f.name)
        if p.get("running", True) is not False:
            try:
                self.virsh("start", p["name"])
            except VirshFailed:
                self.virsh("undefine", p["name"])  # a failed create leaves nothing behind
                raise
        if p.get("autostart"):
            self.virsh("autostart", p["name"])
        return self.virsh("domuuid", p["name"])


def domain_xml(p: dict[str, Any]) -> str:
    """The domain as terraform-provider-libvirt writes it, before the user's XSLT."""
    machine = f" machine={quoteattr(p['machine'])}" if p.get("machine") else ""
    os_parts = [f"<type arch='x86_64'{machine}>hvm</type>"]
    for tag in ("kernel", "initrd"):
        if p.get(tag):
            os_parts.append(f"<{tag}>{escape(p[tag])}</{tag}>")
    cmdline = " ".join(v if k == "_" else f"{k}={v}" for d in (p.get("cmdlines") or []) for k, v in d.items())
    if cmdline:
        os_parts.append(f"<cmdline>{escape(cmdline)}</cmdline>")
    devices = []
    for disk in p.get("disks") or []:
        path = str(disk.get("volumeId") or disk.get("file")).split(";")[0]
        devices.append(
            f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file={quoteattr(path)}/><target dev='vda' bus='virtio'/></disk>"
        )
    if p.get("cloudinit") and p["cloudinit"] is not UNKNOWN:
        iso = str(p["cloudinit"]).split(";")[0]
        devices.append(
            f"<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
            f"<source file={quoteattr(iso)}/><target dev='sda' bus='sata'/><readonly/></disk>"
        )
    for nic in p.get("networkInterfaces") or []:
        mac = f"<mac address={quoteattr(nic['mac'])}/>" if nic.get("mac") else ""
        devices.append(
            f"<interface type='bridge'>{mac}<source bridge={quoteattr(nic['bridge'])}/>"
            f"<model type='virtio'/></interface>"
        )
    for console in p.get("consoles") or []:
        devices.append(
            f"<console type={quoteattr(console['type'])}>"
            f"<target type={quoteattr(console.get('targetType') or 'serial')} "
            f"port={quoteattr(str(console['targetPort']))}/></console>"
        )
    return (
        f"<domain type={quoteattr(p.get('type') or 'kvm')}><name>{escape(p['name'])}</name>"
        f"<memory unit='MiB'>{int(p.get('memory') or 512)}</memory><vcpu>{int(p.get('vcpu') or 1)}</vcpu>"
        f"<os>{''.join(os_parts)}</os><features><acpi/><apic/></features>"
        f"<devices>{''.join(devices)}</devices></domain>"
    )


def transform(xml: str, xslt: str) -> str:
    with tempfile.TemporaryDirectory(prefix="vxlab-xslt-") as tmp:
        (Path(tmp) / "d.xml").write_text(xml)
        (Path(tmp) / "t.xsl").write_text(xslt)
        proc = subprocess.run(["xsltproc", "t.xsl", "d.xml"], cwd=tmp, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise VirshFailed(f"xsltproc: {proc.stderr.strip()}")
    return proc.stdout


if __name__ == "__main__":
    server.main(sys.argv[1:], VERSION, LibvirtProvider())
