"""The Automation API side of `vxlab class`: the engine's environment, counting finished steps."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.automation import events

from tests.conftest import PROJECT
from vxlab.base.errors import ConfigError
from vxlab.engine.automation import counter, engine_env


def test_the_engine_env_is_what_scripts_pulumi_env_prints(tmp_path: Path) -> None:
    script = tmp_path / "scripts" / "pulumi-env"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho PATH=/opt/pulumi/bin:/usr/bin\necho PULUMI_BACKEND_URL=file:///x=y\n")
    script.chmod(0o755)
    assert engine_env(tmp_path) == {"PATH": "/opt/pulumi/bin:/usr/bin", "PULUMI_BACKEND_URL": "file:///x=y"}


def test_a_project_without_the_env_script_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scripts/pulumi-env"):
        engine_env(tmp_path)


def _done(op: events.OpType, planning: bool = False) -> events.EngineEvent:
    meta = events.StepEventMetadata(op=op, urn="urn:pulumi:ci::vxlab::t::g39-greenC1", type="t", provider="")
    return events.EngineEvent(sequence=1, timestamp=1, res_outputs_event=events.ResOutputsEvent(meta, planning))


@pytest.mark.parametrize(
    ("event", "counted"),
    [
        (_done(events.OpType.CREATE), ["g39-greenC1"]),
        (_done(events.OpType.DELETE), ["g39-greenC1"]),
        (_done(events.OpType.SAME), []),
        (_done(events.OpType.CREATE, planning=True), []),
        (events.EngineEvent(sequence=1, timestamp=1), []),
    ],
)
def test_only_finished_steps_that_changed_something_are_counted(event: events.EngineEvent, counted: list[str]) -> None:
    seen: list[str] = []
    counter(seen.append)(event)
    assert seen == counted


def test_stack_state_is_read_through_the_automation_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack made but never deployed has no resources: the class view shows it undeployed."""
    from vxlab.engine.automation import deployed, engine_env, select
    from vxlab.engine.e2e import scratch_project

    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'state'}")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    (tmp_path / "state").mkdir()
    scratch_project(PROJECT, tmp_path / "project")
    env = engine_env(PROJECT)
    select(tmp_path / "project", "ci", env, create=True)
    assert deployed(tmp_path / "project", env) == {}
