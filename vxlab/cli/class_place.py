"""`vxlab class place [--stacks S ...] [--dry-run]`: each group whose stack file states no
hypervisor placed on one of the inventory's (`inventory.yaml`), by what the inventory allows and
what each host reports free, and the hypervisor keys written into its stack file. A placed group
stays where it is; a class that does not fit is refused in one line, before any file is written."""

from __future__ import annotations

import argparse
from pathlib import Path

from vxlab.artifacts.classview import aligned
from vxlab.model.inventory import Inventory, load_inventory
from vxlab.place.current import placed_of, read_placement
from vxlab.place.placement import Load, PlacementError, hosts_of, loads_of, need_of, place
from vxlab.place.reported import ask
from vxlab.place.stack_keys import write_placement
from vxlab.validate.load import list_stacks, load_lab, load_stack_config, stack_file


def load_table(loads: list[Load], inventory: Inventory) -> str:
    """Each host's groups, memory and vCPUs against its limits, and the memory it reported free."""
    rows = [("hypervisor", "groups", "memory MiB", "vCPUs", "free MiB", "uri")]
    for ld in loads:
        entry = inventory.entry(ld.host.name)
        rows.append(
            (
                ld.host.name,
                f"{len(ld.groups)}/{ld.host.groups}",
                f"{ld.used.memory_mib}/{ld.host.memory_mib}",
                f"{ld.used.vcpus}/{ld.host.vcpus}",
                "?" if ld.host.free_mib is None else str(ld.host.free_mib),
                entry.libvirt_uri,
            )
        )
    return "\n".join(aligned(rows)) + "\n"


def host_view(project: Path, stacks: list[str]) -> tuple[dict[str, str], list[Load], Inventory] | None:
    """For the class view: each placed group's hypervisor and each hypervisor's load against its
    limits (what it reports free is not asked: the view answers without the hosts). None without
    an inventory."""
    found = read_placement(project, stacks)
    if found is None:
        return None
    inventory, placed = found
    needs = {s: need_of(load_lab(project, s)) for s in placed}
    return placed, loads_of(needs, hosts_of(inventory), placed), inventory


def place_class(args: argparse.Namespace, project: Path, stacks: list[str]) -> int:
    inventory = load_inventory(project)
    # Every stack of the project holds its host's room, not only the ones named.
    everyone = list_stacks(project)
    placed = placed_of(inventory, {s: load_stack_config(project, s) for s in everyone})
    needs = {s: need_of(load_lab(project, s)) for s in everyone if s in placed or s in stacks}
    hosts = hosts_of(inventory, ask(inventory))
    try:
        result = place(needs, hosts, placed)
    except PlacementError as exc:
        print(f"vxlab class place: {exc}; nothing written")
        return 1
    rows = [("stack", "hypervisor", "placement")]
    for stack in stacks:
        rows.append((stack, result[stack], "kept" if stack in placed else "would place" if args.dry_run else "placed"))
        if stack not in placed and not args.dry_run:
            write_placement(stack_file(project, stack), inventory.entry(result[stack]))
    print("\n".join(aligned(rows)))
    print(load_table(loads_of(needs, hosts, result), inventory), end="")
    return 0
