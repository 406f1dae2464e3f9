"""A class group's students, scripted for `vxlab e2e lab`: on a lab at stage `router`, each tenant's
chapter of the seed typed their own way (files/e2e/student-tenant.sh.j2: other files, layouts,
comments and order than vxlab's templates), both tenants at once as two students would."""

from __future__ import annotations

import base64
import shlex
import time

from vxlab.build.render import render_template
from vxlab.features.dhcp_failover import failover_ports
from vxlab.live.remote import LabShell
from vxlab.model.lab import Lab, Tenant
from vxlab.model.mtu import tunnel_remote
from vxlab.model.stages import vm_sections

# Both tenants' chapters (network, daemons, LXD, three containers) took about 4 minutes on the
# CI machine's TCG guests; twice that before the run gives up.
STUDENT_TIMEOUT_S = 900.0
SCRIPT = "/root/student.sh"


class StudentsFailed(RuntimeError):
    """A student's script failed or did not finish."""


def student_script(lab: Lab, tenant: Tenant) -> str:
    """What the tenant's student types for its chapter, as one script with this group's values."""
    server, other = tenant.dhcp_server, lab.peer_of(tenant).dhcp_server
    own, peer = failover_ports(lab, server)
    return render_template(
        "e2e/student-tenant.sh.j2",
        chapter=vm_sections(lab)[tenant.name],
        tenant=tenant,
        peer=lab.peer_of(tenant),
        tunnel_remote=tunnel_remote(lab, tenant),
        segment=lab.segment,
        internet=lab.internet,
        vrrp=lab.vrrp,
        radvd=lab.radvd,
        lxd=lab.lxd,
        dhcp=lab.dhcp,
        tarball=lab.images.container_tarball,
        server=server,
        other=other,
        own_port=own,
        other_port=peer,
        containers=tenant.containers,
        clients=tenant.clients,
    )


def students_do_their_chapters(shell: LabShell, lab: Lab) -> dict[str, float]:
    """Each tenant's script started in the background on its VM (it restarts the network under
    the SSH session), then waited for; the seconds each took."""
    start = time.monotonic()
    for t in lab.tenants.values():
        chapter = vm_sections(lab)[t.name]
        payload = base64.b64encode(student_script(lab, t).encode()).decode()
        started = shell.vm(
            t.name,
            f"rm -f /root/student-{chapter}.status; echo {payload} | base64 -d > {SCRIPT}; chmod +x {SCRIPT}; "
            f"nohup {SCRIPT} >/dev/null 2>&1 </dev/null &",
        )
        if not started.ok:
            raise StudentsFailed(f"{t.name}: the script did not start: {started.err.strip()}")
    took: dict[str, float] = {}
    while len(took) < len(lab.tenants):
        if time.monotonic() - start > STUDENT_TIMEOUT_S:
            raise StudentsFailed(f"not finished after {STUDENT_TIMEOUT_S:.0f} s: {_logs(shell, lab)}")
        time.sleep(10)
        for t in lab.tenants.values():
            chapter = vm_sections(lab)[t.name]
            status = shell.vm(t.name, f"cat /root/student-{chapter}.status 2>/dev/null", timeout=30).out.strip()
            if status == "failed":
                raise StudentsFailed(f"{t.name}'s script failed: {_logs(shell, lab)}")
            if status == "done" and t.name not in took:
                took[t.name] = time.monotonic() - start
    return took


def _logs(shell: LabShell, lab: Lab) -> str:
    tails = []
    for t in lab.tenants.values():
        log = f"/root/student-{vm_sections(lab)[t.name]}.log"
        tails.append(f"{t.name}: " + shell.vm(t.name, f"tail -n 15 {shlex.quote(log)}", timeout=30).out.strip())
    return " | ".join(tails)
