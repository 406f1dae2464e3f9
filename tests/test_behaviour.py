"""Behaviour steps: a fault made on the students' lab and judged by what the lab does, with the
drills' scenarios; graded done, wrong with the scenario's failures, or not done when the fault
could not be tried; kept in the snapshot so a saved grade shows them."""

from __future__ import annotations

import pytest

from tests.test_recorded import recorded
from vxlab.live import behaviour
from vxlab.live.drill_report import Outcome
from vxlab.live.grading import CHAPTERS, grade_snapshot
from vxlab.model.lab import Lab
from vxlab.validate.load import build_lab

BY_SCENARIO = {b.scenario: b for b in behaviour.BEHAVIOURS}


def lab() -> Lab:
    return build_lab({"group": 39})


def outcome(scenario: str, failures: list[str]) -> Outcome:
    o = Outcome(scenario, "g39-greenTenant", "g39-blueTenant", 8.14, 4.2, 0.1, 0.1, 0, 0, 10.14, 6.8, 3.0, 0.2, 0.2)
    o.failures = failures
    return o


@pytest.mark.parametrize(("scenario", "section"), [("probe-cut", "6.8"), ("dhcp-peer-down", "6.7")])
def test_a_behaviour_is_graded_in_the_last_tenants_chapter(scenario: str, section: str) -> None:
    assert behaviour.section_of(lab(), BY_SCENARIO[scenario]) == section


@pytest.mark.parametrize(
    ("failures", "verdict"),
    [([], "done"), (["VIP move inf s > bound 8.14 s"], "wrong")],
)
def test_a_scenario_that_passes_is_done_and_one_that_fails_is_wrong(failures: list[str], verdict: str) -> None:
    graded = behaviour.graded_of(lab(), BY_SCENARIO["probe-cut"], outcome("probe-cut", failures))
    assert graded.verdict == verdict


def test_a_wrong_behaviour_shows_what_failed_and_the_bound() -> None:
    graded = behaviour.graded_of(lab(), BY_SCENARIO["probe-cut"], outcome("probe-cut", ["VIP move inf s > 8.14 s"]))
    assert graded.observed == "VIP move inf s > 8.14 s"
    assert "within 8.14 s" in graded.expected and "track_script" in graded.hint


def test_a_fault_that_cannot_be_tried_is_not_done_with_the_reason() -> None:
    def run(scenario: str) -> Outcome:
        raise RuntimeError("g39-greenTenant does not hold the VIPs before the drill")

    steps = behaviour.behaviour_steps(lab(), run)
    assert [(g.verdict, g.observed) for g in steps] == [
        ("not done", "not tried: g39-greenTenant does not hold the VIPs before the drill")
    ] * len(behaviour.BEHAVIOURS)


def test_each_behaviour_runs_its_own_scenario() -> None:
    ran: list[str] = []

    def run(scenario: str) -> Outcome:
        ran.append(scenario)
        return outcome(scenario, [])

    behaviour.behaviour_steps(lab(), run)
    assert ran == ["probe-cut", "dhcp-peer-down"]


def test_a_snapshot_keeps_the_behaviour_steps_for_a_later_grade() -> None:
    snapshot = recorded("ci-full")
    steps = [behaviour.graded_of(snapshot.lab, BY_SCENARIO["probe-cut"], outcome("probe-cut", []))]
    notes = dict(snapshot.notes)
    behaviour.keep(notes, steps)
    assert behaviour.kept(notes) == steps


@pytest.mark.parametrize(("chapters", "shown"), [(CHAPTERS, 1), (("5",), 0)])
def test_a_grade_of_a_snapshot_shows_the_behaviour_steps_of_its_chapters(chapters: tuple[str, ...], shown: int) -> None:
    snapshot = recorded("ci-full")
    saved = dict(snapshot.notes)
    try:
        behaviour.keep(
            snapshot.notes, [behaviour.graded_of(snapshot.lab, BY_SCENARIO["probe-cut"], outcome("probe-cut", []))]
        )
        graded = grade_snapshot(snapshot, chapters)
    finally:
        snapshot.notes.clear()
        snapshot.notes.update(saved)
    assert sum(g.name == BY_SCENARIO["probe-cut"].name for g in graded) == shown
