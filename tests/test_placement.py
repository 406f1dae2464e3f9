"""Groups placed on the inventory's hypervisors (issue 31): by capacity, stable, refused in one
line when the class does not fit, a drain moving only the drained host's groups."""

from __future__ import annotations

import pytest

from vxlab.place.placement import Host, Need, PlacementError, drain, need_of, place
from vxlab.validate.load import build_lab

GROUP = Need(3584, 3)  # the seed's sizes: a 512 MiB router and two 1.5 GiB tenants, one vCPU each


def hosts(*specs: tuple[str, int, int, int]) -> list[Host]:
    return [Host(name, memory, vcpus, groups) for name, memory, vcpus, groups in specs]


def test_a_groups_need_is_its_three_vms() -> None:
    sizes = {"router": {"ram_mib": 512}, "tenants": {"blue": {"ram_mib": 1536}, "green": {"ram_mib": 1536}}}
    lab = build_lab({"group": 7, **sizes})
    assert need_of(lab) == Need(3584, 3)


def test_groups_spread_over_the_hosts_with_room() -> None:
    placed = place({"g1": GROUP, "g2": GROUP}, hosts(("a", 16384, 16, 4), ("b", 16384, 16, 4)), {})
    assert sorted(placed.values()) == ["a", "b"]


def test_a_placed_group_stays_where_it_is() -> None:
    placed = place({"g1": GROUP, "g2": GROUP}, hosts(("a", 16384, 16, 4), ("b", 32768, 16, 4)), {"g1": "a"})
    assert placed["g1"] == "a"


@pytest.mark.parametrize(
    "spec",
    [pytest.param(("a", 20000, 4, 4), id="vcpus"), pytest.param(("a", 20000, 16, 1), id="groups")],
)
def test_the_roomiest_host_takes_no_more_than_its_other_limits(spec: tuple[str, int, int, int]) -> None:
    # a has the most memory left after g1 too, but no vCPUs or group left for g2.
    placed = place({"g1": GROUP, "g2": GROUP}, hosts(spec, ("b", 16384, 16, 4)), {})
    assert placed == {"g1": "a", "g2": "b"}


def test_the_memory_a_host_reports_free_bounds_what_it_takes() -> None:
    # a is the biggest, but reports 4000 MiB free: it takes one group, after b is fuller than that.
    roomy = [Host("a", 65536, 16, 8, free_mib=4000), Host("b", 8192, 16, 8)]
    placed = place({"g1": GROUP, "g2": GROUP, "g3": GROUP}, roomy, {})
    assert sorted(placed.values()) == ["a", "b", "b"]


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        pytest.param(
            ("a", 8192, 16, 4),
            "g3 does not fit: it needs 3584 MiB and 3 vCPUs, the roomiest host a has 1024 MiB and 10 vCPUs left "
            "(missing 2560 MiB)",
            id="memory",
        ),
        pytest.param(
            ("a", 16384, 7, 4),
            "g3 does not fit: it needs 3584 MiB and 3 vCPUs, the roomiest host a has 9216 MiB and 1 vCPUs left "
            "(missing 2 vCPUs)",
            id="vcpus",
        ),
        pytest.param(
            ("a", 16384, 16, 2),
            "g3 does not fit: every host holds its most groups (2 in all); add a host or raise a limit",
            id="groups",
        ),
    ],
)
def test_a_class_that_does_not_fit_is_refused_in_one_line(spec: tuple[str, int, int, int], line: str) -> None:
    with pytest.raises(PlacementError) as refused:
        place({"g1": GROUP, "g2": GROUP, "g3": GROUP}, hosts(spec), {})
    assert str(refused.value) == line


def test_a_group_placed_on_a_host_the_inventory_lacks_is_refused() -> None:
    with pytest.raises(PlacementError, match="g1 is placed on gone, which the inventory does not list"):
        place({"g1": GROUP}, hosts(("a", 16384, 16, 4)), {"g1": "gone"})


def test_a_drain_moves_the_drained_hosts_groups_only() -> None:
    three = hosts(("a", 16384, 16, 4), ("b", 16384, 16, 4), ("c", 16384, 16, 4))
    placed = {"g1": "a", "g2": "b", "g3": "c", "g4": "a"}
    moved = drain({s: GROUP for s in placed}, three, placed, "a")
    assert sorted(moved) == ["g1", "g4"] and set(moved.values()) <= {"b", "c"}


def test_a_drain_that_the_others_cannot_hold_is_refused() -> None:
    two = hosts(("a", 16384, 16, 4), ("b", 8192, 16, 4))
    placed = {"g1": "a", "g2": "a", "g3": "b"}
    with pytest.raises(PlacementError, match="does not fit"):
        drain({s: GROUP for s in placed}, two, placed, "a")
