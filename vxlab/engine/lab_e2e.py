"""The whole lab for real on this machine (stack `ci`, one group), on the official engine and
plugins (their versions and paths open the report): images, hypervisor services, `pulumi up`,
`vxlab check` (with 1 MiB TCP transfers both ways from every container over IPv4 and IPv6, and
full-size DF pings across the VXLAN; their rates go to the report), `vxlab drill` (probe-cut,
link-down, dhcp-peer-down, master-crash, router-crash, power-cut), a second preview and a second
up that must change nothing, refresh then a preview that must be empty, a one-priority change
whose preview must touch one resource, a one-DHCP-setting change that must touch the two DHCP
containers only, a container stopped by hand that a refreshed preview must show and the next up
must start (one deleted likewise), the pinned host keys, `vxlab drift` clean, then a
keepalived.conf edited by hand reported and repaired by the command drift gives, `pulumi
destroy`, and a residue check. Also: the handout where the stack outputs point (printed by a
headless Chromium) and the class view of the deployed stack. Every name comes from the model."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from vxlab.build.provision import seed_folder
from vxlab.engine.e2e import Failed, Report, Scratch, drill, host_down, host_ready, residue, run, tail, touched
from vxlab.features.keepalived import KEEPALIVED_CONF
from vxlab.live.remote import LabShell
from vxlab.model.lab import Lab
from vxlab.validate.load import load_lab

STACK = "ci"
SCENARIOS = ("probe-cut", "link-down", "dhcp-peer-down", "master-crash", "router-crash", "power-cut")


def run_lab(root: Path, folder: Path) -> None:
    report = Report(folder / "report.txt", "lab-e2e")
    for line in run([str(root / "scripts" / "engine-info")]).stdout.splitlines():
        report.say(line)
    host_ready(root, report)
    scratch = Scratch(root, folder)
    scratch.make()
    scratch.new_stack(STACK)
    lab = load_lab(scratch.project, STACK)
    try:
        _steps(scratch, lab, report)
    except BaseException as exc:
        report.say(f"failed ({exc.__class__.__name__}): destroying what was created")
        scratch.pulumi("destroy", "--yes", stack=STACK, log=folder / "destroy-after-failure.log", check=False)
        raise
    finally:
        host_down(root)


def _steps(s: Scratch, lab: Lab, report: Report) -> None:
    d, P = s.dir, s.pulumi
    os.environ["PULUMI_DEBUG_COMMANDS"] = "true"  # the engine writes --event-log only with them
    with report.timed("pulumi up"):
        P("up", "--yes", "--skip-preview", "--event-log", str(d / "up-events.jsonl"), stack=STACK, log=d / "up.log")
    _timeline(s, report, "up timeline", "up-events.jsonl", "state-after-up.json")

    # The VMs' host keys were pinned at deploy; the stack output must be the same lines.
    outputs = s.outputs(STACK)
    known = sorted(line for line in str(outputs["known_hosts"]).splitlines() if line)
    pinned = sorted(
        line for f in Path(seed_folder(lab)).glob("*.known_hosts") for line in f.read_text().splitlines() if line
    )
    if known != pinned:
        raise Failed("stack output known_hosts differs from the pinned keys")
    (d / "known_hosts").write_text("\n".join(known) + "\n")
    report.say(f"host keys pinned: {len(known)} VMs, and the stack output agrees")
    keys = ("--key", str(s.key), "--known-hosts", str(d / "known_hosts"))

    with report.timed("vxlab check"):
        s.vxlab("check", *keys, "--junit", str(d / "check.xml"), stack=STACK, log=d / "check.txt")
    print((d / "check.txt").read_text(), end="", flush=True)
    # What students carry: per container and family, the 1 MiB transfers' rates and the full-size pings.
    for line in (d / "check.txt").read_text().splitlines():
        if re.search(r"TCP (down|up)load|DF ping", line):
            report.say("traffic: " + " ".join(line.split()))

    # The handout where the stack output points, printed to PDF by a headless Chromium that must
    # load it without a console error or a missing resource; the class view with this stack up.
    page = Path(outputs["handout"])
    with report.timed("vxlab handout"):
        s.vxlab("handout", "--out", str(page.parent), "--force", stack=STACK, log=d / "handout.txt")
    if not all(
        Path(outputs[k]).is_file() and Path(outputs[k]).stat().st_size for k in ("handout", "handout_pdf", "diagram")
    ):
        raise Failed("the handout is not where the stack outputs point")
    report.say(f"handout: {' '.join(sorted(p.name for p in page.parent.iterdir()))}")
    shown = s.vxlab("class", "--json", "--html", str(d / "class.html"))
    row = next(r for r in json.loads(shown.stdout) if r["stack"] == STACK)
    if not (
        row["deployed"] and row["deployed"]["resources"] > 0 and row["last_check"] and not row["last_check"]["failed"]
    ):
        raise Failed(f"the class view does not show {STACK} deployed and checked: {row}")
    report.say(
        f"class: {STACK}: {row['deployed']['resources']} resources, last check {row['last_check']['passed']} passed, "
        f"collisions {row['collisions'] or 'none'}"
    )

    drill(s, report, STACK, "vxlab drill", SCENARIOS, "--known-hosts", str(d / "known_hosts"))

    with report.timed("second preview"):
        P("preview", "--diff", "--expect-no-changes", stack=STACK, log=d / "preview-again.log")
    with report.timed("second up"):
        P("up", "--yes", "--expect-no-changes", stack=STACK, log=d / "up-again.log")
    # The providers read the lab back (domains, volumes, cloud-init disks): it must match the program.
    with report.timed("refresh"):
        P("refresh", "--yes", stack=STACK, log=d / "refresh.log")
    with report.timed("preview after refresh"):
        P("preview", "--diff", "--expect-no-changes", stack=STACK, log=d / "preview-refreshed.log")

    blue, green = lab.tenants.values()
    green_color = next(c for c, t in lab.tenants.items() if t is green)
    # One priority changed: exactly the resource that writes that tenant's keepalived.conf changes.
    priority = 225 if green.vrrp_priority != 225 else 224
    _expect_touched(
        s,
        report,
        "one priority change",
        f"tenants.{green_color}.vrrp_priority",
        priority,
        [f"{green.name}-file:{KEEPALIVED_CONF}"],
    )
    # One DHCP setting changed: exactly the two DHCP server containers (their dhcpd.conf) change.
    lease = 900 if lab.dhcp.default_lease_time != 900 else 901
    _expect_touched(
        s,
        report,
        "one DHCP setting change",
        "dhcp.default_lease_time",
        lease,
        sorted(t.dhcp_server.name for t in lab.tenants.values()),
    )

    with LabShell(lab, s.key, d / "known_hosts") as shell:
        # Drift the engine sees: a container stopped by hand, one deleted by hand.
        for tenant, action, what in ((blue, "stop --force", "stopped"), (green, "delete --force", "deleted")):
            container = tenant.clients[-1]
            shell.vm(tenant.name, f"lxc {action} {container}")
            preview = P("preview", "--refresh", "--json", stack=STACK)
            changed = touched(json.loads(preview.stdout))
            report.say(f"refreshed preview after a container was {what} by hand touches: {' '.join(changed)}")
            if changed != [container]:
                raise Failed(f"expected only the {what} container {container}")
            with report.timed(f"up after a container was {what}"):
                P("up", "--yes", "--refresh", stack=STACK, log=d / f"up-{what}.log")
            state = shell.vm(tenant.name, f"lxc list {container} --format csv --columns s").out.strip()
            if state != "RUNNING":
                raise Failed(f"{container} is {state or 'gone'} after up, not RUNNING")
            report.say(f"{container} running again after up")

        # Drift inside a VM: nothing, then a keepalived.conf edited by hand, reported with the
        # command that repairs it; that command run; nothing again.
        with report.timed("vxlab drift"):
            s.vxlab("drift", *keys, stack=STACK, log=d / "drift-clean.txt")
        report.say(f"drift on an untouched lab: {tail(d / 'drift-clean.txt', 1)}")
        shell.vm(green.name, f"echo '# edited by hand' >> {KEEPALIVED_CONF}")
    found = s.vxlab("drift", *keys, "--json", stack=STACK, check=False)
    if found.returncode == 0:
        raise Failed("a hand edit was not seen")
    drift = json.loads(found.stdout)["drift"]
    drifted = [f"{x['machine']}:{x['what']}" for x in drift]
    report.say(f"drift after a hand edit: {' '.join(drifted)}")
    if drifted != [f"{green.name}:{KEEPALIVED_CONF}"]:
        raise Failed(f"expected only {green.name}'s keepalived.conf")
    urn = re.search(r"--replace '(.*)'$", drift[0]["repair"])
    if urn is None:
        raise Failed(f"no URN in the repair command: {drift[0]['repair']}")
    with report.timed("repair (up --replace)"):
        P("up", "--yes", "--replace", urn.group(1), stack=STACK, log=d / "up-repair.log")
    s.vxlab("drift", *keys, stack=STACK, log=d / "drift-repaired.txt")
    report.say(f"drift after the repair: {tail(d / 'drift-repaired.txt', 1)}")
    with report.timed("vxlab check after drift"):
        s.vxlab("check", *keys, stack=STACK, log=d / "check-after-drift.txt")
    print((d / "check-after-drift.txt").read_text(), end="", flush=True)

    P("stack", "export", "--file", str(d / "state-before-destroy.json"), stack=STACK)
    with report.timed("pulumi destroy"):
        P("destroy", "--yes", "--event-log", str(d / "destroy-events.jsonl"), stack=STACK, log=d / "destroy.log")
    _timeline(s, report, "destroy timeline", "destroy-events.jsonl", "state-before-destroy.json", export=False)

    left = residue([lab])
    if left:
        raise Failed(f"residue after destroy: {', '.join(left)}")
    report.say("no residue after destroy")


def _timeline(s: Scratch, report: Report, label: str, events: str, state: str, export: bool = True) -> None:
    """Where a run spent its time, into the report."""
    if export:
        s.pulumi("stack", "export", "--file", str(s.dir / state), stack=STACK)
    shown = run(
        [
            str(s.root / "venv" / "bin" / "vxlab"),
            "timeline",
            "--events",
            str(s.dir / events),
            "--state",
            str(s.dir / state),
        ]
    )
    for line in shown.stdout.splitlines():
        report.say(f"{label}: {line}")


def _expect_touched(s: Scratch, report: Report, what: str, key: str, value: int, expected: list[str]) -> None:
    s.pulumi("config", "set", "--type", "int", "--path", f"vxlab:{key}", str(value), stack=STACK)
    try:
        preview = s.pulumi("preview", "--json", stack=STACK)
    finally:
        s.pulumi("config", "rm", "--path", f"vxlab:{key}", stack=STACK)
    changed = touched(json.loads(preview.stdout))
    report.say(f"preview after {what} touches: {' '.join(changed)}")
    if changed != expected:
        raise Failed(f"expected only {' '.join(expected)}")
