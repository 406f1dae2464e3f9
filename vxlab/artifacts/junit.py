"""JUnit XML of judged steps, for a CI that shows test reports: a suite per stack, a case per
step, a failure for each step not done (what was seen, expected, and the hint). `vxlab grade`
and `vxlab check` write one suite; `vxlab class grade` a suite per group."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from vxlab.features.spec import DONE
from vxlab.live.judging import Graded


def suite(
    stack: str, graded: Sequence[Graded], seconds: float, parent: ET.Element | None = None, error: str = ""
) -> ET.Element:
    """One stack's suite (under `parent` when given); `error`: why the stack could not be judged."""
    attrs = {
        "name": f"vxlab-grade-{stack}",
        "tests": str(len(graded)),
        "failures": str(sum(g.verdict != DONE for g in graded)),
        "time": f"{seconds:.1f}",
    }
    if error:
        attrs["errors"] = "1"
    element = ET.Element("testsuite", attrs) if parent is None else ET.SubElement(parent, "testsuite", attrs)
    if error:
        ET.SubElement(ET.SubElement(element, "testcase", name="graded"), "error", message=error)
    for g in graded:
        case = ET.SubElement(element, "testcase", classname=f"{stack}.§{g.section}", name=f"{g.machine}: {g.name}")
        if g.verdict != DONE:
            ET.SubElement(
                case, "failure", message=f"{g.verdict}: {g.observed}", type=g.verdict
            ).text = f"expected: {g.expected}\nhint: {g.hint}"
        ET.SubElement(case, "system-out").text = g.observed
    return element


def text(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode", xml_declaration=True)
