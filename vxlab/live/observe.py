"""Observations made on a running lab, one round trip per machine and every machine at once:
the hypervisor runs its script, each VM its own, and each VM's script runs each of its
containers' scripts (in the container's namespaces) alongside its own commands. A machine that
does not answer, or a container that is not there, leaves its observations with the error that
says so."""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from vxlab.features.spec import VM_LANE, Observation
from vxlab.live.framing import NOT_RUN, Command, Framed, parse, script
from vxlab.live.remote import LabShell, Result
from vxlab.live.snapshot import Round, Snapshot

# What a machine's script may take beyond its longest lane: SSH's connection (about a second
# to a TCG guest), `lxc exec` starting the container's shell, the framing's own commands.
SLACK_S = 30.0
HOST = "host"


def budget(commands: Iterable[Command]) -> float:
    """The longest a script of `commands` runs: its longest lane, each lane's commands in turn."""
    lanes: dict[str, float] = {}
    for i, c in enumerate(commands):
        key = c.lane or f"#{i}"
        lanes[key] = lanes.get(key, 0.0) + c.timeout
    return max(lanes.values(), default=0.0)


# The environment `lxc exec` gives a command in a container.
CONTAINER_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LANG=C.UTF-8"


CGROUPS = "/sys/fs/cgroup"


def init_procs(container: str, cgroups: str = CGROUPS) -> str:
    """The file that lists a running container's init: the cgroup LXD made for it, with the
    scope systemd moves itself into. Empty or missing while the container does not run."""
    return f"{cgroups}/lxc.payload.{container}/init.scope/cgroup.procs"


def read_init(container: str, cgroups: str = CGROUPS) -> str:
    """Reads a running container's init into `$p`, and fails while the container does not run.
    `read`, not `test -s`: a cgroup file has no size."""
    return f"{{ read -r p < {shlex.quote(init_procs(container, cgroups))}; }} 2>/dev/null"


def container_command(name: str, observations: list[Observation]) -> Command:
    """A container's script, run in its namespaces: entered directly from its init's process
    when the container runs (starting the `lxc` client costs a TCG tenant a second of CPU per
    container, three of them at once eight seconds), else through `lxc exec`, which then says
    why it cannot (not there, not running). A container whose observations are all in the VM
    lane runs after the VM's other such containers, not alongside them."""
    commands = [Command(o.command, o.lane, o.timeout) for o in observations]
    lane = VM_LANE if all(o.lane == VM_LANE for o in observations) else ""
    inner = shlex.quote(script(commands))
    entered = (
        f"p=; {read_init(name)}; "
        f'if [ -n "$p" ]; then exec nsenter -t "$p" -a env -i {CONTAINER_ENV} sh -c {inner}; '
        f"else exec lxc exec {shlex.quote(name)} -- sh -c {inner}; fi"
    )
    return Command(entered, lane, budget(commands) + SLACK_S / 2)


def _result(framed: Framed | None, code: int, err: str) -> Result:
    """A framed result, or the failure of what should have carried it (SSH, `lxc exec`)."""
    if framed is None:
        return Result(code if code != 0 else NOT_RUN, "", err.strip() or "no result (the script did not finish)")
    return Result(framed.code, framed.out.decode(errors="replace"), framed.err.decode(errors="replace"))


def _machine(
    shell: LabShell, vm: str | None, own: list[Observation], containers: dict[str, list[Observation]]
) -> tuple[dict[tuple[str, str], Result], float]:
    """One machine's round trip: its own observations and its containers'."""
    commands = [Command(o.command, o.lane, o.timeout) for o in own]
    commands += [container_command(name, obs) for name, obs in containers.items()]
    started = time.monotonic()
    code, out, err = shell.script(vm, script(commands), budget(commands) + SLACK_S)
    seconds = round(time.monotonic() - started, 2)
    framed = parse(out)
    results = {o.key: _result(framed.get(i), code, err) for i, o in enumerate(own)}
    for offset, obs in enumerate(containers.values(), start=len(own)):
        carrier = framed.get(offset)
        inner = parse(carrier.out) if carrier is not None else {}
        why = carrier.err.decode(errors="replace") if carrier is not None else err
        why_code = carrier.code if carrier is not None else code
        results.update({o.key: _result(inner.get(i), why_code, why) for i, o in enumerate(obs)})
    return results, seconds


def _group(
    shell: LabShell, observations: list[Observation]
) -> dict[str | None, tuple[list[Observation], dict[str, list[Observation]]]]:
    """Per machine that runs a script (None: the hypervisor): its own observations and its
    containers'."""
    machines: dict[str | None, tuple[list[Observation], dict[str, list[Observation]]]] = {}
    for o in observations:
        if o.where == "container":
            machines.setdefault(shell.tenant_of[o.machine], ([], {}))[1].setdefault(o.machine, []).append(o)
        else:
            machines.setdefault(None if o.where == "host" else o.machine, ([], {}))[0].append(o)
    return machines


def take(
    shell: LabShell,
    observations: Iterable[Observation],
    snapshot: Snapshot,
    label: str,
    ahead: Iterable[Observation] = (),
) -> Round:
    """Every observation made once (the same command on the same machine only once), all
    machines at once; each result added to `snapshot`. The VMs that `ahead` (a later round's
    observations) reaches and this round does not are connected to meanwhile: SSH's connection
    costs a TCG guest 1.5 s (measured: `ssh true` to an idle tenant), a kept one 0.14 s. Not
    waited for: a VM that does not answer is told by the round that asks it."""
    unique = list({o.key: o for o in observations}.values())
    machines = _group(shell, unique)
    for vm in _group(shell, list(ahead)):
        if vm is not None and vm not in machines:
            threading.Thread(target=shell.connect, args=(vm,), daemon=True).start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(len(machines), 1)) as pool:
        done = list(pool.map(lambda m: _machine(shell, m, *machines[m]), machines))
    taken = Round(label, round(time.monotonic() - started, 2))
    for machine, (results, seconds) in zip(machines, done, strict=True):
        taken.machines[machine or HOST] = seconds
        for (name, command), result in results.items():
            snapshot.add(name, command, result)
    snapshot.rounds.append(taken)
    return taken
