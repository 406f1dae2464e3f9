"""Benchmark (issue 31): 40 groups placed on 4 inventoried hypervisors, then one drained.

    python benchmarks/placement.py [GROUPS] [HOSTS]

Each group is a real stack model (`build_lab`, the seed's sizes), its need derived from it; the
hosts are an inventory of four 64 GiB / 32-vCPU machines holding at most 12 groups each. Prints
the time to derive the needs and to place, how full each host ends up, and what draining the
first host moves where. A measurement, not a test."""

from __future__ import annotations

import sys
import time

from vxlab.model.inventory import parse_inventory
from vxlab.place.placement import NOTHING, PlacementError, drain, hosts_of, need_of, place
from vxlab.validate.load import build_lab


def main() -> None:
    groups = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    inventory = parse_inventory(
        {
            "hypervisors": [
                {
                    "name": f"hv{i}",
                    "libvirt_uri": "qemu:///system" if i == 1 else f"qemu+ssh://root@hv{i}.example.org/system",
                    **({} if i == 1 else {"ssh_host": f"hv{i}.example.org", "host_key": "ssh-ed25519 " + "A" * 68}),
                    "capacity": {"memory_mib": 65536, "vcpus": 32, "groups": 12, "parallel": 3},
                }
                for i in range(1, count + 1)
            ]
        }
    )
    hosts = hosts_of(inventory)
    started = time.perf_counter()
    needs = {f"group{g:02d}": need_of(build_lab({"group": g})) for g in range(1, groups + 1)}
    derived = time.perf_counter() - started
    started = time.perf_counter()
    placed = place(needs, hosts, {})
    placing = time.perf_counter() - started
    print(f"{groups} groups on {count} hosts: needs from the models {derived:.2f} s, placed in {placing * 1000:.1f} ms")
    for h in hosts:
        mine = [s for s, at in placed.items() if at == h.name]
        used = sum((needs[s] for s in mine), NOTHING)
        print(
            f"  {h.name}: {len(mine)}/{h.groups} groups, {used.memory_mib}/{h.memory_mib} MiB, "
            f"{used.vcpus}/{h.vcpus} vCPUs"
        )
    started = time.perf_counter()
    try:
        moved = drain(needs, hosts, placed, hosts[0].name)
    except PlacementError as refused:
        print(f"drain {hosts[0].name}: refused in {(time.perf_counter() - started) * 1000:.1f} ms: {refused}")
        return
    took = time.perf_counter() - started
    where = {h.name: sum(1 for at in moved.values() if at == h.name) for h in hosts[1:]}
    print(
        f"drain {hosts[0].name}: {len(moved)} groups move in {took * 1000:.1f} ms: "
        + ", ".join(f"{n} to {h}" for h, n in where.items())
    )


if __name__ == "__main__":
    main()
