"""The handout and the class page in a real headless Chromium: no console error, no missing
resource, a screenshot and a PDF; and the watcher does see a broken page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PROJECT
from vxlab.artifacts import handout
from vxlab.artifacts.browser import open_page
from vxlab.cli import main as vxlab_main
from vxlab.validate.load import load_lab

SCREENSHOTS = Path(__file__).resolve().parent.parent / "out" / "screenshots"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def dev_handout(tmp_path_factory: pytest.TempPathFactory) -> handout.Written:
    return handout.write(load_lab(PROJECT, "dev"), "dev", tmp_path_factory.mktemp("handout"))


def test_the_handout_loads_without_a_console_error_or_a_missing_resource(dev_handout: handout.Written) -> None:
    with open_page(dev_handout.html) as page:
        assert page.problems == []


def test_the_handout_shows_the_diagram(dev_handout: handout.Written) -> None:
    with open_page(dev_handout.html) as page:
        width = page.evaluate("document.querySelector('#topology svg').getBoundingClientRect().width")
    assert width > 600


def test_a_screenshot_of_the_handout_is_kept_for_ci(dev_handout: handout.Written) -> None:
    with open_page(dev_handout.html) as page:
        shot = page.screenshot()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "handout-dev.png").write_bytes(shot)
    assert shot.startswith(PNG)


def test_the_handout_pdf_puts_the_diagram_on_a_landscape_page(dev_handout: handout.Written) -> None:
    assert dev_handout.pdf is not None
    boxes = dev_handout.pdf.read_bytes().count(b"/MediaBox [0 0 841.91998 594.95996]")
    assert boxes == 1


@pytest.mark.parametrize(
    ("body", "reported"),
    [
        ('<img src="missing.png">', "missing.png"),
        ('<link rel="stylesheet" href="gone.css">', "gone.css"),
        ('<script>console.error("boom")</script>', "console error: boom"),
        ("<script>undefined_call()</script>", "undefined_call is not defined"),
    ],
)
def test_the_watcher_reports_what_breaks_a_page(tmp_path: Path, body: str, reported: str) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(f"<!DOCTYPE html><title>broken</title>{body}")
    with open_page(broken) as page:
        assert reported in " | ".join(page.problems)


def test_the_class_page_loads_cleanly(tmp_path: Path) -> None:
    page_path = tmp_path / "class.html"
    vxlab_main(["class", "--project", str(PROJECT), "--no-state", "--html", str(page_path)])
    with open_page(page_path) as page:
        shot = page.screenshot()
        problems = page.problems
    (SCREENSHOTS / "class.png").write_bytes(shot)
    assert problems == []
