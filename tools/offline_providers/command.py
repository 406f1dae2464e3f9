"""Stand-in for pulumi-command: command:local:Command and command:remote:Command.

Semantics follow pulumi-command 1.x: a change to `triggers` replaces the resource; any other
input change runs `update` (or `create` when no update is given); delete runs `delete`; the
environment carries PULUMI_COMMAND_STDOUT/STDERR of the last run. Remote commands go through
the OpenSSH client with the connection's key, retrying the dial as `dialErrorLimit` allows. Commands run in worker
threads so the engine's parallel steps run in parallel.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from pulumi.provider.experimental import server
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    UpdateRequest,
    UpdateResponse,
)

from offline_providers.base import UNKNOWN, StandIn, diff_inputs, new_id, plain_map

VERSION = "1.2.1"
INPUTS = {
    "create",
    "update",
    "delete",
    "environment",
    "stdin",
    "triggers",
    "connection",
    "interpreter",
    "dir",
    "addPreviousOutputInEnv",
    "logging",
}
SSH_UNREACHABLE = 255


class CommandFailed(Exception):
    pass


def _ssh_argv(conn: dict[str, Any], key_file: str) -> list[str]:
    timeout = int(conn.get("perDialTimeout") or 15)
    return [
        "ssh",
        "-i",
        key_file,
        "-p",
        str(int(conn.get("port") or 22)),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "-o",
        f"ConnectTimeout={timeout}",
        "-o",
        "ServerAliveInterval=15",
        f"{conn.get('user') or 'root'}@{conn['host']}",
    ]


def _env_prefix(env: dict[str, str]) -> str:
    import shlex

    return "".join(f"export {k}={shlex.quote(v)}; " for k, v in env.items())


def run(props: dict[str, Any], which: str, remote: bool, previous: dict[str, Any] | None = None) -> tuple[str, str]:
    script = props.get(which) or ""
    env = {k: str(v) for k, v in (props.get("environment") or {}).items()}
    if previous is not None and props.get("addPreviousOutputInEnv", True) is not False:
        env["PULUMI_COMMAND_STDOUT"] = previous.get("stdout") or ""
        env["PULUMI_COMMAND_STDERR"] = previous.get("stderr") or ""
    # No stdin means an empty one (EOF at once), as in pulumi-command: never the plugin's own.
    stdin = props.get("stdin") or ""
    if remote:
        conn = props["connection"]
        with tempfile.NamedTemporaryFile("w", prefix="vxlab-key-", delete=True) as key:
            # OpenSSH rejects a key without its final newline, which config secrets may drop.
            key.write((conn.get("privateKey") or "").rstrip("\n") + "\n")
            key.flush()
            os.chmod(key.name, 0o600)
            attempts = int(conn.get("dialErrorLimit") or 10)
            for attempt in range(1, attempts + 1):
                proc = subprocess.run(
                    [*_ssh_argv(conn, key.name), _env_prefix(env) + script],
                    input=stdin,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != SSH_UNREACHABLE or attempt == attempts:
                    break
                time.sleep(min(2 * attempt, 10))
    else:
        interpreter = props.get("interpreter") or ["/bin/sh", "-c"]
        proc = subprocess.run(
            [*interpreter, script],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            cwd=props.get("dir") or None,
            env={**os.environ, **env},
        )
    if proc.returncode != 0:
        raise CommandFailed(
            f"{which} command failed with exit status {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-2000:]}"
        )
    return proc.stdout.rstrip("\n"), proc.stderr.rstrip("\n")


class CommandProvider(StandIn):
    @staticmethod
    def _remote(urn: str) -> bool:
        return "command:remote:Command" in urn

    @staticmethod
    def _outputs(inputs: dict[str, PropertyValue], stdout: Any, stderr: Any) -> dict[str, PropertyValue]:
        # In a preview the outputs are not known yet: they are left out (the SDK's marshaller
        # cannot send an unknown value), which the engine reports as unknown.
        out = dict(inputs)
        for name, value in (("stdout", stdout), ("stderr", stderr)):
            if value is not UNKNOWN:
                out[name] = PropertyValue(value)
        return out

    async def diff(self, request: DiffRequest) -> DiffResponse:
        return diff_inputs(request.old_state, request.new_inputs, INPUTS, replace_on={"triggers"})

    async def create(self, request: CreateRequest) -> CreateResponse:
        if request.preview:
            return CreateResponse(new_id(), self._outputs(request.properties, UNKNOWN, UNKNOWN))
        props = plain_map(request.properties)
        stdout, stderr = await asyncio.to_thread(run, props, "create", self._remote(request.urn))
        return CreateResponse(new_id(), self._outputs(request.properties, stdout, stderr))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        if request.preview:
            return UpdateResponse(self._outputs(request.news, UNKNOWN, UNKNOWN))
        props, olds = plain_map(request.news), plain_map(request.olds)
        which = "update" if props.get("update") else "create"
        stdout, stderr = await asyncio.to_thread(run, props, which, self._remote(request.urn), olds)
        return UpdateResponse(self._outputs(request.news, stdout, stderr))

    async def delete(self, request: DeleteRequest) -> None:
        props = plain_map(request.properties)
        if props.get("delete"):
            await asyncio.to_thread(run, props, "delete", self._remote(request.urn), props)


if __name__ == "__main__":
    server.main(sys.argv[1:], VERSION, CommandProvider())
