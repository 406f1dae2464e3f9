"""A tenant's containers as LXD provider resources (pulumi_lxd), reached through the tenant's API."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_command as command
import pulumi_lxd as lxd

from vxlab.build.provision import ContainerPlan

CREATE_TIMEOUT = "20m"


def lxd_provider(
    name: str, remote: str, endpoint: str, credentials: command.remote.Command, parent: pulumi.Resource
) -> lxd.Provider:
    """The tenant's LXD, with the client certificate its `lxd-client` step made and trusted
    (the step's output is a secret, and so is what is read from it)."""
    creds = credentials.stdout.apply(json.loads)
    return lxd.Provider(
        name,
        remotes=[
            lxd.ProviderRemoteArgs(
                name=remote,
                address=endpoint,
                client_certificate=creds.apply(lambda c: c["client_certificate"]),
                client_key=creds.apply(lambda c: c["client_key"]),
                server_certificate_fingerprint=creds.apply(lambda c: c["server_certificate_fingerprint"]),
            )
        ],
        default_remote=remote,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[credentials]),
    )


def lxd_containers(
    plans: Sequence[ContainerPlan],
    provider: lxd.Provider,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    vm: pulumi.Resource,
) -> dict[str, lxd.Instance]:
    """One instance per container, made one after another (see `container_plans`). The provider
    uploads each one's files, and its `apply` command runs on create and on every change of the
    instance. Destroying the tenant's VM takes its containers with it: no `lxc delete` first."""
    made: dict[str, lxd.Instance] = {}
    previous: Sequence[pulumi.Resource] = depends_on
    for plan in plans:
        made[plan.name] = _instance(plan, provider, parent, previous, vm)
        previous = [made[plan.name]]
    return made


def _instance(
    plan: ContainerPlan,
    provider: lxd.Provider,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource],
    vm: pulumi.Resource,
) -> lxd.Instance:
    return lxd.Instance(
        plan.name,
        name=plan.name,
        image=plan.image,
        type="container",
        profiles=["default"],
        config=plan.config,
        devices=[lxd.InstanceDeviceArgs(name="eth0", type="nic", properties=plan.nic)],
        files=[
            lxd.InstanceFileArgs(target_path=f.path, content=f.content, mode=f"0{f.mode:o}", create_directories=True)
            for f in plan.files
        ],
        execs={"apply": lxd.InstanceExecsArgs(commands=list(plan.apply), trigger="on_change", fail_on_error=True)},
        running=True,
        # The provider gives up after 5 minutes; a container made while another group's guests
        # share the machine's CPUs takes longer.
        timeouts=lxd.InstanceTimeoutsArgs(create=CREATE_TIMEOUT, update=CREATE_TIMEOUT),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on), deleted_with=vm),
    )
