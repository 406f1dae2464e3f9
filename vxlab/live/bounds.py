"""How long the lab may take to survive each fault, from the model and VRRPv3 (RFC 5798):
Master_Down_Interval = 3 x advert_int + Skew_Time, Skew_Time = (256 - priority) x advert_int
/ 256, plus a margin. The drill judges its figures against these; the handout prints them."""

from __future__ import annotations

from dataclasses import dataclass

from vxlab.features.keepalived import CHECK_PING_WAIT_S
from vxlab.model.lab import Lab
from vxlab.model.topology import uri_on_hypervisor

# Added to every protocol bound: the fault's command and the VIP watch's SSH stream each take a
# moment on a loaded TCG guest, and the guests' timers run on emulated clocks.
MARGIN_S = 2.0


# A TCG tenant VM from `virsh start` until it holds the VIPs for good (measured on the CI
# machine: keepalived running after 62 s, master after 70-132 s, the VIPs back and forth while
# LXD starts the containers until 197 s); fail-back after a crash cannot be quicker than a boot.
BOOT_ALLOWANCE_S = 240.0


# DHCP: a renewal or a new lease must complete within this (dhclient retries every few seconds).
DHCP_BOUND_S = 30.0


VRRP_SCENARIOS = ("probe-cut", "master-crash", "link-down")


SCENARIOS = (*VRRP_SCENARIOS, "dhcp-peer-down")


def skew_time(lab: Lab, priority: int) -> float:
    return (256 - priority) * lab.vrrp.advert_int / 256


def master_down_interval(lab: Lab, priority: int) -> float:
    """How long a backup of `priority` waits without adverts before it becomes master."""
    return 3 * lab.vrrp.advert_int + skew_time(lab, priority)


def failover_bound(lab: Lab, scenario: str, skipped: int = 0) -> float:
    """The longest the VIPs may take to move, and the longest outage the surviving side may see.
    `skipped`: the check's ticks keepalived skipped before its verdict (see TrackScriptLog)."""
    backup = lab.peer_of(lab.master()).vrrp_priority
    c = lab.vrrp.check
    if scenario == "probe-cut":  # the check must fail `fall` times, then the backup takes over
        return round((c.fall + skipped) * c.interval + master_down_interval(lab, backup) + MARGIN_S, 2)
    if scenario in ("master-crash", "link-down"):  # adverts stop at once
        return round(master_down_interval(lab, backup) + MARGIN_S, 2)
    return DHCP_BOUND_S


def failback_bound(lab: Lab, scenario: str, skipped: int = 0) -> float:
    """The longest until the higher priority holds the VIPs again once the fault is undone: its
    check must rise (and after a crash its VM boot); it is then a backup that ignores the lower
    priority's adverts (pre-emption) and takes over when its own Master_Down_Interval expires.
    `skipped` as for failover_bound."""
    c = lab.vrrp.check
    # The first passing check can start up to one interval after the fault is undone, behind a
    # failing run still waiting for its probe's reply; `rise` passes follow.
    checks = (c.rise + 1 + skipped) * c.interval + CHECK_PING_WAIT_S
    rise = checks + master_down_interval(lab, lab.master().vrrp_priority) + MARGIN_S
    if scenario == "master-crash":
        return round(BOOT_ALLOWANCE_S + rise, 2)
    return round(rise, 2)


def preemption_outage_bound(lab: Lab) -> float:
    """The outage pre-emption may cause: the old backup drops the VIPs when it hears the higher
    priority, the master adds them in the same advert interval."""
    return round(lab.vrrp.advert_int + MARGIN_S, 2)


@dataclass(frozen=True)
class Fault:
    """One scenario's fault on the master and its undoing: where they run and what."""

    machine: str  # "host" (the hypervisor) or the VM the commands run on
    make: str
    undo: str


def fault_of(lab: Lab, scenario: str) -> Fault:
    """The commands of a VRRP scenario; the drill runs them and the handout prints them."""
    old = lab.master()
    if scenario == "probe-cut":
        rule = f"OUTPUT -d {lab.internet.probe4}/32 -j DROP"
        return Fault(old.name, f"iptables -A {rule}", f"iptables -D {rule}")
    if scenario == "master-crash":
        virsh = f"virsh -c {uri_on_hypervisor(lab)}"
        return Fault("host", f"{virsh} destroy {old.name}", f"{virsh} start {old.name}")
    if scenario == "link-down":
        port = f"ovs-ofctl mod-port {lab.hypervisor.bridge} tap{old.tap}"
        return Fault("host", f"{port} down", f"{port} up")
    raise ValueError(f"{scenario} is not a VRRP scenario")


def settle_bound(lab: Lab) -> float:
    """How long VIPs that a passing overload moved take to come back: the master's check fails
    under load as if its probe were cut, then rises, and it pre-empts (a probe cut's fail-back).
    A failed active probe is observed again after this (vxlab.live.judging)."""
    return failback_bound(lab, "probe-cut")
