"""Where `pulumi up` and `pulumi destroy` spend their time: each resource's step from the engine's
event log (`--event-log`), and the critical path through the dependencies the state records
(`pulumi stack export`).

The engine stamps events in whole seconds, so every figure here is ±1 s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Steps that do work; "same" and "read" of unchanged resources take no time worth drawing.
WORK = frozenset(
    {"create", "update", "delete", "replace", "create-replacement", "delete-replaced", "refresh", "read-replacement"}
)
REMOVALS = frozenset({"delete", "delete-replaced"})


@dataclass(frozen=True)
class Span:
    urn: str
    op: str
    start: int
    end: int
    failed: bool = False

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def type(self) -> str:
        return self.urn.split("::")[-2].rsplit("$", 1)[-1]

    @property
    def seconds(self) -> int:
        return self.end - self.start


def _custom(metadata: Mapping[str, Any]) -> bool:
    """Components and the stack only register: they have no step of their own to time. (The
    engine leaves `custom` out when it is false.)"""
    state = metadata.get("new") or metadata.get("old") or {}
    return bool(state.get("custom", False)) and metadata.get("type") != "pulumi:pulumi:Stack"


def read_events(path: Path) -> list[dict[str, Any]]:
    """The engine's event log: one JSON object per line."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def spans(events: Iterable[Mapping[str, Any]]) -> dict[str, Span]:
    """Each custom resource's step, from its pre-event to its outputs (or failure) event."""
    started: dict[tuple[str, str], int] = {}
    found: dict[str, Span] = {}
    for event in events:
        when = int(event.get("timestamp", 0))
        for kind in ("resourcePreEvent", "resOutputsEvent", "resOpFailedEvent"):
            body = event.get(kind)
            if not body:
                continue
            meta = body["metadata"]
            op, urn = meta.get("op", ""), meta.get("urn", "")
            if op not in WORK or body.get("planning") or not _custom(meta):
                continue
            if kind == "resourcePreEvent":
                started[(urn, op)] = when
            elif (urn, op) in started:
                found[urn] = Span(urn, op, started.pop((urn, op)), when, failed=kind == "resOpFailedEvent")
    return found


def dependencies(export: Mapping[str, Any]) -> dict[str, set[str]]:
    """What each resource waited for when it was made: its dependencies and its provider."""
    deps: dict[str, set[str]] = {}
    for resource in export.get("deployment", {}).get("resources", []):
        waits = set(resource.get("dependencies") or [])
        provider = resource.get("provider")
        if provider:
            waits.add(provider.rsplit("::", 1)[0])
        deps[resource["urn"]] = waits
    return deps


def critical_path(found: Mapping[str, Span], deps: Mapping[str, set[str]]) -> list[Span]:
    """From the step that ended last back to the first, each time through the step it waited for
    that ended last. A deletion waits the other way round: for the resources that depended on it."""
    if not found:
        return []
    removal = all(s.op in REMOVALS for s in found.values())
    waits = deps
    if removal:
        dependents: dict[str, set[str]] = {}
        for urn, needs in deps.items():
            for need in needs:
                dependents.setdefault(need, set()).add(urn)
        waits = dependents
    path = [max(found.values(), key=lambda s: (s.end, s.start))]
    seen = {path[0].urn}
    while True:
        before = [found[u] for u in waits.get(path[-1].urn, ()) if u in found and u not in seen]
        before = [s for s in before if s.end <= path[-1].start + 1]
        if not before:
            break
        path.append(max(before, key=lambda s: (s.end, s.start)))
        seen.add(path[-1].urn)
    return list(reversed(path))


def report(found: Mapping[str, Span], deps: Mapping[str, set[str]], top: int = 10) -> str:
    """The whole run, the critical path with each step's wait before it, and the longest steps."""
    if not found:
        return "no resource step in the event log\n"
    first = min(s.start for s in found.values())
    last = max(s.end for s in found.values())
    lines = [f"{len(found)} resource steps over {last - first} s (±1 s)", "critical path (start +s, duration):"]
    previous_end = first
    for s in critical_path(found, deps):
        wait = s.start - previous_end
        lines.append(
            f"  +{s.start - first:>4} s  {s.seconds:>4} s  {s.op:<7} {s.name} ({s.type})"
            + (f"  [waited {wait} s]" if wait > 1 else "")
        )
        previous_end = s.end
    lines.append(f"longest {top} steps:")
    for s in sorted(found.values(), key=lambda s: -s.seconds)[:top]:
        lines.append(f"  {s.seconds:>4} s  {s.op:<7} {s.name} ({s.type})")
    return "\n".join(lines) + "\n"
