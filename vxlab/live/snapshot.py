"""What a running lab looked like: every observation a snapshot made (machine, command, exit
status, output), with the lab's model it was made against, when, and how long each machine's
round trip took. Checks, grades and drift are pure functions of it (vxlab.live.judging), so a
snapshot saved to a file (`vxlab snapshot --out FILE`) is graded later exactly as it was live
(`vxlab grade --from FILE`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vxlab.base.errors import ConfigError
from vxlab.live.remote import Result
from vxlab.model.lab import Lab
from vxlab.validate.load import build_lab

FORMAT = "vxlab-snapshot/1"


def utc_now() -> str:
    """When a snapshot, a grade or a check was taken: UTC, ISO 8601 to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Round:
    """One round trip to every machine it asked, all at once: each machine's seconds."""

    label: str
    seconds: float
    machines: dict[str, float] = field(default_factory=dict)


@dataclass
class Snapshot:
    lab: Lab
    stack: str
    taken: str  # UTC, ISO 8601
    # (machine, command) -> every attempt, oldest first: a failed active probe is observed again
    results: dict[tuple[str, str], list[Result]] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    # Facts about the run that are not a machine's output (the traffic server's failure).
    notes: dict[str, str] = field(default_factory=dict)
    traffic: bool = False  # it made the traffic checks (TCP transfers, full-size pings)
    chapters: tuple[str, ...] = ()  # the seed's chapters it observes for a grade (all when empty)

    @property
    def seconds(self) -> float:
        return round(sum(r.seconds for r in self.rounds), 2)

    def attempts(self, machine: str, command: str) -> list[Result]:
        return self.results.get((machine, command), [])

    def latest(self, machine: str, command: str) -> Result | None:
        found = self.attempts(machine, command)
        return found[-1] if found else None

    def add(self, machine: str, command: str, result: Result) -> None:
        self.results.setdefault((machine, command), []).append(result)

    def as_json(self) -> dict[str, Any]:
        machines: dict[str, list[dict[str, Any]]] = {}
        for (machine, command), attempts in self.results.items():
            machines.setdefault(machine, []).append(
                {"command": command, "attempts": [{"code": r.code, "out": r.out, "err": r.err} for r in attempts]}
            )
        return {
            "format": FORMAT,
            "stack": self.stack,
            "taken": self.taken,
            "seconds": self.seconds,
            "rounds": [{"label": r.label, "seconds": r.seconds, "machines": r.machines} for r in self.rounds],
            "notes": self.notes,
            "traffic": self.traffic,
            "chapters": list(self.chapters),
            "lab": self.lab.model_dump(mode="json"),
            "machines": machines,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=1, sort_keys=False) + "\n")


def from_json(data: dict[str, Any]) -> Snapshot:
    snapshot = Snapshot(
        # Over the group's defaults of today: a snapshot taken before a setting existed still loads.
        lab=build_lab(data["lab"]),
        stack=data["stack"],
        taken=data["taken"],
        rounds=[Round(r["label"], r["seconds"], r["machines"]) for r in data["rounds"]],
        notes=dict(data["notes"]),
        traffic=bool(data["traffic"]),
        chapters=tuple(data["chapters"]),
    )
    for machine, observed in data["machines"].items():
        for o in observed:
            for a in o["attempts"]:
                snapshot.add(machine, o["command"], Result(a["code"], a["out"], a["err"]))
    return snapshot


def load(path: Path) -> Snapshot:
    """A saved snapshot; a file that is not one is refused naming --from and the fix."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError("--from", f"cannot read {path} ({exc.strerror})", "name a snapshot file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            "--from", f"{path} is not JSON ({exc.msg}, line {exc.lineno})", "name a snapshot file"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(
            "--from", f"{path} is not a {FORMAT} file", "make one with `vxlab snapshot --stack S --out FILE`"
        )
    try:
        return from_json(data)
    except ConfigError as exc:
        raise ConfigError(
            "--from", f"{path} holds a lab this vxlab refuses ({exc.line()})", "take the snapshot again"
        ) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            "--from", f"{path} is damaged ({exc.__class__.__name__}: {exc})", "take the snapshot again"
        ) from None
