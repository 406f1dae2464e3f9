"""Time sync on every VM (not in the seed): redRouter serves its clock to the tenants' links
(chrony, `local stratum 10`: the lab has no time server), each tenant follows it. Logs of the
three VMs then share one clock, which is what a student compares when reading a failover."""

from __future__ import annotations

import re

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
    result,
)
from vxlab.model.lab import Lab

CHRONY_CONF = "/etc/chrony/chrony.conf"
RELOAD = "systemctl restart chrony"


def check_chrony(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    """chronyd parses the file and prints it back (-p), starting nothing."""
    return result(run.run(["chronyd", "-p", "-f", str(run.put("chrony.conf", f.content))]))


def follows(server: str) -> Grader:
    """`chronyc -n sources` lists `server` as the selected or a combined source, reached lately."""

    def grade(out: str) -> tuple[Verdict, str]:
        line = re.search(rf"^\^([*+\-x?~ ])\s+{re.escape(server)}\s+(\d+)\s+\d+\s+([0-7]+)\b", out, re.M)
        if line is None:
            return NOT_DONE, f"{server} is not a source"
        state, stratum, reach = line.groups()
        seen = f"{server} state {state!r}, stratum {stratum}, reach {reach}"
        return (DONE if state in "*+" and int(reach, 8) != 0 else WRONG), seen

    return grade


def _checks(lab: Lab) -> list[Task]:
    return [
        Task(
            "extra",  # not a section of the seed
            "clock follows redRouter",
            t.name,
            "chronyc -n sources",
            follows(str(t.router_ipv4.ip)),
            expect=f"^* {t.router_ipv4.ip} (selected, reach not 0)",
            # chrony selects its source a few polls after a restart
            relook=True,
        )
        for t in lab.tenants.values()
    ]


FEATURE = Feature(
    name="time-sync",
    title="time sync on every VM: redRouter serves its clock, the tenants follow it (chrony)",
    seed_sections=(),
    files=(
        FileSpec("router", "time-sync/chrony-router.conf.j2", CHRONY_CONF, "chrony", reload=RELOAD),
        FileSpec("tenant", "time-sync/chrony-tenant.conf.j2", CHRONY_CONF, "chrony", reload=RELOAD),
    ),
    packages={"router": ("chrony",), "tenant": ("chrony",)},
    services={"router": {"chrony": CHRONY_CONF}, "tenant": {"chrony": CHRONY_CONF}},
    checkers={"chrony": Checker("chronyd -p", check_chrony, ("chronyd",), debian=("chrony",))},
    checks=_checks,
)
