"""`vxlab drill --stack NAME [--scenario NAME] [--runs N]`: faults the lab must survive, measured
against their bounds (vxlab/live/drill.py); the lab is restored after each run."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from vxlab.cli.check import add_key_arg
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.live.bounds import SCENARIOS as VRRP_AND_DHCP
from vxlab.live.drill import run_scenario
from vxlab.live.drill_report import Outcome, summarize
from vxlab.live.recovery import RECOVERY_SCENARIOS, carried_traffic
from vxlab.live.recovery import run as run_recovery
from vxlab.live.remote import LabShell

SCENARIOS = (*VRRP_AND_DHCP, *RECOVERY_SCENARIOS)


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("drill", help="make faults and measure the lab's recovery")
    add_stack_args(parser)
    add_key_arg(parser)
    parser.add_argument(
        "--scenario",
        choices=(*SCENARIOS, "all"),
        action="append",
        help="a scenario (repeat for several; default: all, one after the other)",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each scenario (min/median/max reported)")
    parser.add_argument("--json", action="store_true", help="print every run and the summary as JSON")


def _table(summary: dict[str, Any]) -> str:
    lines = [
        f"{'scenario':<15} {'runs':>4} {'fail':>4} {'bound':>6} {'VIP move':>17} {'outage v4':>17} "
        f"{'outage v6':>17} {'back bound':>10} {'fail-back':>17}"
    ]
    for name, s in summary.items():

        def mmm(key: str, figures: dict[str, Any] = s["figures"]) -> str:
            return f"{figures[key]['min']}/{figures[key]['median']}/{figures[key]['max']}"

        lines.append(
            f"{name:<15} {s['runs']:>4} {s['failed_runs']:>4} {s['failover_bound_s']:>6} {mmm('failover_s'):>17} "
            f"{mmm('outage_ipv4_s'):>17} {mmm('outage_ipv6_s'):>17} {s['failback_bound_s']:>10} "
            f"{mmm('failback_s'):>17}"
        )
        if s["slowest"]:
            lines.append(f"  slowest container per run: {', '.join(s['slowest'])}")
        if s["skipped_ticks"]:
            lines.append(f"  {s['skipped_ticks']} check ticks skipped by keepalived (a run outlasted its interval)")
        lines += [f"  FAIL {failure}" for failure in s["failures"]]
    lines.append("(seconds, min/median/max)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    chosen = args.scenario or ["all"]
    scenarios = SCENARIOS if "all" in chosen else tuple(dict.fromkeys(chosen))
    outcomes: list[Outcome] = []
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        for scenario in scenarios:
            for _ in range(args.runs):
                started = time.monotonic()
                try:
                    if scenario in RECOVERY_SCENARIOS:
                        outcome = run_recovery(
                            shell,
                            lab,
                            scenario,
                            lambda line: print(line, file=sys.stderr),
                            before=carried_traffic(outcomes[-1] if outcomes else None),
                        )
                    else:
                        outcome = run_scenario(shell, lab, scenario)
                except RuntimeError as err:  # the lab was not fit for the fault: said in one line
                    print(f"vxlab drill: {scenario}: {err}", file=sys.stderr)
                    if args.json:
                        print(json.dumps({"runs": [o.as_dict() for o in outcomes], "error": f"{scenario}: {err}"}))
                    return 1
                # What the run cost, to set beside what the protocol took (its figures).
                outcome.notes["wall_s"] = round(time.monotonic() - started, 1)
                outcomes.append(outcome)
    summary = summarize(outcomes)
    if args.json:
        print(json.dumps({"runs": [o.as_dict() for o in outcomes], "summary": summary}))
    else:
        print(_table(summary))
    return 0 if all(o.passed for o in outcomes) else 1
