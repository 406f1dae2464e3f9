"""`pulumi up` and `pulumi destroy` of one group as a class action (vxlab.engine.classrun):
through the Automation API, the engine and state `scripts/pulumi` uses, each resource step
counted on the group's progress line and the engine's output in its log; up writes the group's
handout, destroy removes it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from vxlab.artifacts import handout
from vxlab.base.errors import ConfigError
from vxlab.engine.classrun import Action, Progress
from vxlab.validate.load import load_lab


def engine_action(project: Path, action: str, key: Path) -> Action:
    # Imported here: the Pulumi SDK is an extra (pip install vxlab[pulumi]); the other verbs run without it.
    from vxlab.engine import automation

    env = automation.engine_env(project)

    def run_one(stack: str, p: Progress) -> str:
        with p.log.open("a") as log:

            def output(line: str) -> None:  # the engine's lines come without their newline
                log.write(line + "\n")
                log.flush()

            chosen = automation.select(project, stack, env, create=action == "up")
            on_event = automation.counter(p.step)
            if action == "up":
                automation.ensure_key(chosen, key)
                changes = chosen.up(on_output=output, on_event=on_event, color="never").summary.resource_changes
                handout.write(load_lab(project, stack), stack, handout.folder(project, stack))
            else:
                changes = chosen.destroy(on_output=output, on_event=on_event, color="never").summary.resource_changes
                shutil.rmtree(handout.folder(project, stack), ignore_errors=True)
        return ", ".join(f"{op} {n}" for op, n in sorted((changes or {}).items()))

    return run_one


def host_ready(project: Path, log: Path) -> None:
    """What every stack on this machine shares, made once: the images, the hypervisor services."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        for script in ("build-images", "lab-host"):
            command = [str(project / "scripts" / script)] + (["up"] if script == "lab-host" else [])
            if subprocess.run(command, cwd=project, stdout=out, stderr=subprocess.STDOUT, check=False).returncode:
                raise ConfigError("", f"scripts/{script} failed", f"read {log}")
