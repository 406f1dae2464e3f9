"""The traffic checks: transfers judged by size and digest, full-size pings, where the server runs;
and one real round trip through the real server with the real curl."""

from __future__ import annotations

import hashlib
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.live.traffic import (
    SERVER_READY,
    TRANSFER_BYTES,
    TRANSFER_LANE,
    ServerSite,
    df_ping_command,
    download_command,
    downloaded,
    global_ipv6,
    server_command,
    server_site,
    traffic_checks,
    upload_command,
    uploaded,
)
from vxlab.live.traffic_server import payload
from vxlab.model.lab import Lab
from vxlab.validate.load import load_lab

SIZE = 4096
GOOD_SHA = hashlib.sha256(payload(SIZE)).hexdigest()
OTHER_SHA = "0" * 64


def download_output(code: int = 200, got: int = SIZE, sha: str = GOOD_SHA) -> str:
    return f"vxlab-curl {code} {got} 0.500000\n{sha}  /tmp/vxlab-get\n"


def upload_output(received: int = SIZE, server_sha: str = OTHER_SHA, code: int = 200) -> str:
    return f"{OTHER_SHA}  /tmp/vxlab-put\n{received} {server_sha}\nvxlab-curl {code} {SIZE} 0.250000\n"


def test_download_of_every_byte_as_sent_passes_with_its_rate() -> None:
    assert downloaded(SIZE)(download_output()) == ("done", "4096 B in 0.50 s, 0.01 MiB/s")


@pytest.mark.parametrize(
    ("out", "words"),
    [
        pytest.param(download_output(got=1400, sha=OTHER_SHA), "1400 of 4096 B", id="truncated"),
        pytest.param(download_output(sha=OTHER_SHA), "content differs", id="corrupted"),
        pytest.param(download_output(code=404, got=0, sha=OTHER_SHA), "HTTP 404", id="not-found"),
        pytest.param("curl: (28) Operation timed out after 60001 milliseconds\n", "no transfer", id="timed-out"),
    ],
)
def test_download_fails_and_says_why(out: str, words: str) -> None:
    verdict, observed = downloaded(SIZE)(out)
    assert verdict != "done"
    assert words in observed


def test_upload_received_whole_and_intact_passes() -> None:
    assert uploaded(SIZE)(upload_output()) == ("done", "4096 B in 0.25 s, 0.02 MiB/s")


@pytest.mark.parametrize(
    ("out", "words"),
    [
        pytest.param(upload_output(received=1448), "received 1448 of 4096 B", id="short"),
        pytest.param(upload_output(server_sha="1" * 64), "content differs", id="corrupted"),
        pytest.param(upload_output(code=0).replace(f"{SIZE} {OTHER_SHA}\n", ""), "nothing acknowledged", id="stalled"),
        pytest.param("head: write error\n", "no transfer", id="no-curl"),
    ],
)
def test_upload_fails_and_says_why(out: str, words: str) -> None:
    verdict, observed = uploaded(SIZE)(out)
    assert verdict != "done"
    assert words in observed


@pytest.mark.parametrize(
    ("family", "size"),
    [(4, "-s 1422"), (6, "-s 1402")],
)
def test_df_ping_sends_packets_exactly_the_segment_mtu(family: int, size: str) -> None:
    command = df_ping_command(family, 1450, "peer")
    assert f"ping -{family} -M do {size} " in command


def test_ci_server_runs_in_the_groups_namespace_on_the_probes() -> None:
    lab = load_lab(PROJECT, "ci")
    site = server_site(lab)
    assert (site.netns, site.ipv4, site.ipv6) == ("vxlab-ci", lab.internet.probe4, lab.internet.probe6)
    command = server_command(site, 60)
    assert command.startswith("ip netns exec vxlab-ci python3 -c ")
    assert command.endswith(" --port 8080 --seconds 60 203.0.113.9 2001:db8:ffff::9")


def test_real_host_server_runs_on_the_hypervisors_svi(dev_lab: Lab) -> None:
    site = server_site(dev_lab)
    assert (site.netns, site.ipv4, site.ipv6) == (None, dev_lab.upstream.host_ipv4.ip, dev_lab.upstream.host_ipv6.ip)


def test_ipv6_urls_bracket_the_address(dev_lab: Lab) -> None:
    assert server_site(dev_lab).url(6, "/sink") == "http://[2001:678:3fc:1c::14]:8080/sink"


@pytest.mark.parametrize("name", ["download", "upload", "DF ping"])
@pytest.mark.parametrize("family", [4, 6])
def test_every_container_has_each_traffic_check_per_family(dev_lab: Lab, name: str, family: int) -> None:
    containers = {c for t in dev_lab.tenants.values() for c in (t.dhcp_server.name, *t.clients)}
    checks = [c for c in traffic_checks(dev_lab) if c.name.startswith(f"IPv{family}") and name in c.name]
    assert sorted(c.machine for c in checks) == sorted(containers)


def test_transfers_carry_at_least_one_mebibyte() -> None:
    assert TRANSFER_BYTES >= 1 << 20


@pytest.mark.parametrize(("container", "target"), [("blueC0", "192.0.2.251"), ("greenDHCP", "192.0.2.250")])
def test_full_size_ping_crosses_the_vxlab_to_the_other_tenants_dhcp_server(
    dev_lab: Lab, container: str, target: str
) -> None:
    check = next(c for c in traffic_checks(dev_lab) if c.machine == container and c.name.startswith("IPv4 1450"))
    assert check.command.endswith(f" {target}")


def test_full_size_ipv6_ping_targets_the_address_read_from_the_lab(dev_lab: Lab) -> None:
    checks = traffic_checks(dev_lab, {"greenDHCP": "2001:db8:7:0:216:3eff:feb2:7128"})
    check = next(c for c in checks if c.machine == "blueC1" and c.name.startswith("IPv6 1450"))
    assert check.command.endswith(" 2001:db8:7:0:216:3eff:feb2:7128")


def test_global_ipv6_ignores_link_local() -> None:
    out = (
        "9: eth0    inet6 2001:db8:7:0:216:3eff:fe1e:f570/64 scope global dynamic mngtmpaddr \\ valid_lft 86394sec\n"
        "9: eth0    inet6 fe80::216:3eff:fe1e:f570/64 scope link \\       valid_lft forever\n"
    )
    assert global_ipv6(out) == "2001:db8:7:0:216:3eff:fe1e:f570"


# -- the real server and the real curl, on loopback ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(site: ServerSite) -> subprocess.Popen[str]:
    command = server_command(site, 60).replace("python3", shlex.quote(sys.executable), 1)
    proc = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == SERVER_READY
    return proc


@pytest.fixture(scope="module")
def loopback_site() -> Iterator[ServerSite]:
    site = ServerSite(None, IPv4Address("127.0.0.1"), IPv6Address("::1"), _free_port())
    proc = _start(site)
    yield site
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=10)


def test_the_server_stops_when_its_stdin_closes() -> None:
    proc = _start(ServerSite(None, IPv4Address("127.0.0.1"), IPv6Address("::1"), _free_port()))
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0


def _sh(command: str, tmp: Path) -> str:
    """The command as a container runs it, its /tmp files (the transfers' bodies, the unreachable
    marks) in this test's own folder: tests in other workers use the same names at once."""
    private = command.replace("/tmp/", f"{tmp}/")
    return subprocess.run(["sh", "-c", private], capture_output=True, text=True, timeout=60, check=False).stdout


@pytest.mark.parametrize("family", [4, 6])
def test_real_download_through_the_server_is_judged_intact(
    loopback_site: ServerSite, family: int, tmp_path: Path
) -> None:
    out = _sh(download_command(loopback_site.url(family, f"/bytes/{TRANSFER_BYTES}")), tmp_path)
    assert downloaded(TRANSFER_BYTES)(out)[0] == "done", out


@pytest.mark.parametrize("family", [4, 6])
def test_real_upload_through_the_server_is_judged_intact(
    loopback_site: ServerSite, family: int, tmp_path: Path
) -> None:
    out = _sh(upload_command(loopback_site.url(family, "/sink"), TRANSFER_BYTES), tmp_path)
    assert uploaded(TRANSFER_BYTES)(out)[0] == "done", out


def test_real_download_of_a_shorter_body_is_judged_broken(loopback_site: ServerSite, tmp_path: Path) -> None:
    out = _sh(download_command(loopback_site.url(4, "/bytes/1400")), tmp_path)
    assert downloaded(TRANSFER_BYTES)(out)[0] == "wrong"


@pytest.mark.parametrize("kind", ["download", "upload", "DF ping"])
def test_a_failed_traffic_check_is_looked_at_again(dev_lab: Lab, kind: str) -> None:
    checks = [c for c in traffic_checks(dev_lab) if kind in c.name]
    assert checks and all(c.relook for c in checks)


@pytest.mark.parametrize("container", ["blueDHCP", "blueC0", "greenC1"])
def test_a_containers_transfers_run_one_after_another(dev_lab: Lab, container: str) -> None:
    lanes = {c.lane for c in traffic_checks(dev_lab) if c.machine == container and "TCP" in c.name}
    assert lanes == {TRANSFER_LANE}


def test_full_size_pings_run_alongside_the_rest(dev_lab: Lab) -> None:
    assert {c.lane for c in traffic_checks(dev_lab) if "DF ping" in c.name} == {""}


def test_an_upload_after_a_download_that_could_not_connect_is_not_tried(tmp_path: Path) -> None:
    closed = ServerSite(None, IPv4Address("127.0.0.1"), IPv6Address("::1"), _free_port())
    download = _sh(download_command(closed.url(4, "/bytes/1"), family=4), tmp_path)
    upload = _sh(upload_command(closed.url(4, "/sink"), TRANSFER_BYTES, family=4), tmp_path)
    assert downloaded(1)(download)[0] == "wrong"
    assert uploaded(TRANSFER_BYTES)(upload) == ("wrong", "not tried: the download before it could not connect")


def test_an_upload_after_a_download_that_connected_is_tried(loopback_site: ServerSite, tmp_path: Path) -> None:
    _sh(download_command(loopback_site.url(4, "/bytes/1"), family=4), tmp_path)
    upload = _sh(upload_command(loopback_site.url(4, "/sink"), TRANSFER_BYTES, family=4), tmp_path)
    assert uploaded(TRANSFER_BYTES)(upload)[0] == "done", upload
