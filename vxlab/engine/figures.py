"""The figures of what a user runs against a lab, each beside its target and the floor measured in
the same run: the floor of a verb is one round trip to every machine of the lab, made the way a
verb makes it (fresh SSH connections, every machine at once, `true` on each VM and container);
a transfer's floor adds the transfers' own seconds, as curl timed them."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from vxlab.features.spec import Observation
from vxlab.live.observe import take
from vxlab.live.remote import LabShell
from vxlab.live.snapshot import Snapshot
from vxlab.live.traffic import CURL_TAG
from vxlab.model.lab import Lab

# What issue 28 asks of each, in seconds.
TARGETS = {
    "grade --section N --no-traffic": 10.0,
    "grade (whole, with traffic)": 90.0,
    "grade of a broken lab (whole, with traffic)": 90.0,
    "check": 60.0,
    "drift": 20.0,
    "pulumi up": 240.0,
}


@dataclass(frozen=True)
class Figure:
    name: str
    seconds: float
    target: float
    floor: float
    floor_what: str

    @property
    def met(self) -> bool:
        return self.seconds <= self.target

    def line(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return (
            f"{self.name}: {self.seconds:.1f} s, target {self.target:.0f} s {verdict}; "
            f"floor {self.floor:.1f} s ({self.floor_what})"
        )


def floor_round(lab: Lab, key: Path, known_hosts: Path | None = None) -> float:
    """One round trip to every machine of the lab, as a verb makes it: new SSH connections, the
    hypervisor, each VM and each container at once, `true` on each."""
    started = time.monotonic()
    with LabShell(lab, key, known_hosts) as shell:
        machines = [Observation("host", "host", "true")]
        machines += [Observation(vm, "vm", "true") for vm in shell.endpoints]
        machines += [Observation(c, "container", "true") for t in lab.tenants.values() for c in t.containers]
        take(shell, machines, Snapshot(lab, "", ""), "floor")
    return round(time.monotonic() - started, 2)


def transfer_seconds(snapshot: Snapshot) -> float:
    """The seconds the snapshot's transfers themselves took (curl's own time, every attempt),
    a tenant's one after another and the tenants side by side: the longest tenant's sum."""
    tenant_of = snapshot.lab.tenant_of()
    per_tenant: dict[str, float] = {}
    for (machine, _), attempts in snapshot.results.items():
        for attempt in attempts:
            for seconds in re.findall(rf"^{CURL_TAG} \d+ \d+ ([0-9.]+)$", attempt.out, re.M):
                tenant = tenant_of.get(machine, machine)
                per_tenant[tenant] = per_tenant.get(tenant, 0.0) + float(seconds)
    return round(max(per_tenant.values(), default=0.0), 2)
