"""What a run measures of the machine while groups run: host memory in use, load, and each
group's QEMU resident memory and CPU time (`ps`), every 5 s."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from vxlab.engine.e2e import leftovers
from vxlab.model.lab import Lab


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
