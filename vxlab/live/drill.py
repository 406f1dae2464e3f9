"""Faults the lab must survive, measured against the protocol's limits.

Each scenario makes one fault on the VRRP master's side (or the primary DHCP server), measures
on this host's clock how long the VIPs take to move and what a container on the surviving side
sees while it pings the probes over IPv4 and IPv6 every 20 ms, then undoes the fault and measures
the fail-back (pre-emption) the same way. Every figure has a bound computed from the model and
VRRPv3 (RFC 5798): Master_Down_Interval = 3 x advert_int + Skew_Time, Skew_Time =
(256 - priority) x advert_int / 256, plus the margin below.

- probe-cut: the seed's 7.6: the master's IPv4 probe dropped (OUTPUT DROP), then allowed.
- master-crash: the master VM killed (`virsh destroy`), then started again.
- link-down: the master's port on the host switch administratively down, then up. The master is
  cut from the router: its check fails (FAULT, VIPs dropped) and the VXLAN is cut, so the backup
  stops hearing adverts and becomes master; the master's own containers have no gateway at all
  until the link is back.
- dhcp-peer-down: the primary DHCP container stopped: a client renews and a new client (a fresh
  MAC) gets a lease from the secondary (ISC failover, COMMUNICATIONS-INTERRUPTED: it serves every
  client from its own free pool, and may extend a lease by at most MCLT); then the primary is
  started again and the pair must return to NORMAL.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import time
from collections.abc import Callable
from typing import Any

from vxlab.features import graders
from vxlab.features.dhcp_failover import failover_state
from vxlab.features.keepalived import TRACK_SCRIPTS, vips_on
from vxlab.features.lxd import container_runs
from vxlab.live.bounds import (
    DHCP_BOUND_S,
    failback_bound,
    failover_bound,
    fault_of,
    preemption_outage_bound,
)
from vxlab.live.drill_logs import (
    PING_INTERVAL,
    SNAPSHOT_END,
    TrackScriptLog,
    in_lease_range,
    ping_gap,
    track_script_log,
    vips_after,
)
from vxlab.live.drill_report import Outcome
from vxlab.live.judging import look
from vxlab.live.observe import take
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import Snapshot
from vxlab.model.lab import Lab, Tenant

PINGS_STARTED = "pings-started"
# The pings end after this many replies once the event they measure is over (a second at 20 ms).
STOP_AFTER_REPLIES = 50
# The VIP watch outlives the scenario's bounds by this much (the probe-cut's checks on the new
# side, the pings' start); it is stopped earlier when the scenario ends.
WATCH_SLACK_S = 400.0
# The longest a scenario waits, before its fault, for its watcher to reach both probes: a loaded
# TCG tenant's track scripts time out and move the VIPs for a while after the previous fault
# (measured after a master's reboot: 197 s, docs/faults.md); a fault is made on a settled lab.
SETTLE_LIMIT_S = 240.0
# How often a restarted tenant is asked whether its containers run again: each read is a python3
# on that tenant (about 1.4 s of its one TCG vCPU, measured idle), the CPU it needs to start them.
CONTAINERS_POLL_S = 6.0


# -- the running lab ---------------------------------------------------------------------------


def holds_vips(shell: LabShell, lab: Lab, tenant: Tenant) -> bool:
    """The tenant holds both VIPs: the keepalived step's own judge."""
    return look(shell, lab, [vips_on(lab, tenant, "7.3", held=True)], "VIPs")[0].ok


def failover_state_of(shell: LabShell, lab: Lab, servers: list[str]) -> dict[str, str]:
    """Each DHCP server's own failover state as it last wrote it, all read at once (the failover
    step's own observation and parse)."""
    tasks = {s: failover_state(lab, s, "7") for s in servers}
    snapshot = Snapshot(lab, "", "")
    take(shell, [t.observation for t in tasks.values()], snapshot, "failover states")
    states = {}
    for server, task in tasks.items():
        seen = snapshot.latest(task.machine, task.command)
        states[server] = (graders.failover_states(seen.out)[0] if seen is not None else None) or "unknown"
    return states


def containers_running(shell: LabShell, lab: Lab, tenant: Tenant) -> bool:
    """Every container of the tenant runs on the segment: the LXD step's own judge."""
    return all(g.ok for g in look(shell, lab, [container_runs(lab, tenant, c, "7") for c in tenant.containers]))


def reaches_probes(shell: LabShell, lab: Lab, container: str) -> bool:
    """One reply from each probe, over IPv4 and IPv6, within a second each."""
    probe = f"ping -4 -c 1 -W 1 {lab.internet.probe4} && ping -6 -c 1 -W 1 {lab.internet.probe6}"
    return shell.container(container, f"{probe} >/dev/null 2>&1", timeout=30).code == 0


def wait_until(predicate: Callable[[], bool], since: float, limit: float, every: float = 0.1) -> float:
    """Seconds from `since` until `predicate` holds, polled every `every` s; inf past `limit`."""
    while time.monotonic() - since < limit:
        if predicate():
            return round(time.monotonic() - since, 2)
        time.sleep(every)
    return float("inf")


class _VipWatch:
    """The VIPs on one tenant's SVI as they come and go, from one `ip monitor` stream: polling
    every 0.1 s over SSH starved the loaded single-vCPU TCG tenant (load average 9), whose track
    scripts then timed out and put it in FAULT just when it had to take over (measured: 2 of 4
    link-down runs moved the VIPs in 9-14 s against a bound of 5.14 s)."""

    def __init__(self, shell: LabShell, lab: Lab, tenant: Tenant, seconds: float) -> None:
        svi = lab.segment.svi
        # The monitor starts before the snapshot, so no change falls between them; it ends by
        # itself: killing our SSH client leaves the command running in the kept connection.
        self.proc = shell.popen_vm(
            tenant.name,
            f"timeout {int(seconds) + 60} ip -o monitor address dev {svi} & sleep 1; "
            f"ip -o addr show dev {svi} | sed 's/^/snapshot /'; echo {SNAPSHOT_END}; wait",
        )
        self.vips = {str(lab.vrrp.vip4.ip), str(lab.vrrp.vip6.ip)}
        self.held: set[str] = set()
        self.pending = b""
        self.ready = self._read_until(lambda line: line.strip() == SNAPSHOT_END, time.monotonic() + 60)

    def _read_until(self, done: Callable[[str], bool], deadline: float) -> bool:
        """Reads whole lines as they come (os.read: a buffered reader would hide a second line
        from select), updating the VIPs held, until `done` holds for one."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            while b"\n" in self.pending:
                raw, self.pending = self.pending.split(b"\n", 1)
                line = raw.decode(errors="replace")
                self.held = vips_after(line.removeprefix("snapshot "), self.held, self.vips)
                if done(line):
                    return True
            ready, _, _ = select.select([fd], [], [], min(1.0, max(deadline - time.monotonic(), 0)))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return False
                self.pending += chunk
        return False

    def wait_for(self, held: set[str], since: float, limit: float) -> float:
        """Seconds from `since` until this tenant holds exactly `held` of the VIPs (all of them
        once it took over, none once it released them); inf past `limit`."""
        if self.ready and (self.held == held or self._read_until(lambda _: self.held == held, since + limit)):
            return round(time.monotonic() - since, 2)
        return float("inf")

    def close(self) -> None:
        # Not communicate(): the kept connection holds the client's stderr until the command ends.
        self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


class _Pings:
    """A container pinging both probes every 20 ms for at most `seconds`, into a file inside
    the container that is read once at the end: streaming 100 lines a second through `lxc exec`
    and SSH loaded the TCG tenant it measures. `started` waits for the first reply of each:
    starting a command in a container of a loaded TCG guest can take seconds, and a fault made
    before the pings run would go unseen. `stop` ends them once the event they measure is over
    and replies have come back, so a scenario takes what the protocol takes, not its bound."""

    def __init__(self, shell: LabShell, lab: Lab, tenant: Tenant, container: str, seconds: float) -> None:
        self.shell, self.tenant, self.container = shell, tenant, container
        self.procs = {
            family: shell.popen_vm(
                tenant.name, f"lxc exec {container} -- sh -c {shlex.quote(self._script(family, target, seconds))}"
            )
            for family, target in ((4, lab.internet.probe4), (6, lab.internet.probe6))
        }
        self.seconds = seconds

    @staticmethod
    def _log(family: int) -> str:
        return f"/tmp/vxlab-drill-ping{family}"

    @classmethod
    def _script(cls, family: int, target: object, seconds: float) -> str:
        log = cls._log(family)
        return (
            f"ping -{family} -D -n -i {PING_INTERVAL} -W 1 -w {int(seconds)} {target} > {log} 2>&1 & "
            f"echo $! > {log}.pid; "
            f"until grep -q ' bytes from ' {log} || ! kill -0 $! 2>/dev/null; do sleep 0.2; done; "
            f"grep -q ' bytes from ' {log} && echo {PINGS_STARTED}; wait; cat {log}; rm -f {log} {log}.pid"
        )

    def started(self, limit: float = 60.0) -> bool:
        deadline = time.monotonic() + limit
        for proc in self.procs.values():
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))
            if not ready or proc.stdout.readline().strip() != PINGS_STARTED:
                return False
        return True

    def stop(self, replies: int = STOP_AFTER_REPLIES) -> None:
        """Each ping ends (SIGINT: it prints its summary) once `replies` more replies arrived:
        a silence going on now is measured whole, not cut off. A ping that gets none runs to
        its own deadline."""
        waits = " ".join(
            f"( n=$(grep -c ' bytes from ' {self._log(f)}); "
            f"until [ $(grep -c ' bytes from ' {self._log(f)}) -ge $((n + {replies})) ] "
            f"|| ! kill -0 $(cat {self._log(f)}.pid) 2>/dev/null; do sleep 0.2; done; "
            f"kill -INT $(cat {self._log(f)}.pid) 2>/dev/null ) &"
            for f in self.procs
        )
        self.shell.container(self.container, f"{waits} wait", timeout=self.seconds + 30)

    def gaps(self) -> tuple[tuple[float, int], tuple[float, int]]:
        out = {f: p.communicate(timeout=self.seconds + 60)[0] for f, p in self.procs.items()}
        return ping_gap(out[4]), ping_gap(out[6])


def _vrrp_scenario(shell: LabShell, lab: Lab, scenario: str) -> Outcome:
    old = lab.master()
    new = lab.peer_of(old)
    watcher = new.clients[0]
    fault = fault_of(lab, scenario)
    up_bound, back_bound = failover_bound(lab, scenario), failback_bound(lab, scenario)
    back_outage = preemption_outage_bound(lab)
    # Only the probe cut leaves the master reachable while its check decides both figures.
    reads_log = scenario == "probe-cut"

    settled = wait_until(lambda: reaches_probes(shell, lab, watcher), time.monotonic(), SETTLE_LIMIT_S, every=2.0)
    if settled == float("inf"):
        raise RuntimeError(f"{watcher} cannot ping the probes for {SETTLE_LIMIT_S:.0f} s: run `vxlab check` first")
    # One stream watches the surviving side for the whole scenario: it takes the VIPs over
    # (failover), then hands them back when the master pre-empts it (fail-back). The master itself
    # cannot be watched then: its SSH goes over the link the fault cut, or it is still booting.
    watch = _VipWatch(shell, lab, new, up_bound * 2 + back_bound + WATCH_SLACK_S)
    faulty = False
    try:
        pings = _Pings(shell, lab, new, watcher, up_bound * 2 + 30)
        if not (watch.ready and pings.started()):
            raise RuntimeError(f"{watcher} cannot ping the probes before the fault: run `vxlab check` first")
        time.sleep(1)
        log_since = _guest_now(shell, old) if reads_log else 0.0
        faulty = True
        # From before the command: the fault may take effect anywhere inside it (`virsh destroy`
        # takes a second or two), so the figure is an upper bound.
        cut = time.monotonic()
        shell.on(fault.machine, fault.make)
        failover = watch.wait_for(watch.vips, cut, up_bound * 2 + 5)
        pings.stop()
        (out4, lost4), (out6, lost6) = pings.gaps()
        notes: dict[str, Any] = {"settled_s": settled}
        failures: list[str] = []
        if reads_log:
            up_log = _check_log(shell, old, ("failed", "timed_out"), log_since)
            notes["check_failing"] = up_log.as_note
            up_bound = failover_bound(lab, scenario, up_log.skipped)
        if scenario == "probe-cut":  # the seed's 7.6 checks on the new side: RAs, and DHCP on the failed side
            notes.update(_new_side_checks(shell, lab, old, new, failures))

        pings = _Pings(shell, lab, new, watcher, back_bound + 30)
        pings.started()
        time.sleep(1)
        log_since = _guest_now(shell, old) if reads_log else 0.0
        restored = time.monotonic()
        shell.on(fault.machine, fault.undo)
        faulty = False
        # A link-down or a crash cut the old master off (its uplink, the VM itself) and left its
        # kept connection backing off; after a probe cut a new connection costs a second.
        shell.reconnect([old.name])
        failback = watch.wait_for(set(), restored, back_bound + 10)
    finally:
        watch.close()
        if faulty:  # a scenario that stopped half-way leaves the lab as it found it
            shell.on(fault.machine, fault.undo)
    # The backup releases the VIPs on the master's first advert; the master must then hold them
    # within the same bound (after a crash its track scripts may time out while its containers
    # start, and the VIPs go back and forth). Polled every 2 s, not to load a booting guest.
    if failback != float("inf") and wait_until(
        lambda: holds_vips(shell, lab, old), restored, back_bound + 10, every=2.0
    ) == float("inf"):
        failures.append(f"{new.name} released the VIPs but {old.name} does not hold them within {back_bound} s")
    pings.stop()
    (back4, _), (back6, _) = pings.gaps()
    if reads_log:
        back_log = _check_log(shell, old, ("succeeded",), log_since)
        notes["check_rising"] = back_log.as_note
        back_bound = failback_bound(lab, scenario, back_log.skipped)
    if scenario == "master-crash":
        notes["containers_back"] = wait_until(
            lambda: containers_running(shell, lab, old), time.monotonic(), 180, every=CONTAINERS_POLL_S
        ) != float("inf")
        if not notes["containers_back"]:
            failures.append(f"{old.name}'s containers did not come back after the restart")
    outcome = Outcome(
        scenario=scenario,
        old_master=old.name,
        new_master=new.name,
        failover_bound_s=up_bound,
        failover_s=failover,
        outage_ipv4_s=out4,
        outage_ipv6_s=out6,
        lost_ipv4=lost4,
        lost_ipv6=lost6,
        failback_bound_s=back_bound,
        failback_s=failback,
        failback_outage_bound_s=back_outage,
        failback_outage_ipv4_s=back4,
        failback_outage_ipv6_s=back6,
        notes=notes,
        failures=failures,
    )
    outcome.judge()
    return outcome


def _guest_now(shell: LabShell, tenant: Tenant) -> float:
    """The guest's clock: its keepalived log is stamped by it, not by this host's."""
    result = shell.vm(tenant.name, "date +%s.%N", timeout=60)
    try:
        return float(result.out)
    except ValueError:
        raise RuntimeError(f"cannot read {tenant.name}'s clock before the fault: {result.err.strip()}") from None


def _check_log(shell: LabShell, tenant: Tenant, verdicts: tuple[str, ...], since: float) -> TrackScriptLog:
    """The IPv4 check's log on `tenant` from `since`: the probe cut fails that check only."""
    journal = shell.vm(
        tenant.name, f"journalctl -u keepalived -o short-unix --no-pager --since @{int(since)}", timeout=60
    ).out
    return track_script_log(journal, TRACK_SCRIPTS[4], verdicts, since)


def _new_side_checks(shell: LabShell, lab: Lab, old: Tenant, new: Tenant, failures: list[str]) -> dict[str, Any]:
    svi = lab.segment.svi
    new_mac = shell.vm(new.name, f"cat /sys/class/net/{svi}/address").out.strip()
    watcher = new.clients[0]
    shell.container(watcher, f"ping -6 -c 2 -W 2 {lab.internet.probe6}")
    neigh = shell.container(watcher, f"ip -6 neigh show {lab.vrrp.vip6.ip} dev eth0").out
    ra_ok = bool(new_mac) and new_mac in neigh
    client = old.clients[0]
    shell.container(client, "ifdown --force eth0; ifup eth0", timeout=120)
    lease = re.findall(r"inet ([0-9.]+)/", shell.container(client, "ip -o -4 addr show dev eth0").out)
    if not ra_ok:
        failures.append("the VIP's IPv6 neighbour is not the new master")
    if not in_lease_range(lab, lease):
        failures.append(f"no lease in the range on the failed side (got {lease or 'none'})")
    return {"ra_from_new_master": ra_ok, "dhcp_lease_on_failed_side": ", ".join(lease) or "none"}


def _dhcp_scenario(shell: LabShell, lab: Lab) -> Outcome:
    primary = next(t for t in lab.tenants.values() if t.dhcp_server.role == "primary")
    secondary = lab.peer_of(primary)
    server = primary.dhcp_server.name
    client = secondary.clients[0]
    failures: list[str] = []
    shell.vm(primary.name, f"lxc stop --force {server}", timeout=120)
    stopped = time.monotonic()
    # The secondary notices the peer gone when its connection drops (at once for a stop).
    interrupted = wait_until(
        lambda: (
            failover_state_of(shell, lab, [secondary.dhcp_server.name])[secondary.dhcp_server.name]
            in ("communications-interrupted", "partner-down")
        ),
        stopped,
        DHCP_BOUND_S + 30,
        every=1.0,
    )
    start = time.monotonic()
    shell.container(client, "ifdown --force eth0; ifup eth0", timeout=120)
    renew = round(time.monotonic() - start, 2)
    renewed = re.findall(r"inet ([0-9.]+)/", shell.container(client, "ip -o -4 addr show dev eth0").out)
    # A new client: a fresh MAC on a macvlan beside eth0, asking once.
    start = time.monotonic()
    new_client = shell.container(
        client,
        "ip link add vxlab-new link eth0 type macvlan && ip link set vxlab-new up && "
        "dhclient -1 -pf /run/vxlab-new.pid -lf /run/vxlab-new.leases vxlab-new >/dev/null 2>&1; "
        "ip -o -4 addr show dev vxlab-new; dhclient -r -pf /run/vxlab-new.pid -lf /run/vxlab-new.leases vxlab-new "
        ">/dev/null 2>&1; ip link del vxlab-new",
        timeout=120,
    )
    new_lease_s = round(time.monotonic() - start, 2)
    new_lease = re.findall(r"inet ([0-9.]+)/", new_client.out)
    shell.vm(primary.name, f"lxc start {server}", timeout=120)
    back = time.monotonic()
    # The secondary's own record, which said communications-interrupted, must say normal again.
    normal = wait_until(
        lambda: failover_state_of(shell, lab, [secondary.dhcp_server.name])[secondary.dhcp_server.name] == "normal",
        back,
        180,
        every=1.0,
    )
    for what, got, took in (("renewal", renewed, renew), ("new client", new_lease, new_lease_s)):
        if not in_lease_range(lab, got):
            failures.append(f"{what}: no lease in the range (got {got or 'none'})")
        elif took > DHCP_BOUND_S:
            failures.append(f"{what}: took {took} s > {DHCP_BOUND_S} s")
    outcome = Outcome(
        scenario="dhcp-peer-down",
        old_master=server,
        new_master=secondary.dhcp_server.name,
        failover_bound_s=DHCP_BOUND_S + 30,
        failover_s=interrupted,
        outage_ipv4_s=renew,
        outage_ipv6_s=0.0,
        lost_ipv4=0,
        lost_ipv6=0,
        failback_bound_s=180.0,
        failback_s=normal,
        failback_outage_bound_s=DHCP_BOUND_S,
        failback_outage_ipv4_s=new_lease_s,
        failback_outage_ipv6_s=0.0,
        notes={
            "mclt_s": lab.dhcp.failover.mclt,
            "renewed": ", ".join(renewed) or "none",
            "new_client_lease": ", ".join(new_lease) or "none",
            "meaning": "failover_s: secondary in communications-interrupted; outage_ipv4_s: renewal; "
            "failback_outage_ipv4_s: new client's lease; failback_s: primary back to normal",
        },
        failures=failures,
    )
    outcome.judge()
    return outcome


def run_scenario(shell: LabShell, lab: Lab, scenario: str) -> Outcome:
    if not holds_vips(shell, lab, lab.master()):
        raise RuntimeError(f"{lab.master().name} does not hold the VIPs before the drill: run `vxlab check` first")
    if scenario == "dhcp-peer-down":
        return _dhcp_scenario(shell, lab)
    return _vrrp_scenario(shell, lab, scenario)
