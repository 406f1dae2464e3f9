"""The engine's event log read into steps, and the critical path through the state's dependencies."""

from __future__ import annotations

from typing import Any

import pytest

from vxlab.engine.timeline import Span, critical_path, dependencies, report, spans

STACK = "urn:pulumi:ci::vxlab::"


def urn(kind: str, name: str) -> str:
    return f"{STACK}{kind}::{name}"


DOMAIN = urn("vxlab:index:TenantVM$libvirt:index:Domain", "green-domain")
FILE = urn("vxlab:index:TenantVM$command:remote:Command", "green-file")
SWITCH = urn("vxlab:index:HostSwitch$command:local:Command", "switch")
COMPONENT = urn("vxlab:index:TenantVM", "green")


def event(t: int, kind: str, op: str, target: str, custom: bool = True, planning: bool = False) -> dict[str, Any]:
    state = {"custom": True} if custom else {}  # the engine leaves `custom` out when it is false
    meta = {"op": op, "urn": target, "type": target.split("::")[-2], "new": state}
    return {"timestamp": t, kind: {"metadata": meta, "planning": planning}}


EVENTS = [
    event(100, "resourcePreEvent", "create", SWITCH),
    event(102, "resOutputsEvent", "create", SWITCH),
    event(102, "resourcePreEvent", "create", COMPONENT, custom=False),
    event(103, "resourcePreEvent", "create", DOMAIN),
    event(110, "resOutputsEvent", "create", DOMAIN),
    event(110, "resourcePreEvent", "create", FILE),
    event(150, "resOutputsEvent", "create", FILE),
]
EXPORT = {
    "deployment": {
        "resources": [
            {"urn": SWITCH},
            {"urn": DOMAIN, "dependencies": [SWITCH], "provider": f"{STACK}pulumi:providers:libvirt::lv::id-1"},
            {"urn": FILE, "dependencies": [DOMAIN]},
        ]
    }
}


def test_a_step_runs_from_its_pre_event_to_its_outputs() -> None:
    assert spans(EVENTS)[FILE] == Span(FILE, "create", 110, 150)


def test_components_have_no_step_of_their_own() -> None:
    assert COMPONENT not in spans(EVENTS)


def test_preview_events_are_not_steps() -> None:
    planned = [event(1, "resourcePreEvent", "create", FILE, planning=True), event(2, "resOutputsEvent", "create", FILE)]
    assert spans(planned) == {}


def test_a_failed_step_is_marked() -> None:
    failed = [event(1, "resourcePreEvent", "create", FILE), event(9, "resOpFailedEvent", "create", FILE)]
    assert spans(failed)[FILE].failed


def test_a_resource_waits_for_its_dependencies_and_its_provider() -> None:
    assert dependencies(EXPORT)[DOMAIN] == {SWITCH, f"{STACK}pulumi:providers:libvirt::lv"}


def test_the_critical_path_of_an_up_runs_from_the_first_step_to_the_last() -> None:
    assert [s.urn for s in critical_path(spans(EVENTS), dependencies(EXPORT))] == [SWITCH, DOMAIN, FILE]


def test_the_critical_path_of_a_destroy_runs_from_dependents_to_dependencies() -> None:
    deletes = [
        event(1, "resourcePreEvent", "delete", FILE),
        event(5, "resOutputsEvent", "delete", FILE),
        event(5, "resourcePreEvent", "delete", DOMAIN),
        event(8, "resOutputsEvent", "delete", DOMAIN),
        event(8, "resourcePreEvent", "delete", SWITCH),
        event(9, "resOutputsEvent", "delete", SWITCH),
    ]
    assert [s.urn for s in critical_path(spans(deletes), dependencies(EXPORT))] == [FILE, DOMAIN, SWITCH]


@pytest.mark.parametrize(
    "line",
    ["3 resource steps over 50 s (±1 s)", "  +  10 s    40 s  create  green-file (command:remote:Command)"],
)
def test_the_report_states_the_run_and_the_path(line: str) -> None:
    assert line in report(spans(EVENTS), dependencies(EXPORT)).splitlines()
