"""The seed's section 7 as checks, declared from the model; each one parses what it observes.

A check runs one command on a VM or in a container and judges the output with a pure
function, so the judging is tested without a lab.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_interface

from vxlab import features
from vxlab.features.spec import Check, Judge
from vxlab.live.remote import Result
from vxlab.model.lab import Lab

# A check that makes its own traffic is observed again this many times, this far apart, before it
# fails. With two groups on two cores a conntrack-mark check saw no entry of the master's mark in
# 4 of 10 group checks (never with one group); where it printed what it found, the entries carried
# the backup's mark: under load a tenant's 1 s track script missed its probe and the VIPs sat on
# the backup for a few seconds. Which tenant holds the VIPs, and how fast they move, is what `vxlab drill` measures;
# every earlier attempt stays in what the check reports, with the marks it did find.
TRAFFIC_RETRIES = 2
TRAFFIC_RETRY_PAUSE_S = 10.0


# (machine, command, in a container) -> what it printed and its exit status
Runner = Callable[[str, str, bool], Result]


@dataclass(frozen=True)
class Outcome:
    check: Check
    ok: bool
    observed: str


def observe(check: Check, run: Runner, sleep: Callable[[float], None]) -> Outcome:
    """Run one check (its traffic first), judge it, and try again as its retries allow; the
    observations of failed attempts are kept in front of the last one."""
    earlier: list[str] = []
    while True:
        traffic = ""
        if check.traffic:
            sent = run(check.traffic[0], check.traffic[1], True)
            traffic = f" (after {check.traffic[0]}'s ping: {ping_ok(sent.out)[1]})"
        result = run(check.machine, check.command, check.in_container)
        ok, observed = check.judge(result.out)
        if not result.ok and not ok:
            observed += f" (exit {result.code}: {result.err.strip()[:200]})"
        observed += traffic
        if ok or len(earlier) >= check.retries:
            break
        earlier.append(observed)
        sleep(check.retry_pause_s)
    if earlier:
        tries = "; ".join(f"try {n}: {o}" for n, o in enumerate(earlier, 1))
        observed += f" [try {len(earlier) + 1}; {tries}]"
    return Outcome(check, ok, observed)


# -- judges -----------------------------------------------------------------------------------


def ping_ok(out: str) -> tuple[bool, str]:
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    if not m:
        return False, "no ping summary"
    return int(m.group(2)) > 0, f"{m.group(2)}/{m.group(1)} replies"


def addresses_in(net: IPv4Network | IPv6Network, lo: IPv4Address | None = None, hi: IPv4Address | None = None) -> Judge:
    """`ip -o addr` output holds an address of `net` (and inside lo..hi when given)."""

    def judge(out: str) -> tuple[bool, str]:
        found = [ip_interface(m).ip for m in re.findall(r"inet6? ([0-9a-f.:]+/\d+)", out)]
        good = [a for a in found if a in net and (lo is None or hi is None or lo <= a <= hi)]  # type: ignore[operator]
        return bool(good), ", ".join(str(a) for a in good) or f"none of {', '.join(map(str, found)) or 'nothing'}"

    return judge


def default_via(gateway: IPv4Address | IPv6Address) -> Judge:
    def judge(out: str) -> tuple[bool, str]:
        m = re.search(r"default via ([0-9a-f.:]+)", out)
        return bool(m and m.group(1) == str(gateway)), (m.group(0) if m else "no default route")

    return judge


def holds(*addresses: str, expected: bool = True) -> Judge:
    def judge(out: str) -> tuple[bool, str]:
        present = [a for a in addresses if re.search(rf"inet6? {re.escape(a)}/", out)]
        ok = (len(present) == len(addresses)) if expected else not present
        return ok, ("holds " + ", ".join(present)) if present else "holds no VIP"

    return judge


def conntrack_marked(mark: int, sources: IPv4Network | IPv6Network) -> Judge:
    def judge(out: str) -> tuple[bool, str]:
        marks: Counter[str] = Counter()
        for line in out.splitlines():
            src = re.search(r"src=([0-9a-f.:]+)", line)
            if src and ip_interface(src.group(1)).ip in sources:
                found = re.search(r"mark=(\d+)", line)
                marks[found.group(1) if found else "none"] += 1
        hits = marks.pop(str(mark), 0)
        others = ", ".join(f"mark={m} x{n}" for m, n in sorted(marks.items()))
        return hits > 0, f"{hits} entries from {sources} with mark={mark}" + (f"; others: {others}" if others else "")

    return judge


def fdb_both_sides(vlan: int, tunnel_port: str) -> Judge:
    """`ovs-appctl fdb/show` plus the tunnel's OpenFlow port number on the first line."""

    def judge(out: str) -> tuple[bool, str]:
        first, *rows = out.splitlines() or [""]
        entries = [r.split() for r in rows if re.match(r"\s*\d+\s+\d+\s+[0-9a-f:]{17}", r)]
        on_vlan = [e for e in entries if e[1] == str(vlan)]
        remote = [e for e in on_vlan if e[0] == first.strip()]
        local = [e for e in on_vlan if e[0] != first.strip()]
        return bool(remote and local), f"{len(local)} local, {len(remote)} via {tunnel_port} on VLAN {vlan}"

    return judge


# -- the checks of one lab --------------------------------------------------------------------


def lab_checks(lab: Lab) -> list[Check]:
    seg, vrrp, net = lab.segment, lab.vrrp, lab.internet
    svi = seg.svi
    checks: list[Check] = []
    for t, peer in lab.tenant_pairs():
        checks += [
            Check(
                "7.1",
                f"VXLAN IPv4 to {peer.name}",
                t.name,
                f"ping -c 2 -W 2 {peer.svi_ipv4.ip}",
                ping_ok,
                expect=f"replies from {peer.svi_ipv4.ip}",
            ),
            Check(
                "7.1",
                f"VXLAN IPv6 link-local to {peer.name}",
                t.name,
                f"ping -c 2 -W 2 {peer.svi_ll.ip}%{svi}",
                ping_ok,
                expect=f"replies from {peer.svi_ll.ip}",
            ),
            Check(
                "7.1",
                "bridge FDB learns both sides on the segment VLAN",
                t.name,
                f"ovs-vsctl get Interface {t.vxlan_port} ofport; ovs-appctl fdb/show {t.ovs_bridge}",
                fdb_both_sides(seg.vlan, t.vxlan_port),
                expect=f"MACs learnt on VLAN {seg.vlan} behind a local port and behind {t.vxlan_port}",
            ),
        ]
    master = lab.master()
    for t in lab.tenants.values():
        checks.append(
            Check(
                "7.3",
                "VRRP master holds both VIPs" if t is master else "VRRP backup holds no VIP",
                t.name,
                f"ip -o addr show dev {svi}",
                holds(str(vrrp.vip4.ip), str(vrrp.vip6.ip), expected=t is master),
                expect=f"{vrrp.vip4} and {vrrp.vip6} on {svi}"
                if t is master
                else f"neither {vrrp.vip4} nor {vrrp.vip6}",
            )
        )
        for c in t.containers:
            dynamic = c != t.dhcp_server.name
            checks += [
                Check(
                    "7.2",
                    "IPv4 from the DHCP range" if dynamic else "static IPv4 address",
                    c,
                    "ip -o -4 addr show dev eth0",
                    addresses_in(seg.ipv4, lab.dhcp.range_start, lab.dhcp.range_end)
                    if dynamic
                    else addresses_in(seg.ipv4),
                    in_container=True,
                    expect=f"an address in {lab.dhcp.range_start}-{lab.dhcp.range_end}"
                    if dynamic
                    else str(t.dhcp_server.ipv4),
                ),
                Check(
                    "7.2",
                    "SLAAC address in the segment prefix",
                    c,
                    "ip -o -6 addr show dev eth0 scope global",
                    addresses_in(seg.ipv6),
                    in_container=True,
                    expect=f"an address in {seg.ipv6}",
                ),
                Check(
                    "7.3",
                    "IPv4 default route via the VIP",
                    c,
                    "ip -4 route show default",
                    default_via(vrrp.vip4.ip),
                    in_container=True,
                    expect=f"default via {vrrp.vip4.ip}",
                ),
                Check(
                    "7.3",
                    "IPv6 default route via the VIP",
                    c,
                    "ip -6 route show default",
                    default_via(vrrp.vip6.ip),
                    in_container=True,
                    expect=f"default via {vrrp.vip6.ip}",
                ),
                Check(
                    "7.4",
                    "reaches the IPv4 probe",
                    c,
                    f"ping -c 3 -W 2 {net.probe4}",
                    ping_ok,
                    in_container=True,
                    expect=f"replies from {net.probe4}",
                ),
                Check(
                    "7.4",
                    "reaches the IPv6 probe",
                    c,
                    f"ping -6 -c 3 -W 2 {net.probe6}",
                    ping_ok,
                    in_container=True,
                    expect=f"replies from {net.probe6}",
                ),
            ]
    client = master.clients[0]  # its traffic leaves through the VIPs' owner, the master
    checks += [
        Check(
            "7.5",
            f"IPv{family} conntrack entries marked {master.fwmark}",
            lab.router.name,
            f"conntrack -L -f ipv{family} 2>/dev/null",
            conntrack_marked(master.fwmark, prefix),
            traffic=(client, f"ping -{family} -c 3 -i 0.2 -W 2 {probe}"),
            expect=f"entries from {prefix} with mark={master.fwmark} (after a ping from {client})",
            retries=TRAFFIC_RETRIES,
            retry_pause_s=TRAFFIC_RETRY_PAUSE_S,
        )
        for family, prefix, probe in ((4, seg.ipv4, net.probe4), (6, seg.ipv6, net.probe6))
    ]
    # What the registry's features add of their own.
    checks += [c for feature in features.REGISTRY if feature.checks for c in feature.checks(lab)]
    return checks
