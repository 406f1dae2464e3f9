"""How the drill reads the old master's keepalived log, and how what it finds moves the bounds."""

from __future__ import annotations

import pytest

from vxlab.live.bounds import failback_bound, failover_bound
from vxlab.live.drill_logs import TrackScriptLog, track_script_log
from vxlab.live.drill_report import Outcome, summarize, summary_lines
from vxlab.model.lab import Lab


def journal(*entries: tuple[str, str]) -> str:
    """`journalctl -u keepalived -o short-unix` lines (keepalived's words: vrrp_scheduler.c, 2.2.7)."""
    return "".join(f"{at} greenTenant Keepalived_vrrp[812]: {message}\n" for at, message in entries)


def skip(family: int, state: str = "already running") -> str:
    return f"Track script keepalived_check_ipv{family} is {state}, expect idle - skipping run"


# A starved master after `iptables -A OUTPUT -d <probe4> -j DROP` at CUT.
CUT = 1764291000.2
STARVED = journal(
    ("1764290999.210000", skip(4)),
    ("1764291001.215000", "Script `keepalived_check_ipv4` now returning 1"),
    ("1764291002.220000", skip(4)),
    ("1764291003.230000", skip(6)),
    ("1764291004.240000", skip(4, "being timed out")),
    ("1764291006.250000", "VRRP_Script(keepalived_check_ipv4) failed (exited with status 1)"),
    ("1764291006.260000", "(VI_4) Entering FAULT STATE"),
    ("1764291007.270000", skip(4)),
)
# The same master with CPU to spare: a run a second, `fall` (3) failures, the verdict.
IDLE = "-- Boot 6b1e5c1f7a5b4d0f9c1e2d3c4b5a6978 --\n" + journal(
    ("1764291001.215000", "Script `keepalived_check_ipv4` now returning 1"),
    ("1764291003.220000", "VRRP_Script(keepalived_check_ipv4) failed (exited with status 1)"),
)
# After the rule is deleted: `rise` (3) passes, the verdict.
RISING = journal(
    ("1764291100.500000", "Script `keepalived_check_ipv4` now returning 0"),
    ("1764291101.500000", skip(4)),
    ("1764291103.600000", "VRRP_Script(keepalived_check_ipv4) succeeded"),
)
FAILING = ("failed", "timed_out")


def test_skipped_ticks_are_counted_from_the_fault_up_to_the_failing_verdict_only() -> None:
    assert track_script_log(STARVED, "keepalived_check_ipv4", FAILING, CUT) == TrackScriptLog(2, 6.05)


def test_an_idle_master_skips_nothing() -> None:
    assert track_script_log(IDLE, "keepalived_check_ipv4", FAILING, CUT) == TrackScriptLog(0, 3.02)


def test_the_other_familys_check_is_not_counted() -> None:
    assert track_script_log(STARVED, "keepalived_check_ipv6", FAILING, CUT) == TrackScriptLog(1, None)


def test_the_rising_verdict_ends_the_count_after_the_fault_is_undone() -> None:
    assert track_script_log(RISING, "keepalived_check_ipv4", ("succeeded",), 1764291100.0) == TrackScriptLog(1, 3.6)


def test_a_check_that_never_gave_its_verdict_has_none() -> None:
    assert track_script_log(RISING, "keepalived_check_ipv4", FAILING, 1764291100.0).verdict_s is None


@pytest.mark.parametrize(
    ("scenario", "skipped", "expected"),
    # probe-cut: (fall 3 + skipped) x interval 1 s + blue's Master_Down_Interval 3.14 s + 2 s; the
    # other scenarios do not wait for the check.
    [("probe-cut", 0, 8.14), ("probe-cut", 2, 10.14), ("link-down", 2, 5.14), ("master-crash", 2, 5.14)],
)
def test_each_skipped_tick_adds_an_interval_to_a_check_driven_failover(
    dev_lab: Lab, scenario: str, skipped: int, expected: float
) -> None:
    assert failover_bound(dev_lab, scenario, skipped) == expected


@pytest.mark.parametrize(("skipped", "expected"), [(0, 10.14), (1, 11.14), (4, 14.14)])
def test_each_skipped_tick_adds_an_interval_to_the_fail_back(dev_lab: Lab, skipped: int, expected: float) -> None:
    assert failback_bound(dev_lab, "probe-cut", skipped) == expected


def probe_cut(failover: float, bound: float, skipped: int) -> Outcome:
    o = Outcome("probe-cut", "g", "b", bound, failover, 1.0, 1.0, 0, 0, 10.14, 3.0, 3.0, 0.1, 0.1)
    o.notes["check_failing"] = TrackScriptLog(skipped, failover - 3.0).as_note
    o.judge()
    return o


def test_a_summary_shows_the_widest_bound_its_runs_were_judged_by_and_the_ticks_skipped() -> None:
    s = summarize([probe_cut(4.5, 8.14, 0), probe_cut(10.9, 11.14, 3)])["probe-cut"]
    assert (s["failover_bound_s"], s["skipped_ticks"], s["failed_runs"]) == (11.14, 3, 0)


def test_the_report_line_names_the_skipped_ticks() -> None:
    assert summary_lines(summarize([probe_cut(10.9, 11.14, 3)]), "ci ") == [
        "ci probe-cut: VIP move 10.9 s (bound 11.14), outage v4/v6 1.0/1.0 s, fail-back 3.0 s (bound 10.14), "
        "3 check ticks skipped, failed runs 0"
    ]


def test_a_recovery_summary_names_the_slowest_container_of_each_run() -> None:
    from vxlab.live.drill_report import Outcome, summarize, summary_lines

    runs = []
    for slowest, seconds in (("blueC1", 240.0), ("greenC0", 262.5)):
        o = Outcome("power-cut", "g", "g", 489.0, seconds, seconds, seconds, 0, 0, 669.0, 270.0, 489.0, 0.0, 0.0)
        o.notes["slowest"] = slowest
        runs.append(o)
    summary = summarize(runs)
    assert summary["power-cut"]["slowest"] == ["blueC1", "greenC0"]
    assert "every container back in 240.0/251.25/262.5 s over 2 runs" in summary_lines(summary)[0]
    assert "slowest blueC1, greenC0" in summary_lines(summary)[0]
