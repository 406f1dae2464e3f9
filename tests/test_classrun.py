"""Several stacks at once: every stack runs, a failure stops no other, the summary says which
failed and where its log is, at most `parallel` run together."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from vxlab.engine.classrun import Progress, log_path, progress_line, run_all, run_hosts, summary


def progress(tmp_path: Path, *stacks: str) -> list[Progress]:
    return [Progress(s, "up", log_path(tmp_path, s, "up")) for s in stacks]


def ok(stack: str, p: Progress) -> str:
    p.step("a-resource")
    return "create 3"


def fails_on_b(stack: str, p: Progress) -> str:
    if stack == "b":
        raise RuntimeError("the engine said:\nerror: b broke")
    return ok(stack, p)


def test_all_stacks_ok_is_success(tmp_path: Path) -> None:
    assert run_all(progress(tmp_path, "a", "b"), ok, 2, lambda _: None) is True


def test_one_failed_stack_fails_the_run(tmp_path: Path) -> None:
    assert run_all(progress(tmp_path, "a", "b", "c"), fails_on_b, 2, lambda _: None) is False


def test_a_failure_stops_no_other_stack(tmp_path: Path) -> None:
    runs = progress(tmp_path, "a", "b", "c")
    run_all(runs, fails_on_b, 1, lambda _: None)
    assert [p.state for p in runs] == ["ok", "failed", "ok"]


def test_the_failure_is_summed_up_in_its_last_line(tmp_path: Path) -> None:
    runs = progress(tmp_path, "b")
    run_all(runs, fails_on_b, 1, lambda _: None)
    assert runs[0].detail == "error: b broke"


def test_the_failed_stack_s_log_is_kept_and_named(tmp_path: Path) -> None:
    runs = progress(tmp_path, "a", "b")
    run_all(runs, fails_on_b, 2, lambda _: None)
    assert (f"b: log kept in {runs[1].log}" in summary(runs), "b broke" in runs[1].log.read_text()) == (True, True)


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_at_most_parallel_stacks_run_together(tmp_path: Path, parallel: int) -> None:
    running, peak, lock = [0], [0], threading.Lock()

    def slow(stack: str, p: Progress) -> str:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return ""

    run_all(progress(tmp_path, "a", "b", "c", "d"), slow, parallel, lambda _: None)
    assert peak[0] == parallel


def test_each_finished_stack_gets_a_progress_line(tmp_path: Path) -> None:
    said: list[str] = []
    run_all(progress(tmp_path, "a", "b"), ok, 2, said.append)
    assert sorted(line.split(":")[0] for line in said) == ["a", "b"]


def test_a_running_stack_is_reported_while_it_runs(tmp_path: Path) -> None:
    said: list[str] = []

    def slow(stack: str, p: Progress) -> str:
        time.sleep(0.35)
        return ""

    run_all(progress(tmp_path, "a"), slow, 1, said.append, every=0.1)
    assert any(line.startswith("a: up running") for line in said)


def test_a_progress_line_names_the_stack_the_action_and_the_steps(tmp_path: Path) -> None:
    p = Progress("ci", "destroy", tmp_path / "log", state="running", steps=12, started=100.0, detail="g39-greenC1")
    assert progress_line(p, 130.0) == "ci: destroy running, 30 s, 12 steps, g39-greenC1"


def _peaks(tmp_path: Path, limits: dict[str, int]) -> tuple[int, dict[str, int]]:
    """Hosts `a` (stacks a1, a2) and `b` (b1, b2) at their limits: the most stacks that ran
    together in all, and on each host."""
    running: dict[str, int] = {"a": 0, "b": 0}
    peak, per_host, lock = [0], {"a": 0, "b": 0}, threading.Lock()

    def slow(stack: str, p: Progress) -> str:
        with lock:
            running[p.host] += 1
            peak[0] = max(peak[0], sum(running.values()))
            per_host[p.host] = max(per_host[p.host], running[p.host])
        time.sleep(0.05)
        with lock:
            running[p.host] -= 1
        return ""

    lanes = [
        ([Progress(f"{h}{i}", "up", log_path(tmp_path, f"{h}{i}", "up"), h) for i in (1, 2)], limit)
        for h, limit in limits.items()
    ]
    run_hosts(lanes, slow, lambda _: None)
    return peak[0], per_host


@pytest.mark.parametrize(
    ("limits", "per_host"), [({"a": 1, "b": 1}, {"a": 1, "b": 1}), ({"a": 2, "b": 1}, {"a": 2, "b": 1})]
)
def test_each_host_runs_its_groups_at_its_own_limit(
    tmp_path: Path, limits: dict[str, int], per_host: dict[str, int]
) -> None:
    assert _peaks(tmp_path, limits)[1] == per_host


def test_the_hosts_run_at_once(tmp_path: Path) -> None:
    assert _peaks(tmp_path, {"a": 1, "b": 1})[0] == 2


def test_a_failing_host_stops_no_other(tmp_path: Path) -> None:
    lanes = [
        ([Progress("b", "up", log_path(tmp_path, "b", "up"), "hv1")], 1),
        ([Progress("c", "up", log_path(tmp_path, "c", "up"), "hv2")], 1),
    ]
    ok_all = run_hosts(lanes, fails_on_b, lambda _: None)
    assert (ok_all, [p.state for members, _ in lanes for p in members]) == (False, ["failed", "ok"])


def test_the_summary_names_each_group_s_hypervisor(tmp_path: Path) -> None:
    p = Progress("ci2", "up", tmp_path / "log", "loop", state="ok", started=0.0, ended=1.0)
    assert summary([p]).splitlines()[2].split()[:2] == ["ci2", "loop"]
