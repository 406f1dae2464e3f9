"""`vxlab preflight --stack NAME`: the stack loads, and this machine is the hypervisor it describes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.validate.hostcheck import host_refusal


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "preflight", help="check that this machine can run a stack's lab, before anything changes"
    )
    add_stack_args(parser)


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    refusal = host_refusal(lab, args.stack)
    if refusal:
        print(f"vxlab: {refusal}", file=sys.stderr)
        return 2
    print(f"ok   this machine can run stack {args.stack} (group {lab.group})")
    return 0
