"""Tasks observed on a running lab and judged on the snapshot: every check of `vxlab check`,
every step of `vxlab grade`, the drills' state reads.

A set of tasks is observed in two rounds, each one round trip to every machine at once: first
every state read and active probe (pings), then what reads the traces of the first round's
traffic (conntrack entries, the bridge's FDB) together with the TCP transfers and full-size
pings, while the transfer server runs. An active probe that failed is observed once more, after
the time the VIPs need to settle (a loaded machine can move them for a few seconds): a broken
lab is answered in one settle and one more round, not retried into minutes. Judging is a pure
function of the snapshot: a saved snapshot is judged later exactly as it was live.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vxlab.features import graders
from vxlab.features.keepalived import KEEPALIVED_ACTIVE
from vxlab.features.spec import DONE, NOT_DONE, Observation, Task, Verdict
from vxlab.live.bounds import settle_bound
from vxlab.live.framing import NOT_RUN, TIMED_OUT
from vxlab.live.observe import take
from vxlab.live.remote import LabShell, Result
from vxlab.live.snapshot import Snapshot, utc_now
from vxlab.live.traffic import TRANSFER_LANE, global_ipv6, server_addresses, traffic_checks
from vxlab.live.traffic_live import ServerDown, transfer_server
from vxlab.model.lab import Lab
from vxlab.model.stages import section_title
from vxlab.model.topology import host_switch_path, uri_on_hypervisor

# What ssh prints when the VM does not answer, and lxc when the container is not there.
UNREACHABLE = ("Connection refused", "Connection timed out", "No route to host", "timed out after")
NO_CONTAINER = ("Instance not found", "not found")
NOT_OBSERVED = "not observed in the snapshot"
TRAFFIC_SERVER = "traffic_server"  # the snapshot's note when the transfer server did not start


@dataclass(frozen=True)
class Graded:
    section: str
    name: str
    machine: str
    verdict: Verdict
    observed: str
    expected: str
    hint: str

    @property
    def ok(self) -> bool:
        return self.verdict == DONE

    def as_dict(self) -> dict[str, str]:
        return {
            "section": self.section,
            "step": self.name,
            "machine": self.machine,
            "verdict": self.verdict,
            "observed": self.observed,
            "expected": self.expected,
            "hint": self.hint,
        }


def hint_for(section: str, extra: str = "") -> str:
    """Where in the manual: `§5.8 Configure keepalived ...`, then the task's own advice."""
    title = section_title(section)
    reference = f"see §{section} of the manual" + (f" ({title})" if title else "")
    return f"{reference}; {extra}" if extra else reference


# Open vSwitch's tools log to stderr in this form when the guest starves them ("Unreasonably
# long 1945ms poll interval"); a command that folds stderr into stdout (`2>&1`) carries them
# before its answer. They say how the guest fared, never what the lab is.
OVS_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|[\w-]+\|(EMER|ERR|WARN|INFO|DBG)\|.*$\n?", re.M)


def without_ovs_log(out: str) -> str:
    return OVS_LOG_LINE.sub("", out)


def verdict_of(task: Task, result: Result) -> tuple[Verdict, str]:
    """A task's verdict on one observation: a VM that does not answer or a container that is
    not there is a step not done, whatever the grader would make of the silence."""
    result = Result(result.code, without_ovs_log(result.out), result.err)
    text = result.out + result.err
    if result.code == 255 and any(u in text for u in UNREACHABLE):
        return NOT_DONE, f"{task.machine} does not answer: {result.err.strip()[:120]}"
    if task.where == "container" and not result.ok and any(m in result.err for m in NO_CONTAINER):
        return NOT_DONE, f"no container {task.machine}"
    verdict, observed = task.grade(result.out if result.out.strip() or result.ok else result.out + result.err)
    if not result.ok and verdict != DONE:
        observed += f" (exit {result.code}: {result.reason[:200]})" if result.reason else ""
    return verdict, observed


def judge(task: Task, snapshot: Snapshot) -> Graded:
    """The task's verdict on its latest observation; earlier attempts and the traffic it read
    after are named in what was observed."""
    attempts = snapshot.attempts(task.machine, task.command)
    if not attempts:
        why = snapshot.notes.get(TRAFFIC_SERVER) if task.lane == TRANSFER_LANE else None
        verdict, observed = NOT_DONE, why or NOT_OBSERVED
    else:
        verdict, observed = verdict_of(task, attempts[-1])
        if task.traffic is not None:
            sent = snapshot.latest(task.traffic.machine, task.traffic.command)
            replies = graders.replies(sent.out)[1] if sent is not None else NOT_OBSERVED
            observed += f" (after {task.traffic.machine}'s ping: {replies})"
        if len(attempts) > 1:
            earlier = "; ".join(f"try {n}: {verdict_of(task, a)[1]}" for n, a in enumerate(attempts[:-1], 1))
            observed += f" [try {len(attempts)}; {earlier}]"
    return Graded(
        task.section, task.name, task.machine, verdict, observed, task.expect, hint_for(task.section, task.hint)
    )


def not_running(snapshot: Snapshot) -> str | None:
    """One line saying what to run when no VM of the lab answers (the lab is down, or its host
    side did not come back after the hypervisor restarted); None when any VM answered."""
    lab = snapshot.lab
    vms = [lab.router.name, *(t.name for t in lab.tenants.values())]
    seen = [r for (machine, _), attempts in snapshot.results.items() if machine in vms for r in attempts]
    if not seen or not all(r.code == 255 and any(u in r.err for u in UNREACHABLE) for r in seen):
        return None
    start = " && ".join(f"virsh -c {uri_on_hypervisor(lab)} start {vm}" for vm in vms)
    return (
        f"no VM of {snapshot.stack} answers: on the hypervisor, as root, `{host_switch_path(lab)} up && {start}` "
        f"(what `scripts/lab-host up` does after a restart); a lab never brought up: `scripts/lab-up {snapshot.stack}`"
    )


def peer_ipv6(snapshot: Snapshot) -> dict[str, str | None]:
    """Each DHCP server's SLAAC address as the snapshot saw it (the full-size pings' targets)."""
    found: dict[str, str | None] = {}
    for task in server_addresses(snapshot.lab):
        seen = snapshot.latest(task.machine, task.command)
        found[task.machine] = global_ipv6(seen.out) if seen is not None else None
    return found


def traffic_tasks(snapshot: Snapshot) -> list[Task]:
    """The traffic checks the snapshot made (none when it was taken without them)."""
    return traffic_checks(snapshot.lab, peer_ipv6(snapshot)) if snapshot.traffic else []


def _rounds(
    shell: LabShell,
    lab: Lab,
    tasks: Sequence[Task],
    snapshot: Snapshot,
    traffic: Callable[[], list[Task]] | None,
    extra: Sequence[Observation] = (),
) -> list[Task]:
    """Two rounds: every state read and probe (and `extra`), then the reads of the first round's
    traces with the traffic tasks `traffic` makes from what the first round saw. Returns those
    traffic tasks."""
    first = [t.traffic or t.observation for t in tasks] + list(extra)
    after = [t.observation for t in tasks if t.traffic]
    take(shell, first, snapshot, "state and probes", ahead=after)
    made = traffic() if traffic is not None else []
    if not made:
        if after:
            take(shell, after, snapshot, "after the probes")
        return made
    transfers = [t.observation for t in made if t.lane == TRANSFER_LANE]
    others = after + [t.observation for t in made if t.lane != TRANSFER_LANE]
    try:
        with transfer_server(shell, lab):
            take(shell, others + transfers, snapshot, "after the probes, with the transfers (one at a time per tenant)")
    except ServerDown as down:
        snapshot.notes[TRAFFIC_SERVER] = str(down)
        take(shell, others, snapshot, "after the probes")
    return made


def _may_pass_later(task: Task, snapshot: Snapshot) -> bool:
    """A failed probe that sent and lost: VIPs on the move can do that. One that could not run
    (its container is not there or not running, ping found no such address or interface: exit
    2) fails the same way after any wait."""
    seen = snapshot.latest(task.machine, task.command)
    if seen is None or seen.code == NOT_RUN:
        return False
    if (
        task.where == "container"
        and not seen.out.strip()
        and any(m in seen.err for m in (*NO_CONTAINER, "not running"))
    ):
        return False
    return not (task.command.startswith("ping") and seen.code == 2)


def _timed_out(task: Task, snapshot: Snapshot) -> bool:
    seen = snapshot.latest(task.machine, task.command)
    return seen is not None and seen.code == TIMED_OUT and len(snapshot.attempts(task.machine, task.command)) == 1


def vips_cannot_move(snapshot: Snapshot) -> bool:
    """keepalived observed on every tenant and running on none: no VIP is on the move, so a
    probe that failed fails again (a lab at stage `router`, or whose students have not started
    keepalived yet, is answered without waiting for VIPs to settle)."""
    seen = [snapshot.latest(t.name, KEEPALIVED_ACTIVE) for t in snapshot.lab.tenants.values()]
    return all(s is not None for s in seen) and not any(s is not None and s.out.strip() == "active" for s in seen)


def _to_look_again(tasks: Sequence[Task], snapshot: Snapshot) -> list[Task]:
    """The active probes that failed and may pass once the VIPs settle (see _may_pass_later).
    VIPs on the move fail a few seconds' worth of probes; when no VIP can move, or every
    transfer failed (the path is broken), looking again (each transfer waiting out its
    connection timeout) would only make a broken lab wait."""
    # A state read that ran out of its time on a starved guest is read once more, whatever the VIPs.
    starved = [t for t in tasks if not t.relook and _timed_out(t, snapshot)]
    if vips_cannot_move(snapshot):
        return starved
    failing = [t for t in tasks if t.relook and not judge(t, snapshot).ok]
    failed = [t for t in failing if _may_pass_later(t, snapshot)] + starved
    transfers = [t for t in tasks if t.lane == TRANSFER_LANE]
    if transfers and all(t in failing for t in transfers):
        failed = [t for t in failed if t.lane != TRANSFER_LANE]
    return failed


def observe_tasks(
    shell: LabShell,
    lab: Lab,
    tasks: Sequence[Task],
    snapshot: Snapshot,
    traffic: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    extra: Sequence[Observation] = (),
) -> list[Task]:
    """Observes `tasks` (and, with `traffic`, the traffic checks; `extra` in the first round)
    into `snapshot`; the active probes that failed are observed once more after the VIPs'
    settle time (see _to_look_again). Returns every task observed, the traffic checks last."""
    snapshot.traffic = snapshot.traffic or traffic
    if traffic:  # the DHCP servers' addresses, which the full-size pings target
        extra = [*extra, *(t.observation for t in server_addresses(lab))]
    made = _rounds(shell, lab, tasks, snapshot, (lambda: traffic_tasks(snapshot)) if traffic else None, extra)
    again, again_made = _to_look_again(tasks, snapshot), _to_look_again(made, snapshot)
    if again or again_made:
        sleep(settle_bound(lab))
        _rounds(shell, lab, again, snapshot, (lambda: again_made) if again_made else None)
    return [*tasks, *made]


def look(shell: LabShell, lab: Lab, tasks: Sequence[Task], label: str = "look") -> list[Graded]:
    """A few state reads observed at once (one round) and judged, no second look: the drills'."""
    snapshot = Snapshot(lab, "", utc_now())
    take(shell, [t.observation for t in tasks], snapshot, label)
    return [judge(t, snapshot) for t in tasks]
