"""What the students made that raising the stage takes over: their files at the paths vxlab
writes (kept aside as `<path>.vxlab-orig`, given back when vxlab's step is deleted) and their
containers bearing the names vxlab's take (kept, stopped, as `<name>-student`)."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Iterable

from vxlab.build.provision import STUDENT_SUFFIX
from vxlab.features.spec import Machine
from vxlab.live.remote import LabShell
from vxlab.model.lab import Lab


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def students_work(shell: LabShell, lab: Lab, machines: dict[str, Machine], vms: Iterable[str]) -> list[str]:
    """One line per file vxlab would replace on `vms` that is not vxlab's (the students', or the
    image's own), and per container of the students bearing the name of one of vxlab's."""
    lines: list[str] = []
    tenants = {t.name: t for t in lab.tenants.values()}
    for vm in vms:
        files = machines[vm].files
        listed = " ".join(shlex.quote(f.path) for f in files)
        seen = shell.vm(vm, f'for f in {listed}; do [ -f "$f" ] && sha256sum "$f"; done; true')
        if not seen.ok:
            lines.append(f"{vm}: cannot look ({seen.err.strip()[:120] or 'no answer'})")
            continue
        sums = {path: digest for digest, path in (line.split(None, 1) for line in seen.out.splitlines() if line)}
        for f in files:
            if f.path in sums and sums[f.path] != _sha(f.content):
                lines.append(f"{vm}: replaces {f.path}, not vxlab's (kept as {f.path}.vxlab-orig)")
        if vm in tenants:
            names = shell.vm(vm, "lxc list --format csv --columns n 2>/dev/null").out.split()
            lines += [
                f"{vm}: keeps the students' container {c} as {c}{STUDENT_SUFFIX}, stopped"
                for c in tenants[vm].containers
                if c in names
            ]
    return lines
