"""No student script reaches a browser: each kind of active content, as a student would put it
in outputs, markdown, attachments or metadata, is gone from the page nbgrader makes of the
notebook; honest content (text, images, tables, math, the course's own notebooks) is not
touched. The pages themselves, in a real browser: ``test_browser_active_content.py``."""

import base64
import copy
import json
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbconvert.exporters import HTMLExporter

from pixelschool.checks.framework import RESULTS_MIME
from pixelschool_admin.grading import events, incidents
from pixelschool_admin.grading.course import NBGRADER_AUTOGRADE, Course
from pixelschool_admin.grading.results import sanitise
from pixelschool_admin.grading.results.report import write_report
from pixelschool_admin.paths import NOTEBOOKS_DIR, SOLUTIONS_DIR

MARK = "PWNED"  # what every payload would run
RUN = f"document.title='{MARK}'"
SVG_SCRIPT = (
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="{RUN}"><script>{RUN}</script>'
    '<rect width="1" height="1"/></svg>'
)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()

# (what, a display_data output's data, its metadata): as `display(data, raw=True, metadata=...)`
OUTPUTS = [
    ("script", {"text/html": f"<script>{RUN}</script>"}, {}),
    ("handler", {"text/html": f'<img src="x" onerror="{RUN}">'}, {}),
    ("javascript: link", {"text/html": f'<a href="javascript:{RUN}">next</a>'}, {}),
    ("iframe", {"text/html": f'<iframe srcdoc="<script>{RUN}</script>"></iframe>'}, {}),
    ("object", {"text/html": f'<object data="data:text/html,<script>{RUN}</script>">'}, {}),
    ("embed", {"text/html": f'<embed src="data:text/html,<script>{RUN}</script>">'}, {}),
    ("svg in html", {"text/html": SVG_SCRIPT}, {}),
    ("svg output", {"image/svg+xml": SVG_SCRIPT, "text/plain": "figure"}, {}),
    ("form", {"text/html": f'<form action="javascript:{RUN}"><button>ok</button></form>'}, {}),
    ("meta refresh", {"text/html": '<meta http-equiv="refresh" content="0;url=javascript:x">'}, {}),
    ("base", {"text/html": '<base href="https://evil.example/">'}, {}),
    ("javascript output", {"application/javascript": RUN}, {}),
    ("markdown output", {"text/markdown": f'<img src="x" onerror="{RUN}">'}, {}),
    ("latex output", {"text/latex": f'<img src="x" onerror="{RUN}">'}, {}),
    ("widget", {"application/vnd.jupyter.widget-view+json": {"model_id": "m1"}}, {}),
    ("mermaid", {"text/vnd.mermaid": f'graph TD; A["<img src=x onerror={RUN}>"]'}, {}),
    (
        "unquoted width",
        {"image/png": "eA=="},
        {"image/png": {"width": f"1 onerror={RUN.replace(chr(39), '')}"}},
    ),
    ("isolated html", {"text/html": f"<script>{RUN}</script>"}, {"text/html": {"isolated": True}}),
    ("file name", {"image/png": PNG}, {"filenames": {"image/png": "javascript:x"}}),
]
MARKDOWN = [
    ("script", f"An answer.\n\n<script>{RUN}</script>"),
    ("handler", f'An answer <img src="x" onerror="{RUN}"> inline.'),
    ("javascript: link", f"[see here](javascript:{RUN})"),
    ("mermaid fence", f'```mermaid\n<img src="x" onerror="{RUN}">\n```'),
    ("iframe", f'<iframe srcdoc="<script>{RUN}</script>"></iframe>'),
    ("svg", SVG_SCRIPT),
    ("blank line", f"<div>\n\n[x](javascript:{RUN})\n</div>"),
    ("missing attachment", "![x](attachment:nothing.png)"),
]


EMBEDDING = ("iframe", "object", "embed", "base", "form")


class Active(HTMLParser):
    """What of a page would run: the payload in a script or a handler, a ``javascript:``
    URL, an element that runs or embeds a document."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.found, self._in_script = [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        if (
            tag in ("iframe", "object", "embed", "base", "form")
            or ("http-equiv", "refresh") in attrs
        ):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on") or value.startswith("javascript:"):
                self.found.append(f"{tag} {name}={value[:40]}")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARK in data:
            self.found.append("<script> with the payload")


def page(nb, **sanitiser):
    """The feedback page nbgrader makes of ``nb`` with the course's settings (and these of
    ``SanitiseNotebook``, as ``admin/nbgrader_config.py`` would set them)."""
    settings = sanitise.page_config()
    exporter_config = copy.deepcopy(settings.HTMLExporter)
    exporter_config.merge(settings.GenerateFeedback.HTMLExporter)
    bootstrap = Path(sanitise.nbgrader.__file__).parent / "server_extensions/formgrader/static"
    exporter_config.extra_template_paths = [str(bootstrap / "node_modules/bootstrap/dist/css")]
    config = type(settings)(HTMLExporter=exporter_config, SanitiseNotebook=sanitiser)
    exporter = HTMLExporter(config=config)
    resources = {"nbgrader": {"notebook": "n", "score": 0, "max_score": 1, "late_penalty": 0}}
    return exporter.from_notebook_node(nb, resources=resources)[0]


def notebook(cells, **metadata):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update(metadata)
    return nb


def output_cell(data, metadata):
    output = nbformat.v4.new_output("display_data", data=copy.deepcopy(data))
    output.metadata = copy.deepcopy(metadata)
    return nbformat.v4.new_code_cell("show()", outputs=[output])


def unsanitised_page(nb):
    """The page as nbgrader's own settings make it: no sanitiser (the test can fail)."""
    exporter = HTMLExporter(template_name="classic")
    return exporter.from_notebook_node(nb)[0]


# nbconvert's classic page (nbgrader's) shows these inert even unsanitised; other viewers may not
INERT_IN_CLASSIC = {"latex output", "svg output", "widget", "mermaid"}


@pytest.mark.parametrize("what, data, metadata", OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_active_content_in_outputs_is_removed(what, data, metadata):
    nb = notebook([output_cell(data, metadata)])
    if what not in INERT_IN_CLASSIC:
        assert Active(unsanitised_page(nb)).found  # the payload would run: the test can fail
    found = sanitise.sanitise_notebook(nb)
    assert not Active(page(nb)).found
    assert bool(found) == (what != "latex output"), found  # LaTeX: escaped, typeset safely


@pytest.mark.parametrize("what, source", MARKDOWN, ids=[m[0] for m in MARKDOWN])
def test_active_content_in_markdown_is_removed(what, source):
    nb = notebook([nbformat.v4.new_markdown_cell(source)])
    found = sanitise.sanitise_notebook(nb)
    assert found and nb.cells[0].source != source
    assert not Active(page(nb)).found
    again = copy.deepcopy(nb)
    assert not sanitise.sanitise_notebook(again) and again == nb  # a fixed point


def test_no_student_element_becomes_a_formgrader_control():
    answer = '<span class="btn btn-success full-credit tabbable">See my diagram</span>'
    clean, removed = sanitise.sanitise_html(answer + '<b class="score">10</b>')
    assert clean == '<span class="btn btn-success">See my diagram</span><b>10</b>'
    assert removed == ["class"]


def test_attachments_keep_images_only_and_widget_state_goes():
    svg = base64.b64encode(SVG_SCRIPT.encode()).decode()
    cell = nbformat.v4.new_markdown_cell("![figure](attachment:figure.png)")
    cell.attachments = {"figure.png": {"image/png": PNG, "text/html": "PGI+"}}
    cell.attachments["drawing.svg"] = {"image/svg+xml": svg}
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {"state": {}}}}}
    nb = notebook([cell], widgets=widgets, title="<script>x</script>")
    found = dict(sanitise.sanitise_notebook(nb))
    assert found["notebook"] == ["widget state"]
    assert found["markdown cell 1"] == ["text/html attachment"]
    assert cell.attachments == {
        "figure.png": {"image/png": PNG},
        "drawing.svg": cell.attachments["drawing.svg"],
    }
    assert set(nb.metadata) <= sanitise.NOTEBOOK_METADATA
    assert cell.source == "![figure](attachment:figure.png)"  # an image: the text stays


def test_cell_metadata_keeps_nbgrader_and_drops_the_rest():
    cell = nbformat.v4.new_code_cell("x")
    cell.metadata = {
        "nbgrader": {"grade_id": "a"},
        "tags": ["t"],
        "trusted": True,
        "jupyter": {"source_hidden": True},  # would hide the code from the grader
        "alt": "x",
    }
    sanitise.sanitise_notebook(notebook([cell]))
    assert cell.metadata == {"nbgrader": {"grade_id": "a"}, "tags": ["t"]}


def test_honest_outputs_are_kept():
    table = pd.DataFrame({"class": ["cat", "dog"], "accuracy": [0.91, 0.87]})._repr_html_()
    outputs = [
        ({"text/plain": "accuracy 0.91"}, {}),
        ({"image/png": PNG, "text/plain": "<Figure>"}, {"image/png": {"width": 300}}),
        ({"text/html": table, "text/plain": "table"}, {}),
        ({"text/latex": r"$\alpha^2$", "text/plain": "a"}, {}),
        ({"text/markdown": "**bold** and $x < y$", "text/plain": "md"}, {}),
        ({RESULTS_MIME: {"exercise": "one_hot"}, "text/plain": "results"}, {}),
    ]
    nb = notebook([output_cell(data, metadata) for data, metadata in outputs])
    before = copy.deepcopy(nb)
    assert sanitise.sanitise_notebook(nb) == []
    for cell, old in zip(nb.cells, before.cells):
        data, was = cell.outputs[0].data, old.outputs[0].data
        assert set(data) == set(was)
        for mime in set(was) - {"text/html"}:
            assert data[mime] == was[mime]
    assert nb.cells[1].outputs[0].metadata == {"image/png": {"width": 300}}
    shown = page(nb)
    assert "<table" in shown and "cat" in shown and "0.87" in shown
    assert f"data:image/png;base64,{PNG}" in shown


def test_only_the_course_stylesheet_keeps_its_style_element():
    from pixelschool.style import STYLESHEET

    course = f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style>"
    overlay = "<style>body * {display: none} body::after {content: 'Score: 12 / 12'}</style>"
    nb = notebook([output_cell({"text/html": html}, {}) for html in (course, overlay)])
    assert sanitise.sanitise_notebook(nb) == []  # a style element is inert: not reported
    assert nb.cells[0].outputs[0].data["text/html"] == course
    assert nb.cells[1].outputs[0].data["text/html"] == ""


def test_honest_svg_figures_are_kept():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    ax.imshow([[0, 1], [1, 0]])
    ax.set_title("loss <per epoch> & accuracy")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    assert sanitise.inert_svg(buffer.getvalue())
    assert not sanitise.inert_svg(SVG_SCRIPT)


def test_honest_markdown_is_kept_as_written():
    sources = [
        "# Answer\n\nThe loss is $-\\log(1/10) \\approx 2.303$; with $x < y$ and $$\\sum_i p_i$$.",
        "| k | accuracy |\n|---|---|\n| 1 | 0.27 |\n\n```python\nx = np.eye(3)[y]\n```",
        "<details><summary>hint</summary>\n\nUse `np.eye`.\n</details>\n\nA [link](https://x.org).",
        "- one\n- two *emphasis* and **bold**, ~~struck~~<br>next line<sub>2</sub>",
    ]
    for source in sources:
        assert sanitise.sanitise_markdown(source) == (source, [])


@pytest.mark.parametrize("folder", [SOLUTIONS_DIR, NOTEBOOKS_DIR], ids=["solutions", "notebooks"])
def test_the_course_notebooks_pass_unchanged(folder):
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        before = copy.deepcopy(nb)
        assert sanitise.sanitise_notebook(nb) == [], path.name
        assert [c.source for c in nb.cells] == [c.source for c in before.cells], path.name
        assert [c.get("outputs") for c in nb.cells] == [c.get("outputs") for c in before.cells]


def test_what_was_removed_is_reported_as_an_event(tmp_path):
    log = tmp_path / "removed.jsonl"
    nb = notebook([output_cell({"text/html": f"<script>{RUN}</script><b>kept</b>"}, {})])
    nb.cells[0].metadata = {"nbgrader": {"grade_id": "one_hot"}}
    sanitise.SanitiseNotebook(incident_log=str(log)).preprocess(nb, {})
    (event,) = incidents.incident_events(log, "01", "mallory")
    assert event.kind == sanitise.KIND and event.kind in events.KINDS
    assert event.detail == "code cell 1 (one_hot): removed <script>"


def test_the_course_runs_the_sanitiser_after_the_judge_and_in_every_page(tmp_path):
    from pixelschool_admin.grading.record.autograde import Recorder

    judge = NBGRADER_AUTOGRADE.index("pixelschool_admin.grading.record.hidden.JudgeHiddenResults")
    assert (
        NBGRADER_AUTOGRADE[judge + 1]
        == "pixelschool_admin.grading.results.sanitise.SanitiseNotebook"
    )
    course = Course(tmp_path / "course")
    chain = Recorder(course).course.config.Autograde.autograde_preprocessors
    assert [c.rsplit(".", 1)[-1] for c in chain[:3]] == [
        "ReplayExecution",
        "JudgeHiddenResults",
        "SanitiseNotebook",
    ]
    for config in (course.config, _written_config(course)):
        assert config.HTMLExporter.preprocessors == [
            "pixelschool_admin.grading.results.sanitise.SanitiseNotebook",
            "pixelschool_admin.grading.results.sanitise.TrimmedCode",
        ]
        assert config.GenerateFeedback.HTMLExporter.template_name == "pixelschool_feedback"


def _written_config(course):
    """The course's own ``nbgrader_config.py``, as nbgrader's commands and formgrader load it."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()


def test_the_demo_class_script_in_output_leaves_nothing_to_run():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from pixelschool_admin.democlass import SCRIPT_IN_OUTPUT

    shell = InteractiveShell.instance()  # before the capture, which takes displays from it
    with capture_output() as shown:
        shell.run_cell(SCRIPT_IN_OUTPUT)
    outputs = [nbformat.v4.new_output("display_data", data=o.data) for o in shown.outputs]
    nb = notebook([nbformat.v4.new_code_cell(SCRIPT_IN_OUTPUT, outputs=outputs)])
    assert Active(unsanitised_page(nb)).found and MARK in nbformat.writes(nb)
    assert sanitise.sanitise_notebook(nb)
    assert MARK not in nbformat.writes(nb) and MARK not in page(nb)  # demo.py's verdict


def test_the_feedback_page_carries_the_policy():
    shown = page(notebook([nbformat.v4.new_markdown_cell("hello")]))
    head = shown[shown.index("<head>") : shown.index("</head>")]
    first = head.index("<meta")
    assert "Content-Security-Policy" in head[first : head.index(">", first)]
    assert "default-src &#39;none&#39;" in head or "default-src 'none'" in head
    assert "<script" not in shown and "cdnjs" not in shown  # no MathJax: maths is MathML
    served_here = "default-src 'none'; img-src data:"  # an instructor's own, say
    shown = page(notebook([]), content_security_policy=served_here)
    assert f'content="{served_here}"'.replace("'", "&#39;") in shown or served_here in shown


def test_report_escapes_what_students_control(tmp_path):
    course = Course(tmp_path / "course")
    payload = f'<img src="x" onerror="{RUN}"><script>{RUN}</script>'
    found = [
        events.Event("collect", "01", "", "refused entry", f"entry {payload!r}: unsafe name"),
        events.Event("autograde", "01", "mallory", sanitise.KIND, f"code cell 1: {payload}"),
        events.Event("autograde", "01", "mallory", f"kind {payload}", payload),
    ]
    events.replace(course, "autograde", "01", found)
    shown = (write_report(course) / "report.html").read_text(encoding="utf-8")
    assert not Active(shown).found
    assert "&lt;script&gt;" in shown  # shown as text, for the instructor to read


def test_sanitised_notebook_is_still_valid():
    nb = notebook([output_cell(data, metadata) for _, data, metadata in OUTPUTS])
    nb.cells += [nbformat.v4.new_markdown_cell(source) for _, source in MARKDOWN]
    sanitise.sanitise_notebook(nb)
    nbformat.validate(json.loads(nbformat.writes(nb)))


@pytest.mark.parametrize("line", [" \n", "\n", " \r", "\r\n"])
def test_hostile_lines_of_whitespace_make_a_page_in_linear_time(line):
    """Pygments' IPython lexer is quadratic over runs of blank lines after code (" \\n" or
    "\\r" 10,000 times: about 40 s; a megabyte: a day of the class's feedback): pages trim them."""
    padded = "x = 1\n" + line * 10_000 + "y = 2\n"
    nb = notebook([nbformat.v4.new_code_cell(padded)])
    start = time.perf_counter()
    shown = page(nb)
    assert time.perf_counter() - start < 5
    assert "y" in shown and nb.cells[0].source == padded  # the page's copy, not the notebook
