"""Rendering: every file the lab writes, per machine, from the validated model.

Which file each machine gets, from which template, is the features' (`vxlab.features`); templates
live in `files/` and see only the model and values derived from it;
StrictUndefined turns any missing value into an error instead of an empty string.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from vxlab.features import files_of
from vxlab.features.spec import Machine, RenderedFile, Role
from vxlab.model.lab import Lab, Stage, Tenant
from vxlab.model.mtu import UPSTREAM_MTU, router_nic_mtu, tunnel_remote
from vxlab.model.naming import stack_label
from vxlab.model.stages import built_vms

FILES_DIR = Path(__file__).resolve().parents[2] / "files"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(FILES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # XML and HTML templates escape every value; the other files are not markup.
        autoescape=jinja2.select_autoescape(enabled_extensions=("xslt.j2", "html.j2"), default_for_string=False),
    )


def render_template(name: str, **context: Any) -> str:
    return _env().get_template(name).render(context)


def _tenant_view(lab: Lab, color: str, t: Tenant) -> dict[str, Any]:
    return {**t.__dict__, "color": color, "subif": lab.router_subif(t.link_vlan)}


class _Renderer:
    """Renders each machine's files as the registry's features state them, in registry order."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.label = stack_label(lab.group)
        self.base: dict[str, Any] = {
            **{name: getattr(lab, name) for name in type(lab).model_fields},
            "label": self.label,
            "managed": f"Managed by vxlab ({self.label}): edit the stack config, not this file.",
            "tenants": [_tenant_view(lab, c, t) for c, t in lab.tenants.items()],
            "up_if": lab.router_subif(lab.upstream.vlan),
            "upstream_net4": lab.upstream.host_ipv4.network,
            "upstream_net6": lab.upstream.host_ipv6.network,
            "router_mtu": router_nic_mtu(lab),
            "upstream_mtu": UPSTREAM_MTU,
        }

    def machine(self, name: str, role: Role, tenant: Tenant | None = None) -> Machine:
        lab = self.lab
        own: dict[str, Any] = {}
        if tenant is not None:
            own = {"tenant": tenant, "peer": lab.peer_of(tenant), "tunnel_remote": tunnel_remote(lab, tenant)}
        files = []
        for spec in files_of(role):
            extra = spec.context(lab, tenant, name) if spec.context else {}
            content = _env().get_template(spec.template).render({**self.base, **own, **extra})
            files.append(RenderedFile(spec.path_for(lab), content, spec.kind, spec.mode))
        return Machine(name, role, tuple(files))


def render_lab(lab: Lab) -> list[Machine]:
    """Every machine of the lab with every file vxlab writes on it."""
    r = _Renderer(lab)
    machines = [r.machine("host", "host"), r.machine(lab.router.name, "router")]
    for t in lab.tenants.values():
        machines.append(r.machine(t.name, "tenant", t))
        machines.append(r.machine(t.dhcp_server.name, "dhcp-server", t))
        machines.extend(r.machine(c, "client", t) for c in t.clients)
    return machines


def plan_lab(lab: Lab, stage: Stage | None = None) -> list[Machine]:
    """What `pulumi up` installs at `stage` (the lab's own by default): the host side always
    (every stage builds §3), a VM and its containers only where the stage has vxlab configure it;
    below that the VM is the students' and vxlab writes nothing on it. Render, validate, drift,
    catch-up and the components all read this one plan."""
    built = set(built_vms(lab, stage or lab.stage))
    for t in lab.tenants.values():
        if t.name in built:
            built |= {t.dhcp_server.name, *t.clients}
    return [m for m in render_lab(lab) if m.role == "host" or m.name in built]


def write_tree(machines: list[Machine], out: Path) -> list[Path]:
    """`out/<machine>/<absolute path>` for every file; returns what was written."""
    written = []
    for machine in machines:
        for f in machine.files:
            target = out / machine.name / f.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.content)
            target.chmod(f.mode)
            written.append(target)
    return written
