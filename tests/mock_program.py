"""Run the Pulumi program under mocks for one stack and print what it registered, as JSON.

    python tests/mock_program.py STACK [KEY=JSON ... | @STACK_FILE]

Run once per process (the root stack resource persists per process). KEY=JSON pairs override
or add `vxlab:` config keys in a scratch copy of the stack file, e.g. `tenants={"blue":{"vrrp_priority":230}}`.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks

from vxlab.validate import hostcheck

PROJECT = Path(__file__).resolve().parent.parent
# A throwaway key: the program only passes it on, as a secret.
TEST_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nvxlab-test-key\n-----END OPENSSH PRIVATE KEY-----\n"


# What a tenant's `lxd-client` step prints: the LXD provider's credentials.
LXD_CREDENTIALS = json.dumps(
    {
        "client_certificate": "-----BEGIN CERTIFICATE-----\nvxlab-test-cert\n-----END CERTIFICATE-----\n",
        "client_key": "-----BEGIN PRIVATE KEY-----\nvxlab-test-client-key\n-----END PRIVATE KEY-----\n",
        "server_certificate_fingerprint": "0" * 64,
    }
)


# What a VM's `ssh-host-key` step prints: its host key pair.
HOST_KEY = json.dumps(
    {
        "private": "-----BEGIN OPENSSH PRIVATE KEY-----\nvxlab-test-host-key\n-----END OPENSSH PRIVATE KEY-----\n",
        "public": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ4bGFiIGV4YW1wbGUga2V5OiBub3QgZm9yIHVzZSEh host",
    }
)


class Recorder(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs, name=args.inputs.get("name", args.name))
        if args.typ == "command:remote:Command" and args.name.endswith("-lxd-client"):
            outputs["stdout"] = LXD_CREDENTIALS
        if args.typ == "command:local:Command" and args.name.endswith("-ssh-host-key"):
            outputs["stdout"] = HOST_KEY
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.registered: list[dict[str, Any]] = []
        self.outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        self.registered.append(
            {
                "type": request.type,
                "name": request.name,
                "urn": response.urn,
                "parent": request.parent,
                "custom": request.custom,
                "dependencies": list(request.dependencies),
                "provider": request.provider,
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "deleteBeforeReplace": request.deleteBeforeReplace,
                "deletedWith": request.deletedWith,
                "inputs": json_format.MessageToDict(request.object),
            }
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def scratch_project(stack: str, overrides: list[str]) -> Path:
    """A copy of the project whose stack file states the overrides: the program reads its
    stack file itself, as `pulumi up` does."""
    folder = Path(tempfile.mkdtemp(prefix="vxlab-mock-"))
    for entry in PROJECT.iterdir():
        if entry.name.startswith("Pulumi.") and entry.name != "Pulumi.yaml":
            shutil.copy(entry, folder / entry.name)
        elif not entry.name.startswith("."):
            (folder / entry.name).symlink_to(entry)
    path = folder / f"Pulumi.{stack}.yaml"
    if overrides and overrides[0].startswith("@"):  # the whole stack file, as text
        path.write_text(Path(overrides[0][1:]).read_text())
        return folder
    doc = yaml.safe_load(path.read_text())
    for pair in overrides:
        key, _, value = pair.partition("=")
        doc["config"][f"vxlab:{key}"] = json.loads(value)
    path.write_text(yaml.safe_dump(doc))
    return folder


def main() -> None:
    stack, overrides = sys.argv[1], sys.argv[2:]
    monitor = RecordingMonitor(Recorder())
    pulumi.runtime.set_mocks(monitor.mocks, project="vxlab", stack=stack, preview=False, monitor=monitor)
    project = scratch_project(stack, overrides)
    # The stacks describe KVM hosts this test machine is not: the host check has tests of its own
    # (and runs here only when asked).
    if not os.environ.get("VXLAB_MOCK_HOST_CHECK"):
        hostcheck.host_refusal = lambda lab, stack, sys_root=None: None
    pulumi.runtime.set_all_config({"vxlab:ssh_private_key": TEST_KEY}, ["vxlab:ssh_private_key"])
    outcome: dict[str, Any] = {"error": None}
    # Stack outputs are not registered under mocks: record what the program exports instead.
    exported: dict[str, Any] = {}
    pulumi.export = lambda name, value: exported.__setitem__(name, value)

    @pulumi.runtime.test
    def run() -> None:
        os.chdir(project)
        sys.path.insert(0, str(PROJECT))
        try:
            runpy.run_path(str(project / "__main__.py"), run_name="__main__")
        except pulumi.RunError as err:
            outcome["error"] = str(err)

    try:
        run()
    finally:
        shutil.rmtree(project)
    stack_urn = next((r["urn"] for r in monitor.registered if r["type"] == "pulumi:pulumi:Stack"), "")
    print(
        json.dumps(
            {
                "error": outcome["error"],
                "resources": monitor.registered,
                "outputs": exported,
                "component_outputs": {k: v for k, v in monitor.outputs.items() if k != stack_urn},
            },
            default=lambda value: "<output>",  # an export computed from resources (known_hosts)
        )
    )


if __name__ == "__main__":
    main()
