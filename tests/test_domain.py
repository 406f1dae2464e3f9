"""The domain's kernel command line in the shape the libvirt provider reads back."""

from __future__ import annotations

import subprocess
from xml.etree import ElementTree as ET

import pytest

from vxlab.build.domain import guest_cmdline, kernel_cmdlines, provider_cmdline
from vxlab.build.provision import vm_plans
from vxlab.model.lab import Lab
from vxlab.model.topology import host_ports


@pytest.mark.parametrize(
    ("cmdline", "maps"),
    [
        ("root=/dev/vda rw console=ttyS0", [{"console": "ttyS0", "root": "/dev/vda"}, {"_": "rw"}]),
        ("quiet", [{"_": "quiet"}]),
        ("console=tty0 console=ttyS0 rw", [{"console": "tty0"}, {"console": "ttyS0"}, {"_": "rw"}]),
        ("net.ifnames=0 a=b=c", [{"a": "b=c", "net.ifnames": "0"}]),
        ("", []),
    ],
)
def test_cmdline_is_stated_as_the_provider_reads_it_back(cmdline: str, maps: list[dict[str, str]]) -> None:
    assert kernel_cmdlines(cmdline) == maps


@pytest.mark.parametrize("cmdline", ["root=/dev/vda rw console=ttyS0", "console=tty0 console=ttyS0 rw quiet"])
def test_read_back_shape_writes_the_same_arguments(cmdline: str) -> None:
    assert sorted(provider_cmdline(kernel_cmdlines(cmdline)).split()) == sorted(cmdline.split())


@pytest.mark.parametrize("cmdline", ["root=/dev/vda rw console=ttyS0", "console=tty0 console=ttyS0 rw quiet"])
def test_read_back_shape_is_a_fixed_point(cmdline: str) -> None:
    maps = kernel_cmdlines(cmdline)
    assert kernel_cmdlines(provider_cmdline(maps)) == maps


# What the provider hands to the XSLT for a lab VM: the system disk and the cloud-init seed as
# volumes, a NIC with no source (terraform-provider-libvirt 0.8.1, domain.go).
PROVIDER_XML = """<domain type="qemu"><name>vm</name><features><acpi/></features><devices>
<disk type="file" device="disk"><source file="/p/vm.qcow2"/><target dev="vda" bus="virtio"/></disk>
<disk type="file" device="disk"><source file="/p/vm-seed.iso"/><target dev="vdb" bus="virtio"/></disk>
<interface><mac address="BA:AD:CA:FE:39:30"/><model type="virtio"/></interface>
</devices></domain>"""


@pytest.fixture(scope="module")
def transformed(dev_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> ET.Element:
    plan = next(p for p in vm_plans(dev_lab) if p.name == dev_lab.router.name)
    folder = tmp_path_factory.mktemp("xslt")
    (folder / "domain.xml").write_text(PROVIDER_XML)
    (folder / "domain.xslt").write_text(plan.domain_xslt)
    out = subprocess.run(
        ["xsltproc", folder / "domain.xslt", folder / "domain.xml"], capture_output=True, text=True, check=True
    )
    return ET.fromstring(out.stdout)


def test_xslt_plugs_the_nic_into_the_host_switch_tap(dev_lab: Lab, transformed: ET.Element) -> None:
    port = next(p for p in host_ports(dev_lab) if p.vm == dev_lab.router.name)
    nic = transformed.find("devices/interface")
    assert nic is not None and nic.get("type") == "ethernet"
    assert (nic.find("target").get("dev"), nic.find("mac").get("address")) == (port.tap, port.mac)  # type: ignore[union-attr]


def test_xslt_leaves_the_disks_alone(transformed: ET.Element) -> None:
    targets = [d.find("target").attrib for d in transformed.findall("devices/disk")]  # type: ignore[union-attr]
    assert targets == [{"dev": "vda", "bus": "virtio"}, {"dev": "vdb", "bus": "virtio"}]


def with_domain_type(lab: Lab, domain_type: str, cmdline: str) -> Lab:
    return lab.model_copy(
        update={
            "hypervisor": lab.hypervisor.model_copy(update={"domain_type": domain_type}),
            "images": lab.images.model_copy(update={"cmdline": cmdline}),
        }
    )


@pytest.mark.parametrize(
    ("domain_type", "cmdline", "booted"),
    [
        ("kvm", "root=/dev/vda rw console=ttyS0", "root=/dev/vda rw console=ttyS0"),
        ("qemu", "root=/dev/vda rw console=ttyS0", "root=/dev/vda rw console=ttyS0 norandmaps"),
        ("qemu", "root=/dev/vda norandmaps rw", "root=/dev/vda norandmaps rw"),
    ],
    ids=["kvm-as-given", "tcg-without-randomisation", "tcg-already-without"],
)
def test_tcg_guests_boot_without_address_space_randomisation(
    dev_lab: Lab, domain_type: str, cmdline: str, booted: str
) -> None:
    assert guest_cmdline(with_domain_type(dev_lab, domain_type, cmdline)) == booted
