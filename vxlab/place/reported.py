"""What a hypervisor reports of itself, asked over the libvirt connection the provider uses:
its memory (`virsh nodeinfo`) and what is free of it now (`virsh freecell --all`)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from vxlab.base.errors import ConfigError
from vxlab.model.inventory import INVENTORY_FILE, Inventory

ASK_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Reported:
    memory_mib: int
    free_mib: int


def parse_nodeinfo(out: str) -> int:
    """The node's memory in MiB from `virsh nodeinfo` (`Memory size: N KiB`)."""
    m = re.search(r"^Memory size:\s+(\d+) KiB", out, re.M)
    if m is None:
        raise ValueError("no `Memory size:` line")
    return int(m.group(1)) // 1024


def parse_freecell(out: str) -> int:
    """The node's free memory in MiB from `virsh freecell --all` (`Total: N KiB`)."""
    m = re.search(r"^\s*Total:\s+(\d+) KiB", out, re.M)
    if m is None:
        raise ValueError("no `Total:` line")
    return int(m.group(1)) // 1024


def _virsh(uri: str, *args: str) -> str:
    proc = subprocess.run(
        ["virsh", "-c", uri, *args], capture_output=True, text=True, timeout=ASK_TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1])
    return proc.stdout


def ask(inventory: Inventory) -> dict[str, Reported]:
    """Every hypervisor's report, or one ConfigError naming the entry that did not answer."""
    reports = {}
    for i, h in enumerate(inventory.hypervisors):
        try:
            reports[h.name] = Reported(
                parse_nodeinfo(_virsh(h.libvirt_uri, "nodeinfo")),
                parse_freecell(_virsh(h.libvirt_uri, "freecell", "--all")),
            )
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(
                f"{INVENTORY_FILE}:hypervisors.{i}.libvirt_uri",
                f"{h.name} does not report its memory over {h.libvirt_uri} ({exc})",
                "start its libvirtd, or correct the URI",
            ) from None
    return reports
