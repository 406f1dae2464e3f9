"""The seed's failover test (7.6), measured.

Cut the master's IPv4 probe as the seed does (an OUTPUT DROP rule), time on this host's clock
until both VIPs are on the other tenant, and read the outage a container saw while pinging the
probes through the gateway every 50 ms; then check RAs and DHCP on the new side, restore and
time the fail-back. The bound is fall x interval + 3 x advert_int + 1 s.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address
from itertools import pairwise
from typing import Any

from vxlab.model import Lab, Tenant
from vxlab.remote import LabShell

PING_INTERVAL = 0.05


@dataclass
class DrillReport:
    old_master: str
    new_master: str
    bound_s: float
    failover_s: float
    failback_s: float
    gap_ipv4_s: float
    gap_ipv6_s: float
    lost_ipv4: int
    lost_ipv6: int
    ra_from_new_master: bool
    dhcp_lease_on_failed_side: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def in_lease_range(lab: Lab, addresses: list[str]) -> list[str]:
    """The addresses inside the DHCP pool, compared as addresses (as text, 10.0.7.9 sorts
    between 10.0.7.10 and 10.0.7.90)."""
    return [a for a in addresses if lab.dhcp.range_start <= IPv4Address(a) <= lab.dhcp.range_end]


def bound(lab: Lab) -> float:
    c = lab.vrrp.check
    return c.fall * c.interval + 3 * lab.vrrp.advert_int + 1.0


def ping_gap(output: str, interval: float = PING_INTERVAL) -> tuple[float, int]:
    """Longest silence between two replies (`ping -D` timestamps), and the packets lost."""
    stamps = [float(m) for m in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", output, re.M)]
    sent = re.search(r"(\d+) packets transmitted, (\d+) received", output)
    lost = int(sent.group(1)) - int(sent.group(2)) if sent else -1
    if len(stamps) < 2:
        return float("inf"), lost
    gap = max(b - a for a, b in pairwise(stamps))
    return round(max(gap - interval, 0.0), 3), lost


def _holds_vips(shell: LabShell, lab: Lab, tenant: Tenant) -> bool:
    out = shell.vm(tenant.name, f"ip -o addr show dev {lab.segment.svi}").out
    return all(re.search(rf"inet6? {re.escape(str(a))}/", out) for a in (lab.vrrp.vip4.ip, lab.vrrp.vip6.ip))


def _wait_vips(shell: LabShell, lab: Lab, tenant: Tenant, since: float, limit: float = 60.0) -> float:
    while time.monotonic() - since < limit:
        if _holds_vips(shell, lab, tenant):
            return round(time.monotonic() - since, 2)
        time.sleep(0.1)
    return float("inf")


def run_drill(shell: LabShell, lab: Lab) -> DrillReport:
    old = lab.master()
    new = lab.peer_of(old)
    if not _holds_vips(shell, lab, old):
        raise RuntimeError(f"{old.name} does not hold the VIPs before the drill: run `vxlab check` first")
    probe4, probe6 = lab.internet.probe4, lab.internet.probe6
    watcher = new.clients[0]
    duration = int(bound(lab) * 3 + 10)
    pings = {
        family: shell.popen_vm(
            new.name, f"lxc exec {watcher} -- ping -{family} -D -n -i {PING_INTERVAL} -W 1 -w {duration} {target}"
        )
        for family, target in ((4, probe4), (6, probe6))
    }
    time.sleep(3)
    rule = f"OUTPUT -d {probe4}/32 -j DROP"
    shell.vm(old.name, f"iptables -A {rule}")
    cut = time.monotonic()
    failover = _wait_vips(shell, lab, new, cut)
    outputs = {family: p.communicate(timeout=duration + 30)[0] for family, p in pings.items()}
    gap4, lost4 = ping_gap(outputs[4])
    gap6, lost6 = ping_gap(outputs[6])

    svi = lab.segment.svi
    new_mac = shell.vm(new.name, f"cat /sys/class/net/{svi}/address").out.strip()
    shell.container(watcher, f"ping -6 -c 2 -W 2 {probe6}")
    neigh = shell.container(watcher, f"ip -6 neigh show {lab.vrrp.vip6.ip} dev eth0").out
    ra_ok = bool(new_mac) and new_mac in neigh
    client = old.clients[0]
    shell.container(client, "ifdown --force eth0; ifup eth0", timeout=120)
    lease = re.findall(r"inet ([0-9.]+)/", shell.container(client, "ip -o -4 addr show dev eth0").out)

    shell.vm(old.name, f"iptables -D {rule}")
    restored = time.monotonic()
    failback = _wait_vips(shell, lab, old, restored)
    in_range = in_lease_range(lab, lease)
    limit = bound(lab)
    return DrillReport(
        old_master=old.name,
        new_master=new.name,
        bound_s=limit,
        failover_s=failover,
        failback_s=failback,
        gap_ipv4_s=gap4,
        gap_ipv6_s=gap6,
        lost_ipv4=lost4,
        lost_ipv6=lost6,
        ra_from_new_master=ra_ok,
        dhcp_lease_on_failed_side=", ".join(lease) or "none",
        passed=failover <= limit
        and gap4 <= limit
        and gap6 <= limit
        and ra_ok
        and bool(in_range)
        and failback != float("inf"),
    )
