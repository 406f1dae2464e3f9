"""`vxlab drill --stack NAME`: the seed's failover test (7.6), measured."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vxlab.cli.check import add_key_arg
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.drill import run_drill
from vxlab.remote import LabShell


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("drill", help="fail the VRRP master over and back, measured")
    add_stack_args(parser)
    add_key_arg(parser)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    with LabShell(lab, args.key.expanduser(), args.known_hosts) as shell:
        report = run_drill(shell, lab)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        for key, value in report.as_dict().items():
            print(f"{key:<26} {value}")
    return 0 if report.passed else 1
