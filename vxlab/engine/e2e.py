"""What the end-to-end runs share (`vxlab e2e lab`, `vxlab e2e class`): a report with timings,
a scratch copy of the project with its own state, key and passphrase, the engine and the
`vxlab` verbs run in it, stack state read through the Automation API, and the residue a
destroyed lab must not leave, every name taken from the model."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vxlab.build.provision import seed_folder
from vxlab.engine import automation
from vxlab.live.drill_report import summary_lines_of
from vxlab.model.lab import Lab
from vxlab.model.naming import stack_label
from vxlab.model.topology import host_dir, host_ports

# The stack files' lines a scratch copy leaves out: the checkout's salt and secrets (scripts/lab-up
# writes them) belong to its own passphrase; the scratch stack makes its own.
_SECRET_LINES = re.compile(r"^(encryptionsalt|encryptedkey|secretsprovider):")
_SECRET_KEY = "  vxlab:ssh_private_key:"
# What runs write into the project stays in the scratch copy.
_NOT_LINKED = {"handouts", "out"}


class Failed(Exception):
    """A step of a run failed; the message says which and why, for the report."""


class Report:
    """A run's report file: each line printed and kept, with the run's name in front."""

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def say(self, line: str) -> None:
        text = f"{self.name}: {line}"
        print(text, file=sys.stderr, flush=True)
        with self.path.open("a") as out:
            out.write(text + "\n")

    @contextmanager
    def timed(self, label: str) -> Iterator[None]:
        """The step's wall time into the report, whether it passed or failed."""
        started = time.monotonic()
        try:
            yield
        finally:
            self.say(f"{label}: {int(time.monotonic() - started)} s")


def tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace").splitlines() if path.is_file() else []
    return "\n".join(text[-lines:])


def run(
    command: Sequence[str],
    *,
    log: Path | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; its output goes to `log` when given (else it is returned). A failure the
    caller does not expect raises Failed with the log's last lines."""
    full_env = {**os.environ, **(env or {})}
    if log is None:
        done = subprocess.run(
            list(command), cwd=cwd, env=full_env, input=stdin, capture_output=True, text=True, check=False
        )
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as out:
            done = subprocess.run(
                list(command),
                cwd=cwd,
                env=full_env,
                input=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
    if check and done.returncode != 0:
        said = tail(log) if log else (done.stdout + done.stderr).strip()[-3000:]
        raise Failed(f"{' '.join(command[:4])} … exited {done.returncode}\n{said}")
    return done


def scratch_project(root: Path, dest: Path) -> None:
    """A scratch copy of the project in `dest`: the stack files copied without the checkout's
    salt and secrets (Pulumi writes the scratch stack's own into them), everything else linked."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in _NOT_LINKED:
            continue
        if re.fullmatch(r"Pulumi\..+\.yaml", entry.name):
            (dest / entry.name).write_text(without_secrets(entry.read_text()))
        else:
            (dest / entry.name).symlink_to(entry)


def without_secrets(stack_file: str) -> str:
    """A stack file without its salt, encrypted key, secrets provider and the lab's private key
    (from its key line to its `secure:` line)."""
    out, in_key = [], False
    for line in stack_file.splitlines(keepends=True):
        if in_key:
            in_key = not line.startswith("    secure:")
        elif line.startswith(_SECRET_KEY):
            in_key = True
        elif not _SECRET_LINES.match(line):
            out.append(line)
    return "".join(out)


@dataclass
class Scratch:
    """One run's scratch project: its state, its SSH key, its passphrase, and the engine, the
    `vxlab` verbs and the Automation API pointed at them."""

    root: Path  # the checkout
    dir: Path  # the run's folder

    @property
    def project(self) -> Path:
        return self.dir / "project"

    @property
    def key(self) -> Path:
        return self.dir / "key"

    @property
    def env(self) -> dict[str, str]:
        return {
            "PULUMI_BACKEND_URL": f"file://{self.dir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": f"vxlab-{self.dir.name}",
        }

    def make(self) -> None:
        shutil.rmtree(self.dir / "state", ignore_errors=True)
        (self.dir / "state").mkdir(parents=True)
        scratch_project(self.root, self.project)
        for path in (self.key, self.key.with_suffix(".pub")):
            path.unlink(missing_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"vxlab-{self.dir.name}", "-f", str(self.key)])
        os.environ.update(self.env)  # the verbs, the scripts and the Automation API all read them

    def pulumi(
        self,
        *args: str,
        stack: str | None = None,
        log: Path | None = None,
        check: bool = True,
        stdin: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        stack_args = ["--stack", stack] if stack else []
        return run(
            [str(self.root / "scripts" / "pulumi"), *args, *stack_args, "--non-interactive"],
            log=log,
            cwd=self.project,
            check=check,
            stdin=stdin,
        )

    def _verb(self, args: Sequence[str], stack: str | None) -> list[str]:
        stack_args = ["--stack", stack] if stack else []
        return [str(self.root / "venv" / "bin" / "vxlab"), *args, *stack_args, "--project", str(self.project)]

    def vxlab(
        self, *args: str, stack: str | None = None, log: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(self._verb(args, stack), log=log, check=check)

    def verb(self, *args: str, stack: str | None = None, stderr_log: Path) -> subprocess.CompletedProcess[str]:
        """A `vxlab` verb whose stdout is its result (JSON) and whose progress goes to a file."""
        with stderr_log.open("w") as progress:
            return subprocess.run(
                self._verb(args, stack), stdout=subprocess.PIPE, stderr=progress, text=True, check=False
            )

    def new_stack(self, stack: str) -> None:
        """The stack made in the scratch project, with the run's key as the lab's."""
        automation.ensure_key(automation.select(self.project, stack, self._engine(), create=True), self.key)

    def set_private_key(self, stack: str) -> None:
        """The stack made with the run's key as its secret, nothing else changed."""
        self.pulumi("stack", "select", "--create", stack)
        self.pulumi("config", "set", "--secret", "vxlab:ssh_private_key", stack=stack, stdin=self.key.read_text())

    def outputs(self, stack: str) -> dict[str, Any]:
        """The stack's outputs, read through the Automation API."""
        return {k: v.value for k, v in automation.select(self.project, stack, self._engine()).outputs().items()}

    def _engine(self) -> dict[str, str]:
        # The checkout's engine (the scratch copy links its scripts), on the run's state.
        return {**automation.engine_env(self.root), **self.env}


def host_ready(root: Path, report: Report) -> None:
    """What every stack on this machine shares: the images and the hypervisor services."""
    with report.timed("images"):
        run([str(root / "scripts" / "build-images")], log=root / "out" / "e2e-build-images.log")
    with report.timed("hypervisor services"):
        run([str(root / "scripts" / "lab-host"), "up"])


def host_down(root: Path) -> None:
    run([str(root / "scripts" / "lab-host"), "down"], check=False)


def touched(preview: dict[str, Any]) -> list[str]:
    """The names of the resources a `pulumi preview --json` would change."""
    return sorted(s["urn"].rsplit("::", 1)[1] for s in preview["steps"] if s["op"] not in ("same", "read", "refresh"))


@dataclass(frozen=True)
class Leftovers:
    """Where a group's lab leaves traces on the hypervisor, named from its model."""

    domains: tuple[str, ...]
    pool: str
    master: str
    label: str
    taps: tuple[str, ...]
    netns: str | None
    folders: tuple[str, ...]


def leftovers(lab: Lab) -> Leftovers:
    return Leftovers(
        domains=(lab.router.name, *(t.name for t in lab.tenants.values())),
        pool=lab.images.pool,
        master=lab.images.master,
        label=stack_label(lab.group),
        taps=tuple(p.tap for p in host_ports(lab)),
        netns=lab.hypervisor.svi_netns,
        folders=(host_dir(lab), seed_folder(lab)),
    )


def residue(labs: Sequence[Lab]) -> list[str]:
    """What is left on this machine of these labs: domains, volumes, bridge ports, taps,
    namespaces, folders, relays. Empty once they are destroyed."""
    found: list[str] = []
    domains = set(_lines(["virsh", "list", "--all", "--name"]))
    links = " ".join(_lines(["ip", "-o", "link", "show"]))
    traces = [leftovers(lab) for lab in labs]
    for left in traces:
        found += sorted(domains & set(left.domains))
        found += [
            f"port {p}"
            for p in _lines(
                ["ovs-vsctl", "--bare", "--columns=name", "find", "Port", f"external_ids:vxlab={left.label}"]
            )
        ]
        found += [f"tap {t}" for t in left.taps if re.search(rf"\b{re.escape(t)}[:@]", links)]
        if left.netns and Path("/run/netns", left.netns).exists():
            found.append(f"netns {left.netns}")
        found += [f for f in left.folders if Path(f).exists()]
        found += [f"relay {p}" for p in _lines(["pgrep", "-af", f"socat .*{left.label}"])]
    for pool, master in {left.pool: left.master for left in traces}.items():
        volumes = [v.split()[0] for v in _lines(["virsh", "vol-list", pool])[2:]]
        found += [f"volume {v}" for v in volumes if v != master]
    return found


def _lines(command: list[str]) -> list[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return [line for line in done.stdout.splitlines() if line.strip()]


def drill(
    s: Scratch, report: Report, stack: str, label: str, scenarios: Sequence[str], *options: str, prefix: str = ""
) -> None:
    """`vxlab drill` of these scenarios on the stack: its JSON in DIR/drill-STACK.json, its
    progress in DIR/drill-STACK.log, a line per scenario (after `prefix`) into the report."""
    out, log = s.dir / f"drill-{stack}.json", s.dir / f"drill-{stack}.log"
    with report.timed(label):
        drilled = s.verb(
            "drill",
            "--key",
            str(s.key),
            *options,
            *(f"--scenario={n}" for n in scenarios),
            "--json",
            stack=stack,
            stderr_log=log,
        )
    out.write_text(drilled.stdout)
    if drilled.returncode != 0:
        print(drilled.stdout, tail(log), sep="\n")
        raise Failed(f"a drill scenario of {stack} failed")
    for line in summary_lines_of(out, prefix):
        report.say(f"drill: {line}")
