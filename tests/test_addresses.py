"""The tests' address finder: what it counts as a host, a network, or neither."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from tests.addresses import hosts_and_networks


@pytest.mark.parametrize(
    ("text", "hosts", "networks"),
    [
        ("address 192.0.2.220/24", {"192.0.2.220"}, set()),
        ("ip route add 172.16.220.0/24 via 198.18.28.200", {"198.18.28.200"}, {"172.16.220.0/24"}),
        ("subnet 192.0.2.0 netmask 255.255.255.0 {", set(), {"192.0.2.0/24"}),
        ("-d 203.0.113.9/32 -j DROP", {"203.0.113.9"}, set()),
        ("virtual_ipaddress { fe80:7::de/64 }", {"fe80:7::de"}, set()),
        ("prefix 2001:db8:7::/64", set(), {"2001:db8:7::/64"}),
        ("<td>2001:db8:dc::2/64<br>fe80:dc::1/64</td>", {"2001:db8:dc::2", "fe80:dc::1"}, set()),
        ("mac ba:ad:ca:fe:00:dc, time 12:30:01, version 1.2.3", set(), set()),
    ],
)
def test_finds_hosts_and_networks(text: str, hosts: set[str], networks: set[str]) -> None:
    found_hosts, found_networks = hosts_and_networks(text)
    assert (found_hosts, found_networks) == ({ip_address(h) for h in hosts}, {ip_network(n) for n in networks})
