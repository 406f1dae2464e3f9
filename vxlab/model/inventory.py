"""The class's hypervisors (issue 31): where groups may run and how much each may hold. One YAML
file in the project (`inventory.yaml`), validated like the stack files: a bad entry is refused
with its key and the fix before anything is placed or touched."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError

from vxlab.base.errors import ConfigError
from vxlab.model.lab import HostAddress, LibvirtUri, Strict_

INVENTORY_FILE = "inventory.yaml"

HypervisorName = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9\-]{0,31}$", description="a name of 1..32 lower-case letters, digits or '-'")
]
HostKey = Annotated[
    str,
    Field(
        pattern=r"^ssh-ed25519 [A-Za-z0-9+/]{68}$",
        description="the hypervisor's SSH host key as `ssh-ed25519 BASE64` (ssh-keyscan -t ed25519 HOST)",
    ),
]


class Capacity(Strict_):
    memory_mib: int = Field(ge=1024, description="memory the class's VMs may use on this host, in MiB")
    vcpus: int = Field(ge=1, description="virtual CPUs the class's VMs may use on this host")
    groups: int = Field(ge=1, description="groups this host may hold")
    parallel: int = Field(default=1, ge=1, description="groups this host brings up at once")


class HypervisorEntry(Strict_):
    name: HypervisorName
    libvirt_uri: LibvirtUri
    ssh_host: HostAddress | None = Field(default=None, description="the host reached over SSH; null for this machine")
    host_key: HostKey | None = Field(default=None, description="its pinned SSH host key; needed with ssh_host")
    capacity: Capacity


class Inventory(Strict_):
    hypervisors: list[HypervisorEntry] = Field(min_length=1, description="at least one hypervisor")

    def entry(self, name: str) -> HypervisorEntry:
        return next(h for h in self.hypervisors if h.name == name)


def _key(loc: tuple[Any, ...]) -> str:
    return f"{INVENTORY_FILE}:" + ".".join(str(p) for p in loc) if loc else INVENTORY_FILE


def _schema_error(exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    key = _key(tuple(err["loc"]))
    if err["type"] == "missing":
        return ConfigError(key, "missing", "set it (see docs/class-hypervisors.md)")
    if err["type"] == "extra_forbidden":
        return ConfigError(key, "unknown key", "remove it or correct its spelling")
    got = err.get("input")
    shown = got if not isinstance(got, (dict, list)) else type(got).__name__
    return ConfigError(key, f"got {shown!r}: {err['msg']}", "see docs/class-hypervisors.md")


def check_inventory(inventory: Inventory) -> None:
    """What the schema cannot say of one entry alone: names unique, a remote host pinned."""
    for i, h in enumerate(inventory.hypervisors):
        if h.name in (e.name for e in inventory.hypervisors[:i]):
            raise ConfigError(
                _key(("hypervisors", i, "name")),
                f"{h.name!r} names an earlier hypervisor too",
                "give each hypervisor its own name",
            )
        if h.ssh_host is not None and h.host_key is None:
            raise ConfigError(
                _key(("hypervisors", i, "host_key")),
                "missing",
                "pin the hypervisor's key: the `ssh-ed25519 ...` part of `ssh-keyscan -t ed25519 HOST`",
            )


def parse_inventory(data: object) -> Inventory:
    """The inventory from its YAML data (schema, then rules), or one ConfigError naming the key
    and the fix."""
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as exc:
        raise _schema_error(exc) from None
    check_inventory(inventory)
    return inventory


def load_inventory(project: Path) -> Inventory:
    path = project / INVENTORY_FILE
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(
            INVENTORY_FILE, f"cannot read {path} ({exc.strerror})", "write the class's hypervisors there"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(INVENTORY_FILE, f"not YAML ({exc})", "fix its syntax") from None
    return parse_inventory(data)
