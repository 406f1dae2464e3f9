"""The code's layers: every module of vxlab lives in a layer package and imports only from its
own layer and the layers below (vxlab.LAYERS, lowest first)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab import LAYERS

PACKAGE = PROJECT / "vxlab"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def imported(path: Path) -> set[str]:
    """Every vxlab module `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {name for name in found if name.split(".")[0] == "vxlab"}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_no_higher_layer(path: Path) -> None:
    own = path.relative_to(PACKAGE).parts[0]
    higher = {
        name
        for name in imported(path)
        if (layer := layer_of(name)) is not None and LAYERS.index(layer) > LAYERS.index(own)
    }
    assert higher == set(), f"{path.relative_to(PROJECT)} ({own}) imports a higher layer"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_lives_in_a_layer(path: Path) -> None:
    assert path.relative_to(PACKAGE).parts[0] in LAYERS


def test_no_module_sits_outside_the_layers() -> None:
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py"]


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_is_a_package(layer: str) -> None:
    assert (PACKAGE / layer / "__init__.py").is_file()


def top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return names | {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_never_imports_the_pulumi_program(path: Path) -> None:
    """vxlab is the functional core: the program's components import it, never the reverse."""
    assert "components" not in top_level_names(path)


CORE = [p for p in MODULES if LAYERS.index(p.relative_to(PACKAGE).parts[0]) < LAYERS.index("engine")]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_below_the_engine_layer_nothing_imports_pulumi(path: Path) -> None:
    """Model, rules, rendering, checks and artifacts are tested in milliseconds without an engine."""
    assert "pulumi" not in top_level_names(path)
