"""Whether this machine is the hypervisor a stack describes, checked before `pulumi up` changes
anything on it: a KVM stack on a machine without usable KVM, an uplink that does not exist, or a
kernel datapath the kernel cannot provide would otherwise fail half-way through."""

from __future__ import annotations

import os
from pathlib import Path

from vxlab.model.lab import Lab
from vxlab.validate.collisions import hypervisor_host

# The profile that fits a machine without KVM, kernel OVS or a spare NIC (README: a lab on a
# machine like CI's).
TCG_PROFILE = "the TCG profile: scripts/lab-up ci (stack ci, TCG VMs, userspace OVS, lab in a namespace)"


def is_local(lab: Lab) -> bool:
    """The hypervisor is this machine, as the collision check spells hypervisors."""
    return hypervisor_host(lab) == "localhost"


def _kvm_problem(dev: Path) -> str | None:
    if not dev.exists():
        return f"no KVM ({dev} is missing)"
    try:
        os.close(os.open(dev, os.O_RDWR))
    except OSError as exc:
        return f"no usable KVM ({dev}: {exc.strerror})"
    return None


def host_problems(lab: Lab, sys_root: Path = Path("/")) -> list[str]:
    """What this machine lacks for the stack, as short phrases; empty when it fits (or when the
    hypervisor is another machine, which only it can tell)."""
    if not is_local(lab):
        return []
    hv = lab.hypervisor
    problems = []
    if hv.domain_type == "kvm":
        kvm = _kvm_problem(sys_root / "dev" / "kvm")
        if kvm:
            problems.append(f"{kvm}, but hypervisor.domain_type is kvm")
    if hv.uplink and not (sys_root / "sys" / "class" / "net" / hv.uplink).exists():
        problems.append(f"no interface {hv.uplink}, the hypervisor.uplink")
    if hv.datapath_type == "system" and not (sys_root / "sys" / "module" / "openvswitch").exists():
        problems.append("no kernel OVS datapath (module openvswitch), but hypervisor.datapath_type is system")
    return problems


def host_refusal(lab: Lab, stack: str, sys_root: Path = Path("/")) -> str | None:
    """The one line that refuses to bring `stack` up on this machine, if it does not fit."""
    problems = host_problems(lab, sys_root)
    if not problems:
        return None
    return (
        f"Pulumi.{stack}.yaml: this machine is not the hypervisor the stack describes: {'; '.join(problems)}; "
        f"fix: run it on such a host, or here use {TCG_PROFILE}"
    )
