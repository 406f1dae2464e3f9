"""The MTU of every link of the lab, from the underlay up, and what a full-size packet is.

A frame a container sends on the shared segment crosses the VXLAN between the tenants inside an
outer IP + UDP + VXLAN header; the tenants reach each other through the router's two link
sub-interfaces and the host switch. So the overlay MTU (containers, `sw-vlan7`, what radvd and
DHCP announce) must leave room for that header inside the underlay MTU, and every hop of the
underlay (tenant NIC, host taps, router NIC, its link sub-interfaces) must carry the underlay MTU.

The VXLAN port is an access port of the segment VLAN: the VNI already names the segment, so the
inner frame crosses untagged (the seed's port, with no tag, carried it tagged: 4 bytes more,
and full-size frames were dropped; docs/seed-deviations.md, row 6).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from vxlab.model.lab import Lab, Tenant

ETHERNET = 14
DOT1Q = 4
IP_HEADER = {4: 20, 6: 40}
UDP = 8
VXLAN = 8
ICMP_ECHO = 8
# The inner frame on the VXLAN carries no 802.1Q tag (the port is an access port of the segment VLAN).
VXLAN_INNER_TAGGED = False
# The upstream (host SVI, router's upstream sub-interface) is plain Ethernet, as in the seed.
UPSTREAM_MTU = 1500


def vxlan_overhead(underlay_version: int, inner_tagged: bool = VXLAN_INNER_TAGGED) -> int:
    """Bytes a VXLAN tunnel adds to an overlay IP packet of the underlay's IP version: the outer IP,
    UDP and VXLAN headers plus the inner Ethernet header (and its tag, when the frame carries one).
    The outer Ethernet header is the underlay link's own and is not counted in its MTU."""
    return IP_HEADER[underlay_version] + UDP + VXLAN + ETHERNET + (DOT1Q if inner_tagged else 0)


def tunnel_remote(lab: Lab, tenant: Tenant) -> IPv4Address | IPv6Address:
    """Where the tenant's VXLAN port sends: the other tenant's underlay address."""
    return lab.peer_of(tenant).tenant_ipv4.ip


def underlay_version(lab: Lab) -> int:
    return max(tunnel_remote(lab, t).version for t in lab.tenants.values())


def max_overlay_mtu(lab: Lab) -> int:
    """The largest overlay MTU whose full-size frames fit the underlay once encapsulated."""
    return lab.segment.underlay_mtu - vxlan_overhead(underlay_version(lab))


def router_nic_mtu(lab: Lab) -> int:
    """The router's trunk NIC (and its host tap) carries both the tenant links and the upstream."""
    return max(lab.segment.underlay_mtu, UPSTREAM_MTU)


def tap_mtu(lab: Lab, vm: str) -> int:
    """The MTU of a VM's tap on the host switch: its NIC's."""
    return router_nic_mtu(lab) if vm == lab.router.name else lab.segment.underlay_mtu


def full_size_payload(mtu: int, family: int) -> int:
    """The ICMP echo payload (`ping -s`) of a packet exactly `mtu` bytes long."""
    return mtu - IP_HEADER[family] - ICMP_ECHO
