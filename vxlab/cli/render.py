"""`vxlab render --stack NAME --out DIR [--force] [--stage STAGE]`: every file `pulumi up`
installs at the stack's stage (or at STAGE: `--stage full` writes the reference files of the
chapters a stage leaves to the students), one folder per machine, at the path it is installed at."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vxlab.base.errors import ConfigError
from vxlab.build.render import plan_lab, write_tree
from vxlab.cli.common import add_stack_args, load_checked_args
from vxlab.model.stages import STAGE_NAMES


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("render", help="write every file of a stack's lab")
    add_stack_args(parser)
    parser.add_argument("--out", type=Path, required=True, help="folder to write DIR/<machine>/<path> into")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    parser.add_argument(
        "--stage", choices=STAGE_NAMES, help="render what this stage installs (default: the stack's own stage)"
    )


def check_out(out: Path, force: bool) -> None:
    """Refuse, before rendering, a target that is a file, not writable, or holds other files."""
    try:
        if out.exists() and not out.is_dir():
            raise ConfigError("--out", f"{out} is a file, not a folder", "name a folder (it is created if missing)")
        if out.is_dir() and any(out.iterdir()) and not force:
            raise ConfigError(
                "--out", f"{out} is not empty", "name an empty or new folder, or pass --force to write into it"
            )
        existing = next(p for p in (out, *out.parents) if p.exists())
        if not existing.is_dir():
            raise ConfigError("--out", f"{existing} is a file, so {out} cannot be created", "name another folder")
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".vxlab-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ConfigError("--out", f"cannot write into {out} ({exc.strerror})", "name a folder you can write") from None


def run(args: argparse.Namespace) -> int:
    lab = load_checked_args(args)
    stage = args.stage or lab.stage
    machines = plan_lab(lab, stage)
    check_out(args.out, args.force)
    try:
        written = write_tree(machines, args.out)
    except OSError as exc:
        raise ConfigError("--out", f"cannot write {exc.filename} ({exc.strerror})", "name an empty folder") from None
    print(f"{len(written)} files for {len(machines)} machines (stage {stage}) in {args.out}")
    return 0
