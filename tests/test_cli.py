"""The `vxlab` command as a user runs it: files where the issue says, one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT
from vxlab.build.provision import vm_plans
from vxlab.build.render import render_lab
from vxlab.validate.load import load_lab


def vxlab(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vxlab.cli", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    "path",
    [
        "greenTenant/etc/keepalived/keepalived.conf",
        "host/usr/local/lib/vxlab/vxlab-seed/host-switch.sh",
        "blueDHCP/etc/dhcp/dhcpd.conf",
        "redRouter/etc/iptables/rules.v6",
        "blueC0/etc/network/interfaces",
    ],
)
def test_render_writes_each_file_at_its_path_under_its_machine(tmp_path: Path, path: str) -> None:
    result = vxlab("render", "--stack", "dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / path).is_file()


def test_render_keeps_scripts_executable(tmp_path: Path) -> None:
    vxlab("render", "--stack", "dev", "--out", str(tmp_path))
    assert (tmp_path / "blueTenant/usr/local/bin/keepalived_notify.sh").stat().st_mode & 0o111


def test_group_stack_renders_into_group_machine_folders(tmp_path: Path) -> None:
    vxlab("render", "--stack", "group01", "--out", str(tmp_path))
    assert (tmp_path / "g01-greenTenant/etc/keepalived/keepalived.conf").is_file()


@pytest.mark.daemons
def test_validate_dev_prints_a_verdict_per_file_and_succeeds() -> None:
    result = vxlab("validate", "--stack", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    lab = load_lab(PROJECT, "dev")
    # Every rendered file, and each VM's user-data, network-config and domain stylesheet.
    files = sum(len(m.files) for m in render_lab(lab)) + 3 * len(vm_plans(lab))
    assert result.stdout.count("\nok   ") == files
    assert result.stdout.rstrip().endswith(f"{files} files ok, 0 failed")


def test_bad_config_exits_2_with_one_line_naming_the_key(project_copy: Path) -> None:
    (project_copy / "Pulumi.bad.yaml").write_text(
        "config:\n  vxlab:group: 3\n  vxlab:segment:\n    vni: WhereIsMyTCAM\n"
    )
    result = vxlab("render", "--stack", "bad", "--out", str(project_copy / "out"), cwd=project_copy)
    assert result.returncode == 2
    assert result.stderr.startswith("vxlab: Pulumi.bad.yaml: vxlab:segment.vni: ")
    assert result.stderr.count("\n") == 1
    assert not (project_copy / "out").exists()


def test_colliding_stacks_are_rejected_before_rendering(project_copy: Path) -> None:
    (project_copy / "Pulumi.copy.yaml").write_text("config:\n  vxlab:group: 0\n")
    result = vxlab("render", "--stack", "copy", "--out", str(project_copy / "out"), cwd=project_copy)
    assert result.returncode == 2
    assert "collides with" in result.stderr and "Traceback" not in result.stderr


def test_unknown_stack_names_the_known_ones(project_copy: Path) -> None:
    result = vxlab("validate", "--stack", "nope", cwd=project_copy)
    assert result.returncode == 2
    assert "use one of the project's stacks (dev)" in result.stderr


def test_invalid_yaml_is_a_one_line_error(project_copy: Path) -> None:
    (project_copy / "Pulumi.broken.yaml").write_text("config:\n  vxlab:group: [1\n")
    result = vxlab("validate", "--stack", "broken", cwd=project_copy)
    assert result.returncode == 2
    assert "Pulumi.broken.yaml: not valid YAML" in result.stderr


def test_config_reference_in_docs_is_current() -> None:
    from vxlab.artifacts.configdoc import config_reference

    assert (PROJECT / "docs" / "config-keys.md").read_text() == config_reference()


def test_a_stack_file_rewritten_by_pulumi_still_loads(project_copy: Path) -> None:
    """`pulumi config set` rewrites the file with scalars quoted; the program reads them as JSON."""
    (project_copy / "Pulumi.quoted.yaml").write_text('config:\n  vxlab:group: "7"\n')
    result = vxlab("render", "--stack", "quoted", "--out", str(project_copy / "out"), cwd=project_copy)
    assert result.returncode == 0, result.stderr
    assert (project_copy / "out" / "g07-redRouter").is_dir()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda out: out.write_text("x"), "is a file, not a folder", id="out-is-a-file"),
        pytest.param(
            lambda out: (out.mkdir(), (out / "notes.txt").write_text("x")), "is not empty", id="out-not-empty"
        ),
        pytest.param(lambda out: out.parent.joinpath("file").write_text("x"), "is a file, so", id="parent-is-a-file"),
    ],
)
def test_render_refuses_an_unusable_out_with_one_line(tmp_path: Path, make: Any, message: str) -> None:
    out = tmp_path / "out"
    make(out)
    target = tmp_path / "file" / "out" if message == "is a file, so" else out
    result = vxlab("render", "--stack", "dev", "--out", str(target))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_render_refuses_an_unwritable_out(tmp_path: Path) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    result = subprocess.run(
        [
            *("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "vxlab.cli"),
            *("render", "--stack", "dev", "--project", str(PROJECT), "--out", str(out / "x")),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert result.returncode == 2, result.stderr
    assert "cannot write into" in result.stderr and "Traceback" not in result.stderr


def test_render_with_force_writes_into_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = vxlab("render", "--stack", "dev", "--out", str(tmp_path), "--force")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "greenTenant" / "etc" / "radvd.conf").is_file()


def test_diagram_refuses_an_unknown_suffix_naming_out(tmp_path: Path) -> None:
    result = vxlab("diagram", "--stack", "dev", "--out", str(tmp_path / "topology.jpg"))
    assert (result.returncode, result.stderr.startswith("vxlab: --out: ")) == (2, True)


@pytest.mark.parametrize("suffix", ["svg", "png", "gv"])
def test_diagram_writes_the_format_its_suffix_names(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"topology.{suffix}"
    assert vxlab("diagram", "--stack", "group01", "--out", str(out)).returncode == 0
    assert out.stat().st_size > 1000


@pytest.mark.parametrize("name", ["handout.html", "diagram.svg", "diagram.png"])
def test_handout_without_pdf_writes_the_page_and_the_diagram(tmp_path: Path, name: str) -> None:
    assert vxlab("handout", "--stack", "dev", "--out", str(tmp_path), "--no-pdf").returncode == 0
    assert (tmp_path / name).is_file()


def test_handout_refuses_a_non_empty_folder_without_force(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = vxlab("handout", "--stack", "dev", "--out", str(tmp_path), "--no-pdf")
    assert (result.returncode, "--out" in result.stderr, (tmp_path / "handout.html").exists()) == (2, True, False)
