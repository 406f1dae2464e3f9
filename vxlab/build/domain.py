"""How the libvirt provider states a domain, so that what vxlab asks for is what it reads back.

The Terraform libvirt provider (bridged by pulumi-libvirt) writes a kernel command line as the
sorted arguments of every `cmdline` map, and reads it back split into maps again. A command
line given in any other shape is read back different from the stack's input, and `cmdline` is
force-new: every preview would replace the domain. `kernel_cmdlines` gives the read-back shape.
"""

from __future__ import annotations


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
