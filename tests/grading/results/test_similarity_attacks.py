"""A hostile student against the class's similarity run (``results/similarity.py``).

Similarity reads every submitted notebook as the student wrote it (``submitted/``, before
nbgrader restores anything), metadata and all, in one run for the whole class: a submission
it cannot fingerprint must not stop the report for everyone, nor hold it for minutes. Each
test plants one hostile submission beside an honest copied pair, which must still be found.
"""

import csv
import json
import time

import nbformat
import pytest

from pixelschool_admin.authoring.notebooks import read_notebook
from pixelschool_admin.grading.results import similarity
from pixelschool_admin.paths import SOLUTIONS_DIR
from tests.grading.results.test_similarity import NOTEBOOK, FakeCourse, disguised, released


def solution_dict():
    return json.loads(nbformat.writes(read_notebook(SOLUTIONS_DIR / f"{NOTEBOOK}.ipynb")))


def answer_indices(nb):
    return [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        and cell["metadata"].get("nbgrader", {}).get("solution")
        and not cell["metadata"]["nbgrader"].get("grade")
    ]


def write(folder, nb):
    """Write ``nb`` (a dict) as JSON text: ASCII escapes, so lone surrogates survive."""
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOK}.ipynb").write_text(json.dumps(nb), encoding="ascii")


def class_with(tmp_path, hostile):
    """A course folder: the release, ada and bob (a disguised copy of ada), and mallory,
    whose notebook is the solution changed by ``hostile(nb dict)``; the similarity rows."""
    nb = solution_dict()
    blank = json.loads(json.dumps(nb))
    for cell in blank["cells"]:
        cell["source"] = released("".join(cell["source"]))
    write(tmp_path / "release" / NOTEBOOK, blank)
    copy = json.loads(json.dumps(nb))
    for cell in copy["cells"]:
        cell["source"] = disguised("".join(cell["source"]))
    write(tmp_path / "submitted" / "ada" / NOTEBOOK, nb)
    write(tmp_path / "submitted" / "bob" / NOTEBOOK, copy)
    mallory = json.loads(json.dumps(nb))
    for cell in mallory["cells"]:
        cell["source"] = "# my own\nraise NotImplementedError()\n"
    hostile(mallory)
    write(tmp_path / "submitted" / "mallory" / NOTEBOOK, mallory)
    path = similarity.write_similarity(FakeCourse(tmp_path))
    with open(path, newline="", encoding="utf-8") as rows:
        return [(r["student_a"], r["student_b"]) for r in csv.DictReader(rows)]


def surrogate_in_code(nb):
    nb["cells"][answer_indices(nb)[0]]["source"] = "def f(x):\n    return x \ud800 1\n" * 3


def surrogate_in_grade_id(nb):
    nb["cells"][answer_indices(nb)[0]]["metadata"]["nbgrader"]["grade_id"] = "softmax\udfff"


def nbgrader_metadata_text(nb):
    nb["cells"][answer_indices(nb)[0]]["metadata"]["nbgrader"] = "solution"


def nbgrader_metadata_list(nb):
    code = next(i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code")
    nb["cells"][code]["metadata"]["nbgrader"] = ["grade", "solution"]


def source_not_text(nb):  # nbformat refuses the notebook: the student is left out
    nb["cells"][answer_indices(nb)[0]]["source"] = [1, {"def": 2}]


@pytest.mark.parametrize(
    "hostile",
    [
        surrogate_in_code,
        surrogate_in_grade_id,
        nbgrader_metadata_text,
        nbgrader_metadata_list,
        source_not_text,
    ],
)
def test_hostile_notebook_does_not_stop_the_class(tmp_path, hostile):
    assert class_with(tmp_path, hostile) == [("ada", "bob")]


def padded(nb):
    """1 MB of code in one answer cell, then 5,000 answer cells more."""
    cells = answer_indices(nb)
    nb["cells"][cells[0]]["source"] = "def f(x):\n    return x + 1\n" * 40_000
    model = nb["cells"][cells[1]]
    for i in range(5_000):
        meta = {"nbgrader": dict(model["metadata"]["nbgrader"], grade_id=f"pad{i}")}
        nb["cells"].append(dict(model, id=f"pad{i}", metadata=meta, source="x = 1"))


def test_hostile_padding_costs_no_more_than_a_long_answer(tmp_path, monkeypatch):
    """Megabytes of code, or thousands of answer cells, in one submission: the tokeniser (the
    costly part, about 2 s a megabyte, 0.3 ms a cell) reads a bounded part of each student's."""
    read = []  # per student: [characters, cells] tokenised
    tokenise, fingerprints = similarity.filter_code, similarity.fingerprints

    def counting_tokeniser(source, *args, **kwargs):
        if read:  # not the released notebook's code
            read[-1][0] += len(source)
            read[-1][1] += 1
        return tokenise(source, *args, **kwargs)

    def counting_fingerprints(answers, released=()):
        read.append([0, 0])
        return fingerprints(answers, released)

    monkeypatch.setattr(similarity, "filter_code", counting_tokeniser)
    monkeypatch.setattr(similarity, "fingerprints", counting_fingerprints)
    assert class_with(tmp_path, padded) == [("ada", "bob")]
    assert max(chars for chars, _ in read) <= 100_000  # the course's answers: 46,000 in all
    assert max(cells for _, cells in read) <= 100  # the course's notebooks: 26 at most


@pytest.mark.parametrize("line", [" \n", "\t\n", " \r\n", "\x0c\n"])
def test_hostile_blank_lines_are_tokenised_in_linear_time(line):
    """pygments' Python lexer is quadratic over whitespace lines (3.5 s for 20,000 characters,
    hours for a megabyte); the similarity run strips them first."""
    source = "def f(x):\n    return x\n" + line * (20_000 // len(line)) + "y = f(1)\n"
    start = time.perf_counter()
    text = similarity.filtered(source)
    assert time.perf_counter() - start < 0.5
    assert text == similarity.filtered("def f(x):\n    return x\ny = f(1)\n")
