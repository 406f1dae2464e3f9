"""The lab's SSH keeps one connection per VM, and drops it when a fault made it useless: a real
OpenSSH server on loopback stands in for a VM."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.live import remote
from vxlab.live.remote import LabShell
from vxlab.validate.load import load_lab

pytestmark = pytest.mark.skipif(shutil.which("sshd") is None and not Path("/usr/sbin/sshd").exists(), reason="no sshd")

VM = "g39-redRouter"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LabShell]:
    port = _free_port()
    host_key, user_key = tmp_path / "host_key", tmp_path / "user_key"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    (tmp_path / "authorized_keys").write_text((tmp_path / "user_key.pub").read_text())
    config = tmp_path / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {host_key}\nAuthorizedKeysFile {tmp_path}/authorized_keys\n"
        f"StrictModes no\nPermitRootLogin prohibit-password\nPidFile {tmp_path}/sshd.pid\nUsePAM no\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege separation directory
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _listening(port):
            time.sleep(0.1)
        pinned = tmp_path / "known_hosts"
        pinned.write_text(f"[127.0.0.1]:{port} {(tmp_path / 'host_key.pub').read_text()}")
        lab_shell = LabShell(load_lab(PROJECT, "ci"), user_key, pinned)
        monkeypatch.setitem(lab_shell.endpoints, VM, ("127.0.0.1", port))
        lab_shell.sshd_pid = sshd.pid  # type: ignore[attr-defined]
        with lab_shell:
            yield lab_shell
    finally:
        sshd.terminate()
        sshd.wait(timeout=10)


def _kept(shell: LabShell) -> bool:
    return subprocess.run([*shell._ssh_base(VM), "-O", "check", "root@127.0.0.1"], capture_output=True).returncode == 0


def test_a_command_leaves_its_connection_kept_for_the_next(shell: LabShell) -> None:
    assert shell.vm(VM, "true").ok
    assert _kept(shell)


def test_reconnect_ends_the_kept_connection(shell: LabShell) -> None:
    shell.vm(VM, "true")
    shell.reconnect([VM])
    assert not _kept(shell)


def test_after_reconnect_the_next_command_opens_a_new_connection(shell: LabShell) -> None:
    first = shell.vm(VM, "echo $SSH_CLIENT").out.split()[1]
    shell.reconnect([VM])
    assert shell.vm(VM, "echo $SSH_CLIENT").out.split()[1] != first


def _descendants(pid: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [d for c in children for d in (int(c), *_descendants(int(c)))]


def test_a_kept_connection_nobody_answers_is_dropped(shell: LabShell, monkeypatch: pytest.MonkeyPatch) -> None:
    # The lab's bound is a minute (10 s x 6); the same options, at 1 s x 2, keep the test short.
    monkeypatch.setattr(remote, "SERVER_ALIVE_S", 1)
    monkeypatch.setattr(remote, "SERVER_ALIVE_COUNT", 2)
    shell.vm(VM, "true")
    frozen = _descendants(shell.sshd_pid)  # type: ignore[attr-defined]
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        # 1 s x 2 drops it in about 3 s; 20 s of patience for a machine busy with the other
        # pytest worker and a lab (it once took over 10 s there).
        deadline = time.monotonic() + 20
        while _kept(shell) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _kept(shell)
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
