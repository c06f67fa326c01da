"""Feedback pages typeset their mathematics offline, in headless Chromium.

Each solution notebook's feedback page (the course's exporter, template and sanitiser) is
opened from disk with the network off and every host name unresolvable. Every formula is a
``<math>`` element that Chromium lays out as mathematics (fractions stacked, superscripts
raised), no raw ``$$`` or ``\\frac`` is left in the text, and no request leaves the page. A
student's hostile LaTeX runs nothing there either.
"""

import re

import nbformat
import pytest

from pixelschool_admin.grading.results import mathml
from pixelschool_admin.paths import SOLUTIONS_DIR
from tests.grading.results import test_browser as lab
from tests.grading.results.test_browser_active_content import ACTIVE_IN_PAGE
from tests.grading.results.test_mathml import HOSTILE_LATEX
from tests.grading.results.test_sanitise import MARK, notebook, output_cell, page

sync_api = lab.sync_api
artifacts = lab.artifacts  # the fixture

pytestmark = pytest.mark.xdist_group("browser")

ICON_FONT = re.compile(r"/fonts/glyphicons-halflings-regular\.\w+$")  # bootstrap.min.css
VIEWPORT = {"width": 1200, "height": 900}
OFFLINE_ARGS = [*lab.CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND"]
# What Chromium made of the page's maths: boxes, layout, and text left as LaTeX.
TYPESET = """() => {
  const maths = [...document.querySelectorAll("math")];
  const box = el => el.getBoundingClientRect();
  const fractions = [...document.querySelectorAll("mfrac")];
  const powers = [...document.querySelectorAll("msup")];
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest("code, pre, math, style")) continue;
    if (/\\$|\\\\(frac|partial|sum|begin)/.test(node.data)) raw.push(node.data.slice(0, 80));
  }
  return {
    maths: maths.length,
    flat: maths.filter(m => box(m).width <= 0 || box(m).height <= 0).length,
    pageWidth: document.documentElement.scrollWidth,
    tallest: Math.max(...maths.map(m => box(m).height)),
    displays: [...new Set(maths.map(m => getComputedStyle(m).display))],
    fractions: fractions.length,
    stacked: fractions.filter(f => box(f.children[0]).bottom <= box(f.children[1]).top + 1).length,
    powers: powers.length,
    raised: powers.filter(p => box(p.children[1]).bottom < box(p.children[0]).bottom).length,
    raw: raw,
  };
}"""


def feedback_notebook(path):
    """A solution notebook as graded: nbgrader's scores in its graded cells."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") or grading.get("task"):
            grading.update(score=grading.get("points", 0), points=grading.get("points", 0))
    return nb


def formulas(nb):
    return sum(len(mathml.formulas(c.source)) for c in nb.cells if c.cell_type == "markdown")


@pytest.fixture(scope="module")
def offline_page():
    """A page in Chromium with the network off; (page, {url: failed?} of its requests)."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(lab.CHROMIUM), headless=True, args=OFFLINE_ARGS
        )
        context = chromium.new_context(viewport=VIEWPORT, offline=True)
        context.set_default_timeout(lab.WAIT_MS)
        requests = {}
        context.on("request", lambda request: requests.setdefault(request.url, False))
        context.on("requestfailed", lambda request: requests.update({request.url: True}))
        try:
            yield context.new_page(), requests
        finally:
            chromium.close()


def open_offline(browser_page, requests, path):
    """Open ``path``; what :data:`TYPESET` finds there. Nothing is fetched but the page: the
    only other requests are for the icon fonts nbgrader's stylesheet names, and the page's
    policy refuses them."""
    requests.clear()
    browser_page.goto(path.as_uri())
    browser_page.wait_for_load_state("networkidle")
    assert requests.pop(path.as_uri()) is False
    assert all(url.startswith("file:") and ICON_FONT.search(url) for url in requests), requests
    assert all(requests.values()), requests  # refused
    return browser_page.evaluate(TYPESET)


@pytest.mark.parametrize("name", ["02_knn", "03_softmax", "04_backprop", "05_mlp", "07_keras_cnn"])
def test_feedback_maths_is_typeset_offline(name, offline_page, tmp_path, artifacts):
    browser_page, requests = offline_page
    nb = feedback_notebook(SOLUTIONS_DIR / f"{name}.ipynb")
    path = tmp_path / f"{name}.html"
    path.write_text(page(nb), encoding="utf-8")
    shown = open_offline(browser_page, requests, path)
    assert shown["maths"] == formulas(nb) > 0
    assert shown["flat"] == 0 and set(shown["displays"]) <= {"math", "block math"}, shown
    assert shown["stacked"] == shown["fractions"] and shown["raised"] == shown["powers"], shown
    assert shown["fractions"] + shown["powers"] > 0
    assert shown["raw"] == []
    browser_page.locator("math[display=block]").first.scroll_into_view_if_needed()
    lab.screenshot(browser_page, artifacts, f"feedback-maths-{name}.png")


def test_a_students_latex_runs_nothing_offline(offline_page, tmp_path, artifacts):
    browser_page, requests = offline_page
    sources = [f"${tex}$ and $${tex}$$" for tex in HOSTILE_LATEX]
    nb = notebook([nbformat.v4.new_markdown_cell(source) for source in sources])
    nb.cells += [output_cell({"text/latex": source, "text/plain": "x"}, {}) for source in sources]
    path = tmp_path / "hostile.html"
    path.write_text(page(nb), encoding="utf-8")
    shown = open_offline(browser_page, requests, path)
    assert shown["maths"] == 4 * len(HOSTILE_LATEX), shown
    assert shown["pageWidth"] <= VIEWPORT["width"] and shown["tallest"] < 100, shown  # no overlay
    lab.screenshot(browser_page, artifacts, "feedback-maths-hostile.png")
    assert MARK not in browser_page.title()
    assert (
        browser_page.evaluate(ACTIVE_IN_PAGE, browser_page.locator("body").element_handle()) == []
    )
