"""The topology diagram: a golden Graphviz source for dev, every interface address on it, and
`dot` lays out every stack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PROJECT, STACKS
from vxlab.artifacts import diagram
from vxlab.model.addressing import interfaces
from vxlab.validate.load import load_lab

GOLDEN = Path(__file__).parent / "golden" / "artifacts" / "dev" / "diagram.gv"
LABS = {stack: load_lab(PROJECT, stack) for stack in STACKS}
ADDRESSES = [
    pytest.param(stack, a, id=f"{stack}:{i.machine}:{i.name}:{a}")
    for stack, lab in LABS.items()
    for i in interfaces(lab)
    for a in (*i.ipv4, *i.ipv6)
]


def test_dev_diagram_source_matches_golden() -> None:
    source = diagram.source(LABS["dev"], "dev")
    if os.environ.get("VXLAB_REGEN_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(source)
    assert source == GOLDEN.read_text()


@pytest.mark.parametrize(("stack", "address"), ADDRESSES)
def test_every_interface_address_is_drawn(stack: str, address: str) -> None:
    assert address in diagram.source(LABS[stack], stack)


@pytest.mark.parametrize("stack", STACKS)
def test_the_tunnel_is_drawn_with_its_vni(stack: str) -> None:
    assert f'label="VXLAN VNI {LABS[stack].segment.vni}"' in diagram.source(LABS[stack], stack)


@pytest.mark.parametrize("stack", STACKS)
def test_the_configured_master_is_named_with_the_vips(stack: str) -> None:
    lab = LABS[stack]
    assert f"master {lab.master().name} ({lab.master().vrrp_priority})" in diagram.source(lab, stack)


@pytest.mark.parametrize("stack", STACKS)
def test_dot_lays_out_an_svg(stack: str, tmp_path: Path) -> None:
    out = diagram.write(LABS[stack], stack, tmp_path / "d.svg")
    assert "<svg" in out.read_text()


@pytest.mark.parametrize("stack", STACKS)
def test_the_png_fits_a_landscape_a4_page(stack: str, tmp_path: Path) -> None:
    png = diagram.write(LABS[stack], stack, tmp_path / "d.png").read_bytes()
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    inches = [float(x) for x in diagram.A4_LANDSCAPE.split(",")]
    dpi = int(diagram.PNG_DPI)
    assert (width <= inches[0] * dpi + 1, height <= inches[1] * dpi + 1, width > height) == (True, True, True)
