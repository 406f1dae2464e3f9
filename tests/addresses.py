"""Addresses found in text, as the tests compare them: by value, not by spelling."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_interface, ip_network

V4 = r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\w.])"
V6 = r"(?<![\w:.])(?:[0-9a-fA-F]{1,4}:){1,7}:?(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?(?:/\d{1,3})?(?![\w:])"
QUAD = r"(?:\d{1,3}\.){3}\d{1,3}"
SUBNET = re.compile(rf"subnet\s+({QUAD})\s+netmask\s+({QUAD})")
NETMASK = re.compile(rf"netmask\s+({QUAD})")


def hosts_and_networks(
    text: str,
) -> tuple[set[IPv4Address | IPv6Address], set[IPv4Network | IPv6Network]]:
    """Host addresses, and networks (a token whose address is its own network, `10.0.0.0/24`, or
    dhcpd's `subnet 10.0.0.0 netmask 255.255.255.0`). Netmasks are neither."""
    subnets = SUBNET.findall(text)
    skip = set(NETMASK.findall(text)) | {address for address, _ in subnets}
    hosts: set[IPv4Address | IPv6Address] = set()
    networks: set[IPv4Network | IPv6Network] = {ip_network(f"{a}/{m}") for a, m in subnets}
    for token in re.findall(V4, text) + re.findall(V6, text):
        if token in skip:
            continue
        try:
            iface = ip_interface(token)
        except ValueError:
            continue
        if "/" in token and iface.ip == iface.network.network_address and iface.network.prefixlen < iface.max_prefixlen:
            networks.add(iface.network)
        else:
            hosts.add(iface.ip)
    return hosts, networks
