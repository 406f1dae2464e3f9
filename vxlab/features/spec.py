"""The vocabulary every lab feature is written in, and every phase reads: the files a machine
gets, the steps that install them, the real program that checks each kind of file, and the
`Feature` record that gathers one seed section's share of all of it.

This module knows no feature and runs nothing: the registry (`vxlab.features`) lists the
features, and each phase iterates over it (build renders the files, verify runs the checkers,
provision installs the packages and reloads, drift watches the services).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, Protocol

from vxlab.model.lab import Lab, Tenant

Role = Literal["host", "router", "tenant", "dhcp-server", "client"]
# What checks a file: the name of one of the registry's checkers.
Kind = str


@dataclass(frozen=True)
class RenderedFile:
    path: str
    content: str
    kind: Kind
    mode: int = 0o644


@dataclass(frozen=True)
class Machine:
    name: str
    role: Role
    files: tuple[RenderedFile, ...]

    def file(self, path: str) -> RenderedFile:
        return next(f for f in self.files if f.path == path)


@dataclass(frozen=True)
class Step:
    """One remote command with a create and a delete (see vxlab.build.provision)."""

    name: str
    create: str
    delete: str
    stdin: str | None = None
    after: tuple[str, ...] = ()
    # Content whose change must re-run the step (a reload triggered by a file it reads).
    triggers: tuple[str, ...] = field(default=())
    secret_output: bool = False  # its stdout carries credentials: a secret in the state


class Sandbox(Protocol):
    """Where a checker runs its program: a scratch folder, and throwaway namespaces (vxlab.verify)."""

    dir: Path

    def put(self, name: str, content: str, mode: int = 0o644) -> Path: ...

    def run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]: ...

    def in_namespaces(self, script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]: ...


def output(proc: subprocess.CompletedProcess[str]) -> str:
    """A program's diagnostics on one line."""
    text = (proc.stderr + proc.stdout).strip()
    # The first diagnostics name the cause; later ones tend to be its echoes.
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[:800]


def result(proc: subprocess.CompletedProcess[str]) -> tuple[bool, str]:
    return proc.returncode == 0, output(proc) or f"exit status {proc.returncode}"


# A grade's verdict on one step of the seed: done, not done (nothing there yet), wrong (there,
# but not what the section asks for).
Verdict = Literal["done", "not done", "wrong"]
DONE: Verdict = "done"
NOT_DONE: Verdict = "not done"
WRONG: Verdict = "wrong"
# A grading task's verdict on what a command printed: (verdict, what was observed).
Grader = Callable[[str], tuple[Verdict, str]]
Where = Literal["host", "vm", "container"]


STATE_LANE = "state"
# Observations in this lane run one after another across a VM and all its containers, not only
# on their machine: they share the VM's CPU and its path out (a tenant's TCP transfers).
VM_LANE = "vm"


@dataclass(frozen=True)
class Observation:
    """One command on one machine of a running lab: what a snapshot collects (vxlab.live.observe
    runs every machine's observations in one round trip, all machines at once)."""

    machine: str  # a VM, a container, or "host" (the hypervisor)
    where: Where
    command: str
    # Observations of one machine in the same lane run one after another (they share a
    # bottleneck: a container's TCP transfers); every other one runs alongside the rest.
    lane: str = ""
    timeout: float = 20.0  # the command is stopped after this, its output kept

    @property
    def key(self) -> tuple[str, str]:
        return (self.machine, self.command)


@dataclass(frozen=True)
class Task:
    """One step of a seed section as a student does it, judged on the running lab by its state
    and behaviour (addresses, links, rules, daemons, replies), never by a file's text: students
    write their own files, in their own style. The same record is a step of `vxlab grade` and a
    check of `vxlab check`: an observation, a pure grader of what it printed, and what to tell
    the student (vxlab.live.judging judges it on a snapshot)."""

    section: str  # the seed's section, `5.8`
    name: str
    machine: str  # a VM, a container, or "host" (the hypervisor)
    command: str
    grade: Grader
    where: Where = "vm"
    expect: str = ""  # in words and this group's values
    hint: str = ""  # what to do about it, beyond the section's reference
    # Made in the round before `command`: traffic whose traces `command` reads (conntrack
    # entries, the bridge's FDB), so the task never depends on what ran before it.
    traffic: Observation | None = field(default=None, kw_only=True)
    lane: str = field(default="", kw_only=True)
    timeout: float = field(default=20.0, kw_only=True)
    # An active probe (a ping, a transfer) that failed, or a read of where the VIPs are, is
    # observed once more after the VIPs had time to settle: a loaded machine can move them for a
    # few seconds (vxlab.live.judging). A probe runs outside the state lane unless it names one.
    relook: bool = field(default=False, kw_only=True)

    @property
    def observation(self) -> Observation:
        # A state read is CPU work, and a TCG guest has one vCPU: a machine's reads queue in one
        # lane (measured: 13 of a tenant's reads at once took longer than one after another).
        # An active probe waits on the network and runs alongside them.
        lane = self.lane or ("" if self.relook else STATE_LANE)
        return Observation(self.machine, self.where, self.command, lane, self.timeout)


ConfigPath = tuple[str, ...]


class RuleContext(Protocol):
    """What a feature's lab rules see (vxlab.validate.rules runs them): the model, and how to
    refuse it naming the key the stack file states."""

    lab: Lab

    def fail(self, paths: tuple[ConfigPath, ...], problem: str, fix: str) -> NoReturn: ...

    def inside(self, path: ConfigPath, iface: Any, net: Any, net_path: ConfigPath) -> None: ...


CheckFunction = Callable[[Sandbox, RenderedFile, Machine, Lab], tuple[bool, str]]


@dataclass(frozen=True)
class Checker:
    """The real program that validates one kind of file, in check mode."""

    name: str  # what the verdict line says ran
    check: CheckFunction
    programs: tuple[str, ...]  # what must be installed to run it
    files: tuple[str, ...] = ()  # other paths it needs on the checking machine
    # The Debian packages that bring them to the checking machine (scripts/setup installs them).
    debian: tuple[str, ...] = ()


# What a file's template sees beyond the machine's own context: (lab, its tenant or None, machine name).
Context = Callable[[Lab, Tenant | None, str], dict[str, Any]]
# A file's path when it depends on the lab (the host's files live in the group's folder).
PathOf = str | Callable[[Lab], str]


@dataclass(frozen=True)
class FileSpec:
    """One file a feature writes on every machine of `role`."""

    role: Role
    template: str  # under files/
    path: PathOf
    kind: Kind
    mode: int = 0o644
    # Run after the file is written, and again whenever its content changes (the VM roles).
    reload: str = ""
    # The steps it must follow on the same machine ("packages", "segment", "file:<path>").
    after: tuple[str, ...] = ("packages",)
    context: Context | None = None

    def path_for(self, lab: Lab) -> str:
        return self.path if isinstance(self.path, str) else self.path(lab)


@dataclass(frozen=True)
class Feature:
    """One section of the seed, as vxlab builds it: what it installs, writes, checks and watches."""

    name: str
    title: str
    seed_sections: tuple[str, ...]
    files: tuple[FileSpec, ...] = ()
    # The Debian packages each role needs for it (an image without Internet must carry them).
    packages: Mapping[Role, tuple[str, ...]] = field(default_factory=dict)
    # The services it configures, per role, each with the file whose step restarts it (drift).
    services: Mapping[Role, Mapping[str, str]] = field(default_factory=dict)
    checkers: Mapping[Kind, Checker] = field(default_factory=dict)
    # Steps of a VM role that are not a file's (a wait), placed by their `after`.
    steps: Mapping[Role, Callable[[Lab, Machine], list[Step]]] = field(default_factory=dict)
    # What `vxlab check` verifies of it on a running lab, beyond the seed's section 7.
    checks: Callable[[Lab], list[Task]] | None = None
    # Its lab rules: what the schema cannot see of its settings (run after the core's numbers).
    rules: Callable[[RuleContext], None] | None = None
    # How `vxlab grade` judges its seed sections on a lab students built.
    tasks: Callable[[Lab], list[Task]] | None = None
