"""The dev stack renders, byte for byte, the files reviewed against the seed.

After a deliberate change, regenerate with `VXLAB_REGEN_GOLDEN=1 pytest tests/test_golden.py`
and review the diff against the seed before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.build.render import render_lab
from vxlab.validate.load import load_lab

GOLDEN = Path(__file__).parent / "golden" / "dev"
DEV = render_lab(load_lab(PROJECT, "dev"))
CASES = [pytest.param(m, f, id=f"{m.name}:{f.path}") for m in DEV for f in m.files]


@pytest.mark.parametrize(("machine", "rendered"), CASES)
def test_dev_file_matches_golden(machine, rendered) -> None:  # type: ignore[no-untyped-def]
    golden = GOLDEN / machine.name / rendered.path.lstrip("/")
    if os.environ.get("VXLAB_REGEN_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered.content)
    assert rendered.content == golden.read_text()


def test_every_golden_file_is_still_rendered() -> None:
    rendered = {f"{m.name}/{f.path.lstrip('/')}" for m in DEV for f in m.files}
    on_disk = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    assert on_disk == rendered
