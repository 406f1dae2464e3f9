"""`vxlab class place`: groups without a hypervisor placed on the inventory's, the keys written
into their stack files (comments kept), placed groups kept, a class that does not fit refused in
one line with nothing written."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.test_cli import vxlab
from vxlab.base.errors import ConfigError
from vxlab.cli import class_place
from vxlab.cli.class_place import place_class
from vxlab.engine.lab_e2e import ci_inventory
from vxlab.model.inventory import Inventory, load_inventory, parse_inventory
from vxlab.place.current import placed_of
from vxlab.place.reported import Reported, parse_freecell, parse_nodeinfo, ssh_argv
from vxlab.validate.load import load_stack_config

CAPTURED = Path(__file__).parent / "captured"
LOOP = "qemu+ssh://root@127.0.0.1/system?keyfile=/k&knownhosts=/kh"
# Two entries of one machine, as CI has them: room for one group each.
INVENTORY = f"""\
hypervisors:
  - name: local
    libvirt_uri: qemu:///system
    capacity: {{memory_mib: 4096, vcpus: 3, groups: 1}}
  - name: loop
    libvirt_uri: "{LOOP}"
    ssh_host: 127.0.0.1
    host_key: ssh-ed25519 {"A" * 68}
    capacity: {{memory_mib: 4096, vcpus: 3, groups: 1, parallel: 1}}
"""
GROUP = """\
# Group {n}: the Tuesday class.
config:
  vxlab:group: {n}
  vxlab:hypervisor:
    bridge: dsw-ci  # shared by the class
    domain_type: qemu
  vxlab:router:
    ram_mib: 512
  vxlab:tenants:
    blue:
      ram_mib: 1536
    green:
      ram_mib: 1536
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "inventory.yaml").write_text(INVENTORY)
    for n in (1, 2):
        (tmp_path / f"Pulumi.group0{n}.yaml").write_text(GROUP.format(n=n))
    reports = {"local": Reported(24017, 19000), "loop": Reported(24017, 19000)}
    monkeypatch.setattr(class_place, "ask", lambda inventory: reports)
    return tmp_path


def placed(project: Path, *stacks: str) -> int:
    args = argparse.Namespace(dry_run=False)
    return place_class(args, project, list(stacks))


def where(project: Path) -> dict[str, str]:
    configs = {
        s: load_stack_config(project, s)
        for s in ("group01", "group02", "group03")
        if (project / f"Pulumi.{s}.yaml").exists()
    }
    return placed_of(load_inventory(project), configs)


def test_two_groups_go_to_two_hypervisors(project: Path) -> None:
    placed(project, "group01", "group02")
    assert where(project) == {"group01": "local", "group02": "loop"}


def test_the_keys_written_are_the_entry_s(project: Path) -> None:
    placed(project, "group01", "group02")
    assert load_stack_config(project, "group02")["hypervisor"] | {} == {
        "bridge": "dsw-ci",
        "domain_type": "qemu",
        "libvirt_uri": LOOP,
        "ssh_host": "127.0.0.1",
    }


def test_the_stack_file_keeps_its_comments(project: Path) -> None:
    placed(project, "group01")
    text = (project / "Pulumi.group01.yaml").read_text()
    assert ("# Group 1: the Tuesday class." in text, "bridge: dsw-ci  # shared by the class" in text) == (True, True)


def test_a_placed_group_stays_where_it_is(project: Path) -> None:
    path = project / "Pulumi.group01.yaml"
    path.write_text(
        path.read_text().replace("    domain_type: qemu\n", f'    domain_type: qemu\n    libvirt_uri: "{LOOP}"\n')
    )
    placed(project, "group01", "group02")
    assert where(project) == {"group01": "loop", "group02": "local"}


def test_a_group_that_does_not_fit_is_refused_in_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "Pulumi.group03.yaml").write_text(GROUP.format(n=3))
    code = placed(project, "group01", "group02", "group03")
    lines = capsys.readouterr().out.splitlines()
    assert (code, lines) == (
        1,
        [
            "vxlab class place: group03 does not fit: every host holds its most groups (2 in all); "
            "add a host or raise a limit; nothing written"
        ],
    )


def test_a_refused_class_writes_no_stack_file(project: Path) -> None:
    (project / "Pulumi.group03.yaml").write_text(GROUP.format(n=3))
    placed(project, "group01", "group02", "group03")
    assert where(project) == {}


def test_a_dry_run_writes_nothing(project: Path) -> None:
    place_class(argparse.Namespace(dry_run=True), project, ["group01", "group02"])
    assert where(project) == {}


def test_a_group_on_a_hypervisor_the_inventory_does_not_list_is_refused(project: Path) -> None:
    path = project / "Pulumi.group01.yaml"
    path.write_text(
        path.read_text().replace(
            "    domain_type: qemu\n", "    domain_type: qemu\n    libvirt_uri: qemu+ssh://root@gone/system\n"
        )
    )
    with pytest.raises(
        ConfigError, match=r"^Pulumi.group01.yaml: vxlab:hypervisor.libvirt_uri: 'qemu\+ssh://root@gone/system' is none"
    ):
        placed(project, "group02")


def test_a_host_with_less_free_memory_than_a_group_needs_takes_none(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        class_place, "ask", lambda inventory: {"local": Reported(24017, 3000), "loop": Reported(24017, 3000)}
    )
    placed(project, "group01")
    assert "missing 584 MiB" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("parse", "captured", "mib"),
    [(parse_nodeinfo, "virsh-nodeinfo.txt", 24105), (parse_freecell, "virsh-freecell.txt", 21605)],
)
def test_what_libvirt_reports_is_read(parse: object, captured: str, mib: int) -> None:
    assert parse((CAPTURED / captured).read_text()) == mib  # type: ignore[operator]


def test_up_refuses_a_group_not_placed_before_anything_runs(project: Path) -> None:
    result = vxlab("class", "up", "--stacks", "group01", cwd=project)
    assert (result.returncode, result.stderr.strip(), (project / ".vxlab").exists()) == (
        2,
        "vxlab: --stacks: group01 not placed on a hypervisor of inventory.yaml; fix: run `vxlab class place`",
        False,
    )


def test_the_class_view_shows_each_group_s_hypervisor_and_each_host_s_load(project: Path) -> None:
    placed(project, "group01", "group02")
    out = vxlab("class", "--no-state", cwd=project).stdout.splitlines()
    assert [line.split()[:5] for line in out if line.startswith(("local ", "loop "))] == [
        ["local", "1/1", "3584/4096", "3/3", "?"],
        ["loop", "1/1", "3584/4096", "3/3", "?"],
    ]


def test_a_local_placement_spells_no_ssh_host_as_null(project: Path) -> None:
    placed(project, "group01")
    assert "    ssh_host: null\n" in (project / "Pulumi.group01.yaml").read_text()


def test_a_remote_hypervisor_is_asked_over_ssh_with_its_pinned_key(tmp_path: Path) -> None:
    entry = load_inventory_from(tmp_path).entry("loop")
    argv = ssh_argv(entry, tmp_path / "known_hosts")
    assert ((tmp_path / "known_hosts").read_text(), argv[-2:], argv[argv.index("-i") + 1]) == (
        f"127.0.0.1 ssh-ed25519 {'A' * 68}\n",
        ["root@127.0.0.1", "--"],
        "/k",
    )


def load_inventory_from(folder: Path) -> Inventory:
    (folder / "inventory.yaml").write_text(INVENTORY)
    return load_inventory(folder)


def test_the_lab_run_s_inventory_is_valid(tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text(f"127.0.0.1 ssh-ed25519 {'B' * 68}\n")
    inventory = parse_inventory(ci_inventory(tmp_path / "key", tmp_path))
    assert [(h.name, h.capacity.groups) for h in inventory.hypervisors] == [("local", 1), ("loop", 1)]
