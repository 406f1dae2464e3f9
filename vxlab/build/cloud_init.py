"""The VMs' cloud-init NoCloud seed, built as data and serialized by PyYAML: no value of the
stack config is ever pasted into YAML text (a key comment such as `Lab key: group 5` stays a
string, whatever it holds)."""

from __future__ import annotations

from typing import Any

import yaml

from vxlab.model.lab import Lab


class _Dumper(yaml.SafeDumper):
    """Safe YAML with file contents as literal blocks, so the seed reads like the files it writes."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def _dump(document: dict[str, Any], header: str) -> str:
    return header + yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)


# A reboot must not hang: with Debian 12's openvswitch-switch, `ifup` of an OVS bridge inside
# networking.service runs `systemctl start openvswitch-switch`, which waits for basic.target (its
# default dependencies), which waits for cloud-init.service, which waits for networking.service;
# and for ovs-record-hostname, which waits for network-online, which waits for networking too.
# Each loop holds the boot until networking's 5-minute timeout (measured on a tenant after
# `virsh destroy` and `start`). openvswitch-switch only runs /bin/true once ovsdb-server and
# ovs-vswitchd (both ordered before networking) are up, so it can start early; the hostname
# record is for OVN, which the lab has not.
OVS_RECORD_HOSTNAME = "ovs-record-hostname.service"
OVS_BOOT_DROP_IN = "/etc/systemd/system/openvswitch-switch.service.d/vxlab-boot.conf"
OVS_BOOT_UNIT = "[Unit]\nDefaultDependencies=no\n"
# cloud-init's work is done on the first boot (the user, the host key, the hostname, the bootstrap
# interfaces); on every later boot its four stages still ran, 110 s of a TCG tenant's one vCPU
# after a power cut (cloud-init-local 33.8 s, cloud-init 11.5 s, both before the network;
# cloud-config 33.6 s, cloud-final 30.0 s beside LXD starting the containers: `systemd-analyze
# blame`, 2026-12-05). This file, made at the end of the first boot, keeps it from starting again.
CLOUD_INIT_DISABLED = "/etc/cloud/cloud-init.disabled"


def user_data(lab: Lab, vm_name: str, label: str, managed: str, bootstrap_interfaces: str) -> str:
    """The lab user with its key and sudo, root reachable by the same key only (the engine
    provisions as root: see docs/security.md), resolvers, and the management link."""
    key = lab.lab_user.ssh_public_key.strip()
    document: dict[str, Any] = {
        "hostname": vm_name,
        "fqdn": f"{vm_name}.{label}.lab",
        "manage_etc_hosts": True,
        "disable_root": False,
        "ssh_pwauth": False,
        "users": [
            {
                "name": lab.lab_user.name,
                "shell": "/bin/bash",
                "groups": ["sudo"],
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "lock_passwd": True,
                "ssh_authorized_keys": [key],
            },
            {"name": "root", "lock_passwd": True, "ssh_authorized_keys": [key]},
        ],
        "write_files": [
            {
                "path": "/etc/resolv.conf",
                "permissions": "0644",
                "content": f"nameserver {lab.internet.dns4}\nnameserver {lab.internet.dns6}\n",
            },
            {"path": "/etc/network/interfaces", "permissions": "0644", "content": bootstrap_interfaces},
            {"path": OVS_BOOT_DROP_IN, "permissions": "0644", "content": f"# {managed}\n{OVS_BOOT_UNIT}"},
        ],
        "runcmd": [
            ["systemctl", "disable", OVS_RECORD_HOSTNAME],
            ["touch", CLOUD_INIT_DISABLED],
            ["sh", "-c", "rm -f /etc/network/interfaces.d/50-cloud-init; ifup -a"],
        ],
    }
    return _dump(document, f"#cloud-config\n# {managed}\n")


def with_host_key(user_data: str, private: str, public: str) -> str:
    """The user-data with the VM's SSH host key: the image's keys are deleted, no other type is
    made, so the pinned key is the only one the VM's sshd offers."""
    lines = user_data.splitlines(keepends=True)
    header = "".join(line for line in lines[: next(i for i, x in enumerate(lines) if not x.startswith("#"))])
    document = yaml.safe_load(user_data)
    document.update(
        {
            "ssh_deletekeys": True,
            "ssh_genkeytypes": [],
            "ssh_keys": {"ed25519_private": private, "ed25519_public": public},
        }
    )
    return _dump(document, header)


def network_config(managed: str) -> str:
    """The network is configured by /etc/network/interfaces (user-data), not by cloud-init."""
    return _dump({"network": {"config": "disabled"}}, f"# {managed}\n")


def meta_data(vm_name: str) -> str:
    return yaml.safe_dump({"instance-id": vm_name, "local-hostname": vm_name}, sort_keys=False)


def user_data_problem(text: str, lab: Lab) -> str | None:
    """What cloud-init would misread in a user-data file: the structure the lab relies on."""
    if not text.startswith("#cloud-config\n"):
        return "does not start with #cloud-config"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return f"not valid YAML ({str(exc).splitlines()[0]})"
    if not isinstance(doc, dict):
        return "not a mapping"
    users = doc.get("users")
    if not isinstance(users, list) or not all(isinstance(u, dict) for u in users):
        return "users is not a list of accounts"
    key = lab.lab_user.ssh_public_key.strip()
    for user in users:
        keys = user.get("ssh_authorized_keys")
        if keys != [key]:
            return f"user {user.get('name')!r} does not get exactly the lab's key"
    for item in doc.get("write_files") or []:
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            return "a write_files entry has no text content"
    return None
