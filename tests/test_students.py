"""The scripted students of `vxlab e2e lab`, and what catch-up says it takes over from them."""

from __future__ import annotations

import subprocess

import pytest

from vxlab.build.render import render_lab
from vxlab.engine.students import student_script
from vxlab.live.remote import Result
from vxlab.live.students import _sha, students_work
from vxlab.model.lab import Color, Lab
from vxlab.validate.load import build_lab


@pytest.fixture(scope="module")
def lab() -> Lab:
    return build_lab({"group": 0})


@pytest.mark.parametrize("color", ["blue", "green"])
def test_a_students_script_is_valid_bash(lab: Lab, color: Color) -> None:
    subprocess.run(["bash", "-n"], input=student_script(lab, lab.tenants[color]), text=True, check=True)


@pytest.mark.parametrize("color", ["blue", "green"])
def test_a_student_writes_no_line_of_vxlabs_interfaces_file_layout(lab: Lab, color: Color) -> None:
    """Their own style: the address with a netmask, not vxlab's prefix length, and no `source`."""
    script = student_script(lab, lab.tenants[color])
    tenant = lab.tenants[color]
    assert f"netmask {tenant.svi_ipv4.netmask}" in script
    assert f"address {tenant.svi_ipv4}" not in script
    assert "source /etc/network/interfaces.d" not in script


@pytest.mark.parametrize("color", ["blue", "green"])
def test_a_student_states_the_groups_values(lab: Lab, color: Color) -> None:
    t = lab.tenants[color]
    script = student_script(lab, t)
    assert all(str(v) in script for v in (t.svi_ipv4.ip, t.svi_ll, lab.segment.vni, t.vrrp_priority, lab.vrrp.vip6))


class FakeShell:
    def __init__(self, files: dict[str, str], containers: list[str]) -> None:
        self.files, self.containers = files, containers

    def vm(self, vm: str, command: str, timeout: float = 120) -> Result:
        if command.startswith("lxc list"):
            return Result(0, "\n".join(self.containers) + "\n", "")
        return Result(0, "".join(f"{_sha(text)}  {path}\n" for path, text in self.files.items()), "")


def test_catch_up_names_each_file_it_replaces_and_each_container_it_keeps(lab: Lab) -> None:
    machines = {m.name: m for m in render_lab(lab)}
    blue = lab.tenants["blue"]
    ours = machines[blue.name].file("/etc/radvd.conf").content
    shell = FakeShell(
        {"/etc/radvd.conf": ours, "/etc/keepalived/keepalived.conf": "# mine\n"}, [blue.dhcp_server.name, "other"]
    )
    lines = students_work(shell, lab, machines, [blue.name])  # type: ignore[arg-type]
    assert lines == [
        f"{blue.name}: replaces /etc/keepalived/keepalived.conf, not vxlab's "
        "(kept as /etc/keepalived/keepalived.conf.vxlab-orig)",
        f"{blue.name}: keeps the students' container {blue.dhcp_server.name} as {blue.dhcp_server.name}-student, "
        "stopped",
    ]
