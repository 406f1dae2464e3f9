"""`vxlab`: the lab's command-line tool, one module per verb."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from vxlab.base.errors import ConfigError
from vxlab.cli import (
    catch_up,
    check,
    class_,
    diagram,
    docs,
    drift,
    drill,
    e2e,
    grade,
    handout,
    preflight,
    render,
    snapshot,
    timeline,
    validate,
)

VERBS = {
    "render": render,
    "validate": validate,
    "preflight": preflight,
    "docs": docs,
    "check": check,
    "grade": grade,
    "snapshot": snapshot,
    "catch-up": catch_up,
    "drill": drill,
    "drift": drift,
    "diagram": diagram,
    "handout": handout,
    "class": class_,
    "timeline": timeline,
    "e2e": e2e,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vxlab", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True)
    for module in VERBS.values():
        module.add_parser(sub)
    args = parser.parse_args(argv)
    try:
        code: int = VERBS[args.verb].run(args)
    except ConfigError as err:
        print(f"vxlab: {err.line()}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
