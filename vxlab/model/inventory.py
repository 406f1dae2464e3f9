"""The class's hypervisors (issue 31): where groups may run and how much each may hold. One YAML
file in the project (`inventory.yaml`), validated like the stack files: a bad entry is refused
with its key and the fix before anything is placed or touched."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, model_validator

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

    @model_validator(mode="after")
    def _reached_as_pinned(self) -> HypervisorEntry:
        if self.ssh_host is not None and self.host_key is None:
            raise ValueError("host_key: missing")
        return self


class Inventory(Strict_):
    hypervisors: list[HypervisorEntry] = Field(min_length=1, description="at least one hypervisor")

    @model_validator(mode="after")
    def _unique_names(self) -> Inventory:
        names = [h.name for h in self.hypervisors]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"hypervisors.{i}.name: {name!r} names an earlier hypervisor too")
        return self

    def entry(self, name: str) -> HypervisorEntry:
        return next(h for h in self.hypervisors if h.name == name)


def _key(loc: tuple[Any, ...]) -> str:
    return f"{INVENTORY_FILE}:" + ".".join(str(p) for p in loc) if loc else INVENTORY_FILE


def parse_inventory(data: object) -> Inventory:
    """The inventory from its YAML data, or one ConfigError naming the key and the fix."""
    try:
        return Inventory.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        message = str(err.get("msg", ""))
        if err["type"] == "value_error" and ": " in message.removeprefix("Value error, "):
            where, _, problem = message.removeprefix("Value error, ").partition(": ")
            key = _key((*loc, *where.split("."))) if where else _key(loc)
            if problem == "missing":
                fix = "pin the hypervisor's key: the `ssh-ed25519 ...` part of `ssh-keyscan -t ed25519 HOST`"
                raise ConfigError(key, "missing", fix) from None
            raise ConfigError(key, problem, "give each hypervisor its own name") from None
        if err["type"] == "missing":
            raise ConfigError(_key(loc), "missing", "set it (see docs/class-hypervisors.md)") from None
        if err["type"] == "extra_forbidden":
            raise ConfigError(_key(loc), "unknown key", "remove it or correct its spelling") from None
        got = err.get("input")
        shown = got if not isinstance(got, (dict, list)) else type(got).__name__
        raise ConfigError(_key(loc), f"got {shown!r}: {message}", "see docs/class-hypervisors.md") from None


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
