"""Benchmark: what a student's or an instructor's loop costs on a running lab, each figure beside
its target and the floor measured in the same run (vxlab/engine/figures.py).

    venv/bin/python benchmarks/lab_loop.py --stack ci [--key KEY] [--known-hosts FILE]

Runs the `vxlab` verbs as a user does (a process each): the floor (one round trip to every
machine, fresh SSH connections), `grade --section N --no-traffic` for each chapter, the whole
grade with its traffic, `check` and `drift`. A measurement of a lab that is up, not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vxlab.engine.figures import TARGETS, Figure, floor_round, transfer_seconds
from vxlab.live import snapshot as snapshots
from vxlab.live.grading import CHAPTERS
from vxlab.validate.load import load_lab

ROOT = Path(__file__).resolve().parent.parent


def timed(*args: str) -> float:
    started = time.monotonic()
    subprocess.run([str(ROOT / "venv" / "bin" / "vxlab"), *args], capture_output=True, check=False)
    return round(time.monotonic() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="ci")
    parser.add_argument("--key", type=Path, default=Path(os.environ.get("VXLAB_SSH_KEY", "~/.ssh/id_ed25519")))
    parser.add_argument("--known-hosts", type=Path, default=None)
    args = parser.parse_args()
    key = args.key.expanduser()
    lab = load_lab(ROOT, args.stack)
    common = ["--stack", args.stack, "--project", str(ROOT), "--key", str(key)]
    if args.known_hosts:
        common += ["--known-hosts", str(args.known_hosts)]
    floor = floor_round(lab, key, args.known_hosts)
    what = "one round trip to every machine and container, fresh SSH connections"
    figures = [
        Figure(
            f"grade --section {c} --no-traffic",
            timed("grade", *common, "--section", c, "--no-traffic"),
            TARGETS["grade --section N --no-traffic"],
            floor,
            what,
        )
        for c in CHAPTERS
    ]
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "snapshot.json"
        whole = timed("grade", *common, "--save-snapshot", str(saved))
        transfers = transfer_seconds(snapshots.load(saved)) if saved.exists() else 0.0
    figures += [
        Figure(
            "grade (whole, with traffic)",
            whole,
            TARGETS["grade (whole, with traffic)"],
            floor + transfers,
            "the floor plus the transfers' own seconds, the longest tenant's",
        ),
        Figure(
            "check",
            timed("check", *common),
            TARGETS["check"],
            floor + transfers,
            "the floor plus the transfers' own seconds",
        ),
        Figure("drift", timed("drift", *common), TARGETS["drift"], floor, what),
    ]
    for f in figures:
        print(f.line())
    sys.exit(0 if all(f.met for f in figures) else 1)


if __name__ == "__main__":
    main()
