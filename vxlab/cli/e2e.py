"""`vxlab e2e lab|previews`: the end-to-end runs CI makes on this machine (`.ci/run`): the whole
class for real (two groups, one through qemu+ssh) and a preview of every stack. The lab run works
in a scratch copy of the project and writes its figures to DIR/report.txt; exit status 1 on
failure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from vxlab.cli.common import find_project

RUNS = {"lab": "/var/lib/vxlab/e2e", "previews": ""}


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("e2e", help="the end-to-end runs: lab, previews")
    parser.add_argument("run", choices=tuple(RUNS), help="which run")
    parser.add_argument("--dir", type=Path, default=None, help="where its files and report go (lab)")
    parser.add_argument("--project", type=Path, default=None, help="the vxlab checkout (default: find Pulumi.yaml)")


def run(args: argparse.Namespace) -> int:
    # Imported here: the runs need the Pulumi SDK (an extra); the other verbs run without it.
    from vxlab.engine.e2e import Failed
    from vxlab.engine.lab_e2e import run_lab
    from vxlab.engine.previews import preview_all

    root = (args.project or find_project(Path.cwd())).resolve()
    folder = (args.dir or Path(RUNS[args.run] or ".")).resolve()
    try:
        if args.run == "lab":
            run_lab(root, folder)
        else:
            preview_all(root)
    except Failed as failure:
        print(f"vxlab e2e {args.run}: {failure}", file=sys.stderr)
        return 1
    return 0
