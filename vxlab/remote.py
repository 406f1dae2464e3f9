"""Commands on the lab's VMs (OpenSSH, one kept connection per VM) and containers (lxc exec)."""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vxlab.model import Lab
from vxlab.provision import vm_plans


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0


class LabShell:
    """Reaches every machine of one lab with the lab's SSH key, as root."""

    def __init__(self, lab: Lab, key: Path) -> None:
        self.lab = lab
        self.key = key
        self.endpoints = {p.name: (p.ssh_host, p.ssh_port) for p in vm_plans(lab)}
        self.tenant_of = {c: t.name for t in lab.tenants.values() for c in (t.dhcp_server.name, *t.clients)}
        self._control = tempfile.TemporaryDirectory(prefix="vxlab-ssh-")

    def close(self) -> None:
        for vm, (host, _) in self.endpoints.items():
            subprocess.run([*self._ssh_base(vm), "-O", "exit", f"root@{host}"], capture_output=True, check=False)
        self._control.cleanup()

    def __enter__(self) -> LabShell:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ssh_base(self, vm: str) -> list[str]:
        port = self.endpoints[vm][1]
        return [
            "ssh",
            "-i",
            str(self.key),
            "-p",
            str(port),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=15",
            "-o",
            "ControlMaster=auto",
            "-o",
            "ControlPersist=120",
            "-o",
            f"ControlPath={self._control.name}/{vm}",
        ]

    def vm(self, vm: str, command: str, timeout: float = 120) -> Result:
        host = self.endpoints[vm][0]
        try:
            proc = subprocess.run(
                [*self._ssh_base(vm), f"root@{host}", command],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Result(124, "", f"timed out after {timeout} s")
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def container(self, name: str, command: str, timeout: float = 120) -> Result:
        return self.vm(self.tenant_of[name], f"lxc exec {name} -- sh -c {shlex.quote(command)}", timeout)

    def popen_vm(self, vm: str, command: str) -> subprocess.Popen[str]:
        host = self.endpoints[vm][0]
        return subprocess.Popen(
            [*self._ssh_base(vm), f"root@{host}", command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
