"""The lab rules: what the schema cannot see, checked on the whole model.

Each rule raises a ConfigError naming the key to change. When two keys conflict, the one
the stack file states itself is blamed, since that is the one its author can change.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import Any, NoReturn

from vxlab import features
from vxlab.base import hosts
from vxlab.base.errors import ConfigError, config_key
from vxlab.base.sshkey import openssh_refuses
from vxlab.model.lab import Lab, is_valid_ifname
from vxlab.model.mtu import max_overlay_mtu, underlay_version, vxlan_overhead

Path = tuple[str, ...]

SITE_LOCAL = IPv6Network("fec0::/10")
THIS_NETWORK = IPv4Network("0.0.0.0/8")
# iproute2's own table names (rt_tables): a tenant table named so would be the kernel's table.
RESERVED_TABLES = frozenset({"unspec", "default", "main", "local"})
# Groups of the VM image (Debian's base groups and the lab's packages'): cloud-init makes the lab
# user with a group of its own name, which must not exist already.
SYSTEM_GROUPS = frozenset(
    [
        "adm",
        "audio",
        "backup",
        "bin",
        "cdrom",
        "crontab",
        "daemon",
        "dialout",
        "dip",
        "disk",
        "fax",
        "floppy",
        "games",
        "input",
        "irc",
        "kmem",
        "kvm",
        "list",
        "lp",
        "lxd",
        "mail",
        "man",
        "netdev",
        "news",
        "nogroup",
        "openvswitch",
        "operator",
        "plugdev",
        "proxy",
        "render",
        "sasl",
        "sgx",
        "shadow",
        "src",
        "ssh",
        "_ssh",
        "staff",
        "sudo",
        "sys",
        "systemd-journal",
        "tape",
        "tty",
        "users",
        "utmp",
        "uucp",
        "video",
        "voice",
        "www-data",
    ]
)
# Accounts Debian and the lab's packages create: the lab user must be a person's account.
SYSTEM_ACCOUNTS = frozenset(
    [
        "root",
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "gnats",
        "nobody",
        "messagebus",
        "sshd",
        "lxd",
        "dnsmasq",
        "libvirt-qemu",
        "tcpdump",
        "polkitd",
        "avahi",
        "radvd",
        "keepalived",
        "dhcpd",
        "tss",
        "uuidd",
        "statd",
        "ntp",
        "chrony",
        "debian",
        "admin",
    ]
)
SSH_KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)


def _stated(config: Mapping[str, Any], path: Path) -> bool:
    node: Any = config
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


class _Rules:
    def __init__(self, lab: Lab, explicit: Mapping[str, Any]) -> None:
        self.lab = lab
        self.explicit = explicit

    def blame(self, *paths: Path) -> str:
        """The key to report: the first of `paths` the stack states, else the last one."""
        for path in paths:
            if _stated(self.explicit, path):
                return config_key(path)
        return config_key(paths[-1])

    def fail(self, paths: tuple[Path, ...], problem: str, fix: str) -> NoReturn:
        raise ConfigError(self.blame(*paths), problem, fix)

    # -- every address the lab assigns, with the key that sets it -----------------------
    def interfaces(self) -> Iterator[tuple[Path, IPv4Interface | IPv6Interface]]:
        lab = self.lab
        yield ("upstream", "host_ipv4"), lab.upstream.host_ipv4
        yield ("upstream", "host_ipv6"), lab.upstream.host_ipv6
        yield ("router", "upstream_ipv4"), lab.router.upstream_ipv4
        yield ("router", "upstream_ipv6"), lab.router.upstream_ipv6
        for color, t in lab.tenants.items():
            for field in (
                "router_ipv4",
                "tenant_ipv4",
                "router_ipv6",
                "tenant_ipv6",
                "router_ll",
                "svi_ipv4",
                "svi_ipv6",
                "svi_ll",
            ):
                yield ("tenants", color, field), getattr(t, field)
            yield ("tenants", color, "dhcp_server", "ipv4"), t.dhcp_server.ipv4
        yield ("vrrp", "vip4"), lab.vrrp.vip4
        yield ("vrrp", "vip6"), lab.vrrp.vip6

    # -- rules -----------------------------------------------------------------------------
    def values(self) -> None:
        """Values a daemon or the kernel would refuse or misuse, whatever their syntax."""
        lab = self.lab
        for color, t in lab.tenants.items():
            if t.table_name in RESERVED_TABLES:
                self.fail(
                    (("tenants", color, "table_name"),),
                    f"{t.table_name!r} is one of the kernel's own routing tables",
                    "use another name (the seed uses the tenant's colour)",
                )
        user = lab.lab_user.name
        if user in SYSTEM_ACCOUNTS or user.startswith(("_", "systemd-")):
            self.fail(
                (("lab_user", "name"),),
                f"{user!r} is a system account of the VMs",
                "use an ordinary account name, such as the seed's etu",
            )
        key_problem = ssh_public_key_problem(lab.lab_user.ssh_public_key)
        if key_problem:
            self.fail(
                (("lab_user", "ssh_public_key"),),
                key_problem,
                "paste the one line of your key's .pub file (TYPE BASE64 [COMMENT])",
            )
        subnets = [net for _, net in self._subnets()]
        for field in ("probe4", "probe6", "dns4", "dns6"):
            address = getattr(lab.internet, field)
            problem = _unreachable(address)
            if problem is None and field.startswith("probe"):
                inside = next((n for n in subnets if n.version == address.version and address in n), None)
                if inside is not None:
                    problem = f"inside the lab's own subnet {inside}, so it cannot tell that the Internet answers"
            if problem:
                self.fail((("internet", field),), f"{address} is {problem}", "use an address on the Internet side")
        # The hypervisor's own SVI (upstream.host_ipv*) may run a resolver; the lab's VMs run none.
        assigned = {iface.ip: path for path, iface in self.interfaces() if path[0] != "upstream"}
        routed_here = [(p, n) for p, n in self._subnets() if p[0] != "upstream"]
        for field in ("dns4", "dns6"):
            address = getattr(lab.internet, field)
            owner = assigned.get(address)
            inside = next((p for p, n in routed_here if n.version == address.version and address in n), None)
            if owner is not None or inside is not None:
                where = f"the address of {config_key(owner)}" if owner else f"inside {config_key(inside or ())}"
                self.fail(
                    (("internet", field),),
                    f"{address} is {where}, where no DNS resolver runs",
                    "use a resolver on the Internet side (or on the upstream network, such as the hypervisor)",
                )

    def hypervisor(self) -> None:
        """Which machine is the hypervisor: the libvirt URI and `ssh_host` must name the same one."""
        hv = self.lab.hypervisor
        try:
            uri = hosts.uri_host(hv.libvirt_uri)
        except ValueError as exc:
            self.fail(
                (("hypervisor", "libvirt_uri"),),
                f"its host is not a valid name or address ({exc})",
                "write an IPv6 address in brackets, whole: qemu+ssh://root@[2001:db8::7]/system",
            )
        if hv.ssh_host is not None and ":" in hv.ssh_host:
            try:
                IPv6Address(hv.ssh_host)
            except ValueError:
                self.fail(
                    (("hypervisor", "ssh_host"),),
                    f"{hv.ssh_host!r} is not a valid IPv6 address",
                    "write the address whole, without brackets (2001:db8::7), or use the host's name",
                )
        remote = uri is not None and hosts.canonical(uri) != hosts.LOCAL
        if remote and hv.ssh_host is None:
            self.fail(
                (("hypervisor", "ssh_host"), ("hypervisor", "libvirt_uri")),
                f"libvirt runs on {uri} but hypervisor.ssh_host is not set: the host switch would be built "
                "on this machine",
                f"set hypervisor.ssh_host to {uri}",
            )
        if not remote and hv.ssh_host is not None and hosts.canonical(hv.ssh_host) != hosts.LOCAL:
            self.fail(
                (("hypervisor", "ssh_host"), ("hypervisor", "libvirt_uri")),
                f"{hv.ssh_host} runs the host switch, while libvirt_uri {hv.libvirt_uri} drives this machine's libvirt",
                f"set libvirt_uri to qemu+ssh://root@{hv.ssh_host}/system, or ssh_host to null",
            )

    def guests(self) -> None:
        """What each guest will do with a value: its NIC's name, its ports, its accounts, names
        on the host switch."""
        lab = self.lab
        ifnames0 = "net.ifnames=0" in lab.images.cmdline.split()
        machine = lab.hypervisor.machine
        reserved = reserved_pci_slots(machine)
        nics: list[tuple[Path, str]] = [(("router", "nic"), lab.router.nic)]
        nics += [(("tenants", color, "nic"), t.nic) for color, t in lab.tenants.items()]
        for path, nic in nics:
            slot = re.fullmatch(r"enp0s(\d+)", nic)
            if ifnames0 and nic != "eth0":
                self.fail(
                    (path, ("images", "cmdline")),
                    f"{nic!r}: with net.ifnames=0 on the kernel command line the kernel names the VM's one NIC eth0",
                    "use eth0, or drop net.ifnames=0 from images.cmdline",
                )
            if not ifnames0 and re.fullmatch(r"eth\d+", nic):
                self.fail(
                    (path,),
                    f"{nic!r}: udev renames ethN to a predictable name (enp0s1 on q35) unless the kernel "
                    "command line has net.ifnames=0",
                    "use enp0s1, or add net.ifnames=0 to images.cmdline",
                )
            if slot and (int(slot.group(1)) in reserved or int(slot.group(1)) > 31):
                self.fail(
                    (path, ("hypervisor", "machine")),
                    f"{nic!r} needs PCI slot {slot.group(1)} of bus 0, which machine type {machine} reserves "
                    f"(slots {', '.join(map(str, sorted(reserved)))}; 31 is the last)",
                    f"use another slot, such as enp0s{min(set(range(1, 31)) - reserved)}",
                )
        user = lab.lab_user.name
        if user in SYSTEM_GROUPS:
            self.fail(
                (("lab_user", "name"),),
                f"{user!r} is a group of the VM image: cloud-init cannot make a user with that name",
                "use an ordinary account name, such as the seed's etu",
            )
        taken = {22: "sshd on the tenants"}
        if lab.lxd.port in taken:
            self.fail((("lxd", "port"),), f"port {lab.lxd.port} is {taken[lab.lxd.port]}", "use LXD's own port, 8443")
        dhcp_ports = {67: "the DHCP server's own port", 68: "the DHCP client port"}
        for field in ("primary_port", "secondary_port"):
            port = getattr(lab.dhcp.failover, field)
            if port in dhcp_ports:
                self.fail(
                    (("dhcp", "failover", field),),
                    f"port {port} is {dhcp_ports[port]} in the DHCP containers",
                    "use the seed's failover ports 519 and 520",
                )
        if lab.internet.traffic_port == 22:
            self.fail(
                (("internet", "traffic_port"),),
                "port 22 is sshd's on the hypervisor (and on its SVI)",
                "use a free port such as 8080",
            )
        hv, svi = lab.hypervisor, lab.upstream.svi
        taps = {f"tap{n}" for n in (lab.router.tap, *(t.tap for t in lab.tenants.values()))}
        host_names = {hv.bridge: "the host bridge", **dict.fromkeys(taps, "a tap of the group")}
        if hv.uplink:
            host_names[hv.uplink] = "the bridge's uplink"
        if svi in host_names:
            self.fail(
                (("upstream", "svi"),),
                f"{svi!r} is also {host_names[svi]} on the hypervisor",
                "give the SVI its own name, such as the seed's vlan28",
            )
        if hv.svi_netns and len(svi) > 12:
            self.fail(
                (("upstream", "svi"),),
                f"{svi!r} is {len(svi)} characters: its host end {svi}-br would be longer than 15",
                "use an SVI name of at most 12 characters",
            )

    def meanings(self) -> None:
        """Subnets and gateways that parse but cannot number or route hosts."""
        for path, net in self._subnets():
            problem = _meaningless_subnet(net)
            if problem:
                self.fail((path,), f"{net} is {problem}", "use a unicast subnet (private or documentation ranges)")
        up4 = self.lab.upstream.host_ipv4.network
        gateway = self.lab.upstream.gateway4
        if gateway in (up4.network_address, up4.broadcast_address) and up4.prefixlen < 31:
            self.fail(
                (("upstream", "gateway4"),),
                f"{gateway} is the network or broadcast address of {up4}",
                "use the upstream router's host address",
            )

    def _subnets(self) -> list[tuple[Path, Any]]:
        lab = self.lab
        nets: list[tuple[Path, Any]] = [
            (("upstream", "host_ipv4"), lab.upstream.host_ipv4.network),
            (("upstream", "host_ipv6"), lab.upstream.host_ipv6.network),
            (("segment", "ipv4"), lab.segment.ipv4),
            (("segment", "ipv6"), lab.segment.ipv6),
        ]
        for color, t in lab.tenants.items():
            nets.append((("tenants", color, "router_ipv4"), t.router_ipv4.network))
            nets.append((("tenants", color, "router_ipv6"), t.router_ipv6.network))
        return nets

    def names(self) -> None:
        lab = self.lab
        for color, t in lab.tenants.items():
            subif = lab.router_subif(t.link_vlan)
            if not is_valid_ifname(subif):
                self.fail(
                    (("router", "nic"), ("tenants", color, "link_vlan")),
                    f"the router sub-interface name {subif!r} is longer than 15 characters",
                    "use a shorter router NIC name",
                )
        up_subif = lab.router_subif(lab.upstream.vlan)
        if not is_valid_ifname(up_subif):
            self.fail(
                (("router", "nic"),),
                f"the sub-interface name {up_subif!r} is too long",
                "use a shorter router NIC name",
            )
        seen: dict[str, Path] = {}
        machines: list[tuple[Path, str]] = [(("router", "name"), lab.router.name)]
        for color, t in lab.tenants.items():
            machines.append((("tenants", color, "name"), t.name))
            machines.append((("tenants", color, "dhcp_server", "name"), t.dhcp_server.name))
            machines.extend((("tenants", color, "clients"), c) for c in t.clients)
        for path, name in machines:
            lowered = name.lower()
            if lowered in seen:
                self.fail(
                    (seen[lowered], path),
                    f"the name {name!r} is used twice",
                    "give every VM and container its own name",
                )
            seen[lowered] = path
        for color, t in lab.tenants.items():
            own = [("ovs_bridge", t.ovs_bridge), ("vxlan_port", t.vxlan_port), ("nic", t.nic)]
            own.append(("segment.svi", lab.segment.svi))
            names = [n for _, n in own]
            dupes = {n for n in names if names.count(n) > 1}
            if dupes:
                self.fail(
                    (("tenants", color, "vxlan_port"), ("tenants", color, "ovs_bridge")),
                    f"interface name {sorted(dupes)[0]!r} is used twice on {t.name}",
                    "give the bridge, the SVI, the NIC and the VXLAN port distinct names",
                )
        blue, green = lab.tenants["blue"], lab.tenants["green"]
        if blue.table_name == green.table_name or blue.table_id == green.table_id:
            self.fail(
                (("tenants", "blue", "table_id"), ("tenants", "green", "table_id")),
                "both tenants use the same routing table",
                "give each tenant its own table id and table name",
            )
        if blue.fwmark == green.fwmark:
            self.fail(
                (("tenants", "blue", "fwmark"), ("tenants", "green", "fwmark")),
                f"both tenants use fwmark {blue.fwmark}",
                "give each tenant its own fwmark",
            )

    def numbers(self) -> None:
        lab = self.lab
        prefix = int(lab.hypervisor.mac_prefix.split(":")[0], 16)
        if prefix & 0x01 or not prefix & 0x02:
            self.fail(
                (("hypervisor", "mac_prefix"),),
                f"{lab.hypervisor.mac_prefix} is not a locally administered unicast prefix",
                "use a first byte with bit 1 set and bit 0 clear (e.g. ba, 02, 06)",
            )
        taps: dict[int, Path] = {lab.router.tap: ("router", "tap")}
        vlans: dict[int, Path] = {lab.upstream.vlan: ("upstream", "vlan")}
        for color, t in lab.tenants.items():
            for table, path, value in (
                (taps, ("tenants", color, "tap"), t.tap),
                (vlans, ("tenants", color, "link_vlan"), t.link_vlan),
            ):
                if value in table:
                    self.fail(
                        (table[value], path),
                        f"{value} is used twice on the host bridge",
                        "give every VM its own tap number and every link its own VLAN",
                    )
                table[value] = path
        hv = lab.hypervisor
        if hv.ssh_forward_base is not None and hv.svi_netns is None:
            self.fail(
                (("hypervisor", "ssh_forward_base"),),
                "SSH forwarding needs the lab in a namespace",
                "set hypervisor.svi_netns, or set ssh_forward_base to null",
            )
        if (lab.images.kernel is None) != (lab.images.initrd is None):
            self.fail(
                (("images", "initrd"), ("images", "kernel")),
                "direct boot needs both a kernel and an initrd",
                "set both images.kernel and images.initrd, or neither",
            )
        if lab.segment.mtu > max_overlay_mtu(lab):
            overhead = vxlan_overhead(underlay_version(lab))
            self.fail(
                (("segment", "mtu"), ("segment", "underlay_mtu")),
                f"overlay MTU {lab.segment.mtu} + {overhead} bytes of VXLAN over IPv{underlay_version(lab)} "
                f"(outer IP, UDP, VXLAN and the inner untagged Ethernet header) exceeds the underlay MTU "
                f"{lab.segment.underlay_mtu}",
                f"set segment.mtu <= {max_overlay_mtu(lab)}, or segment.underlay_mtu >= {lab.segment.mtu + overhead}",
            )

    def subnets(self) -> None:
        lab = self.lab
        up4 = lab.upstream.host_ipv4.network
        up6 = lab.upstream.host_ipv6.network
        self.inside(("router", "upstream_ipv4"), lab.router.upstream_ipv4, up4, ("upstream", "host_ipv4"))
        self.inside(("router", "upstream_ipv6"), lab.router.upstream_ipv6, up6, ("upstream", "host_ipv6"))
        if IPv4Interface(f"{lab.upstream.gateway4}/{up4.prefixlen}").network != up4:
            self.fail(
                (("upstream", "gateway4"),), f"{lab.upstream.gateway4} is outside {up4}", f"use an address inside {up4}"
            )
        self._link_local(("upstream", "gateway6"), lab.upstream.gateway6)
        seg4, seg6 = lab.segment.ipv4, lab.segment.ipv6
        if seg6.prefixlen != 64:
            self.fail((("segment", "ipv6"),), f"{seg6} is not a /64", "use a /64 prefix (SLAAC needs it)")
        for color, t in lab.tenants.items():
            base: Path = ("tenants", color)
            self.inside((*base, "tenant_ipv4"), t.tenant_ipv4, t.router_ipv4.network, (*base, "router_ipv4"))
            self.inside((*base, "tenant_ipv6"), t.tenant_ipv6, t.router_ipv6.network, (*base, "router_ipv6"))
            self._link_local((*base, "router_ll"), t.router_ll.ip)
            self._link_local((*base, "svi_ll"), t.svi_ll.ip)
            self.inside((*base, "svi_ipv4"), t.svi_ipv4, seg4, ("segment", "ipv4"))
            self.inside((*base, "svi_ipv6"), t.svi_ipv6, seg6, ("segment", "ipv6"))
            self.inside((*base, "dhcp_server", "ipv4"), t.dhcp_server.ipv4, seg4, ("segment", "ipv4"))
        self._distinct_subnets()

    def _distinct_subnets(self) -> None:
        nets = self._subnets()
        for i, (path_a, a) in enumerate(nets):
            for path_b, b in nets[i + 1 :]:
                if a.version == b.version and a.overlaps(b):
                    self.fail(
                        (path_b, path_a),
                        f"subnet {b} overlaps {a}",
                        "give the upstream, each tenant link and the segment their own subnet",
                    )

    def addresses(self) -> None:
        # A link-local address is unique on its link only: the router may use one on both tenant links.
        seen: dict[tuple[IPv4Address | IPv6Address, str], Path] = {}
        for path, iface in self.interfaces():
            key = (iface.ip, _link_of(path) if iface.ip.is_link_local else "")
            if key in seen:
                self.fail(
                    (seen[key], path),
                    f"address {iface.ip} is assigned twice" + (f" on the {key[1]} link" if key[1] else ""),
                    "give every interface its own address",
                )
            seen[key] = path
        assigned = {ip: path for (ip, _), path in seen.items()}
        # Addresses that reach other nodes: the upstream gateway must not be one of ours.
        lab = self.lab
        for path, addr in (
            (("upstream", "gateway4"), lab.upstream.gateway4),
            (("upstream", "gateway6"), lab.upstream.gateway6),
        ):
            if addr in assigned and not addr.is_link_local:
                self.fail(
                    (path,),
                    f"{addr} is also assigned to {config_key(assigned[addr])}",
                    "point the gateway at the upstream router, not at a lab address",
                )

    def inside(self, path: Path, iface: IPv4Interface | IPv6Interface, net: Any, net_path: Path) -> None:
        if iface.ip not in net or iface.network != net:
            self.fail(
                (path,),
                f"{iface} is not an address of {net} (set by {config_key(net_path)})",
                f"use an address inside {net} with prefix length /{net.prefixlen}",
            )
        if iface.version == 4 and iface.ip in (net.network_address, net.broadcast_address):
            self.fail((path,), f"{iface.ip} is the network or broadcast address of {net}", "use a host address")

    def _link_local(self, path: Path, addr: IPv6Address) -> None:
        if not addr.is_link_local:
            self.fail((path,), f"{addr} is not link-local", "use an address in fe80::/10")


def _link_of(path: Path) -> str:
    """The link an address of the model sits on: a tenant's link to the router, the segment, or the upstream."""
    if path[0] == "tenants" and path[2] in ("router_ll", "router_ipv4", "router_ipv6", "tenant_ipv4", "tenant_ipv6"):
        return f"{path[1]} tenant"
    if path[0] in ("upstream", "router"):
        return "upstream"
    return "segment"


def reserved_pci_slots(machine: str) -> set[int]:
    """Slots of PCI bus 0 a QEMU machine type keeps for itself: the host bridge (0) on every one,
    the ICH9 LPC/SATA/SMBus function block (31) on q35, the PIIX3 ISA/IDE/USB bridge (1) on pc."""
    if "q35" in machine:
        return {0, 31}
    if machine == "pc" or "i440fx" in machine:
        return {0, 1}
    return {0}


def _unreachable(address: IPv4Address | IPv6Address) -> str | None:
    """Why no packet to `address` could ever reach a host on the Internet, if so."""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv4Address) and address == IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_reserved and isinstance(address, IPv4Address):
        return "a reserved address (240.0.0.0/4)"
    if isinstance(address, IPv4Address) and address in THIS_NETWORK:
        return "inside 0.0.0.0/8, 'this network', which no host may use"
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return f"an IPv4-mapped IPv6 address (it is {address.ipv4_mapped}, reached over IPv4, never over IPv6)"
    if isinstance(address, IPv6Address) and address in SITE_LOCAL:
        return "a site-local address (fec0::/10, deprecated by RFC 3879: no router forwards it)"
    return None


def _meaningless_subnet(net: IPv4Network | IPv6Network) -> str | None:
    """Why hosts cannot be numbered and routed in `net`, if so."""
    if net.is_multicast:
        return "a multicast range: no host can have an address in it"
    if net.is_loopback:
        return "a loopback range: packets to it never leave a machine"
    if net.version == 4 and net.overlaps(THIS_NETWORK):
        return "inside 0.0.0.0/8, 'this network': no host may use it"
    if net.version == 4 and net.is_reserved:
        return "inside the reserved range 240.0.0.0/4 (and its broadcast address)"
    if net.is_link_local:
        return "a link-local range: it is never routed, and SLAAC and DHCP cannot hand it out"
    if net.version == 6 and net.overlaps(SITE_LOCAL):
        return "inside the deprecated site-local range fec0::/10"
    return None


def ssh_public_key_problem(key: str) -> str | None:
    """What OpenSSH (authorized_keys) would refuse in a public key line, if anything."""
    if "PRIVATE KEY" in key:
        return "this is a private key"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        return "the key contains a line break or a control character"
    parts = key.strip().split(" ", 2)
    if len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        return f"not an OpenSSH public key (it must start with one of {', '.join(sorted(SSH_KEY_TYPES))})"
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return "the key's second word is not base64"
    length = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + length].decode("ascii", "replace") != parts[0]:
        return f"the key's data is not a {parts[0]} key"
    return openssh_refuses(key.strip())


def check_lab(lab: Lab, explicit: Mapping[str, Any] | None = None) -> None:
    rules = _Rules(lab, explicit or {})
    rules.hypervisor()
    rules.guests()
    rules.meanings()
    rules.values()
    rules.names()
    rules.numbers()
    for feature in features.REGISTRY:
        if feature.rules:
            feature.rules(rules)
    rules.subnets()
    rules.addresses()
