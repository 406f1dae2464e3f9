"""The handout: a golden page for dev, and every address on it is one the lab configures."""

from __future__ import annotations

import os
import re
from ipaddress import IPv4Network, IPv6Network, ip_interface
from pathlib import Path

import pytest

from tests.addresses import V4, V6, hosts_and_networks
from tests.conftest import PROJECT, STACKS
from vxlab.artifacts import handout
from vxlab.build.provision import vm_plans
from vxlab.build.render import render_lab
from vxlab.validate.load import load_lab

GOLDEN = Path(__file__).parent / "golden" / "artifacts" / "dev" / "handout.html"
SEED_GOLDEN = Path(__file__).parent / "golden" / "dev"
# The diagram has its own golden source; here it is a marker, so this page tests the template only.
SVG = '<svg xmlns="http://www.w3.org/2000/svg" id="diagram-placeholder"></svg>'
LABS = {stack: load_lab(PROJECT, stack) for stack in STACKS}
PAGES = {stack: handout.html(lab, stack, SVG) for stack, lab in LABS.items()}


def _configured(stack: str) -> str:
    """Every file the stack writes, and the VMs' plans (MACs, SSH endpoints)."""
    lab = LABS[stack]
    files = "\n".join(f.content for m in render_lab(lab) for f in m.files)
    plans = "\n".join(f"{p.mac} {p.ssh_host}" for p in vm_plans(lab))
    return files + "\n" + plans


def _page_networks(page: str) -> set[IPv4Network | IPv6Network]:
    """The networks the page shows: as prefixes, or as the subnet of an interface address."""
    return {ip_interface(t).network for t in re.findall(V4, page) + re.findall(V6, page) if "/" in t}


def test_dev_handout_matches_golden() -> None:
    if os.environ.get("VXLAB_REGEN_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(PAGES["dev"])
    assert PAGES["dev"] == GOLDEN.read_text()


@pytest.mark.parametrize("stack", STACKS)
def test_every_address_in_the_handout_is_configured_by_the_stack(stack: str) -> None:
    shown, _ = hosts_and_networks(PAGES[stack])
    configured, _ = hosts_and_networks(_configured(stack))
    assert shown - configured == set()


@pytest.mark.parametrize("stack", STACKS)
def test_every_address_the_stack_configures_is_in_the_handout(stack: str) -> None:
    configured, _ = hosts_and_networks(_configured(stack))
    shown, _ = hosts_and_networks(PAGES[stack])
    assert configured - shown == set()


@pytest.mark.parametrize("stack", STACKS)
def test_every_subnet_the_stack_configures_is_in_the_handout(stack: str) -> None:
    _, configured = hosts_and_networks(_configured(stack))
    assert configured - _page_networks(PAGES[stack]) == set()


def _golden_files() -> str:
    return "\n".join(p.read_text() for p in SEED_GOLDEN.rglob("*") if p.is_file())


def test_dev_handout_carries_every_address_of_the_reviewed_seed_files() -> None:
    in_seed, _ = hosts_and_networks(_golden_files())
    shown, _ = hosts_and_networks(PAGES["dev"])
    assert in_seed - shown == set()


@pytest.mark.parametrize("machine", sorted(p.name for p in SEED_GOLDEN.iterdir()))
def test_dev_handout_names_each_seed_machine(machine: str) -> None:
    assert f"<h3>{machine} " in PAGES["dev"]


def test_handout_inlines_the_svg_without_its_xml_prologue() -> None:
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- Generated -->\n<svg id="d"></svg>\n'
    assert handout.inline_svg(svg) == '<svg id="d"></svg>\n'


def test_the_outputs_point_into_the_stack_folder(tmp_path: Path) -> None:
    assert handout.paths(tmp_path, "ci")["handout"] == f"{tmp_path}/handouts/ci/handout.html"
