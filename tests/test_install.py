"""A fresh machine gets every program the lab runs: each one the scripts, the rendered host
script and the checks call has a Debian package in scripts/versions.env (or is part of every
Debian system), so `scripts/setup` installs it."""

from __future__ import annotations

import shlex
import subprocess
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.shell_programs import programs
from vxlab.build.render import render_lab
from vxlab.features import checker_packages, checkers
from vxlab.model.topology import host_switch_path
from vxlab.validate.load import load_lab

# Programs that no Debian package of the list provides, and what provides them instead.
NOT_FROM_DEBIAN = {
    "go": "the machine's Go toolchain (README: what the machine needs), only for the offline engine build",
    "pulumi": "scripts/install-pulumi",
    "python3": "Debian's python3 (python3-venv depends on it) or the machine's own",
}
# Programs of the lab's own making, run by path.
OWN = {"venv", "scripts"}


def debian_packages() -> set[str]:
    env = (PROJECT / "scripts" / "versions.env").read_text()
    line = next(line for line in env.splitlines() if line.startswith("DEBIAN_PACKAGES="))
    return set(shlex.split(line.partition("=")[2])[0].split())


@cache
def base_system() -> set[str]:
    """Packages every Debian system has: essential or of required priority."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\n"], capture_output=True, text=True, check=True
    ).stdout
    return {
        p
        for p, essential, priority in (line.split() for line in out.splitlines())
        if "yes" in essential or priority == "required"
    }


@cache
def installed_by_setup() -> set[str]:
    """The listed packages and the checkers' with everything they depend on: what `scripts/setup` brings."""
    listed = sorted(debian_packages() | set(checker_packages()))
    out = subprocess.run(
        [
            "apt-cache",
            "depends",
            "--recurse",
            "--installed",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
            *listed,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    deps = {line.split(":", 1)[1].strip().strip("<>") for line in out.splitlines() if "Depends:" in line}
    return set(listed) | {d.split(":")[0] for d in deps}


@cache
def package_of(program: str) -> str | None:
    """The package that ships the program (through an alternatives link if it is one)."""
    for folder in ("/usr/bin", "/usr/sbin", "/bin", "/sbin"):
        path = Path(folder) / program
        for candidate in (path, path.resolve()):
            if not candidate.exists():
                continue
            proc = subprocess.run(["dpkg", "-S", str(candidate)], capture_output=True, text=True, check=False)
            owners = [line.split(":")[0] for line in proc.stdout.splitlines() if not line.startswith("diversion")]
            if proc.returncode == 0 and owners:
                return owners[0].split(",")[0]
    return None


def called() -> list[tuple[str, str]]:
    """(where, program) for every program the lab runs on the machine that runs it."""
    out: list[tuple[str, str]] = []
    for script in sorted((PROJECT / "scripts").iterdir()):
        text = script.read_text()
        if text.startswith("#!/usr/bin/env bash"):
            out += [(f"scripts/{script.name}:{line}", p) for p, line in programs(text).items()]
    for stack in ("dev", "ci"):
        lab = load_lab(PROJECT, stack)
        host = next(m for m in render_lab(lab) if m.name == "host").file(host_switch_path(lab))
        out += [(f"{stack} host-switch.sh:{line}", p) for p, line in programs(host.content).items()]
    out += [(f"the {kind} checker", p) for kind, checker in checkers().items() for p in checker.programs]
    out += [
        ("vxlab.live.remote", "ssh"),
        ("vxlab.build.provision (seed)", "genisoimage"),
        ("vxlab validate", "xsltproc"),
    ]
    return sorted(set(out))


@pytest.mark.parametrize(("where", "program"), [pytest.param(w, p, id=f"{p}@{w}") for w, p in called()])
def test_every_program_the_lab_runs_has_an_installing_package(where: str, program: str) -> None:
    if program in OWN or program in NOT_FROM_DEBIAN:
        return
    package = package_of(program)
    assert package is not None, f"{program} ({where}) is installed by no package: add one to DEBIAN_PACKAGES"
    assert package in installed_by_setup() | base_system(), (
        f"{program} ({where}) comes from {package}, which scripts/setup does not install: add it to DEBIAN_PACKAGES"
    )


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('running() { pgrep -x "$1"; }\nif ! running virtlogd; then virtlogd -d; fi\n', {"pgrep", "virtlogd"}),
        ("x=$(readlink -f a | sed s/a/b/)\n", {"readlink", "sed"}),
        ("cat > f <<'EOF'\nnot-a-program here\nEOF\nmv f g\n", {"cat", "mv"}),
        ("ssh -o A=b \\\n    root@h true\n", {"ssh"}),
        ("f() { ls; }\nf\n", {"ls"}),
        ("VAR=1 # grep in a comment\n", set()),
        ('echo "up: $stack; vxlab check"\n', set()),
        ('case $f in\n    Pulumi.*.yaml) sed -e p "$f" ;;\nesac\n', {"sed"}),
    ],
)
def test_the_program_finder_reads_commands_not_arguments(script: str, expected: set[str]) -> None:
    assert set(programs(script)) == expected
