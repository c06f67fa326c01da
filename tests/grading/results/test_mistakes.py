"""``reports/mistakes.csv``: the class's mistakes counted from the grader's judgement of the
graded cells, on a tiny class graded end to end."""

import html

import nbformat
import pandas as pd
import pytest

from pixelschool.checks.mistakes import NO_NAMED_MISTAKE
from pixelschool_admin.grading import events
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.record.hidden import NOT_ANSWERED
from pixelschool_admin.grading.results import mistakes_report
from pixelschool_admin.grading.results.mistakes import mistake_table, write_mistakes
from pixelschool_admin.grading.results.report import attention_table, write_report
from pixelschool_admin.grading.settings import GIB, Limits, Settings
from tests.classroom import SOLVED, WRONG_ONE_HOT, filled, hand_in, tiny_course

pytestmark = pytest.mark.xdist_group("mistakes")

FLAT = "def add_channel_axis(images):\n    return images.reshape(len(images), -1)\n"
# The ones in columns no named mistake explains.
SCRAMBLED = (
    "def one_hot(vector, number_classes):\n"
    "    return np.eye(number_classes, dtype=np.float32)[(vector * 3 + 1) % number_classes]\n"
)
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory):
    """A class of six: one right, two with one_hot's rows and columns swapped (one of them
    also flattening in add_channel_axis), one who answered nothing, one half done, one whose
    one_hot no named mistake explains."""
    course, released = tiny_course(tmp_path_factory.mktemp("mistakes"))
    class_ = {
        "ada": filled(released, **SOLVED),
        "bob": filled(released, one_hot=WRONG_ONE_HOT, add_channel_axis=SOLVED["add_channel_axis"]),
        "cy": filled(released, one_hot=WRONG_ONE_HOT, add_channel_axis=FLAT),
        "dee": released,
        "eve": filled(released, one_hot=SOLVED["one_hot"]),
        "fay": filled(released, one_hot=SCRAMBLED, add_channel_axis=SOLVED["add_channel_axis"]),
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
    assert found["one_hot", "swapped"] == "bob;cy"  # a named rule of test_one_hot
    assert found["one_hot", NO_NAMED_MISTAKE] == "fay"
    assert found["one_hot", NOT_ANSWERED] == "dee"
    assert found["add_channel_axis", NOT_ANSWERED] == "dee;eve"
    assert found["add_channel_axis", "hard_coded_size"] == "cy"
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
    released = nbformat.read(course.path("release", ".", "tiny") / "tiny.ipynb", 4)
    return filled(released, **SOLVED)


def test_the_report_shows_what_to_re_teach(mistakes, tmp_path):
    course, _ = mistakes
    out = write_report(course, tmp_path)
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page[page.index("Mistakes counted") :]
    assert "To re-teach first" in section
    assert (out / mistakes_report.PLOT_NAME).stat().st_size > 1000
    assert f"src='{mistakes_report.PLOT_NAME}'" in section
    assert "<td>swapped</td>" in section and "<td>no named mistake</td>" in section
    assert "rows and columns are swapped" in section  # the example, in words
    assert "add the mistake to the answers module" in section
    assert "No answer, or not judged" in section and "<td>not answered</td>" in section
    # the named mistake with most students comes first in the sentence
    sentence = section[section.index("To re-teach first") :].split("</p>")[0]
    assert sentence.index("swapped") < sentence.index("hard_coded_size")


def test_hostile_kernel_outputs_never_become_the_example(mistakes, tmp_path):
    """The autograded notebook's error outputs are the student's kernel's too (it may print
    the grader's message and more): the example is the grader's own text, from its events."""
    course, _ = mistakes
    for student in ("bob", "cy"):  # the two who swapped rows and columns
        path = course.path("autograded", student, "tiny") / "tiny.ipynb"
        nb = nbformat.read(path, 4)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["evalue"] = HOSTILE
        nbformat.write(nb, path)
    out = write_report(course, tmp_path)
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page[page.index("Mistakes counted") :]
    assert "<img src=x" not in page and "<script>" not in page
    assert html.escape(HOSTILE) not in section and "rows and columns are swapped" in section


def test_rows_and_sentence_escape_ids_and_messages():
    table = pd.DataFrame(
        {
            "assignment": ["a<b>"],
            "exercise": ["one_hot"],
            "mistake": ["<i>key</i>"],
            "students": [[HOSTILE, "ada"]],
            "n": [2],
        }
    )
    examples = {("a<b>", "one_hot", "<i>key</i>"): HOSTILE}
    for text in (
        mistakes_report.rows_html(table, examples),
        mistakes_report.rows_html(table),
        mistakes_report.top_sentence(table, examples),
    ):
        assert "<img" not in text and "<script" not in text and "<i>key" not in text
        assert "&lt;" in text
