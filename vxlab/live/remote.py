"""Commands on the lab's VMs (OpenSSH, one kept connection per VM) and containers (lxc exec)."""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from vxlab.base.errors import ConfigError
from vxlab.build.provision import seed_folder, vm_plans
from vxlab.model.lab import Lab


def pinned_host_keys(lab: Lab, known_hosts: Path | None = None) -> str:
    """The VMs' pinned host keys: the file given, or what `pulumi up` pinned on this machine."""
    if known_hosts is not None:
        try:
            return known_hosts.read_text()
        except OSError as exc:
            raise ConfigError(
                "--known-hosts", f"cannot read {known_hosts} ({exc.strerror})", "name a readable file"
            ) from None
    folder = Path(seed_folder(lab))
    pinned = "".join(p.read_text() for p in sorted(folder.glob("*.known_hosts")))
    if not pinned:
        raise ConfigError(
            "--known-hosts",
            f"no pinned host key of the lab's VMs in {folder}",
            "run it where `pulumi up` ran, or pass --known-hosts FILE (scripts/pulumi stack output known_hosts > FILE)",
        )
    return pinned


def _uri_params(lab: Lab) -> dict[str, str]:
    """The libvirt URI's query, `?keyfile=…&knownhosts=…`, one value per name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(lab.hypervisor.libvirt_uri).query).items()}


def hypervisor_ssh_options(lab: Lab) -> list[str]:
    """How to reach a remote hypervisor as the libvirt URI says (its `keyfile` and `knownhosts`,
    the libvirt provider's spellings), so the engine and vxlab trust the same host key."""
    params = _uri_params(lab)
    options = ["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=15"]
    if "keyfile" in params:
        options += ["-i", params["keyfile"]]
    if "knownhosts" in params:
        options += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={params['knownhosts']}"]
    return options


def hypervisor_host_key(lab: Lab) -> str | None:
    """The remote hypervisor's host key (TYPE BASE64) from the URI's `knownhosts` file, so the
    engine's SSH to it trusts that key only; None when the URI names no such file."""
    known = _uri_params(lab).get("knownhosts")
    if lab.hypervisor.ssh_host is None or known is None:
        return None
    path = Path(known)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(
            "vxlab:hypervisor.libvirt_uri",
            f"cannot read its knownhosts file {path} ({exc.strerror})",
            "name the known_hosts file that holds the hypervisor's host key",
        ) from None
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and lab.hypervisor.ssh_host in fields[0].split(","):
            return f"{fields[1]} {fields[2]}"
    raise ConfigError(
        "vxlab:hypervisor.libvirt_uri",
        f"its knownhosts file {path} has no key for {lab.hypervisor.ssh_host}",
        f"add the line `{lab.hypervisor.ssh_host} TYPE KEY` (ssh-keyscan {lab.hypervisor.ssh_host})",
    )


SERVER_ALIVE_S = 10
SERVER_ALIVE_COUNT = 6


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def reason(self) -> str:
        """Why it failed, on one line: its error's last line (a traceback's exception, a
        daemon's complaint), or nothing."""
        return (self.err.strip().splitlines() or [""])[-1].strip()


class LabShell:
    """Reaches every machine of one lab with the lab's SSH key, as root, trusting only the host
    keys `pulumi up` pinned."""

    def __init__(self, lab: Lab, key: Path, known_hosts: Path | None = None) -> None:
        self.lab = lab
        self.key = key
        self.endpoints = {p.name: (p.ssh_host, p.ssh_port) for p in vm_plans(lab)}
        self.tenant_of = lab.tenant_of()
        self._control = tempfile.TemporaryDirectory(prefix="vxlab-ssh-")
        self.known_hosts = Path(self._control.name) / "known_hosts"
        self.known_hosts.write_text(pinned_host_keys(lab, known_hosts))

    def close(self) -> None:
        self.reconnect(list(self.endpoints))
        self._control.cleanup()

    def reconnect(self, vms: list[str]) -> None:
        """Ends the kept connections to `vms`, so the next command opens a new one. Called once a
        fault killed a VM or cut the path to it: a kept connection whose TCP segments went
        unanswered backs its retransmissions off (0.2 s doubling to 2 min), so after a router
        crash of a minute its next segment could leave 100 s after the path was back, and every
        command sent through it waited that long (CI: a group's containers read as cut off 110 s
        after they carried traffic again)."""
        for vm in vms:
            host = self.endpoints[vm][0]
            subprocess.run([*self._ssh_base(vm), "-O", "exit", f"root@{host}"], capture_output=True, check=False)

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
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "HostKeyAlgorithms=ssh-ed25519",
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
            # A kept connection nobody answers for a minute is dropped, not waited on: a fault
            # vxlab did not make can also leave one behind (a guest stalled under TCG load
            # held a command for up to 19 s, measured with two groups graded at once).
            "-o",
            f"ServerAliveInterval={SERVER_ALIVE_S}",
            "-o",
            f"ServerAliveCountMax={SERVER_ALIVE_COUNT}",
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

    def connect(self, vm: str) -> None:
        """Opens the kept connection to `vm` (what any command to it does first), nothing run."""
        self.vm(vm, "true", timeout=SERVER_ALIVE_S * SERVER_ALIVE_COUNT)

    def host(self, command: str, timeout: float = 120) -> Result:
        """A command on the hypervisor: this machine, or `hypervisor.ssh_host` as root."""
        ssh_host = self.lab.hypervisor.ssh_host
        argv = (
            ["sh", "-c", command]
            if ssh_host is None
            else ["ssh", *hypervisor_ssh_options(self.lab), f"root@{ssh_host}", command]
        )
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return Result(124, "", f"timed out after {timeout} s")
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def popen_host(self, command: str) -> subprocess.Popen[str]:
        """A long-running command on the hypervisor, its stdin and stdout piped."""
        ssh_host = self.lab.hypervisor.ssh_host
        argv = (
            ["sh", "-c", command]
            if ssh_host is None
            else ["ssh", *hypervisor_ssh_options(self.lab), f"root@{ssh_host}", command]
        )
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # one process group: stopping it stops what `sh` started
        )

    def script(self, vm: str | None, script: str, timeout: float) -> tuple[int, bytes, str]:
        """A shell script fed to `sh -s` on a VM, or on the hypervisor when `vm` is None: its
        exit status, its stdout as bytes (framed results, vxlab.live.framing) and its stderr."""
        if vm is None:
            ssh_host = self.lab.hypervisor.ssh_host
            argv = (
                ["sh", "-s"]
                if ssh_host is None
                else ["ssh", *hypervisor_ssh_options(self.lab), f"root@{ssh_host}", "sh -s"]
            )
        else:
            argv = [*self._ssh_base(vm), f"root@{self.endpoints[vm][0]}", "sh -s"]
        try:
            proc = subprocess.run(argv, input=script.encode(), capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            return 124, exc.stdout or b"", f"timed out after {timeout:.0f} s"
        return proc.returncode, proc.stdout, proc.stderr.decode(errors="replace")

    def container(self, name: str, command: str, timeout: float = 120) -> Result:
        return self.vm(self.tenant_of[name], f"lxc exec {name} -- sh -c {shlex.quote(command)}", timeout)

    def on(self, machine: str, command: str, timeout: float = 120) -> Result:
        """A command on `machine`: "host" (the hypervisor), a VM or a container, by its name."""
        if machine == "host":
            return self.host(command, timeout)
        if machine in self.endpoints:
            return self.vm(machine, command, timeout)
        return self.container(machine, command, timeout)

    def popen_vm(self, vm: str, command: str) -> subprocess.Popen[str]:
        host = self.endpoints[vm][0]
        return subprocess.Popen(
            [*self._ssh_base(vm), f"root@{host}", command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
