"""What students carry through the lab, as checks: TCP transfers of real size to and from the
group's "Internet" side over IPv4 and IPv6, and full-size don't-fragment pings across the VXLAN,
from every container (the seed's 7.4 runs `apt update` in each).

A small ICMP echo crosses a path that drops every full-size frame (issue 20: 46 checks passed on
a lab whose VXLAN lost every packet over 1446 bytes), so these checks move at least 1 MiB each
way and send packets exactly the size the segment announces (radvd's AdvLinkMTU, DHCP's
interface-mtu, the LXD NIC). The transfers go to `vxlab.live.traffic_server`, which the check starts
where the group's upstream is: in the group's namespace on the probe addresses (the `ci`
profile), or on the hypervisor's SVI (a real host, whose Internet is not ours to load).
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

from vxlab.features import graders
from vxlab.features.common import ping
from vxlab.features.radvd import slaac_address
from vxlab.features.spec import DONE, NOT_DONE, VM_LANE, WRONG, Grader, Task, Verdict
from vxlab.live.traffic_server import READY, payload
from vxlab.model.lab import Lab, Tenant
from vxlab.model.mtu import full_size_payload

TRANSFER_BYTES = 1 << 20
# curl gives up after this; a TCG guest moved 4 MiB in 3.4 s, so a minute means a broken path.
TRANSFER_TIMEOUT_S = 60
# ... and sooner on a path that does not carry it: a connection not made after the SYN's second
# retransmission (sent at 0, 1 and 3 s), or a transfer stalled below 1 KiB/s for 4 s (a path
# dropping full-size segments moves a few kB, then nothing). A TCG guest moves 1 MiB in 0.1-0.5 s.
STALL = "--connect-timeout 4 --speed-limit 1024 --speed-time 4"
# A download that could not connect leaves this mark, and the upload over the same family
# after it (same container, same path, same server) is not tried: a broken lab is judged in
# one connection timeout per container and family, not two.
UNREACHABLE_MARK = "/tmp/vxlab-unreachable-"
SKIPPED = "vxlab-skipped"
SERVER_SOURCE = Path(__file__).with_name("traffic_server.py")
SERVER_READY = READY
CURL_TAG = "vxlab-curl"
# A tenant's transfers run one after another (its containers share its one TCG vCPU and its path
# out), the two tenants' side by side: the six containers' 24 transfers of 1 MiB at once moved
# 0.1-1.9 MiB/s each and took 33 s; one at a time per tenant each moves at the path's own rate.
TRANSFER_LANE = VM_LANE


@dataclass(frozen=True)
class ServerSite:
    """Where the transfer server listens: a namespace of the hypervisor (or the hypervisor itself)
    and one address per family."""

    netns: str | None
    ipv4: IPv4Address
    ipv6: IPv6Address
    port: int

    def address(self, family: int) -> IPv4Address | IPv6Address:
        return self.ipv4 if family == 4 else self.ipv6

    def url(self, family: int, path: str) -> str:
        host = f"[{self.ipv6}]" if family == 6 else str(self.ipv4)
        return f"http://{host}:{self.port}{path}"

    @property
    def where(self) -> str:
        return f"namespace {self.netns}" if self.netns else "the hypervisor's SVI"


def server_site(lab: Lab) -> ServerSite:
    """The group's "Internet" when the run owns it (its namespace, on the addresses the keepalived
    checks probe), else the hypervisor's own SVI on the upstream VLAN."""
    port = lab.internet.traffic_port
    if lab.hypervisor.svi_netns:
        return ServerSite(lab.hypervisor.svi_netns, lab.internet.probe4, lab.internet.probe6, port)
    return ServerSite(None, lab.upstream.host_ipv4.ip, lab.upstream.host_ipv6.ip, port)


def server_command(site: ServerSite, seconds: int) -> str:
    """Runs the server on the hypervisor until its stdin closes, `seconds` at most. Its source is
    an argument: stdin is the server's lifeline."""
    netns = f"ip netns exec {shlex.quote(site.netns)} " if site.netns else ""
    source = shlex.quote(SERVER_SOURCE.read_text())
    return f"{netns}python3 -c {source} --port {site.port} --seconds {seconds} {site.ipv4} {site.ipv6}"


def download_command(url: str, timeout: int = TRANSFER_TIMEOUT_S, family: int | None = None) -> str:
    """Downloads `url`, prints curl's status line and the SHA-256 of what arrived; with
    `family`, a connection that could not be made leaves the mark the upload reads."""
    out = "/tmp/vxlab-get"
    mark = f"{UNREACHABLE_MARK}{family}"
    command = (
        f"curl -sS -g --max-time {timeout} {STALL} -o {out} "
        f"-w '{CURL_TAG} %{{http_code}} %{{size_download}} %{{time_total}}\\n' {url}"
    )
    if family is not None:
        command = f"rm -f {mark}; {command}; case $? in 7|28) [ -s {out} ] || touch {mark};; esac"
    return f"{command}; sha256sum {out}; rm -f {out}"


def upload_command(url: str, size: int, family: int | None = None) -> str:
    """Uploads `size` random bytes, after printing their SHA-256; not tried when the download
    over `family` just before could not connect."""
    src = "/tmp/vxlab-put"
    command = (
        f"head -c {size} /dev/urandom > {src} && sha256sum {src} && "
        f"curl -sS -g --max-time {TRANSFER_TIMEOUT_S} {STALL} -T {src} "
        f"-w '{CURL_TAG} %{{http_code}} %{{size_upload}} %{{time_total}}\\n' {url}; rm -f {src}"
    )
    if family is None:
        return command
    mark = f"{UNREACHABLE_MARK}{family}"
    return f"if [ -e {mark} ]; then echo '{SKIPPED}: the download before it could not connect'; else {command}; fi"


def _curl(out: str) -> tuple[int, int, float] | None:
    m = re.search(rf"^{CURL_TAG} (\d+) (\d+) ([0-9.]+)$", out, re.M)
    return (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else None


def rate(size: int, seconds: float) -> str:
    return f"{size} B in {seconds:.2f} s, {size / max(seconds, 1e-6) / (1 << 20):.2f} MiB/s"


def downloaded(size: int) -> Grader:
    """curl's status line and the SHA-256 of what arrived: all `size` bytes, as the server sent them."""
    expected = hashlib.sha256(payload(size)).hexdigest()

    def grade(out: str) -> tuple[Verdict, str]:
        curl = _curl(out)
        if curl is None:
            return NOT_DONE, "no transfer (curl printed no status)"
        code, got, seconds = curl
        digest = re.search(r"^([0-9a-f]{64})\s", out, re.M)
        intact = bool(digest and digest.group(1) == expected)
        if code != 200 or got != size or not intact:
            differs = ", content differs" if got == size and not intact else ""
            return WRONG, f"HTTP {code}, {got} of {size} B in {seconds:.2f} s{differs}"
        return DONE, rate(size, seconds)

    return grade


def uploaded(size: int) -> Grader:
    """The SHA-256 of what was sent (first line) against the size and digest the server received."""

    def grade(out: str) -> tuple[Verdict, str]:
        skipped = re.search(rf"^{SKIPPED}: (.*)$", out, re.M)
        if skipped:
            return WRONG, f"not tried: {skipped.group(1)}"
        curl = _curl(out)
        sent = re.search(r"^([0-9a-f]{64})\s", out, re.M)
        received = re.search(r"^(\d+) ([0-9a-f]{64})$", out, re.M)
        if curl is None or sent is None:
            return NOT_DONE, "no transfer (curl printed no status)"
        code, _, seconds = curl
        if code != 200 or received is None:
            return WRONG, f"HTTP {code} after {seconds:.2f} s, nothing acknowledged"
        got, digest = int(received.group(1)), received.group(2)
        if got != size or digest != sent.group(1):
            return WRONG, f"the server received {got} of {size} B" + (", content differs" if got == size else "")
        return DONE, rate(size, seconds)

    return grade


def df_ping_command(family: int, mtu: int, target: str) -> str:
    """Three echo requests exactly `mtu` bytes long that no hop may fragment."""
    return ping(target, family, options=f"-M do -s {full_size_payload(mtu, family)}")


def peer_server(lab: Lab, container: str) -> Tenant:
    """The tenant across the VXLAN from `container`, whose DHCP server the full-size pings target."""
    own = next(t for t in lab.tenants.values() if container in t.containers)
    return lab.peer_of(own)


def global_ipv6(ip_addr_output: str) -> str | None:
    """The first global address in `ip -o -6 addr show` output."""
    m = re.search(r"inet6 ([0-9a-f:]+)/\d+ scope global", ip_addr_output)
    return str(ip_address(m.group(1))) if m else None


def server_addresses(lab: Lab) -> list[Task]:
    """The DHCP servers' SLAAC addresses, the full-size pings' IPv6 targets: read before the
    traffic tasks are made (the radvd feature's own observation)."""
    return [slaac_address(lab, t.dhcp_server.name, "7.2") for t in lab.tenants.values()]


def traffic_checks(lab: Lab, peer_ipv6: Mapping[str, str | None] | None = None) -> list[Task]:
    """Per container: a download and an upload of TRANSFER_BYTES over IPv4 and IPv6 to the group's
    transfer server, and a full-size DF ping over each family to the other tenant's DHCP server.
    `peer_ipv6`: each DHCP server's SLAAC address as read from the running lab (a placeholder
    names it where it is not known, as in the handout)."""
    site, size, mtu = server_site(lab), TRANSFER_BYTES, lab.segment.mtu
    checks: list[Task] = []
    for t in lab.tenants.values():
        for c in t.containers:
            server = peer_server(lab, c).dhcp_server
            known = (peer_ipv6 or {}).get(server.name)
            targets = {4: str(server.ipv4.ip), 6: known or f"<{server.name}'s SLAAC address>"}
            for family in (4, 6):
                addr = site.address(family)
                checks += [
                    Task(
                        "7.4",
                        f"IPv{family} TCP download of {size >> 20} MiB",
                        c,
                        download_command(site.url(family, f"/bytes/{size}"), family=family),
                        downloaded(size),
                        where="container",
                        expect=f"{size} bytes intact from {addr} port {site.port}",
                        lane=TRANSFER_LANE,
                        timeout=TRANSFER_TIMEOUT_S + 5,
                        relook=True,
                    ),
                    Task(
                        "7.4",
                        f"IPv{family} TCP upload of {size >> 20} MiB",
                        c,
                        upload_command(site.url(family, "/sink"), size, family),
                        uploaded(size),
                        where="container",
                        expect=f"{size} bytes received intact by {addr} port {site.port}",
                        lane=TRANSFER_LANE,
                        timeout=TRANSFER_TIMEOUT_S + 5,
                        relook=True,
                    ),
                ]
            checks += [
                Task(
                    "7.1",
                    f"IPv{family} {mtu}-byte DF ping across the VXLAN",
                    c,
                    df_ping_command(family, mtu, targets[family]),
                    graders.replies,
                    where="container",
                    expect=f"replies to {mtu}-byte packets from {server.name} ({targets[family]}), unfragmented",
                    relook=True,
                )
                for family in (4, 6)
            ]
    return checks
