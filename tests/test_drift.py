"""`vxlab drift`: what is read back from a machine, compared with what the stack renders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vxlab.live.drift import READ_DONE, Expected, ReadBack, compare, expected_state, parse, read_command
from vxlab.validate.load import build_lab

LAB = build_lab({"group": 0})


def files_on(tmp_path: Path, contents: dict[str, str]) -> list[Expected]:
    """Files written under tmp_path as the expected state of a machine `m`."""
    import hashlib

    out = []
    for name, text in contents.items():
        path = tmp_path / name
        path.write_text(text)
        path.chmod(0o644)
        state = f"{hashlib.sha256(text.encode()).hexdigest()} root 644"
        out.append(Expected("m", "router", str(path), state, f"urn:{name}"))
    return out


def read_back(expected: list[Expected]) -> ReadBack:
    return parse(
        subprocess.run(["sh", "-c", read_command(expected)], capture_output=True, text=True, check=True).stdout
    )


def test_an_untouched_machine_has_no_drift(tmp_path: Path) -> None:
    expected = files_on(tmp_path, {"a.conf": "one\n", "b.conf": "two\n"})
    assert compare(expected, read_back(expected), "dev") == []


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda p: p.write_text("edited by hand\n"), "sha256"),
        (lambda p: p.chmod(0o600), " root 600"),
        (lambda p: p.unlink(), "MISSING"),
    ],
)
def test_a_file_changed_by_hand_is_reported_with_its_repair(tmp_path: Path, change: object, found: str) -> None:
    expected = files_on(tmp_path, {"keepalived.conf": "vrrp\n", "other.conf": "x\n"})
    change(tmp_path / "keepalived.conf")  # type: ignore[operator]
    diffs = compare(expected, read_back(expected), "dev")
    assert [(d.what, d.repair) for d in diffs] == [
        (str(tmp_path / "keepalived.conf"), "scripts/pulumi up --stack dev --replace 'urn:keepalived.conf'")
    ]
    assert found in diffs[0].found if found != "sha256" else diffs[0].found != diffs[0].expected


def test_a_stopped_service_is_drift() -> None:
    expected = [Expected("t", "tenant", "service radvd", "active", "urn:x")]
    diffs = compare(expected, parse(f"service radvd\tinactive\n{READ_DONE}\n"), "dev")
    assert [(d.what, d.found) for d in diffs] == [("service radvd", "inactive")]


def test_a_machine_reads_every_file_with_two_processes(tmp_path: Path) -> None:
    expected = files_on(tmp_path, {f"{n}.conf": f"{n}\n" for n in range(9)})
    assert read_command(expected).count("sha256sum") == 1


def test_a_read_stopped_by_its_limit_says_so_instead_of_missing(tmp_path: Path) -> None:
    expected = files_on(tmp_path, {"interfaces": "one\n", "chrony.conf": "two\n"})
    complete = subprocess.run(["sh", "-c", read_command(expected)], capture_output=True, text=True).stdout
    cut = "\n".join(line for line in complete.splitlines() if "chrony" not in line and line != READ_DONE)
    diffs = compare(expected, parse(cut, "stopped at its limit of 20 s"), "dev")
    assert [(d.what, d.found) for d in diffs] == [
        (str(tmp_path / "chrony.conf"), "not read (stopped at its limit of 20 s)")
    ]


@pytest.mark.parametrize(
    ("machine", "what"),
    [
        ("greenTenant", "/etc/keepalived/keepalived.conf"),
        ("greenTenant", "service keepalived"),
        ("greenTenant", "service radvd"),
        ("blueDHCP", "service isc-dhcp-server"),
        ("blueDHCP", "/etc/dhcp/dhcpd.conf"),
        ("redRouter", "/etc/iptables/rules.v6"),
        ("host", "/usr/local/lib/vxlab/vxlab-seed/host-switch.sh"),
    ],
)
def test_every_managed_file_and_service_is_read_back(machine: str, what: str) -> None:
    assert any(e.machine == machine and e.what == what for e in expected_state(LAB, "dev"))
