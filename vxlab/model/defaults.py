"""The derive phase: the full lab a group gets when its stack states nothing else.

Group 0 reproduces the seed's values exactly; `naming.group_numbers` shifts the values that
groups share on one hypervisor. The result is plain data (what a stack file could state),
so a stack's overrides merge over it key by key before validation.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_interface
from typing import Any

from vxlab.base.errors import ConfigError, config_key
from vxlab.model.naming import group_numbers

# A placeholder that keeps renders deterministic; real stacks set their own key.
DEFAULT_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ4bGFiIGV4YW1wbGUga2V5OiBub3QgZm9yIHVzZSEh vxlab-example"


def _tenant(
    color: str,
    tap: int,
    link4: str,
    link6_id: str,
    host_id: int,
    prefix: str,
    seg4: str,
    seg6: str,
    role: str,
    port_name: str,
) -> dict[str, Any]:
    return {
        "name": f"{prefix}{color}Tenant",
        "tap": tap,
        "link_vlan": tap,
        "nic": "enp0s1",
        "ram_mib": 1024,
        "vcpus": 1,
        "router_ipv4": f"{link4}.1/24",
        "tenant_ipv4": f"{link4}.2/24",
        "router_ipv6": f"{link6_id}::1/64",
        "tenant_ipv6": f"{link6_id}::2/64",
        "router_ll": f"fe80:{host_id:x}::1/64",
        "table_id": host_id,
        "table_name": color,
        "fwmark": host_id,
        "ovs_bridge": f"C-3PO-{color.upper()}",
        "vxlan_port": port_name,
        "svi_ipv4": f"{seg4}.{host_id}/24",
        "svi_ipv6": f"{seg6}{host_id:x}/64",
        "svi_ll": f"fe80:7::{host_id:x}/64",
        "vrrp_priority": host_id,
        "dhcp_server": {
            "name": f"{prefix}{color}DHCP",
            "ipv4": f"{seg4}.{250 if role == 'primary' else 251}/24",
            "role": role,
        },
        "clients": [f"{prefix}{color}C0", f"{prefix}{color}C1"],
    }


def lab_defaults(group: int) -> dict[str, Any]:
    n = group_numbers(group)
    return {
        "group": group,
        "stage": "full",
        "hypervisor": {
            "libvirt_uri": "qemu:///system",
            "domain_type": "kvm",
            "machine": "q35",
            "ssh_host": None,
            "bridge": "dsw-host",
            "datapath_type": "system",
            "uplink": "eno1",
            "svi_netns": None,
            "tap_group": "kvm",
            "ssh_forward_base": None,
            "mac_prefix": "ba:ad:ca:fe",
        },
        # What scripts/build-images makes and scripts/lab-host puts in its pool: the seed's own
        # image and images:debian/12 are not at hand (that server no longer serves LXD clients).
        "images": {
            "pool": "vxlab",
            "master": "vxlab-bookworm.qcow2",
            "container_image": "vxlab-dhcp",
            "container_tarball": "/var/lib/vxlab/images/container.tar.gz",
            "kernel": "/var/lib/vxlab/images/current/vmlinuz",
            "initrd": "/var/lib/vxlab/images/current/initrd.img",
            "cmdline": "root=/dev/vda rw console=ttyS0",
        },
        "lab_user": {"name": "etu", "ssh_public_key": DEFAULT_SSH_KEY},
        "internet": {
            "probe4": "9.9.9.9",
            "probe6": "2620:fe::fe",
            "dns4": "9.9.9.9",
            "dns6": "2620:fe::fe",
            "traffic_port": 8080,
        },
        "upstream": {
            "vlan": n.upstream_vlan,
            "svi": f"vlan{n.upstream_vlan}",
            "host_ipv4": f"{n.upstream4}.20/24",
            "host_ipv6": f"{n.upstream6}14/64",
            "gateway4": f"{n.upstream4}.1",
            "gateway6": "fe80:1c::1",
        },
        "router": {
            "name": f"{n.prefix}redRouter",
            "tap": n.router_tap,
            "nic": "enp0s1",
            "ram_mib": 1024,
            "vcpus": 1,
            "upstream_ipv4": f"{n.upstream4}.200/24",
            "upstream_ipv6": f"{n.upstream6}c8/64",
        },
        "tenants": {
            "blue": _tenant(
                "blue",
                n.blue_tap,
                n.blue_link4,
                f"{n.links6_base}:dc",
                220,
                n.prefix,
                n.segment4,
                n.segment6,
                "primary",
                "vxlanBlueGreen",
            ),
            "green": _tenant(
                "green",
                n.green_tap,
                n.green_link4,
                f"{n.links6_base}:dd",
                221,
                n.prefix,
                n.segment4,
                n.segment6,
                "secondary",
                "vxlanGreenBlue",
            ),
        },
        "segment": {
            "vlan": 7,
            "vni": n.vni,
            "svi": "sw-vlan7",
            "ipv4": f"{n.segment4}.0/24",
            "ipv6": f"{n.segment6}/64",
            "mtu": 1450,
            "underlay_mtu": 1500,
        },
        "vrrp": {
            "vrid4": n.vrid4,
            "vrid6": n.vrid6,
            "vip4": f"{n.segment4}.222/24",
            "vip6": "fe80:7::de/64",
            "advert_int": 1,
            "check": {"interval": 1, "timeout": 5, "rise": 3, "fall": 3},
            "track_uplink": False,
        },
        "radvd": {"ra_source": "fe80:7::de", "prefix": f"{n.segment6}/64"},
        "dhcp": {
            "range_start": f"{n.segment4}.10",
            "range_end": f"{n.segment4}.90",
            "default_lease_time": 600,
            "max_lease_time": 7200,
            "failover": {
                "name": "failover-partner",
                "primary_port": 519,
                "secondary_port": 520,
                "max_response_delay": 60,
                "max_unacked_updates": 10,
                "mclt": 3600,
                "split": 128,
                "load_balance_max_seconds": 3,
            },
            "client": {"retry": 10, "backoff_cutoff": 10},
        },
        "lxd": {"port": 8443, "memory_mib": 256, "cpus": 1, "storage_driver": "btrfs", "storage_gib": 4},
    }


# What follows a subnet when a stack states only the subnet: (source key, dependent keys).
# A dependent keeps its host part (the SVI stays .220 of the segment) unless stated itself.
_FOLLOWERS: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = (
    (
        ("segment", "ipv4"),
        (
            ("tenants", "blue", "svi_ipv4"),
            ("tenants", "green", "svi_ipv4"),
            ("tenants", "blue", "dhcp_server", "ipv4"),
            ("tenants", "green", "dhcp_server", "ipv4"),
            ("vrrp", "vip4"),
            ("dhcp", "range_start"),
            ("dhcp", "range_end"),
        ),
    ),
    (("segment", "ipv6"), (("tenants", "blue", "svi_ipv6"), ("tenants", "green", "svi_ipv6"), ("radvd", "prefix"))),
    (("upstream", "host_ipv4"), (("router", "upstream_ipv4"), ("upstream", "gateway4"))),
    (("upstream", "host_ipv6"), (("router", "upstream_ipv6"),)),
    (("tenants", "blue", "router_ipv4"), (("tenants", "blue", "tenant_ipv4"),)),
    (("tenants", "green", "router_ipv4"), (("tenants", "green", "tenant_ipv4"),)),
    (("tenants", "blue", "router_ipv6"), (("tenants", "blue", "tenant_ipv6"),)),
    (("tenants", "green", "router_ipv6"), (("tenants", "green", "tenant_ipv6"),)),
    (("vrrp", "vip6"), (("radvd", "ra_source"),)),
)


def _get(tree: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def _set(tree: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value


def _network(text: Any) -> IPv4Network | IPv6Network | None:
    """The subnet a stated value names (a prefix, or an address with its prefix length)."""
    if not isinstance(text, str) or "/" not in text:
        return None
    try:
        return ip_interface(text).network
    except ValueError:
        return None


def derive(group: int, stated: dict[str, Any]) -> dict[str, Any]:
    """The group's defaults, with every address that depends on a subnet the stack states
    moved into that subnet: overriding `segment.ipv4` alone re-derives the SVIs, the DHCP
    servers, the range and the VIP."""
    lab = lab_defaults(group)
    for source, followers in _FOLLOWERS:
        new = _network(_get(stated, source))
        old = _network(_get(lab, source))
        if new is None or old is None or new.version != old.version or _get(stated, source) == _get(lab, source):
            continue
        for path in followers:
            if _get(stated, path) is not None:
                continue
            default = str(_get(lab, path))
            is_interface, is_network = "/" in default, path[-1] == "prefix"
            if is_network:
                _set(lab, path, str(new))
                continue
            source_ip = ip_interface(str(_get(lab, source))).ip
            if ip_interface(default).ip == source_ip:  # the same address (radvd's source is the VIP)
                address = ip_interface(str(_get(stated, source))).ip
                host = int(address) - int(new.network_address)
            else:
                host = int(ip_interface(default).ip) - int(old.network_address)
                address = type(new.network_address)(int(new.network_address) + host)
            if address not in new or (new.version == 4 and address == new.broadcast_address):
                raise ConfigError(
                    config_key(source),
                    f"{new} has no room for {config_key(path)} (host part {host} of the default)",
                    f"use a larger subnet, or state {config_key(path)} too",
                )
            _set(lab, path, f"{address}/{new.prefixlen}" if is_interface else str(address))
    return lab
