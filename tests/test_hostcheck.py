"""`pulumi up` refuses, before changing anything, a machine that is not the hypervisor the stack
describes, and says which profile fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from vxlab.model.lab import Lab
from vxlab.validate.hostcheck import host_refusal
from vxlab.validate.load import build_lab

KVM_HOST = build_lab({"group": 1})
CI_LIKE = build_lab(
    {"group": 1, "hypervisor": {"domain_type": "qemu", "datapath_type": "netdev", "uplink": None, "svi_netns": "x"}}
)


def machine(tmp_path: Path, kvm: bool = True, nics: tuple[str, ...] = ("eno1",), ovs_module: bool = True) -> Path:
    """A fake root with what the check looks at: /dev/kvm, /sys/class/net, /sys/module."""
    (tmp_path / "dev").mkdir()
    if kvm:
        (tmp_path / "dev" / "kvm").write_text("")
    for nic in nics:
        (tmp_path / "sys" / "class" / "net" / nic).mkdir(parents=True)
    if ovs_module:
        (tmp_path / "sys" / "module" / "openvswitch").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"kvm": False}, "no KVM"),
        ({"nics": ("eth0",)}, "no interface eno1"),
        ({"ovs_module": False}, "no kernel OVS datapath"),
    ],
)
def test_a_kvm_stack_is_refused_on_a_machine_without(tmp_path: Path, kwargs: dict[str, object], missing: str) -> None:
    line = host_refusal(KVM_HOST, "group01", machine(tmp_path, **kwargs))  # type: ignore[arg-type]
    assert line is not None
    assert line.startswith("Pulumi.group01.yaml: this machine is not the hypervisor the stack describes: ")
    assert missing in line and "scripts/lab-up ci" in line and "\n" not in line


@pytest.mark.parametrize(
    ("lab", "kwargs"),
    [
        pytest.param(KVM_HOST, {}, id="kvm-host-with-everything"),
        pytest.param(CI_LIKE, {"kvm": False, "nics": (), "ovs_module": False}, id="tcg-profile-needs-nothing"),
        pytest.param(
            build_lab(
                {
                    "group": 1,
                    "hypervisor": {"libvirt_uri": "qemu+ssh://root@hv2.example/system", "ssh_host": "hv2.example"},
                }
            ),
            {"kvm": False, "nics": (), "ovs_module": False},
            id="remote-hypervisor-is-not-this-machine",
        ),
    ],
)
def test_a_fitting_machine_is_accepted(tmp_path: Path, lab: Lab, kwargs: dict[str, object]) -> None:
    assert host_refusal(lab, "group01", machine(tmp_path, **kwargs)) is None  # type: ignore[arg-type]


def test_the_local_hypervisor_spelled_over_ssh_is_still_checked(tmp_path: Path) -> None:
    lab = build_lab({"group": 1, "hypervisor": {"libvirt_uri": "qemu+ssh://root@127.0.0.1/system"}})
    assert host_refusal(lab, "group01", machine(tmp_path, kvm=False)) is not None
