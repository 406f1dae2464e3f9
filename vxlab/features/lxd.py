"""Seed §5.3-5.5 and §6.3-6.5: LXD on each tenant, initialised by a preseed whose API listens
on the tenant's underlay address only (the containers themselves are the LXD provider's)."""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from vxlab.features import graders
from vxlab.features.common import INTERFACES
from vxlab.features.spec import (
    DONE,
    NOT_DONE,
    WRONG,
    Checker,
    Feature,
    FileSpec,
    Machine,
    RenderedFile,
    Sandbox,
    Task,
    Verdict,
)
from vxlab.model.lab import Lab, Tenant
from vxlab.model.stages import vm_sections
from vxlab.model.topology import lxd_address

LXD_PRESEED = "/etc/vxlab/lxd-preseed.yaml"


def _context(lab: Lab, tenant: Tenant | None, machine: str) -> dict[str, Any]:
    assert tenant is not None  # a tenant's file
    return {"https_address": lxd_address(lab, tenant), "lxd": lab.lxd}


def check_lxd_preseed(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    # No LXD daemon on the checking machine: check the YAML, where the API listens (the tenant's
    # underlay address only) and the default profile's root disk.
    doc = yaml.safe_load(f.content)
    tenant = next(t for t in lab.tenants.values() if t.name == m.name)
    listen = doc["config"]["core.https_address"]
    if listen != lxd_address(lab, tenant):
        return False, f"the API listens on {listen}, not on {lxd_address(lab, tenant)}"
    root = doc["profiles"][0]["devices"].get("root")
    if root != {"path": "/", "pool": doc["storage_pools"][0]["name"], "type": "disk"}:
        return False, f"unexpected root device {root}"
    pool = doc["storage_pools"][0]
    wanted = {"size": f"{lab.lxd.storage_gib}GiB"} if lab.lxd.storage_driver == "btrfs" else None
    if (pool["driver"], pool.get("config")) != (lab.lxd.storage_driver, wanted):
        return False, f"the pool is {pool['driver']} {pool.get('config')}, not {lab.lxd.storage_driver} {wanted}"
    return True, ""


def pool_and_root(out: str) -> tuple[Verdict, str]:
    """A storage pool listed, then `root disk on POOL` for the default profile."""
    lines = [line for line in out.splitlines() if line.strip()]
    pools = [line for line in lines if not line.startswith("root disk on")]
    root = [line for line in lines if line.startswith("root disk on")]
    if not pools:
        return NOT_DONE, "no storage pool"
    seen = f"pools: {'; '.join(pools)[:120]}"
    return (DONE, f"{seen}; {root[0]}") if root else (WRONG, f"{seen}; no root disk in the default profile")


def _tasks(lab: Lab) -> list[Task]:
    tasks: list[Task] = []
    for t in lab.tenants.values():
        n = vm_sections(lab)[t.name]
        tasks += [
            Task(f"{n}.3", "LXD is installed", t.name, "lxd --version 2>&1", graders.version, expect="a version"),
            Task(
                f"{n}.4",
                "LXD has a storage pool and a default profile with a root disk",
                t.name,
                "lxc storage list --format csv 2>/dev/null | head -n 3; "
                "lxc profile device get default root pool 2>/dev/null | sed 's/^/root disk on /'",
                pool_and_root,
                expect="a storage pool, the default profile's root disk on it",
            ),
        ]
        tasks += [
            Task(
                f"{n}.5",
                f"{c} runs, its NIC on {lab.segment.svi}",
                t.name,
                f"lxc query '/1.0/instances/{c}?recursion=1' 2>&1",
                graders.container_on(lab.segment.svi),
                expect=f"Running, eth0 bridged on {lab.segment.svi}",
            )
            for c in t.containers
        ]
    return tasks


FEATURE = Feature(
    name="lxd",
    title="LXD on each tenant: storage pool, profile, the API on the underlay address",
    seed_sections=("5.3", "5.4", "5.5", "6.3", "6.4", "6.5"),
    files=(
        FileSpec(
            "tenant",
            "tenant/lxd-preseed.yaml.j2",
            LXD_PRESEED,
            "lxd-preseed",
            # The interfaces step restarts the network behind its session (NETWORK_RELOAD): until
            # the underlay address is back, LXD cannot listen on it and refuses the preseed
            # (measured on a catch-up: "bind: cannot assign requested address"). Ask again.
            reload=(
                "lxd waitready --timeout=120 && "
                f"timeout 180 sh -c {shlex.quote(f'until lxd init --preseed < {LXD_PRESEED}; do sleep 2; done')}"
            ),
            # The API listens on the underlay address, there once the interfaces are up.
            after=(f"file:{INTERFACES}",),
            context=_context,
        ),
    ),
    # btrfs-progs: LXD formats its btrfs pool's loop file with mkfs.btrfs.
    packages={"tenant": ("lxd", "lxd-client", "squashfs-tools", "btrfs-progs")},
    checkers={"lxd-preseed": Checker("yaml + profile", check_lxd_preseed, ())},
    tasks=_tasks,
)
