"""Running one action on several stacks at once: a worker per stack (at most `parallel`), a
progress line per running stack every few seconds, a summary table, each stack's log kept.

The actions themselves (the engine through the Automation API, `vxlab check`) are handed in, so
the scheduling and the reporting are tested without a lab.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from vxlab.artifacts.classview import aligned

LOGS_DIR = Path(".vxlab") / "logs"


@dataclass
class Progress:
    """One stack's run of one action, updated by its worker."""

    stack: str
    action: str
    log: Path
    host: str = ""  # the inventory's hypervisor, "" without one
    state: str = "waiting"  # waiting, running, ok, failed
    steps: int = 0  # resource steps finished (up, destroy) or checks run
    started: float | None = None
    ended: float | None = None
    detail: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def step(self, what: str = "") -> None:
        with self._lock:
            self.steps += 1
            if what:
                self.detail = what

    def seconds(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or now) - self.started


Action = Callable[[str, Progress], str]  # returns the summary's detail; raises on failure


def verb_command(verb: str, stack: str, project: Path, key: Path, known_hosts: Path | None) -> list[str]:
    """A `vxlab` verb on one stack of the project, in its own process (its own SSH to the lab)."""
    command = [sys.executable, "-m", "vxlab.cli", verb, "--stack", stack, "--project", str(project)]
    return command + ["--key", str(key)] + (["--known-hosts", str(known_hosts)] if known_hosts else [])


def log_path(project: Path, stack: str, action: str) -> Path:
    return project / LOGS_DIR / f"{stack}-{action}.log"


def progress_line(p: Progress, now: float) -> str:
    line = f"{p.stack}: {p.action} {p.state}, {p.seconds(now):.0f} s, {p.steps} steps"
    return f"{line}, {p.detail}" if p.detail else line


def summary(progress: Sequence[Progress]) -> str:
    rows = [("stack", "hypervisor", "action", "result", "seconds", "steps", "detail")]
    rows += [
        (p.stack, p.host or "-", p.action, p.state, f"{p.seconds(p.ended or 0):.0f}", str(p.steps), p.detail or "")
        for p in progress
    ]
    lines = aligned(rows)
    for p in progress:
        if p.state == "failed":
            lines.append(f"{p.stack}: log kept in {p.log}")
    return "\n".join(lines) + "\n"


def _work(action: Action, p: Progress) -> None:
    p.started = time.monotonic()
    p.state = "running"
    try:
        p.detail = action(p.stack, p)
        p.state = "ok"
    except Exception as exc:
        p.state = "failed"
        p.detail = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]
        with p.log.open("a") as log:
            log.write(f"\nvxlab class: {p.action} failed: {exc!r}\n")
    finally:
        p.ended = time.monotonic()


def run_all(
    progress: Sequence[Progress],
    action: Action,
    parallel: int,
    say: Callable[[str], None],
    every: float = 15.0,
) -> bool:
    """Every stack's action, `parallel` at a time; True when all succeeded."""
    done = threading.Event()

    def ticker() -> None:
        while not done.wait(every):
            now = time.monotonic()
            for p in progress:
                if p.state == "running":
                    say(progress_line(p, now))

    for p in progress:
        p.log.parent.mkdir(parents=True, exist_ok=True)
        p.log.write_text("")
    tick = threading.Thread(target=ticker, daemon=True)
    tick.start()
    try:
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = {pool.submit(_work, action, p): p for p in progress}
            for future in as_completed(futures):
                future.result()
                say(progress_line(futures[future], time.monotonic()))
    finally:
        done.set()
        tick.join()
    return all(p.state == "ok" for p in progress)


def run_hosts(
    lanes: Sequence[tuple[Sequence[Progress], int]],
    action: Action,
    say: Callable[[str], None],
    every: float = 15.0,
) -> bool:
    """Each lane (a hypervisor's stacks) at its own parallel limit, every lane at once: a host
    that fails does not stop the others. True when all succeeded."""
    with ThreadPoolExecutor(max_workers=max(1, len(lanes))) as pool:
        done = list(pool.map(lambda lane: run_all(lane[0], action, lane[1], say, every), lanes))
    return all(done)
