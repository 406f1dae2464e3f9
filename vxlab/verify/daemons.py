"""Every rendered file checked by the real program that will read it, in check mode.

Checks that need an interface, a user or a file at a fixed path run inside throwaway
network and mount namespaces (`unshare`), so nothing on this machine changes: no user is
added, no interface is created, no address, route, rule or sysctl of the host is touched.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from vxlab.build import cloud_init
from vxlab.build.provision import VmPlan
from vxlab.features import checkers
from vxlab.features.spec import Kind, Machine, RenderedFile, result
from vxlab.model.lab import Lab

# Every kind of file the lab writes, with its checker: the features' (vxlab.features).
CHECKERS = checkers()


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


def missing_programs(kinds: set[Kind]) -> list[str]:
    """What this machine lacks to check files of these kinds: programs, and files they read."""
    wanted = [CHECKERS[k] for k in kinds]
    missing = sorted({p for c in wanted for p in c.programs if shutil.which(p) is None})
    return missing + sorted({f for c in wanted for f in c.files if not Path(f).is_file()})


def check_file(f: RenderedFile, machine: Machine, lab: Lab) -> Verdict:
    checker = CHECKERS[f.kind]
    with tempfile.TemporaryDirectory(prefix="vxlab-check-") as tmp:
        try:
            ok, detail = checker.check(_Run(Path(tmp)), f, machine, lab)
        except subprocess.TimeoutExpired as exc:
            ok, detail = False, f"timed out after {exc.timeout} s"
    return Verdict(machine.name, f.path, checker.name, ok, detail)


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
    return "cloud-init schema", *result(run.run(["cloud-init", "schema", "--config-file", str(path)]))


def _check_domain_xslt(run: _Run, plan: VmPlan) -> tuple[str, bool, str]:
    xslt = run.put("domain.xslt", plan.domain_xslt)
    domain = run.put("domain.xml", _SAMPLE_DOMAIN.format(mac=plan.mac))
    proc = run.run(["xsltproc", str(xslt), str(domain)])
    ok, detail = result(proc)
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
