"""Benchmark: load, validate and render N class-group stacks (default 30), best of 5.

    python benchmarks/render_groups.py [N]

A measurement, not a test: the goal is <= 2 s for 30 groups on a 2-core machine.
"""

from __future__ import annotations

import sys
import time

from vxlab.build.render import render_lab
from vxlab.validate.collisions import check_collisions
from vxlab.validate.load import build_lab


def once(groups: int) -> tuple[float, int]:
    start = time.perf_counter()
    labs = {f"group{g:02d}": build_lab({"group": g}) for g in range(1, groups + 1)}
    check_collisions(labs)
    files = sum(len(m.files) for lab in labs.values() for m in render_lab(lab))
    return time.perf_counter() - start, files


def main() -> None:
    groups = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    runs = [once(groups) for _ in range(5)]
    best = min(t for t, _ in runs)
    print(
        f"render {groups} group stacks ({runs[0][1]} files, collisions checked): "
        f"best {best:.3f} s, worst {max(t for t, _ in runs):.3f} s over 5 runs"
    )


if __name__ == "__main__":
    main()
