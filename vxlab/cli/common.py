"""What every verb shares: finding the project and loading a stack, phases in order."""

from __future__ import annotations

import argparse
from pathlib import Path

from vxlab.base.errors import ConfigError
from vxlab.model.lab import Lab
from vxlab.validate.load import SKIP_BROKEN_ENV, load_checked


def find_project(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise ConfigError(
        "--project", f"no Pulumi.yaml in {start} or above", "run vxlab inside the project or pass --project DIR"
    )


def add_stack_args(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--stack", required=required, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--project", type=Path, default=None, help="project folder (default: find Pulumi.yaml)")
    parser.add_argument(
        "--skip-broken-stacks",
        action="store_true",
        help=f"check collisions only against the other stacks that load (or set {SKIP_BROKEN_ENV}=1)",
    )


def load_checked_args(args: argparse.Namespace) -> Lab:
    project = args.project or find_project(Path.cwd())
    return load_checked(project, args.stack, skip_broken=args.skip_broken_stacks or None)
