"""Whole-machine faults: the lab must come back by itself, with every container's traffic flowing.

- router-crash: the router VM killed (`virsh destroy`) and started again. While it is down both
  tenants' checks fail (their probes are behind it), so both enter FAULT and drop the VIPs; once it
  is back the checks rise and the master takes the VIPs again.
- power-cut: the three VMs of the group killed at once, then started together, as after a power
  failure of the hypervisor. No `pulumi up`: the guests' own boot must bring back the interfaces,
  the OVS bridge and its VXLAN port, keepalived, radvd, LXD and its containers, and the DHCP
  failover pair.
- host-reboot: the power cut, and the group's host side gone as after a restart of the
  hypervisor (taps, SVI, namespace, relays); then what the hypervisor's boot does, no `pulumi
  up`: the group's switch script up, libvirt starting the domains it autostarts.

Each runs the traffic checks (TCP transfers both ways over IPv4 and IPv6 from every container,
full-size pings across the VXLAN) before the fault (or takes those a passed recovery ran right
before it) and after the recovery, and measures on this host's clock the seconds from the fault
until each container holds its address and moves data again over both families, probing every
running container still waiting at once.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vxlab.features.spec import DONE, Observation
from vxlab.live.bounds import MARGIN_S, master_down_interval
from vxlab.live.drill import failover_state_of, holds_vips, wait_until
from vxlab.live.drill_report import Outcome
from vxlab.live.judging import Graded, judge, observe_tasks
from vxlab.live.observe import CGROUPS, read_init, take
from vxlab.live.remote import LabShell, Result
from vxlab.live.snapshot import Snapshot, utc_now
from vxlab.live.traffic import CURL_TAG, download_command, downloaded, server_site
from vxlab.live.traffic_live import transfer_server
from vxlab.model.lab import Lab
from vxlab.model.topology import host_switch_path, uri_on_hypervisor

RECOVERY_SCENARIOS = ("router-crash", "power-cut", "host-reboot")
# A TCG router from `virsh start` until its interfaces and NAT rules are up: every container moved
# data again 64-77 s after a router crash (2026-11-30); `pulumi up` waited 95-116 s for its SSH
# with three guests booting at once.
ROUTER_BOOT_S = 180.0
# A TCG tenant from `virsh start` until LXD has started its three containers and they have their
# addresses: after a power cut of the `ci` group every container moved data again at 203-241 s
# (2026-11-30); machines of this kind differ two- to threefold in TCG speed, so twice that.
TENANT_BOOT_S = 480.0
# The probe each container repeats while it waits: small, so a poll is quick; the traffic checks
# that follow the recovery move the full size.
PROBE_BYTES = 64 << 10
PROBE_TIMEOUT_S = 30
POLL_PAUSE_S = 2.0
DHCP_NORMAL_S = 180.0


def recovery_bound(lab: Lab, scenario: str) -> float:
    """The longest until every container moves data again: the machines' boot, then each
    tenant's checks must rise (`rise` passes one interval apart, behind one still failing) and
    the master claim the VIPs after its Master_Down_Interval."""
    c = lab.vrrp.check
    protocols = (c.rise + 1) * c.interval + master_down_interval(lab, lab.master().vrrp_priority) + MARGIN_S
    boot = ROUTER_BOOT_S if scenario == "router-crash" else TENANT_BOOT_S
    return round(boot + protocols, 2)


def restored_states(scenario: str) -> bool:
    """Whether the whole group restarted, so the DHCP pair must find its NORMAL state again."""
    return scenario in ("power-cut", "host-reboot")


def restored_bound(lab: Lab, scenario: str) -> float:
    """The longest until the lab is as before: the VIPs on the configured master and, after a
    power cut, the DHCP pair back in NORMAL."""
    return round(recovery_bound(lab, scenario) + (DHCP_NORMAL_S if restored_states(scenario) else 0.0), 2)


@dataclass(frozen=True)
class Fault:
    make: tuple[str, ...]
    undo: tuple[str, ...]


def fault_of(lab: Lab, scenario: str) -> Fault:
    """The hypervisor commands of a whole-machine fault (the handout can print them).

    host-reboot: what a restart of the hypervisor loses of the group and what its boot does. The
    VMs die and the group's host side goes (its taps, bridge ports, SVI, namespace and relays:
    the switch script's `down`); then the boot's two steps, no `pulumi up`: the switch script's
    `up` (what `scripts/lab-host up` runs for every group before libvirtd), and libvirt starting
    each domain whose autostart is set (`--autostart`: a domain without it is not started, and
    the lab does not come back)."""
    virsh = f"virsh -c {uri_on_hypervisor(lab)}"
    vms = (
        (lab.router.name,) if scenario == "router-crash" else (lab.router.name, *(t.name for t in lab.tenants.values()))
    )
    kill = tuple(f"{virsh} destroy {vm}" for vm in vms)
    if scenario != "host-reboot":
        return Fault(kill, tuple(f"{virsh} start {vm}" for vm in vms))
    switch = host_switch_path(lab)
    autostart = tuple(f"{virsh} dominfo {vm} | grep -Eq '^Autostart: +enable' && {virsh} start {vm}" for vm in vms)
    return Fault((*kill, f"{switch} down"), (f"{switch} up", *autostart))


ADDRESS = "ip -o -4 addr show dev eth0"


def probe_command(lab: Lab) -> str:
    """The container's IPv4 address, then one small download over each family (both curl
    status lines)."""
    site = server_site(lab)
    downloads = (download_command(site.url(family, f"/bytes/{PROBE_BYTES}"), PROBE_TIMEOUT_S // 3) for family in (4, 6))
    return "; ".join((ADDRESS, *downloads))


def ipv4_of(out: str) -> str | None:
    """The first IPv4 address in `ip -o -4 addr` lines."""
    found = re.search(r"\binet ([0-9.]+)/", out)
    return found.group(1) if found else None


def probe_ok(out: str) -> bool:
    """The container has an IPv4 address and both families' downloads arrived whole."""
    parts = out.split(CURL_TAG)
    if len(parts) != 3 or ipv4_of(parts[0]) is None:
        return False
    grade = downloaded(PROBE_BYTES)
    return all(grade(CURL_TAG + part)[0] == DONE for part in parts[1:])


@dataclass(frozen=True)
class Back:
    """A container back after a fault: the seconds until its probe first passed (inf if it never
    did) and the IPv4 address it then held."""

    seconds: float
    ipv4: str | None


def wait_for_traffic(
    containers: list[str],
    probe: Callable[[list[str]], dict[str, Result]],
    since: float,
    limit: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Back]:
    """When each container's probe first passed, from `since` (inf past `limit`), probing every
    container still waiting at once, round after round."""
    back: dict[str, Back] = {}
    while len(back) < len(containers) and clock() - since < limit:
        waiting = [c for c in containers if c not in back]
        results = probe(waiting)
        now = round(clock() - since, 2)
        back.update({c: Back(now, ipv4_of(results[c].out)) for c in waiting if probe_ok(results[c].out)})
        if len(back) < len(containers):
            sleep(POLL_PAUSE_S)
    return {c: back.get(c, Back(float("inf"), None)) for c in containers}


def addresses(shell: LabShell, lab: Lab, containers: list[str]) -> dict[str, str | None]:
    """Each container's IPv4 address, all read at once."""
    snapshot = Snapshot(lab, "", "")
    take(shell, [Observation(c, "container", ADDRESS) for c in containers], snapshot, "addresses")
    return {c: ipv4_of(r.out) if (r := snapshot.latest(c, ADDRESS)) else None for c in containers}


def moved(lab: Lab, before: dict[str, str | None], back: dict[str, Back]) -> list[str]:
    """The containers back with another IPv4 address than before the fault although their
    lease was still valid: one renewed at T1 holds at least half the lease time, so a recovery
    shorter than that must find every container on its own address."""
    return [
        f"{c} came back on {b.ipv4}, not on {before[c]}, {b.seconds} s after the fault (its lease had "
        f"at least {lab.dhcp.default_lease_time // 2} s left)"
        for c, b in back.items()
        if b.ipv4 != before.get(c) and b.seconds < lab.dhcp.default_lease_time / 2
    ]


def probe_round(shell: LabShell, lab: Lab, containers: list[str]) -> dict[str, Result]:
    """One probe from each of `containers`, all at once."""
    command = probe_command(lab)
    snapshot = Snapshot(lab, "", "")
    take(shell, [Observation(c, "container", command, timeout=PROBE_TIMEOUT_S) for c in containers], snapshot, "probe")
    return {c: snapshot.latest(c, command) or Result(255, "", "not observed") for c in containers}


NOT_RUNNING_YET = "not running yet (no init in its LXD cgroup): not probed"


def running_command(containers: list[str], cgroups: str = CGROUPS) -> str:
    """Prints which of `containers` run: their init is in the cgroup LXD made for them, the
    same test the observations make before they enter a container (vxlab.live.observe)."""
    tests = (f"{read_init(c, cgroups)} && echo {shlex.quote(c)}" for c in containers)
    return "; ".join((*tests, "true"))


def running_round(shell: LabShell, lab: Lab, containers: list[str]) -> set[str]:
    """Which of `containers` run, one shell test per tenant."""
    mine = {t.name: [c for c in t.containers if c in containers] for t in lab.tenants.values()}
    commands = {t: running_command(cs) for t, cs in mine.items() if cs}
    snapshot = Snapshot(lab, "", "")
    take(shell, [Observation(t, "vm", command) for t, command in commands.items()], snapshot, "running")
    seen = {line.strip() for t, c in commands.items() if (r := snapshot.latest(t, c)) for line in r.out.splitlines()}
    return seen & set(containers)


class GatedProbe:
    """A probe round that spares a starting tenant: a container is probed only once it runs.
    Before, every waiting container was probed every 2 s, and a probe of one that did not run
    yet fell back to `lxc exec`, whose client costs a TCG tenant 1.3-2 s of its one vCPU
    (measured idle): three containers a tenant, every round, while the tenant was starting them.
    A container seen running is probed from then on without being asked again."""

    def __init__(
        self, running: Callable[[list[str]], set[str]], probe: Callable[[list[str]], dict[str, Result]]
    ) -> None:
        self.running, self.probe = running, probe
        self.started: set[str] = set()

    def __call__(self, waiting: list[str]) -> dict[str, Result]:
        unseen = [c for c in waiting if c not in self.started]
        if unseen:
            self.started |= self.running(unseen)
        ready = [c for c in waiting if c in self.started]
        results = self.probe(ready) if ready else {}
        return {c: results.get(c, Result(255, "", NOT_RUNNING_YET)) for c in waiting}


def traffic_outcomes(shell: LabShell, lab: Lab) -> list[Graded]:
    """The traffic checks on the running lab (TCP transfers, full-size pings), judged."""
    snapshot = Snapshot(lab, "", utc_now())
    made = observe_tasks(shell, lab, [], snapshot, traffic=True)
    return [judge(t, snapshot) for t in made]


def traffic_summary(outcomes: list[Graded]) -> dict[str, Any]:
    failed = [f"{o.machine} {o.name}: {o.observed}" for o in outcomes if not o.ok]
    return {"passed": len(outcomes) - len(failed), "failed": failed}


def carried_traffic(previous: Outcome | None) -> dict[str, Any] | None:
    """The traffic a recovery run measured last, when nothing came between it and the next
    fault: the previous run was a recovery that passed, so its `traffic after` is the lab's
    traffic right before the next fault, and measuring it again would only cost the time."""
    if previous is None or not previous.passed or "traffic_after" not in previous.notes:
        return None
    after: dict[str, Any] = previous.notes["traffic_after"]
    return None if after["failed"] else {**after, "carried": "the previous run's traffic after its recovery"}


def run(
    shell: LabShell,
    lab: Lab,
    scenario: str,
    report: Callable[[str], None] = lambda _: None,
    before: dict[str, Any] | None = None,
) -> Outcome:
    """One recovery; `before` is the traffic measured right before it (carried_traffic), or
    None to measure it here."""
    master, backup = lab.master(), lab.peer_of(lab.master())
    containers = [c for t in lab.tenants.values() for c in t.containers]

    failures: list[str] = []
    own = addresses(shell, lab, containers)
    if before is None:
        before = traffic_summary(traffic_outcomes(shell, lab))
    report(
        f"{scenario}: traffic before the fault: {before['passed']} passed, {len(before['failed'])} failed"
        + (" (carried from the run before)" if "carried" in before else "")
    )
    if before["failed"]:
        raise RuntimeError(f"the lab's traffic fails before the {scenario}: {before['failed'][:3]}")
    fault = fault_of(lab, scenario)
    bound, back_bound = recovery_bound(lab, scenario), restored_bound(lab, scenario)
    cut = time.monotonic()
    for command in fault.make:
        shell.host(command, timeout=60)
    # The router carries the path to every VM (the tenants sit behind it).
    shell.reconnect(list(shell.endpoints))
    for command in fault.undo:
        result = shell.host(command, timeout=120)
        if not result.ok:
            failures.append(f"`{command}` failed: {result.err.strip()[:200]}")
    # Started once the fault is undone: a host reboot's namespace is a new one.
    with transfer_server(shell, lab):
        gated = GatedProbe(
            lambda waiting: running_round(shell, lab, waiting), lambda ready: probe_round(shell, lab, ready)
        )
        flowing = wait_for_traffic(containers, gated, cut, bound)
    failures += moved(lab, own, flowing)
    back = wait_until(lambda: holds_vips(shell, lab, master), cut, back_bound, every=2.0)
    if holds_vips(shell, lab, backup):
        failures.append(f"{backup.name} still holds the VIPs")
    dhcp = {t.dhcp_server.name: "unknown" for t in lab.tenants.values()}
    normal = 0.0
    if restored_states(scenario):
        normal = wait_until(
            lambda: all(state == "normal" for state in failover_state_of(shell, lab, list(dhcp)).values()),
            cut,
            back_bound,
            every=5.0,
        )
        dhcp = failover_state_of(shell, lab, list(dhcp))
        if normal == float("inf"):
            failures.append(f"the DHCP pair is not back to normal within {back_bound} s: {dhcp}")
    after = traffic_summary(traffic_outcomes(shell, lab))
    report(f"{scenario}: traffic after the recovery: {after['passed']} passed, {len(after['failed'])} failed")
    failures += [f"after the recovery: {f}" for f in after["failed"]]
    last = max(flowing, key=lambda c: flowing[c].seconds)
    slowest = flowing[last].seconds
    restored = max(back, normal)
    outcome = Outcome(
        scenario=scenario,
        old_master=master.name,
        new_master=master.name,
        failover_bound_s=bound,
        failover_s=slowest,
        outage_ipv4_s=slowest,
        outage_ipv6_s=slowest,
        lost_ipv4=0,
        lost_ipv6=0,
        failback_bound_s=back_bound,
        failback_s=restored,
        failback_outage_bound_s=bound,
        failback_outage_ipv4_s=0.0,
        failback_outage_ipv6_s=0.0,
        notes={
            "traffic_back_s": {c: b.seconds for c, b in flowing.items()},
            "slowest": last,
            "addresses": {c: {"before": own[c], "after": b.ipv4} for c, b in flowing.items()},
            "vips_on_master_s": back,
            "dhcp_normal_s": normal if restored_states(scenario) else None,
            "dhcp_states": dhcp if restored_states(scenario) else None,
            "traffic_before": before,
            "traffic_after": after,
            "meaning": "failover_s: until every container held an address and moved data over IPv4 and IPv6 "
            "again (the slowest's seconds, `slowest` names it); "
            "failback_s: until the VIPs were on the configured master (and, after a power cut, the DHCP pair "
            "in NORMAL)",
        },
        failures=failures,
    )
    outcome.judge()
    return outcome
