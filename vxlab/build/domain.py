"""How the libvirt provider states a domain, so that what vxlab asks for is what it reads back.

The Terraform libvirt provider (bridged by pulumi-libvirt) writes a kernel command line as the
sorted arguments of every `cmdline` map, and reads it back split into maps again. A command
line given in any other shape is read back different from the stack's input, and `cmdline` is
force-new: every preview would replace the domain. `kernel_cmdlines` gives the read-back shape.
"""

from __future__ import annotations

from vxlab.model.lab import Lab

# QEMU's TCG keeps translated guest code keyed by virtual address: with address-space
# randomisation every new process maps its libraries elsewhere and is translated again. Measured on
# an idle tenant of `ci`: `ip` took 139 ms a run with it, 26-32 ms without; the tenant flushed its
# whole 128 MiB translation cache every 10 s while idle, and none in 30 s without; an idle tenant
# used 50 % of a host core, 10 % without. So TCG guests boot with `norandmaps`.
TCG_ONLY_ARGS = ("norandmaps",)


def guest_cmdline(lab: Lab) -> str:
    """The kernel command line the VMs boot with: `images.cmdline`, and under TCG
    (`hypervisor.domain_type: qemu`) the arguments that only TCG needs."""
    words = lab.images.cmdline.split()
    if lab.hypervisor.domain_type == "qemu":
        words += [a for a in TCG_ONLY_ARGS if a not in words]
    return " ".join(words)


def kernel_cmdlines(cmdline: str) -> list[dict[str, str]]:
    """`cmdline` in the shape the provider reads back (its splitKernelCmdLine over the sorted
    arguments): keyed arguments in maps, a new map whenever a key repeats, then one map `_`
    holding the keyless arguments."""
    maps: list[dict[str, str]] = []
    current: dict[str, str] = {}
    keyless: list[str] = []
    for arg in sorted(cmdline.split()):
        if "=" not in arg:
            keyless.append(arg)
            continue
        key, value = arg.split("=", 1)
        if key in current:
            maps.append(current)
            current = {}
        current[key] = value
    if current:
        maps.append(current)
    if keyless:
        maps.append({"_": " ".join(keyless)})
    return maps


def provider_cmdline(cmdlines: list[dict[str, str]]) -> str:
    """The command line the provider writes into the domain for `cmdlines` (its setCmdlineArgs)."""
    return " ".join(sorted(v if k == "_" else f"{k}={v}" for m in cmdlines for k, v in m.items()))
