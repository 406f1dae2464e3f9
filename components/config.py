"""The lab model of the stack being deployed: read from its stack file by the same loader as
`vxlab validate`, so both refuse the same inputs with the same line."""

from __future__ import annotations

from pathlib import Path

import pulumi

from vxlab.model.lab import Lab
from vxlab.validate.load import load_checked


def load_checked_lab(project_dir: Path) -> Lab:
    """This stack's model, checked against every other stack file of the project."""
    return load_checked(project_dir, pulumi.get_stack(), warn=pulumi.log.warn)
