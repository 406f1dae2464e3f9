"""The steps a moved group's students must do again: done before the move, not done after."""

from __future__ import annotations

import pytest

from vxlab.features.spec import DONE, NOT_DONE, WRONG, Verdict
from vxlab.live.judging import Graded
from vxlab.live.moves import redo_lines, to_redo


def step(verdict: Verdict) -> Graded:
    return Graded("5.8", "keepalived runs", "blueTenant", verdict, "", "", "see §5.8 of the manual")


@pytest.mark.parametrize(
    ("before", "after", "redo"),
    [
        (DONE, NOT_DONE, True),
        (DONE, WRONG, True),
        (DONE, DONE, False),
        (NOT_DONE, NOT_DONE, False),
        (WRONG, NOT_DONE, False),
    ],
)
def test_a_step_is_to_redo_when_it_was_done_and_is_not_any_more(before: Verdict, after: Verdict, redo: bool) -> None:
    assert bool(to_redo([step(before)], [step(after)])) is redo


def test_a_step_to_redo_is_named_with_its_section_machine_and_hint() -> None:
    assert redo_lines([step(NOT_DONE)]) == ["§5.8 blueTenant: keepalived runs (see §5.8 of the manual)"]
