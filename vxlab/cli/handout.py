"""`vxlab handout --stack NAME --out DIR`: the group's handout (HTML, PDF) and its diagram."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vxlab.artifacts import handout
from vxlab.artifacts.browser import find_browser
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.cli.render import check_out


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "handout", help="write a stack's handout: HTML page, PDF, diagram (SVG, PNG)"
    )
    add_stack_args(parser)
    parser.add_argument("--out", type=Path, required=True, help="folder for handout.html, handout.pdf, diagram.*")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF (it needs a headless Chromium)")


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    if not args.no_pdf:
        find_browser()  # refused before anything is written
    check_out(args.out, args.force)
    written = handout.write(lab, args.stack, args.out, pdf=not args.no_pdf)
    for path in (written.html, written.pdf, written.svg, written.png):
        if path:
            print(path)
    return 0
