"""A snapshot's round trip: one script per machine, every machine at once, the containers'
scripts run inside their tenant's. Here every "machine" is this one's `sh` (a fake `lxc` runs
a container's script), so the real framing and parsing are exercised without a lab."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from vxlab.features.spec import VM_LANE, Observation
from vxlab.live.observe import take
from vxlab.live.snapshot import Snapshot
from vxlab.model.lab import Lab

FAKE_LXC = """#!/bin/sh
# lxc exec NAME -- sh -c SCRIPT: run SCRIPT here; a container named missing-* is not there
[ "$1" = exec ] || exit 2
case "$2" in missing-*) echo "Error: Instance not found" >&2; exit 1;; esac
shift 3
exec "$@"
"""


class LocalShell:
    """Every VM and the hypervisor are this machine; VMs named down-* do not answer."""

    def __init__(self, tmp: Path, tenant_of: dict[str, str]) -> None:
        (tmp / "lxc").write_text(FAKE_LXC)
        (tmp / "lxc").chmod(0o755)
        self.env = {**os.environ, "PATH": f"{tmp}:{os.environ['PATH']}"}
        self.tenant_of = tenant_of
        self.scripts: list[str | None] = []
        self.connected: list[str] = []

    def connect(self, vm: str) -> None:
        self.connected.append(vm)

    def script(self, vm: str | None, script: str, timeout: float) -> tuple[int, bytes, str]:
        self.scripts.append(vm)
        if vm is not None and vm.startswith("down-"):
            return 255, b"", f"ssh: connect to host {vm} port 22: Connection refused\n"
        done = subprocess.run(
            ["sh", "-s"], input=script.encode(), capture_output=True, timeout=timeout, env=self.env, check=False
        )
        return done.returncode, done.stdout, done.stderr.decode()


@pytest.fixture
def shell(tmp_path: Path) -> LocalShell:
    return LocalShell(tmp_path, {"c1": "vm1", "c2": "vm1", "missing-c": "vm1", "c3": "vm2"})


def snap(dev_lab: Lab) -> Snapshot:
    return Snapshot(dev_lab, "dev", "now")


def test_each_machine_answers_its_own_observations(shell: LocalShell, dev_lab: Lab) -> None:
    s = snap(dev_lab)
    take(
        shell,  # type: ignore[arg-type]
        [
            Observation("host", "host", "echo on the host"),
            Observation("vm1", "vm", "echo on vm1; exit 4"),
            Observation("c1", "container", "echo in c1 >&2"),
        ],
        s,
        "test",
    )
    host, vm, container = (
        s.latest("host", "echo on the host"),
        s.latest("vm1", "echo on vm1; exit 4"),
        s.latest("c1", "echo in c1 >&2"),
    )
    assert host is not None and (host.code, host.out) == (0, "on the host\n")
    assert vm is not None and (vm.code, vm.out) == (4, "on vm1\n")
    assert container is not None and (container.code, container.err) == (0, "in c1\n")


def test_one_round_trip_per_machine_with_its_containers_inside(shell: LocalShell, dev_lab: Lab) -> None:
    take(
        shell,  # type: ignore[arg-type]
        [
            Observation("host", "host", "true"),
            Observation("vm1", "vm", "true"),
            Observation("c1", "container", "true"),
            Observation("c2", "container", "true"),
            Observation("c3", "container", "true"),
        ],
        snap(dev_lab),
        "test",
    )
    assert sorted(shell.scripts, key=str) == sorted([None, "vm1", "vm2"], key=str)


def test_the_same_command_on_the_same_machine_is_run_once(shell: LocalShell, dev_lab: Lab, tmp_path: Path) -> None:
    count = tmp_path / "count"
    command = f"echo x >> {count}"
    take(shell, [Observation("vm1", "vm", command)] * 3, snap(dev_lab), "test")  # type: ignore[arg-type]
    assert count.read_text() == "x\n"


def test_every_machine_is_asked_at_once(shell: LocalShell, dev_lab: Lab) -> None:
    started = time.monotonic()
    round_ = take(
        shell,  # type: ignore[arg-type]
        [Observation(m, "vm", "sleep 1") for m in ("vm1", "vm2", "vm3")] + [Observation("c1", "container", "sleep 1")],
        snap(dev_lab),
        "test",
    )
    assert time.monotonic() - started < 2.5
    assert set(round_.machines) == {"vm1", "vm2", "vm3"}


def test_a_container_that_is_not_there_leaves_lxcs_error(shell: LocalShell, dev_lab: Lab) -> None:
    s = snap(dev_lab)
    take(shell, [Observation("missing-c", "container", "true")], s, "test")  # type: ignore[arg-type]
    seen = s.latest("missing-c", "true")
    assert seen is not None and seen.code == 1 and "Instance not found" in seen.err


def test_a_vm_that_does_not_answer_leaves_sshs_error_on_each_observation(shell: LocalShell, dev_lab: Lab) -> None:
    s = snap(dev_lab)
    take(shell, [Observation("down-vm", "vm", "true"), Observation("down-vm", "vm", "false")], s, "test")  # type: ignore[arg-type]
    for command in ("true", "false"):
        seen = s.latest("down-vm", command)
        assert seen is not None and seen.code == 255 and "Connection refused" in seen.err


def test_every_attempt_is_kept_oldest_first(shell: LocalShell, dev_lab: Lab, tmp_path: Path) -> None:
    s = snap(dev_lab)
    command = f"echo x >> {tmp_path / 'n'}; wc -l < {tmp_path / 'n'}"
    for _ in range(2):
        take(shell, [Observation("vm1", "vm", command)], s, "test")  # type: ignore[arg-type]
    assert [a.out.strip() for a in s.attempts("vm1", command)] == ["1", "2"]
    assert [r.label for r in s.rounds] == ["test", "test"]


def test_a_vms_containers_in_the_vm_lane_run_one_after_another(shell: LocalShell, dev_lab: Lab) -> None:
    s = snap(dev_lab)
    stamp = "sleep 0.5; date +%s.%N"
    take(shell, [Observation(c, "container", stamp, lane=VM_LANE) for c in ("c1", "c2")], s, "test")  # type: ignore[arg-type]
    ends = sorted(float(r.out) for r in (s.latest("c1", stamp), s.latest("c2", stamp)) if r is not None)
    assert len(ends) == 2 and ends[1] - ends[0] >= 0.4


@pytest.mark.parametrize(
    ("ahead", "connected"),
    [
        ([Observation("vm2", "vm", "later")], ["vm2"]),
        ([Observation("c3", "container", "later")], ["vm2"]),
        ([Observation("vm1", "vm", "later"), Observation("c1", "container", "later")], []),
        ([Observation("host", "host", "later")], []),
    ],
    ids=["a-vm-not-asked", "a-container-through-its-tenant", "asked-this-round", "the-hypervisor"],
)
def test_a_vm_a_later_round_reaches_and_this_one_does_not_is_connected_to_meanwhile(
    shell: LocalShell, dev_lab: Lab, ahead: list[Observation], connected: list[str]
) -> None:
    take(shell, [Observation("vm1", "vm", "true")], snap(dev_lab), "test", ahead=ahead)  # type: ignore[arg-type]
    time.sleep(0.2)  # the connection is not waited for
    assert (shell.connected, shell.scripts) == (connected, ["vm1"])
