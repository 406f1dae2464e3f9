"""`vxlab drift --stack NAME`: every managed file and configured service, read back from the
running lab and compared with what the stack renders; exit status 1 on drift."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from typing import Any

from vxlab.cli.check import add_key_arg
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.live.drift import Difference, compare, expected_state, parse, read_command
from vxlab.live.remote import LabShell


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
    machines = {e.machine: e.role for e in expected}
    found: dict[str, dict[str, str]] = {}
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        for machine, role in machines.items():
            command = read_command([e for e in expected if e.machine == machine])
            if role == "host":
                out = shell.host(command).out
            elif role in ("dhcp-server", "client"):
                out = shell.container(machine, command).out
            else:
                out = shell.vm(machine, command).out
            found[machine] = parse(out)
    diffs: list[Difference] = []
    for machine in found:
        diffs += compare([e for e in expected if e.machine == machine], found[machine], args.stack)
    seconds = time.monotonic() - start
    checked = sum(1 for e in expected if e.machine in found)
    if args.json:
        print(json.dumps({"checked": checked, "seconds": round(seconds, 1), "drift": [asdict(d) for d in diffs]}))
    else:
        for d in diffs:
            print(f"DRIFT {d.machine}:{d.what}")
            for label, value in (("expected", d.expected), ("found", d.found), ("repair", d.repair)):
                print(f"      {label:<8} {value}")
        print(f"{checked} files and services on {len(found)} machines read in {seconds:.1f} s: {len(diffs)} drifted")
    return 1 if diffs else 0
