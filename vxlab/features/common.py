"""What several features share: the interfaces and routing sysctl files every VM has, and the
checkers of file kinds that are no one daemon's (ifupdown, sysctl, shell)."""

from __future__ import annotations

import shlex
from ipaddress import IPv4Address, IPv6Address

from vxlab.features import graders
from vxlab.features.spec import Checker, FileSpec, Machine, RenderedFile, Role, Sandbox, Task, result
from vxlab.model.lab import Lab

INTERFACES = "/etc/network/interfaces"
SYSCTL_PATH = "/etc/sysctl.d/90-vxlab-routing.conf"


def ping(target: object, family: int | None = None, count: int = 3, options: str = "") -> str:
    """An echo probe: `count` requests 0.2 s apart, each given 2 s to answer. A reply takes
    milliseconds; ping's default second between requests only made every check wait."""
    version = f"-{family} " if family else ""
    return f"ping {version}{options}{' ' if options else ''}-c {count} -i 0.2 -W 2 {target}"


def detached(command: str, log: str) -> str:
    """Run `command` after this SSH session returns: it may take the session's link down.
    Braced, so that `write && reload` backgrounds only the reload (a backgrounded list would
    read its stdin, the file's content, from /dev/null)."""
    return f"{{ nohup sh -c {shlex.quote('sleep 1; ' + command)} >{log} 2>&1 </dev/null & }}"


# Where the network restart says it is over: a step that needs the restarted network (not the
# one before it, which a VM configured by hand already has) waits for it.
NETWORK_RELOADED = "/var/lib/vxlab/network-reloaded"
NETWORK_RELOAD = f"rm -f {NETWORK_RELOADED} && " + detached(
    f"ifdown --force -a --exclude=lo; ifup -a; mkdir -p /var/lib/vxlab; touch {NETWORK_RELOADED}",
    "/var/log/vxlab-network.log",
)


def routing_sysctl(role: Role) -> FileSpec:
    """The routing sysctls, applied as soon as the file is written."""
    return FileSpec(role, "common/sysctl-routing.j2", SYSCTL_PATH, "sysctl", reload=f"sysctl -q -p {SYSCTL_PATH}")


ROUTING = ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding")


def routes_both_families(vm: str, section: str) -> Task:
    """A VM's §N.2 (the tenants) or §4.1 (the router): routing on, now and after a reboot."""
    return Task(
        section,
        f"{vm} routes IPv4 and IPv6",
        vm,
        graders.sysctl_now_and_at_boot(*ROUTING),
        graders.sysctls_now_and_at_boot(*ROUTING),
        expect="both 1, now and in what the boot applies",
        hint="set them in /etc/sysctl.conf (or a file in /etc/sysctl.d) and load that file with `sysctl -p FILE`: "
        "`sysctl -w` alone is lost at the next boot, a file alone waits for it",
    )


def default_route(container: str, family: int, vip: IPv4Address | IPv6Address, section: str, hint: str) -> Task:
    """The container's only IPv`family` default route goes via `vip`: a second one beside it
    sends part of the traffic past the VIP, where no failover follows it."""
    return Task(
        section,
        f"IPv{family} default route via the VIP",
        container,
        f"ip -{family} route show default",
        graders.route_via(str(vip)),
        where="container",
        expect=f"default via {vip}, and no other",
        hint=hint,
    )


def check_ifupdown(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    path = run.put("interfaces", f.content)
    # An empty interfaces.d and /run keep the host's own stanzas and state out of the check.
    script = (
        "mount -t tmpfs none /etc/network/interfaces.d\nmount -t tmpfs none /run\n"
        f"ifquery --interfaces={path} --list --all >/dev/null\n"
        f"ifup --no-act --interfaces={path} --all >/dev/null\n"
    )
    return result(run.in_namespaces(script))


def check_sysctl(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    path = run.put("sysctl.conf", f.content)
    return result(run.in_namespaces(f"sysctl -q -p {path}\n"))


def check_script(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    if not f.content.startswith("#!/bin/bash\n"):
        return False, "missing #!/bin/bash"
    if not f.mode & 0o111:
        return False, "not executable"
    return result(run.run(["bash", "-n", str(run.put("script.sh", f.content, f.mode))]))


def check_shell_vars(run: Sandbox, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    return result(run.run(["bash", "-n", str(run.put("vars.sh", f.content))]))


IFUPDOWN = Checker("ifquery + ifup --no-act", check_ifupdown, ("unshare", "ifquery", "ifup"))
SYSCTL = Checker("sysctl -p in a netns", check_sysctl, ("unshare", "sysctl"))
SCRIPT = Checker("bash -n", check_script, ("bash",))
SHELL_VARS = Checker("bash -n", check_shell_vars, ("bash",))
