"""LabShell's one way to run a command on a machine named as the lab names it, and a failed
result's reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.live.remote import LabShell, Result
from vxlab.validate.load import load_lab


@pytest.mark.parametrize(
    ("machine", "reached_by"),
    [("host", "host"), ("g39-redRouter", "vm"), ("g39-blueTenant", "vm"), ("g39-greenC1", "container")],
)
def test_a_command_goes_to_the_machine_by_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, machine: str, reached_by: str
) -> None:
    pinned = tmp_path / "known_hosts"
    pinned.write_text("[127.0.0.1]:23900 ssh-ed25519 AAAA\n")
    with LabShell(load_lab(PROJECT, "ci"), tmp_path / "key", pinned) as shell:
        for way in ("host", "vm", "container"):
            monkeypatch.setattr(shell, way, lambda *args, way=way, **kw: Result(0, way, ""))
        monkeypatch.setattr(shell, "reconnect", lambda vms: None)
        assert shell.on(machine, "true").out == reached_by


@pytest.mark.parametrize(
    ("err", "reason"),
    [
        ("", ""),
        ("Traceback (most recent call last):\n  File x\nOSError: boom\n", "OSError: boom"),
        ("  Error: Instance is not running  \n\n", "Error: Instance is not running"),
    ],
    ids=["silent", "traceback", "padded"],
)
def test_a_failed_result_says_why_on_one_line(err: str, reason: str) -> None:
    assert Result(1, "", err).reason == reason
