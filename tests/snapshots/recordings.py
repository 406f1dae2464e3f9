"""How the recorded snapshots of this folder are made again on a running `ci` lab: each one's
mistakes typed over SSH as a student would type them, the snapshot taken as its row in
README.md says, the mistakes undone, and the lab graded complete again before the next one.

    scripts/lab-up ci                                   # stage full
    venv/bin/python -m tests.snapshots.recordings       # every recording of stage full, in order
    venv/bin/python -m tests.snapshots.recordings ci-own-gateway ci-router-beside

`ci-stage-router` needs the lab at stage `router` (`vxlab:stage: router` in Pulumi.ci.yaml, then
`scripts/lab-up ci`). §3's recordings (`ci-host-mistakes`, `ci-vm-off`, `ci-tap-unplugged`) were
made by hand as README.md says: their faults are the hypervisor's, outside this runner."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from vxlab.live.remote import LabShell
from vxlab.validate.load import load_lab

HERE = Path(__file__).parent
PROJECT = HERE.parent.parent
STACK = "ci"
ROUTER, BLUE, GREEN = "g39-redRouter", "g39-blueTenant", "g39-greenTenant"
SYSCTL_FILE = "/etc/sysctl.d/90-vxlab-routing.conf"
KEPT = "/root/recording-kept"  # where a mistake keeps what its undo puts back


@dataclass(frozen=True)
class Recording:
    name: str
    take: tuple[str, ...]  # `vxlab grade` or `vxlab snapshot` and its options, the file added
    make: tuple[tuple[str, str], ...] = ()  # (machine, command): a VM, a container or "host"
    undo: tuple[tuple[str, str], ...] = ()
    settle: float = 0.0  # seconds between the last mistake and the snapshot
    stage: str = "full"


SAVED_BY = {"grade": "--save-snapshot", "snapshot": "--out"}


def renew(container: str) -> tuple[str, str]:
    """The client asks for a new lease (ifupdown's dhclient releases it first)."""
    return (container, "ifdown eth0 >/dev/null 2>&1; ifup eth0 >/dev/null 2>&1; ip -4 route show default")


def set_routers(server: str, old: str, new: str) -> tuple[str, str]:
    return (
        server,
        f"sed -i 's/option routers {old};/option routers {new};/' /etc/dhcp/dhcpd.conf "
        "&& systemctl restart isc-dhcp-server",
    )


CLIENTS = ("g39-blueC0", "g39-blueC1", "g39-greenC0", "g39-greenC1")

RECORDINGS: tuple[Recording, ...] = (
    Recording("ci-full", ("snapshot",)),
    Recording("ci-stage-router", ("grade", "--no-traffic"), stage="router"),
    Recording(
        "ci-tenant-mistakes",
        ("snapshot", "--no-traffic"),
        make=((BLUE, "ovs-vsctl set Port sw-vlan7 tag=8 -- set Interface sw-vlan7 mtu_request=1500; chronyc offline"),),
        undo=((BLUE, "ovs-vsctl set Port sw-vlan7 tag=7 -- set Interface sw-vlan7 mtu_request=1450; chronyc online"),),
        settle=8,
    ),
    Recording(
        "ci-router-undone",
        ("grade", "--section", "4", "--no-traffic"),
        make=(
            (
                ROUTER,
                f"mkdir -p {KEPT} && mv {SYSCTL_FILE} {KEPT}/ && "
                "sysctl -w net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 && "
                "iptables -t mangle -F PREROUTING && ip6tables -t mangle -F PREROUTING && "
                "iptables -t nat -F POSTROUTING && ip6tables -t nat -F POSTROUTING && "
                "ip -4 rule del fwmark 220 && ip -6 rule del fwmark 220",
            ),
        ),
        undo=(
            (
                ROUTER,
                f"mv {KEPT}/90-vxlab-routing.conf {SYSCTL_FILE} && sysctl -q -p {SYSCTL_FILE} && "
                "iptables-restore < /etc/iptables/rules.v4 && ip6tables-restore < /etc/iptables/rules.v6 && "
                "ip -4 rule add fwmark 220 table 220 pref 32765 && ip -6 rule add fwmark 220 table 220 pref 32765",
            ),
        ),
    ),
    Recording(
        "ci-not-persisted",
        ("grade", "--section", "4", "--section", "5", "--section", "6", "--no-traffic"),
        make=(
            (ROUTER, f"mkdir -p {KEPT} && mv {SYSCTL_FILE} {KEPT}/"),
            (GREEN, "sysctl -w net.ipv4.ip_forward=0"),
        ),
        undo=(
            (ROUTER, f"mv {KEPT}/90-vxlab-routing.conf {SYSCTL_FILE}"),
            (GREEN, f"sysctl -q -p {SYSCTL_FILE}"),
        ),
    ),
    Recording(
        "ci-vxlan-split",
        ("grade",),
        make=(
            (BLUE, "ovs-vsctl set Interface vxlanBlueGreen options:remote_ip=172.21.39.99"),
            (BLUE, "ovs-appctl fdb/flush C-3PO-BLUE"),
        ),
        undo=((BLUE, "ovs-vsctl set Interface vxlanBlueGreen options:remote_ip=172.21.39.2"),),
        settle=8,
    ),
    Recording(
        "ci-untracked",
        ("grade", "--section", "5", "--section", "6", "--no-traffic"),
        make=(
            (
                GREEN,
                f"mkdir -p {KEPT} && cp /etc/keepalived/keepalived.conf {KEPT}/ && "
                "sed -i '/track_script {/,/}/d' /etc/keepalived/keepalived.conf && systemctl reload keepalived",
            ),
            (BLUE, "systemctl stop keepalived"),
        ),
        undo=(
            (GREEN, f"cp {KEPT}/keepalived.conf /etc/keepalived/ && systemctl restart keepalived"),
            (BLUE, "systemctl start keepalived"),
        ),
        settle=5,
    ),
    Recording(
        "ci-second-default",
        ("snapshot", "--no-traffic"),
        make=(
            (
                BLUE,
                f"mkdir -p {KEPT} && cp /etc/radvd.conf {KEPT}/ && "
                "sed -i '/AdvRASrcAddress/,/};/d' /etc/radvd.conf && systemctl restart radvd",
            ),
            ("g39-blueC0", "ip route add default via 10.39.7.220 dev eth0 metric 100"),
        ),
        # radvd's last advert on stop (router lifetime 0) takes its route away from the containers.
        undo=(
            (BLUE, f"cp {KEPT}/radvd.conf /etc/radvd.conf && systemctl restart radvd"),
            ("g39-blueC0", "ip route del default via 10.39.7.220 dev eth0 metric 100"),
        ),
        settle=10,
    ),
    Recording(
        "ci-own-gateway",
        ("grade",),
        make=(
            set_routers("g39-blueDHCP", "10.39.7.222", "10.39.7.220"),
            set_routers("g39-greenDHCP", "10.39.7.222", "10.39.7.221"),
            *(renew(c) for c in CLIENTS),
        ),
        undo=(
            set_routers("g39-blueDHCP", "10.39.7.220", "10.39.7.222"),
            set_routers("g39-greenDHCP", "10.39.7.221", "10.39.7.222"),
            *(renew(c) for c in CLIENTS),
        ),
    ),
    Recording(
        "ci-router-beside",
        ("grade",),
        make=(
            (
                ROUTER,
                "ip -4 rule add fwmark 220 lookup 221 pref 100 && "
                "iptables -t nat -A POSTROUTING -j MASQUERADE && "
                "iptables -t mangle -R PREROUTING 2 -s 10.39.7.0/24 -i enp0s1.3940 -j MARK --set-mark 221 && "
                "iptables -t mangle -R PREROUTING 3 -s 10.39.7.0/24 -i enp0s1.3941 -j MARK --set-mark 220 && "
                "ip6tables -t mangle -D PREROUTING 4 && ip6tables -t mangle -I PREROUTING 2 -j CONNMARK --save-mark && "
                "conntrack -F; conntrack -F -f ipv6",
            ),
        ),
        undo=(
            (
                ROUTER,
                "ip -4 rule del pref 100 && iptables-restore < /etc/iptables/rules.v4 && "
                "ip6tables-restore < /etc/iptables/rules.v6 && conntrack -F; conntrack -F -f ipv6",
            ),
        ),
        settle=3,
    ),
    Recording(
        "ci-mistakes",
        ("grade",),
        make=(
            (
                ROUTER,
                "iptables -t mangle -R PREROUTING 3 -s 10.39.7.0/24 -i enp0s1.3941 -j MARK --set-mark 230 && "
                "ip6tables -t nat -R POSTROUTING 1 -o enp0s1.3940 -j MASQUERADE && "
                "ip -4 rule del fwmark 220 && ip -4 rule add fwmark 220 lookup 221 pref 32765 && "
                "conntrack -F; conntrack -F -f ipv6",
            ),
            (
                BLUE,
                f"mkdir -p {KEPT} && cp /etc/radvd.conf {KEPT}/ && sysctl -w net.ipv4.ip_forward=0 && "
                "echo 'bogus line' >> /etc/radvd.conf && { systemctl restart radvd; true; } && "
                "ip -6 addr del 2001:db8:127:dc::2/64 dev enp0s1 && ip -6 addr add 2001:db8:127:dc::2/56 dev enp0s1",
            ),
            ("g39-blueC0", "ip route replace default via 10.39.7.220 dev eth0"),
            (BLUE, "lxc stop g39-blueC1"),
            (
                "g39-greenC1",
                "pkill dhclient; ip -4 addr flush dev eth0 && ip -4 addr add 10.39.7.200/24 dev eth0",
            ),
            ("g39-greenDHCP", "systemctl stop isc-dhcp-server"),
        ),
        undo=(
            (
                ROUTER,
                "iptables-restore < /etc/iptables/rules.v4 && ip6tables-restore < /etc/iptables/rules.v6 && "
                "ip -4 rule del fwmark 220 lookup 221 && ip -4 rule add fwmark 220 table 220 pref 32765 && "
                "conntrack -F; conntrack -F -f ipv6",
            ),
            (
                BLUE,
                f"cp {KEPT}/radvd.conf /etc/radvd.conf && systemctl restart radvd && sysctl -q -p {SYSCTL_FILE} && "
                "ip -6 addr del 2001:db8:127:dc::2/56 dev enp0s1 && ip -6 addr add 2001:db8:127:dc::2/64 dev enp0s1 && "
                "ip -6 route replace default via 2001:db8:127:dc::1 dev enp0s1",
            ),
            ("g39-blueC0", "ip route replace default via 10.39.7.222 dev eth0"),
            (BLUE, "lxc start g39-blueC1"),
            ("g39-greenDHCP", "systemctl start isc-dhcp-server"),
            ("g39-greenC1", "ip -4 addr flush dev eth0; ifdown eth0 >/dev/null 2>&1; ifup eth0 >/dev/null 2>&1; true"),
        ),
        settle=5,
    ),
    Recording(
        "ci-lxd-stopped",
        ("grade", "--section", "5", "--no-traffic"),
        make=((BLUE, "systemctl stop lxd.socket; systemctl kill -s KILL lxd; sleep 3"),),
        # LXD starts again the containers that ran when it stopped; the loop starts any it did not.
        undo=(
            (
                BLUE,
                "systemctl start lxd.socket lxd && lxd waitready --timeout=120 && "
                "for c in g39-blueDHCP g39-blueC0 g39-blueC1; do "
                "lxc info $c | grep -q '^Status: RUNNING' || lxc start $c; done",
            ),
        ),
    ),
)
BY_NAME = {r.name: r for r in RECORDINGS}


def _run_all(shell: LabShell, steps: tuple[tuple[str, str], ...], what: str) -> None:
    for machine, command in steps:
        result = shell.on(machine, command)
        print(f"  {what} {machine}: {command}\n    -> exit {result.code} {(result.out + result.err).strip()[:200]}")
        if not result.ok:
            raise SystemExit(f"recordings: {what} failed on {machine} (exit {result.code}): stopped")


def _vxlab(*args: str) -> int:
    return subprocess.run([str(PROJECT / "venv/bin/vxlab"), *args], cwd=PROJECT, check=False).returncode


def complete_again(attempts: int = 12) -> None:
    """The lab graded complete (no traffic): the last undo put everything back."""
    for _ in range(attempts):
        if _vxlab("grade", "--stack", STACK, "--no-traffic") == 0:
            return
        time.sleep(10)
    raise SystemExit("recordings: the lab is not complete again after an undo: stopped (see the grade above)")


def record(recording: Recording) -> None:
    lab = load_lab(PROJECT, STACK)
    if lab.stage != recording.stage:
        raise SystemExit(f"recordings: {recording.name} needs the lab at stage {recording.stage}, not {lab.stage}")
    key = Path.home() / ".ssh/id_ed25519"
    print(f"recording {recording.name}")
    with LabShell(lab, key) as shell:
        _run_all(shell, recording.make, "make")
        time.sleep(recording.settle)
        verb, *options = recording.take
        _vxlab(verb, "--stack", STACK, *options, SAVED_BY[verb], str(HERE / f"{recording.name}.json"))
        _run_all(shell, recording.undo, "undo")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"recordings (default: every one of stage full): {', '.join(BY_NAME)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"recordings: no recording {', '.join(unknown)}: one of {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in args.names] or [r for r in RECORDINGS if r.stage == "full"]
    for recording in chosen:
        record(recording)
        if recording.make and recording.stage == "full":
            complete_again()


if __name__ == "__main__":
    main(sys.argv[1:])
