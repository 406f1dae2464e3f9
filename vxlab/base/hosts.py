"""Which machine a host name, address or libvirt URI names: one spelling per machine, so two
stacks on one hypervisor are seen to share it however their URIs and `ssh_host` spell it."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from functools import cache
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

LOCAL = "localhost"
_LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
ETC_HOSTS = Path("/etc/hosts")


def canonical(name: str | None) -> str:
    """A host as one word: addresses in their shortest form, names in lower case, this machine
    (loopback, its own host name) as `localhost`."""
    name = (name or "").strip().strip("[]").lower().rstrip(".")
    try:
        address = ip_address(name)
    except ValueError:
        return LOCAL if name in _LOCAL_NAMES or name == socket.gethostname().lower() else name
    return LOCAL if address.is_loopback else str(address)


def uri_host(uri: str) -> str | None:
    """The host a libvirt URI names (None for this machine's daemon: `qemu:///system`).
    Raises ValueError for a URI whose host is not a valid address or name."""
    return urlsplit(uri).hostname


@cache
def etc_hosts() -> str:
    """This machine's /etc/hosts, read once: a class's collisions ask for it for every pair of stacks."""
    try:
        return ETC_HOSTS.read_text()
    except OSError:
        return ""


def aliases(names: Iterable[str | None], hosts_text: str | None = None) -> frozenset[str]:
    """Every spelling of the machine these names denote, through /etc/hosts (read locally: no
    name is looked up on the network)."""
    if hosts_text is None:
        hosts_text = etc_hosts()
    found = {canonical(n) for n in names if n}
    for line in hosts_text.splitlines():
        words = [canonical(w) for w in line.split("#", 1)[0].split()]
        if len(words) >= 2 and found & set(words):
            found |= set(words)
    return frozenset(found)
