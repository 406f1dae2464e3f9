"""`vxlab snapshot --stack NAME --out FILE`: what the running lab looks like, kept in a file:
every observation `vxlab grade` and `vxlab check` judge (with the traffic checks unless
--no-traffic) and every file and service `vxlab drift` reads back, one round trip per machine,
all machines at once. `vxlab grade --from FILE` grades it later as it was."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from vxlab.cli.check import add_key_arg, rounds_line
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.live.checks import lab_checks
from vxlab.live.drift import expected_state, observations
from vxlab.live.grading import CHAPTERS, grade_tasks, snapshot_lab
from vxlab.live.remote import LabShell


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "snapshot", help="keep what the running lab looks like in a file (grade it later with grade --from)"
    )
    add_stack_args(parser)
    add_key_arg(parser)
    parser.add_argument("--out", type=Path, required=True, help="the snapshot file (JSON)")
    parser.add_argument("--no-traffic", action="store_true", help="skip the TCP transfers and full-size pings")


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    start = time.monotonic()
    tasks = grade_tasks(lab, CHAPTERS)
    seen = {(t.machine, t.command) for t in tasks}
    tasks += [c for c in lab_checks(lab) if (c.machine, c.command) not in seen]
    reads = observations(expected_state(lab, args.stack, local_host=lab.hypervisor.ssh_host is None))
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        snapshot = snapshot_lab(shell, lab, args.stack, tasks, not args.no_traffic, extra=list(reads.values()))
    snapshot.save(args.out)
    observed = sum(len(a) for a in snapshot.results.values())
    print(
        f"{args.out}: {observed} observations of {len({m for m, _ in snapshot.results})} machines "
        f"in {time.monotonic() - start:.1f} s ({rounds_line(snapshot)})"
    )
    return 0
