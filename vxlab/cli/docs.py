"""`vxlab docs --out FILE`: the config-key reference, generated from the model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vxlab.artifacts.configdoc import config_reference


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("docs", help="write the config-key reference")
    parser.add_argument("--out", type=Path, required=True, help="file to write (docs/config-keys.md)")


def run(args: argparse.Namespace) -> int:
    args.out.write_text(config_reference())
    print(f"wrote {args.out}")
    return 0
