"""The class's hypervisors (inventory.yaml): validated like the stack files, a bad entry refused
in one line with its key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vxlab.base.errors import ConfigError
from vxlab.model.inventory import load_inventory, parse_inventory

KEY = "ssh-ed25519 " + "A" * 68
LOCAL = {"name": "local", "libvirt_uri": "qemu:///system", "capacity": {"memory_mib": 16384, "vcpus": 8, "groups": 4}}
REMOTE = {
    "name": "hv2",
    "libvirt_uri": "qemu+ssh://root@hv2.example.org/system",
    "ssh_host": "hv2.example.org",
    "host_key": KEY,
    "capacity": {"memory_mib": 65536, "vcpus": 32, "groups": 12, "parallel": 3},
}


def with_(entry: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**entry, **changes}


def test_an_inventory_of_a_local_and_a_remote_hypervisor_loads() -> None:
    inventory = parse_inventory({"hypervisors": [LOCAL, REMOTE]})
    assert [(h.name, h.capacity.parallel) for h in inventory.hypervisors] == [("local", 1), ("hv2", 3)]


def test_the_inventory_is_read_from_the_project(tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(
        "hypervisors:\n  - name: local\n    libvirt_uri: qemu:///system\n"
        "    capacity: {memory_mib: 8192, vcpus: 4, groups: 2}\n"
    )
    assert load_inventory(tmp_path).entry("local").capacity.groups == 2


@pytest.mark.parametrize(
    ("data", "key"),
    [
        pytest.param({"hypervisors": []}, "inventory.yaml:hypervisors", id="none"),
        pytest.param(None, "inventory.yaml", id="empty-file"),
        pytest.param({"hypervisors": [LOCAL, LOCAL]}, "inventory.yaml:hypervisors.1.name", id="same-name"),
        pytest.param({"hypervisors": [with_(LOCAL, name="Local!")]}, "inventory.yaml:hypervisors.0.name", id="name"),
        pytest.param(
            {"hypervisors": [with_(LOCAL, libvirt_uri="http://x")]},
            "inventory.yaml:hypervisors.0.libvirt_uri",
            id="uri",
        ),
        pytest.param(
            {"hypervisors": [with_(REMOTE, host_key=None)]}, "inventory.yaml:hypervisors.0.host_key", id="unpinned"
        ),
        pytest.param(
            {"hypervisors": [with_(REMOTE, host_key="ssh-rsa AAAA")]},
            "inventory.yaml:hypervisors.0.host_key",
            id="key-form",
        ),
        pytest.param(
            {"hypervisors": [with_(LOCAL, capacity={"memory_mib": 100, "vcpus": 8, "groups": 4})]},
            "inventory.yaml:hypervisors.0.capacity.memory_mib",
            id="memory",
        ),
        pytest.param(
            {"hypervisors": [with_(LOCAL, capacity={"memory_mib": 8192, "vcpus": 8, "groups": 0})]},
            "inventory.yaml:hypervisors.0.capacity.groups",
            id="groups",
        ),
        pytest.param(
            {"hypervisors": [with_(LOCAL, capacity={"memory_mib": 8192, "vcpus": 8, "groups": 4, "cpus": 2})]},
            "inventory.yaml:hypervisors.0.capacity.cpus",
            id="unknown-key",
        ),
        pytest.param(
            {"hypervisors": [{"name": "x", "libvirt_uri": "qemu:///system"}]},
            "inventory.yaml:hypervisors.0.capacity",
            id="no-capacity",
        ),
    ],
)
def test_a_bad_inventory_is_refused_by_its_key(data: object, key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_inventory(data)
    assert refused.value.key == key and "\n" not in refused.value.line() and "fix: " in refused.value.line()


def test_a_missing_inventory_says_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read .*inventory\.yaml"):
        load_inventory(tmp_path)
