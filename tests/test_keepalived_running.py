"""§N.8's read of what keepalived runs (its SIGUSR1 dump), on a dump captured from a `ci` lab's
blueTenant (keepalived 2.2.7, 2026-12-05; the VRRP and script sections): the daemon's own view,
so a file that lost its track_script blocks, or was edited and never reloaded, reads as it runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vxlab.features.keepalived import tracked_scripts, tracks_in

DUMP = (Path(__file__).parent / "captured" / "keepalived-blue.data").read_text()
VRIDS = (178, 179)


def without_tracking(dump: str, script: str) -> str:
    return re.sub(rf"   Tracked scripts :\n     {script} weight 0\n", "", dump)


def test_the_dump_gives_each_instances_vrid_and_tracked_scripts() -> None:
    assert tracked_scripts(DUMP) == {178: ("keepalived_check_ipv4",), 179: ("keepalived_check_ipv6",)}


def test_both_instances_tracking_a_script_is_done() -> None:
    assert tracks_in(*VRIDS)(DUMP) == (
        "done",
        "VRID 178 tracks keepalived_check_ipv4, VRID 179 tracks keepalived_check_ipv6",
    )


@pytest.mark.parametrize(
    ("dump", "seen"),
    [
        pytest.param(
            without_tracking(DUMP, "keepalived_check_ipv4"),
            "VRID 178 tracks no script, VRID 179 tracks keepalived_check_ipv6",
            id="ipv4-untracked",
        ),
        pytest.param(
            without_tracking(DUMP, "keepalived_check_ipv6"),
            "VRID 178 tracks keepalived_check_ipv4, VRID 179 tracks no script",
            id="ipv6-untracked",
        ),
        pytest.param(
            DUMP.replace("Virtual Router ID = 179", "Virtual Router ID = 79"),
            "VRID 178 tracks keepalived_check_ipv4, no instance with VRID 179",
            id="other-vrid",
        ),
    ],
)
def test_an_instance_without_a_tracked_script_is_wrong(dump: str, seen: str) -> None:
    assert tracks_in(*VRIDS)(dump) == ("wrong", seen)


def test_no_running_keepalived_is_not_done() -> None:
    assert tracks_in(*VRIDS)("") == ("not done", "keepalived runs no VRRP instance")
