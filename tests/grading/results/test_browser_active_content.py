"""No student script reaches a browser: formgrader and feedback pages in headless Chromium.

Three students hand in notebook 01. Ana is honest: text, a table, a figure and markdown.
Mallory's outputs, an added markdown cell, its attachments and the notebook's metadata carry
every kind of active content; she is graded now. Oscar hands in the same, but his autograded
notebook is then written back as grading before the sanitiser left it, payloads and all: only
the pages' own sanitising stands between them and the browser. Each payload marks the page
it runs in and uses formgrader's API with the instructor's ``_xsrf`` cookie to give everyone
else 0 and its own submission 300 points of extra credit.

The instructor opens each submission in formgrader; each student's feedback page is opened
from disk. No payload runs, no request reaches the API, no grade changes (read from the
gradebook), Ana's text, table and figure still show, and the report names what was removed.
"""

import base64
import copy
import html
import json

import nbformat
import pytest

from pixelschool_admin.grading import events
from pixelschool_admin.grading.results import sanitise
from tests.grading.results import test_browser as lab

sync_api = lab.sync_api
browser, page, artifacts = lab.browser, lab.page, lab.artifacts  # the fixtures

pytestmark = pytest.mark.xdist_group("browser")

NOTEBOOK = lab.NOTEBOOK
HONEST, GRADED, GRADED_BEFORE = "ana", "mallory", "oscar"
MARK = "pixelschool-payload"  # in every URL a payload requests
ATTACK = """(function (kind) {
  document.title = "PWNED " + kind;
  window.pwned = (window.pwned || []).concat([kind]);
  var xsrf = decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || ["", ""])[1]);
  var api = "/formgrader/api/", mark = "?MARK=" + encodeURIComponent(kind);
  var json = function (response) { return response.json(); };
  fetch(api + "submitted_notebooks/" + window.assignment_id + "/" + window.notebook_id + mark)
    .then(json).then(function (submissions) { submissions.forEach(function (s) {
      fetch(api + "grades" + mark + "&submission_id=" + s.id).then(json).then(function (grades) {
        grades.forEach(function (g) {
          var mine = s.id === window.submission_id;
          fetch(api + "grade/" + g.id + mark, {method: "PUT", headers: {"X-XSRFToken": xsrf},
            body: JSON.stringify(mine ? {manual_score: g.max_score, extra_credit: 300}
                                      : {manual_score: 0, extra_credit: 0})});
        });
      });
    }); });
})""".replace("MARK", MARK)


def run(kind):
    """JavaScript for an attribute: the attack, as a handler or URL would hold it."""
    code = base64.b64encode(f"{ATTACK}({json.dumps(kind)})".encode()).decode()
    return f"eval(atob('{code}'))"


def script(kind):
    return f"<script>{ATTACK}({json.dumps(kind)})</script>"


def b64(text):
    return base64.b64encode(text.encode()).decode()


IFRAME = html.escape(f"<script>top.{run('iframe')}</script>")  # runs as the page itself
WIDTH = f"1 onerror={run('width')}"
SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{run("svg image")}"><rect/></svg>'
# (data, metadata) of each output the hostile cell displays: `display(data, raw=True, ...)`
OUTPUTS = [
    ({"text/html": script("script")}, {}),
    ({"text/html": f'<img src="x" onerror="{run("handler")}">'}, {}),
    ({"text/html": f'<svg onload="{run("svg onload")}">{script("svg script")}</svg>'}, {}),
    ({"text/html": f'<iframe srcdoc="{IFRAME}"></iframe>'}, {}),
    ({"text/html": f'<a href="javascript:{run("link")}">next exercise</a>'}, {}),
    ({"text/html": f'<object data="data:text/html;base64,{b64(script("object"))}"></object>'}, {}),
    ({"text/html": f'<embed src="data:text/html;base64,{b64(script("embed"))}">'}, {}),
    ({"text/html": script("isolated")}, {"text/html": {"isolated": True}}),
    ({"application/javascript": f"{ATTACK}('javascript output')"}, {}),
    ({"text/markdown": f'<img src="x" onerror="{run("markdown output")}">'}, {}),
    ({"text/latex": f'<img src="x" onerror="{run("latex output")}">'}, {}),
    ({"image/svg+xml": SVG, "text/plain": "a drawing"}, {}),
    ({"application/vnd.jupyter.widget-view+json": {"model_id": "pwned"}}, {}),
    # nbconvert writes the width into the <img> tag unquoted
    ({"image/png": "eA==", "text/plain": "a figure"}, {"image/png": {"width": WIDTH}}),
]
HOSTILE_CODE = (
    "import json\nfrom IPython.display import display\n"
    f"for _data, _metadata in json.loads({json.dumps(OUTPUTS)!r}):\n"
    "    display(_data, raw=True, metadata=_metadata)\n"
)
HOSTILE_MARKDOWN = f"""My notes. {script("markdown script")}

<img src="x" onerror="{run("markdown handler")}">
and [the next exercise](javascript:{run("markdown link")}).

```mermaid
<img src="x" onerror="{run("mermaid")}">
```

![drawing](attachment:drawing.svg)
"""
ATTACHMENTS = {
    "drawing.svg": {"image/svg+xml": b64(SVG)},
    "page.html": {"text/html": b64(script("attachment"))},
}
WIDGETS = {
    "application/vnd.jupyter.widget-state+json": {
        "version_major": 2,
        "version_minor": 0,
        "state": {
            "pwned": {
                "model_name": "HTMLModel",
                "model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0",
                "state": {"value": f'<img src="x" onerror="{run("widget")}">'},
            }
        },
    }
}
HONEST_CODE = """\
import matplotlib.pyplot as plt
import pandas as pd
print("honest text: accuracy 0.91")
display(pd.DataFrame({"class": ["cat", "dog"], "accuracy": [0.91, 0.87]}))
plt.plot([0, 1], [0, 1])
plt.title("honest figure")
plt.show()
"""
HONEST_MARKDOWN = """An honest answer: **one-hot** rows, $y_i \\in \\{0, 1\\}$, and

| k | acc |
|---|---|
| 1 | 0.27 |
"""
# Any element that runs script or embeds another document, any handler, any javascript: URL.
ACTIVE_IN_PAGE = """root => {
  const found = [];
  for (const el of root.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (["script", "iframe", "object", "embed", "base", "form", "frame"].includes(tag))
      found.push("<" + tag + ">");
    for (const a of el.attributes) {
      const value = a.value.trim().toLowerCase();
      if (a.name.startsWith("on") || value.startsWith("javascript:"))
        found.push(tag + " " + a.name + "=" + value.slice(0, 40));
    }
  }
  return found;
}"""


def submission(released, student):
    nb = copy.deepcopy(released)
    cells = nb.cells
    if student == HONEST:
        cells[lab.cell_index(cells, "one_hot")].source = lab.solution_code("one_hot")
        cells.append(nbformat.v4.new_code_cell(HONEST_CODE))
        cells.append(nbformat.v4.new_markdown_cell(HONEST_MARKDOWN))
        return nb
    markdown = nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN)
    markdown.attachments = copy.deepcopy(ATTACHMENTS)
    cells += [nbformat.v4.new_code_cell(HOSTILE_CODE), markdown]
    nb.metadata.widgets = copy.deepcopy(WIDGETS)
    return nb


def as_graded_before(path):
    """Put the payloads back into an autograded notebook, as grading before the sanitiser
    left it: raw outputs, markdown, attachments and widget state."""
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.source == HOSTILE_CODE)
    code.outputs = []
    for data, metadata in OUTPUTS:
        output = nbformat.v4.new_output("display_data", data=data)
        output.metadata = metadata
        code.outputs.append(output)
    markdown = nb.cells[-1]
    markdown.source, markdown.attachments = HOSTILE_MARKDOWN, copy.deepcopy(ATTACHMENTS)
    nb.metadata.widgets = copy.deepcopy(WIDGETS)
    path.chmod(0o644)  # autograded notebooks are read-only (root writes them anyway)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from pixelschool_admin.grading.course import Course
    from pixelschool_admin.grading.record.autograde import autograde
    from pixelschool_admin.grading.results.feedback import generate_feedback
    from pixelschool_admin.grading.settings import Settings

    course = Course(tmp_path_factory.mktemp("active") / "course")
    course.add_assignment(NOTEBOOK)
    released = nbformat.read(course.path("release", ".", NOTEBOOK) / f"{NOTEBOOK}.ipynb", 4)
    for student in (HONEST, GRADED, GRADED_BEFORE):
        folder = course.path("submitted", student, NOTEBOOK)
        folder.mkdir(parents=True)
        nbformat.write(submission(released, student), folder / f"{NOTEBOOK}.ipynb")
    outcomes = autograde(course, jobs=2, settings=Settings(timeout=60))
    assert all(o.ok for o in outcomes), [o.problems for o in outcomes]
    as_graded_before(course.path("autograded", GRADED_BEFORE, NOTEBOOK) / f"{NOTEBOOK}.ipynb")
    generate_feedback(course, NOTEBOOK)
    return course


def grades(course):
    """{student: [(grade id, manual score, extra credit)]} from the gradebook."""
    with course.gradebook() as gb:
        return {
            student: sorted(
                (g.name, g.manual_score, g.extra_credit)
                for g in gb.find_submission_notebook(NOTEBOOK, NOTEBOOK, student).grades
            )
            for student in (HONEST, GRADED, GRADED_BEFORE)
        }


def submission_ids(course):
    with course.gradebook() as gb:
        return {
            s: gb.find_submission_notebook(NOTEBOOK, NOTEBOOK, s).id
            for s in (HONEST, GRADED, GRADED_BEFORE)
        }


def assert_nothing_ran(page, title):
    expect = sync_api.expect
    expect(page).to_have_title(title)
    assert page.evaluate("window.pwned") is None
    assert (
        page.evaluate(ACTIVE_IN_PAGE, page.locator("#notebook-container").first.element_handle())
        == []
    )


def assert_honest_content_shows(page):
    expect = sync_api.expect
    container = page.locator("#notebook-container").first
    expect(container.get_by_text("honest text: accuracy 0.91", exact=True)).to_be_visible()
    expect(container.locator("table td").filter(has_text="0.87")).to_be_visible()
    answer = container.locator("p").filter(has_text="An honest answer")
    expect(answer.locator("strong")).to_have_text("one-hot")
    expect(answer.locator("math mi").first).to_have_text("y")  # MathML, with no MathJax
    assert answer.locator("math").evaluate("m => getComputedStyle(m).display") == "math"
    figure = container.locator('img[src^="data:image/png"]').last
    expect(figure).to_be_visible()
    assert figure.evaluate("img => img.complete && img.naturalWidth > 0")


def test_no_student_script_runs_in_formgrader_or_feedback(graded, page, artifacts):
    course, requests = graded, []
    before = grades(course)
    assert all(m is None and e is None for g in before.values() for _, m, e in g)
    page.context.on("request", lambda r: requests.append((r.method, r.url)))
    # formgrader's own template still loads MathJax from its CDN: offline here
    page.context.route("https://cdnjs.cloudflare.com/**", lambda route: route.abort())

    # The autograded notebooks: the graded one holds no payload; the honest one is as written.
    for student in (HONEST, GRADED):
        nb = nbformat.read(course.path("autograded", student, NOTEBOOK) / f"{NOTEBOOK}.ipynb", 4)
        assert sanitise.sanitise_notebook(copy.deepcopy(nb)) == [], student
    honest = nbformat.read(course.path("autograded", HONEST, NOTEBOOK) / f"{NOTEBOOK}.ipynb", 4)
    assert honest.cells[-1].source == HONEST_MARKDOWN

    ids = submission_ids(course)
    with lab.jupyter_lab(course.root, course.root.parent / "lab") as (url, token):
        page.goto(f"{url}/formgrader?token={token}")  # logs the instructor in
        sync_api.expect(page.get_by_role("heading", name="Manage Assignments")).to_be_visible()
        for student in (GRADED, GRADED_BEFORE, HONEST):
            page.goto(f"{url}/formgrader/submissions/{ids[student]}/")
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)  # a payload's requests would be on their way
            lab.screenshot(page, artifacts, f"formgrader-{student}.png")
            assert_nothing_ran(page, NOTEBOOK)
        assert_honest_content_shows(page)

    served = len(requests)
    for student in (GRADED, GRADED_BEFORE, HONEST):
        path = course.root / "feedback" / student / NOTEBOOK / f"{NOTEBOOK}.html"
        page.goto(path.as_uri())
        page.wait_for_load_state("networkidle")
        lab.screenshot(page, artifacts, f"feedback-{student}.png")
        assert_nothing_ran(page, NOTEBOOK)
        policy = page.locator('meta[http-equiv="Content-Security-Policy"]')
        assert policy.get_attribute("content") == sanitise.CONTENT_SECURITY_POLICY
    assert_honest_content_shows(page)
    assert all(url.startswith("file:") for _, url in requests[served:])  # no network

    assert not [r for r in requests if MARK in r[1]]
    assert not [r for r in requests if r[0] not in ("GET", "HEAD")]
    assert grades(course) == before
    found = events.read(course)
    removed = found[found["kind"] == sanitise.KIND]
    assert set(removed["student"]) == {GRADED, GRADED_BEFORE}
    assert "<script>" in " ".join(removed["detail"])
