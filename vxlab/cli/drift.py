"""`vxlab drift --stack NAME`: every managed file and configured service, read back from the
running lab and compared with what the stack renders; exit status 1 on drift."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import Any

from vxlab.cli.check import add_key_arg, rounds_line
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.live.drift import drifted, expected_state, observations
from vxlab.live.observe import take
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import Snapshot, utc_now


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "drift", help="compare every managed file and service of the running lab with the stack"
    )
    add_stack_args(parser)
    add_key_arg(parser)
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    start = time.monotonic()
    # The host switch's files are installed by local commands, or over SSH to hypervisor.ssh_host.
    expected = expected_state(lab, args.stack, local_host=lab.hypervisor.ssh_host is None)
    reads = observations(expected)
    snapshot = Snapshot(lab, args.stack, utc_now())
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        take(shell, reads.values(), snapshot, "drift")
    diffs = drifted(expected, reads, snapshot, args.stack)
    seconds = time.monotonic() - start
    if args.json:
        print(json.dumps({"checked": len(expected), "seconds": round(seconds, 1), "drift": [asdict(d) for d in diffs]}))
    else:
        for d in diffs:
            print(f"DRIFT {d.machine}:{d.what}")
            for label, value in (("expected", d.expected), ("found", d.found), ("repair", d.repair)):
                print(f"      {label:<8} {value}")
        print(
            f"{len(expected)} files and services on {len(reads)} machines read in {seconds:.1f} s "
            f"(one round trip: {rounds_line(snapshot)}): {len(diffs)} drifted"
        )
    return 1 if diffs else 0
