"""Seed §5.3-5.5 and §6.3-6.5: LXD on each tenant, initialised by a preseed whose API listens
on the tenant's underlay address only (the containers themselves are the LXD provider's)."""

from __future__ import annotations

import json
import shlex
from typing import Any

import yaml

from vxlab.features.common import INTERFACES
from vxlab.features.spec import (
    DONE,
    NOT_DONE,
    WRONG,
    Checker,
    Feature,
    FileSpec,
    Grader,
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


# One read of the LXD API over its socket (Debian's package, or the seed's snap) for every step of
# §5.3-5.5: the server, its storage pools, the default profile, every instance. One Python beats
# four `lxc` runs on a TCG tenant, where each start of the Go client costs most of a second.
_LXD_STATE_PY = """
import http.client, json, os, socket
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(PATH)
sockets = ("/var/lib/lxd/unix.socket", "/var/snap/lxd/common/lxd/unix.socket")
PATH = next((p for p in sockets if os.path.exists(p)), None)
state = {"error": "no LXD socket: LXD is not installed, or not running"} if PATH is None else {}
for key, url in (("server", "/1.0"), ("pools", "/1.0/storage-pools?recursion=1"),
                 ("profile", "/1.0/profiles/default"), ("instances", "/1.0/instances?recursion=1")):
    if PATH is not None:
        connection = Unix("lxd", timeout=15)
        connection.request("GET", url)
        answer = json.loads(connection.getresponse().read() or b"{}")
        state[key] = answer.get("metadata") if answer.get("type") == "sync" else None
print(json.dumps(state))
"""
LXD_STATE = f"python3 -c {shlex.quote(_LXD_STATE_PY.strip())}"


def _state(out: str) -> dict[str, Any] | None:
    try:
        state = json.loads(out)
    except json.JSONDecodeError:
        return None
    return state if isinstance(state, dict) else None


def lxd_answers(out: str) -> tuple[Verdict, str]:
    """LXD is installed and its API answers: its version."""
    state = _state(out)
    if state is None or "error" in state or not isinstance(state.get("server"), dict):
        # A socket nobody listens on fails the read with a traceback: its last line says why.
        last = out.strip().splitlines()[-1][:120] if out.strip() else "no answer from LXD"
        return NOT_DONE, (state or {}).get("error", f"LXD does not answer: {last}")
    version = state["server"].get("environment", {}).get("server_version", "?")
    return DONE, f"LXD {version}"


def pool_and_root(out: str) -> tuple[Verdict, str]:
    """A storage pool, and the default profile's root disk on one of the pools."""
    state = _state(out)
    if state is None or "error" in state:
        return NOT_DONE, "LXD does not answer"
    pools = [p.get("name", "?") for p in state.get("pools") or []]
    if not pools:
        return NOT_DONE, "no storage pool"
    devices = (state.get("profile") or {}).get("devices", {})
    root = next((d for d in devices.values() if d.get("type") == "disk" and d.get("path") == "/"), None)
    seen = f"pools: {', '.join(pools)}"
    if root is None:
        return WRONG, f"{seen}; no root disk in the default profile"
    if root.get("pool") not in pools:
        return WRONG, f"{seen}; the default profile's root disk is on {root.get('pool')}"
    return DONE, f"{seen}; root disk on {root['pool']}"


def container_on(name: str, parent: str) -> Grader:
    """The instance `name` runs, its NIC bridged on `parent`."""

    def grade(out: str) -> tuple[Verdict, str]:
        state = _state(out)
        if state is None or "error" in state:
            return NOT_DONE, "LXD does not answer"
        instance = next((i for i in state.get("instances") or [] if i.get("name") == name), None)
        if instance is None:
            return NOT_DONE, f"no container {name}"
        nics = {
            device: dev.get("parent", dev.get("network", "?"))
            for device, dev in instance.get("expanded_devices", {}).items()
            if dev.get("type") == "nic"
        }
        on = ", ".join(f"{n}: {p}" for n, p in nics.items()) or "nothing"
        seen = f"{instance.get('status', '?')}, NIC on {on}"
        return (DONE if instance.get("status") == "Running" and parent in nics.values() else WRONG), seen

    return grade


def container_runs(lab: Lab, tenant: Tenant, container: str, section: str) -> Task:
    return Task(
        section,
        f"{container} runs, its NIC on {lab.segment.svi}",
        tenant.name,
        LXD_STATE,
        container_on(container, lab.segment.svi),
        expect=f"Running, eth0 bridged on {lab.segment.svi}",
    )


def _tasks(lab: Lab) -> list[Task]:
    tasks: list[Task] = []
    for t in lab.tenants.values():
        n = vm_sections(lab)[t.name]
        tasks += [
            Task(f"{n}.3", "LXD is installed and answers", t.name, LXD_STATE, lxd_answers, expect="a version"),
            Task(
                f"{n}.4",
                "LXD has a storage pool and a default profile with a root disk",
                t.name,
                LXD_STATE,
                pool_and_root,
                expect="a storage pool, the default profile's root disk on it",
            ),
        ]
        tasks += [container_runs(lab, t, c, f"{n}.5") for c in t.containers]
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
