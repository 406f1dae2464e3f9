"""What every verb shares: finding the project and loading a stack, phases in order."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from vxlab.collisions import check_collisions
from vxlab.errors import ConfigError
from vxlab.load import list_stacks, load_lab
from vxlab.model import Lab

# Leave other stacks whose files are broken out of the collision check (documented in README).
SKIP_BROKEN_ENV = "VXLAB_SKIP_BROKEN_STACKS"


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
    parser.add_argument(
        "--skip-broken-stacks",
        action="store_true",
        help=f"check collisions only against the other stacks that load (or set {SKIP_BROKEN_ENV}=1)",
    )


def _warn(message: str) -> None:
    print(f"vxlab: warning: {message}", file=sys.stderr)


def load_checked(
    project: Path, stack: str, skip_broken: bool | None = None, warn: Callable[[str], None] = _warn
) -> Lab:
    """Load one stack, then check it against every other stack of the project. Another stack's
    broken file stops the check (collisions against it cannot be ruled out) unless the user
    chose to skip it."""
    if skip_broken is None:
        skip_broken = os.environ.get(SKIP_BROKEN_ENV, "") not in ("", "0")
    lab = load_lab(project, stack)
    others: dict[str, Lab] = {}
    for other in list_stacks(project):
        if other == stack:
            continue
        try:
            others[other] = load_lab(project, other)
        except ConfigError as err:
            if not skip_broken:
                raise ConfigError(
                    "",
                    f"another stack file is broken, so collisions against it cannot be checked ({err.line()})",
                    f"fix or remove Pulumi.{other}.yaml, or skip it: --skip-broken-stacks or {SKIP_BROKEN_ENV}=1",
                    stack,
                ) from None
            warn(f"collisions against stack {other} not checked: {err.line()}")
    check_collisions({stack: lab, **others})
    return lab


def load_checked_args(args: argparse.Namespace) -> Lab:
    project = args.project or find_project(Path.cwd())
    return load_checked(project, args.stack, skip_broken=args.skip_broken_stacks or None)
