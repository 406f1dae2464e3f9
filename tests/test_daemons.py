"""Every file of every stack in the repo, checked by the real program that reads it; and the
seed's own mistakes, rejected by those same programs (how docs/seed-deviations.md found them)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import PROJECT, STACKS
from vxlab.base.errors import ConfigError
from vxlab.build.render import render_lab
from vxlab.features.spec import Machine, RenderedFile
from vxlab.model.lab import Lab
from vxlab.validate.load import build_lab, load_lab
from vxlab.verify.daemons import CHECKERS, check_file, missing_programs

pytestmark = pytest.mark.daemons

SEED_FILES = Path(__file__).parent / "seed_files"
LABS = {stack: load_lab(PROJECT, stack) for stack in STACKS}
CASES = [
    pytest.param(stack, m, f, id=f"{stack}/{m.name}:{f.path}")
    for stack, lab in LABS.items()
    for m in render_lab(lab)
    for f in m.files
]


def test_the_checking_programs_are_installed() -> None:
    assert missing_programs(set(CHECKERS)) == []


@pytest.mark.parametrize(("stack", "machine", "rendered"), CASES)
def test_rendered_file_passes_its_daemon(stack: str, machine: Machine, rendered: RenderedFile) -> None:
    verdict = check_file(rendered, machine, LABS[stack])
    assert verdict.ok, verdict.detail


def _tenant(lab: Lab, name: str) -> Machine:
    return next(m for m in render_lab(lab) if m.name == name)


def _with_content(machine: Machine, path: str, content: str) -> tuple[Machine, RenderedFile]:
    rendered = replace(machine.file(path), content=content)
    return machine, rendered


SEED_MISTAKES = [
    # (case id, machine, path in the lab, seed file, what the daemon says)
    (
        "green-keepalived-vrrip-typos",
        "greenTenant",
        "/etc/keepalived/keepalived.conf",
        "green-keepalived.conf",
        "Unknown keyword 'vrrip_script'",
    ),
    (
        "blue-keepalived-misplaced-braces",
        "blueTenant",
        "/etc/keepalived/keepalived.conf",
        "blue-keepalived.conf",
        "Unknown keyword 'rise'",
    ),
    ("rules-v6-missing-commit", "redRouter", "/etc/iptables/rules.v6", "rules.v6", "COMMIT expected"),
]


@pytest.mark.parametrize(
    ("machine_name", "path", "seed_file", "complaint"), [pytest.param(*c[1:], id=c[0]) for c in SEED_MISTAKES]
)
def test_seed_file_is_rejected_by_its_daemon(machine_name: str, path: str, seed_file: str, complaint: str) -> None:
    lab = LABS["dev"]
    machine, rendered = _with_content(_tenant(lab, machine_name), path, (SEED_FILES / seed_file).read_text())
    verdict = check_file(rendered, machine, lab)
    assert not verdict.ok
    assert complaint in verdict.detail


def test_seed_route_tables_file_name_is_not_read_by_iproute2() -> None:
    lab = LABS["dev"]
    router = _tenant(lab, "redRouter")
    seed = RenderedFile("/etc/iproute2/route_tables", (SEED_FILES / "route_tables").read_text(), "rt_tables")
    verdict = check_file(seed, router, lab)
    assert not verdict.ok
    assert '"blue"' in verdict.detail


def test_seed_vni_is_rejected_before_rendering() -> None:
    with pytest.raises(ConfigError, match=r"vxlab:segment\.vni"):
        build_lab({"segment": {"vni": "WhereIsMyTCAM"}})


def test_keepalived_check_rejects_a_missing_script_user_directory_entry() -> None:
    """The check is not blind to keepalived's own SIGTERM: a wrong interface still fails."""
    lab = LABS["dev"]
    machine = _tenant(lab, "greenTenant")
    conf = machine.file("/etc/keepalived/keepalived.conf")
    broken = replace(conf, content=conf.content.replace("interface sw-vlan7", "interface sw-vlan8"))
    verdict = check_file(broken, machine, lab)
    assert not verdict.ok


FAST = build_lab({"vrrp": {"advert_int": 0.1, "check": {"fall": 1, "rise": 2}}})


@pytest.mark.parametrize("tenant", ["blueTenant", "greenTenant"])
def test_the_fast_profile_passes_keepalived(tenant: str) -> None:
    machine = _tenant(FAST, tenant)
    conf = machine.file("/etc/keepalived/keepalived.conf")
    assert "advert_int 0.1\n" in conf.content
    verdict = check_file(conf, machine, FAST)
    assert verdict.ok, verdict.detail


TRACKED = build_lab({"vrrp": {"advert_int": 0.1, "track_uplink": True}})


@pytest.mark.parametrize("tenant", ["blueTenant", "greenTenant"])
def test_uplink_tracking_passes_keepalived(tenant: str) -> None:
    machine = _tenant(TRACKED, tenant)
    conf = machine.file("/etc/keepalived/keepalived.conf")
    assert conf.content.count("    track_interface {\n        enp0s1\n    }\n") == 2  # both instances
    verdict = check_file(conf, machine, TRACKED)
    assert verdict.ok, verdict.detail


def test_keepalived_check_rejects_tracking_a_nic_the_tenant_has_not() -> None:
    machine = _tenant(TRACKED, "greenTenant")
    conf = machine.file("/etc/keepalived/keepalived.conf")
    broken = replace(conf, content=conf.content.replace("        enp0s1\n", "        enp9s9\n"))
    assert not check_file(broken, machine, TRACKED).ok


@pytest.mark.parametrize(
    ("driver", "pool"), [("btrfs", "  driver: btrfs\n  config:\n    size: 6GiB\n"), ("dir", "  driver: dir\n")]
)
def test_the_lxd_pool_is_the_stacks_storage_driver(driver: str, pool: str) -> None:
    lab = build_lab({"lxd": {"storage_driver": driver, "storage_gib": 6}})
    machine = _tenant(lab, "blueTenant")
    preseed = machine.file("/etc/vxlab/lxd-preseed.yaml")
    assert f"- name: default\n{pool}profiles:" in preseed.content
    verdict = check_file(preseed, machine, lab)
    assert verdict.ok, verdict.detail


def test_the_preseed_check_rejects_a_pool_of_another_driver() -> None:
    machine = _tenant(LABS["dev"], "blueTenant")
    preseed = machine.file("/etc/vxlab/lxd-preseed.yaml")
    broken = replace(preseed, content=preseed.content.replace("driver: btrfs", "driver: dir"))
    assert not check_file(broken, machine, LABS["dev"]).ok
