"""Two class groups on this machine at once: `ci` on the local libvirt and `ci2` driving libvirt
through qemu+ssh://root@127.0.0.1/system with its host switch run over SSH to 127.0.0.1 (an sshd
this run starts, with keys of the run only). Both brought up by `vxlab class up` (Pulumi's
Automation API; one after the other, then side by side), both checked, each drilled while the
other runs, then destroyed one after the other with the survivor checked in between (and, alone,
drilled through a crash of its master that `virsh` makes over qemu+ssh), and a residue check.
Host memory, load and each group's QEMU memory are sampled every 5 s."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from vxlab.engine.e2e import Failed, Report, Scratch, drill, host_down, host_ready, leftovers, residue, run, tail
from vxlab.model.lab import Lab
from vxlab.validate.load import load_lab

LOCAL, REMOTE = "ci", "ci2"


class Sampler:
    """Every 5 s: host memory used (MiB), load, and each group's QEMU resident memory (MiB)."""

    def __init__(self, labs: list[Lab], path: Path) -> None:
        self.guests = [leftovers(lab).domains for lab in labs]
        self.path = path
        self.rows: list[list[float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(5):
            used = _mem_used_mib()
            load = float(Path("/proc/loadavg").read_text().split()[0])
            row = [used, load, *(qemu_sum("rss", g) / 1024 for g in self.guests)]
            self.rows.append(row)
            with self.path.open("a") as out:
                out.write(f"{int(time.time())} " + " ".join(f"{v:g}" for v in row) + "\n")

    def peak(self) -> str:
        top = [max((r[i] for r in self.rows), default=0.0) for i in range(2 + len(self.guests))]
        groups = ", ".join(f"{g[0].split('-')[0]} {v:.0f} MiB" for g, v in zip(self.guests, top[2:], strict=True))
        return (
            f"peak host memory used {top[0]:.0f} MiB, load {top[1]:.2f}, QEMU RSS {groups} ({len(self.rows)} samples)"
        )


def _mem_used_mib() -> float:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kib = {k: int(v.split()[0]) for k, v in info.items() if k in ("MemTotal", "MemAvailable")}
    return (kib["MemTotal"] - kib["MemAvailable"]) / 1024


def qemu_sum(field: str, domains: tuple[str, ...]) -> float:
    """`rss` (KiB) or `times` (CPU s) summed over the QEMU processes of these domains."""
    out = subprocess.run(["ps", "-C", "qemu-system-x86_64", "-o", f"{field}=,args="], capture_output=True, text=True)
    total = 0.0
    for line in out.stdout.splitlines():
        value, _, args = line.strip().partition(" ")
        if any(f"guest={d}," in args or args.endswith(f"guest={d}") for d in domains):
            total += float(value)
    return total


def run_class(root: Path, folder: Path) -> None:
    report = Report(folder / "report.txt", "class-e2e")
    host_ready(root, report)
    scratch = Scratch(root, folder)
    scratch.make()
    sshd = folder / "sshd"
    for line in run(
        [str(root / "scripts" / "hypervisor-sshd"), "up", str(sshd), str(scratch.key) + ".pub"]
    ).stdout.splitlines():
        report.say(line)
    for stack in (LOCAL, REMOTE):
        scratch.new_stack(stack)
    uri = f"qemu+ssh://root@127.0.0.1/system?keyfile={scratch.key}&knownhosts={sshd / 'known_hosts'}"
    scratch.pulumi("config", "set", "--path", "vxlab:hypervisor.libvirt_uri", uri, stack=REMOTE)
    scratch.pulumi("config", "set", "--path", "vxlab:hypervisor.ssh_host", "127.0.0.1", stack=REMOTE)
    report.say(f"{REMOTE} drives libvirt through {uri}")
    labs = {stack: load_lab(scratch.project, stack) for stack in (LOCAL, REMOTE)}
    sampler = Sampler(list(labs.values()), folder / "samples.txt")
    sampler.start()
    try:
        _steps(scratch, labs, report, sampler)
    except BaseException as exc:
        report.say(f"failed ({exc.__class__.__name__}): destroying what was created")
        scratch.vxlab(
            "class",
            "destroy",
            "--stacks",
            LOCAL,
            REMOTE,
            "--key",
            str(scratch.key),
            log=folder / "destroy-after-failure.log",
            check=False,
        )
        raise
    finally:
        sampler.stop()
        run([str(root / "scripts" / "hypervisor-sshd"), "down", str(sshd)], check=False)
        host_down(root)


def _steps(s: Scratch, labs: dict[str, Lab], report: Report, sampler: Sampler) -> None:
    d, key = s.dir, ("--key", str(s.key))
    # One after the other, then both running: made at once (--parallel 2) on this 2-core machine, the
    # six TCG guests ran at load 7-9 and the LXD provider's exec into the new containers timed out
    # through the relays (measured 2026-11-27: both stacks failed after 860 s; docs/lab-on-ci.md).
    parallel = os.environ.get("VXLAB_CLASS_PARALLEL", "1")
    with report.timed(f"class up ({LOCAL}, then {REMOTE})"):
        s.vxlab("class", "up", "--stacks", LOCAL, REMOTE, "--parallel", parallel, *key, log=d / "class-up.txt")
    print((d / "class-up.txt").read_text(), end="", flush=True)
    report.say(f"while both came up: {sampler.peak()}")
    # One after the other: both checks at once loaded the six guests until a tenant's track script
    # missed its probe and the VIPs moved under the check (measured: ci's IPv6 conntrack-mark check).
    with report.timed(f"class check ({LOCAL}, then {REMOTE})"):
        s.vxlab("class", "check", "--stacks", LOCAL, REMOTE, "--parallel", "1", *key, log=d / "class-check.txt")
    print((d / "class-check.txt").read_text(), end="", flush=True)
    guests = {stack: leftovers(lab).domains for stack, lab in labs.items()}
    before = {stack: qemu_sum("times", g) for stack, g in guests.items()}
    time.sleep(60)
    idle = ", ".join(
        f"{stack} {int((qemu_sum('times', g) - before[stack]) * 100 / 60)}%" for stack, g in guests.items()
    )
    report.say(f"CPU of a running group left alone (its QEMU processes over 60 s): {idle} of one core")

    # Each group drilled while the other runs (lab-e2e drills every scenario on ci alone);
    # link-down on ci2 drives its host switch over SSH.
    drill(
        s,
        report,
        LOCAL,
        f"drill {LOCAL}: probe-cut link-down (the other group running)",
        ("probe-cut", "link-down"),
        prefix=f"{LOCAL} ",
    )
    drill(
        s, report, REMOTE, f"drill {REMOTE}: link-down (the other group running)", ("link-down",), prefix=f"{REMOTE} "
    )
    with report.timed(f"drift {REMOTE} (host files over SSH)"):
        s.vxlab("drift", *key, stack=REMOTE, log=d / f"drift-{REMOTE}.txt")
    report.say(f"drift {REMOTE}: {tail(d / f'drift-{REMOTE}.txt', 1)}")
    report.say(f"with both groups up: {sampler.peak()}")

    # The local group goes first: what both share (the bridge, the pool, the image, the services)
    # must stay for the remote one.
    with report.timed(f"class destroy {LOCAL}"):
        s.vxlab("class", "destroy", "--stacks", LOCAL, *key, log=d / f"destroy-{LOCAL}.txt")
    with report.timed(f"check {REMOTE} after {LOCAL} went"):
        s.vxlab("class", "check", "--stacks", REMOTE, *key, log=d / "check-survivor.txt")
    bridge = labs[REMOTE].hypervisor.bridge
    if run(["ovs-vsctl", "br-exists", bridge], check=False).returncode != 0:
        raise Failed(f"the shared bridge {bridge} went with {LOCAL}")
    netns = labs[REMOTE].hypervisor.svi_netns
    if netns and not Path("/run/netns", netns).exists():
        raise Failed(f"{REMOTE}'s namespace {netns} went with {LOCAL}")
    # A crashed master's fail-back is bounded by its reboot on a machine of its own: with the other
    # group's five idle guests taking most of a core, the reboot outlasted that bound (measured
    # 2026-11-27: no fail-back within 250 s; alone 61 s). So ci2's master crashes once ci is gone;
    # `virsh destroy`/`start` still go to the hypervisor over SSH.
    drill(
        s,
        report,
        REMOTE,
        f"drill {REMOTE}: master-crash (alone, virsh over SSH)",
        ("master-crash",),
        prefix=f"{REMOTE} ",
    )
    with report.timed(f"class destroy {REMOTE}"):
        s.vxlab("class", "destroy", "--stacks", REMOTE, *key, log=d / f"destroy-{REMOTE}.txt")

    left = residue(list(labs.values()))
    if left:
        raise Failed(f"residue after destroy: {', '.join(left)}")
    report.say("no residue after both destroys")


def _drill(s: Scratch, report: Report, stack: str, situation: str, *scenarios: str) -> None:
    label = f"drill {stack}: {' '.join(scenarios)} ({situation})"
    drill(s, report, stack, label, scenarios, prefix=f"{stack} ")
