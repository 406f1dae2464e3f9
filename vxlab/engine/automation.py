"""The project's stacks driven through Pulumi's Automation API: the same engine, plugins, backend
and passphrase as `scripts/pulumi` (both take them from `scripts/pulumi-env`)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from vxlab.base.errors import ConfigError


def engine_env(project: Path) -> dict[str, str]:
    """The environment scripts/pulumi runs the engine in (it installs the engine if missing)."""
    script = project / "scripts" / "pulumi-env"
    if not script.is_file():
        raise ConfigError("--project", f"{project} has no scripts/pulumi-env", "run vxlab class in the vxlab project")
    done = subprocess.run([str(script)], capture_output=True, text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/pulumi-env failed: {done.stderr.strip()[-500:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def _options(project: Path, env: dict[str, str]) -> auto.LocalWorkspaceOptions:
    # The engine's own folder: scripts/install-pulumi puts `pulumi` in its bin/, first on PATH.
    root = Path(env["PATH"].split(":", 1)[0]).parent
    return auto.LocalWorkspaceOptions(
        work_dir=str(project), env_vars=env, pulumi_command=auto.PulumiCommand(root=str(root))
    )


def select(project: Path, stack: str, env: dict[str, str], create: bool = False) -> auto.Stack:
    chosen = auto.create_or_select_stack if create else auto.select_stack
    return chosen(stack, work_dir=str(project), opts=_options(project, env))


def deployed(project: Path, env: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per stack with resources: how many, when last updated, whether an update runs, and its
    outputs; the one way vxlab reads stack state."""
    workspace = auto.LocalWorkspace(**vars(_options(project, env)))
    found: dict[str, dict[str, Any]] = {}
    for summary in workspace.list_stacks():
        if not summary.resource_count:
            continue
        name = summary.name.split("/")[-1]
        try:
            outputs: dict[str, Any] = {k: v.value for k, v in select(project, name, env).outputs().items()}
        except auto.CommandError as exc:
            outputs = {"error": str(exc).strip().splitlines()[-1]}
        found[name] = {
            "resources": summary.resource_count,
            "last_update": summary.last_update.isoformat() if summary.last_update else "",
            "update_in_progress": bool(summary.update_in_progress),
            "outputs": outputs,
        }
    return found


def ensure_key(stack: auto.Stack, private_key: Path) -> None:
    """The lab's SSH key as scripts/lab-up sets it: the private key a secret, the public key in
    the lab user's config (each only when missing or different)."""
    config = stack.get_all_config()
    if "vxlab:ssh_private_key" not in config:
        stack.set_config("vxlab:ssh_private_key", auto.ConfigValue(private_key.read_text(), secret=True))
    public = Path(f"{private_key}.pub").read_text().strip()
    user = json.loads(config["vxlab:lab_user"].value) if "vxlab:lab_user" in config else {}
    if user.get("ssh_public_key") != public:
        stack.set_config("vxlab:lab_user.ssh_public_key", auto.ConfigValue(public), path=True)


def counter(on_step: Callable[[str], None]) -> Callable[[Any], None]:
    """An `on_event` that reports each finished resource step (not the preview's)."""

    def on_event(event: Any) -> None:
        done = event.res_outputs_event
        if done is not None and not done.planning and done.metadata.op != auto.events.OpType.SAME:
            on_step(done.metadata.urn.rsplit("::", 1)[-1])

    return on_event
