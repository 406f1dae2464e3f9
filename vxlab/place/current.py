"""Where the class's groups are now: a group is placed when its stack file states
`vxlab:hypervisor.libvirt_uri`, on the inventory's entry with that URI; a group that states none
is `vxlab class place`'s to place."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vxlab.base.errors import ConfigError, config_key
from vxlab.model.inventory import INVENTORY_FILE, Inventory, load_inventory
from vxlab.validate.load import load_stack_config

URI_KEY = ("hypervisor", "libvirt_uri")


def stated_uri(config: Mapping[str, Any]) -> str | None:
    """The libvirt URI a stack file states, without the namespace (None: not stated)."""
    hypervisor = config.get("hypervisor")
    uri = hypervisor.get("libvirt_uri") if isinstance(hypervisor, Mapping) else None
    return uri if isinstance(uri, str) else None


def placed_of(inventory: Inventory, configs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Per placed group (stack), the name of its inventory entry; a URI the inventory does not
    list is refused with the stack file's key."""
    by_uri = {h.libvirt_uri: h.name for h in inventory.hypervisors}
    placed = {}
    for stack, config in configs.items():
        uri = stated_uri(config)
        if uri is None:
            continue
        if uri not in by_uri:
            raise ConfigError(
                config_key(URI_KEY),
                f"{uri!r} is none of {INVENTORY_FILE}'s hypervisors",
                f"set it to one of theirs ({', '.join(sorted(by_uri))}) or remove it so `vxlab class place` chooses",
                stack=stack,
            )
        placed[stack] = by_uri[uri]
    return placed


def groups_by_host(placed: Mapping[str, str], stacks: list[str]) -> dict[str | None, list[str]]:
    """`stacks` per host, in their order; None holds the groups not placed."""
    hosts: dict[str | None, list[str]] = {}
    for stack in stacks:
        hosts.setdefault(placed.get(stack), []).append(stack)
    return hosts


def read_placement(project: Path, stacks: list[str]) -> tuple[Inventory, dict[str, str]] | None:
    """The project's inventory and where each of `stacks` is placed on it; None without an
    inventory (every verb then acts as on one hypervisor)."""
    if not (project / INVENTORY_FILE).is_file():
        return None
    inventory = load_inventory(project)
    return inventory, placed_of(inventory, {s: load_stack_config(project, s) for s in stacks})
