"""The lab model from the Pulumi stack config (the only place that reads pulumi.Config)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from vxlab.collisions import check_collisions
from vxlab.errors import NAMESPACE
from vxlab.load import build_lab, list_stacks, load_lab
from vxlab.model import Lab


def stack_config() -> dict[str, Any]:
    """The stack's `vxlab:` keys that name a model field, parsed as the YAML file states them."""
    config = pulumi.Config(NAMESPACE)
    return {name: config.get_object(name) for name in Lab.model_fields if config.get(name) is not None}


def load_checked_lab(project_dir: Path) -> Lab:
    """This stack's model, checked against every other stack file of the project."""
    stack = pulumi.get_stack()
    lab = build_lab(stack_config())
    others = {s: load_lab(project_dir, s) for s in list_stacks(project_dir) if s != stack}
    check_collisions({stack: lab, **others})
    return lab
