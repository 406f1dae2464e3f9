"""A hypervisor reached over SSH: the URI a command on it uses, how vxlab reaches it, which host
key the engine trusts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.base.errors import ConfigError
from vxlab.live.remote import hypervisor_host_key, hypervisor_ssh_options
from vxlab.model.lab import Lab
from vxlab.model.topology import uri_on_hypervisor
from vxlab.validate.load import load_lab

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ4bGFiIGV4YW1wbGUga2V5OiBub3QgZm9yIHVzZSEh"


def remote(uri: str, ssh_host: str | None = "127.0.0.1") -> Lab:
    lab = load_lab(PROJECT, "ci")
    hv = lab.hypervisor.model_copy(update={"libvirt_uri": uri, "ssh_host": ssh_host})
    return lab.model_copy(update={"hypervisor": hv})


@pytest.mark.parametrize(
    ("uri", "ssh_host", "there"),
    [
        ("qemu:///system", None, "qemu:///system"),
        ("qemu+ssh://root@127.0.0.1/system", "127.0.0.1", "qemu:///system"),
        ("qemu+ssh://root@hv1/system?keyfile=/k&knownhosts=/kh", "hv1", "qemu:///system"),
        ("qemu+ssh://root@hv1/session", "hv1", "qemu:///session"),
    ],
)
def test_a_command_on_the_hypervisor_uses_its_local_uri(uri: str, ssh_host: str | None, there: str) -> None:
    assert uri_on_hypervisor(remote(uri, ssh_host)) == there


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("qemu+ssh://root@hv1/system?keyfile=/run/k", ["-i", "/run/k"]),
        (
            "qemu+ssh://root@hv1/system?knownhosts=/run/kh",
            ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/run/kh"],
        ),
        ("qemu+ssh://root@hv1/system", []),
    ],
)
def test_vxlab_reaches_the_hypervisor_as_the_uri_says(uri: str, expected: list[str]) -> None:
    assert hypervisor_ssh_options(remote(uri, "hv1"))[6:] == expected


def test_the_engine_trusts_the_host_key_the_uri_pins(tmp_path: Path) -> None:
    (tmp_path / "kh").write_text(f"other {KEY}\n127.0.0.1 {KEY} comment\n")
    lab = remote(f"qemu+ssh://root@127.0.0.1/system?knownhosts={tmp_path}/kh")
    assert hypervisor_host_key(lab) == KEY


def test_a_local_hypervisor_pins_no_host_key() -> None:
    assert hypervisor_host_key(load_lab(PROJECT, "ci")) is None


@pytest.mark.parametrize("content", [None, f"hv9 {KEY}\n"])
def test_a_knownhosts_file_without_the_key_is_refused_naming_the_uri(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "kh").write_text(content)
    lab = remote(f"qemu+ssh://root@127.0.0.1/system?knownhosts={tmp_path}/kh")
    with pytest.raises(ConfigError, match=r"vxlab:hypervisor\.libvirt_uri"):
        hypervisor_host_key(lab)
