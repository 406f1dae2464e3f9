"""Steps (vxlab.build.provision) into command resources, in order, each with its delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_command as command

from vxlab.features.spec import Step


def remote_steps(
    steps: Sequence[Step],
    connection: command.remote.ConnectionArgs,
    parent: pulumi.Resource,
    prefix: str,
    depends_on: Sequence[pulumi.Resource] = (),
    known: Mapping[str, pulumi.Resource] | None = None,
    deleted_with: pulumi.Resource | None = None,
) -> dict[str, command.remote.Command]:
    """One remote command per step. A step's `after` names earlier steps (or `known` ones made
    by another call); a step with no `after` waits for `depends_on` (the VM, other machines).
    With `deleted_with` (the VM the steps run in), destroying that VM skips the steps' deletes:
    restoring a file on a disk about to be deleted is time lost; alone, a step still undoes itself."""
    made: dict[str, command.remote.Command] = {}
    known = known or {}
    for step in steps:
        needs = [made[n] if n in made else known[n] for n in step.after] if step.after else list(depends_on)
        made[step.name] = command.remote.Command(
            f"{prefix}-{step.name}",
            connection=connection,
            create=step.create,
            delete=step.delete,
            stdin=step.stdin,
            triggers=list(step.triggers) or None,
            # Nothing reads the previous output; sshd refuses unknown variables with a warning.
            add_previous_output_in_env=False,
            # The provider echoes stdout to the engine's log unless told not to.
            logging=command.remote.Logging.STDERR if step.secret_output else None,
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=needs,
                # Undo, then redo: the old delete run after the new create would undo the new one
                # (restore the original file, take the switch down).
                delete_before_replace=True,
                additional_secret_outputs=["stdout"] if step.secret_output else None,
                deleted_with=deleted_with,
            ),
        )
    return made


def local_steps(steps: Sequence[Step], parent: pulumi.Resource, prefix: str) -> dict[str, command.local.Command]:
    made: dict[str, command.local.Command] = {}
    for step in steps:
        made[step.name] = command.local.Command(
            f"{prefix}-{step.name}",
            create=step.create,
            delete=step.delete,
            stdin=step.stdin,
            triggers=list(step.triggers) or None,
            interpreter=["/bin/bash", "-c"],
            add_previous_output_in_env=False,
            logging=command.local.Logging.STDERR if step.secret_output else None,
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=[made[name] for name in step.after],
                delete_before_replace=True,
                additional_secret_outputs=["stdout"] if step.secret_output else None,
            ),
        )
    return made
