"""The lab as students build it: stages named after the seed's sections, each one what vxlab
builds before the students take over, and the seed's section titles the grade's hints point to.

A VM is configured by one section of the seed: redRouter by §4, the first tenant by §5, the
second by §6. A stage builds the host side (§3) and the VMs of its sections; the sections after
it are the students' work.
"""

from __future__ import annotations

from typing import get_args

from vxlab.model.lab import Lab, Stage, Tenant

STAGE_NAMES: tuple[Stage, ...] = get_args(Stage)
# The seed's sections each stage builds (§7 checks the finished lab).
STAGE_SECTIONS: dict[Stage, tuple[str, ...]] = {
    "hosts": ("3",),
    "router": ("3", "4"),
    "blue": ("3", "4", "5"),
    "full": ("3", "4", "5", "6", "7"),
}
# What a stage leaves to the students, in words (the handout and `vxlab catch-up` print it).
STAGE_WORDS: dict[Stage, str] = {
    "hosts": "the host switch and the three VMs are up; configure redRouter (§4) and both tenants (§5, §6)",
    "router": "redRouter is configured; configure both tenants (§5, §6)",
    "blue": "redRouter and the first tenant are configured; configure the second tenant (§6)",
    "full": "the whole lab is built; check it (§7)",
}

# The seed's table of contents: a hint names the section and its title.
SECTION_TITLES: dict[str, str] = {
    "3": "Prepare Host system",
    "3.1": "Create virtual machines files from a pre-existing master image",
    "3.4": "Setup the three tap interfaces in order to plug the virtual machines on Host distribution switch dsw-host",
    "3.5": "Turn on IPv4 and IPv6 routing on Host system which is also a router",
    "3.6": "Finally, launch the three virtual machines",
    "4": "Configure router virtual machine : redRouter",
    "4.1": "Turn on IPv4 and IPv6 routing",
    "4.2": "Add two new IPv4 routing tables",
    "4.3": "Configure three network interfaces : one per VLAN",
    "4.4": "Set the “ugly” NAT rules on Host link and the mangle rules on links to the tenants",
    "5": "Configure Blue tenant virtual machine : blueTenant",
    "6": "Configure Green tenant virtual machine : greenTenant",
    "7": "Check the results",
    "7.1": "Look at VXLAN broadcast domain",
    "7.2": "Look at container addressing",
    "7.3": "Look at gateway management with keepalived",
    "7.4": "Look at the traffic coming back and forth from the containers",
    "7.5": "Look at connection tracking on the redRouter Internet link",
    "7.6": "Failover test",
}
# §5 and §6 share their subsections' titles (one tenant each).
TENANT_SUBSECTIONS: dict[int, str] = {
    1: "Configure network interfaces and switches for LXD",
    2: "Turn on IPv4 and IPv6 routing",
    3: "Install lxd",
    4: "Initial configuration and/or profile",
    5: "Launch the three lxd new containers",
    6: "Configure IPv6 SLAAC with radvd for containers",
    7: "Configure IPv4 ISC DHCP server into the DHCP container",
    8: "Configure keepalived for IPv4 and IPv6 gateway resiliency between Blue and Green tenants",
}
for _chapter in ("5", "6"):
    SECTION_TITLES.update({f"{_chapter}.{n}": title for n, title in TENANT_SUBSECTIONS.items()})


def chapter(section: str) -> str:
    """`5.8` -> `5`."""
    return section.split(".")[0]


def section_title(section: str) -> str:
    return SECTION_TITLES.get(section) or SECTION_TITLES.get(chapter(section), "")


def vm_sections(lab: Lab) -> dict[str, str]:
    """The chapter of the seed that configures each VM."""
    blue, green = lab.tenants["blue"], lab.tenants["green"]
    return {lab.router.name: "4", blue.name: "5", green.name: "6"}


def last_tenant(lab: Lab) -> Tenant:
    """The tenant whose chapter comes last: it grades what needs both (the DHCP pair, the VIPs)."""
    return max(lab.tenants.values(), key=lambda t: vm_sections(lab)[t.name])


def stage_of_section(section: str) -> Stage:
    """The lowest stage that builds `section` (`vxlab catch-up --to`)."""
    wanted = chapter(section)
    for stage in STAGE_NAMES:
        if wanted in STAGE_SECTIONS[stage]:
            return stage
    raise ValueError(f"no stage builds §{section}: name a stage ({', '.join(STAGE_NAMES)}) or a chapter 3 to 7")


def stage_rank(stage: Stage) -> int:
    return STAGE_NAMES.index(stage)


def built_vms(lab: Lab, stage: Stage) -> list[str]:
    """The VMs vxlab configures at `stage`, in the seed's order."""
    return [vm for vm, section in vm_sections(lab).items() if section in STAGE_SECTIONS[stage]]


def stage_named(text: str) -> Stage:
    """A stage by its name, or the lowest stage that builds a chapter of the seed (`5` -> blue)."""
    if text in STAGE_NAMES:
        return next(s for s in STAGE_NAMES if s == text)
    return stage_of_section(text)
