"""What a hypervisor reports of itself: its memory (`virsh nodeinfo`) and what is free of it now
(`virsh freecell --all`). A remote hypervisor is asked over SSH with the inventory's pinned host
key and the URI's user and key file: virsh's own qemu+ssh transport ignores the URI's
`knownhosts=` (only the provider's and libssh's honour it) and would trust root's known_hosts."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from vxlab.base.errors import ConfigError
from vxlab.model.inventory import INVENTORY_FILE, HypervisorEntry, Inventory

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


def ssh_argv(entry: HypervisorEntry, known_hosts: Path) -> list[str]:
    """`ssh` to the entry's host as its URI says (user, port, key file), trusting only the
    inventory's `host_key`, which it writes to `known_hosts` as that file's one line."""
    uri = urlsplit(entry.libvirt_uri)
    keyfile = parse_qs(uri.query).get("keyfile", [])
    host = uri.hostname or str(entry.ssh_host)
    known_hosts.write_text(f"{host if uri.port is None else f'[{host}]:{uri.port}'} {entry.host_key}\n")
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}"]
    argv += ["-o", "ConnectTimeout=10"] + (["-i", keyfile[0]] if keyfile else [])
    argv += ["-p", str(uri.port)] if uri.port is not None else []
    return [*argv, f"{uri.username}@{host}" if uri.username else host, "--"]


def _virsh(entry: HypervisorEntry, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="vxlab-place-") as tmp:
        if entry.ssh_host is None:
            argv = ["virsh", "-c", entry.libvirt_uri, *args]
        else:
            uri = urlsplit(entry.libvirt_uri)
            local = f"{uri.scheme.split('+')[0]}://{uri.path}"
            argv = [*ssh_argv(entry, Path(tmp) / "known_hosts"), "virsh", "-c", local, *args]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=ASK_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        raise RuntimeError((proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1])
    return proc.stdout


def ask(inventory: Inventory) -> dict[str, Reported]:
    """Every hypervisor's report, or one ConfigError naming the entry that did not answer."""
    reports = {}
    for i, h in enumerate(inventory.hypervisors):
        try:
            reports[h.name] = Reported(
                parse_nodeinfo(_virsh(h, "nodeinfo")), parse_freecell(_virsh(h, "freecell", "--all"))
            )
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(
                f"{INVENTORY_FILE}:hypervisors.{i}.libvirt_uri",
                f"{h.name} does not report its memory over {h.libvirt_uri} ({exc})",
                "start its libvirtd, or correct the URI (and, over SSH, the pinned host_key)",
            ) from None
    return reports
