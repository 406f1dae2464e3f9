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
from vxlab.live.framing import TIMED_OUT
from vxlab.live.remote import Result
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


# The last line of a read that ran to its end: a file it does not list is then missing, not
# unread (a read stopped by its time limit keeps what it printed before).
READ_DONE = "vxlab-drift-read-done"


def read_command(expected: list[Expected]) -> str:
    """A POSIX shell command that reads back every expected file with two processes (one
    `sha256sum`, one `stat`: a CI run measured a loaded TCG tenant reading three files, four
    processes each, in 20 s) and each service with one `systemctl`, then prints READ_DONE.
    Its output: `HASH  PATH`, `mode PATH<TAB>owner mode`, `service NAME<TAB>state`."""
    files = " ".join(shlex.quote(e.what) for e in expected if not e.what.startswith("service "))
    parts = []
    if files:
        parts.append(f"sha256sum -- {files} 2>/dev/null")
        parts.append(f"stat --printf 'mode %n\\t%U %a\\n' -- {files} 2>/dev/null")
    for e in expected:
        if e.what.startswith("service "):
            name = shlex.quote(e.what.removeprefix("service "))
            parts.append(f"printf 'service %s\\t%s\\n' {name} \"$(systemctl is-active {name} 2>/dev/null)\"")
    parts.append(f"echo {READ_DONE}")
    return "; ".join(parts)


@dataclass(frozen=True)
class ReadBack:
    """What one machine's read printed: per file `sha256 owner mode`, per service its state;
    `unread` says why what is not listed was not read ("" when the read ran to its end)."""

    found: dict[str, str]
    unread: str = ""

    def state(self, what: str) -> str:
        if what in self.found:
            return self.found[what]
        if self.unread:
            return f"not read ({self.unread})"
        return "not reported" if what.startswith("service ") else "MISSING"


def parse(output: str, why: str = "the read stopped before its end") -> ReadBack:
    """`output` of read_command; `why` says what stopped a read that did not print READ_DONE."""
    digests: dict[str, str] = {}
    found: dict[str, str] = {}
    done = False
    for line in output.splitlines():
        if line == READ_DONE:
            done = True
        elif line.startswith("mode ") and "\t" in line:
            path, _, state = line.removeprefix("mode ").partition("\t")
            found[path] = re.sub(r"\s+", " ", state.strip())
        elif line.startswith("service ") and "\t" in line:
            what, _, state = line.partition("\t")
            found[what] = state.strip()
        elif re.fullmatch(r"[0-9a-f]{64}  .+", line):
            digests[line[66:]] = line[:64]
    for path in list(found):
        if not path.startswith("service "):
            found[path] = f"{digests[path]} {found[path]}" if path in digests else f"unreadable {found[path]}"
    return ReadBack(found, "" if done else why)


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


def compare(expected: list[Expected], read: ReadBack, stack: str) -> list[Difference]:
    """Each expected file or service whose read-back state differs, with the command that puts it back."""
    diffs = []
    for e in expected:
        state = read.state(e.what)
        if state != e.state:
            repair = f"scripts/pulumi up --stack {stack} --replace '{e.urn}'"
            diffs.append(Difference(e.machine, e.what, e.state, state, repair))
    return diffs


def _why(seen: Result, limit: float) -> str:
    """Why a read did not reach its end, in the words of what stopped it."""
    if seen.code == TIMED_OUT:
        return f"the read was stopped at its limit of {limit:.0f} s: the machine is overloaded or hung"
    return seen.err.strip().splitlines()[-1] if seen.err.strip() else f"its read exited {seen.code}"


def drifted(
    expected: list[Expected], reads: dict[str, Observation], snapshot: Snapshot, stack: str
) -> list[Difference]:
    """Every difference between what the stack renders and what the snapshot read back."""
    diffs: list[Difference] = []
    for machine, read in reads.items():
        seen = snapshot.latest(read.machine, read.command)
        why = _why(seen, read.timeout) if seen is not None else "the machine was not asked"
        back = parse(seen.out if seen is not None else "", why)
        diffs += compare([e for e in expected if e.machine == machine], back, stack)
    return diffs
