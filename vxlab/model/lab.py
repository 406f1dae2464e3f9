"""The lab model: every value of one class group's lab, fully resolved.

Each top-level field of `Lab` is one Pulumi config key (`vxlab:<field>`); nested fields are
addressed with dots (`vxlab:tenants.green.vrrp_priority`). Field descriptions double as the
documentation of the config keys and as the "expected" half of error messages.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv4Network, IPv6Address, IPv6Interface, IPv6Network
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StrictBool
from pydantic_core import PydanticCustomError


def _with_prefix(value: object) -> object:
    """An interface address must say its subnet: `198.18.28.20` alone would be a /32."""
    if isinstance(value, str) and "/" not in value:
        raise PydanticCustomError("ip_no_prefix", "no prefix length")
    return value


def _no_zone(value: IPv6Address | IPv6Interface | IPv6Network) -> IPv6Address | IPv6Interface | IPv6Network:
    """A zone index (`fe80::1%eth0`) names an interface of one machine; the lab names its own."""
    address = (
        value
        if isinstance(value, IPv6Address)
        else value.network_address
        if isinstance(value, IPv6Network)
        else value.ip
    )
    if address.scope_id:
        raise PydanticCustomError("ip_zone_index", "zone index")
    return value


def _centiseconds(value: float) -> float:
    """VRRPv3 carries the advert interval in centiseconds (RFC 5798, 5.2.7)."""
    if abs(value * 100 - round(value * 100)) > 1e-9:
        raise PydanticCustomError("centiseconds", "not a whole number of hundredths")
    return round(value, 2)


def _as_text(value: object) -> object:
    """An address is written as text: lax parsing would take `true` for 0.0.0.1 and 3232235776 for
    192.168.1.0."""
    if isinstance(value, bool | int | float):
        raise PydanticCustomError("ip_not_text", "a number, not an address")
    return value


# Addresses arrive from YAML as strings: parse them even though the models are strict.
V4Addr = Annotated[IPv4Address, Strict(False), BeforeValidator(_as_text)]
V6Addr = Annotated[IPv6Address, Strict(False), BeforeValidator(_as_text), AfterValidator(_no_zone)]
V4If = Annotated[IPv4Interface, Strict(False), BeforeValidator(_with_prefix), BeforeValidator(_as_text)]
V6If = Annotated[
    IPv6Interface, Strict(False), BeforeValidator(_with_prefix), BeforeValidator(_as_text), AfterValidator(_no_zone)
]
V4Net = Annotated[IPv4Network, Strict(False), BeforeValidator(_as_text)]
V6Net = Annotated[IPv6Network, Strict(False), BeforeValidator(_as_text), AfterValidator(_no_zone)]

Vlan = Annotated[int, Field(ge=1, le=4094, description="an 802.1Q VLAN id in 1..4094")]
Tap = Annotated[int, Field(ge=1, le=65535, description="a tap number in 1..65535 (it is the MAC's last two bytes)")]
Vrid = Annotated[int, Field(ge=1, le=255, description="a VRRP virtual router id in 1..255")]
Priority = Annotated[int, Field(ge=1, le=254, description="a VRRP priority in 1..254")]
Port = Annotated[int, Field(ge=1, le=65535, description="a TCP port in 1..65535")]

# Linux interface names: at most 15 bytes, no slash, colon or white space.
IFNAME_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,14}$"
IfName = Annotated[
    str, Field(pattern=IFNAME_RE, description="an interface name of 1..15 letters, digits, '.', '-' or '_'")
]
# Host names of VMs and containers (libvirt domain, LXD instance): a letter first, then
# letters, digits and dashes, not ending with a dash, at most 63 characters (LXD's IsHostname).
HOSTNAME_RE = r"^[A-Za-z]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?$"
HostName = Annotated[
    str,
    Field(
        pattern=HOSTNAME_RE,
        description="a host name: a letter, then up to 62 letters, digits or '-', not ending with '-'",
    ),
]
UserName = Annotated[
    str,
    Field(
        pattern=r"^[a-z_][a-z0-9_\-]{0,31}$",
        description="a user name: a lower-case letter or '_', then up to 31 lower-case letters, digits, '_' or '-'",
    ),
]
# Names and paths handed to libvirt, QEMU and LXD: no white space, quotes or markup, so no
# consumer (XML, a shell, a URI) can read them as anything but one word.
LIBVIRT_URI_RE = r"^[a-z][a-z0-9]*(\+[a-z0-9]+)?://([A-Za-z0-9._\-]+@)?([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])?(:[0-9]{1,5})?/[a-z]+(\?[A-Za-z0-9._=&/\-]*)?$"
LibvirtUri = Annotated[
    str,
    Field(
        pattern=LIBVIRT_URI_RE,
        description="a libvirt URI: DRIVER[+TRANSPORT]://[USER@][HOST][:PORT]/PATH, e.g. qemu:///system "
        "or qemu+ssh://root@host/system",
    ),
]
VolumeName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,127}$",
        description="a libvirt pool or volume name: up to 128 letters, digits, '.', '_', '+' or '-', no '/'",
    ),
]
AbsPath = Annotated[
    str,
    Field(
        pattern=r"^(/[A-Za-z0-9._+@=,\-]+)+$",
        description="an absolute path of letters, digits and . _ + @ = , - (no spaces or quotes)",
    ),
]
HostAddress = Annotated[
    str,
    Field(
        pattern=r"^([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$"
        r"|^[0-9A-Fa-f:]+$",
        description="a host name or IP address (no user, port or spaces)",
    ),
]
ImageRef = Annotated[
    str,
    Field(
        pattern=r"^([A-Za-z0-9][A-Za-z0-9._\-]*:)?[A-Za-z0-9][A-Za-z0-9._/\-]*$",
        description="an LXD image as ALIAS or REMOTE:ALIAS (letters, digits, . _ - and / in the alias)",
    ),
]
# Kernel command line: printable ASCII words; libvirt writes it into XML itself.
Cmdline = Annotated[
    str,
    Field(
        pattern=r"^[!#-&(-~]+( [!#-&(-~]+)*$",
        max_length=2048,
        description="a kernel command line: words of printable characters without quotes, one space apart",
    ),
]
Color = Literal["blue", "green"]
# How much of the seed vxlab builds (vxlab.model.stages): the rest is the students' work.
Stage = Literal["hosts", "router", "blue", "full"]

MAC_PREFIX_RE = r"^[0-9a-f]{2}(:[0-9a-f]{2}){3}$"


class Strict_(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Hypervisor(Strict_):
    libvirt_uri: LibvirtUri
    domain_type: Literal["kvm", "qemu"] = Field(
        description="'kvm' with hardware virtualisation, 'qemu' for TCG emulation"
    )
    ssh_host: HostAddress | None = Field(
        description="host that runs OVS and libvirt, reached over SSH; null for this machine"
    )
    machine: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._\-]{0,63}$",
        description="the QEMU machine type of the VMs, e.g. q35 (it puts the NIC at enp0s1) or pc",
    )
    bridge: IfName = Field(description="the host's OVS distribution switch, shared by every group")
    datapath_type: Literal["system", "netdev"] = Field(
        description="OVS datapath of the host bridge: 'system' (kernel) or 'netdev' (userspace)"
    )
    uplink: IfName | None = Field(
        description="the host's physical port added to the bridge as a trunk, or null for none"
    )
    svi_netns: IfName | None = Field(
        description="network namespace that holds the group's SVI and routes; null for the host's own"
    )
    tap_group: UserName | None = Field(
        description="system group that may open the taps (the seed uses kvm); null for root only"
    )
    ssh_forward_base: int | None = Field(
        ge=1024,
        le=65000,
        description="with svi_netns: first loopback port relayed to the VMs' SSH (router, blue, green); "
        "null for direct SSH",
    )
    mac_prefix: str = Field(
        pattern=MAC_PREFIX_RE, description="four lower-case MAC bytes, locally administered unicast, e.g. ba:ad:ca:fe"
    )


class Images(Strict_):
    pool: VolumeName = Field(description="the libvirt storage pool that holds the master image and the clones")
    master: VolumeName = Field(description="the master qcow2 image name in the pool, cloned copy-on-write for each VM")
    container_image: ImageRef = Field(description="the LXD image for the containers, as REMOTE:ALIAS or a local alias")
    container_tarball: AbsPath | None = Field(
        description="an LXD image file inside the tenant VMs, imported as container_image if missing; null for none"
    )
    kernel: AbsPath | None = Field(description="kernel for direct boot (path on the hypervisor); null to boot the disk")
    initrd: AbsPath | None = Field(description="initrd for direct boot (path on the hypervisor); null with no kernel")
    cmdline: Cmdline = Field(
        description="kernel command line for direct boot (a TCG guest, domain_type qemu, also gets norandmaps)"
    )


class LabUser(Strict_):
    name: UserName = Field(
        description="the unprivileged lab account on every VM; keepalived's scripts run as this user"
    )
    # A key pasted as a YAML block (`|`) ends with a line break; the line is the key.
    ssh_public_key: Annotated[str, AfterValidator(str.strip)] = Field(
        description="one OpenSSH public key line (the content of a .pub file): TYPE BASE64 [COMMENT]"
    )


class Internet(Strict_):
    probe4: V4Addr = Field(description="IPv4 address the keepalived check pings to decide the Internet is reachable")
    probe6: V6Addr = Field(description="IPv6 address the keepalived check pings")
    dns4: V4Addr = Field(description="IPv4 DNS resolver handed to VMs and containers")
    dns6: V6Addr = Field(description="IPv6 DNS resolver advertised by radvd (RDNSS)")
    traffic_port: Port = Field(
        description="TCP port of the HTTP server `vxlab check` starts for its transfers: in the group's "
        "namespace on the probe addresses, or on the hypervisor's SVI when the Internet is real"
    )


class Upstream(Strict_):
    vlan: Vlan = Field(description="the VLAN between the host, the router and the upstream gateway")
    svi: IfName = Field(description="the host's OVS internal port (SVI) on the upstream VLAN")
    host_ipv4: V4If = Field(description="the host SVI's IPv4 address with prefix length")
    host_ipv6: V6If = Field(description="the host SVI's IPv6 address with prefix length")
    gateway4: V4Addr = Field(description="the upstream IPv4 gateway the router's default route points to")
    gateway6: V6Addr = Field(description="the upstream IPv6 gateway (link-local) the router's default route points to")


class Router(Strict_):
    name: HostName = Field(description="the router VM's libvirt domain and host name")
    tap: Tap
    nic: IfName = Field(description="the router's trunk NIC name inside the VM")
    ram_mib: int = Field(ge=256, le=65536, description="guest RAM in MiB (256..65536)")
    vcpus: int = Field(ge=1, le=16, description="virtual CPUs (1..16)")
    upstream_ipv4: V4If = Field(description="the router's address on the upstream VLAN")
    upstream_ipv6: V6If = Field(description="the router's IPv6 address on the upstream VLAN")


class DhcpServer(Strict_):
    name: HostName = Field(description="the DHCP server container's name")
    ipv4: V4If = Field(description="the DHCP server's static address in the shared segment")
    role: Literal["primary", "secondary"] = Field(description="the server's ISC failover role")


class Tenant(Strict_):
    name: HostName = Field(description="the tenant VM's libvirt domain and host name")
    tap: Tap
    link_vlan: Vlan = Field(description="the access VLAN between this tenant and the router")
    nic: IfName = Field(description="the tenant's NIC name inside the VM")
    ram_mib: int = Field(ge=512, le=65536, description="guest RAM in MiB (512..65536)")
    vcpus: int = Field(ge=1, le=16, description="virtual CPUs (1..16)")
    router_ipv4: V4If = Field(description="the router's address on this tenant's link")
    tenant_ipv4: V4If = Field(description="the tenant's underlay address on its link to the router")
    router_ipv6: V6If = Field(description="the router's IPv6 address on this tenant's link")
    tenant_ipv6: V6If = Field(description="the tenant's IPv6 address on its link to the router")
    router_ll: V6If = Field(description="the router's extra link-local address on this link, the tenant's IPv6 gateway")
    table_id: int = Field(ge=1, le=252, description="the router's routing table id for this tenant's path (1..252)")
    table_name: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]{0,15}$",
            description="a routing table name: a lower-case letter, then up to 15 lower-case letters, digits or '_'",
        ),
    ]
    fwmark: int = Field(
        ge=1, le=0xFFFFFFFF, description="the firewall mark that sends a connection to this tenant's table"
    )
    ovs_bridge: IfName = Field(description="the tenant's OVS bridge that carries the shared segment")
    vxlan_port: IfName = Field(description="the VXLAN tunnel port name towards the other tenant")
    svi_ipv4: V4If = Field(description="the tenant's own IPv4 address on the shared segment's SVI")
    svi_ipv6: V6If = Field(description="the tenant's own IPv6 address on the shared segment's SVI")
    svi_ll: V6If = Field(description="the tenant's extra link-local address on the SVI")
    vrrp_priority: Priority
    dhcp_server: DhcpServer
    clients: Annotated[tuple[HostName, ...], Strict(False)] = Field(
        min_length=1, description="names of the DHCP/SLAAC client containers"
    )

    @property
    def containers(self) -> tuple[str, ...]:
        """The tenant's containers, its DHCP server first."""
        return (self.dhcp_server.name, *self.clients)


class Segment(Strict_):
    vlan: Vlan = Field(description="the VLAN id of the shared segment inside the tenants' OVS bridges")
    vni: int = Field(ge=1, le=16777215, description="the VXLAN network identifier, a whole number in 1..16777215")
    svi: IfName = Field(description="the fake-bridge SVI that carries the segment on each tenant")
    ipv4: V4Net = Field(description="the shared segment's IPv4 subnet")
    ipv6: V6Net = Field(description="the shared segment's IPv6 prefix (a /64 for SLAAC)")
    mtu: int = Field(ge=1280, le=9000, description="MTU of the overlay (bridge, SVI, containers), 1280..9000")
    underlay_mtu: int = Field(ge=1280, le=9000, description="MTU of the tenants' underlay NIC, 1280..9000")


class VrrpCheck(Strict_):
    interval: int = Field(ge=1, le=60, description="seconds between two runs of a check script (1..60)")
    timeout: int = Field(ge=1, le=60, description="seconds before a check script is killed (1..60)")
    rise: int = Field(ge=1, le=20, description="successes before a failed check counts as up again (1..20)")
    fall: int = Field(ge=1, le=20, description="failures before a check counts as down (1..20)")


class Vrrp(Strict_):
    vrid4: Vrid
    vrid6: Vrid
    vip4: V4If = Field(description="the IPv4 gateway VIP on the shared segment")
    vip6: V6If = Field(description="the IPv6 gateway VIP, link-local (VRRPv3 requires it)")
    advert_int: Annotated[float, Strict(False), AfterValidator(_centiseconds)] = Field(
        ge=0.01,
        le=40.95,
        description="seconds between VRRP adverts, in hundredths (VRRPv3: 0.01..40.95; the seed's 1, "
        "or 0.1 for sub-second failover)",
    )
    check: VrrpCheck
    track_uplink: StrictBool = Field(
        description="whether a tenant whose NIC (its underlay to the router) goes down enters FAULT at once "
        "(keepalived track_interface) instead of waiting for its check scripts to fail: true or false "
        "(the seed: false)"
    )


class Radvd(Strict_):
    ra_source: V6Addr = Field(description="the source of router advertisements: must be the VRRP IPv6 VIP")
    prefix: V6Net = Field(description="the prefix advertised for SLAAC: must be the segment's IPv6 prefix")


class Failover(Strict_):
    name: Annotated[
        str,
        Field(
            pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="the failover peer name: 1..64 letters, digits, '_' or '-'"
        ),
    ]
    primary_port: Port
    secondary_port: Port
    max_response_delay: int = Field(ge=1, le=3600, description="seconds (1..3600)")
    max_unacked_updates: int = Field(ge=1, le=100, description="a count (1..100)")
    mclt: int = Field(ge=1, le=86400, description="maximum client lead time in seconds (1..86400)")
    split: int = Field(ge=0, le=256, description="the primary's share of the hash buckets (0..256)")
    load_balance_max_seconds: int = Field(ge=1, le=60, description="seconds (1..60)")


class DhcpClient(Strict_):
    retry: int = Field(
        ge=1,
        le=3600,
        description="seconds a client that got no lease waits before it asks again (1..3600; dhclient's own "
        "default is 300, which left a container without an address for five minutes after a power cut)",
    )
    backoff_cutoff: int = Field(
        ge=1, le=120, description="the longest pause between a client's DHCPDISCOVERs in seconds (1..120)"
    )


class Dhcp(Strict_):
    range_start: V4Addr = Field(description="first address of the dynamic pool")
    range_end: V4Addr = Field(description="last address of the dynamic pool")
    default_lease_time: int = Field(ge=60, le=604800, description="seconds (60..604800)")
    max_lease_time: int = Field(ge=60, le=604800, description="seconds (60..604800)")
    failover: Failover
    client: DhcpClient


class Lxd(Strict_):
    port: Port = Field(description="the tenants' LXD API port, served on each tenant's underlay address only")
    memory_mib: int = Field(ge=64, le=65536, description="memory limit of each container in MiB (64..65536)")
    cpus: int = Field(ge=1, le=16, description="CPU limit of each container (1..16)")
    storage_driver: Literal["btrfs", "dir"] = Field(
        description="the tenants' LXD storage pool: btrfs (a loop file; the image is unpacked once and "
        "each container is a snapshot of it) or dir (the image unpacked again for every container)"
    )
    storage_gib: int = Field(ge=1, le=64, description="size of the btrfs pool's loop file in GiB (1..64; sparse)")


class Lab(Strict_):
    group: int = Field(ge=0, le=40, description="the class group number: 0 is the seed's lab, 1..40 are derived groups")
    stage: Stage = Field(
        description="how much of the seed vxlab builds: hosts (§3), router (§3-4), blue (§3-5) or full (§3-6); "
        "students do the rest"
    )
    hypervisor: Hypervisor
    images: Images
    lab_user: LabUser
    internet: Internet
    upstream: Upstream
    router: Router
    tenants: dict[Color, Tenant] = Field(description="the two tenants, keyed 'blue' and 'green'")
    segment: Segment
    vrrp: Vrrp
    radvd: Radvd
    dhcp: Dhcp
    lxd: Lxd

    def tenant_pairs(self) -> list[tuple[Tenant, Tenant]]:
        """Each tenant with its VXLAN peer."""
        blue, green = self.tenants["blue"], self.tenants["green"]
        return [(blue, green), (green, blue)]

    def tenant_of(self) -> dict[str, str]:
        """Each container's name and the name of the tenant VM it runs on."""
        return {c: t.name for t in self.tenants.values() for c in t.containers}

    def peer_of(self, tenant: Tenant) -> Tenant:
        return next(peer for t, peer in self.tenant_pairs() if t is tenant)

    def master(self) -> Tenant:
        """The tenant that holds the VIPs when both are healthy (highest VRRP priority)."""
        return max(self.tenants.values(), key=lambda t: t.vrrp_priority)

    def router_subif(self, vlan: int) -> str:
        return f"{self.router.nic}.{vlan}"

    def vrrp_instance(self, family: Literal[4, 6]) -> str:
        return f"VXLAN_{self.segment.vlan}_IPv{family}"


def _pattern_words() -> dict[str, str]:
    """Each constrained string type's pattern, with the words that explain it to a user."""
    words: dict[str, str] = {}
    for alias in (IfName, HostName, UserName, LibvirtUri, VolumeName, AbsPath, HostAddress, ImageRef, Cmdline):
        info = get_args(alias)[1]
        for meta in info.metadata:
            if getattr(meta, "pattern", None):
                words[meta.pattern] = str(info.description)
    return words


PATTERN_WORDS = _pattern_words()


def mac_for_tap(prefix: str, tap: int) -> str:
    """The seed's ovs-startup.sh rule: a fixed prefix, then the tap number on two bytes."""
    return f"{prefix}:{tap >> 8:02x}:{tap & 0xFF:02x}"


def is_valid_ifname(name: str) -> bool:
    return re.fullmatch(IFNAME_RE, name) is not None
