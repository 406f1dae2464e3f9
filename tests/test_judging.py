"""Observing tasks in rounds and judging them on the snapshot: what each round holds, the one
second look at a failed active probe, the traffic checks' targets and server, and a snapshot
judged the same after a trip through its file. The machines are a table: `take` is replaced by
one that answers from it, so nothing leaves this process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vxlab.base.errors import ConfigError
from vxlab.features import graders
from vxlab.features.keepalived import KEEPALIVED_ACTIVE, vips_on
from vxlab.features.spec import Observation, Task
from vxlab.live import judging
from vxlab.live import snapshot as snapshots
from vxlab.live.bounds import settle_bound
from vxlab.live.grading import grade_snapshot
from vxlab.live.judging import judge, not_running, observe_tasks, traffic_tasks
from vxlab.live.remote import Result
from vxlab.live.snapshot import Round, Snapshot
from vxlab.live.traffic import TRANSFER_LANE
from vxlab.live.traffic_live import ServerDown
from vxlab.model.lab import Lab

PING = "2 packets transmitted, 2 received, 0% packet loss"
LOST = "2 packets transmitted, 0 received, 100% packet loss"
Answer = Callable[[Observation, int], Result]


class Machines:
    """Answers each observation from `answer(observation, attempt)`, recording every round."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.rounds: list[list[Observation]] = []
        self.ahead: list[list[str]] = []  # per round, the machines of a later round's observations
        self.asked: dict[tuple[str, str], int] = {}

    def take(
        self,
        shell: object,
        observations: Iterable[Observation],
        snapshot: Snapshot,
        label: str,
        ahead: Iterable[Observation] = (),
    ) -> Round:
        unique = list({o.key: o for o in observations}.values())
        self.rounds.append(unique)
        self.ahead.append([o.machine for o in ahead])
        for o in unique:
            n = self.asked[o.key] = self.asked.get(o.key, 0) + 1
            snapshot.add(o.machine, o.command, self.answer(o, n))
        taken = Round(label, 0.1, {o.machine: 0.1 for o in unique})
        snapshot.rounds.append(taken)
        return taken


@pytest.fixture
def machines(monkeypatch: pytest.MonkeyPatch) -> Callable[[Answer], Machines]:
    def make(answer: Answer) -> Machines:
        m = Machines(answer)
        monkeypatch.setattr(judging, "take", m.take)
        return m

    return make


def observe(lab: Lab, tasks: list[Task], traffic: bool = False) -> tuple[Snapshot, list[float], list[Task]]:
    snapshot, pauses = Snapshot(lab, "dev", "now"), list[float]()
    made = observe_tasks(None, lab, tasks, snapshot, traffic, pauses.append)  # type: ignore[arg-type]
    return snapshot, pauses, made


PROBE = Task("7.4", "reaches the probe", "blueC0", "ping probe", graders.replies, "container", relook=True)
OTHER = Task("7.4", "reaches the probe", "greenC0", "ping probe", graders.replies, "container", relook=True)
STATE = Task("7.2", "an address", "blueC0", "ip addr", graders.nonempty("address"), "container")
AFTER = Task(
    "7.5",
    "marked",
    "redRouter",
    "conntrack -L",
    graders.nonempty("entry"),
    traffic=Observation("greenC0", "container", "ping -c 3 probe"),
    relook=True,
)


def test_the_first_round_holds_state_reads_probes_and_traffic_the_second_its_traces(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    m = machines(lambda o, n: Result(0, PING if "ping" in o.command else "x", ""))
    observe(dev_lab, [PROBE, STATE, AFTER])
    assert [sorted(o.command for o in r) for r in m.rounds] == [
        ["ip addr", "ping -c 3 probe", "ping probe"],
        ["conntrack -L"],
    ]


def test_a_lab_that_passes_is_looked_at_once(dev_lab: Lab, machines: Callable[[Answer], Machines]) -> None:
    machines(lambda o, n: Result(0, PING if "ping" in o.command else "x", ""))
    _, pauses, _ = observe(dev_lab, [PROBE, STATE, AFTER])
    assert pauses == []


def test_a_failed_probe_is_looked_at_again_after_the_vips_settle(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    m = machines(lambda o, n: Result(0, PING if n > 1 or o.machine == "greenC0" else LOST, ""))
    snapshot, pauses, _ = observe(dev_lab, [PROBE, OTHER])
    graded = judge(PROBE, snapshot)
    assert pauses == [settle_bound(dev_lab)] and [[o.machine for o in r] for r in m.rounds] == [
        ["blueC0", "greenC0"],
        ["blueC0"],
    ]
    assert graded.ok and graded.observed == "2/2 replies [try 2; try 1: 0/2 replies]"


def test_a_probe_that_fails_twice_is_wrong_with_both_looks(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    machines(lambda o, n: Result(1, LOST, "") if o.machine == "blueC0" else Result(0, PING, ""))
    snapshot, pauses, _ = observe(dev_lab, [PROBE, OTHER])
    graded = judge(PROBE, snapshot)
    assert (graded.verdict, len(pauses)) == ("wrong", 1)
    assert graded.observed.startswith("0/2 replies") and "[try 2; try 1: 0/2 replies" in graded.observed


def transfer(container: str) -> Task:
    return Task(
        "7.4", "download", container, "curl", graders.nonempty("transfer"), "container", lane=TRANSFER_LANE, relook=True
    )


def test_a_lab_whose_every_transfer_fails_does_not_wait_for_them_twice(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    m = machines(lambda o, n: Result(0, PING if "ping" in o.command else "", ""))
    snapshot, pauses, _ = observe(dev_lab, [transfer("blueC0"), transfer("greenC0"), PROBE])
    assert (pauses, len(m.rounds), judge(transfer("blueC0"), snapshot).verdict) == ([], 1, "not done")


def test_a_transfer_that_failed_where_another_passed_is_looked_at_again(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    m = machines(lambda o, n: Result(0, "1048576 B" if o.machine == "greenC0" or n > 1 else "", ""))
    snapshot, pauses, _ = observe(dev_lab, [transfer("blueC0"), transfer("greenC0")])
    assert (len(pauses), [[o.machine for o in r] for r in m.rounds][-1]) == (1, ["blueC0"])
    assert judge(transfer("blueC0"), snapshot).ok


def test_a_failed_state_read_is_not_looked_at_again(dev_lab: Lab, machines: Callable[[Answer], Machines]) -> None:
    m = machines(lambda o, n: Result(0, "", ""))
    _, pauses, _ = observe(dev_lab, [STATE])
    assert (pauses, len(m.rounds)) == ([], 1)


def test_a_second_look_at_a_trace_makes_its_traffic_again(dev_lab: Lab, machines: Callable[[Answer], Machines]) -> None:
    m = machines(lambda o, n: Result(0, PING if "ping" in o.command else ("entry" if n > 1 else ""), ""))
    snapshot, _, _ = observe(dev_lab, [AFTER, OTHER])
    assert [[o.command for o in r] for r in m.rounds] == [
        ["ping -c 3 probe", "ping probe"],
        ["conntrack -L"],
        ["ping -c 3 probe"],
        ["conntrack -L"],
    ]
    assert judge(AFTER, snapshot).observed.startswith("entry (after greenC0's ping: 2/2 replies)")


SLAAC = "9: eth0    inet6 2001:db8:7:0:216:3eff:fe1e:f570/64 scope global dynamic mngtmpaddr\n"


def traffic_answer(o: Observation, n: int) -> Result:
    if o.command.startswith("ip -o -6 addr"):
        return Result(0, SLAAC, "")
    return Result(0, PING, "")


def test_the_full_size_pings_target_the_addresses_the_first_round_read(
    dev_lab: Lab, machines: Callable[[Answer], Machines], monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def server(shell: object, lab: Lab) -> Iterator[None]:
        yield

    monkeypatch.setattr(judging, "transfer_server", server)
    m = machines(traffic_answer)
    _, _, made = observe(dev_lab, [], traffic=True)
    pings6 = [t for t in made if t.name.startswith("IPv6") and "DF ping" in t.name]
    assert pings6 and all(t.command.endswith(" 2001:db8:7:0:216:3eff:fe1e:f570") for t in pings6)
    assert {o.command for o in m.rounds[0]} == {"ip -o -6 addr show dev eth0 scope global"}


def test_a_transfer_server_that_cannot_start_leaves_every_transfer_not_done_saying_why(
    dev_lab: Lab, machines: Callable[[Answer], Machines], monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def down(shell: object, lab: Lab) -> Iterator[None]:
        raise ServerDown("the transfer server did not start: Address already in use")
        yield

    monkeypatch.setattr(judging, "transfer_server", down)
    machines(traffic_answer)
    snapshot, _, made = observe(dev_lab, [], traffic=True)
    transfers = [judge(t, snapshot) for t in made if "TCP" in t.name]
    pings = [judge(t, snapshot) for t in made if "DF ping" in t.name]
    assert transfers and all(g.verdict == "not done" and "Address already in use" in g.observed for g in transfers)
    assert pings and all(g.ok for g in pings)


def test_a_snapshot_is_judged_the_same_after_its_file(dev_lab: Lab, tmp_path: Path) -> None:
    snapshot = Snapshot(dev_lab, "dev", "2026-12-04T00:00:00Z", traffic=True)
    snapshot.add("blueC0", "ip -o -4 addr show dev eth0", Result(0, "inet 192.0.2.12/24", ""))
    snapshot.add("greenTenant", "ping -c 2 -W 2 192.0.2.220", Result(1, LOST, ""))
    snapshot.add("greenTenant", "ping -c 2 -W 2 192.0.2.220", Result(0, PING, ""))
    snapshot.notes[judging.TRAFFIC_SERVER] = "did not start"
    snapshot.save(tmp_path / "s.json")
    again = snapshots.load(tmp_path / "s.json")
    assert grade_snapshot(again) == grade_snapshot(snapshot)
    assert len(traffic_tasks(again)) == len(traffic_tasks(snapshot)) > 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "is not JSON"),
        ('{"format": "something else"}', "is not a vxlab-snapshot/1 file"),
        ('{"format": "vxlab-snapshot/1"}', "is damaged"),
    ],
    ids=["not-json", "other-format", "damaged"],
)
def test_a_file_that_is_not_a_snapshot_is_refused_naming_from(tmp_path: Path, content: str, words: str) -> None:
    (tmp_path / "s.json").write_text(content)
    with pytest.raises(ConfigError) as refused:
        snapshots.load(tmp_path / "s.json")
    assert refused.value.line().startswith("--from:") and words in refused.value.line()


def test_a_missing_snapshot_file_is_refused_naming_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        snapshots.load(tmp_path / "none.json")
    assert "cannot read" in refused.value.line()


def test_a_snapshot_file_names_its_format_and_lab(dev_lab: Lab, tmp_path: Path) -> None:
    Snapshot(dev_lab, "dev", "now").save(tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["format"] == "vxlab-snapshot/1" and data["lab"]["group"] == dev_lab.group


def test_a_snapshot_taken_before_a_setting_existed_loads_with_its_default(dev_lab: Lab, tmp_path: Path) -> None:
    Snapshot(dev_lab, "dev", "now").save(tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    del data["lab"]["dhcp"]["client"]
    (tmp_path / "s.json").write_text(json.dumps(data))
    assert snapshots.load(tmp_path / "s.json").lab.dhcp.client == dev_lab.dhcp.client


REFUSED = Result(255, "", "ssh: connect to host 127.0.0.1 port 23900: Connection refused")


def test_a_lab_whose_vms_all_do_not_answer_is_told_in_one_line_what_to_run(dev_lab: Lab) -> None:
    snapshot = Snapshot(dev_lab, "dev", "now")
    for vm in ("redRouter", "blueTenant", "greenTenant"):
        snapshot.add(vm, "sysctl x", REFUSED)
    hint = not_running(snapshot)
    assert hint is not None and "\\n" not in hint
    assert "host-switch.sh up && virsh -c qemu:///system start redRouter" in hint and "scripts/lab-up dev" in hint


def test_a_lab_with_one_vm_answering_gets_no_such_line(dev_lab: Lab) -> None:
    snapshot = Snapshot(dev_lab, "dev", "now")
    snapshot.add("redRouter", "sysctl x", REFUSED)
    snapshot.add("blueTenant", "sysctl x", Result(0, "net.ipv4.ip_forward = 1", ""))
    assert not_running(snapshot) is None


@pytest.mark.parametrize(
    "failure",
    [
        Result(1, "", "Error: Instance not found"),
        Result(1, "", "Error: Instance is not running"),
        Result(2, "", "ping: fe80:7::dd%sw-vlan7: Name or service not known"),
        Result(255, "", "ssh: connect to host blueTenant port 22: Connection refused"),
    ],
    ids=["container-not-there", "container-stopped", "no-such-interface", "vm-down"],
)
def test_a_probe_that_could_not_run_is_not_looked_at_again(
    dev_lab: Lab, machines: Callable[[Answer], Machines], failure: Result
) -> None:
    probe = Task("7.4", "reaches the probe", "blueC0", "ping -c 3 probe", graders.replies, "container", relook=True)
    m = machines(lambda o, n: failure)
    _, pauses, _ = observe(dev_lab, [probe])
    assert (pauses, len(m.rounds)) == ([], 1)


def keepalived(state: str) -> Answer:
    def answer(o: Observation, n: int) -> Result:
        return Result(0, f"{state}\n", "") if o.command == KEEPALIVED_ACTIVE else Result(1, LOST, "")

    return answer


def keepalived_tasks(lab: Lab) -> list[Task]:
    return [
        Task("5.8", "keepalived runs", t.name, KEEPALIVED_ACTIVE, graders.service_active) for t in lab.tenants.values()
    ]


@pytest.mark.parametrize(("state", "looks"), [("inactive", 0), ("active", 1)])
def test_a_failed_probe_waits_for_the_vips_only_where_keepalived_runs(
    dev_lab: Lab, machines: Callable[[Answer], Machines], state: str, looks: int
) -> None:
    machines(keepalived(state))
    _, pauses, _ = observe(dev_lab, [PROBE, *keepalived_tasks(dev_lab)])
    assert len(pauses) == looks


STARVED_OVS = (
    "2026-12-05T01:00:52Z|00001|timeval|WARN|Unreasonably long 1945ms poll interval (64ms user, 46ms system)\n"
    "2026-12-05T01:00:52Z|00002|timeval|WARN|faults: 61 minor, 4 major\n"
    "C-3PO-GREEN\n7\n"
)


def test_open_vswitchs_own_log_lines_are_not_read_as_the_answer() -> None:
    task = Task(
        "6.1", "sw-vlan7 is a fake bridge", "greenTenant", "ovs-vsctl br-to-parent", graders.equals("C-3PO-GREEN\n7")
    )
    assert judging.verdict_of(task, Result(0, STARVED_OVS, "")) == ("done", "C-3PO-GREEN\n7")


def test_a_state_read_that_ran_out_of_time_is_read_once_more(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    m = machines(lambda o, n: Result(124, "terminating with signal 15", "") if n == 1 else Result(0, "x", ""))
    snapshot, pauses, _ = observe(dev_lab, [STATE])
    assert (len(pauses), len(m.rounds), judge(STATE, snapshot).ok) == (1, 2, True)


def test_a_state_read_that_runs_out_of_time_twice_is_not_read_a_third_time(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    m = machines(lambda o, n: Result(124, "", ""))
    observe(dev_lab, [STATE])
    assert len(m.rounds) == 2


def svi_addresses(lab: Lab, *addresses: str) -> str:
    """`ip -j addr` of a tenant whose SVI holds `addresses`."""
    info = [
        {"family": "inet6" if ":" in a else "inet", "local": a.split("/")[0], "prefixlen": int(a.split("/")[1])}
        for a in addresses
    ]
    return json.dumps([{"ifname": lab.segment.svi, "addr_info": info}])


def test_a_master_seen_without_its_vips_is_looked_at_again_after_they_settle(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    master = dev_lab.master()
    vips = (str(dev_lab.vrrp.vip4), str(dev_lab.vrrp.vip6))
    task = vips_on(dev_lab, master, "7.3", held=True)
    machines(lambda o, n: Result(0, svi_addresses(dev_lab, *vips) if n > 1 else svi_addresses(dev_lab), ""))
    snapshot, pauses, _ = observe(dev_lab, [task])
    graded = judge(task, snapshot)
    assert pauses == [settle_bound(dev_lab)]
    assert graded.ok and graded.observed == f"{', '.join(vips)} [try 2; try 1: no address]"


def test_a_master_that_never_holds_the_vips_is_not_done_after_one_more_look(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    task = vips_on(dev_lab, dev_lab.master(), "7.3", held=True)
    m = machines(lambda o, n: Result(0, svi_addresses(dev_lab), ""))
    snapshot, _, _ = observe(dev_lab, [task])
    assert (judge(task, snapshot).verdict, len(m.rounds)) == ("not done", 2)


def test_the_first_round_is_handed_what_the_second_asks_so_it_connects_ahead(
    dev_lab: Lab, machines: Callable[[Answer], Machines]
) -> None:
    router = dev_lab.router.name
    after = Task("7.5", "marked", router, "conntrack -L", graders.nonempty("entry"), traffic=PROBE.observation)
    m = machines(lambda o, n: Result(0, PING if "ping" in o.command else "x", ""))
    observe(dev_lab, [PROBE, after])
    assert m.ahead == [[router], []]


def test_a_failed_command_is_shown_by_the_last_line_of_its_error() -> None:
    """A traceback's last line is its exception: the one line a student needs in the grade."""
    task = Task(
        "5.7", "holds its static address", "g1-blueDHCP", "ip -o -4 addr", graders.holds_addresses("10.1.7.250/24")
    )
    err = (
        'Traceback (most recent call last):\n  File "<string>", line 13, in <module>\n'
        "ConnectionRefusedError: [Errno 111] Connection refused\n"
    )
    assert judging.verdict_of(task, Result(1, "", err)) == (
        "not done",
        "no address (exit 1: ConnectionRefusedError: [Errno 111] Connection refused)",
    )
