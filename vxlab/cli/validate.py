"""`vxlab validate --stack NAME`: the model, then every rendered file by its real program."""

from __future__ import annotations

import argparse
import shutil
import sys
from typing import Any

from vxlab.build.provision import vm_plans
from vxlab.build.render import plan_lab
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.verify.daemons import check_machines, check_vm_plans, missing_programs


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate", help="validate a stack's model and check every file with its daemon"
    )
    add_stack_args(parser)


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    print(f"ok   model of stack {args.stack} (group {lab.group})")
    machines = plan_lab(lab)
    missing = missing_programs({f.kind for m in machines for f in m.files}) + (
        [] if shutil.which("xsltproc") else ["xsltproc"]
    )
    if missing:
        print(
            f"vxlab: cannot check the files, missing: {', '.join(missing)} (install them: see README, set-up)",
            file=sys.stderr,
        )
        return 3
    verdicts = check_machines(machines, lab) + check_vm_plans(vm_plans(lab), lab)
    for verdict in verdicts:
        print(verdict.line())
    failed = sum(not v.ok for v in verdicts)
    print(f"{len(verdicts) - failed} files ok, {failed} failed")
    return 1 if failed else 0
