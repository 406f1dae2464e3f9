"""Graders the features' grading tasks share: each a pure function of what a command printed,
judging state and behaviour the way `ip`, `sysctl`, `ovs-vsctl` and `systemctl` print it,
whatever files the students wrote to get there."""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from ipaddress import ip_address, ip_interface, ip_network
from typing import Any

from vxlab.features.spec import DONE, NOT_DONE, WRONG, Grader, Verdict


def _sysctl_values(out: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*(\S+)\s*=\s*(\S+)\s*$", out, re.M))


def sysctls_on(*names: str) -> Grader:
    """`sysctl NAME...` lines: every one 1 (a 0 is a step not taken yet)."""

    def grade(out: str) -> tuple[Verdict, str]:
        values = _sysctl_values(out)
        seen = ", ".join(f"{n} = {values.get(n, '?')}" for n in names)
        if all(values.get(n) == "1" for n in names):
            return DONE, seen
        if all(values.get(n) in ("0", None) for n in names):
            return NOT_DONE, seen
        return WRONG, seen

    return grade


# Between what runs and what the next boot applies, in one read (see sysctls_now_and_at_boot).
AT_BOOT = "--- at boot ---"


def sysctl_now_and_at_boot(*names: str) -> str:
    """The command sysctls_now_and_at_boot reads: the values now, then every sysctl file the
    boot applies, in its order (whatever file the students chose: /etc/sysctl.conf or one in
    /etc/sysctl.d)."""
    return f"sysctl {' '.join(names)}; echo '{AT_BOOT}'; systemd-analyze cat-config sysctl.d 2>&1"


def boot_sysctls(files: str) -> dict[str, str]:
    """What `systemd-sysctl` sets from `systemd-analyze cat-config sysctl.d`: the last
    assignment of each name wins (`-` only says to ignore a failure; `/` may separate words)."""
    values: dict[str, str] = {}
    for line in files.splitlines():
        line = line.strip()
        m = re.match(r"-?([^=\s#;][^=\s]*)\s*=\s*(.*)$", line)
        if m and not line.startswith(("#", ";")):
            values[m.group(1).replace("/", ".")] = m.group(2).strip()
    return values


def sysctls_now_and_at_boot(*names: str) -> Grader:
    """Every one of `names` 1 now and in what the next boot applies. On now but in no sysctl
    file (`sysctl -w`, the file never written) is lost at the next boot; in the file but off now
    (`sysctl -p` forgotten) is not there yet: both are wrong, each a half of the step."""

    def grade(out: str) -> tuple[Verdict, str]:
        running, _, files = out.partition(AT_BOOT)
        now, boot = _sysctl_values(running), boot_sysctls(files)
        seen = ", ".join(f"{n} = {now.get(n, '?')} (at boot {boot.get(n, 'unset')})" for n in names)
        halves = {n: (now.get(n) == "1", boot.get(n) == "1") for n in names}
        if all(on_now and on_at_boot for on_now, on_at_boot in halves.values()):
            return DONE, seen
        if not any(on_now or on_at_boot for on_now, on_at_boot in halves.values()):
            return NOT_DONE, seen
        why = {(True, False): "off after the next boot", (False, True): "set for the boot, not applied now"}
        return WRONG, f"{seen}: " + "; ".join(
            f"{n} {why.get(half, 'off')}" for n, half in halves.items() if half != (True, True)
        )

    return grade


def _addresses(out: str) -> list[str]:
    return [str(ip_interface(a)) for a in re.findall(r"inet6? ([0-9a-f.:]+/\d+)", out)]


def holds_addresses(*wanted: str) -> Grader:
    """`ip -o addr` output holds every address (with its prefix length) of `wanted`."""

    def grade(out: str) -> tuple[Verdict, str]:
        found = _addresses(out)
        present = [a for a in wanted if a in found]
        if len(present) == len(wanted):
            return DONE, ", ".join(present)
        # The right address with another prefix length is a mistake, not a missing step.
        near = [f for f in found if f.split("/")[0] in {w.split("/")[0] for w in wanted}]
        seen = ", ".join(found) or "no address"
        return (WRONG if present or near else NOT_DONE), seen

    return grade


def address_on_vlan(address: str, vlan: int | None) -> Grader:
    """`ip -j -d addr` output: `address` (with its prefix length) sits on a link that is VLAN
    `vlan`'s sub-interface (or on a link that is no VLAN's when `vlan` is None)."""

    def grade(out: str) -> tuple[Verdict, str]:
        try:
            links = json.loads(out or "[]")
        except json.JSONDecodeError:
            return NOT_DONE, "no `ip -j` output"
        for link in links:
            for a in link.get("addr_info", []):
                if f"{a.get('local')}/{a.get('prefixlen')}" != address:
                    continue
                info = link.get("linkinfo", {})
                on = info.get("info_data", {}).get("id") if info.get("info_kind") == "vlan" else None
                where = f"{address} on {link['ifname']}" + (f" (VLAN {on})" if on is not None else "")
                return (DONE if on == vlan else WRONG), where
        near = [
            f"{a.get('local')}/{a.get('prefixlen')} on {link['ifname']}"
            for link in links
            for a in link.get("addr_info", [])
            if a.get("local") == address.split("/")[0]
        ]
        return (WRONG, ", ".join(near)) if near else (NOT_DONE, f"no link holds {address}")

    return grade


def service_active(out: str) -> tuple[Verdict, str]:
    """`systemctl is-active NAME`: active; failed is a wrong configuration."""
    state = out.strip().splitlines()[-1] if out.strip() else "unknown"
    if state == "active":
        return DONE, state
    return (WRONG if state == "failed" else NOT_DONE), state


def replies(out: str) -> tuple[Verdict, str]:
    """A ping's summary: some replies."""
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    if not m:
        return NOT_DONE, "no ping summary (no route or no address)"
    return (DONE if int(m.group(2)) > 0 else WRONG), f"{m.group(2)}/{m.group(1)} replies"


def equals(expected: str, absent: tuple[str, ...] = ("",)) -> Grader:
    """The command printed `expected` (one line); one of `absent` means not done yet."""

    def grade(out: str) -> tuple[Verdict, str]:
        got = out.strip()
        if got == expected:
            return DONE, got
        return (NOT_DONE if got in absent else WRONG), got or "nothing"

    return grade


def route_via(gateway: str) -> Grader:
    """`ip route get ADDRESS` or `ip route show [table T] default`: every route, and every next
    hop of a multipath route, goes through `gateway`. A second default beside the right one (a
    backup tenant's radvd advertising from its own link-local, a static route left behind)
    sends part of the traffic past the VIP, where no failover follows it: wrong, not done."""

    def grade(out: str) -> tuple[Verdict, str]:
        gateways = re.findall(r"via (?:inet6 )?(\S+)", out)
        seen = "; ".join(" ".join(line.split()[:7]) for line in out.splitlines() if line.strip()) or "no route"
        if gateways and all(g == gateway for g in gateways):
            return DONE, seen
        return (WRONG if gateways else NOT_DONE), seen

    return grade


def vxlan_tunnel(remote: str, key: int) -> Grader:
    """`ovs-vsctl --data=bare --no-headings --format=csv --columns=name,options find Interface
    type=vxlan`: a tunnel to `remote` with VNI `key`."""

    def grade(out: str) -> tuple[Verdict, str]:
        tunnels = [line.strip() for line in out.splitlines() if line.strip()]
        for t in tunnels:
            options = dict(re.findall(r"(\w+)=([^\s,\"]+)", t))
            if options.get("remote_ip") == remote and options.get("key") == str(key):
                return DONE, t
        return (WRONG if tunnels else NOT_DONE), "; ".join(tunnels) or "no VXLAN port"

    return grade


def fake_bridge(parent: str, vlan: int) -> Grader:
    """`ovs-vsctl br-to-parent NAME -- br-to-vlan NAME`: a fake bridge of `parent` on
    `vlan` (a real bridge is its own parent, on VLAN 0)."""

    def grade(out: str) -> tuple[Verdict, str]:
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if len(lines) != 2 or not lines[1].isdigit():
            return NOT_DONE, (lines[-1] if lines else "no such bridge")
        seen = f"parent {lines[0]}, VLAN {lines[1]}"
        return (DONE if lines == [parent, str(vlan)] else WRONG), seen

    return grade


def nonempty(what: str) -> Grader:
    """Some output is the step done; none is not done yet."""

    def grade(out: str) -> tuple[Verdict, str]:
        lines = [line for line in out.splitlines() if line.strip()]
        return (DONE, "; ".join(lines)[:200]) if lines else (NOT_DONE, f"no {what}")

    return grade


def addresses_in(net: str, lo: str | None = None, hi: str | None = None) -> Grader:
    """`ip -o addr` output holds an address of `net` (and inside lo..hi when given)."""
    network = ip_network(net)

    def grade(out: str) -> tuple[Verdict, str]:
        found = [ip_interface(a).ip for a in re.findall(r"inet6? ([0-9a-f.:]+/\d+)", out)]
        good = [
            a
            for a in found
            if a in network and (lo is None or hi is None or ip_address(lo) <= a <= ip_address(hi))  # type: ignore[operator]
        ]
        if good:
            return DONE, ", ".join(map(str, good))
        return (WRONG if found else NOT_DONE), ", ".join(map(str, found)) or "no address"

    return grade


def failover_normal(out: str) -> tuple[Verdict, str]:
    """The DHCP failover states dhcpd last wrote to its leases file: both normal."""
    mine, partner = failover_states(out)
    if mine is None:
        return NOT_DONE, "no failover state in the leases file"
    seen = f"my state {mine}, partner state {partner or '?'}"
    return (DONE if mine == partner == "normal" else WRONG), seen


def holds_none(*addresses: str) -> Grader:
    """`ip -o addr` output holds none of `addresses` (a VRRP backup)."""

    def grade(out: str) -> tuple[Verdict, str]:
        found = [
            a for a in _addresses(out) if a in addresses or a.split("/")[0] in {x.split("/")[0] for x in addresses}
        ]
        return (WRONG, "holds " + ", ".join(found)) if found else (DONE, "holds no VIP")

    return grade


def failover_states(out: str) -> tuple[str | None, str | None]:
    """The last `my state` and `partner state` a DHCP server wrote to its leases file."""
    mine = re.findall(r"my state ([a-z-]+)", out)
    partner = re.findall(r"partner state ([a-z-]+)", out)
    return (mine[-1] if mine else None, partner[-1] if partner else None)


def conntrack_marked(mark: int, sources: str) -> Grader:
    """`conntrack -L` lines: entries from `sources` carry `mark` (entries from there with other
    marks only are a marking mistake; none at all, no traffic got through)."""
    network = ip_network(sources)

    def grade(out: str) -> tuple[Verdict, str]:
        marks: Counter[str] = Counter()
        for line in out.splitlines():
            src = re.search(r"src=([0-9a-f.:]+)", line)
            if src and ip_address(src.group(1)) in network:
                found = re.search(r"mark=(\d+)", line)
                marks[found.group(1) if found else "none"] += 1
        hits = marks.pop(str(mark), 0)
        others = ", ".join(f"mark={m} x{n}" for m, n in sorted(marks.items()))
        seen = f"{hits} entries from {sources} with mark={mark}" + (f"; others: {others}" if others else "")
        if hits:
            return DONE, seen
        return (WRONG if others else NOT_DONE), seen

    return grade


def fdb_both_sides(vlan: int, tunnel_port: str) -> Grader:
    """`ovs-appctl fdb/show` after the tunnel's OpenFlow port number on the first line: MACs
    learnt on `vlan` behind a local port and behind the tunnel."""

    def grade(out: str) -> tuple[Verdict, str]:
        first, *rows = out.splitlines() or [""]
        entries = [r.split() for r in rows if re.match(r"\s*\d+\s+\d+\s+[0-9a-f:]{17}", r)]
        on_vlan = [e for e in entries if e[1] == str(vlan)]
        remote = [e for e in on_vlan if e[0] == first.strip()]
        local = [e for e in on_vlan if e[0] != first.strip()]
        seen = f"{len(local)} local, {len(remote)} via {tunnel_port} on VLAN {vlan}"
        if remote and local:
            return DONE, seen
        return (WRONG if on_vlan else NOT_DONE), seen

    return grade


# Every address and MTU of a VM comes from one read, `ip -j -d addr show`, which the steps on
# its links share (each `ip` run costs a TCG guest a fraction of a second).
ADDRESSES = "ip -j -d addr show"


def _links(out: str) -> list[dict[str, Any]] | None:
    try:
        links = json.loads(out or "[]")
    except json.JSONDecodeError:
        return None
    return links if isinstance(links, list) else None


def on_link(link: str, grader: Grader) -> Grader:
    """`grader` of `ip -o addr` lines, on the addresses `ip -j addr` shows on `link` (none when
    the link is not there)."""

    @functools.wraps(grader)  # the judge is `grader`, on one link's addresses
    def grade(out: str) -> tuple[Verdict, str]:
        found = next((x for x in _links(out) or [] if x.get("ifname") == link), None) or {}
        lines = [
            f"{link}    {'inet' if a.get('family') == 'inet' else 'inet6'} {a['local']}/{a['prefixlen']}"
            for a in found.get("addr_info", [])
            if "local" in a
        ]
        return grader("\n".join(lines))

    return grade


def mtu_of(link: str, mtu: int) -> Grader:
    """`ip -j addr`: `link` carries `mtu`."""

    def grade(out: str) -> tuple[Verdict, str]:
        found = next((x for x in _links(out) or [] if x.get("ifname") == link), None)
        if found is None:
            return NOT_DONE, f"no link {link}"
        return (DONE if found.get("mtu") == mtu else WRONG), f"MTU {found.get('mtu')}"

    return grade
