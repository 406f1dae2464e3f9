"""Behaviour steps: what the students' lab must survive, graded by doing it (`vxlab grade
--behaviour`). State can look right on a lab that does not fail over (keepalived holding the VIPs
with no track script, a DHCP pair `normal` whose partner never answers), so these steps make the
fault and judge what the lab does, with the drills' own code (vxlab.live.drill): one scenario is
one piece of code, whether a drill measures it or a grade judges it.

- §N.8 (the tenant whose chapter comes last, as for the VIPs' state steps): the seed's 7.6 on the
  master (its IPv4 probe dropped): the VIPs must move to the backup within the protocol bound
  and come back once the probe answers again.
- §N.7: the primary DHCP server stopped: the partner must renew a client and lease a new one
  within the bound, and the pair be `normal` again after the primary restarts.

Each undoes its fault, so the lab is left as it was; a step whose fault cannot be tried (the
master does not hold the VIPs, a container does not ping) is `not done` with the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from vxlab.features.spec import DONE, NOT_DONE, WRONG
from vxlab.live.drill_report import Outcome
from vxlab.live.judging import Graded, hint_for
from vxlab.model.lab import Lab
from vxlab.model.stages import last_tenant, vm_sections


@dataclass(frozen=True)
class Behaviour:
    scenario: str  # the drill scenario that makes the fault and measures it
    subsection: int
    name: str
    expect: Callable[[Lab, Outcome | None], str]
    hint: str


def _vrrp_expected(lab: Lab, outcome: Outcome | None) -> str:
    old, new = lab.master(), lab.peer_of(lab.master())
    bounds = f" within {outcome.failover_bound_s} s" if outcome else ""
    back = f" within {outcome.failback_bound_s} s" if outcome else ""
    return (
        f"the VIPs on {new.name}{bounds} (fall x interval + Master_Down_Interval, RFC 5798), "
        f"back on {old.name}{back} once its probe answers"
    )


def _dhcp_expected(lab: Lab, outcome: Outcome | None) -> str:
    bound = f" within {outcome.failback_outage_bound_s} s" if outcome else ""
    return f"a renewal and a new client's lease from the partner{bound}, the pair normal again after the restart"


BEHAVIOURS = (
    Behaviour(
        "probe-cut",
        8,
        "the VIPs move to the backup when the master's probe is cut, and come back",
        _vrrp_expected,
        "keepalived must track the uplink in both instances on both tenants (vrrp_script pinging the probes, "
        "track_script in vrrp_instance), with the priorities of the manual",
    ),
    Behaviour(
        "dhcp-peer-down",
        7,
        "a client gets its lease from the partner when the primary DHCP server stops",
        _dhcp_expected,
        "both dhcpd.conf need the failover peer block (addresses, ports, mclt, split on the primary) "
        "and a pool that names it",
    ),
)


def chapter_of(lab: Lab) -> str:
    """The chapter the behaviour steps are graded in: the last tenant's, which needs both."""
    return vm_sections(lab)[last_tenant(lab).name]


def section_of(lab: Lab, behaviour: Behaviour) -> str:
    return f"{chapter_of(lab)}.{behaviour.subsection}"


def graded_of(lab: Lab, behaviour: Behaviour, outcome: Outcome | None, problem: str = "") -> Graded:
    """The step: done when the scenario passed, wrong with its failures, not done when its
    fault could not be tried (`problem`)."""
    section = section_of(lab, behaviour)
    if outcome is None:
        verdict, observed = NOT_DONE, f"not tried: {problem}"
    elif outcome.passed:
        verdict, observed = DONE, _figures(outcome)
    else:
        verdict, observed = WRONG, "; ".join(outcome.failures)
    return Graded(
        section,
        behaviour.name,
        last_tenant(lab).name,
        verdict,
        observed,
        behaviour.expect(lab, outcome),
        hint_for(section, behaviour.hint),
    )


def _figures(o: Outcome) -> str:
    if o.scenario == "dhcp-peer-down":
        return (
            f"partner interrupted after {o.failover_s} s, renewal {o.outage_ipv4_s} s, "
            f"new lease {o.failback_outage_ipv4_s} s, normal again after {o.failback_s} s"
        )
    return (
        f"VIPs moved in {o.failover_s} s (bound {o.failover_bound_s}), back in {o.failback_s} s "
        f"(bound {o.failback_bound_s}); outage {o.outage_ipv4_s} s IPv4, {o.outage_ipv6_s} s IPv6"
    )


Scenario = Callable[[str], Outcome]  # runs one drill scenario on the lab; raises when it cannot


def behaviour_steps(lab: Lab, run: Scenario) -> list[Graded]:
    """Every behaviour step, one after the other (each fault undone before the next)."""
    out = []
    for b in BEHAVIOURS:
        try:
            out.append(graded_of(lab, b, run(b.scenario)))
        except RuntimeError as err:
            out.append(graded_of(lab, b, None, str(err)))
    return out


BEHAVIOUR_NOTE = "behaviour"


def keep(snapshot_notes: dict[str, str], steps: list[Graded]) -> None:
    """The steps go into the snapshot they were graded with, so `grade --from` shows them too."""
    snapshot_notes[BEHAVIOUR_NOTE] = json.dumps([g.as_dict() for g in steps])


def kept(snapshot_notes: dict[str, str]) -> list[Graded]:
    return [
        Graded(d["section"], d["step"], d["machine"], d["verdict"], d["observed"], d["expected"], d["hint"])
        for d in json.loads(snapshot_notes.get(BEHAVIOUR_NOTE, "[]"))
    ]
