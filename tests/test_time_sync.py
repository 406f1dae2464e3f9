"""Time sync, the feature added through the registry: its files checked by chronyd, its check's
judge on `chronyc -n sources` as chrony 4.3 prints it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.build.render import render_lab
from vxlab.features.spec import RenderedFile
from vxlab.features.time_sync import CHRONY_CONF, follows
from vxlab.live.checks import lab_checks
from vxlab.validate.load import load_lab
from vxlab.verify.daemons import check_file

HEADER = (
    "MS Name/IP address         Stratum Poll Reach LastRx Last sample\n"
    "===============================================================================\n"
)


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("^* 172.16.220.1                 10   4   377     5    +12us[  +20us] +/-  150us", True),
        ("^+ 172.16.220.1                 10   4    17     5    +12us[  +20us] +/-  150us", True),
        ("^* 172.16.220.1                 10   4     0     -     +0ns[   +0ns] +/-    0ns", False),
        ("^? 172.16.220.1                  0   4     0     -     +0ns[   +0ns] +/-    0ns", False),
        ("^~ 172.16.220.1                 10   4   377     5    +12ms[  +20ms] +/-  150ms", False),
        ("^x 172.16.220.1                 10   4   377     5    +12us[  +20us] +/-  150us", False),
        ("^* 172.16.220.11                10   4   377     5    +12us[  +20us] +/-  150us", False),
        ("", False),
    ],
    ids=["selected", "combined", "never-reached", "unreachable", "too-variable", "falseticker", "other-host", "none"],
)
def test_a_tenant_follows_the_router_when_it_selects_a_reached_source(line: str, ok: bool) -> None:
    assert (follows("172.16.220.1")(HEADER + line + "\n")[0] == "done") is ok


@pytest.mark.parametrize("machine", ["redRouter", "blueTenant", "greenTenant"])
def test_every_vm_gets_a_chrony_conf(machine: str) -> None:
    rendered = next(m for m in render_lab(load_lab(PROJECT, "dev")) if m.name == machine)
    assert rendered.file(CHRONY_CONF).kind == "chrony"


@pytest.mark.parametrize("tenant", ["blueTenant", "greenTenant"])
def test_a_tenant_s_clock_is_checked_against_the_router_on_its_link(tenant: str) -> None:
    lab = load_lab(PROJECT, "dev")
    t = next(t for t in lab.tenants.values() if t.name == tenant)
    check = next(c for c in lab_checks(lab) if c.machine == tenant and c.command == "chronyc -n sources")
    assert check.expect.startswith(f"^* {t.router_ipv4.ip} ")


@pytest.mark.daemons
@pytest.mark.parametrize(
    "content",
    ["server\n", "local stratum 10\nbogus directive\n", "allow\nmakestep one 3\n"],
    ids=["server-without-host", "unknown-directive", "makestep-not-a-number"],
)
def test_chronyd_refuses_a_broken_conf(content: str, tmp_path: Path) -> None:
    lab = load_lab(PROJECT, "dev")
    router = next(m for m in render_lab(lab) if m.name == "redRouter")
    assert not check_file(RenderedFile(CHRONY_CONF, content, "chrony"), router, lab).ok


@pytest.mark.daemons
def test_chronyd_accepts_the_router_s_conf() -> None:
    lab = load_lab(PROJECT, "dev")
    router = next(m for m in render_lab(lab) if m.name == "redRouter")
    assert check_file(router.file(CHRONY_CONF), router, lab).ok
