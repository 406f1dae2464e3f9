"""One place builds every name and number that must differ between class groups.

Group 0 is the seed's lab, unchanged. Group g (1..40) shifts everything the groups share on
one hypervisor (host bridge ports and VLANs, taps and MACs, domain names, subnets, VNIs,
VRIDs) into a block of its own, so two groups never collide:

    upstream VLAN 100g+28, router tap 100g+30, tenant taps/link VLANs 100g+40 and 100g+41,
    VNI 1000g+7, VRIDs 100+2g / 101+2g, IPv4 198.19.g.0/24 upstream, 172.20.g.0/24 and
    172.21.g.0/24 links, 10.g.7.0/24 segment, IPv6 2001:db8:(0x100+g)::/48 for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_GROUP = 40


@dataclass(frozen=True)
class GroupNumbers:
    group: int
    prefix: str  # prepended to every VM and container name
    upstream_vlan: int
    router_tap: int
    blue_tap: int
    green_tap: int
    vni: int
    vrid4: int
    vrid6: int
    upstream4: str  # "a.b.c" of the upstream /24
    blue_link4: str
    green_link4: str
    segment4: str
    upstream6: str  # a /64 prefix without length, ending in "::"
    links6_base: str  # "2001:db8:dc" style head; the tenant's hex link id follows
    segment6: str


def group_numbers(group: int) -> GroupNumbers:
    if group == 0:
        return GroupNumbers(
            group=0,
            prefix="",
            upstream_vlan=28,
            router_tap=20,
            blue_tap=220,
            green_tap=221,
            vni=7,
            vrid4=74,
            vrid6=76,
            upstream4="198.18.28",
            blue_link4="172.16.220",
            green_link4="172.16.221",
            segment4="192.0.2",
            upstream6="2001:678:3fc:1c::",
            links6_base="2001:db8",
            segment6="2001:db8:7::",
        )
    if not 1 <= group <= MAX_GROUP:
        raise ValueError(f"group must be 0..{MAX_GROUP}")
    block = 100 * group
    site = f"2001:db8:{0x100 + group:x}"
    return GroupNumbers(
        group=group,
        prefix=f"g{group:02d}-",
        upstream_vlan=block + 28,
        router_tap=block + 30,
        blue_tap=block + 40,
        green_tap=block + 41,
        vni=1000 * group + 7,
        vrid4=100 + 2 * group,
        vrid6=101 + 2 * group,
        upstream4=f"198.19.{group}",
        blue_link4=f"172.20.{group}",
        green_link4=f"172.21.{group}",
        segment4=f"10.{group}.7",
        upstream6=f"{site}:1c::",
        links6_base=site,
        segment6=f"{site}:7::",
    )


def stack_label(group: int) -> str:
    """The label every resource of a group carries, so inspect and destroy can find it."""
    return "vxlab-seed" if group == 0 else f"vxlab-g{group:02d}"
