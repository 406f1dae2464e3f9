"""Seed §5.6 and §6.6: SLAAC for the containers, advertised by radvd from the VRRP link-local VIP."""

from __future__ import annotations

from vxlab.features import graders
from vxlab.features.common import default_route
from vxlab.features.spec import Checker, Feature, FileSpec, Machine, RenderedFile, RuleContext, Sandbox, Task, result
from vxlab.model.lab import Lab
from vxlab.model.stages import vm_sections

RADVD_CONF = "/etc/radvd.conf"


def check_radvd(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    path = run.put("radvd.conf", f.content)
    return result(run.run(["radvd", "--configtest", "--config", str(path)]))


def rules(r: RuleContext) -> None:
    """radvd advertises the segment's prefix from the VRRP IPv6 VIP, so clients follow the VIP."""
    lab = r.lab
    if lab.radvd.ra_source != lab.vrrp.vip6.ip:
        r.fail(
            (("radvd", "ra_source"),),
            f"{lab.radvd.ra_source} is not the VRRP IPv6 VIP {lab.vrrp.vip6.ip}",
            f"set it to {lab.vrrp.vip6.ip} so clients follow the VIP",
        )
    if lab.radvd.prefix != lab.segment.ipv6:
        r.fail(
            (("radvd", "prefix"),),
            f"{lab.radvd.prefix} is not the segment prefix {lab.segment.ipv6}",
            f"set it to {lab.segment.ipv6}",
        )


def slaac_address(lab: Lab, container: str, section: str) -> Task:
    return Task(
        section,
        f"SLAAC address in {lab.segment.ipv6}",
        container,
        "ip -o -6 addr show dev eth0 scope global",
        graders.addresses_in(str(lab.segment.ipv6)),
        where="container",
        expect=f"an address in {lab.segment.ipv6}",
    )


def ra_default_route(lab: Lab, container: str, section: str) -> Task:
    """The container's IPv6 router is the VIP's link-local, and no other: a second router
    advertising (a radvd without `AdvRASrcAddress`, which then speaks from its tenant's own
    link-local) gives every container on the segment a second default that no failover follows."""
    vip = lab.vrrp.vip6.ip
    return default_route(
        container,
        6,
        vip,
        section,
        f"every router advertisement must come from the VIP's link-local {vip}: both tenants' radvd "
        f"with `AdvRASrcAddress {{ {vip}; }}`; another default route means another router advertises",
    )


def _tasks(lab: Lab) -> list[Task]:
    tasks: list[Task] = []
    for t in lab.tenants.values():
        n = vm_sections(lab)[t.name]
        tasks.append(
            Task(f"{n}.6", "radvd runs", t.name, "systemctl is-active radvd", graders.service_active, expect="active")
        )
        tasks += [slaac_address(lab, c, f"{n}.6") for c in t.containers]
        tasks += [ra_default_route(lab, c, f"{n}.6") for c in t.containers]
    return tasks


FEATURE = Feature(
    name="radvd",
    title="IPv6 SLAAC for the containers (radvd), sourced from the VRRP link-local VIP",
    seed_sections=("5.6", "6.6"),
    files=(
        FileSpec(
            "tenant", "tenant/radvd.conf.j2", RADVD_CONF, "radvd", reload="systemctl restart radvd", after=("segment",)
        ),
    ),
    packages={"tenant": ("radvd",)},
    services={"tenant": {"radvd": RADVD_CONF}},
    checkers={"radvd": Checker("radvd --configtest", check_radvd, ("radvd",), debian=("radvd",))},
    rules=rules,
    tasks=_tasks,
)
