"""The demo class: enough students, every hostile case, realistic partial answers."""

import random

import nbformat
import pytest

from pixelschool_admin import democlass
from pixelschool_admin.authoring.notebooks import answer_cells, is_test_cell
from pixelschool_admin.paths import NOTEBOOKS_DIR

NOTEBOOK = "01_data_preparation"


@pytest.fixture(scope="module")
def released():
    return nbformat.read(NOTEBOOKS_DIR / f"{NOTEBOOK}.ipynb", 4)


def test_class_has_every_case_and_unusual_ids():
    students = democlass.make_class()
    kinds = {s.kind for s in students}
    assert len(students) >= 30
    assert set(democlass.hostile_cells(NOTEBOOKS_DIR)) | set(democlass.FILE_CASES) <= kinds
    assert set(democlass.ROUTE_CASES) <= kinds
    assert democlass.forgery_victim(students).route == "exchange"
    assert {"full", "partial", "blank", "missing one"} <= kinds
    assert any(" " in s.id for s in students) and any(not s.id.isascii() for s in students)
    assert len({s.id for s in students}) == len(students)


def test_wrong_answers_are_standalone_sources():
    wrong = democlass.standalone_wrong_answers(NOTEBOOK)
    assert sum(map(len, wrong.values())) >= 20
    for sources in wrong.values():
        for source in sources:
            namespace = {}
            exec(compile(source, "answer", "exec"), namespace)  # imports and a definition


def test_partial_answers_name_their_mistakes(released):
    answers, notes = democlass.partial_answers(NOTEBOOK, random.Random(3), 2)
    assert len(notes) == 2 and all(note.startswith("wrong ") for note in notes)
    nb = democlass.fill(released, answers)
    assert sum("# a mistake:" in c.source for c in answer_cells(nb)) == 2


def test_classmates_hand_in_their_own_wrong_answers():
    """Each exercise's wrong answers are handed in evenly (a verbatim shared one would make a
    similar pair), the planted pair's counted from the start."""
    students = democlass.make_class()
    used = democlass.planted_usage(students, NOTEBOOK)
    assert sum(used.values()) == 3  # paired_answers: 3 wrong answers
    rng = random.Random(0)
    for _ in range(20):
        democlass.partial_answers(NOTEBOOK, rng, 3, used)
    for exercise, pool in democlass.wrong_answer_sources(NOTEBOOK).items():
        counts = [used[answer.fn.__name__] for answer, _ in pool]
        assert max(counts) - min(counts) <= 1, exercise


def test_hostile_file_cases(released, tmp_path):
    bad = democlass.hostile_notebook("not valid JSON", released, NOTEBOOK, tmp_path)
    with pytest.raises(nbformat.reader.NotJSONError):
        nbformat.reads(bad, 4)
    deleted = democlass.hostile_notebook("deleted locked cell", released, NOTEBOOK, tmp_path)
    assert len(deleted.cells) == len(released.cells) - 1
    edited = democlass.hostile_notebook("edited locked cell", released, NOTEBOOK, tmp_path)
    tests = [cell for cell in edited.cells if is_test_cell(cell)]
    assert any(cell.source.startswith("# the test was here") for cell in tests)


def test_every_hostile_case_has_a_verdict_and_its_protection():
    from pixelschool_admin import demo
    from pixelschool_admin.grading.sandbox.bubblewrap import protections

    cases = set(democlass.hostile_cells(NOTEBOOKS_DIR)) | set(democlass.FILE_CASES)
    assert cases | set(democlass.ROUTE_CASES) == set(demo.NEEDS)
    known = {name for name, _, _ in protections()}
    assert {need for need in demo.NEEDS.values() if need} <= known


def test_students_who_answer_write_the_hand_graded_answers():
    notebook = "03_softmax"
    released = nbformat.read(NOTEBOOKS_DIR / f"{notebook}.ipynb", 4)
    written = democlass.written_answers(notebook)
    assert written, f"{notebook} has no hand-graded answer"
    for text in written.values():
        assert text and "Rubric" not in text and "SOLUTION" not in text
    rng = random.Random(0)
    for kind in ("full", "partial"):
        student = democlass.Student("s", "S", "T", "1", kind)
        nb = democlass.submission(student, notebook, released, NOTEBOOKS_DIR, rng, NOTEBOOK)
        assert [cell.source for cell in democlass.written_cells(nb)] == list(written.values())
    student = democlass.Student("b", "B", "T", "2", "blank")
    nb = democlass.submission(student, notebook, released, NOTEBOOKS_DIR, rng, NOTEBOOK)
    assert all("YOUR ANSWER HERE" in cell.source for cell in democlass.written_cells(nb))


def test_the_planted_copy_is_built_and_found():
    """One student hands in a classmate's answers, variables renamed and comments changed:
    the text differs, the code does not, and similarity finds the pair first."""
    from pixelschool_admin.grading.results.similarity import answers_of, filtered, similar_pairs

    students = democlass.make_class()
    original, copier = democlass.planted_pair(students)
    assert original.kind == "partial" and copier.pair == original.id
    notebook = "03_softmax"
    released = nbformat.read(NOTEBOOKS_DIR / f"{notebook}.ipynb", 4)
    rng = random.Random(0)
    others = [s for s in students if s.kind == "partial" and not s.pair][:3]
    submissions = {}
    for student in [original, copier, *others]:
        nb = democlass.submission(student, notebook, released, NOTEBOOKS_DIR, rng, NOTEBOOK)
        submissions[student.id] = answers_of(nb, notebook)
    mine, theirs = submissions[original.id], submissions[copier.id]
    assert mine != theirs and any("my_" in source for source in theirs.values())
    assert [filtered(s) for s in mine.values()] == [filtered(s) for s in theirs.values()]
    assert any("a copy of" in note for note in copier.notes)
    code = [cell.source for cell in released.cells if cell.cell_type == "code"]
    found = similar_pairs(submissions, code)
    assert found and {found[0][0], found[0][1]} == {original.id, copier.id}
    assert found[0][2] == 1.0


def test_the_disguise_keeps_parameters_keywords_and_globals():
    source = (
        "def f(x, axis=1):\n    total = x.sum(axis=axis)  # sum\n    total = np.exp(total)\n"
        "    return total\n"
    )
    copy = democlass.disguised(source)
    assert "my_total = x.sum(axis=axis)  # my own words" in copy and "def f(x, axis=1)" in copy
    assert "np.exp(my_total)" in copy
