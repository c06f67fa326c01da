"""The report's similar-submissions section and ``pixelschool-admin similarity``, on a real course
folder: a copied pair found, its code side by side, highlighted and escaped."""

import csv

import nbformat
import pytest

from pixelschool_admin import cli
from pixelschool_admin.authoring.notebooks import answer_cells, read_notebook
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.results.report import write_report
from pixelschool_admin.grading.results.similarity_report import (
    MARK,
    PLOT,
    highlighted,
    own_fingerprints,
)
from pixelschool_admin.paths import SOLUTIONS_DIR
from tests.grading.results.test_sanitise import Active
from tests.grading.results.test_similarity import NOTEBOOK, disguised, released

RUN = "document.title='PWNED'"
PAYLOAD = f"\n# </pre><script>{RUN}</script><img src=x onerror=\"{RUN}\">\nx = '</pre><script>'\n"
OUTPUT = "PRINTED-BY-THE-KERNEL"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with 03_softmax handed in by ada (a script in her answer), bob (her answers,
    renamed) and cy (the notebook as released)."""
    root = tmp_path_factory.mktemp("similar") / "course"
    course = Course(root)
    nb = read_notebook(SOLUTIONS_DIR / f"{NOTEBOOK}.ipynb")
    (root / "source" / NOTEBOOK).mkdir(parents=True)
    blank = nbformat.from_dict(nb)
    for cell in blank.cells:
        cell.source = released(cell.source)
    (root / "release" / NOTEBOOK).mkdir(parents=True)
    nbformat.write(blank, root / "release" / NOTEBOOK / f"{NOTEBOOK}.ipynb")
    ada = nbformat.from_dict(nb)
    first = answer_cells(ada)[0]
    first.source += PAYLOAD
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text=OUTPUT)]
    bob = nbformat.from_dict(ada)
    for cell in answer_cells(bob):
        cell.source = disguised(cell.source)
    for student, submission in [("ada", ada), ("bob", bob), ("cy", blank)]:
        folder = root / "submitted" / student / NOTEBOOK
        folder.mkdir(parents=True)
        nbformat.write(submission, folder / f"{NOTEBOOK}.ipynb")
    return course


def test_highlighted_code_is_escaped_and_marked():
    a = "def f(v):\n    return v.reshape(-1).astype(float).sum() * 2  # </pre><script>\n"
    shown, shares = highlighted(a, own_fingerprints({"n:c": a.replace("v", "w")}, "n", ()))
    assert shares and MARK[0] in shown and "<script>" not in shown and "&lt;script&gt;" in shown
    lone = highlighted("<script>x = 1</script>", own_fingerprints({"n:c": "y = 2"}, "n", ()))
    assert lone == ("&lt;script&gt;x = 1&lt;/script&gt;", False)


def test_the_report_shows_the_pair_side_by_side_and_runs_nothing(course):
    page = (write_report(course) / "report.html").read_text(encoding="utf-8")
    section = page[page.index("<h2>Similar submissions") : page.index("<h2>Grading problems")]
    assert "never a grade" in section and "0.5" in section
    assert "ada and bob, score 1.00" in section and "cy" not in section
    assert section.count("<mark>") >= 4  # the shared code of both sides, every cell
    assert "&lt;script&gt;" in section and not Active(page).found
    assert OUTPUT not in page  # the answer cells' own code, never their outputs
    assert (course.reports / PLOT).exists()
    with open(course.report_path("similarity.csv"), newline="") as rows:
        table = list(csv.DictReader(rows))
    assert [(r["student_a"], r["student_b"], r["score"]) for r in table] == [("ada", "bob", "1.0")]


def test_the_command_names_the_pair(course, capsys):
    assert cli.main(["similarity", "--course", str(course.root), NOTEBOOK]) == 0
    said = capsys.readouterr().out
    assert f"{NOTEBOOK}: ada and bob: 1.00" in said and "never a grade" in said
    assert course.report_path("similarity.csv").read_text().count("\n") == 2
