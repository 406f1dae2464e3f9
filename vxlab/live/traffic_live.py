"""The transfer server on the hypervisor (or in the group's namespace) for as long as the
traffic checks run (vxlab.live.judging observes them)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from vxlab.live.remote import LabShell
from vxlab.live.traffic import SERVER_READY, server_command, server_site
from vxlab.model.lab import Lab

# The server stops by itself after this, even if the checker dies (the checks take about 2 min).
SERVER_SECONDS = 1800
READY_TIMEOUT_S = 30.0


class ServerDown(RuntimeError):
    """The transfer server did not start on the hypervisor."""


@contextmanager
def transfer_server(shell: LabShell, lab: Lab) -> Iterator[None]:
    site = server_site(lab)
    proc = shell.popen_host(server_command(site, SERVER_SECONDS))
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
        line = proc.stdout.readline().strip() if ready else ""
        if line != SERVER_READY:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            err = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
            last = ([ln for ln in err.splitlines() if ln.strip()] or ["no answer"])[-1].strip()
            raise ServerDown(f"the transfer server did not start in {site.where} on port {site.port}: {last}")
        yield
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[str]) -> None:
    """Closing the server's stdin stops it, here or over SSH; a server that does not go is killed."""
    assert proc.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
