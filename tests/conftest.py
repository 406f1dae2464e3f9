from __future__ import annotations

from pathlib import Path

import pytest

from vxlab.model.lab import Lab
from vxlab.validate.load import list_stacks, load_lab

PROJECT = Path(__file__).resolve().parent.parent
STACKS = list_stacks(PROJECT)


@pytest.fixture(scope="session")
def project() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def dev_lab() -> Lab:
    return load_lab(PROJECT, "dev")
