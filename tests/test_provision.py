"""Provisioning steps as the remote shell runs them: bash, the content on stdin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vxlab.provision import detached, file_step
from vxlab.render import RenderedFile

CONTENT = "auto lo\niface lo inet loopback\n"


def run(script: str, stdin: str | None = None) -> None:
    subprocess.run(["bash", "-c", script], input=stdin, text=True, check=True, timeout=30)


@pytest.mark.parametrize("reload", ["", "true", "detached"])
def test_file_step_writes_the_content_from_stdin(tmp_path: Path, reload: str) -> None:
    target = tmp_path / "etc" / "interfaces"
    command = detached("true", str(tmp_path / "log")) if reload == "detached" else reload
    step = file_step(RenderedFile(str(target), CONTENT, "ifupdown"), command)
    run(step.create, step.stdin)
    assert target.read_text() == CONTENT


def test_file_step_delete_restores_the_original(tmp_path: Path) -> None:
    target = tmp_path / "radvd.conf"
    target.write_text("original\n")
    step = file_step(RenderedFile(str(target), CONTENT, "radvd"))
    run(step.create, step.stdin)
    run(step.delete)
    assert target.read_text() == "original\n"


def test_file_step_delete_removes_a_file_it_created(tmp_path: Path) -> None:
    target = tmp_path / "new.conf"
    step = file_step(RenderedFile(str(target), CONTENT, "radvd"))
    run(step.create, step.stdin)
    run(step.delete)
    assert not target.exists()


def test_file_step_keeps_the_first_original_across_updates(tmp_path: Path) -> None:
    target = tmp_path / "dhcpd.conf"
    target.write_text("package default\n")
    first = file_step(RenderedFile(str(target), "one\n", "dhcpd"))
    second = file_step(RenderedFile(str(target), "two\n", "dhcpd"))
    run(first.create, first.stdin)
    run(second.create, second.stdin)
    run(second.delete)
    assert target.read_text() == "package default\n"


def test_file_step_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "bin" / "keepalived_notify.sh"
    step = file_step(RenderedFile(str(target), "#!/bin/bash\n", "script", 0o755))
    run(step.create, step.stdin)
    assert target.stat().st_mode & 0o777 == 0o755


def test_the_group_folder_goes_with_its_last_file(tmp_path: Path) -> None:
    group = tmp_path / "vxlab-g39"
    steps = [
        file_step(RenderedFile(str(group / name), CONTENT, "script", 0o755), owned_dir=str(group))
        for name in ("host-switch.sh", "sysctl.conf")
    ]
    for step in steps:
        run(step.create, step.stdin)
    run(steps[1].delete)
    assert group.is_dir()  # one file is still there
    run(steps[0].delete)
    assert not group.exists()
    run(steps[0].delete)  # a delete run again (a retried destroy) still succeeds


def test_host_steps_own_the_group_folder_only_in_namespace_mode() -> None:
    from vxlab.load import build_lab
    from vxlab.provision import host_steps
    from vxlab.render import render_lab

    def deletes(config: dict[str, object]) -> list[str]:
        lab = build_lab(config)
        return [s.delete for s in host_steps(lab, render_lab(lab)[0]) if s.name.startswith("file:")]

    seed = deletes({})
    assert "rmdir" in seed[0] and "rmdir" not in seed[1]  # /etc/sysctl.d is not ours
    ci = deletes({"group": 39, "hypervisor": {"svi_netns": "vxlab-ci", "uplink": None}})
    assert all("rmdir --ignore-fail-on-non-empty /usr/local/lib/vxlab/vxlab-g39" in d for d in ci)
