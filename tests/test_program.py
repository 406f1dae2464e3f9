"""The Pulumi program under mocks, each stack in its own process (tests/mock_program.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from functools import cache
from typing import Any

import pytest

from tests.conftest import PROJECT, STACKS

SECRET = "4dabf18193072939515e22adb298388d"
COMPONENTS = {"vxlab:index:HostSwitch", "vxlab:index:RouterVM", "vxlab:index:TenantVM", "vxlab:index:LabVM"}
COMMANDS = {"command:remote:Command", "command:local:Command"}


@cache
def run(stack: str, *overrides: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(PROJECT / "tests" / "mock_program.py"), stack, *overrides],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=PROJECT,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def resources(stack: str, *overrides: str) -> list[dict[str, Any]]:
    result = run(stack, *overrides)
    assert result["error"] is None
    return result["resources"]  # type: ignore[no-any-return]


def by_name(stack: str, *overrides: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in resources(stack, *overrides)}


@pytest.mark.parametrize("stack", STACKS)
def test_program_builds_the_components_of_the_lab(stack: str) -> None:
    counts = Counter(r["type"] for r in resources(stack))
    assert {
        t: counts[t]
        for t in (
            *COMPONENTS,
            "libvirt:index/domain:Domain",
            "libvirt:index/volume:Volume",
            "libvirt:index/cloudInitDisk:CloudInitDisk",
        )
    } == {
        "vxlab:index:HostSwitch": 1,
        "vxlab:index:RouterVM": 1,
        "vxlab:index:TenantVM": 2,
        "vxlab:index:LabVM": 3,
        "libvirt:index/domain:Domain": 3,
        "libvirt:index/volume:Volume": 6,  # system disk and cloud-init seed of each VM
        "libvirt:index/cloudInitDisk:CloudInitDisk": 0,  # see components/vm.py
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_but_the_provider_has_a_component_parent(stack: str) -> None:
    rs = resources(stack)
    component_urns = {r["urn"] for r in rs if r["type"] in COMPONENTS}
    orphans = [
        r["name"]
        for r in rs
        if r["type"] not in COMPONENTS | {"pulumi:pulumi:Stack"}
        and not r["type"].startswith("pulumi:providers:")
        and r["parent"] not in component_urns
    ]
    assert orphans == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_command_has_a_delete(stack: str) -> None:
    missing = [r["name"] for r in resources(stack) if r["type"] in COMMANDS and not r["inputs"].get("delete")]
    assert missing == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_ssh_key_reaches_the_vms_only_as_a_secret(stack: str) -> None:
    remote = [r for r in resources(stack) if r["type"] == "command:remote:Command"]
    assert remote
    assert all(SECRET in r["inputs"]["connection"] for r in remote)


@pytest.mark.parametrize("stack", STACKS)
def test_keepalived_waits_for_its_scripts_and_the_segment(stack: str) -> None:
    rs = by_name(stack)
    urn = {name: r["urn"] for name, r in rs.items()}
    for t in ("blueTenant", "greenTenant"):
        name = next(n for n in rs if n.endswith(t))
        keepalived = rs[f"{name}-file:/etc/keepalived/keepalived.conf"]
        assert urn[f"{name}-file:/usr/local/bin/keepalived_notify.sh"] in keepalived["dependencies"]
        assert urn[f"{name}-segment"] in keepalived["dependencies"]


def instances(stack: str) -> list[dict[str, Any]]:
    return [r for r in resources(stack) if r["type"] == "lxd:index/instance:Instance"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_container_is_an_lxd_instance_of_its_tenants_provider(stack: str) -> None:
    rs = by_name(stack)
    providers = {r["urn"]: r for r in resources(stack) if r["type"] == "pulumi:providers:lxd"}
    assert len(instances(stack)) == 6 and len(providers) == 2
    for instance in instances(stack):
        tenant = "blueTenant" if "blue" in instance["name"] else "greenTenant"
        provider_urn = instance["provider"].rsplit("::", 1)[0]  # a provider reference is URN::ID
        assert providers[provider_urn]["name"].endswith(f"{tenant}-lxd")
        assert rs[instance["name"]]["inputs"]["running"] is True


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("tenant", ["blue", "green"])
def test_a_tenants_containers_are_created_one_after_another_once_its_lxd_is_trusted(stack: str, tenant: str) -> None:
    rs = by_name(stack)
    first, *rest = chain = [i for i in instances(stack) if tenant in i["name"]]
    assert any(d.endswith(f"{tenant}Tenant-lxd-client") for d in rs[first["name"]]["dependencies"])
    assert [after["dependencies"] for after in rest] == [[before["urn"]] for before in chain[:-1]]


@pytest.mark.parametrize("stack", STACKS)
def test_a_container_may_take_longer_than_the_providers_default_timeout(stack: str) -> None:
    rs = by_name(stack)
    assert all(rs[i["name"]]["inputs"]["timeouts"] == {"create": "20m", "update": "20m"} for i in instances(stack))


@pytest.mark.parametrize("stack", STACKS)
def test_container_nic_is_bridged_on_the_segment_svi_with_its_mtu(stack: str) -> None:
    from vxlab.validate.load import load_lab

    seg = load_lab(PROJECT, stack).segment
    assert {json.dumps(i["inputs"]["devices"], sort_keys=True) for i in instances(stack)} == {
        json.dumps(
            [
                {
                    "name": "eth0",
                    "type": "nic",
                    "properties": {"nictype": "bridged", "parent": seg.svi, "mtu": str(seg.mtu)},
                }
            ],
            sort_keys=True,
        )
    }


def test_dhcp_server_container_carries_its_three_files() -> None:
    files = {f["targetPath"]: f["mode"] for f in by_name("dev")["blueDHCP"]["inputs"]["files"]}
    assert files == {
        "/etc/network/interfaces": "0644",
        "/etc/default/isc-dhcp-server": "0644",
        "/etc/dhcp/dhcpd.conf": "0644",
    }


def test_the_lxd_credentials_are_a_secret_output() -> None:
    step = by_name("dev")["blueTenant-lxd-client"]
    assert "stdout" in step["additionalSecretOutputs"]


@pytest.mark.parametrize("stack", STACKS)
def test_no_container_is_launched_by_a_command(stack: str) -> None:
    commands = [r["inputs"].get("create", "") for r in resources(stack) if r["type"] in COMMANDS]
    assert not [c for c in commands if "lxc launch" in c or "lxc exec" in c]


def test_changing_one_dhcp_setting_changes_only_the_dhcp_containers() -> None:
    base = {r["name"]: r["inputs"] for r in resources("dev")}
    changed = {r["name"]: r["inputs"] for r in resources("dev", 'dhcp={"default_lease_time":900}')}
    assert sorted(n for n in base if base[n] != changed[n]) == ["blueDHCP", "greenDHCP"]


@pytest.mark.parametrize(
    ("path", "reload"),
    [
        ("/etc/keepalived/keepalived.conf", "systemctl restart keepalived"),
        ("/etc/radvd.conf", "systemctl restart radvd"),
        ("/etc/sysctl.d/90-vxlab-routing.conf", "sysctl -q -p /etc/sysctl.d/90-vxlab-routing.conf"),
    ],
)
def test_each_reload_runs_with_the_file_it_reads(path: str, reload: str) -> None:
    step = by_name("dev")[f"greenTenant-file:{path}"]
    assert step["inputs"]["create"].endswith(f"mv -f {path}.vxlab-new {path}' && {reload}")
    assert step["inputs"]["stdin"].startswith(("! Managed by vxlab", "# Managed by vxlab"))


def test_changing_one_priority_changes_only_that_tenants_keepalived_file() -> None:
    before = by_name("dev")
    after = by_name("dev", 'tenants={"green": {"vrrp_priority": 230}}')
    changed = sorted(name for name, r in after.items() if before[name]["inputs"] != r["inputs"])
    assert changed == ["greenTenant-file:/etc/keepalived/keepalived.conf"]


@pytest.mark.parametrize(
    ("stack", "override", "key"),
    [
        ("group02", 'segment={"vni": "WhereIsMyTCAM"}', "vxlab:segment.vni"),
        ("group02", "group=0", "vxlab:group"),  # the file is named for group 2
        ("ci", "group=0", "vxlab:upstream.svi"),  # group 0 is dev's: their SVIs share a name (VLANs are per bridge)
        ("dev", 'tenant={"blue": {"vrrp_priority": 230}}', "vxlab:tenant"),  # a typo of tenants
    ],
)
def test_invalid_config_registers_no_resource(stack: str, override: str, key: str) -> None:
    result = run(stack, override)
    assert key in result["error"]
    assert "\n" not in result["error"]
    assert [r["type"] for r in result["resources"]] == ["pulumi:pulumi:Stack"]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (("vips", "ipv4"), "192.0.2.222/24"),
        (("vips", "ipv6"), "fe80:7::de/64"),
        (("vips", "master"), "greenTenant"),
        (("vni",), 7),
        (("vlans", "upstream"), 28),
        (("vms", "redRouter", "ssh"), "ssh etu@198.18.28.200"),
        (("vms", "blueTenant", "console"), "virsh -c qemu:///system console blueTenant"),
        (("containers", "greenDHCP", "ipv4"), "192.0.2.251/24"),
    ],
)
def test_outputs_give_students_what_to_paste(output: tuple[str, ...], expected: object) -> None:
    node: Any = run("dev")["outputs"]
    for part in output:
        node = node[part]
    assert node == expected


def test_the_ci_stack_reaches_its_vms_through_the_loopback_relays() -> None:
    rs = by_name("ci")
    connection = rs["g39-redRouter-booted"]["inputs"]["connection"]["value"]
    assert (connection["host"], connection["port"]) == ("127.0.0.1", 23900.0)


@pytest.mark.parametrize("stack", STACKS)
def test_domains_state_only_what_the_provider_reads_back(stack: str) -> None:
    """A NIC with a MAC and no source (the XSLT owns the tap); the kernel command line in the
    provider's read-back shape: otherwise every preview updates or replaces the domains."""
    from vxlab.build.domain import guest_cmdline, kernel_cmdlines
    from vxlab.validate.load import load_lab

    lab = load_lab(PROJECT, stack)
    for domain in (r for r in resources(stack) if r["type"] == "libvirt:index/domain:Domain"):
        assert [set(nic) for nic in domain["inputs"]["networkInterfaces"]] == [{"mac"}]
        if lab.images.kernel:
            assert domain["inputs"]["cmdlines"] == kernel_cmdlines(guest_cmdline(lab))


@pytest.mark.parametrize("stack", STACKS)
def test_every_domain_starts_when_the_hypervisor_boots(stack: str) -> None:
    domains = [r for r in resources(stack) if r["type"] == "libvirt:index/domain:Domain"]
    assert domains and all(d["inputs"]["autostart"] is True for d in domains)


@pytest.mark.parametrize("stack", STACKS)
def test_commands_do_not_pass_previous_output_to_the_session(stack: str) -> None:
    commands = [r for r in resources(stack) if r["type"] in COMMANDS]
    assert commands and all(r["inputs"]["addPreviousOutputInEnv"] is False for r in commands)


def test_the_lxd_credentials_never_reach_the_log() -> None:
    assert by_name("dev")["blueTenant-lxd-client"]["inputs"]["logging"] == "stderr"


@pytest.mark.parametrize(("vm", "previous"), [("blueTenant", "redRouter"), ("greenTenant", "blueTenant")])
def test_vms_are_made_one_after_another(vm: str, previous: str) -> None:
    """The libvirt provider can hang on concurrent cloud-init uploads and domain defines."""
    rs = by_name("dev")
    assert rs[f"{previous}-domain"]["urn"] in rs[f"{vm}-disk"]["dependencies"]


@pytest.mark.parametrize("vm", ["redRouter", "blueTenant", "greenTenant"])
def test_each_vm_boots_its_system_disk_then_its_seed(vm: str) -> None:
    rs = by_name("dev")
    disks = rs[f"{vm}-domain"]["inputs"]["disks"]
    assert [d["volumeId"] for d in disks] == [f"{vm}-disk-id", f"{vm}-seed-id"]
    assert rs[f"{vm}-seed"]["inputs"]["source"].endswith(".iso")
    assert "format" not in rs[f"{vm}-seed"]["inputs"]  # libvirt probes it; stated, it would differ


def installed_files(stack: str) -> set[tuple[str, str]]:
    """(machine, path) of every file the program installs: file steps and container files."""
    label = next(r["name"] for r in resources(stack) if r["type"] == "vxlab:index:HostSwitch").removesuffix("-switch")
    out = set()
    for r in resources(stack):
        if r["type"] in COMMANDS and "-file:" in r["name"]:
            machine, _, path = r["name"].partition("-file:")
            out.add(("host" if machine == label else machine, path))
        if r["type"] == "lxd:index/instance:Instance":
            out |= {(r["name"], f["targetPath"]) for f in r["inputs"]["files"]}
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_render_writes_exactly_the_files_pulumi_up_installs(stack: str) -> None:
    from vxlab.build.render import render_lab
    from vxlab.validate.load import load_lab

    rendered = {(m.name, f.path) for m in render_lab(load_lab(PROJECT, stack)) for f in m.files}
    assert rendered == installed_files(stack)


def test_up_on_a_machine_that_is_not_the_stacks_hypervisor_registers_no_resource() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "tests" / "mock_program.py"),
            "dev",
            'hypervisor={"bridge": "dsw-none", "uplink": "vxlab-none0"}',
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, "VXLAB_MOCK_HOST_CHECK": "1"},
    )
    result = json.loads(proc.stdout)
    assert result["error"].startswith("Pulumi.dev.yaml: this machine is not the hypervisor the stack describes: ")
    assert "no interface vxlab-none0" in result["error"]
    assert [r["type"] for r in result["resources"]] == ["pulumi:pulumi:Stack"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_engine_ssh_to_a_vm_pins_its_host_key(stack: str) -> None:
    from tests.mock_program import HOST_KEY

    pinned = json.loads(HOST_KEY)["public"]
    # The connection holds the private key: it is a secret, its value under "value".
    keys = {
        r["inputs"]["connection"]["value"]["hostKey"] for r in resources(stack) if r["type"] == "command:remote:Command"
    }
    assert keys == {pinned}


@pytest.mark.parametrize("stack", STACKS)
def test_a_replaced_step_is_undone_before_it_is_redone(stack: str) -> None:
    steps = [r for r in resources(stack) if r["type"] in COMMANDS and not r["name"].endswith("-cloud-init-seed")]
    assert steps and all(r["deleteBeforeReplace"] for r in steps)


@pytest.mark.parametrize("stack", STACKS)
def test_drift_repairs_name_resources_the_program_registers(stack: str) -> None:
    from vxlab.live.drift import expected_state
    from vxlab.validate.load import load_lab

    urns = {r["urn"] for r in resources(stack)}
    missing = {e.urn for e in expected_state(load_lab(PROJECT, stack), stack)} - urns
    assert missing == set()


def _vm_domains(stack: str) -> dict[str, str]:
    """Each VM component's URN -> the URN of its libvirt domain."""
    rs = resources(stack)
    labvms = {r["urn"]: r["parent"] for r in rs if r["type"] == "vxlab:index:LabVM"}
    return {labvms[r["parent"]]: r["urn"] for r in rs if r["type"] == "libvirt:index/domain:Domain"}


def _inside_vms(stack: str) -> list[Any]:
    """Each remote command and container whose parent is a VM component: it runs in that VM."""
    domains = _vm_domains(stack)
    kinds = {"command:remote:Command", "lxd:index/instance:Instance"}
    return [
        pytest.param(stack, r["name"], r["parent"], id=f"{stack}:{r['name']}")
        # Sorted: the program registers resources concurrently, and every pytest worker must
        # collect the same list.
        for r in sorted(resources(stack), key=lambda r: str(r["name"]))
        if r["type"] in kinds and r["parent"] in domains
    ]


@pytest.mark.parametrize(("stack", "name", "vm"), [p for s in ("dev", "ci") for p in _inside_vms(s)])
def test_what_runs_inside_a_vm_is_deleted_with_its_domain(stack: str, name: str, vm: str) -> None:
    assert by_name(stack)[name]["deletedWith"] == _vm_domains(stack)[vm]


@pytest.mark.parametrize("stack", ["dev", "ci"])
def test_what_runs_on_the_hypervisor_is_deleted_on_its_own(stack: str) -> None:
    rs = resources(stack)
    on_host = [r["name"] for r in rs if r["type"] == "command:local:Command" and r["deletedWith"]]
    assert on_host == []
