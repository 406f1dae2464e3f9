"""A drill's outcome per run, judged against its bounds, and the summary over runs that the
report, `vxlab drill --json` and the lab scripts print."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    """One run of one scenario: the figures, their bounds, and what failed."""

    scenario: str
    old_master: str
    new_master: str
    failover_bound_s: float
    failover_s: float
    outage_ipv4_s: float
    outage_ipv6_s: float
    lost_ipv4: int
    lost_ipv6: int
    failback_bound_s: float
    failback_s: float
    failback_outage_bound_s: float
    failback_outage_ipv4_s: float
    failback_outage_ipv6_s: float
    notes: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def judge(self) -> None:
        """Each figure against its bound; a scenario's own findings were added to failures already."""
        for name, value, limit in (
            ("VIP move", self.failover_s, self.failover_bound_s),
            ("IPv4 outage", self.outage_ipv4_s, self.failover_bound_s),
            ("IPv6 outage", self.outage_ipv6_s, self.failover_bound_s),
            ("fail-back", self.failback_s, self.failback_bound_s),
            ("IPv4 fail-back outage", self.failback_outage_ipv4_s, self.failback_outage_bound_s),
            ("IPv6 fail-back outage", self.failback_outage_ipv6_s, self.failback_outage_bound_s),
        ):
            if value > limit:
                self.failures.append(f"{name} {value} s > bound {limit} s")

    @property
    def skipped_ticks(self) -> int:
        """The check's ticks keepalived skipped, failing and rising (0 where its log was not read)."""
        return sum(self.notes.get(k, {}).get("skipped_ticks", 0) for k in ("check_failing", "check_rising"))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


FIGURES = (
    "failover_s",
    "outage_ipv4_s",
    "outage_ipv6_s",
    "lost_ipv4",
    "lost_ipv6",
    "failback_s",
    "failback_outage_ipv4_s",
    "failback_outage_ipv6_s",
)


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """Per scenario: min/median/max of every figure over the runs, and the failures."""
    out: dict[str, Any] = {}
    for scenario in dict.fromkeys(o.scenario for o in outcomes):
        runs = [o for o in outcomes if o.scenario == scenario]
        figures = {}
        for name in FIGURES:
            values = [getattr(o, name) for o in runs]
            figures[name] = {"min": min(values), "median": round(statistics.median(values), 3), "max": max(values)}
        out[scenario] = {
            "runs": len(runs),
            "failed_runs": sum(not o.passed for o in runs),
            # A run's bound grows with the check's skipped ticks (TrackScriptLog): the widest shown.
            "failover_bound_s": max(o.failover_bound_s for o in runs),
            "failback_bound_s": max(o.failback_bound_s for o in runs),
            "failback_outage_bound_s": runs[0].failback_outage_bound_s,
            "skipped_ticks": sum(o.skipped_ticks for o in runs),
            "figures": figures,
            # After a whole-machine fault: the container that moved data last, per run.
            "slowest": [o.notes["slowest"] for o in runs if "slowest" in o.notes],
            # What each run cost in all (the faults, the watches, the traffic checks around them).
            "wall_s": [o.notes["wall_s"] for o in runs if "wall_s" in o.notes],
            "failures": [f for o in runs for f in o.failures],
        }
    return out


def summary_lines(summary: dict[str, Any], label: str = "") -> list[str]:
    """A line per scenario for a run's report: medians against their bounds."""
    lines = []
    for name, s in summary.items():
        f = {k: v["median"] for k, v in s["figures"].items()}
        skipped = f", {s['skipped_ticks']} check ticks skipped" if s.get("skipped_ticks") else ""
        if s.get("slowest"):
            m = s["figures"]["failover_s"]
            lines.append(
                f"{label}{name}: every container back in {m['min']}/{m['median']}/{m['max']} s over "
                f"{s['runs']} runs (bound {s['failover_bound_s']}), slowest {', '.join(s['slowest'])}, "
                f"restored {f['failback_s']} s (bound {s['failback_bound_s']}), failed runs {s['failed_runs']}"
                f"{_wall(s)}"
            )
            continue
        lines.append(
            f"{label}{name}: VIP move {f['failover_s']} s (bound {s['failover_bound_s']}), outage v4/v6 "
            f"{f['outage_ipv4_s']}/{f['outage_ipv6_s']} s, fail-back {f['failback_s']} s "
            f"(bound {s['failback_bound_s']}){skipped}, failed runs {s['failed_runs']}{_wall(s)}"
        )
    return lines


def _wall(s: dict[str, Any]) -> str:
    walls = s.get("wall_s") or []
    return f"; {'/'.join(f'{w:g}' for w in walls)} s a run in all" if walls else ""


def summary_lines_of(path: Path, label: str = "") -> list[str]:
    """The summary lines of a `vxlab drill --json` output file (its first line)."""
    with path.open(encoding="utf-8") as f:
        return summary_lines(json.loads(f.readline())["summary"], label)
