"""Every rendered file checked by the real program that will read it, in check mode.

Checks that need an interface, a user or a file at a fixed path run inside throwaway
network and mount namespaces (`unshare`), so nothing on this machine changes: no user is
added, no interface is created, no address, route, rule or sysctl of the host is touched.
"""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from vxlab import cloud_init
from vxlab.model import Lab
from vxlab.naming import stack_label
from vxlab.provision import VmPlan
from vxlab.render import Kind, Machine, RenderedFile, host_ports, lxd_address

# Programs each kind of check needs, so a missing one is reported as such, not as a failure
# of the file.
REQUIRED_PROGRAMS: dict[Kind, tuple[str, ...]] = {
    "ifupdown": ("unshare", "ifquery", "ifup"),
    "sysctl": ("unshare", "sysctl"),
    "rt_tables": ("unshare", "ip"),
    "iptables": ("unshare", "iptables-restore"),
    "ip6tables": ("unshare", "ip6tables-restore"),
    "radvd": ("radvd",),
    "keepalived": ("unshare", "keepalived", "ip"),
    "script": ("bash",),
    "host-switch": (
        "bash",
        "unshare",
        "ovsdb-tool",
        "ovsdb-server",
        "ovs-vswitchd",
        "ovs-vsctl",
        "ip",
        "socat",
        "ethtool",
    ),
    "tmpfiles": ("systemd-tmpfiles",),
    "lxd-preseed": (),
    "dhcpd": ("dhcpd",),
    "shell-vars": ("bash",),
}

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


@dataclass(frozen=True)
class Verdict:
    machine: str
    path: str
    check: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        status = "ok  " if self.ok else "FAIL"
        detail = f": {self.detail}" if self.detail and not self.ok else ""
        return f"{status} {self.machine}:{self.path} [{self.check}]{detail}"


class _Run:
    """One check's scratch directory and subprocess runner."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir

    def put(self, name: str, content: str, mode: int = 0o644) -> Path:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(mode)
        return path

    def run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False, start_new_session=True
        )

    def in_namespaces(self, script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a bash script in fresh network, mount and PID namespaces: whatever it starts
        dies with it, and its mounts stay private."""
        body = "set -euo pipefail\nmount --make-rprivate /\n" + script
        path = self.put("ns-script.sh", body, 0o755)
        return self.run(
            ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "--", "bash", str(path)], timeout
        )


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    text = (proc.stderr + proc.stdout).strip()
    # The first diagnostics name the cause; later ones tend to be its echoes.
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())[:800]


def _result(proc: subprocess.CompletedProcess[str]) -> tuple[bool, str]:
    return proc.returncode == 0, _output(proc) or f"exit status {proc.returncode}"


# -- checkers: (run, file, machine, lab) -> (ok, detail) ---------------------------------------


def check_ifupdown(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    path = run.put("interfaces", f.content)
    # An empty interfaces.d and /run keep the host's own stanzas and state out of the check.
    script = (
        "mount -t tmpfs none /etc/network/interfaces.d\nmount -t tmpfs none /run\n"
        f"ifquery --interfaces={path} --list --all >/dev/null\n"
        f"ifup --no-act --interfaces={path} --all >/dev/null\n"
    )
    return _result(run.in_namespaces(script))


def check_sysctl(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    path = run.put("sysctl.conf", f.content)
    return _result(run.in_namespaces(f"sysctl -q -p {path}\n"))


def check_rt_tables(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
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
    return _result(run.in_namespaces("\n".join(lines) + "\n"))


def _restore(program: str) -> Callable[[_Run, RenderedFile, Machine, Lab], tuple[bool, str]]:
    def check(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
        path = run.put("rules", f.content)
        return _result(run.in_namespaces(f"{program} --test {path}\n"))

    return check


def check_radvd(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    path = run.put("radvd.conf", f.content)
    return _result(run.run(["radvd", "--configtest", "--config", str(path)]))


def check_keepalived(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    """keepalived -t with the VRRP interface, the script user and the scripts in place.

    keepalived 2.2.7 ends `-t` with SIGTERM to itself whenever script_user is not root (it
    re-arms PR_SET_PDEATHSIG after checking the scripts as that user, then kills itself), so
    a run counts as good when it exits 0, or dies of that SIGTERM without a single diagnostic.
    """
    conf = run.put("keepalived.conf", f.content)
    scripts = [s for s in m.files if s.kind == "script"]
    for s in scripts:
        run.put("bin/" + Path(s.path).name, s.content, s.mode)
    user = lab.lab_user.name
    # The tenant's NIC too: a tracked interface that does not exist is an error.
    nics = "".join(
        f"ip link add {t.nic} type veth peer name vxlab-nic-peer\n" for t in lab.tenants.values() if t.name == m.name
    )
    script = (
        f"ip link add {lab.segment.svi} type veth peer name vxlab-peer\n"
        f"ip link set {lab.segment.svi} up\n{nics}"
        f"cp /etc/passwd {run.dir}/passwd; cp /etc/group {run.dir}/group\n"
        f"getent passwd {user} >/dev/null || "
        f"echo '{user}:x:64999:64999::/nonexistent:/usr/sbin/nologin' >> {run.dir}/passwd\n"
        f"getent group {user} >/dev/null || echo '{user}:x:64999:' >> {run.dir}/group\n"
        f"mount --bind {run.dir}/passwd /etc/passwd\nmount --bind {run.dir}/group /etc/group\n"
        f"mkdir -p /usr/local/bin\nmount --bind {run.dir}/bin /usr/local/bin\n"
        f"exec keepalived --config-test --log-console --use-file={conf}\n"
    )
    run.dir.chmod(0o755)  # the script user must be able to reach the scripts' directory
    proc = run.in_namespaces(script)
    diagnostics = _output(proc)
    if proc.returncode == 0:
        return True, diagnostics
    # unshare re-raises the signal its child died of, hence the negative status too.
    if proc.returncode in (128 + signal.SIGTERM, -signal.SIGTERM) and not diagnostics:
        return True, "keepalived -t ended by its own SIGTERM, no diagnostics"
    return False, diagnostics or f"exit status {proc.returncode}"


def check_script(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    if not f.content.startswith("#!/bin/bash\n"):
        return False, "missing #!/bin/bash"
    if not f.mode & 0o111:
        return False, "not executable"
    return _result(run.run(["bash", "-n", str(run.put("script.sh", f.content, f.mode))]))


def check_shell_vars(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    return _result(run.run(["bash", "-n", str(run.put("vars.sh", f.content))]))


def check_host_switch(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
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
    return _result(run.in_namespaces(script, timeout=120))


def _expected_ports(lab: Lab) -> list[str]:
    svi = f"{lab.upstream.svi}-br" if lab.hypervisor.svi_netns else lab.upstream.svi
    return [p.tap for p in host_ports(lab)] + [svi]


def check_tmpfiles(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    # --root creates the entries below a scratch root; the owner is resolved as on the host,
    # so a missing lab user is replaced by root for the check and only the syntax is judged.
    user = lab.lab_user.name
    known = subprocess.run(["getent", "passwd", user], capture_output=True, check=False).returncode == 0
    content = f.content if known else f.content.replace(f" {user} {user} ", " root root ")
    conf = run.put("tmpfiles.conf", content)
    root = run.dir / "root"
    root.mkdir()
    return _result(run.run(["systemd-tmpfiles", "--create", f"--root={root}", str(conf)]))


def check_lxd_preseed(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    # No LXD daemon on the checking machine: check the YAML, where the API listens (the tenant's
    # underlay address only) and the default profile's root disk.
    doc = yaml.safe_load(f.content)
    tenant = next(t for t in lab.tenants.values() if t.name == m.name)
    listen = doc["config"]["core.https_address"]
    if listen != lxd_address(lab, tenant):
        return False, f"the API listens on {listen}, not on {lxd_address(lab, tenant)}"
    root = doc["profiles"][0]["devices"].get("root")
    if root != {"path": "/", "pool": doc["storage_pools"][0]["name"], "type": "disk"}:
        return False, f"unexpected root device {root}"
    pool = doc["storage_pools"][0]
    wanted = {"size": f"{lab.lxd.storage_gib}GiB"} if lab.lxd.storage_driver == "btrfs" else None
    if (pool["driver"], pool.get("config")) != (lab.lxd.storage_driver, wanted):
        return False, f"the pool is {pool['driver']} {pool.get('config')}, not {lab.lxd.storage_driver} {wanted}"
    return True, ""


def check_dhcpd(run: _Run, f: RenderedFile, m: Machine, lab: Lab) -> tuple[bool, str]:
    conf = run.put("dhcpd.conf", f.content)
    leases = run.put("dhcpd.leases", "")
    return _result(run.run(["dhcpd", "-4", "-t", "-q", "-cf", str(conf), "-lf", str(leases)]))


CHECKERS: dict[Kind, tuple[str, Callable[[_Run, RenderedFile, Machine, Lab], tuple[bool, str]]]] = {
    "ifupdown": ("ifquery + ifup --no-act", check_ifupdown),
    "sysctl": ("sysctl -p in a netns", check_sysctl),
    "rt_tables": ("ip rule by table name in a netns", check_rt_tables),
    "iptables": ("iptables-restore --test", _restore("iptables-restore")),
    "ip6tables": ("ip6tables-restore --test", _restore("ip6tables-restore")),
    "radvd": ("radvd --configtest", check_radvd),
    "keepalived": ("keepalived -t in a netns", check_keepalived),
    "script": ("bash -n", check_script),
    "host-switch": ("up, up, down on a scratch OVS", check_host_switch),
    "tmpfiles": ("systemd-tmpfiles --create --root", check_tmpfiles),
    "lxd-preseed": ("yaml + profile", check_lxd_preseed),
    "dhcpd": ("dhcpd -t", check_dhcpd),
    "shell-vars": ("bash -n", check_shell_vars),
}


def missing_programs(kinds: set[Kind]) -> list[str]:
    needed = {p for k in kinds for p in REQUIRED_PROGRAMS[k]}
    missing = sorted(p for p in needed if shutil.which(p) is None)
    if "host-switch" in kinds and not OVS_SCHEMA.is_file():
        missing.append(str(OVS_SCHEMA))
    return missing


def check_file(f: RenderedFile, machine: Machine, lab: Lab) -> Verdict:
    name, checker = CHECKERS[f.kind]
    with tempfile.TemporaryDirectory(prefix="vxlab-check-") as tmp:
        try:
            ok, detail = checker(_Run(Path(tmp)), f, machine, lab)
        except subprocess.TimeoutExpired as exc:
            ok, detail = False, f"timed out after {exc.timeout} s"
    return Verdict(machine.name, f.path, name, ok, detail)


def check_machines(machines: list[Machine], lab: Lab) -> list[Verdict]:
    return [check_file(f, m, lab) for m in machines for f in m.files]


# -- the VMs' seed and domain stylesheet ---------------------------------------------------------
# What the libvirt provider defines before the stylesheet runs: one NIC, stated by its MAC.
_SAMPLE_DOMAIN = (
    '<domain type="kvm"><name>sample</name><features><acpi/></features><devices>'
    '<interface type="network"><mac address="{mac}"/><source network="default"/></interface>'
    "</devices></domain>"
)


def _check_user_data(run: _Run, plan: VmPlan, lab: Lab) -> tuple[str, bool, str]:
    problem = cloud_init.user_data_problem(plan.user_data, lab)
    if problem:
        return "cloud-config structure", False, problem
    if shutil.which("cloud-init") is None:
        return "cloud-config structure", True, ""
    path = run.put("user-data", plan.user_data)
    return "cloud-init schema", *_result(run.run(["cloud-init", "schema", "--config-file", str(path)]))


def _check_domain_xslt(run: _Run, plan: VmPlan) -> tuple[str, bool, str]:
    xslt = run.put("domain.xslt", plan.domain_xslt)
    domain = run.put("domain.xml", _SAMPLE_DOMAIN.format(mac=plan.mac))
    proc = run.run(["xsltproc", str(xslt), str(domain)])
    ok, detail = _result(proc)
    if ok:
        want = (f'<mac address="{plan.mac}"/>', f'<target dev="{plan.tap}" managed="no"/>')
        missing = [w for w in want if w not in proc.stdout]
        ok, detail = not missing, f"the transformed domain lacks {missing}" if missing else ""
    return "xsltproc on a sample domain", ok, detail


def check_vm_plans(plans: list[VmPlan], lab: Lab) -> list[Verdict]:
    """Each VM's cloud-init user-data and network-config, and its domain stylesheet."""
    verdicts = []
    for plan in plans:
        with tempfile.TemporaryDirectory(prefix="vxlab-check-") as tmp:
            run = _Run(Path(tmp))
            check, ok, detail = _check_user_data(run, plan, lab)
            verdicts.append(Verdict(plan.name, "cloud-init/user-data", check, ok, detail))
            network = yaml.safe_load(plan.network_config)
            ok = network == {"network": {"config": "disabled"}}
            verdicts.append(Verdict(plan.name, "cloud-init/network-config", "yaml", ok, "" if ok else str(network)))
            check, ok, detail = _check_domain_xslt(run, plan)
            verdicts.append(Verdict(plan.name, "libvirt/domain.xslt", check, ok, detail))
    return verdicts
