"""Seed §4: redRouter: one VLAN sub-interface per link, routing on, two extra routing tables
chosen by fwmark, NAT towards the upstream and CONNMARK mangle rules per tenant, IPv4 and IPv6."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from vxlab.features import graders
from vxlab.features.common import IFUPDOWN, INTERFACES, NETWORK_RELOAD, SYSCTL, ping, routing_sysctl
from vxlab.features.spec import (
    DONE,
    NOT_DONE,
    WRONG,
    Checker,
    CheckFunction,
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


def rule_to_table(mark: int, table: int) -> Grader:
    """`ip -N rule show`: a rule sends `fwmark mark` to table `table` (by number, whatever the
    students named it)."""

    def grade(out: str) -> tuple[Verdict, str]:
        rules = [line.split(":", 1)[-1].strip() for line in out.splitlines() if "fwmark" in line]
        mine = [r for r in rules if re.search(rf"fwmark (0x)?0*{mark:x}\b", r)]
        if any(re.search(rf"lookup {table}\b", r) for r in mine):
            return DONE, "; ".join(mine)
        return (WRONG if mine else NOT_DONE), "; ".join(rules) or "no fwmark rule"

    return grade


def nat_out(interface: str) -> Grader:
    """`iptables -t nat -S POSTROUTING`: connections leaving by `interface` are masqueraded
    (or SNATed)."""

    def grade(out: str) -> tuple[Verdict, str]:
        nat = [line for line in out.splitlines() if re.search(r"-j (MASQUERADE|SNAT)", line)]
        good = [line for line in nat if f"-o {interface}" in line]
        if good:
            return DONE, "; ".join(good)
        return (WRONG if nat else NOT_DONE), "; ".join(nat) or "no MASQUERADE or SNAT rule"

    return grade


def marks_connections(marks: dict[str, int]) -> Grader:
    """`iptables -t mangle -S`: each tenant's packets get its mark, kept on their connection
    (CONNMARK save and restore)."""

    def grade(out: str) -> tuple[Verdict, str]:
        rules = [line for line in out.splitlines() if "MARK" in line]
        missing = [
            f"{name} ({mark})"
            for name, mark in marks.items()
            if not any(re.search(rf"(--set-x?mark|--set-mark) 0x0*{mark:x}\b", r) for r in rules)
        ]
        connmark = {w for w in ("--save-mark", "--restore-mark") if any(w in r for r in rules)}
        if not missing and len(connmark) == 2:
            return DONE, f"{len(rules)} MARK/CONNMARK rules"
        if not rules:
            return NOT_DONE, "no MARK rule"
        lack = [f"no mark for {m}" for m in missing] + [
            f"no CONNMARK {w}" for w in ("--save-mark", "--restore-mark") if w not in connmark
        ]
        return WRONG, "; ".join(lack)

    return grade


def _tasks(lab: Lab) -> list[Task]:
    r, up = lab.router, lab.upstream
    up_if = lab.router_subif(up.vlan)
    marks = {t.name: t.fwmark for t in lab.tenants.values()}
    tasks = [
        Task(
            "4.1",
            f"{r.name} routes IPv4 and IPv6",
            r.name,
            "sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding",
            graders.sysctls_on("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"),
            expect="both 1",
        )
    ]
    for t in lab.tenants.values():
        for family in (4, 6):
            tasks += [
                Task(
                    "4.2",
                    f"IPv{family} fwmark {t.fwmark} selects table {t.table_id} ({t.table_name})",
                    r.name,
                    f"ip -N -{family} rule show",
                    rule_to_table(t.fwmark, t.table_id),
                    expect=f"fwmark {t.fwmark} lookup {t.table_id}",
                ),
                Task(
                    "4.2",
                    f"IPv{family} table {t.table_id} ({t.table_name}) has a default route upstream",
                    r.name,
                    f"ip -N -{family} route show table {t.table_id} default 2>&1",
                    graders.route_via(str(up.gateway4 if family == 4 else up.gateway6)),
                    expect=f"default via {up.gateway4 if family == 4 else up.gateway6}",
                ),
            ]
    links = [(up.vlan, r.upstream_ipv4, r.upstream_ipv6)] + [
        (t.link_vlan, t.router_ipv4, t.router_ipv6) for t in lab.tenants.values()
    ]
    tasks += [
        Task(
            "4.3",
            f"{address} on a VLAN {vlan} sub-interface",
            r.name,
            graders.ADDRESSES,
            graders.address_on_vlan(str(address), vlan),
            expect=f"{address} on {lab.router_subif(vlan)}",
        )
        for vlan, v4, v6 in links
        for address in (v4, v6)
    ]
    tasks += [
        Task(
            "4.3",
            f"{r.name} reaches {t.name} on its link",
            r.name,
            ping(t.tenant_ipv4.ip),
            graders.replies,
            expect=f"replies from {t.tenant_ipv4.ip}",
            relook=True,
        )
        for t in lab.tenants.values()
    ]
    for family, program in ((4, "iptables"), (6, "ip6tables")):
        tasks += [
            Task(
                "4.4",
                f"IPv{family} NAT towards the upstream",
                r.name,
                f"{program} -t nat -S POSTROUTING",
                nat_out(up_if),
                expect=f"MASQUERADE out of {up_if}",
            ),
            Task(
                "4.4",
                f"IPv{family} mangle rules mark each tenant's connections",
                r.name,
                f"{program} -t mangle -S",
                marks_connections(marks),
                expect=", ".join(f"mark {m} for {n}" for n, m in marks.items()) + ", CONNMARK save and restore",
            ),
            Task(
                "4.4",
                f"{r.name} reaches the IPv{family} Internet probe",
                r.name,
                ping(lab.internet.probe4 if family == 4 else lab.internet.probe6, family),
                graders.replies,
                expect=f"replies from {lab.internet.probe4 if family == 4 else lab.internet.probe6}",
                relook=True,
            ),
        ]
    return tasks


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
    tasks=_tasks,
)
