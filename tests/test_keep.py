"""The students' files a drain keeps and gives back: the manual's files on the machines the
stage leaves to the students, read in one round, written back byte for byte with their modes
(the script run here by the real `sh`), a machine that is not there named."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from vxlab.features.spec import Observation
from vxlab.live import keep
from vxlab.live.keep import (
    KeptFile,
    keep_files,
    read_command,
    restore_files,
    students_machines,
    wanted,
    write_script,
)
from vxlab.live.remote import Result
from vxlab.live.snapshot import Round, Snapshot
from vxlab.model.lab import Lab


def at(lab: Lab, stage: str) -> Lab:
    return lab.model_copy(update={"stage": stage})


@pytest.mark.parametrize(
    ("stage", "vms"),
    [("hosts", 3), ("router", 2), ("blue", 1), ("full", 0)],
)
def test_the_students_machines_are_the_vms_and_containers_the_stage_leaves_them(
    dev_lab: Lab, stage: str, vms: int
) -> None:
    machines = students_machines(at(dev_lab, stage))
    assert len([m for m in machines if m.role in ("router", "tenant")]) == vms
    assert len(machines) == vms + 3 * len([m for m in machines if m.role == "tenant"])


def test_the_students_files_are_the_manuals_paths(dev_lab: Lab) -> None:
    tenant = next(m for m in students_machines(at(dev_lab, "router")) if m.role == "tenant")
    assert "/etc/keepalived/keepalived.conf" in [f.path for f in tenant.files]


@pytest.mark.parametrize(("role", "kept"), [("tenant", True), ("client", False)])
def test_the_manuals_sysctl_conf_is_kept_on_the_students_vms_only(dev_lab: Lab, role: str, kept: bool) -> None:
    machine = next(m for m in students_machines(at(dev_lab, "router")) if m.role == role)
    files = [(w.machine, w.path) for w in wanted(at(dev_lab, "router"))]
    assert ((machine.name, "/etc/sysctl.conf") in files) is kept


@pytest.mark.parametrize(
    "content",
    ["vrrp_instance x {\n}\n", "no newline at the end", "quotes ' \" $HOME `x` \\ and été\n", ""],
    ids=["config", "no-newline", "shell-characters", "empty"],
)
def test_a_file_written_back_is_the_kept_one_with_its_mode(tmp_path: Path, content: str) -> None:
    path = tmp_path / "etc" / "new dir" / "file.conf"
    subprocess.run(
        ["sh", "-s"], input=write_script([KeptFile("m", "vm", str(path), 0o600, content)]), text=True, check=True
    )
    assert (path.read_text(), path.stat().st_mode & 0o777) == (content, 0o600)


class Answers:
    """`take` answering `cat` of the paths in `files`, and failing for any other."""

    def __init__(self, files: dict[tuple[str, str], str]) -> None:
        self.files = files

    def take(self, shell: object, observations: Iterable[Observation], snapshot: Snapshot, label: str) -> Round:
        for o in observations:
            content = next(
                (c for (m, p), c in self.files.items() if m == o.machine and o.command == read_command(p)), None
            )
            missing = Result(1, "", f"cat: {o.command.split()[-1]}: No such file or directory")
            snapshot.add(o.machine, o.command, missing if content is None else Result(0, content, ""))
        return Round(label, 0.1)


def test_a_file_that_is_there_is_kept_and_one_that_is_not_is_named(
    dev_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = at(dev_lab, "blue")
    green = next(m for m in students_machines(lab) if m.role == "tenant")
    monkeypatch.setattr(keep, "take", Answers({(green.name, "/etc/radvd.conf"): "interface sw-vlan7 {};\n"}).take)
    kept, missed = keep_files(None, lab)  # type: ignore[arg-type]
    assert [(f.machine, f.path, f.content) for f in kept] == [
        (green.name, "/etc/radvd.conf", "interface sw-vlan7 {};\n")
    ]
    conf = "/etc/keepalived/keepalived.conf"
    assert f"{green.name}: {conf} not kept (cat: {conf}: No such file or directory)" in missed


class RestoringShell:
    """VMs answer; containers are not there."""

    def __init__(self) -> None:
        self.scripts: list[str] = []

    def script(self, vm: str, script: str, timeout: float) -> tuple[int, bytes, str]:
        self.scripts.append(vm)
        return 0, b"", ""

    def container(self, name: str, command: str, timeout: float = 120) -> Result:
        return Result(1, "", "Error: Instance not found")


def test_a_vms_files_are_restored_and_a_missing_containers_are_named() -> None:
    kept = [
        KeptFile("tenant", "vm", "/etc/radvd.conf", 0o644, "x\n"),
        KeptFile("tenant", "vm", "/etc/keepalived/keepalived.conf", 0o644, "y\n"),
        KeptFile("dhcp", "container", "/etc/dhcp/dhcpd.conf", 0o644, "z\n"),
    ]
    shell = RestoringShell()
    restored, missed = restore_files(shell, kept)  # type: ignore[arg-type]
    assert (shell.scripts, [f.path for f in restored]) == (
        ["tenant"],
        ["/etc/radvd.conf", "/etc/keepalived/keepalived.conf"],
    )
    assert missed == ["dhcp: /etc/dhcp/dhcpd.conf not restored (Error: Instance not found)"]
