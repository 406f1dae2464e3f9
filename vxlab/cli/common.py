"""What every verb shares: finding the project and loading a stack, phases in order."""

from __future__ import annotations

import argparse
from pathlib import Path

from vxlab.collisions import check_collisions
from vxlab.errors import ConfigError
from vxlab.load import list_stacks, load_lab
from vxlab.model import Lab


def find_project(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise ConfigError(
        "--project", f"no Pulumi.yaml in {start} or above", "run vxlab inside the project or pass --project DIR"
    )


def add_stack_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--project", type=Path, default=None, help="project folder (default: find Pulumi.yaml)")


def load_checked(args: argparse.Namespace) -> Lab:
    """Load one stack, then check it against every other stack of the project."""
    project = args.project or find_project(Path.cwd())
    lab = load_lab(project, args.stack)
    others = {s: load_lab(project, s) for s in list_stacks(project) if s != args.stack}
    check_collisions({args.stack: lab, **others})
    return lab
