"""Seed §4: redRouter: one VLAN sub-interface per link, routing on, two extra routing tables
chosen by fwmark, NAT towards the upstream and CONNMARK mangle rules per tenant, IPv4 and IPv6."""

from __future__ import annotations

import shutil
from pathlib import Path

from vxlab.features.common import IFUPDOWN, INTERFACES, NETWORK_RELOAD, SYSCTL, routing_sysctl
from vxlab.features.spec import Checker, CheckFunction, Feature, FileSpec, Machine, RenderedFile, Sandbox, result
from vxlab.model.lab import Lab

RT_TABLES = "/etc/iproute2/rt_tables.d/vxlab.conf"
RULES = {4: "/etc/iptables/rules.v4", 6: "/etc/iptables/rules.v6"}


def check_rt_tables(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    """The tables must resolve by name in `ip rule`, as the router's interfaces file uses them:
    the file goes to its own path in a copy of /etc/iproute2 mounted over the real one."""
    relative = Path(f.path).relative_to("/etc/iproute2")
    etc = run.dir / "iproute2"
    shutil.copytree("/etc/iproute2", etc)
    run.put(f"iproute2/{relative}", f.content)
    lines = [f"mount --bind {etc} /etc/iproute2"]
    for t in lab.tenants.values():
        lines.append(f"ip rule add fwmark {t.fwmark} table {t.table_name}")
        lines.append(f"ip -6 rule add fwmark {t.fwmark} table {t.table_name}")
        # grep -q stops reading early: under pipefail a pipe from ip would fail on SIGPIPE.
        lines.append(f"grep -q 'lookup {t.table_name}' <<< \"$(ip rule show)\"")
    return result(run.in_namespaces("\n".join(lines) + "\n"))


def _restore(program: str) -> CheckFunction:
    def check(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
        path = run.put("rules", f.content)
        return result(run.in_namespaces(f"{program} --test {path}\n"))

    return check


def _rules(family: int) -> FileSpec:
    restore = "iptables-restore" if family == 4 else "ip6tables-restore"
    return FileSpec(
        "router",
        f"router/rules.v{family}.j2",
        RULES[family],
        "iptables" if family == 4 else "ip6tables",
        reload=f"{restore} < {RULES[family]}",
        after=(f"file:{INTERFACES}",),
    )


FEATURE = Feature(
    name="router",
    title="redRouter: VLAN sub-interfaces, two routing tables, fwmark rules, NAT and CONNMARK",
    seed_sections=("4.1", "4.2", "4.3", "4.4"),
    files=(
        FileSpec(
            "router",
            "router/interfaces.j2",
            INTERFACES,
            "ifupdown",
            reload=NETWORK_RELOAD,
            after=(f"file:{RT_TABLES}",),
        ),
        routing_sysctl("router"),
        FileSpec("router", "router/rt_tables.j2", RT_TABLES, "rt_tables"),
        _rules(4),
        _rules(6),
    ),
    packages={"router": ("ifupdown", "iproute2", "iptables", "iptables-persistent", "conntrack", "iputils-ping")},
    checkers={
        "ifupdown": IFUPDOWN,
        "sysctl": SYSCTL,
        "rt_tables": Checker("ip rule by table name in a netns", check_rt_tables, ("unshare", "ip")),
        "iptables": Checker("iptables-restore --test", _restore("iptables-restore"), ("unshare", "iptables-restore")),
        "ip6tables": Checker(
            "ip6tables-restore --test", _restore("ip6tables-restore"), ("unshare", "ip6tables-restore")
        ),
    },
)
