"""Seed §4: redRouter: one VLAN sub-interface per link, routing on, two extra routing tables
chosen by fwmark, NAT towards the upstream and CONNMARK mangle rules per tenant, IPv4 and IPv6."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from vxlab.features import graders
from vxlab.features.common import (
    IFUPDOWN,
    INTERFACES,
    NETWORK_RELOAD,
    SYSCTL,
    ping,
    routes_both_families,
    routing_sysctl,
)
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
    """`ip -N rule show`: the first rule for `fwmark mark` (the lowest preference, which the
    kernel tries first) sends it to table `table` (by number, whatever the students named it).
    A right rule behind a wrong one left from an earlier try is never reached."""

    def grade(out: str) -> tuple[Verdict, str]:
        rules = [re.sub(r"^(\d+):\s+", r"pref \1: ", line.strip()) for line in out.splitlines() if "fwmark" in line]
        mine = [r for r in rules if re.search(rf"fwmark (0x)?0*{mark:x}\b", r)]
        if not mine:
            return NOT_DONE, "; ".join(rules) or "no fwmark rule"
        if re.search(rf"lookup {table}\b", mine[0]):
            return DONE, "; ".join(mine)
        return WRONG, "first: " + "; ".join(mine)

    return grade


def nat_out(interface: str) -> Grader:
    """`iptables -t nat -S POSTROUTING`: connections leaving by `interface` are masqueraded
    (or SNATed), and only those. A rule without `-o` also rewrites what the router forwards
    between the tenants' links: their VXLAN underlay then arrives from the router's address,
    each tunnel port drops it and both tenants take the VIPs (seen on a `ci` lab)."""

    def grade(out: str) -> tuple[Verdict, str]:
        nat = [line for line in out.splitlines() if re.search(r"-j (MASQUERADE|SNAT)", line)]
        good = [line for line in nat if re.search(rf"(?<!! )-o {re.escape(interface)}( |$)", line)]
        others = [line for line in nat if line not in good]
        if good and not others:
            return DONE, "; ".join(good)
        if not nat:
            return NOT_DONE, "no MASQUERADE or SNAT rule"
        return WRONG, "; ".join(nat) + (f" (not only out of {interface})" if good else "")

    return grade


def _mark(mark: int) -> str:
    return rf"--set-x?mark 0x0*{mark:x}\b"


def marks_connections(marks: dict[str, int]) -> Grader:
    """`iptables -t mangle -S`: in PREROUTING, before routing picks a table, the packets in
    from each tenant's link (`-i LINK`: both tenants share one segment prefix, so only the link
    tells them apart) get its mark, between a CONNMARK `--restore-mark` before the marks and a
    `--save-mark` after them. A restore after a mark overwrites it; a save before a mark saves
    nothing, and the connection's replies lose their table."""

    def grade(out: str) -> tuple[Verdict, str]:
        rules = [line for line in out.splitlines() if "MARK" in line]
        if not rules:
            return NOT_DONE, "no MARK rule"
        pre = [line for line in out.splitlines() if line.startswith("-A PREROUTING ")]
        lack: list[str] = []
        set_at: list[int] = []
        for link, mark in marks.items():
            on_link = [
                i
                for i, r in enumerate(pre)
                if re.search(rf"-i {re.escape(link)}( |$)", r) and re.search(_mark(mark), r)
            ]
            if on_link:
                set_at.append(on_link[0])
                continue
            elsewhere = [r for r in rules if re.search(_mark(mark), r)]
            lack.append(
                f"no mark {mark} in PREROUTING for -i {link}" + (f" (set by `{elsewhere[0]}`)" if elsewhere else "")
            )
        restore = [i for i, r in enumerate(pre) if "--restore-mark" in r]
        save = [i for i, r in enumerate(pre) if "--save-mark" in r]
        if not restore:
            lack.append("no CONNMARK --restore-mark in PREROUTING")
        elif set_at and restore[0] > min(set_at):
            lack.append("CONNMARK --restore-mark after a MARK rule (it overwrites the mark)")
        if not save:
            lack.append("no CONNMARK --save-mark in PREROUTING")
        elif set_at and save[-1] < max(set_at):
            lack.append("CONNMARK --save-mark before a MARK rule (the mark is never saved)")
        if not lack:
            return DONE, f"{len(rules)} MARK/CONNMARK rules"
        return WRONG, "; ".join(lack)

    return grade


def _tasks(lab: Lab) -> list[Task]:
    r, up = lab.router, lab.upstream
    up_if = lab.router_subif(up.vlan)
    marks = {lab.router_subif(t.link_vlan): t.fwmark for t in lab.tenants.values()}
    tasks = [routes_both_families(r.name, "4.1")]
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
                    hint=f"the first rule for fwmark {t.fwmark} decides: delete any rule for it before the one "
                    f"to table {t.table_id} (`ip -{family} rule del pref N`)",
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
                expect=f"MASQUERADE out of {up_if}, and nothing else",
                hint=f"masquerade only what leaves by the upstream link: `-o {up_if}` on every NAT rule",
            ),
            Task(
                "4.4",
                f"IPv{family} mangle rules mark each tenant's connections",
                r.name,
                f"{program} -t mangle -S",
                marks_connections(marks),
                expect="CONNMARK --restore-mark, "
                + ", ".join(f"mark {m} for -i {n}" for n, m in marks.items())
                + ", then CONNMARK --save-mark",
                hint="in PREROUTING, in this order: CONNMARK --restore-mark, one MARK rule per tenant link "
                "(`-i LINK`), CONNMARK --save-mark",
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
