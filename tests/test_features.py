"""The feature registry: each feature states its files, checkers, services and seed sections
consistently, and every phase finds a feature through the registry alone."""

from __future__ import annotations

import re
from importlib import import_module

import pytest

from tests.conftest import PROJECT
from vxlab import features
from vxlab.base.errors import ConfigError
from vxlab.build.provision import vm_steps
from vxlab.build.render import FILES_DIR, render_lab
from vxlab.features import FEATURES, REGISTRY, checkers, files_of, packages_of, services_of
from vxlab.features.common import SYSCTL
from vxlab.features.spec import Feature, FileSpec, RuleContext
from vxlab.live.drift import expected_state
from vxlab.validate.load import load_lab

SEED = (PROJECT.parent / "shared" / "seed" / "vxlan-ovs-lxd-lab.txt").read_text()
SEED_SECTIONS = set(re.findall(r"^(\d+(?:\.\d+)*) \S", SEED, re.M))
SPECS = [(f.name, spec) for f in REGISTRY for spec in f.files]


def spec_id(case: tuple[str, FileSpec]) -> str:
    return f"{case[0]}:{case[1].role}:{case[1].template}"


@pytest.mark.parametrize("case", SPECS, ids=spec_id)
def test_every_file_kind_has_a_checker(case: tuple[str, FileSpec]) -> None:
    assert case[1].kind in checkers()


@pytest.mark.parametrize("case", SPECS, ids=spec_id)
def test_every_template_exists(case: tuple[str, FileSpec]) -> None:
    assert (FILES_DIR / case[1].template).is_file()


@pytest.mark.parametrize("feature", REGISTRY, ids=lambda f: f.name)
def test_a_feature_names_sections_of_the_seed_or_none_when_it_adds_to_it(feature: Feature) -> None:
    assert set(feature.seed_sections) <= SEED_SECTIONS


@pytest.mark.parametrize("name", FEATURES)
def test_a_registered_module_is_the_feature_s_home(name: str) -> None:
    """A feature is found by its line in FEATURES: its module holds it."""
    assert import_module(f"vxlab.features.{name}").FEATURE in REGISTRY


@pytest.mark.parametrize("feature", REGISTRY, ids=lambda f: f.name)
def test_a_service_is_restarted_by_a_file_of_its_feature(feature: Feature) -> None:
    paths = {(spec.role, spec.path) for spec in feature.files}
    assert {(role, path) for role, services in feature.services.items() for path in services.values()} <= paths


def test_feature_names_are_unique() -> None:
    assert len({f.name for f in REGISTRY}) == len(REGISTRY)


@pytest.mark.parametrize("role", ["host", "router", "tenant", "dhcp-server", "client"])
def test_a_role_writes_each_path_once(role: str) -> None:
    lab = load_lab(PROJECT, "dev")
    paths = [spec.path_for(lab) for spec in files_of(role)]  # type: ignore[arg-type]
    assert len(paths) == len(set(paths))


def test_two_features_may_not_check_one_kind_two_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    other = Feature(
        "other", "another sysctl checker", ("4.1",), checkers={"sysctl": SYSCTL.__class__("x", SYSCTL.check, ())}
    )
    monkeypatch.setattr(features, "REGISTRY", (*REGISTRY, other))
    with pytest.raises(ValueError, match="other checks sysctl files"):
        checkers()


# A feature added through the registry alone: its file is rendered, installed, checked and its
# service watched, with no phase naming it.
EXAMPLE = Feature(
    name="example",
    title="an example feature",
    seed_sections=("4.1",),
    files=(FileSpec("router", "common/sysctl-routing.j2", "/etc/example.conf", "example", reload="true"),),
    packages={"router": ("example-package",)},
    services={"router": {"example": "/etc/example.conf"}},
    checkers={"example": SYSCTL},
)


@pytest.fixture
def with_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(features, "REGISTRY", (*REGISTRY, EXAMPLE))


@pytest.mark.usefixtures("with_example")
def test_a_registered_feature_s_file_is_rendered() -> None:
    router = next(m for m in render_lab(load_lab(PROJECT, "dev")) if m.role == "router")
    assert router.file("/etc/example.conf").kind == "example"


@pytest.mark.usefixtures("with_example")
def test_a_registered_feature_s_file_is_installed_and_reloaded() -> None:
    lab = load_lab(PROJECT, "dev")
    router = next(m for m in render_lab(lab) if m.role == "router")
    step = next(s for s in vm_steps(lab, router) if s.name == "file:/etc/example.conf")
    assert step.create.endswith("&& true")


@pytest.mark.usefixtures("with_example")
def test_a_registered_feature_s_packages_are_installed() -> None:
    assert "example-package" in packages_of("router")


@pytest.mark.usefixtures("with_example")
def test_a_registered_feature_s_service_is_watched_for_drift() -> None:
    assert services_of("router")["example"] == "/etc/example.conf"
    watched = {e.what for e in expected_state(load_lab(PROJECT, "dev"), "dev")}
    assert "service example" in watched


@pytest.mark.usefixtures("with_example")
def test_a_registered_feature_s_checker_is_found() -> None:
    assert checkers()["example"] is SYSCTL


def _refuse_every_lab(r: RuleContext) -> None:
    r.fail((("segment", "mtu"),), "refused by the example feature", "unregister it")


def test_a_registered_feature_s_rules_judge_the_lab(monkeypatch: pytest.MonkeyPatch) -> None:
    strict = Feature("strict", "a feature with a rule", (), rules=_refuse_every_lab)
    monkeypatch.setattr(features, "REGISTRY", (*REGISTRY, strict))
    with pytest.raises(ConfigError, match="refused by the example feature"):
        load_lab(PROJECT, "dev")
