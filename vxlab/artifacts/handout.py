"""One self-contained HTML page per group: the diagram, the addressing plan, how to reach each
machine, the seed's section-7 checks and the failover exercise, all from the model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vxlab.artifacts import diagram
from vxlab.build.outputs import lab_outputs
from vxlab.build.render import render_template
from vxlab.live.bounds import VRRP_SCENARIOS, Fault, failback_bound, failover_bound, fault_of
from vxlab.live.checks import lab_checks
from vxlab.live.traffic import traffic_checks
from vxlab.model import addressing
from vxlab.model.lab import Lab
from vxlab.model.naming import stack_label
from vxlab.model.stages import SECTION_TITLES, STAGE_SECTIONS, STAGE_WORDS, chapter, section_title, vm_sections

TEMPLATE = "handout/handout.html.j2"


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    up: float
    back: float


@dataclass(frozen=True)
class Written:
    html: Path
    svg: Path
    png: Path
    pdf: Path | None


def inline_svg(svg: str) -> str:
    """Graphviz's SVG without its XML prologue and DOCTYPE, which HTML does not take inline."""
    return svg[svg.index("<svg") :]


@dataclass(frozen=True)
class Chapter:
    number: str
    vm: str
    title: str
    steps: list[tuple[str, str]]  # (section, title)


def students_chapters(lab: Lab) -> list[Chapter]:
    """The chapters of the seed the stage leaves to the students, with their steps."""
    built = STAGE_SECTIONS[lab.stage]
    return [
        Chapter(
            n,
            vm,
            section_title(n),
            sorted(((s, t) for s, t in SECTION_TITLES.items() if chapter(s) == n and "." in s), key=lambda st: st[0]),
        )
        for vm, n in vm_sections(lab).items()
        if n not in built
    ]


def html(lab: Lab, stack: str, svg: str) -> str:
    rows = addressing.interfaces(lab)
    plan = [(m, [i for i in rows if i.machine == m.name]) for m in addressing.machines(lab)]
    master = lab.master()
    primary = next(t for t in lab.tenants.values() if t.dhcp_server.role == "primary")
    return render_template(
        TEMPLATE,
        lab=lab,
        stack=stack,
        label=stack_label(lab.group),
        svg=inline_svg(svg),
        plan=plan,
        outputs=lab_outputs(lab),
        checks=lab_checks(lab) + traffic_checks(lab),
        master=master,
        backup=lab.peer_of(master),
        primary_tenant=primary,
        exercise=fault_of(lab, "probe-cut"),
        exercise_bound=failover_bound(lab, "probe-cut"),
        exercise_back=failback_bound(lab, "probe-cut"),
        stage_words=STAGE_WORDS[lab.stage],
        students_work=students_chapters(lab),
        scenarios=[
            Scenario(s, fault_of(lab, s), failover_bound(lab, s), failback_bound(lab, s)) for s in VRRP_SCENARIOS
        ],
    )


def write(lab: Lab, stack: str, out: Path, pdf: bool = True) -> Written:
    """`out/handout.html` (self-contained), `diagram.svg` and `.png`, and `handout.pdf` printed by
    a headless Chromium."""
    out.mkdir(parents=True, exist_ok=True)
    svg = diagram.write(lab, stack, out / "diagram.svg")
    png = diagram.write(lab, stack, out / "diagram.png")
    page = out / "handout.html"
    page.write_text(html(lab, stack, svg.read_text()))
    printed = None
    if pdf:
        from vxlab.artifacts.browser import open_page

        with open_page(page) as view:
            view.raise_for_problems()
            printed = out / "handout.pdf"
            printed.write_bytes(view.pdf())
    return Written(page, svg, png, printed)


def folder(project: Path, stack: str) -> Path:
    """Where scripts/lab-up leaves a stack's handout."""
    return project / "handouts" / stack


def paths(project: Path, stack: str) -> dict[str, str]:
    """The stack outputs that point a student to the handout, and how to make it again."""
    out = folder(project, stack)
    return {
        "handout": str(out / "handout.html"),
        "handout_pdf": str(out / "handout.pdf"),
        "diagram": str(out / "diagram.svg"),
        "handout_command": f"vxlab handout --stack {stack} --out {out} --force",
    }
