"""`vxlab diagram --stack NAME --out FILE.svg|.png|.gv`: the group's topology drawn from the model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vxlab.artifacts import diagram
from vxlab.base.errors import ConfigError
from vxlab.cli.common import add_stack_args, load_checked_args


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("diagram", help="draw a stack's topology (Graphviz)")
    add_stack_args(parser)
    parser.add_argument(
        "--out", type=Path, required=True, help="the file to write: .svg, .png (A4 landscape) or .gv (Graphviz source)"
    )


def run(args: argparse.Namespace) -> int:
    fmt = args.out.suffix.lstrip(".")
    if fmt not in diagram.FORMATS:
        raise ConfigError("--out", f"{args.out} has no known suffix", f"end it in .{', .'.join(diagram.FORMATS)}")
    lab = load_checked_args(args)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        diagram.write(lab, args.stack, args.out)
    except OSError as exc:
        raise ConfigError("--out", f"cannot write {args.out} ({exc.strerror})", "name a file you can write") from None
    print(f"{args.out}: topology of stack {args.stack}")
    return 0
