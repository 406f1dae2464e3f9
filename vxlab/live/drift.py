"""Drift inside the machines: every file vxlab manages (content digest, owner, mode) and every
service it configures, read back and compared with what the stack renders. `pulumi refresh`
cannot see any of it: a command resource has no read."""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass

from vxlab.build.render import plan_lab
from vxlab.features import services_of
from vxlab.features.spec import Machine, Observation, Where
from vxlab.live.snapshot import Snapshot
from vxlab.model.lab import Lab
from vxlab.model.naming import stack_label

# The component that installs each role's files, and the resource type that does it.
_INSTALLERS = {
    "host": "vxlab:index:HostSwitch$command:{kind}:Command",
    "router": "vxlab:index:RouterVM$command:remote:Command",
    "tenant": "vxlab:index:TenantVM$command:remote:Command",
    "dhcp-server": "vxlab:index:TenantVM$lxd:index/instance:Instance",
    "client": "vxlab:index:TenantVM$lxd:index/instance:Instance",
}


@dataclass(frozen=True)
class Expected:
    machine: str
    role: str
    what: str  # a file's path, or "service NAME"
    state: str  # "sha256 owner mode" for a file, "active" for a service
    urn: str  # the resource that puts it back


@dataclass(frozen=True)
class Difference:
    machine: str
    what: str
    expected: str
    found: str
    repair: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def resource_urn(lab: Lab, stack: str, machine: Machine, path: str, local_host: bool = True) -> str:
    """The URN of the resource that installs `path` on `machine` (`pulumi up --replace` it)."""
    kind = "local" if local_host else "remote"
    parent_type = _INSTALLERS[machine.role].format(kind=kind)
    label = stack_label(lab.group)
    if machine.role in ("dhcp-server", "client"):
        name = machine.name
    else:
        name = f"{label if machine.role == 'host' else machine.name}-file:{path}"
    return f"urn:pulumi:{stack}::vxlab::{parent_type}::{name}"


def expected_state(lab: Lab, stack: str, local_host: bool = True) -> list[Expected]:
    out = []
    for machine in plan_lab(lab):
        for f in machine.files:
            state = f"{_digest(f.content)} root {f.mode:o}"
            out.append(
                Expected(
                    machine.name, machine.role, f.path, state, resource_urn(lab, stack, machine, f.path, local_host)
                )
            )
        for service, config in services_of(machine.role).items():
            out.append(
                Expected(
                    machine.name,
                    machine.role,
                    f"service {service}",
                    "active",
                    resource_urn(lab, stack, machine, config, local_host),
                )
            )
    return out


def read_command(expected: list[Expected]) -> str:
    """A POSIX shell command that prints, per file, `path<TAB>sha256 owner mode` (or MISSING)
    and, per service, `service NAME<TAB>state`."""
    parts = []
    for e in expected:
        if e.what.startswith("service "):
            name = shlex.quote(e.what.removeprefix("service "))
            parts.append(f"printf 'service %s\\t%s\\n' {name} \"$(systemctl is-active {name} 2>/dev/null)\"")
        else:
            p = shlex.quote(e.what)
            parts.append(
                f"if [ -f {p} ]; then printf '%s\\t%s %s\\n' {p} \"$(sha256sum < {p} | cut -d' ' -f1)\" "
                f"\"$(stat -c '%U %a' {p})\"; else printf '%s\\tMISSING\\n' {p}; fi"
            )
    return "; ".join(parts)


def parse(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        what, sep, state = line.partition("\t")
        if sep:
            found[what] = re.sub(r"\s+", " ", state.strip())
    return found


_WHERE: dict[str, Where] = {
    "host": "host",
    "router": "vm",
    "tenant": "vm",
    "dhcp-server": "container",
    "client": "container",
}


def observations(expected: list[Expected]) -> dict[str, Observation]:
    """Per machine, the one command that reads back everything expected of it."""
    roles = {e.machine: e.role for e in expected}
    return {
        machine: Observation(
            "host" if role == "host" else machine,
            _WHERE[role],
            read_command([e for e in expected if e.machine == machine]),
        )
        for machine, role in roles.items()
    }


def compare(expected: list[Expected], found: dict[str, str], stack: str) -> list[Difference]:
    """Each expected file or service whose read-back state differs, with the command that puts it back."""
    diffs = []
    for e in expected:
        state = found.get(e.what, "not read")
        if state != e.state:
            repair = f"scripts/pulumi up --stack {stack} --replace '{e.urn}'"
            diffs.append(Difference(e.machine, e.what, e.state, state, repair))
    return diffs


def drifted(
    expected: list[Expected], reads: dict[str, Observation], snapshot: Snapshot, stack: str
) -> list[Difference]:
    """Every difference between what the stack renders and what the snapshot read back."""
    diffs: list[Difference] = []
    for machine, read in reads.items():
        seen = snapshot.latest(read.machine, read.command)
        found = parse(seen.out) if seen is not None else {}
        diffs += compare([e for e in expected if e.machine == machine], found, stack)
    return diffs
