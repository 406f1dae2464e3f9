"""One loading path: a stack file is read, refused or accepted the same way by every verb and by
`pulumi up`, and stacks sharing a hypervisor are checked against each other."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import PROJECT
from vxlab.base import hosts
from vxlab.base.errors import ConfigError
from vxlab.validate.collisions import check_collisions, hypervisor_of
from vxlab.validate.load import build_lab, load_checked, load_lab

# (case id, stack file text, the start of the line that refuses it)
BAD_FILES = [
    ("empty", "", "Pulumi.bad.yaml: empty; fix: "),
    ("only-a-comment", "# group 5\n", "Pulumi.bad.yaml: empty; fix: "),
    ("top-level-list", "- config:\n    vxlab:group: 5\n", "Pulumi.bad.yaml: the top level is a list"),
    ("key-outside-config", "vxlab:group: 5\n", "Pulumi.bad.yaml: vxlab:group: not a stack file key"),
    ("config-is-a-list", "config:\n  - vxlab:group: 5\n", "Pulumi.bad.yaml: config: missing or not a mapping"),
    ("no-group", "config:\n  vxlab:router:\n    ram_mib: 512\n", "Pulumi.bad.yaml: vxlab:group: not stated"),
    (
        "duplicate-top-key",
        "config:\n  vxlab:group: 5\n  vxlab:group: 6\n",
        "Pulumi.bad.yaml: vxlab:group: stated twice (line 3)",
    ),
    (
        "duplicate-nested-key",
        "config:\n  vxlab:group: 5\n  vxlab:router:\n    ram_mib: 512\n    ram_mib: 1024\n",
        "Pulumi.bad.yaml: ram_mib: stated twice (line 5)",
    ),
    (
        "unknown-top-level-key",
        "config:\n  vxlab:group: 5\n  vxlab:tenant: {}\n",
        "Pulumi.bad.yaml: vxlab:tenant: unknown key",
    ),
    ("key-without-namespace", "config:\n  group: 5\n", "Pulumi.bad.yaml: group: config key without a namespace"),
    (
        "lab-data-as-secret",
        "config:\n  vxlab:group: 5\n  vxlab:router:\n    secure: AAAA\n",
        "Pulumi.bad.yaml: vxlab:router: stored as a secret",
    ),
    ("not-yaml", "config:\n  vxlab:group: [5\n", "Pulumi.bad.yaml: not valid YAML"),
]


def project_with(tmp_path: Path, files: dict[str, str]) -> Path:
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for name, text in files.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(("text", "line"), [pytest.param(t, line, id=i) for i, t, line in BAD_FILES])
def test_a_bad_stack_file_is_refused_with_one_line(tmp_path: Path, text: str, line: str) -> None:
    project = project_with(tmp_path, {"bad": text})
    with pytest.raises(ConfigError) as caught:
        load_lab(project, "bad")
    assert caught.value.line().startswith(line)
    assert "\n" not in caught.value.line()


@pytest.mark.parametrize(
    ("stack", "group", "refused"),
    [("group05", 6, True), ("group05", 5, False), ("group5", 5, False), ("class-a", 6, False)],
)
def test_a_file_named_for_a_group_must_hold_that_group(tmp_path: Path, stack: str, group: int, refused: bool) -> None:
    project = project_with(tmp_path, {stack: f"config:\n  vxlab:group: {group}\n"})
    if refused:
        with pytest.raises(ConfigError, match=r"vxlab:group: 6 in Pulumi.group05.yaml, a file named for group 5"):
            load_lab(project, stack)
    else:
        assert load_lab(project, stack).group == group


def test_pulumi_up_and_validate_refuse_with_the_same_line(tmp_path: Path) -> None:
    """The program under mocks and `vxlab validate` read one bad stack file."""
    bad = tmp_path / "Pulumi.group02.yaml"
    bad.write_text("config:\n  vxlab:group: 2\n  vxlab:tenant:\n    blue: {}\n")
    program = subprocess.run(
        [sys.executable, str(PROJECT / "tests" / "mock_program.py"), "group02", f"@{bad}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (tmp_path / "p").mkdir()
    scratch = project_with(tmp_path / "p", {"group02": bad.read_text()})
    cli = subprocess.run(
        [sys.executable, "-m", "vxlab.cli", "validate", "--stack", "group02", "--project", str(scratch)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
    )
    error = json.loads(program.stdout)["error"]
    assert cli.returncode == 2
    assert cli.stderr.strip() == f"vxlab: {error}"
    assert error.startswith("Pulumi.group02.yaml: vxlab:tenant: unknown key")


def test_a_broken_other_stack_stops_the_collision_check_naming_it(tmp_path: Path) -> None:
    project = project_with(
        tmp_path, {"group01": "config:\n  vxlab:group: 1\n", "group02": "config:\n  vxlab:group: [\n"}
    )
    with pytest.raises(ConfigError) as caught:
        load_checked(project, "group01", skip_broken=False)
    line = caught.value.line()
    assert "collisions against it cannot be checked" in line
    assert "Pulumi.group02.yaml" in line and "--skip-broken-stacks" in line


def test_a_broken_other_stack_can_be_skipped_with_a_warning(tmp_path: Path) -> None:
    project = project_with(
        tmp_path, {"group01": "config:\n  vxlab:group: 1\n", "group02": "config:\n  vxlab:group: [\n"}
    )
    warnings: list[str] = []
    assert load_checked(project, "group01", skip_broken=True, warn=warnings.append).group == 1
    assert len(warnings) == 1 and "collisions against stack group02 not checked" in warnings[0]


def lab(group: int, **hypervisor: Any) -> Any:
    return build_lab({"group": group, "hypervisor": hypervisor})


@pytest.mark.parametrize(
    ("first", "second", "key"),
    [
        pytest.param(lab(1), lab(2, uplink="eno2"), "vxlab:hypervisor.uplink", id="one-bridge-two-uplinks"),
        pytest.param(lab(1), lab(2, bridge="dsw-two"), "vxlab:hypervisor.uplink", id="one-uplink-two-bridges"),
        pytest.param(
            lab(1), lab(2, datapath_type="netdev"), "vxlab:hypervisor.datapath_type", id="one-bridge-two-datapaths"
        ),
        pytest.param(
            lab(3),
            lab(3, libvirt_uri="qemu+ssh://root@127.0.0.1/system"),
            "vxlab:upstream.vlan",
            id="same-hypervisor-spelled-over-ssh",
        ),
        pytest.param(
            lab(3), lab(3, libvirt_uri="qemu://localhost/system"), "vxlab:upstream.vlan", id="same-hypervisor-localhost"
        ),
    ],
)
def test_stacks_sharing_a_hypervisor_collide(first: Any, second: Any, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_collisions({"a": first, "b": second})
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            lab(1, bridge="dsw-a", uplink=None), lab(2, bridge="dsw-b", uplink=None), id="two-bridges-no-uplink"
        ),
        pytest.param(
            lab(3),
            lab(3, libvirt_uri="qemu+ssh://root@hv2.example/system", ssh_host="hv2.example"),
            id="another-hypervisor",
        ),
    ],
)
def test_stacks_that_share_nothing_do_not_collide(a: Any, b: Any) -> None:
    check_collisions({"a": a, "b": b})


@pytest.mark.parametrize(
    ("uri", "identity"),
    [
        ("qemu:///system", "qemu://localhost/system"),
        ("qemu+ssh://root@127.0.0.1/system", "qemu://localhost/system"),
        ("qemu+ssh://root@[::1]/system", "qemu://localhost/system"),
        ("qemu+ssh://root@HV2.example/system", "qemu://hv2.example/system"),
        ("qemu:///session", "qemu://localhost/session"),
    ],
)
def test_a_hypervisor_has_one_identity_however_spelled(uri: str, identity: str) -> None:
    host = urlsplit(uri).hostname
    ssh_host = host if host and hosts.canonical(host) != hosts.LOCAL else None
    assert hypervisor_of(lab(0, libvirt_uri=uri, ssh_host=ssh_host)) == identity
