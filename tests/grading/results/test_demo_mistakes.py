"""The demo class's known mistakes are what ``reports/mistakes.csv`` counts: its partial
students hand in the answers modules' wrong answers, noted in each Student's ``notes``; each
wrong answer's key is its ``mistake=`` (or, for one without, the grader's judge of it here),
and the CSV, from the sandboxed autograde of the class, must list exactly those."""

import ast
import random

import nbformat
import pandas as pd
import pytest

from pixelschool_admin import democlass
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.record.hidden import NOT_ANSWERED
from pixelschool_admin.grading.results.mistakes import write_mistakes
from pixelschool_admin.grading.settings import Settings
from tests.classroom import hand_in
from tests.runtime.test_mistakes import HIDDEN_SEEDS, judged

pytestmark = pytest.mark.xdist_group("demo_mistakes")

NOTEBOOK = "01_data_preparation"
PARTIAL = 6


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Six partial students, one full, one blank, of the demo's first notebook, graded."""
    course = Course(tmp_path_factory.mktemp("demo_mistakes") / "course")
    course.add_assignment(NOTEBOOK)
    released = nbformat.read(course.path("release", ".", NOTEBOOK) / f"{NOTEBOOK}.ipynb", 4)
    kinds = ["partial"] * PARTIAL + ["full", "blank"]
    students = [democlass.Student(f"s{i}", "S", "T", str(i), kind) for i, kind in enumerate(kinds)]
    rng = random.Random(24)
    for student in students:
        nb = democlass.submission(student, NOTEBOOK, released, course.root, rng, NOTEBOOK)
        hand_in(course, NOTEBOOK, student.id, nb)
    autograde(course, jobs=2, settings=Settings(timeout=20))
    table = pd.read_csv(write_mistakes(course), keep_default_na=False)
    return students, table


def known_key(answer, monkeypatch):
    if answer.mistake:
        return answer.mistake
    seed = HIDDEN_SEEDS[answer.exercise][0]
    return judged(answer.exercise, answer.fn, seed, monkeypatch).mistake


def callers(notebook):
    """{exercise: {exercises whose solution calls it}} in the notebook's answer cells: a
    wrong answer there makes those wrong too."""
    found = {}
    for source in democlass.solution_answers(notebook).values():
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                        found.setdefault(call.func.id, set()).add(node.name)
    return found


def counted(table):
    return {
        (row.exercise, row.mistake, student)
        for row in table.itertuples()
        for student in row.students.split(";")
    }


def test_the_csv_counts_the_demo_class_known_mistakes(graded, monkeypatch):
    students, table = graded
    assert set(table["assignment"]) == {NOTEBOOK}
    partial = [s for s in students if s.kind == "partial"]
    known = {
        (answer.exercise, known_key(answer, monkeypatch), student.id)
        for student in partial
        for notebook, answer in democlass.noted_wrong_answers(student)
    }
    assert len(known) >= PARTIAL  # each partial student made one to three mistakes
    ids = {s.id for s in partial}
    rows = {row for row in counted(table) if row[2] in ids}
    assert known <= rows
    # Any other row is an exercise whose solution calls one the student got wrong (the
    # demo's read_cifar calls the student's read_cifar_batch); its key is that check's.
    calls = callers(NOTEBOOK)
    wrong = {(exercise, student) for exercise, _, student in known}
    for exercise, key, student in rows - known:
        assert any(exercise in calls.get(e, ()) for e, s in wrong if s == student), (
            exercise,
            key,
            student,
        )


def test_full_marks_have_no_mistake_and_blank_answered_nothing(graded):
    students, table = graded
    rows = counted(table)
    [full] = [s.id for s in students if s.kind == "full"]
    [blank] = [s.id for s in students if s.kind == "blank"]
    assert not any(student == full for _, _, student in rows)
    blank_keys = {key for _, key, student in rows if student == blank}
    assert blank_keys == {NOT_ANSWERED}
