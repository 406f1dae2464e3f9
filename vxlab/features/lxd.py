"""Seed §5.3-5.5 and §6.3-6.5: LXD on each tenant, initialised by a preseed whose API listens
on the tenant's underlay address only (the containers themselves are the LXD provider's)."""

from __future__ import annotations

from typing import Any

import yaml

from vxlab.features.common import INTERFACES
from vxlab.features.spec import Checker, Feature, FileSpec, Machine, RenderedFile, Sandbox
from vxlab.model.lab import Lab, Tenant
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
            reload=f"lxd waitready --timeout=120 && lxd init --preseed < {LXD_PRESEED}",
            # The API listens on the underlay address, there once the interfaces are up.
            after=(f"file:{INTERFACES}",),
            context=_context,
        ),
    ),
    # btrfs-progs: LXD formats its btrfs pool's loop file with mkfs.btrfs.
    packages={"tenant": ("lxd", "lxd-client", "squashfs-tools", "btrfs-progs")},
    checkers={"lxd-preseed": Checker("yaml + profile", check_lxd_preseed, ())},
)
