"""`pulumi preview` of every stack of the project with the real engine, in a scratch copy (stack
files get a salt and a throwaway SSH key there, never in the checkout) against a scratch local
backend. Nothing is created. The libvirt provider connects to libvirt even to preview, so the
hypervisor services run meanwhile (stopped after, if started here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from vxlab.engine.e2e import Failed, Scratch, run, tail
from vxlab.validate.load import list_stacks

# The lines of the preview's summary: "+ 63 to create", "12 unchanged".
SUMMARY = r"^ +[+~-]? *\d+ to (?:create|update|delete|replace)|^ +\d+ unchanged"


def preview_all(root: Path) -> None:
    was_running = subprocess.run(["pgrep", "-x", "libvirtd"], capture_output=True, check=False).returncode == 0
    folder = Path(tempfile.mkdtemp(prefix="vxlab-preview-"))
    try:
        run([str(root / "scripts" / "lab-host"), "services"])
        scratch = Scratch(root, folder)
        scratch.make()
        for stack in list_stacks(root):
            scratch.set_private_key(stack)
            started = time.monotonic()
            log = folder / f"{stack}.log"
            done = scratch.pulumi("preview", "--diff", stack=stack, log=log, check=False)
            if done.returncode != 0:
                raise Failed(f"preview of {stack} failed\n{tail(log, 60)}")
            counts = re.findall(
                r"^ +[+~-]? *\d+ to (?:create|update|delete|replace)|^ +\d+ unchanged", log.read_text(), re.M
            )
            summary = " ".join(" ".join(c.split()) for c in counts)
            print(f"preview-all: {stack} ok in {int((time.monotonic() - started) * 1000)} ms ({summary})", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not was_running:
            run([str(root / "scripts" / "lab-host"), "down"], check=False)
