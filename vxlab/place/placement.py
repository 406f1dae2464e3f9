"""Placement of whole groups on the inventory's hypervisors, a pure function: each group's need
(derived from its model), each host's limits (the inventory) and what it reports free, the
groups already placed. Stable: a placed group never moves unless a drain asks; the others go,
biggest first, to the host with the most memory left where they fit, so a class spreads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vxlab.model.inventory import Inventory
from vxlab.model.lab import Lab
from vxlab.place.reported import Reported


@dataclass(frozen=True, order=True)
class Need:
    """Memory, then vCPUs: compared in that order, so the roomiest host is the largest `left()`."""

    memory_mib: int
    vcpus: int

    def __add__(self, other: Need) -> Need:
        return Need(self.memory_mib + other.memory_mib, self.vcpus + other.vcpus)


NOTHING = Need(0, 0)


def need_of(lab: Lab) -> Need:
    """What a group's VMs take: the router's and both tenants' RAM and vCPUs."""
    machines = [(lab.router.ram_mib, lab.router.vcpus), *((t.ram_mib, t.vcpus) for t in lab.tenants.values())]
    return Need(sum(m for m, _ in machines), sum(c for _, c in machines))


@dataclass(frozen=True)
class Host:
    """A hypervisor's limits: the inventory's, and the memory it reports free (None: not asked)."""

    name: str
    memory_mib: int
    vcpus: int
    groups: int
    free_mib: int | None = None


def hosts_of(inventory: Inventory, reports: Mapping[str, Reported] | None = None) -> list[Host]:
    """The inventory's limits, the memory limit no more than the host has, and what it has free."""
    hosts = []
    for h in inventory.hypervisors:
        report = (reports or {}).get(h.name)
        memory = h.capacity.memory_mib if report is None else min(h.capacity.memory_mib, report.memory_mib)
        free = None if report is None else report.free_mib
        hosts.append(Host(h.name, memory, h.capacity.vcpus, h.capacity.groups, free))
    return hosts


def loads_of(needs: Mapping[str, Need], hosts: list[Host], placed: Mapping[str, str]) -> list[Load]:
    """What each host holds once `placed` is carried out (its reported free memory as it was)."""
    loads = {h.name: Load(h) for h in hosts}
    for stack, host in placed.items():
        loads[host].used += needs[stack]
        loads[host].groups.append(stack)
    return list(loads.values())


@dataclass
class Load:
    """What one host holds as the placement goes."""

    host: Host
    used: Need = NOTHING
    groups: list[str] = field(default_factory=list)
    added: Need = NOTHING  # placed in this run: the host's reported free memory must cover it

    def left(self) -> Need:
        memory = self.host.memory_mib - self.used.memory_mib
        if self.host.free_mib is not None:
            memory = min(memory, self.host.free_mib - self.added.memory_mib)
        return Need(memory, self.host.vcpus - self.used.vcpus)

    def fits(self, need: Need) -> bool:
        left = self.left()
        return len(self.groups) < self.host.groups and need.memory_mib <= left.memory_mib and need.vcpus <= left.vcpus


class PlacementError(Exception):
    """The class does not fit: one line saying how much is missing where."""


def _missing(stack: str, need: Need, loads: list[Load]) -> str:
    room = [ld for ld in loads if len(ld.groups) < ld.host.groups]
    if not room:
        held = sum(ld.host.groups for ld in loads)
        return f"{stack} does not fit: every host holds its most groups ({held} in all); add a host or raise a limit"
    best = max(room, key=Load.left)
    left = best.left()
    short = []
    if need.memory_mib > left.memory_mib:
        short.append(f"{need.memory_mib - left.memory_mib} MiB")
    if need.vcpus > left.vcpus:
        short.append(f"{need.vcpus - left.vcpus} vCPUs")
    return (
        f"{stack} does not fit: it needs {need.memory_mib} MiB and {need.vcpus} vCPUs, the roomiest host "
        f"{best.host.name} has {max(left.memory_mib, 0)} MiB and {max(left.vcpus, 0)} vCPUs left "
        f"(missing {' and '.join(short)})"
    )


def place(needs: Mapping[str, Need], hosts: list[Host], placed: Mapping[str, str]) -> dict[str, str]:
    """Every group of `needs` on a host: those in `placed` where they are, the others where they
    fit. Raises PlacementError naming the first group that does not fit and what it misses."""
    listed = {h.name for h in hosts}
    for stack, host in placed.items():
        if host not in listed:
            raise PlacementError(f"{stack} is placed on {host}, which the inventory does not list")
    loads = loads_of(needs, hosts, placed)
    result = dict(placed)
    for stack in sorted((s for s in needs if s not in placed), key=lambda s: (-needs[s].memory_mib, s)):
        need = needs[stack]
        fitting = [ld for ld in loads if ld.fits(need)]
        if not fitting:
            raise PlacementError(_missing(stack, need, loads))
        best = max(fitting, key=lambda ld: (ld.left(), -len(ld.groups)))
        best.used += need
        best.added += need
        best.groups.append(stack)
        result[stack] = best.host.name
    return result


def drain(needs: Mapping[str, Need], hosts: list[Host], placed: Mapping[str, str], host: str) -> dict[str, str]:
    """The groups on `host` placed on the other hosts, the rest where they are: what moves where."""
    staying = {s: h for s, h in placed.items() if h != host}
    moved = place({s: n for s, n in needs.items() if s in placed}, [h for h in hosts if h.name != host], staying)
    return {s: moved[s] for s, h in placed.items() if h == host}
