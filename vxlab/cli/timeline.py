"""`vxlab timeline --events FILE [--state FILE]`: where a `pulumi up` or `destroy` spent its time."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vxlab.base.errors import ConfigError
from vxlab.engine.timeline import dependencies, read_events, report, spans


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "timeline", help="each resource's step and the critical path of a pulumi up/destroy"
    )
    parser.add_argument("--events", type=Path, required=True, help="the engine's event log (pulumi up --event-log)")
    parser.add_argument(
        "--state", type=Path, default=None, help="pulumi stack export of the stack, for the dependencies"
    )
    parser.add_argument("--top", type=int, default=10, help="how many of the longest steps to list")


def _load(path: Path, key: str) -> Any:
    try:
        return read_events(path) if key == "--events" else json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(key, f"cannot read {path} ({exc})", "name the file the engine wrote") from None


def run(args: argparse.Namespace) -> int:
    found = spans(_load(args.events, "--events"))
    deps = dependencies(_load(args.state, "--state")) if args.state else {}
    print(report(found, deps, args.top), end="")
    return 0
