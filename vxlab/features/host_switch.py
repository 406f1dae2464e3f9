"""Seed §3: the host's distribution switch `dsw-host`, its tap ports in access or trunk mode,
the VLAN SVI, the routes to the tenants' links and the host's routing sysctls. One script per
group brings its part of the switch up and down (the bridge goes with its last port)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from vxlab.features import graders
from vxlab.features.common import SYSCTL, check_script
from vxlab.features.spec import (
    DONE,
    NOT_DONE,
    WRONG,
    Checker,
    Feature,
    FileSpec,
    Grader,
    Machine,
    RenderedFile,
    Sandbox,
    Task,
    Verdict,
    result,
)
from vxlab.model.lab import Lab, Tenant
from vxlab.model.naming import stack_label
from vxlab.model.topology import (
    HostPort,
    host_ports,
    host_routes,
    host_switch_path,
    host_sysctl_path,
    internet_addresses,
    lxd_forwards,
    ssh_forwards,
)

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


def _switch_context(lab: Lab, tenant: Tenant | None, machine: str) -> dict[str, Any]:
    return {
        "ports": host_ports(lab),
        "routes": host_routes(lab),
        "forwards": ssh_forwards(lab) + lxd_forwards(lab),
        "internet_addresses": internet_addresses(lab),
        "sysctl_path": host_sysctl_path(lab),
    }


def check_host_switch(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    """The group's switch script, run for real (up, up again, down) against a throwaway
    ovsdb-server and ovs-vswitchd; its taps, ports and namespaces live in the check's own
    network namespace. This machine has no OVS kernel datapath, so the check's vswitchd
    creates the bridge with datapath_type=netdev whatever the stack asks for."""
    ok, detail = check_script(run, f, m, lab)
    if not ok:
        return ok, detail
    script_path = run.put("host-switch.sh", f.content, 0o755)
    d = run.dir
    db, sock = d / "conf.db", d / "db.sock"
    run.put(
        "bin/ovs-vsctl",
        (
            "#!/bin/bash\n"
            'args=(); for a in "$@"; do args+=("${a/datapath_type=system/datapath_type=netdev}"); done\n'
            f'exec /usr/bin/ovs-vsctl --timeout=30 --db=unix:{sock} "${{args[@]}}"\n'
        ),
        0o755,
    )
    label = stack_label(lab.group)
    expected = " ".join(sorted(_expected_ports(lab)))
    prepare = ""
    if lab.hypervisor.uplink:  # the physical port the script expects to find
        prepare += f"ip link add {lab.hypervisor.uplink} type veth peer name vxlab-uplink\n"
    if lab.hypervisor.tap_group:
        group = lab.hypervisor.tap_group
        prepare += (
            f"cp /etc/group {d}/group\n"
            f"getent group {group} >/dev/null || echo '{group}:x:64998:' >> {d}/group\n"
            f"mount --bind {d}/group /etc/group\n"
        )
    find_ports = f"ovs-vsctl --bare --columns=name find Port external_ids:vxlab={label} | sort | xargs"
    script = prepare + (
        "ip link set lo up\nmount -t tmpfs none /run && mkdir -p /run/netns\n"
        f"ovsdb-tool create {db} {OVS_SCHEMA}\n"
        f"ovsdb-server {db} --remote=punix:{sock} --pidfile={d}/ovsdb.pid --detach --no-chdir "
        f"--log-file={d}/ovsdb.log --unixctl={d}/ovsdb.ctl\n"
        f"ovs-vswitchd unix:{sock} --pidfile={d}/vswitchd.pid --detach --no-chdir "
        f"--log-file={d}/vswitchd.log --unixctl={d}/vswitchd.ctl\n"
        f"trap 'kill $(cat {d}/vswitchd.pid) $(cat {d}/ovsdb.pid) 2>/dev/null || true' EXIT\n"
        f"export PATH={d}/bin:$PATH\n"
        "ovs-vsctl init\n"
        f"{script_path} up\n{script_path} up\n"
        f"got=$({find_ports})\n"
        f'[ "$got" = {shlex.quote(expected)} ] || {{ echo "ports after up: $got"; exit 1; }}\n'
        f"{script_path} down\n"
        f"left=$({find_ports})\n"
        f'[ -z "$left" ] || {{ echo "ports left after down: $left"; exit 1; }}\n'
    )
    return result(run.in_namespaces(script, timeout=120))


def _expected_ports(lab: Lab) -> list[str]:
    svi = f"{lab.upstream.svi}-br" if lab.hypervisor.svi_netns else lab.upstream.svi
    return [p.tap for p in host_ports(lab)] + [svi]


HOST_SWITCH = Checker(
    "up, up, down on a scratch OVS",
    check_host_switch,
    ("bash", "unshare", "ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ip", "socat", "ethtool"),
    files=(str(OVS_SCHEMA),),
)


def in_netns(lab: Lab, command: str) -> str:
    """`command` where the group's SVI lives: its namespace, or the host itself."""
    ns = lab.hypervisor.svi_netns
    return f"ip netns exec {shlex.quote(ns)} {command}" if ns else command


def port_mode(port: HostPort) -> Grader:
    """`ovs-vsctl get Port TAP tag trunks`: an access port carries its VLAN as tag, a trunk
    port its VLANs as trunks."""

    def grade(out: str) -> tuple[Verdict, str]:
        lines = out.strip().splitlines()
        if len(lines) != 2:
            return NOT_DONE, (lines[-1] if lines else "no such port")
        tag, trunks = lines[0].strip(), sorted(int(v) for v in re.findall(r"\d+", lines[1]))
        seen = f"tag {tag}, trunks {trunks or '[]'}"
        if port.mode == "access":
            return (DONE if tag == str(port.vlans[0]) else WRONG), seen
        return (DONE if tag == "[]" and trunks == sorted(port.vlans) else WRONG), seen

    return grade


def _tasks(lab: Lab) -> list[Task]:
    up = lab.upstream
    tasks = [
        Task(
            "3.4",
            f"{port.tap} in {port.mode} mode on VLAN{'s' if len(port.vlans) > 1 else ''} "
            + ",".join(map(str, port.vlans)),
            "host",
            f"ovs-vsctl get Port {port.tap} tag trunks 2>&1",
            port_mode(port),
            where="host",
            expect=f"{'an' if port.mode == 'access' else 'a'} {port.mode} port of {lab.hypervisor.bridge} "
            f"for {port.vm}",
        )
        for port in host_ports(lab)
    ]
    tasks += [
        Task(
            "3.4",
            f"the host SVI {up.svi} holds its addresses on VLAN {up.vlan}",
            "host",
            in_netns(lab, f"ip -o addr show dev {up.svi} 2>&1"),
            graders.holds_addresses(str(up.host_ipv4), str(up.host_ipv6)),
            where="host",
            expect=f"{up.host_ipv4} and {up.host_ipv6}",
        ),
        Task(
            "3.5",
            "the host routes IPv4 and IPv6",
            "host",
            in_netns(lab, "sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding"),
            graders.sysctls_on("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"),
            where="host",
            expect="both 1",
            hint="set them in a sysctl.d file and load it with sysctl -p",
        ),
    ]
    tasks += [
        Task(
            "3.5",
            f"the host routes {t.name}'s link via {lab.router.name}",
            "host",
            in_netns(lab, f"ip route get {t.tenant_ipv4.ip} 2>&1"),
            graders.route_via(str(lab.router.upstream_ipv4.ip)),
            where="host",
            expect=f"{t.tenant_ipv4.ip} via {lab.router.upstream_ipv4.ip}",
        )
        for t in lab.tenants.values()
    ]
    tasks += [
        Task(
            "3.6",
            f"{port.vm} runs",
            "host",
            f"virsh -c qemu:///system domstate {port.vm} 2>&1",
            graders.equals("running", absent=("shut off",)),
            where="host",
            expect="running",
        )
        for port in host_ports(lab)
    ]
    return tasks


FEATURE = Feature(
    name="host-switch",
    title="the host switch dsw-host: taps in access/trunk mode, the VLAN SVI, host routing",
    seed_sections=("3.4", "3.5"),
    files=(
        FileSpec("host", "host/host-switch.sh.j2", host_switch_path, "host-switch", 0o755, context=_switch_context),
        FileSpec("host", "common/sysctl-routing.j2", host_sysctl_path, "sysctl"),
    ),
    checkers={"host-switch": HOST_SWITCH, "sysctl": SYSCTL},
    tasks=_tasks,
)
