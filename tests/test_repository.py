"""What the repository itself may hold."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT

# A key's armour followed by its base64 body (a placeholder such as the mocks' is no key).
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\n[A-Za-z0-9+/=]{40,}")


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    return [f for f in out.split("\0") if f]


def test_no_private_key_is_tracked() -> None:
    holding = [
        f
        for f in tracked_files()
        if (PROJECT / f).is_file() and PRIVATE_KEY.search((PROJECT / f).read_text(errors="replace"))
    ]
    assert holding == []


def test_the_key_pattern_finds_a_real_openssh_key(tmp_path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    assert PRIVATE_KEY.search((tmp_path / "k").read_text())


def test_the_key_pattern_passes_over_the_mocks_placeholder() -> None:
    assert not PRIVATE_KEY.search((PROJECT / "tests" / "mock_program.py").read_text())


@pytest.mark.parametrize("name", ["key", "key.pub", "id_ed25519", "lab.pem", "client.key"])
def test_key_files_are_ignored(name: str) -> None:
    assert subprocess.run(["git", "check-ignore", "-q", name], cwd=PROJECT, check=False).returncode == 0


def test_the_installed_lxd_sdk_is_what_pulumi_generates(tmp_path: Path) -> None:
    """sdks/lxd, made by scripts/setup, is Pulumi's own generator's output for the pinned versions."""
    subprocess.run([str(PROJECT / "scripts" / "gen-lxd-sdk"), str(tmp_path / "lxd")], check=True, capture_output=True)
    diff = subprocess.run(
        [
            "diff",
            "-r",
            "-x",
            "__pycache__",
            "-x",
            "*.egg-info",
            "-x",
            "build",
            "-x",
            ".vxlab-generated",
            str(tmp_path / "lxd"),
            str(PROJECT / "sdks" / "lxd"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert diff.stdout == ""


def test_generated_sdks_are_not_committed() -> None:
    tracked = subprocess.run(["git", "ls-files", "sdks"], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert tracked.stdout == ""


def test_pulumi_yaml_names_the_lxd_package_setup_generates() -> None:
    """`pulumi install` reads Pulumi.yaml's entry, scripts/setup reads scripts/versions.env: the same package."""
    pinned = dict(
        line.split("=", 1) for line in (PROJECT / "scripts" / "versions.env").read_text().splitlines() if "=" in line
    )
    entry = yaml.safe_load((PROJECT / "Pulumi.yaml").read_text())["packages"]["lxd"]
    assert (entry["source"], entry["version"], entry["parameters"]) == (
        "terraform-provider",
        pinned["TERRAFORM_PROVIDER_VERSION"],
        [pinned["LXD_PROVIDER_SOURCE"], pinned["LXD_PROVIDER_VERSION"]],
    )
