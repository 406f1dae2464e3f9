"""One machine's observations as one shell script: run here by the real `sh`, read back by the
parser, each command's output and exit status kept apart whatever it prints."""

from __future__ import annotations

import shlex
import subprocess
import time

import pytest

from vxlab.live.framing import HEADER, Command, parse, script


def run(commands: list[Command]) -> dict[int, tuple[int, str, str]]:
    done = subprocess.run(["sh", "-s"], input=script(commands).encode(), capture_output=True, timeout=60, check=False)
    return {i: (f.code, f.out.decode(errors="replace"), f.err.decode()) for i, f in parse(done.stdout).items()}


def test_each_command_keeps_its_own_output_error_and_status() -> None:
    got = run([Command("echo one; echo two >&2; exit 3"), Command("printf 'no newline'")])
    assert got == {0: (3, "one\n", "two\n"), 1: (0, "no newline", "")}


@pytest.mark.parametrize(
    "text",
    [
        f"{HEADER} 0123abcd-0000-4000-8000-000000000000 0 0",  # a line that looks like a header
        "quotes ' and \" and $HOME and `backticks`",
        "\u00e9t\u00e9 \u2014 unicode",
        "",
    ],
    ids=["header-lookalike", "shell-metacharacters", "unicode", "empty"],
)
def test_what_a_command_prints_is_never_taken_for_framing(text: str) -> None:
    got = run([Command(f"printf '%s\\n' {shlex.quote(text)}"), Command("echo after")])
    assert got[0][1] == text + "\n" and got[1] == (0, "after\n", "")


def test_bytes_that_are_not_utf8_keep_the_frames_in_step() -> None:
    got = run([Command("printf '\\377\\376'"), Command("echo after")])
    assert got[1] == (0, "after\n", "")


def test_a_command_past_its_time_limit_is_stopped_with_what_it_printed() -> None:
    started = time.monotonic()
    got = run([Command("echo started; sleep 30", timeout=1)])
    assert got[0][0] == 124 and got[0][1] == "started\n"
    assert time.monotonic() - started < 10


def test_lane_less_commands_run_at_once() -> None:
    started = time.monotonic()
    run([Command("sleep 1"), Command("sleep 1"), Command("sleep 1")])
    assert time.monotonic() - started < 2.5


def test_a_lanes_commands_run_one_after_another_in_order() -> None:
    got = run(
        [
            Command("sleep 0.5; date +%s.%N", lane="a"),
            Command("date +%s.%N", lane="a"),
        ]
    )
    assert float(got[0][1]) < float(got[1][1])


B = "0123abcd-0000-4000-8000-00000000000b"


def test_a_result_cut_short_keeps_what_arrived() -> None:
    got = parse(f"{HEADER} {B} 0 0\nhello\n{B}\n\n{B}\n{HEADER} {B} 1 0\nab".encode())
    assert got[0].out == b"hello" and got[1].out == b"ab"


def test_stray_lines_before_the_results_are_ignored() -> None:
    assert parse(f"motd banner\n{HEADER} {B} 0 1\n\n{B}\nerr\n{B}\n".encode())[0].err == b"err"


def test_a_header_with_another_boundary_is_a_commands_output() -> None:
    other = f"{HEADER} 0123abcd-0000-4000-8000-00000000000c 1 0\n"
    got = parse(f"{HEADER} {B} 0 0\nx\n{B}\n\n{B}\n{other}{HEADER} {B} 1 3\n\n{B}\n\n{B}\n".encode())
    assert sorted(got) == [0, 1] and got[1].code == 3


@pytest.mark.parametrize(
    ("command", "plain"),
    [
        ("ip -o -4 addr show dev eth0", True),
        ("ping -c 3 -i 0.2 -W 2 fe80:7::dd%sw-vlan7", True),
        ("ip -N -4 route show table 220 default 2>&1", False),
        ("ovs-vsctl get Interface vx ofport; ovs-appctl fdb/show br", False),
        ("grep -E '(my|partner) state' /var/lib/dhcp/dhcpd.leases", False),
        ("echo $HOME", False),
        ("ls *", False),
        ("LANG=C ip addr", False),
        ("exit 3", False),
        ("cd /tmp", False),
    ],
)
def test_only_a_command_of_plain_words_runs_without_a_shell(command: str, plain: bool) -> None:
    line = next(x for x in script([Command(command)]).splitlines() if x.startswith("( "))
    assert line.startswith("( x 0 ") is plain


def test_a_plain_command_keeps_its_output_error_and_status() -> None:
    got = run([Command("printf %s: plain"), Command("ls /nonexistent-vxlab"), Command("no-such-program-vxlab")])
    assert got[0] == (0, "plain:", "") and got[1][0] == 2 and "nonexistent-vxlab" in got[1][2]
    assert got[2][0] == 127


def test_a_plain_command_past_its_time_limit_is_stopped() -> None:
    started = time.monotonic()
    got = run([Command("sleep 30", timeout=1)])
    assert got[0][0] == 124 and time.monotonic() - started < 10
