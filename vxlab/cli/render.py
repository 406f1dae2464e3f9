"""`vxlab render --stack NAME --out DIR`: every file of the lab, one folder per machine."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vxlab.cli.common import add_stack_args, load_checked
from vxlab.render import render_lab, write_tree


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("render", help="write every file of a stack's lab")
    add_stack_args(parser)
    parser.add_argument("--out", type=Path, required=True, help="folder to write DIR/<machine>/<path> into")


def run(args: argparse.Namespace) -> int:
    machines = render_lab(load_checked(args))
    written = write_tree(machines, args.out)
    print(f"{len(written)} files for {len(machines)} machines in {args.out}")
    return 0
