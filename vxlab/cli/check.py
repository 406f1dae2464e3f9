"""`vxlab check --stack NAME`: the seed's section 7 against the running lab."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from vxlab.artifacts.classview import save_check
from vxlab.cli.common import add_stack_args, find_project, load_checked_args
from vxlab.live.checks import lab_checks
from vxlab.live.grading import snapshot_lab
from vxlab.live.judging import Graded, judge, not_running, traffic_tasks
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import Snapshot, utc_now


def add_key_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key",
        type=Path,
        default=Path(os.environ.get("VXLAB_SSH_KEY", "~/.ssh/id_ed25519")),
        help="the lab's SSH private key (default: $VXLAB_SSH_KEY or ~/.ssh/id_ed25519)",
    )
    parser.add_argument(
        "--known-hosts",
        type=Path,
        default=None,
        help="the VMs' pinned host keys (default: those `pulumi up` pinned on this machine; "
        "elsewhere: scripts/pulumi stack output known_hosts > FILE)",
    )


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("check", help="check the running lab as the seed's section 7")
    add_stack_args(parser)
    add_key_arg(parser)
    parser.add_argument("--junit", type=Path, help="also write a JUnit XML report here")
    parser.add_argument(
        "--no-traffic",
        action="store_true",
        help="skip the TCP transfers and full-size pings (they start a server on the group's upstream side)",
    )


def write_junit(path: Path, stack: str, outcomes: list[Graded], seconds: float) -> None:
    suite = ET.Element(
        "testsuite",
        name=f"vxlab-{stack}",
        tests=str(len(outcomes)),
        failures=str(sum(not o.ok for o in outcomes)),
        time=f"{seconds:.1f}",
    )
    for o in outcomes:
        case = ET.SubElement(suite, "testcase", classname=f"{stack}.{o.machine}", name=f"{o.section} {o.name}")
        if not o.ok:
            ET.SubElement(case, "failure", message=o.observed)
        ET.SubElement(case, "system-out").text = o.observed
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)


def _print(outcome: Graded) -> None:
    print(
        f"{'pass' if outcome.ok else 'FAIL'}  {outcome.section}  {outcome.machine:<18} {outcome.name:<48} "
        f"{outcome.observed}",
        flush=True,
    )


def rounds_line(snapshot: Snapshot) -> str:
    """How long each round trip took, and its slowest machine: the figure's floor is a round."""
    parts = []
    for r in snapshot.rounds:
        slowest = max(r.machines.items(), key=lambda m: m[1], default=("none", 0.0))
        parts.append(f"{r.label} {r.seconds:.1f} s (slowest {slowest[0]} {slowest[1]:.1f} s)")
    return "; ".join(parts)


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    start = time.monotonic()
    checks = lab_checks(lab)
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        snapshot = snapshot_lab(shell, lab, args.stack, checks, traffic=not args.no_traffic)
    outcomes = [judge(c, snapshot) for c in [*checks, *traffic_tasks(snapshot)]]
    for outcome in outcomes:
        _print(outcome)
    down = not_running(snapshot)
    if down:
        print(f"vxlab: {down}")
    failed = sum(not o.ok for o in outcomes)
    seconds = time.monotonic() - start
    print(f"{len(outcomes) - failed} passed, {failed} failed in {seconds:.1f} s: {rounds_line(snapshot)}")
    if args.junit:
        write_junit(args.junit, args.stack, outcomes, seconds)
    save_check(
        args.project or find_project(Path.cwd()),
        args.stack,
        {
            "time": utc_now(),
            "passed": len(outcomes) - failed,
            "failed": failed,
            "seconds": round(seconds, 1),
            "failures": [f"{o.section} {o.machine} {o.name}: {o.observed}" for o in outcomes if not o.ok],
        },
    )
    return 1 if failed else 0
