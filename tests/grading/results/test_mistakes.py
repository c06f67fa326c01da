"""``reports/mistakes.csv``: the class's mistakes counted from the grader's judgement of the
graded cells, on a tiny class graded end to end."""

import pandas as pd
import pytest

from pixelschool_admin.grading import events
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.record.hidden import NOT_ANSWERED
from pixelschool_admin.grading.results.mistakes import mistake_table, write_mistakes
from pixelschool_admin.grading.results.report import attention_table
from pixelschool_admin.grading.settings import GIB, Limits, Settings
from tests.classroom import SOLVED, WRONG_ONE_HOT, filled, hand_in, tiny_course

pytestmark = pytest.mark.xdist_group("mistakes")

FLAT = "def add_channel_axis(images):\n    return images.reshape(len(images), -1)\n"


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory):
    """A class of five: one right, two with one_hot's rows and columns swapped (one of them
    also flattening in add_channel_axis), one who answered nothing, one half done."""
    course, released = tiny_course(tmp_path_factory.mktemp("mistakes"))
    class_ = {
        "ada": filled(released, **SOLVED),
        "bob": filled(released, one_hot=WRONG_ONE_HOT, add_channel_axis=SOLVED["add_channel_axis"]),
        "cy": filled(released, one_hot=WRONG_ONE_HOT, add_channel_axis=FLAT),
        "dee": released,
        "eve": filled(released, one_hot=SOLVED["one_hot"]),
    }
    for student, nb in class_.items():
        hand_in(course, "tiny", student, nb)
    autograde(course, jobs=2, settings=Settings(timeout=10, limits=Limits(memory=2 * GIB)))
    return course, pd.read_csv(write_mistakes(course), keep_default_na=False)


def rows(table):
    return {(r.exercise, r.mistake): r.students for r in table.itertuples()}


def test_the_csv_counts_the_right_students(mistakes):
    course, table = mistakes
    assert list(table.columns) == ["assignment", "exercise", "mistake", "students"]
    assert set(table["assignment"]) == {"tiny"}
    found = rows(table)
    swapped = [key for exercise, key in found if exercise == "one_hot" and key.startswith("code:")]
    assert len(swapped) == 1  # one rule of test_one_hot: rows and columns swapped
    assert found["one_hot", swapped[0]] == "bob;cy"
    assert found["one_hot", NOT_ANSWERED] == "dee"
    assert found["add_channel_axis", NOT_ANSWERED] == "dee;eve"
    flat = [key for (exercise, key), who in found.items() if who == "cy" and key != NOT_ANSWERED]
    assert len(flat) == 1 and flat[0].startswith("code:data_preparation.test_add_channel_axis+")
    assert not any("ada" in students.split(";") for students in found.values())
    # most students first within an exercise
    for _, group in table.groupby(["assignment", "exercise"], sort=False):
        counts = group["students"].str.split(";").map(len).tolist()
        assert counts == sorted(counts, reverse=True)


def test_mistakes_are_counted_not_listed_for_a_look_by_hand(mistakes):
    course, _ = mistakes
    logged = events.read(course)
    assert (logged["kind"] == "mistake").sum() >= 6
    assert "mistake" not in set(attention_table(course)["kind"])


def test_a_regraded_student_replaces_their_mistakes(mistakes):
    course, _ = mistakes
    before = rows(mistake_table(course).assign(students=lambda t: t["students"].map(";".join)))
    hand_in(course, "tiny", "dee", tiny_course_solved(course))
    autograde(course, students={"dee"}, jobs=1, settings=Settings(timeout=10))
    after = rows(mistake_table(course).assign(students=lambda t: t["students"].map(";".join)))
    assert ("one_hot", NOT_ANSWERED) in before and ("one_hot", NOT_ANSWERED) not in after
    assert after["add_channel_axis", NOT_ANSWERED] == "eve"


def tiny_course_solved(course):
    import nbformat

    released = nbformat.read(course.path("release", ".", "tiny") / "tiny.ipynb", 4)
    return filled(released, **SOLVED)
