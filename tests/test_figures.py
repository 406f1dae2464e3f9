"""The fast loop's figures: each against its target, beside its floor; the transfers' own
seconds read from a snapshot recorded on a real lab."""

from __future__ import annotations

from pathlib import Path

import pytest

from vxlab.engine.figures import TARGETS, Figure, transfer_seconds
from vxlab.live import snapshot as snapshots
from vxlab.live.remote import Result
from vxlab.live.snapshot import Snapshot
from vxlab.model.lab import Lab

RECORDED = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize(("seconds", "met"), [(9.9, True), (10.0, True), (10.1, False)])
def test_a_figure_is_met_up_to_its_target(seconds: float, met: bool) -> None:
    figure = Figure("grade --section 5 --no-traffic", seconds, TARGETS["grade --section N --no-traffic"], 3.0, "floor")
    assert figure.met is met
    assert ("met" if met else "MISSED") in figure.line() and "floor 3.0 s" in figure.line()


def test_the_transfers_take_the_longest_tenants_sum_of_curls_own_seconds(dev_lab: Lab) -> None:
    s = Snapshot(dev_lab, "dev", "now")
    s.add("blueC0", "get", Result(0, "vxlab-curl 200 1048576 0.5\n", ""))
    s.add("blueC1", "get", Result(0, "vxlab-curl 200 1048576 0.25\n", ""))
    s.add("greenC0", "get", Result(0, "vxlab-curl 200 1048576 0.5\n", ""))
    assert transfer_seconds(s) == 0.75


def test_a_recorded_grade_of_the_whole_lab_spent_seconds_on_its_transfers() -> None:
    assert transfer_seconds(snapshots.load(RECORDED / "ci-full.json")) > 0
