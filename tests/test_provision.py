"""Provisioning steps as the remote shell runs them: bash, the content on stdin."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT
from vxlab.build.provision import file_step
from vxlab.features.common import detached
from vxlab.features.spec import RenderedFile

CONTENT = "auto lo\niface lo inet loopback\n"


def run(script: str, stdin: str | None = None) -> None:
    subprocess.run(["bash", "-c", script], input=stdin, text=True, check=True, timeout=30)


@pytest.mark.parametrize("reload", ["", "true", "detached"])
def test_file_step_writes_the_content_from_stdin(tmp_path: Path, reload: str) -> None:
    target = tmp_path / "etc" / "interfaces"
    command = detached("true", str(tmp_path / "log")) if reload == "detached" else reload
    step = file_step(RenderedFile(str(target), CONTENT, "ifupdown"), command)
    run(step.create, step.stdin)
    assert target.read_text() == CONTENT


def test_file_step_delete_restores_the_original(tmp_path: Path) -> None:
    target = tmp_path / "radvd.conf"
    target.write_text("original\n")
    step = file_step(RenderedFile(str(target), CONTENT, "radvd"))
    run(step.create, step.stdin)
    run(step.delete)
    assert target.read_text() == "original\n"


def test_file_step_delete_removes_a_file_it_created(tmp_path: Path) -> None:
    target = tmp_path / "new.conf"
    step = file_step(RenderedFile(str(target), CONTENT, "radvd"))
    run(step.create, step.stdin)
    run(step.delete)
    assert not target.exists()


def test_file_step_keeps_the_first_original_across_updates(tmp_path: Path) -> None:
    target = tmp_path / "dhcpd.conf"
    target.write_text("package default\n")
    first = file_step(RenderedFile(str(target), "one\n", "dhcpd"))
    second = file_step(RenderedFile(str(target), "two\n", "dhcpd"))
    run(first.create, first.stdin)
    run(second.create, second.stdin)
    run(second.delete)
    assert target.read_text() == "package default\n"


def test_file_step_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "bin" / "keepalived_notify.sh"
    step = file_step(RenderedFile(str(target), "#!/bin/bash\n", "script", 0o755))
    run(step.create, step.stdin)
    assert target.stat().st_mode & 0o777 == 0o755


def test_the_group_folder_goes_with_its_last_file(tmp_path: Path) -> None:
    group = tmp_path / "vxlab-g39"
    steps = [
        file_step(RenderedFile(str(group / name), CONTENT, "script", 0o755), owned_dir=str(group))
        for name in ("host-switch.sh", "sysctl.conf")
    ]
    for step in steps:
        run(step.create, step.stdin)
    run(steps[1].delete)
    assert group.is_dir()  # one file is still there
    run(steps[0].delete)
    assert not group.exists()
    run(steps[0].delete)  # a delete run again (a retried destroy) still succeeds


@pytest.mark.parametrize("round_", range(10))
def test_deletes_sharing_a_folder_all_succeed_when_run_in_parallel(tmp_path: Path, round_: int) -> None:
    from vxlab.build.provision import remove_if_empty

    group = tmp_path / "vxlab-g39"
    group.mkdir()
    names = [f"vm{i}.known_hosts" for i in range(3)]
    for name in names:
        (group / name).write_text("key\n")
    deletes = [f"rm -f {group / name}; {remove_if_empty(str(group))}" for name in names]
    procs = [subprocess.Popen(["/bin/sh", "-c", d]) for d in deletes]
    assert [p.wait() for p in procs] == [0, 0, 0]
    assert not group.exists()


def test_host_steps_own_the_group_folder_only_in_namespace_mode() -> None:
    from vxlab.build.provision import host_steps
    from vxlab.build.render import render_lab
    from vxlab.validate.load import build_lab

    def deletes(config: dict[str, object]) -> list[str]:
        lab = build_lab(config)
        return [s.delete for s in host_steps(lab, render_lab(lab)[0]) if s.name.startswith("file:")]

    seed = deletes({})
    assert "rmdir" in seed[0] and "rmdir" not in seed[1]  # /etc/sysctl.d is not ours
    ci = deletes({"group": 39, "hypervisor": {"svi_netns": "vxlab-ci", "uplink": None}})
    assert all("rmdir --ignore-fail-on-non-empty /usr/local/lib/vxlab/vxlab-g39" in d for d in ci)


@pytest.fixture(scope="module")
def host_key(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A host key made by the real step, as `pulumi up` makes it."""
    from vxlab.build.provision import host_key_step, vm_plans
    from vxlab.validate.load import build_lab

    step = host_key_step(vm_plans(build_lab({}))[0], str(tmp_path_factory.mktemp("keys")))
    out = subprocess.run(["/bin/bash", "-c", step.create], capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, host_key: dict[str, str]) -> tuple[Path, dict[str, str]]:
    from vxlab.build.provision import cloud_init_seed_step, vm_plans
    from vxlab.validate.load import build_lab

    plan = vm_plans(build_lab({}))[0]
    folder = tmp_path_factory.mktemp("seed") / "vxlab-g00"
    step, iso = cloud_init_seed_step(plan, str(folder), host_key)
    subprocess.run(["/bin/bash", "-c", step.create], input=step.stdin, text=True, check=True)
    return Path(iso), json.loads(step.stdin or "{}")


@pytest.mark.parametrize("name", ["user-data", "meta-data", "network-config"])
def test_seed_image_carries_each_nocloud_file(seed: tuple[Path, dict[str, str]], name: str) -> None:
    iso, files = seed
    out = subprocess.run(
        ["isoinfo", "-i", str(iso), "-R", "-x", f"/{name}"], capture_output=True, text=True, check=True
    ).stdout
    assert out == files[name]


def test_seed_user_data_gives_the_vm_its_pinned_host_key_only(
    seed: tuple[Path, dict[str, str]], host_key: dict[str, str]
) -> None:
    doc = yaml.safe_load(seed[1]["user-data"])
    assert doc["ssh_keys"] == {"ed25519_private": host_key["private"], "ed25519_public": host_key["public"]}
    assert doc["ssh_deletekeys"] is True and doc["ssh_genkeytypes"] == []


@pytest.mark.parametrize("vm", ["redRouter", "blueTenant", "greenTenant"])
def test_user_data_breaks_the_ovs_reboot_deadlock_before_the_network_comes_up(vm: str) -> None:
    from vxlab.build.provision import vm_plans
    from vxlab.validate.load import build_lab

    plan = next(p for p in vm_plans(build_lab({})) if p.name == vm)
    doc = yaml.safe_load(plan.user_data)
    drop_in = next(f for f in doc["write_files"] if f["path"].startswith("/etc/systemd/system/openvswitch-switch"))
    assert drop_in["content"].endswith("[Unit]\nDefaultDependencies=no\n")
    assert doc["runcmd"][0] == ["systemctl", "disable", "ovs-record-hostname.service"]
    assert "ifup -a" in doc["runcmd"][-1][-1]


@pytest.mark.parametrize("vm", ["redRouter", "blueTenant", "greenTenant"])
def test_user_data_keeps_cloud_init_from_running_again_on_later_boots(vm: str) -> None:
    from vxlab.build.provision import vm_plans
    from vxlab.validate.load import build_lab

    plan = next(p for p in vm_plans(build_lab({})) if p.name == vm)
    assert ["touch", "/etc/cloud/cloud-init.disabled"] in yaml.safe_load(plan.user_data)["runcmd"]


def test_seed_user_data_is_still_cloud_config(seed: tuple[Path, dict[str, str]]) -> None:
    assert seed[1]["user-data"].startswith("#cloud-config\n# Managed by vxlab")


def test_host_key_step_pins_the_key_for_the_vms_ssh_endpoint(tmp_path: Path) -> None:
    from vxlab.build.provision import host_key_step, vm_plans
    from vxlab.validate.load import load_lab

    plan = vm_plans(load_lab(PROJECT, "ci"))[0]
    step = host_key_step(plan, str(tmp_path))
    key = json.loads(
        subprocess.run(["/bin/bash", "-c", step.create], capture_output=True, text=True, check=True).stdout
    )
    pinned = (tmp_path / f"{plan.name}.known_hosts").read_text()
    assert pinned == f"[127.0.0.1]:23900 {key['public'].rsplit(' ', 1)[0]}\n"
    subprocess.run(["/bin/bash", "-c", step.delete], check=True)
    assert not tmp_path.exists()


def test_seed_image_is_labelled_cidata(seed: tuple[Path, dict[str, str]]) -> None:
    out = subprocess.run(["isoinfo", "-d", "-i", str(seed[0])], capture_output=True, text=True, check=True).stdout
    assert "Volume id: cidata" in out


def test_seed_image_name_follows_its_content(seed: tuple[Path, dict[str, str]], host_key: dict[str, str]) -> None:
    from dataclasses import replace

    from vxlab.build.provision import cloud_init_seed_step, vm_plans
    from vxlab.validate.load import build_lab

    iso = seed[0]
    plan = vm_plans(build_lab({}))[0]
    _, other = cloud_init_seed_step(
        replace(plan, user_data=plan.user_data.replace("ssh_pwauth: false", "ssh_pwauth: true")),
        str(iso.parent),
        host_key,
    )
    assert other != str(iso) and Path(other).parent == iso.parent


def test_seed_step_delete_removes_the_image_and_its_empty_folder(tmp_path: Path, host_key: dict[str, str]) -> None:
    from vxlab.build.provision import cloud_init_seed_step, vm_plans
    from vxlab.validate.load import build_lab

    step, _ = cloud_init_seed_step(vm_plans(build_lab({}))[0], str(tmp_path / "g"), host_key)
    subprocess.run(["/bin/bash", "-c", step.create], input=step.stdin, text=True, check=True)
    subprocess.run(["/bin/bash", "-c", step.delete], check=True)
    assert not (tmp_path / "g").exists()


def test_a_file_left_in_an_owned_folder_is_not_kept_as_an_original(tmp_path: Path) -> None:
    """An interrupted run leaves vxlab's own file behind; the next destroy must still remove it."""
    group = tmp_path / "vxlab-g39"
    group.mkdir()
    (group / "host-switch.sh").write_text("left by an interrupted run\n")
    step = file_step(RenderedFile(str(group / "host-switch.sh"), CONTENT, "script", 0o755), owned_dir=str(group))
    run(step.create, step.stdin)
    run(step.delete)
    assert not group.exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([("a", ()), ("b", ("a",))], ["a", "b"]),
        ([("b", ("a",)), ("a", ())], ["a", "b"]),
        ([("c", ("a", "b")), ("b", ("a",)), ("a", ())], ["a", "b", "c"]),
        ([("x", ()), ("z", ("y",)), ("y", ())], ["x", "y", "z"]),
    ],
    ids=["in-order", "one-late", "chain", "stable-otherwise"],
)
def test_steps_are_placed_after_what_they_wait_for(
    given: list[tuple[str, tuple[str, ...]]], expected: list[str]
) -> None:
    from vxlab.build.provision import in_order
    from vxlab.features.spec import Step

    steps = [Step(name=n, create="true", delete="true", after=after) for n, after in given]
    assert [s.name for s in in_order(steps)] == expected


def test_a_step_waiting_for_a_step_nobody_makes_is_refused() -> None:
    from vxlab.build.provision import in_order
    from vxlab.features.spec import Step

    with pytest.raises(ValueError, match="no feature makes"):
        in_order([Step(name="a", create="true", delete="true", after=("ghost",))])


@pytest.mark.parametrize(
    ("aliases", "called"),
    [
        ("vxlab-dhcp,abc123,CONTAINER,\n", "image delete vxlab-dhcp"),
        ("my-debian,abc123,CONTAINER,\nvxlab-dhcp,abc123,CONTAINER,\n", "image alias delete vxlab-dhcp"),
        ("my-debian,fff999,CONTAINER,\nvxlab-dhcp,abc123,CONTAINER,\n", "image delete vxlab-dhcp"),
    ],
)
def test_the_container_image_goes_unless_the_students_image_carries_vxlabs_alias(
    tmp_path: Path, aliases: str, called: str
) -> None:
    from vxlab.build.provision import image_delete

    (tmp_path / "aliases").write_text(aliases)
    fake = tmp_path / "lxc"
    fake.write_text(
        "#!/bin/bash\n"
        f'if [ "$1 $2 $3" = "image alias list" ]; then cat {tmp_path}/aliases; exit 0; fi\n'
        f'echo "$*" >> {tmp_path}/called\n'
    )
    fake.chmod(0o755)
    subprocess.run(["bash", "-c", image_delete("vxlab-dhcp")], env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, check=True)
    assert (tmp_path / "called").read_text() == called + "\n"


def test_the_lxd_preseed_is_asked_again_until_lxd_can_listen_on_the_restarted_network(tmp_path: Path) -> None:
    """The interfaces step restarts the network behind it: the first `lxd init` may find no address."""
    from vxlab.features.lxd import FEATURE

    fake = tmp_path / "lxd"
    fake.write_text(
        "#!/bin/bash\n"
        '[ "$1" = waitready ] && exit 0\n'
        f"n=$(($(cat {tmp_path}/tries 2>/dev/null || echo 0) + 1)); echo $n > {tmp_path}/tries\n"
        '[ "$n" -ge 2 ] || { echo "bind: cannot assign requested address" >&2; exit 1; }\n'
    )
    fake.chmod(0o755)
    reload = FEATURE.files[0].reload.replace("/etc/vxlab/lxd-preseed.yaml", "/dev/null")
    subprocess.run(["bash", "-c", reload], env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, check=True, timeout=60)
    assert (tmp_path / "tries").read_text() == "2\n"


def test_the_segment_waits_for_the_network_restart_the_interfaces_step_starts() -> None:
    """A tenant the students configured has its SVI already: only the restart's own mark says the
    network keepalived and radvd will run on is the restarted one."""
    from vxlab.build.provision import vm_steps
    from vxlab.build.render import render_lab
    from vxlab.features.common import NETWORK_RELOADED
    from vxlab.validate.load import build_lab

    lab = build_lab({"group": 0})
    machine = next(m for m in render_lab(lab) if m.name == lab.tenants["blue"].name)
    steps = {s.name: s for s in vm_steps(lab, machine)}
    restart = steps["file:/etc/network/interfaces"].create
    assert restart.index(f"rm -f {NETWORK_RELOADED}") < restart.index("nohup")
    assert restart.index("ifup -a") < restart.index(f"touch {NETWORK_RELOADED}")
    segment = steps["segment"].create
    assert segment.index(NETWORK_RELOADED) < segment.index(f"ip link show dev {lab.segment.svi}")
