"""The registry: every lab feature vxlab builds, in the order their files are written on a
machine. A feature is one module of this package (its files, packages, checkers, services,
steps, checks and the seed sections it implements) plus its line in FEATURES; every phase
iterates over `REGISTRY` and knows no feature by name."""

from __future__ import annotations

import sys
from importlib import import_module

from vxlab.features.spec import Checker, Feature, FileSpec, Kind, Role

# One line per feature: its module in this package, in the order its files are written.
FEATURES = (
    "host_switch",
    "router",
    "tenant_switch",
    "radvd",
    "keepalived",
    "lxd",
    "dhcp_failover",
    "time_sync",
)
REGISTRY: tuple[Feature, ...] = tuple(import_module(f"vxlab.features.{name}").FEATURE for name in FEATURES)


def files_of(role: Role) -> list[FileSpec]:
    """The files a machine of `role` gets, in the order they are written."""
    return [spec for feature in REGISTRY for spec in feature.files if spec.role == role]


def packages_of(role: Role) -> tuple[str, ...]:
    """The Debian packages a machine of `role` needs, each once."""
    return tuple(sorted({p for feature in REGISTRY for p in feature.packages.get(role, ())}))


def services_of(role: Role) -> dict[str, str]:
    """The services a machine of `role` runs, each with the file whose step restarts it."""
    return {s: path for feature in REGISTRY for s, path in feature.services.get(role, {}).items()}


def checkers() -> dict[Kind, Checker]:
    """Every kind of file the lab writes, with the real program that checks it."""
    found: dict[Kind, Checker] = {}
    for feature in REGISTRY:
        for kind, checker in feature.checkers.items():
            if found.setdefault(kind, checker) != checker:
                raise ValueError(f"{feature.name} checks {kind} files with another checker than an earlier feature")
    return found


def image_packages() -> tuple[str, ...]:
    """What the VM image must carry for every VM role (scripts/build-images)."""
    return tuple(sorted({*packages_of("router"), *packages_of("tenant")}))


def checker_packages() -> tuple[str, ...]:
    """The Debian packages the checkers need on the checking machine (scripts/setup)."""
    return tuple(sorted({p for checker in checkers().values() for p in checker.debian}))


def main(argv: list[str] | None = None) -> None:
    """`python -m vxlab.features image-packages|checker-packages`: for the shell scripts."""
    what = (argv if argv is not None else sys.argv[1:])[0]
    print(" ".join({"image-packages": image_packages, "checker-packages": checker_packages}[what]()))
