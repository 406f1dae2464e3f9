"""A group's students' files, kept before its lab goes and written back on the lab that replaces
it (`vxlab class drain`): the files vxlab's plan at stage `full` holds on the machines the group's
stage leaves to the students, and the manual's own paths where vxlab writes elsewhere. What the
students ran (services restarted, bridges and containers made) is not a file: the grade before
and after the move says which steps they must do again (vxlab.live.moves)."""

from __future__ import annotations

import base64
import shlex
from dataclasses import dataclass
from pathlib import Path

from vxlab.build.render import plan_lab
from vxlab.features.spec import Machine, Observation, Where
from vxlab.live.observe import take
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import Snapshot, utc_now
from vxlab.model.lab import Lab

CONTAINER_ROLES = ("dhcp-server", "client")
RESTORE_TIMEOUT_S = 60.0


def students_machines(lab: Lab) -> list[Machine]:
    """The machines the lab's stage leaves to the students, each with the files of the manual's
    paths it would hold (vxlab's plan at stage `full`): none at stage `full`."""
    built = {m.name for m in plan_lab(lab)}
    return [m for m in plan_lab(lab, "full") if m.name not in built]


def where_of(machine: Machine) -> Where:
    return "container" if machine.role in CONTAINER_ROLES else "vm"


# Where the manual has the students write what vxlab writes elsewhere (docs/seed-deviations.md,
# 17: the routing sysctls), on the VMs.
SEED_PATHS = ("/etc/sysctl.conf",)


@dataclass(frozen=True)
class Wanted:
    machine: str
    where: Where  # "vm" or "container"
    path: str
    mode: int


@dataclass(frozen=True)
class KeptFile(Wanted):
    content: str


def wanted(lab: Lab) -> list[Wanted]:
    """Every students' file a drain keeps: vxlab's paths on the students' machines, and on their
    VMs the manual's own paths where vxlab's differ."""
    found = []
    for m in students_machines(lab):
        found += [Wanted(m.name, where_of(m), f.path, f.mode) for f in m.files]
        if where_of(m) == "vm":
            found += [Wanted(m.name, "vm", path, 0o644) for path in SEED_PATHS]
    return found


def read_command(path: str) -> str:
    return f"cat -- {shlex.quote(path)}"


def keep_files(shell: LabShell, lab: Lab) -> tuple[list[KeptFile], list[str]]:
    """Every students' file that is there, read in one round trip to every machine; and one line
    per file that could not be read (absent, or its machine not answering)."""
    files = wanted(lab)
    snapshot = Snapshot(lab, "", utc_now())
    take(shell, [Observation(f.machine, f.where, read_command(f.path)) for f in files], snapshot, "students' files")
    kept: list[KeptFile] = []
    missed: list[str] = []
    for f in files:
        seen = snapshot.latest(f.machine, read_command(f.path))
        if seen is not None and seen.ok:
            kept.append(KeptFile(f.machine, f.where, f.path, f.mode, seen.out))
        else:
            why = (seen.reason or "not read")[:120] if seen is not None else "not read"
            missed.append(f"{f.machine}: {f.path} not kept ({why})")
    return kept, missed


def save_files(kept: list[KeptFile], folder: Path) -> None:
    """`folder/<machine>/<path>`: the copy a student can take a file back from."""
    for f in kept:
        target = folder / f.machine / f.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.content)


def write_script(files: list[KeptFile]) -> str:
    """A shell script that writes `files` back with their modes (contents in base64: any byte
    of a file passes the command line unchanged)."""
    lines = ["set -e"]
    for f in files:
        path = shlex.quote(f.path)
        data = base64.b64encode(f.content.encode()).decode()
        lines += [
            f'mkdir -p -- "$(dirname -- {path})"',
            f"printf %s {data} | base64 -d > {path}",
            f"chmod {f.mode:o} -- {path}",
        ]
    return "\n".join(lines) + "\n"


def restore_files(shell: LabShell, kept: list[KeptFile]) -> tuple[list[KeptFile], list[str]]:
    """Each machine's kept files written back: the files restored, and one line per machine whose
    files could not be (a container the students have not launched again is not there yet)."""
    restored: list[KeptFile] = []
    missed: list[str] = []
    by_machine: dict[tuple[str, Where], list[KeptFile]] = {}
    for f in kept:
        by_machine.setdefault((f.machine, f.where), []).append(f)
    for (machine, where), files in by_machine.items():
        script = write_script(files)
        if where == "container":
            done = shell.container(machine, script, timeout=RESTORE_TIMEOUT_S)
            code, err = done.code, done.err
        else:
            code, _, err = shell.script(machine, script, RESTORE_TIMEOUT_S)
        if code == 0:
            restored += files
        else:
            why = (err.strip().splitlines() or [f"exit {code}"])[-1][:120]
            missed.append(f"{machine}: {', '.join(f.path for f in files)} not restored ({why})")
    return restored, missed
