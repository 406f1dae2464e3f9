"""Stack secrets: encrypted with a passphrase nobody else can read, never copied into scratch
projects."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PROJECT, STACKS


def pulumi_version(passphrase_file: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_CONFIG_PASSPHRASE")}
    env["VXLAB_PASSPHRASE_FILE"] = str(passphrase_file)
    return subprocess.run(
        [str(PROJECT / "scripts" / "pulumi"), "version"], capture_output=True, text=True, check=True, env=env
    )


def test_without_a_passphrase_a_random_one_is_made_readable_by_its_owner_only(tmp_path: Path) -> None:
    passphrase = tmp_path / "pulumi" / "passphrase"
    result = pulumi_version(passphrase)
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    assert len(passphrase.read_text().strip()) >= 40  # 32 random bytes, base64
    assert str(passphrase) in result.stderr


def test_the_passphrase_is_kept_once_made(tmp_path: Path) -> None:
    passphrase = tmp_path / "passphrase"
    pulumi_version(passphrase)
    first = passphrase.read_text()
    second_run = pulumi_version(passphrase)
    assert passphrase.read_text() == first
    assert "passphrase" not in second_run.stderr


def test_a_scratch_project_gets_no_salt_and_no_secret_of_the_checkout(tmp_path: Path) -> None:
    from vxlab.engine.e2e import scratch_project

    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "Pulumi.yaml").write_text("name: vxlab\n")
    (checkout / "Pulumi.ci.yaml").write_text(
        "encryptionsalt: v1:abc\nconfig:\n  vxlab:group: 39\n  vxlab:ssh_private_key:\n    secure: v1:xyz\n"
        "  vxlab:lab_user:\n    name: etu\n"
    )
    scratch_project(checkout, tmp_path / "scratch")
    copied = (tmp_path / "scratch" / "Pulumi.ci.yaml").read_text()
    assert copied == "config:\n  vxlab:group: 39\n  vxlab:lab_user:\n    name: etu\n"


def test_the_labs_ssh_trusts_only_the_pinned_host_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vxlab.live.remote import LabShell
    from vxlab.validate.load import load_lab

    monkeypatch.setenv("HOME", str(tmp_path))
    lab = load_lab(PROJECT, "ci")
    pinned = tmp_path / ".cache" / "vxlab" / "cloud-init" / "vxlab-g39"
    pinned.mkdir(parents=True)
    (pinned / "g39-redRouter.known_hosts").write_text("[127.0.0.1]:23900 ssh-ed25519 AAAA\n")
    with LabShell(lab, tmp_path / "key") as shell:
        options = shell._ssh_base("g39-redRouter")
        assert "StrictHostKeyChecking=yes" in options and "HostKeyAlgorithms=ssh-ed25519" in options
        assert shell.known_hosts.read_text() == "[127.0.0.1]:23900 ssh-ed25519 AAAA\n"


def test_without_pinned_host_keys_the_lab_ssh_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vxlab.base.errors import ConfigError
    from vxlab.live.remote import pinned_host_keys
    from vxlab.validate.load import load_lab

    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no pinned host key of the lab's VMs"):
        pinned_host_keys(load_lab(PROJECT, "ci"))


@pytest.mark.parametrize("stack", STACKS)
def test_a_stack_file_in_the_repository_holds_no_secret_of_a_machine(stack: str) -> None:
    # A secret is encrypted under one machine's passphrase: a clone elsewhere cannot read it,
    # and the lab key it holds belongs to that machine only (`scripts/lab-up` sets it there).
    text = (PROJECT / f"Pulumi.{stack}.yaml").read_text()
    assert "secure:" not in text and "encryptionsalt:" not in text
