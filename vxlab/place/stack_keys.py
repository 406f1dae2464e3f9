"""The hypervisor keys `vxlab class place` writes into a group's stack file: the file edited in
place (ruamel.yaml's round trip), so the instructor's comments, order and other keys stay."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from vxlab.base.errors import NAMESPACE
from vxlab.model.inventory import HypervisorEntry

NAMESPACE_KEY = f"{NAMESPACE}:hypervisor"


def write_placement(path: Path, entry: HypervisorEntry) -> None:
    """`hypervisor.libvirt_uri` and `hypervisor.ssh_host` of `entry` into the stack file."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # a libvirt URI on its own line, as a person writes it, not folded
    # `null` as the stack files spell it (ruamel would write an empty value).
    yaml.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    doc = yaml.load(path.read_text())
    config = doc["config"]
    hypervisor = config.get(NAMESPACE_KEY)
    if not isinstance(hypervisor, CommentedMap):
        hypervisor = CommentedMap()
        config[NAMESPACE_KEY] = hypervisor
    hypervisor["libvirt_uri"] = entry.libvirt_uri
    hypervisor["ssh_host"] = entry.ssh_host
    with path.open("w") as out:
        yaml.dump(doc, out)
