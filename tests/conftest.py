from __future__ import annotations

from pathlib import Path

import pytest

from vxlab.load import list_stacks, load_lab
from vxlab.model import Lab

PROJECT = Path(__file__).resolve().parent.parent
STACKS = list_stacks(PROJECT)


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def dev_lab() -> Lab:
    return load_lab(PROJECT, "dev")
