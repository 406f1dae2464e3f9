"""What the drill reads from a running lab, parsed: keepalived's log of a track script, `ping -D`
output, `ip monitor address` lines, leases. Pure functions of text, tested without a lab."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address
from itertools import pairwise
from typing import Any

from vxlab.model.lab import Lab

PING_INTERVAL = 0.02


@dataclass(frozen=True)
class TrackScriptLog:
    """What keepalived logged of one check from a moment on, up to its verdict.


    keepalived runs a check every `interval` and skips a tick while the previous run is still
    going (vrrp_script_thread: "Track script … is already running, expect idle - skipping run").
    A run can outlast the interval (a failing ping waits for its reply; a guest starved of CPU
    starts keepalived's fork and ping late: one skipped tick per probe cut even alone), so `fall`
    failures take longer than `fall` intervals: each skipped tick delays the verdict by one
    interval, and the drill's bound counts it. The verdict's time is on the guest's clock."""

    skipped: int
    verdict_s: float | None  # from `since` to the verdict; None: no verdict logged

    @property
    def as_note(self) -> dict[str, Any]:
        return {"skipped_ticks": self.skipped, "verdict_s": self.verdict_s}


def track_script_log(journal: str, script: str, verdicts: tuple[str, ...], since: float) -> TrackScriptLog:
    """Read `journalctl -o short-unix` lines of keepalived: the ticks of `script` skipped from
    `since` (guest epoch seconds) until its first verdict among `verdicts` (keepalived's words:
    "failed", "timed_out" once `fall` runs failed; "succeeded" once `rise` passed)."""
    skip = re.compile(rf"Track script {re.escape(script)} is (already running|being timed out), expect idle")
    verdict = re.compile(rf"VRRP_Script\({re.escape(script)}\) ({'|'.join(map(re.escape, verdicts))})\b")
    skipped = 0
    for line in journal.splitlines():
        stamp, _, message = line.partition(" ")
        try:
            at = float(stamp)
        except ValueError:  # journalctl's own lines ("-- No entries --", "-- Boot … --")
            continue
        if at < since:
            continue
        if verdict.search(message):
            return TrackScriptLog(skipped, round(at - since, 2))
        if skip.search(message):
            skipped += 1
    return TrackScriptLog(skipped, None)


def in_lease_range(lab: Lab, addresses: list[str]) -> list[str]:
    """The addresses inside the DHCP pool, compared as addresses (as text, 10.0.7.9 sorts
    between 10.0.7.10 and 10.0.7.90)."""
    return [a for a in addresses if lab.dhcp.range_start <= IPv4Address(a) <= lab.dhcp.range_end]


def ping_gap(output: str, interval: float = PING_INTERVAL) -> tuple[float, int]:
    """Longest silence between two replies (`ping -D` timestamps), and the packets lost."""
    stamps = [float(m) for m in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", output, re.M)]
    sent = re.search(r"(\d+) packets transmitted, (\d+) received", output)
    lost = int(sent.group(1)) - int(sent.group(2)) if sent else -1
    if len(stamps) < 2:
        return float("inf"), lost
    gap = max(b - a for a, b in pairwise(stamps))
    return round(max(gap - interval, 0.0), 3), lost


SNAPSHOT_END = "snapshot-end"


def vips_after(line: str, held: set[str], vips: set[str]) -> set[str]:
    """The VIPs held after one line of `ip -o monitor address` (or of the snapshot taken when
    the monitor started, each line prefixed `snapshot `)."""
    found = re.search(r"\binet6? ([0-9a-fA-F:.]+)/", line)
    if found is None or found.group(1) not in vips:
        return held
    if line.startswith("Deleted "):
        return held - {found.group(1)}
    return held | {found.group(1)}
